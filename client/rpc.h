/*
 * rpc.h - requests and responses of the NDJSON protocol (docs/protocol.md)
 * over the invocation's SSH session (one; `edit` uses two in turn).
 *
 * The session is opened on the first request, so that argument and input
 * errors are reported before anything touches the network (and reopened
 * after cli_rpc_close()).  Requests get
 * increasing integer ids; each response must carry the id of the request
 * it answers (an error response without an id is accepted: the server may
 * not have been able to read the request).  Response lines are bounded
 * (PROTO_MAX_LINE_CAP) and wiped after use, since they may carry values.
 */
#ifndef CLI_RPC_H
#define CLI_RPC_H

#include <jansson.h>

#include "client/config.h"

struct cli_rpc;

/* A handle that connects on first use; never NULL. */
struct cli_rpc *cli_rpc_new(const struct cli_config *cfg);

/*
 * Send req (taken over, even on failure; NULL means building it failed,
 * which is reported as a bad argument) with a fresh "id" and wait for its
 * response.
 *
 * Returns 0 with *err = SD_OK (ok:true) or the SD_E* value of the error
 * response (ok:false), and *resp set (the caller decrefs).  Returns an
 * exit status > 0, *resp NULL, when no response could be had (connection,
 * authentication or framing failure; reported).
 */
int	cli_rpc_request(struct cli_rpc *rpc, json_t *req, json_t **resp,
	    int *err);

/*
 * cli_rpc_request() for the common case: returns 0 with *resp set when the
 * response is ok:true; otherwise reports the error (in --json mode the
 * raw error response also goes to stdout) and returns its exit status.
 */
int	cli_rpc_call(struct cli_rpc *rpc, json_t *req, json_t **resp);

/*
 * Report an error response: "secret: <code>: <message>" on stderr (and the
 * raw object on stdout with --json).  Returns its exit status.
 */
int	cli_rpc_report(struct cli_rpc *rpc, const json_t *resp);

/*
 * Close the session (if any) now; the next request opens a fresh one.
 * For a command that must not leave the session idle (secretd closes idle
 * connections) while it waits for something local, such as an editor.
 * A session that failed stays failed.
 */
void	cli_rpc_close(struct cli_rpc *rpc);

/*
 * Open the session now if it is not open (cli_rpc_request opens it on
 * first use).  Returns 0 or the exit status, the failure reported as
 * "unavailable": nothing was sent.
 */
int	cli_rpc_open(struct cli_rpc *rpc);

/*
 * 1 if the last cli_rpc_request began to send its request: when it then
 * got no response, the server may have acted on it.
 */
int	cli_rpc_sent(const struct cli_rpc *rpc);

/*
 * For a session that sent secret.watch: wait up to timeout_ms (-1: no
 * bound) for the next event line.  Returns 0 with *ev (the caller
 * decrefs; NULL when events came while a response was awaited, which
 * says as much: something changed), CLI_RPC_IDLE when none came in time,
 * or an exit status > 0 when the session is lost or broken (reported).
 */
#define CLI_RPC_IDLE	(-1)
int	cli_rpc_next_event(struct cli_rpc *rpc, int timeout_ms, json_t **ev);
/* Close the session and forget that it failed: the next request opens a
 * fresh one (a watch reconnecting). */
void	cli_rpc_reset(struct cli_rpc *rpc);
/* Close the session (if any) and free. */
void	cli_rpc_free(struct cli_rpc *rpc);

#endif

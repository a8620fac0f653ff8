/*
 * wait.h - durations on the command line and the --wait retry loop of the
 * bootstrap commands (fetch, exec, template, enrol).
 *
 * At boot the network, or the server, often comes up after the host
 * does.  With --wait DURATION a command that could not reach the server
 * tries again, with capped, jittered exponential backoff, until DURATION
 * has passed.  Only "unreachable" is retried: an answer (a permission
 * error, a missing secret, a refused key) never is.
 */
#ifndef CLI_WAIT_H
#define CLI_WAIT_H

#include <jansson.h>

#include "client/commands.h"

/*
 * Parse a duration: a number of seconds with an optional unit s, m, h or
 * d ("90", "30s", "5m", "1h", "7d").  The result, in seconds, must be in
 * [min_s, max_s].  Returns 0 or -1.
 */
int	cli_parse_duration(const char *s, long long min_s, long long max_s,
	    long long *out_s);

/*
 * One attempt of a command: everything it asks the server, nothing it
 * does locally that a retry would repeat.  Returns 0 or an exit status,
 * with its errors reported through cli_err*() (never printed otherwise).
 */
typedef int (*cli_attempt_fn)(struct cli_ctx *ctx, void *arg);

/*
 * cli_rpc_request() for an attempt: an error answer is reported (on
 * stderr only, as "<what>: <message>" when what is not NULL) with its
 * code, so that cli_retry() can hold it back or retry on "unavailable".
 * Returns 0 with *resp, or the exit status with *resp NULL.
 */
int	cli_attempt_call(struct cli_ctx *ctx, json_t *req, const char *what,
	    json_t **resp);

/*
 * Run fn.  With wait_s > 0, while an attempt fails with an error coded
 * "unavailable" (cannot connect, session lost, or the server's own
 * "unavailable") and wait_s seconds have not passed since the start,
 * warn, sleep (0.5 s doubling to 10 s, each drawn from the upper half of
 * the step, never past the deadline), give ctx a fresh session and try
 * again.  The error of the last attempt is the one reported.  Returns
 * fn's result.
 */
int	cli_retry(struct cli_ctx *ctx, long long wait_s, cli_attempt_fn fn,
	    void *arg);

/*
 * Called by an attempt whose failure, even "unavailable", must end the
 * retries (one that might repeat a change).  For the running cli_retry.
 */
void	cli_retry_stop(void);

#endif

/*
 * relay.h - the NDJSON relay between the SSH channel (stdin/stdout) and
 * secretd, for the `json` command and sessions without a command.
 */
#ifndef SHELL_RELAY_H
#define SHELL_RELAY_H

#include "shellerr.h"

struct conn;

/* Most requests in flight (forwarded or answered locally, not yet
 * written back), and most bytes of local answers waiting to be written. */
#define RELAY_MAX_PENDING	1024
#define RELAY_MAX_LOCAL_BYTES	(8 * 1024 * 1024)

/*
 * Relay request lines from in_fd to c and the responses back to out_fd,
 * in request order, until in_fd ends.  c must have completed hello.
 *
 * Lines from the client go through the bounded reader (at most
 * PROTO_MAX_LINE_DEFAULT bytes) and are parsed; secret-shell answers
 * itself, without involving secretd, a line that is too long (too_large),
 * holds a NUL, is not a JSON object (bad_request) or asks for "hello" or
 * "key.lookup" (bad_request).  Every other line is forwarded byte for
 * byte; responses are copied back byte for byte.  Blank lines are
 * ignored.  Requests are pipelined: reading the next request does not
 * wait for the answer to the previous one.
 *
 * Returns 0 when the input ended cleanly and every response was
 * delivered; otherwise an exit status with e set (secretd closed the
 * connection or timed out: SHELL_EXIT_CONN; the input ended inside a line
 * or the client went away: 1).
 */
int	relay_run(struct conn *c, int in_fd, int out_fd,
	    struct shell_error *e);

#endif

/*
 * session.h - one client connection, from its first line to its close.
 */
#ifndef SECRETD_SESSION_H
#define SECRETD_SESSION_H

#include "request.h"

/*
 * Serve the connection on fd (already checked with SO_PEERCRED) until
 * the peer closes it, it idles past idle_timeout, or the server shuts
 * its read side down.  Does not close fd.
 */
void	session_run(const struct server_ctx *ctx, int fd, unsigned long conn_no);

#endif

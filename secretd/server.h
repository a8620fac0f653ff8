/*
 * server.h - the Unix socket, the accept loop and connection threads.
 */
#ifndef SECRETD_SERVER_H
#define SECRETD_SERVER_H

#include "request.h"

/*
 * Listen on cfg->socket and serve until SIGTERM or SIGINT, then stop
 * accepting, let in-flight requests finish, and return.  SIGHUP
 * reloads the keyring (ctx->kr; old keyrings stay valid until exit, as
 * requests in flight may hold them).  Returns 0, or -1 when the socket
 * cannot be set up (logged).
 */
int	server_run(struct server_ctx *ctx);

#endif

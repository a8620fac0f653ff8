/*
 * reload.h - SIGHUP: read secretd.conf again and apply, without a
 * restart, every setting that can change while the daemon serves.
 *
 * Limits, timeouts, enrol_unknown_keys, shell_users, audit_syslog and
 * log_level take effect at once (for the next request, connection or
 * session).  socket, socket_group, database, admin_database, pool_size
 * and keyring (the path; the keyring's keys are reloaded by server.c)
 * are fixed at start: a change is logged as needing a restart and the
 * running value is kept.  A file that does not parse changes nothing.
 * Which is which is the CONFIG_RESTART flag of config.c's table, and
 * nowhere else.
 */
#ifndef SECRETD_RELOAD_H
#define SECRETD_RELOAD_H

#include "request.h"

/* Reload ctx->conf_path into a new configuration and publish it in
 * ctx->cfg; one log line per changed key. */
void	reload_config(struct server_ctx *ctx);

/* Free the configurations published by reload_config (at exit, once
 * no thread reads ctx->cfg). */
void	reload_free_all(void);

#endif

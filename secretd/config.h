/*
 * config.h - secretd.conf: one struct, parsed strictly.
 *
 * An unknown key, a repeated key, or a bad value stops start-up with
 * "file:line: reason".  Nothing here is a secret, but the database
 * conninfo may hold a password: never log it.
 */
#ifndef SECRETD_CONFIG_H
#define SECRETD_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

#include "log.h"

#define CONFIG_DEFAULT_PATH	"/etc/secretd/secretd.conf"
#define CONFIG_MAX_SHELL_USERS	16

struct config {
	char	*socket;
	char	*socket_group;		/* NULL: none */
	uid_t	 shell_uids[CONFIG_MAX_SHELL_USERS];
	int	 n_shell_uids;
	char	*database;
	char	*admin_database;	/* NULL: same as database */
	int	 pool_size;
	char	*keyring;
	size_t	 max_value_size;
	size_t	 max_request_size;
	int	 max_versions;
	int	 max_connections;
	int	 idle_timeout;		/* seconds */
	int	 enrol_unknown_keys;
	int	 max_enrol_sessions;	/* enrol-only sessions, on their own */
	int	 enrol_session_lifetime; /* seconds, from hello */
	size_t	 enrol_max_request_size;
	int	 max_sessions_per_principal; /* default max_connections / 2 */
	int	 audit_syslog;
	enum log_level log_level;
};

/* Fill c with the defaults (shell_users resolved from "secret" lazily). */
void	config_defaults(struct config *c);

/*
 * Parse the file at path into c (on top of the defaults).  Returns 0, or
 * -1 with a "path:line: reason" message in err.  When the file cannot be
 * opened the message says so.
 */
int	config_load(struct config *c, const char *path, char *err,
	    size_t errlen);

/* Parse text already in memory; name is used in messages. */
int	config_parse(struct config *c, const char *name, const char *text,
	    char *err, size_t errlen);

void	config_free(struct config *c);

#endif

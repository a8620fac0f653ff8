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

/*
 * The settings, one row each in config.c's table: how the parser reads
 * each, and whether a running daemon takes a new value on SIGHUP
 * (reload.c).  secretd.conf(5), RELOADING, lists them the same way
 * (tests/unit/test_config.c checks it against this table).
 */
enum config_kind {
	CONFIG_STRING, CONFIG_INT, CONFIG_SIZE, CONFIG_BOOL, CONFIG_USERS,
	CONFIG_LEVEL, CONFIG_GROUP
};
#define CONFIG_RESTART	0x1	/* fixed at start: a change needs a restart */
#define CONFIG_SECRET	0x2	/* may hold a password: never logged */

struct config_key {
	const char		*name;
	enum config_kind	 kind;
	size_t			 off;	/* in struct config (not CONFIG_USERS) */
	long long		 min, max; /* CONFIG_INT, CONFIG_SIZE */
	unsigned		 flags;	/* CONFIG_RESTART, CONFIG_SECRET */
};

extern const struct config_key config_keys[];
extern const size_t config_nkeys;

/* c's value of k as secretd.conf spells it (shell_users: the uids). */
void	config_format(const struct config *c, const struct config_key *k,
	    char *out, size_t outlen);

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

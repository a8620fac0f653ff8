/*
 * osuser.h - a root process briefly acting as another OS user.
 *
 * PostgreSQL's default local authentication ("peer") admits a connection
 * over its Unix socket as role R only from the OS user named R.  The
 * one-shot commands of secretd run as root (setup, doctor, migrate), so
 * to connect as R they take R's effective uid and gids for the connect
 * and give them back at once: the kernel records the credentials when
 * the socket connects, and the session keeps them.  Doctor also reads
 * the keyring as the user the daemon runs as.  Only the effective ids
 * change (the real and saved uid stay 0, so root can always come back);
 * failing to come back is fatal.  The callers are single-threaded.
 */
#ifndef SECRETD_OSUSER_H
#define SECRETD_OSUSER_H

#include <sys/types.h>

#include <libpq-fe.h>

#define OSUSER_MAX_GROUPS	64

struct osuser_saved {
	int	active;
	uid_t	euid;
	gid_t	egid;
	int	ngroups;
	gid_t	groups[OSUSER_MAX_GROUPS];
};

/*
 * Take the effective uid, gid and groups of OS user name.  Does nothing
 * (and returns 0) when not running as root or name is root.  Returns -1
 * with err filled when there is no such user or the switch fails.
 * osuser_restore(s) must follow, also after a failure.
 */
int	osuser_become(const char *name, struct osuser_saved *s, char *err,
	    size_t errlen);
void	osuser_restore(struct osuser_saved *s);

/*
 * Connect with conninfo; when running as root, the conninfo names a
 * role, its host is a Unix socket directory (or unset), and an OS user
 * of that name exists, connect as that OS user.  NULL and err on
 * failure (as db_connect_once).
 */
PGconn	*osuser_pg_connect(const char *conninfo, char *err, size_t errlen);

/*
 * 1 if sh can run sshd's forced command for a login user: an executable
 * file, not nologin or false (setup makes the login user with one,
 * doctor checks it has one).
 */
int	osuser_shell_usable(const char *sh);

#endif

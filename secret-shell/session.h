/*
 * session.h - a secret-shell session: the identity sshd verified, and the
 * connection to secretd that starts with our hello.
 *
 * The identity is never something the SSH client typed: it is the public
 * key sshd accepted, read from the file named by $SSH_USER_AUTH
 * (ExposeAuthInfo yes), and the address from $SSH_CONNECTION.
 */
#ifndef SHELL_SESSION_H
#define SHELL_SESSION_H

#include <jansson.h>

#include "err.h"
#include "shellerr.h"

struct conn;

struct session {
	const char	*socket_path;	/* not owned */
	struct conn	*conn;		/* NULL until session_connect() */
	json_t		*hello;		/* secretd's answer to our hello */
};

void	session_init(struct session *s, const char *socket_path);

/*
 * Read the verified key, connect to secretd and send hello.  Idempotent:
 * a second call does nothing.  Returns 0, or an SD_E* value with e set
 * (secretd's own code and message when it refused the hello).
 */
int	session_connect(struct session *s, struct shell_error *e)
	    SD_MUST_CHECK;

/* 1 if secretd admitted this session for enrolment only. */
int	session_enrol_only(const struct session *s);

void	session_free(struct session *s);

/*
 * The last "publickey TYPE BASE64" line of the ExposeAuthInfo file at
 * path, validated and canonicalised as "TYPE BASE64" (caller frees).
 * Returns 0 or SD_EUNAUTH with e set.  Exposed for testing.
 */
int	session_read_authinfo(const char *path, char **key,
	    struct shell_error *e) SD_MUST_CHECK;

#endif

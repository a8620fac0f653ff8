/*
 * outage.h - the session of a key that could not be looked up.
 *
 * When secretd or its database is unreachable, sshd's key lookup
 * (authkeys.c) cannot say whether a key may log in.  Refusing the key
 * makes a booting host give up at once ("unauthenticated" is final), so
 * instead the key is admitted to this session only:
 *
 *	restrict,command="<path of secret-shell> unavailable" TYPE BASE64
 *
 * It answers every request with "unavailable" and does nothing else: it
 * never connects to secretd, reads no identity and runs nothing.  The
 * client retries "unavailable" under --wait.  See docs/security.md.
 */
#ifndef SHELL_OUTAGE_H
#define SHELL_OUTAGE_H

/* The argument that selects this session in the forced command. */
#define OUTAGE_ARG	"unavailable"

/* The message of every answer: fixed, so it tells nobody more. */
#define OUTAGE_MSG	"secretd is unreachable (the daemon or its database " \
			"is down, so no key can be checked); retry later"

/*
 * Serve the session for $SSH_ORIGINAL_COMMAND cmd (NULL: none): the
 * NDJSON form (none, blank or "json") answers each request line with
 * unavailable, echoing its id; any other command gets the error line.
 * Returns the exit status (3: unavailable, as secret-shell(8) says for
 * an unreachable secretd), after one "secret-shell: unavailable: ..."
 * line on stderr.
 */
int	outage_main(const char *cmd);

#endif

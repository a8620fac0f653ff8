/*
 * human.h - the command form for plain ssh:
 *	ssh secret@vault get prod/db/password
 * The command arrives in $SSH_ORIGINAL_COMMAND and is split on spaces and
 * tabs only: no quoting, no escapes, no globbing, no shell.
 */
#ifndef SHELL_HUMAN_H
#define SHELL_HUMAN_H

#include "shellerr.h"

struct session;

#define HUMAN_MAX_COMMAND	16384	/* bytes of SSH_ORIGINAL_COMMAND */
#define HUMAN_MAX_WORDS		4	/* verb and up to 3 arguments */
#define HUMAN_MAX_VALUE		(1024 * 1024)	/* put: bytes of stdin */
#define HUMAN_MAX_TOKEN		4096	/* enrol: bytes of stdin */

/*
 * Run cmd (NULL or empty: the NDJSON relay).  Returns the process exit
 * status; on failure e is set and the caller prints it.
 */
int	human_main(struct session *s, const char *cmd, struct shell_error *e);

/*
 * Split cmd into at most HUMAN_MAX_WORDS words (xstrdup'ed into words[],
 * caller frees them).  Returns the number of words, or -1 with e set
 * (usage error) for a control character, an over-long command or too
 * many words.  Exposed for testing.
 */
int	human_split(const char *cmd, char **words, struct shell_error *e);

/* 1 if s is a principal (or group) name: [a-z0-9][a-z0-9._@-]{0,63}. */
int	human_name_valid(const char *s);

#endif

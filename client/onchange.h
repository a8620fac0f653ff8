/*
 * onchange.h - the --on-change CMD of `secret fetch --watch`: split into
 * words without a shell, run after each switch, its status logged.
 */
#ifndef CLI_ONCHANGE_H
#define CLI_ONCHANGE_H

#include "client/config.h"

/*
 * Split cmd into words: blanks separate them; '...' and "..." group
 * (quotes removed, nothing inside expanded; in "..." a backslash escapes
 * " and \).  No variables, globs or redirections: no shell runs.
 * Returns a NULL-terminated vector (cli_onchange_free) or NULL with *why
 * (an unterminated quote, no word at all).
 */
char	**cli_onchange_parse(const char *cmd, const char **why);
void	cli_onchange_free(char **argv);

/*
 * Run argv (execvp, stdin /dev/null, the caller's stdout and stderr, the
 * umask secret was started with), wait for it and log how it ended.
 * Returns its exit status (128+N for a signal, 127 when it cannot run);
 * the caller goes on whatever it is.
 */
int	cli_onchange_run(const struct cli_config *cfg, char *const *argv);

/* A line of the watch's log: "secret: ..." on stderr (the journal, under
 * systemd) unless -q. */
void	cli_watch_note(const struct cli_config *cfg, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif

/*
 * envname.h - environment variables from secrets: the documented rule
 * that turns a secret's path into a variable name, and the one quoting
 * that both POSIX sh and systemd's EnvironmentFile= read back exactly.
 *
 * Pure functions: no I/O, nothing secret is logged or printed.
 */
#ifndef CLI_ENVNAME_H
#define CLI_ENVNAME_H

#include <stddef.h>

/*
 * The variable name for the path names[0..n-1] (the path relative to the
 * prefix it was fetched under): each name upper-cased, every character
 * that is not an ASCII letter or digit replaced by one '_' (a multi-byte
 * UTF-8 character counts as one), the names joined with '_', and a '_'
 * put in front when the result starts with a digit.
 * "db/password" -> DB_PASSWORD, "api-key" -> API_KEY, "1st" -> _1ST.
 * Returns a malloc'ed string; n must be > 0.
 */
char	*cli_env_name(const char *const *names, int n);

/* 1 if s is a valid variable name: [A-Za-z_][A-Za-z0-9_]*. */
int	cli_env_name_valid(const char *s);

/*
 * The deny-list: variables that make the dynamic loader, a shell, an
 * interpreter or a library load or run code, or trust data, chosen by
 * whoever sets them.  A name made from a secret's path (fetch --env-file,
 * exec --prefix) must never be one of them: whoever may write a secret
 * under a fetched prefix could otherwise run code on every host that
 * fetches it.  Documented, entry by entry, in docs/security.md.
 *
 * A pattern is a name, or a stem ending in '*' that covers every name
 * starting with it; names compare without regard to case.
 */
struct cli_env_deny {
	const char	*pattern;	/* "PATH", "LD_*" */
	const char	*why;		/* what a writer could do */
};

/* The entry that refuses name, or NULL if a secret may set it. */
const struct cli_env_deny *cli_env_name_denied(const char *name);

/* The whole list, ending with a NULL pattern. */
extern const struct cli_env_deny cli_env_deny_list[];

/*
 * Whether p can be an --env-prefix: a valid name start, and not a stem
 * that the deny-list refuses whatever follows it ("LD_", "PYTHON").
 * Returns NULL if it can, else a static reason; *hit, when not NULL, is
 * set to the refusing entry in the second case.
 */
const char *cli_env_prefix_problem(const char *p,
	    const struct cli_env_deny **hit);

/*
 * Whether the value can be written as NAME='value' and read back
 * byte for byte by sh and by systemd: valid UTF-8 (systemd ignores other
 * lines), no single quote (no escape exists inside single quotes), and no
 * control character but TAB (no NUL; no newline or carriage return,
 * which some systemd versions end the line at; older ones refuse other
 * control characters).  Returns NULL if it can, else a static reason.
 */
const char *cli_env_value_problem(const unsigned char *v, size_t len);

#endif

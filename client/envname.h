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
 * Whether the value can be written as NAME='value' and read back
 * byte for byte by sh and by systemd: valid UTF-8 (systemd ignores other
 * lines), no single quote (no escape exists inside single quotes), and no
 * control character but TAB (no NUL; no newline or carriage return,
 * which some systemd versions end the line at; older ones refuse other
 * control characters).  Returns NULL if it can, else a static reason.
 */
const char *cli_env_value_problem(const unsigned char *v, size_t len);

#endif

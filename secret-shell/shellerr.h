/*
 * shellerr.h - how secret-shell reports a failure to the person or program
 * on the other end of the SSH channel.
 *
 * Every failure ends as exactly one stderr line
 *	secret-shell: <code>: <message>
 * where <code> is a protocol error code (lib/err.h), and one exit status.
 * The message never carries a secret value, a token or key material.
 */
#ifndef SHELL_SHELLERR_H
#define SHELL_SHELLERR_H

#include <stddef.h>

/* Exit statuses beyond sd_err_exit_status() (DESIGN §5). */
#define SHELL_EXIT_USAGE	2	/* bad command line / arguments */
#define SHELL_EXIT_CONN		3	/* secretd unreachable or went away */

struct shell_error {
	int	err;		/* SD_E* value */
	int	status;		/* process exit status to use */
	char	msg[512];	/* printable, one line */
};

/* Record err with status sd_err_exit_status(err). */
void	shell_error_set(struct shell_error *e, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A usage error: bad_request, exit status 2. */
void	shell_error_usage(struct shell_error *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* secretd unreachable or lost: unavailable, exit status 3. */
void	shell_error_conn(struct shell_error *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Print "secret-shell: <code>: <message>" on stderr; returns e->status. */
int	shell_error_print(const struct shell_error *e);

/*
 * Copy the len bytes at s to dst (size dstsz, always NUL-terminated),
 * replacing every byte that could drive a terminal (C0 controls, DEL, and
 * UTF-8 encoded C1 controls) by '?'.  For text from a peer that is about
 * to be printed.
 */
void	shell_sanitize(char *dst, size_t dstsz, const char *s, size_t len);

#endif

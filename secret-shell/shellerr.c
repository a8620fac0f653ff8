/*
 * shellerr.c - one-line error reports (see shellerr.h).
 *
 * Must never print a value, a token or key material: callers pass only
 * fixed text, names, and messages that secretd wrote for the client.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "shellerr.h"

static void __attribute__((format(printf, 2, 0)))
set_msg(struct shell_error *e, const char *fmt, va_list ap)
{
	char raw[sizeof(e->msg)];
	int n;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		raw[0] = '\0';
	shell_sanitize(e->msg, sizeof(e->msg), raw, strlen(raw));
}

void
shell_error_set(struct shell_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	e->err = err;
	e->status = sd_err_exit_status(err);
	if (e->status == 0)
		e->status = 1;
	va_start(ap, fmt);
	set_msg(e, fmt, ap);
	va_end(ap);
}

void
shell_error_usage(struct shell_error *e, const char *fmt, ...)
{
	va_list ap;

	e->err = SD_EBADREQ;
	e->status = SHELL_EXIT_USAGE;
	va_start(ap, fmt);
	set_msg(e, fmt, ap);
	va_end(ap);
}

void
shell_error_conn(struct shell_error *e, const char *fmt, ...)
{
	va_list ap;

	e->err = SD_EUNAVAIL;
	e->status = SHELL_EXIT_CONN;
	va_start(ap, fmt);
	set_msg(e, fmt, ap);
	va_end(ap);
}

int
shell_error_print(const struct shell_error *e)
{
	fprintf(stderr, "secret-shell: %s: %s\n", sd_err_code(e->err),
	    e->msg[0] != '\0' ? e->msg : "failed");
	fflush(stderr);
	return e->status;
}

void
shell_sanitize(char *dst, size_t dstsz, const char *s, size_t len)
{
	size_t i;

	if (dstsz == 0)
		return;
	for (i = 0; i < len && i + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)s[i];

		/* C1 controls arrive UTF-8 encoded as C2 80..C2 9F. */
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f && i + 2 < dstsz) {
			dst[i] = '?';
			dst[i + 1] = '?';
			i++;
			continue;
		}
		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

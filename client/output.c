/*
 * output.c - error reports, exit statuses and terminal-safe printing for
 * the `secret` client.
 *
 * Strings from the server (names, messages, dates) are untrusted: they go
 * through cli_printable() before reaching a terminal, so a hostile name
 * cannot move the cursor or rewrite earlier lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "proto.h"
#include "utf8.h"
#include "xmalloc.h"

#include "client/output.h"

static void verr(const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * The error report held back while capturing (cli_err_capture()): the
 * first one of an attempt that --wait may retry.
 */
static struct {
	int	 on;
	int	 held;
	char	 code[64];
	char	 msg[1024];
} capture;

static void
verr(const char *code, const char *fmt, va_list ap)
{
	char msg[1024], *safe;

	if (capture.on && strcmp(code, "warning") != 0) {
		if (!capture.held) {
			snprintf(capture.code, sizeof(capture.code), "%s",
			    code);
			vsnprintf(capture.msg, sizeof(capture.msg), fmt, ap);
			capture.held = 1;
		}
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	safe = cli_printable(msg);
	fflush(stdout);
	fprintf(stderr, "secret: %s: %s\n", code, safe);
	free(safe);
}

void
cli_err_capture(int on)
{
	capture.on = on;
	capture.held = 0;
}

const char *
cli_err_captured(const char **msg)
{
	if (!capture.held)
		return NULL;
	if (msg != NULL)
		*msg = capture.msg;
	return capture.code;
}

void
cli_err_release(void)
{
	char *safe;

	if (capture.held) {
		safe = cli_printable(capture.msg);
		fflush(stdout);
		fprintf(stderr, "secret: %s: %s\n", capture.code, safe);
		free(safe);
	}
	capture.on = capture.held = 0;
}

int
cli_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(sd_err_code(err), fmt, ap);
	va_end(ap);
	return sd_err_exit_status(err);
}

int
cli_err_status(const char *code, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(code, fmt, ap);
	va_end(ap);
	return status;
}

void
cli_warn(const struct cli_config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->quiet)
		return;
	va_start(ap, fmt);
	verr("warning", fmt, ap);
	va_end(ap);
}

void
cli_info(const struct cli_config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->quiet || cfg->json || !isatty(STDOUT_FILENO))
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int
cli_print_json(const json_t *obj)
{
	size_t len;
	char *line;
	int r;

	fflush(stdout);
	if ((line = proto_dump(obj, &len)) == NULL)
		return cli_err(SD_EINTERNAL, "cannot serialise a response");
	r = cli_write_all(STDOUT_FILENO, line, len);
	freezero(line, len);		/* may hold a value */
	if (r != 0)
		return cli_err(SD_EINTERNAL, "write to stdout: %s",
		    strerror(errno));
	return 0;
}

int
cli_emit_json(json_t *obj)
{
	int st = cli_print_json(obj);

	json_decref(obj);
	if (st == 0)
		st = cli_flush_stdout();
	return st;
}

/*
 * Length of the character at s (n bytes left), and in *ok whether it is
 * valid, printable UTF-8.  An invalid byte counts as one character.
 */
static size_t
next_char(const unsigned char *s, size_t n, int *ok)
{
	uint32_t cp;
	size_t len;

	*ok = 0;
	if (s[0] < 0x80) {
		*ok = s[0] >= 0x20 && s[0] != 0x7f;
		return 1;
	}
	if ((len = utf8_decode(s, n, &cp)) == 0)
		return 1;
	*ok = cp > 0x9f;		/* not a C1 control */
	return len;
}

char *
cli_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i = 0, o = 0, k;
	char *out;
	int ok;

	if (s == NULL)
		return xstrdup("-");
	n = strlen(s);
	out = xmalloc(n + 1);
	while (i < n) {
		k = next_char(p + i, n - i, &ok);
		if (ok) {
			memcpy(out + o, p + i, k);
			o += k;
		} else
			out[o++] = '?';
		i += k;
	}
	out[o] = '\0';
	return out;
}

char *
cli_printable_field(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		return cli_printable(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	return xstrdup("-");
}

/*
 * Join the strings of arr from index skip on with sep (raw); NULL if arr
 * is not an array.
 */
static char *
join(const json_t *arr, size_t skip, const char *sep)
{
	size_t i, total = 1, seplen = strlen(sep), o = 0, l;
	const json_t *v;
	const char *s;
	char *out;

	if (!json_is_array(arr))
		return NULL;
	json_array_foreach(arr, i, v)
		total += (json_is_string(v) ? json_string_length(v) : 1) +
		    seplen;
	out = xmalloc(total);
	json_array_foreach(arr, i, v) {
		if (i < skip)
			continue;
		if (i > skip) {
			memcpy(out + o, sep, seplen);
			o += seplen;
		}
		s = json_is_string(v) ? json_string_value(v) : "?";
		l = json_is_string(v) ? json_string_length(v) : 1;
		/* A NUL inside a name would cut it short: make it visible. */
		if (strlen(s) != l)
			s = "?", l = 1;
		memcpy(out + o, s, l);
		o += l;
	}
	out[o] = '\0';
	return out;
}

char *
cli_printable_path(const json_t *arr, const char *root_name)
{
	return cli_printable_subpath(arr, 0, root_name);
}

char *
cli_printable_subpath(const json_t *arr, size_t skip, const char *root_name)
{
	char *raw, *out;

	if ((raw = join(arr, skip, "/")) == NULL)
		return xstrdup("?");
	out = cli_printable(raw[0] != '\0' ? raw : root_name);
	free(raw);
	return out;
}

char *
cli_printable_list(const json_t *arr, const char *sep, const char *empty_text)
{
	char *raw, *out;

	if ((raw = join(arr, 0, sep)) == NULL)
		return xstrdup("?");
	out = cli_printable(raw[0] != '\0' ? raw : empty_text);
	free(raw);
	return out;
}

int
cli_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
cli_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_err(SD_EINTERNAL, "write to stdout: %s",
		    strerror(errno));
	return 0;
}

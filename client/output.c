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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "proto.h"
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
	unsigned int cp;
	size_t len, i;

	*ok = 0;
	if (s[0] < 0x80) {
		*ok = s[0] >= 0x20 && s[0] != 0x7f;
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 1;
	if (len > n)
		return 1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
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

struct cli_table {
	int	  ncols;
	size_t	  nrows;
	char	**cells;		/* nrows * ncols */
};

struct cli_table *
cli_table_new(int ncols)
{
	struct cli_table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	return t;
}

void
cli_table_add(struct cli_table *t, char **cells)
{
	t->cells = xreallocarray(t->cells, (t->nrows + 1) * (size_t)t->ncols,
	    sizeof(char *));
	memcpy(t->cells + t->nrows * (size_t)t->ncols, cells,
	    (size_t)t->ncols * sizeof(char *));
	t->nrows++;
}

/* Display width, counting one column per UTF-8 character. */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void
cli_table_print(struct cli_table *t, FILE *f)
{
	size_t *w, r, k;
	int c;

	w = xcalloc((size_t)t->ncols, sizeof(*w));
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			k = width(t->cells[r * (size_t)t->ncols + (size_t)c]);
			if (k > w[c])
				w[c] = k;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * (size_t)t->ncols +
			    (size_t)c];

			fputs(s, f);
			if (c + 1 < t->ncols) {
				/* Trailing empty cells print nothing. */
				int rest = 0, d;

				for (d = c + 1; d < t->ncols; d++)
					if (t->cells[r * (size_t)t->ncols +
					    (size_t)d][0] != '\0')
						rest = 1;
				if (!rest)
					break;
				fprintf(f, "%*s", (int)(w[c] - width(s) + 2),
				    "");
			}
		}
		fputc('\n', f);
	}
	for (r = 0; r < t->nrows * (size_t)t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	free(w);
	free(t);
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

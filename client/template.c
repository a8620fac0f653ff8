/*
 * template.c - parsing and rendering `secret template` input
 * (grammar in template.h).
 *
 * The text is kept by reference (segments point into the caller's
 * buffer); only quoted strings are copied.  A template may be large and
 * a path may repeat: paths are collected once, in order of first use,
 * so that the values come in one request.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "utf8.h"
#include "xmalloc.h"

#include "client/template.h"

enum seg_kind { SEG_TEXT, SEG_STRING, SEG_SECRET };

struct seg {
	enum seg_kind	 kind;
	const unsigned char *text;	/* SEG_TEXT: into the input */
	size_t		 len;
	char		*str;		/* SEG_STRING: unescaped copy */
	size_t		 path;		/* SEG_SECRET: index in paths */
};

struct cli_tmpl {
	struct seg	*segs;
	size_t		 nsegs;
	char		**paths;	/* "a/b/c", distinct */
	size_t		 npaths;
};

/* Parser state: the input and where problems are reported. */
struct parser {
	const unsigned char *s;
	size_t		 len;
	size_t		 pos;
	char		*err;
	size_t		 errlen;
};

static int perr(struct parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "LINE:COL: message" for the byte offset at. */
static int
perr(struct parser *p, size_t at, const char *fmt, ...)
{
	size_t i, line = 1, col = 1, o;
	va_list ap;

	for (i = 0; i < at && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else if (!utf8_is_cont(p->s[i]))
			col++;
	}
	o = (size_t)snprintf(p->err, p->errlen, "%zu:%zu: ", line, col);
	if (o < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + o, p->errlen - o, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void
add_seg(struct cli_tmpl *t, const struct seg *sg)
{
	t->segs = xreallocarray(t->segs, t->nsegs + 1, sizeof(*t->segs));
	t->segs[t->nsegs++] = *sg;
}

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len && is_ws(p->s[p->pos]))
		p->pos++;
}

/* A double-quoted string at p->pos into a fresh *out. */
static int
parse_string(struct parser *p, char **out)
{
	size_t start = p->pos, o = 0;
	unsigned char c;
	char *buf;

	buf = xmalloc(p->len - p->pos + 1);
	p->pos++;			/* the opening quote */
	for (;;) {
		if (p->pos >= p->len) {
			free(buf);
			return perr(p, start, "unterminated string");
		}
		c = p->s[p->pos];
		if (c == '"')
			break;
		if (c < 0x20 || c == 0x7f) {
			free(buf);
			return perr(p, p->pos, "control character in a "
			    "string");
		}
		if (c == '\\') {
			if (p->pos + 1 >= p->len || (p->s[p->pos + 1] != '"' &&
			    p->s[p->pos + 1] != '\\')) {
				free(buf);
				return perr(p, p->pos, "invalid escape in a "
				    "string (only \\\" and \\\\)");
			}
			c = p->s[++p->pos];
		}
		buf[o++] = (char)c;
		p->pos++;
	}
	p->pos++;			/* the closing quote */
	buf[o] = '\0';
	*out = buf;
	return 0;
}

/* Index of path s (normalised "a/b/c") in t->paths, added if new. */
static size_t
path_index(struct cli_tmpl *t, char *s)
{
	size_t i;

	for (i = 0; i < t->npaths; i++)
		if (strcmp(t->paths[i], s) == 0) {
			free(s);
			return i;
		}
	t->paths = xreallocarray(t->paths, t->npaths + 1, sizeof(char *));
	t->paths[t->npaths] = s;
	return t->npaths++;
}

/* The inside of one {{ }}; p->pos is just after "{{". */
static int
parse_action(struct parser *p, struct cli_tmpl *t, size_t open)
{
	static const char kw[] = "secret";
	struct seg sg = { 0 };
	struct sd_path path;
	const char *why;
	size_t at;
	char *str;

	skip_ws(p);
	if (p->pos >= p->len)
		return perr(p, open, "unterminated {{ (no closing }})");
	at = p->pos;
	if (p->s[p->pos] == '"') {
		if (parse_string(p, &str) != 0)
			return -1;
		sg.kind = SEG_STRING;
		sg.str = str;
	} else if (p->len - p->pos > sizeof(kw) - 1 &&
	    memcmp(p->s + p->pos, kw, sizeof(kw) - 1) == 0 &&
	    is_ws(p->s[p->pos + sizeof(kw) - 1])) {
		p->pos += sizeof(kw) - 1;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != '"')
			return perr(p, p->pos, "expected a quoted path after "
			    "\"secret\"");
		at = p->pos;
		if (parse_string(p, &str) != 0)
			return -1;
		if (path_parse(str, &path, &why) != 0) {
			perr(p, at, "invalid path \"%s\": %s", str, why);
			free(str);
			return -1;
		}
		free(str);
		/* "" and "/" both name the root, which holds no value. */
		if (path.n == 0) {
			path_free(&path);
			return perr(p, at, "empty path");
		}
		sg.kind = SEG_SECRET;
		sg.path = path_index(t, path_to_string(&path));
		path_free(&path);
	} else
		return perr(p, at, "expected secret \"PATH\" or a quoted "
		    "string inside {{ }}");
	skip_ws(p);
	if (p->len - p->pos < 2 || p->s[p->pos] != '}' ||
	    p->s[p->pos + 1] != '}') {
		free(sg.str);
		return perr(p, p->pos, "expected }}");
	}
	p->pos += 2;
	add_seg(t, &sg);
	return 0;
}

int
cli_tmpl_parse(const unsigned char *text, size_t len, struct cli_tmpl **out,
    char *err, size_t errlen)
{
	struct parser p = { text, len, 0, err, errlen };
	struct cli_tmpl *t = xcalloc(1, sizeof(*t));
	struct seg sg;
	const unsigned char *open;
	size_t start;

	*out = NULL;
	while (p.pos < len) {
		start = p.pos;
		open = memmem(text + p.pos, len - p.pos, "{{", 2);
		if (open == NULL)
			p.pos = len;
		else
			p.pos = (size_t)(open - text);
		if (p.pos > start) {
			memset(&sg, 0, sizeof(sg));
			sg.kind = SEG_TEXT;
			sg.text = text + start;
			sg.len = p.pos - start;
			add_seg(t, &sg);
		}
		if (open == NULL)
			break;
		start = p.pos;
		p.pos += 2;
		if (parse_action(&p, t, start) != 0) {
			cli_tmpl_free(t);
			return -1;
		}
	}
	*out = t;
	return 0;
}

size_t
cli_tmpl_npaths(const struct cli_tmpl *t)
{
	return t->npaths;
}

const char *
cli_tmpl_path(const struct cli_tmpl *t, size_t i)
{
	return t->paths[i];
}

unsigned char *
cli_tmpl_render(const struct cli_tmpl *t, unsigned char *const *vals,
    const size_t *lens, size_t *outlen)
{
	size_t i, total = 0, o = 0, l;
	const unsigned char *src;
	unsigned char *buf;

	for (i = 0; i < t->nsegs; i++)
		total += t->segs[i].kind == SEG_TEXT ? t->segs[i].len :
		    t->segs[i].kind == SEG_STRING ? strlen(t->segs[i].str) :
		    lens[t->segs[i].path];
	buf = xmalloc(total + 1);
	for (i = 0; i < t->nsegs; i++) {
		switch (t->segs[i].kind) {
		case SEG_TEXT:
			src = t->segs[i].text;
			l = t->segs[i].len;
			break;
		case SEG_STRING:
			src = (const unsigned char *)t->segs[i].str;
			l = strlen(t->segs[i].str);
			break;
		default:
			src = vals[t->segs[i].path];
			l = lens[t->segs[i].path];
			break;
		}
		if (l > 0)
			memcpy(buf + o, src, l);
		o += l;
	}
	*outlen = o;
	return buf;
}

void
cli_tmpl_free(struct cli_tmpl *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nsegs; i++)
		free(t->segs[i].str);
	for (i = 0; i < t->npaths; i++)
		free(t->paths[i]);
	free(t->segs);
	free(t->paths);
	free(t);
}

/*
 * pg_array.c - PostgreSQL array literals (pg_array.h).  The rules are
 * those of array_in: inside double quotes, a backslash makes the next
 * character literal; nothing else is special.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_array.h"
#include "xmalloc.h"

void
pg_array_init(struct pg_array *a)
{
	a->cap = 64;
	a->buf = xmalloc(a->cap);
	memcpy(a->buf, "{}", 3);
	a->len = 2;
	a->n = 0;
}

/*
 * Open room for an element of at most need bytes: returns where it goes
 * (after the separator); pg_array_close() ends it.
 */
static char *
element_open(struct pg_array *a, size_t need)
{
	size_t want = a->len + need + 3;	/* ',' '}' NUL */

	if (want > a->cap) {
		while (a->cap < want)
			a->cap *= 2;
		a->buf = xreallocarray(a->buf, a->cap, 1);
	}
	a->len--;				/* over the '}' */
	if (a->n++ > 0)
		a->buf[a->len++] = ',';
	return a->buf + a->len;
}

static void
element_close(struct pg_array *a, char *end)
{
	*end++ = '}';
	*end = '\0';
	a->len = (size_t)(end - a->buf);
}

void
pg_array_text(struct pg_array *a, const char *s)
{
	char *o = element_open(a, 2 * strlen(s) + 2);

	*o++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '"';
	element_close(a, o);
}

void
pg_array_int(struct pg_array *a, long long v)
{
	char *o = element_open(a, 24);

	o += snprintf(o, 24, "%lld", v);
	element_close(a, o);
}

void
pg_array_bytea(struct pg_array *a, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o;
	size_t i;

	if (n > (SIZE_MAX - 8) / 2)
		abort();
	o = element_open(a, 2 * n + 5);
	memcpy(o, "\"\\\\x", 4);		/* "\\x: the escaped backslash */
	o += 4;
	for (i = 0; i < n; i++) {
		*o++ = hex[p[i] >> 4];
		*o++ = hex[p[i] & 15];
	}
	*o++ = '"';
	element_close(a, o);
}

void
pg_array_null(struct pg_array *a)
{
	char *o = element_open(a, 4);

	memcpy(o, "NULL", 4);		/* unquoted: SQL NULL */
	element_close(a, o + 4);
}

const char *
pg_array_str(const struct pg_array *a)
{
	return a->buf;
}

char *
pg_array_take(struct pg_array *a)
{
	char *s = a->buf;

	a->buf = NULL;
	pg_array_free(a);
	return s;
}

void
pg_array_free(struct pg_array *a)
{
	free(a->buf);
	a->buf = NULL;
	a->len = a->cap = 0;
	a->n = 0;
}

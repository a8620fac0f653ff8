/*
 * pg_array.h - PostgreSQL array literals, to send a column of values as
 * one text parameter ($1::bigint[], $2::bytea[], ...): one statement
 * then writes a whole batch (store.c, put_rows.c).
 *
 * Every element is written double-quoted, with '"' and '\' escaped, so
 * no element can end early or start another; bytea elements go in hex.
 * The literal is always complete ("{}" when empty) and grows as needed.
 */
#ifndef SECRETD_PG_ARRAY_H
#define SECRETD_PG_ARRAY_H

#include <stddef.h>

struct pg_array {
	char	*buf;		/* "{...}", NUL-terminated */
	size_t	 len, cap;
	int	 n;		/* elements */
};

void	pg_array_init(struct pg_array *a);
void	pg_array_text(struct pg_array *a, const char *s);
void	pg_array_int(struct pg_array *a, long long v);
void	pg_array_bytea(struct pg_array *a, const unsigned char *p, size_t n);
void	pg_array_null(struct pg_array *a);
/* The literal; valid until the next call on a. */
const char *pg_array_str(const struct pg_array *a);
/* The literal, now the caller's (free()); a is freed. */
char	*pg_array_take(struct pg_array *a);
void	pg_array_free(struct pg_array *a);

#endif

/*
 * params.h - the parameters of one statement, typed.
 *
 * A caller adds each parameter by its type; integers are formatted into
 * the builder's own storage and text and bytes are copied, so a builder
 * is self-contained (another thread may send it) and nothing needs a
 * buffer of its own.  pv is what db_exec takes; params_lengths and
 * params_formats too, NULL (all text) unless a bytea was added.
 *
 * A plan's parameters (request.h) are text, integers or NULL: the
 * executor sends each as an element of a text array.
 */
#ifndef SECRETD_PARAMS_H
#define SECRETD_PARAMS_H

#include <stddef.h>

/* The most parameters of any statement (audit.query, get_tree,
 * token_create: 8). */
#define PARAMS_MAX	8

struct params {
	const char	*v[PARAMS_MAX];	/* db_exec's values; NULL is SQL NULL */
	char		*own[PARAMS_MAX];
	char		 num[PARAMS_MAX][24];
	int		 len[PARAMS_MAX];	/* a bytea's length */
	int		 fmt[PARAMS_MAX];	/* 1: binary (a bytea) */
	int		 binary;		/* a bytea was added */
	int		 n;
};

void	params_init(struct params *p);
void	params_int(struct params *p, long long v);
void	params_text(struct params *p, const char *s);	/* copied; NULL:
							   SQL NULL */
void	params_take(struct params *p, char *s);	/* owned from now */
void	params_bytea(struct params *p, const void *b, size_t n); /* copied */
void	params_null(struct params *p);
/* Free and wipe what p holds; p is empty again (params_init). */
void	params_free(struct params *p);
/* The values, for db_exec. */
static inline const char *const *
params_v(const struct params *p)
{
	return p->v;
}
/* db_exec's lengths and formats: NULL (all text) without a bytea. */
static inline const int *
params_lengths(const struct params *p)
{
	return p->binary ? p->len : NULL;
}
static inline const int *
params_formats(const struct params *p)
{
	return p->binary ? p->fmt : NULL;
}

#endif

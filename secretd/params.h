/*
 * params.h - the parameters of one statement, typed.
 *
 * A caller adds each parameter by its type; integers are formatted into
 * the builder's own storage and text is copied, so a builder is
 * self-contained (another thread may send it) and nothing needs a
 * buffer of its own.  pv is what db_exec takes.
 */
#ifndef SECRETD_PARAMS_H
#define SECRETD_PARAMS_H

#define PARAMS_MAX	8

struct params {
	const char	*v[PARAMS_MAX];	/* db_exec's values; NULL is SQL NULL */
	char		*own[PARAMS_MAX];
	char		 num[PARAMS_MAX][24];
	int		 n;
};

void	params_init(struct params *p);
void	params_int(struct params *p, long long v);
void	params_text(struct params *p, const char *s);	/* copied; NULL:
							   SQL NULL */
void	params_take(struct params *p, char *s);	/* owned from now */
void	params_null(struct params *p);
void	params_free(struct params *p);
/* The values, for db_exec. */
static inline const char *const *
params_v(const struct params *p)
{
	return p->v;
}

#endif

/*
 * params.c - typed statement parameters (params.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "params.h"
#include "xmalloc.h"

void
params_init(struct params *p)
{
	memset(p, 0, sizeof(*p));
}

static int
slot(struct params *p)
{
	if (p->n == PARAMS_MAX)
		fatal("params: more than %d parameters", PARAMS_MAX);
	return p->n++;
}

void
params_int(struct params *p, long long v)
{
	int i = slot(p);

	snprintf(p->num[i], sizeof(p->num[i]), "%lld", v);
	p->v[i] = p->num[i];
}

void
params_take(struct params *p, char *s)
{
	int i = slot(p);

	p->own[i] = s;
	p->v[i] = s;
}

void
params_text(struct params *p, const char *s)
{
	params_take(p, s ? xstrdup(s) : NULL);
}

void
params_bytea(struct params *p, const void *b, size_t n)
{
	int i = slot(p);

	if (n > INT_MAX)
		fatal("params: a bytea of %zu bytes", n);
	p->own[i] = xmalloc(n ? n : 1);
	memcpy(p->own[i], b, n);
	p->v[i] = p->own[i];
	p->len[i] = (int)n;
	p->fmt[i] = 1;
	p->binary = 1;
}

void
params_null(struct params *p)
{
	p->v[slot(p)] = NULL;
}

void
params_free(struct params *p)
{
	int i;

	/* wiped: a builder may carry a hash to look up (audit.hash) */
	for (i = 0; i < p->n; i++) {
		if (p->fmt[i])
			freezero(p->own[i], (size_t)p->len[i]);
		else
			freezero_str(p->own[i]);
	}
	sodium_memzero(p, sizeof(*p));
}

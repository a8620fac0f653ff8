/*
 * request.c - small helpers shared by the action handlers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "xmalloc.h"
#include "request.h"

int
req_fail(struct request *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->whybuf, sizeof(r->whybuf), fmt, ap);
	va_end(ap);
	r->why = r->whybuf;
	return err;
}

int
req_path(struct request *r, const char *key)
{
	const json_t *v = json_object_get(r->req, key);
	int e;

	if (v == NULL)
		return req_fail(r, SD_EBADREQ, "%s missing", key);
	path_free(&r->path);
	if ((e = path_from_json(v, &r->path, &r->why)) != 0)
		return e;
	r->has_path = 1;
	return 0;
}

const char *
req_principal_param(const struct request *r)
{
	static __thread char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)r->sess->principal_id);
	return buf;
}

void
req_audit_item(struct request *r, const struct sd_path *path,
    long long version, int err)
{
	req_audit_item_detail(r, path, version, err, NULL);
}

void
req_audit_item_detail(struct request *r, const struct sd_path *path,
    long long version, int err, json_t *detail)
{
	struct audit_extra *x;

	/* grow by doubling: n_extra is a power of two when full */
	if ((r->n_extra & (r->n_extra - 1)) == 0)
		r->extra = xreallocarray(r->extra, r->n_extra ? r->n_extra * 2 : 1,
		    sizeof(*r->extra));
	x = &r->extra[r->n_extra++];
	memset(x, 0, sizeof(*x));
	path_copy(&x->path, path);
	x->version = version;
	x->err = err;
	x->detail = detail;
}

void
deferred_read_arrays(const struct deferred_read *const *rds, int n,
    struct pg_array *col, const char **v)
{
	int i, k;

	for (k = 0; k < rds[0]->n; k++) {
		pg_array_init(&col[k]);
		for (i = 0; i < n; i++)
			if (rds[i]->v[k] == NULL)
				pg_array_null(&col[k]);
			else
				pg_array_text(&col[k], rds[i]->v[k]);
		v[k] = pg_array_str(&col[k]);
	}
}

void
deferred_read_free(struct deferred_read *rd)
{
	size_t i;

	for (i = 0; i < sizeof(rd->own) / sizeof(rd->own[0]); i++)
		free(rd->own[i]);
	memset(rd, 0, sizeof(*rd));
}

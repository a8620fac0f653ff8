/*
 * request.c - small helpers shared by the action handlers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

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

void
params_principal(struct params *p, const struct request *r)
{
	params_int(p, r->sess->principal_id);
}

void
params_key(struct params *p, const struct request *r)
{
	params_text(p, r->sess->fingerprint);
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
req_init(struct request *r, const struct server_ctx *ctx,
    struct session *sess, const json_t *req)
{
	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->sess = sess;
	r->req = req;
	r->version = -1;
	r->resp = proto_ok(json_object_get(req, "id"));
}

void
req_free(struct request *r)
{
	int i;

	json_decref(r->resp);
	path_free(&r->path);
	json_decref(r->detail);
	for (i = 0; i < r->n_extra; i++) {
		path_free(&r->extra[i].path);
		json_decref(r->extra[i].detail);
	}
	free(r->extra);
	sodium_memzero(r->value_hash, sizeof(r->value_hash));
	memset(r, 0, sizeof(*r));
}

void
req_reset(struct request *r)
{
	const struct server_ctx *ctx = r->ctx;
	struct session *sess = r->sess;
	const json_t *req = r->req;

	req_free(r);
	req_init(r, ctx, sess, req);
}

void
plan_free(struct plan *pl)
{
	params_free(&pl->p);
	memset(pl, 0, sizeof(*pl));
}

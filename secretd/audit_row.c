/*
 * audit_row.c - building one audit row, its canonical form and MAC, its
 * syslog mirror, and rows as the parameters of one INSERT (audit_row.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit_row.h"
#include "err.h"
#include "store.h"
#include "xmalloc.h"

/* ---------------------------------------------------------- canonical form */

static void
canon_put(struct audit_canon *c, const void *v, size_t n, uint32_t len)
{
	if (c->len + 4 + n > c->cap) {
		c->cap = (c->len + 4 + n) * 2 + 64;
		c->p = xreallocarray(c->p, c->cap, 1);
	}
	c->p[c->len++] = (unsigned char)(len >> 24);
	c->p[c->len++] = (unsigned char)(len >> 16);
	c->p[c->len++] = (unsigned char)(len >> 8);
	c->p[c->len++] = (unsigned char)len;
	if (n > 0)
		memcpy(c->p + c->len, v, n);
	c->len += n;
}

void
audit_canon_field(struct audit_canon *c, const void *v, size_t n)
{
	if (v == NULL)
		audit_canon_null(c);
	else
		canon_put(c, v, n, (uint32_t)n);
}

void
audit_canon_null(struct audit_canon *c)
{
	canon_put(c, NULL, 0, 0xffffffffu);
}

void
audit_canon_path(struct audit_canon *c, const struct sd_path *p)
{
	struct audit_canon inner = { 0 };
	int i;

	for (i = 0; i < p->n; i++)
		audit_canon_field(&inner, p->name[i], strlen(p->name[i]));
	canon_put(c, inner.p, inner.len, (uint32_t)inner.len);
	audit_canon_free(&inner);
}

void
audit_canon_free(struct audit_canon *c)
{
	free(c->p);
	memset(c, 0, sizeof(*c));
}

void
audit_seal_hash(const struct keyring *kr, const unsigned char *prev,
    int64_t id, const unsigned char *mac, unsigned char *out)
{
	unsigned char buf[AUDIT_HASH_LEN * 2 + 8];
	int i;

	memcpy(buf, prev, AUDIT_HASH_LEN);
	for (i = 0; i < 8; i++)
		buf[AUDIT_HASH_LEN + i] = (unsigned char)((uint64_t)id >>
		    (56 - 8 * i));
	memcpy(buf + AUDIT_HASH_LEN + 8, mac, AUDIT_HASH_LEN);
	audit_mac(kr, buf, sizeof(buf), out);
}

/* Column col (an enum audit_col) of a verify result row: one past it,
 * since column 0 is the id. */
#define RES_COL(col)	((col) + 1)

void
audit_row_mac(const struct keyring *kr, const PGresult *res, int i,
    unsigned char *out)
{
	struct audit_canon c = { 0 };
	struct sd_path p;
	unsigned char *h;
	size_t hl;
	int col;

	for (col = 0; col < AC_MAC; col++) {
		if (PQgetisnull(res, i, RES_COL(col))) {
			audit_canon_null(&c);
		} else if (col == AC_PATH) {
			if (store_path_from_pg(PQgetvalue(res, i, RES_COL(col)),
			    &p) != 0)
				audit_canon_null(&c);
			else {
				audit_canon_path(&c, &p);
				path_free(&p);
			}
		} else if (col == AC_VALUE_HASH) {
			h = PQunescapeBytea((unsigned char *)PQgetvalue(res, i,
			    RES_COL(col)), &hl);
			audit_canon_field(&c, h, h ? hl : 0);
			PQfreemem(h);
		} else
			audit_canon_field(&c, PQgetvalue(res, i, RES_COL(col)),
			    (size_t)PQgetlength(res, i, RES_COL(col)));
	}
	audit_mac(kr, c.p, c.len, out);
	audit_canon_free(&c);
}

int
audit_bytea_eq(const PGresult *res, int i, int col, const unsigned char *want)
{
	unsigned char *h;
	size_t hl;
	int eq;

	if (PQgetisnull(res, i, col))
		return 0;
	h = PQunescapeBytea((unsigned char *)PQgetvalue(res, i, col), &hl);
	eq = h != NULL && hl == AUDIT_HASH_LEN &&
	    sodium_memcmp(h, want, AUDIT_HASH_LEN) == 0;
	PQfreemem(h);
	return eq;
}

/* -------------------------------------------------------------- row build */

const char *
audit_result(int err)
{
	return err == 0 ? "ok" : (err == SD_EPERM || err == SD_EUNAUTH) ?
	    "denied" : "error";
}

static char *
dupnull(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static char *
dupfmt_ll(long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	return xstrdup(buf);
}

/*
 * The record as one JSON line for syslog/journald (audit_syslog = yes):
 * the same fields as the row, no value, never a token.
 */
static char *
mirror_line(const struct audit_row *row, const struct audit_input *in)
{
	static const struct { int col; const char *name; } named[] = {
		{ AC_PRINCIPAL, "principal" }, { AC_FINGERPRINT, "fingerprint" },
		{ AC_ACTION, "action" }, { AC_VERSION, "version" },
		{ AC_RESULT, "result" }, { AC_ERROR_CODE, "error_code" },
		{ AC_CLIENT_ADDR, "client_addr" },
		{ AC_CLIENT_PORT, "client_port" },
		{ AC_SESSION_ID, "session_id" }, { AC_REQUEST_ID, "request_id" },
	};
	json_t *o = json_object();
	char *line;
	size_t i;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (row->v[named[i].col] != NULL)
			json_object_set_new(o, named[i].name,
			    json_string(row->v[named[i].col]));
	if (in->path != NULL)
		json_object_set_new(o, "path", path_to_json(in->path));
	if (in->detail != NULL)
		json_object_set(o, "detail", (json_t *)in->detail);
	line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return line;
}

void
audit_row_build(struct audit_row *row, const struct keyring *kr,
    const struct audit_input *in)
{
	struct audit_canon c = { 0 };
	int col;

	row->v[AC_AT] = dupfmt_ll((long long)in->at_us);
	row->v[AC_PRINCIPAL] = dupnull(in->principal);
	row->v[AC_FINGERPRINT] = dupnull(in->fingerprint);
	row->v[AC_ACTION] = xstrdup(in->action);
	row->v[AC_PATH] = in->path ? store_path_param(in->path) : NULL;
	row->v[AC_VERSION] = in->version >= 0 ? dupfmt_ll(in->version) : NULL;
	row->v[AC_RESULT] = xstrdup(audit_result(in->err));
	row->v[AC_ERROR_CODE] = in->err == 0 ? NULL : xstrdup(in->err_code ?
	    in->err_code : sd_err_code(in->err));
	row->v[AC_CLIENT_ADDR] = dupnull(in->client_addr);
	row->v[AC_CLIENT_PORT] = in->client_port ?
	    dupfmt_ll(in->client_port) : NULL;
	row->v[AC_SESSION_ID] = dupnull(in->session_id);
	row->v[AC_REQUEST_ID] = in->request_id ? json_dumps(in->request_id,
	    JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	if (in->value_hash != NULL) {
		row->v[AC_VALUE_HASH] = xmalloc(AUDIT_HASH_LEN);
		memcpy(row->v[AC_VALUE_HASH], in->value_hash, AUDIT_HASH_LEN);
	}
	row->v[AC_DETAIL] = in->detail ? json_dumps(in->detail,
	    JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	/* the MAC covers exactly what verify will read back */
	for (col = 0; col < AC_MAC; col++) {
		if (col == AC_PATH && in->path != NULL)
			audit_canon_path(&c, in->path);
		else if (col == AC_VALUE_HASH && row->v[col] != NULL)
			audit_canon_field(&c, row->v[col], AUDIT_HASH_LEN);
		else if (row->v[col] == NULL)
			audit_canon_null(&c);
		else
			audit_canon_field(&c, row->v[col], strlen(row->v[col]));
	}
	audit_mac(kr, c.p, c.len, row->mac);
	audit_canon_free(&c);
	row->v[AC_MAC] = xmalloc(AUDIT_HASH_LEN);
	memcpy(row->v[AC_MAC], row->mac, AUDIT_HASH_LEN);
	row->mirror = in->mirror ? mirror_line(row, in) : NULL;
}

void
audit_row_free(struct audit_row *row)
{
	int i;

	for (i = 0; i < AUDIT_NCOLS; i++)
		free(row->v[i]);
	free(row->mirror);
	memset(row, 0, sizeof(*row));
}

/* ------------------------------------------------------ rows as columns */

void
audit_cols_init(struct audit_cols *c)
{
	int i;

	for (i = 0; i < AUDIT_NCOLS; i++)
		pg_array_init(&c->col[i]);
	c->n = 0;
}

void
audit_cols_add(struct audit_cols *c, const struct audit_row *row)
{
	int i;

	for (i = 0; i < AUDIT_NCOLS; i++)
		if (row->v[i] == NULL)
			pg_array_null(&c->col[i]);
		else if (i == AC_VALUE_HASH || i == AC_MAC)
			pg_array_bytea(&c->col[i],
			    (const unsigned char *)row->v[i], AUDIT_HASH_LEN);
		else
			pg_array_text(&c->col[i], row->v[i]);
	c->n++;
}

const char *const *
audit_cols_params(struct audit_cols *c)
{
	int i;

	for (i = 0; i < AUDIT_NCOLS; i++)
		c->v[i] = pg_array_str(&c->col[i]);
	return c->v;
}

void
audit_cols_free(struct audit_cols *c)
{
	int i;

	for (i = 0; i < AUDIT_NCOLS; i++)
		pg_array_free(&c->col[i]);
	c->n = 0;
}

int64_t
audit_result_id(const PGresult *res, int i, const unsigned char *mac)
{
	char hex[2 * AUDIT_HASH_LEN + 1];
	int k, n = PQntuples(res);

	sodium_bin2hex(hex, sizeof(hex), mac, AUDIT_HASH_LEN);
	for (k = 0; k < n; k++)
		if (strcmp(PQgetvalue(res, (i + k) % n, 1), hex) == 0)
			return strtoll(PQgetvalue(res, (i + k) % n, 0), NULL,
			    10);
	return 0;
}

/*
 * act_audit.c - audit.query, audit.verify, audit.hash, audit.report.
 * All need the global audit permission (dispatch table).
 *
 * verify recomputes every row's MAC from what the database holds now and
 * walks the seal chain: an altered or forged row fails its MAC, a deleted
 * row leaves a seal pointing at nothing or a gap in the chain, and a
 * chain that no longer holds the head this daemon knew, or the head the
 * caller recorded earlier ("head"), was truncated, as is one where the
 * sealer recorded a gap (audit.truncated) that no auditor has
 * acknowledged yet.  It reports the first problem by row id, reading the
 * trail by pages.
 *
 * hash never hands out a keyed hash (that would let an auditor test
 * guesses of a value offline): it answers the rows at or below a path
 * whose value hash matches a candidate, each call audited and counted
 * against the caller's budget (quota.h).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "acl.h"
#include "actions.h"
#include "audit_row.h"
#include "audit_seal.h"
#include "proto.h"
#include "quota.h"
#include "store.h"
#include "xmalloc.h"

#define QUERY_LIMIT_MAX	1000
#define VERIFY_PAGE	1000	/* rows or seals audit.verify holds at once */
#define HASH_ROWS_MAX	1000	/* rows audit.hash answers at most */

/*
 * A time: a duration before now ("24h", "30d", "90s", "15m"), or
 * RFC 3339 ("2026-11-01T00:00:00Z", with optional fraction and offset,
 * or a bare date).  out receives a string PostgreSQL parses exactly;
 * *epoch the time in whole seconds.
 */
static int
parse_when(struct request *r, const char *key, char out[64], int *set,
    time_t *epoch)
{
	const char *s = NULL, *p;
	struct tm tm;
	char *end;
	long long n, mult;
	time_t t;
	int e, off = 0;

	*set = 0;
	if ((e = proto_get_string(r->req, key, 0, &s, &r->why)) != 0 || s == NULL)
		return e;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) != NULL &&
	    strlen(s) < 64) {
		p = end;
		if (*p == 'T' && (p = strptime(p + 1, "%H:%M:%S", &tm)) != NULL) {
			if (*p == '.')
				for (p++; isdigit((unsigned char)*p); p++)
					;
			if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1])
			    && isdigit((unsigned char)p[2]) && p[3] == ':' &&
			    isdigit((unsigned char)p[4]) &&
			    isdigit((unsigned char)p[5]) && p[6] == '\0') {
				off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
				    ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
				if (*p == '+')
					off = -off;
			} else if (!(*p == 'Z' && p[1] == '\0'))
				p = NULL;
			else
				p++;
		}
		if (p != NULL && *p == '\0') {
			*epoch = timegm(&tm) + off;
			snprintf(out, 64, "%s%s", s, end[0] == '\0' ? "T00:00:00Z" :
			    "");
			*set = 1;
			return 0;
		}
	}
	if (!isdigit((unsigned char)*s))
		goto bad;
	n = strtoll(s, &end, 10);
	mult = strcmp(end, "s") == 0 ? 1 : strcmp(end, "m") == 0 ? 60 :
	    strcmp(end, "h") == 0 ? 3600 : strcmp(end, "d") == 0 ? 86400 : 0;
	if (mult == 0 || n < 0 || n > 100LL * 365 * 86400 / mult)
		goto bad;
	t = time(NULL) - (time_t)(n * mult);
	gmtime_r(&t, &tm);
	strftime(out, 64, "%Y-%m-%dT%H:%M:%SZ", &tm);
	*epoch = t;
	*set = 1;
	return 0;
bad:
	return req_fail(r, SD_EBADREQ, "%s must be a time "
	    "(2026-11-01T00:00:00Z) or a duration (24h)", key);
}

static json_t *
text_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() :
	    json_string(PQgetvalue(res, row, col));
}

static json_t *
path_or_null(PGresult *res, int row, int col)
{
	struct sd_path p;
	json_t *j;

	if (PQgetisnull(res, row, col) ||
	    store_path_from_pg(PQgetvalue(res, row, col), &p) != 0)
		return json_null();
	j = path_to_json(&p);
	path_free(&p);
	return j;
}

static json_t *
int_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() :
	    json_integer(atoll(PQgetvalue(res, row, col)));
}

/* Columns 0..12 of ST_AUDIT_QUERY (and ST_AUDIT_HASH_ROWS), row i. */
static json_t *
row_json(PGresult *res, int i)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", int_or_null(res, i, 0));
	json_object_set_new(o, "at", text_or_null(res, i, 1));
	json_object_set_new(o, "principal", text_or_null(res, i, 2));
	json_object_set_new(o, "fingerprint", text_or_null(res, i, 3));
	json_object_set_new(o, "action", text_or_null(res, i, 4));
	json_object_set_new(o, "path", path_or_null(res, i, 5));
	json_object_set_new(o, "version", int_or_null(res, i, 6));
	json_object_set_new(o, "result", text_or_null(res, i, 7));
	json_object_set_new(o, "error_code", text_or_null(res, i, 8));
	json_object_set_new(o, "client_addr", text_or_null(res, i, 9));
	json_object_set_new(o, "client_port", int_or_null(res, i, 10));
	json_object_set_new(o, "session_id", text_or_null(res, i, 11));
	json_object_set_new(o, "request_id", text_or_null(res, i, 12));
	return o;
}

int
act_audit_query(struct request *r)
{
	char since[64], until[64], *prefix = NULL;
	struct params q;
	time_t te;
	const char *principal = NULL, *action = NULL, *result = NULL,
	    *cursor = NULL;
	long long limit = 100, cur = 0;
	int e, has_since, has_until, i, n;
	json_t *rows, *o;
	PGresult *res;
	struct sd_path p = { 0 };

	if ((e = parse_when(r, "since", since, &has_since, &te)) != 0 ||
	    (e = parse_when(r, "until", until, &has_until, &te)) != 0 ||
	    (e = proto_get_string(r->req, "principal", 0, &principal,
	    &r->why)) != 0 ||
	    (e = proto_get_string(r->req, "filter_action", 0, &action,
	    &r->why)) != 0 ||
	    (e = proto_get_string(r->req, "result", 0, &result, &r->why)) != 0 ||
	    (e = proto_get_string(r->req, "cursor", 0, &cursor, &r->why)) != 0 ||
	    (e = proto_get_int(r->req, "limit", 0, 1, QUERY_LIMIT_MAX, &limit,
	    &r->why)) != 0)
		return e;
	if (cursor != NULL) {
		char *end;

		cur = strtoll(cursor, &end, 10);
		if (*cursor == '\0' || *end != '\0' || cur < 1)
			return req_fail(r, SD_EBADREQ, "bad cursor");
	}
	if (json_object_get(r->req, "path_prefix") != NULL) {
		if ((e = path_from_json(json_object_get(r->req, "path_prefix"),
		    &p, &r->why)) != 0)
			return e;
		prefix = store_path_param(&p);
		path_free(&p);
	}
	params_init(&q);
	params_text(&q, has_since ? since : NULL);
	params_text(&q, has_until ? until : NULL);
	params_text(&q, principal);
	params_take(&q, prefix);
	params_text(&q, action);
	params_text(&q, result);
	if (cursor)
		params_int(&q, cur);
	else
		params_null(&q);
	params_int(&q, limit);
	if ((e = db_exec_params(r->db, ST_AUDIT_QUERY, &q, &res)) != 0)
		return e;
	rows = json_array();
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		json_t *detail = NULL;

		o = row_json(res, i);
		json_object_set_new(o, "value_hash", text_or_null(res, i, 13));
		if (!PQgetisnull(res, i, 14))
			detail = json_loads(PQgetvalue(res, i, 14), 0, NULL);
		json_object_set_new(o, "detail", detail ? detail : json_null());
		json_array_append_new(rows, o);
	}
	json_object_set_new(r->resp, "rows", rows);
	json_object_set_new(r->resp, "next_cursor", n == limit && n > 0 ?
	    json_string(PQgetvalue(res, n - 1, 0)) : json_null());
	PQclear(res);
	return 0;
}

/* Row ids, a growing list (gaps and their acknowledgements: few). */
struct ids {
	long long	*id;
	size_t		 n, cap;
};

static void
ids_add(struct ids *l, long long id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->id = xreallocarray(l->id, l->cap, sizeof(*l->id));
	}
	l->id[l->n++] = id;
}

static int
ids_has(const struct ids *l, long long id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->id[i] == id)
			return 1;
	return 0;
}

/* What audit.verify has found so far. */
struct verify {
	const struct keyring	*kr;
	unsigned char		 prev[AUDIT_HASH_LEN];	/* the chain's hash */
	long long		 rows, seals;
	long long		 last_sealed;	/* the last seal's row id */
	long long		 last_seq;	/* and its seq */
	int			 broken;	/* the seqs stopped following */
	long long		 bad;		/* the first problem's row id */
	const char		*what;		/* and what it is; NULL: none */
	/* the head this daemon knows (seq 0: none), found as it was? */
	int64_t			 mem_seq;
	unsigned char		 mem_hash[AUDIT_HASH_LEN];
	int			 mem_found;
	/* the head the caller recorded ("head"; seq 0: none) */
	long long		 want_seq, want_id;
	unsigned char		 want_hash[AUDIT_HASH_LEN];
	int			 want_found;
	/* gaps the sealer recorded, and those acknowledged (MACs valid) */
	struct ids		 gaps, acks;
};

/* Keep the problem of the lowest row id (0: a problem with no row). */
static void
problem(struct verify *v, long long id, const char *what)
{
	if (v->what == NULL || (id != 0 && (v->bad == 0 || id < v->bad))) {
		v->bad = id;
		v->what = what;
	}
}

/*
 * Call each(v, res, i) for every row of stmt, read VERIFY_PAGE at a
 * time in the order of its first column, a bigint (stmt's $1: after
 * that key; $2: how many).
 */
static int
each_row(struct request *r, int stmt, struct verify *v,
    void (*each)(struct verify *, PGresult *, int))
{
	struct params p;
	long long after = 0;
	PGresult *res;
	int e, i, n;

	do {
		params_init(&p);
		params_int(&p, after);
		params_int(&p, VERIFY_PAGE);
		if ((e = db_exec_params(r->db, stmt, &p, &res)) != 0)
			return e;
		n = PQntuples(res);
		for (i = 0; i < n; i++)
			each(v, res, i);
		if (n > 0)
			after = strtoll(PQgetvalue(res, n - 1, 0), NULL, 10);
		PQclear(res);
	} while (n == VERIFY_PAGE);
	return 0;
}

/*
 * Row i of ST_AUDIT_ROWS: its MAC must match what it holds.  A genuine
 * row may also be a gap the sealer recorded (AUDIT_TRUNCATED) or an
 * auditor's acknowledgement of one: an audit.verify that succeeded with
 * "acknowledge" in its detail.
 */
/* Column col (enum audit_col) of an audit_rows result, after the id. */
#define ROW_COL(col)	((col) + 1)

static void
verify_row(struct verify *v, PGresult *res, int i)
{
	unsigned char mac[AUDIT_HASH_LEN];
	const char *action = PQgetvalue(res, i, ROW_COL(AC_ACTION));
	long long id = atoll(PQgetvalue(res, i, 0));
	json_t *detail, *ack;

	audit_row_mac(v->kr, res, i, mac);
	v->rows++;
	if (!audit_bytea_eq(res, i, ROW_COL(AC_MAC), mac)) {
		problem(v, id, "altered");
		return;
	}
	if (strcmp(action, AUDIT_TRUNCATED) == 0)
		ids_add(&v->gaps, id);
	else if (strcmp(action, "audit.verify") == 0 &&
	    !PQgetisnull(res, i, ROW_COL(AC_DETAIL)) &&
	    strcmp(PQgetvalue(res, i, ROW_COL(AC_RESULT)), "ok") == 0) {
		detail = json_loads(PQgetvalue(res, i, ROW_COL(AC_DETAIL)), 0,
		    NULL);
		ack = json_object_get(detail, "acknowledge");
		if (json_is_integer(ack))
			ids_add(&v->acks, (long long)json_integer_value(ack));
		json_decref(detail);
	}
}

/* Seal i of res: its hash must cover the chain so far and its row. */
static void
verify_seal(struct verify *v, PGresult *res, int i, long long id)
{
	unsigned char want[AUDIT_HASH_LEN], *m, *h;
	size_t ml, hl;

	if (PQgetisnull(res, i, 3)) {
		problem(v, id, "missing");
	} else {
		m = PQunescapeBytea((unsigned char *)PQgetvalue(res, i, 3),
		    &ml);
		if (m != NULL && ml == AUDIT_HASH_LEN)
			audit_seal_hash(v->kr, v->prev, id, m, want);
		else
			memset(want, 0, sizeof(want));
		PQfreemem(m);
		if (!audit_bytea_eq(res, i, 2, want))
			problem(v, id, "chain");
	}
	/* go on from what is stored, to find later breaks too */
	h = PQunescapeBytea((unsigned char *)PQgetvalue(res, i, 2), &hl);
	if (h != NULL && hl == AUDIT_HASH_LEN)
		memcpy(v->prev, h, AUDIT_HASH_LEN);
	PQfreemem(h);
}

/* Seal i of ST_AUDIT_SEALS: the next seq, over the chain so far. */
static void
verify_seal_row(struct verify *v, PGresult *res, int i)
{
	long long id = atoll(PQgetvalue(res, i, 1));

	if (!v->broken && atoll(PQgetvalue(res, i, 0)) != v->seals + 1) {
		problem(v, id, "chain");
		v->broken = 1;		/* the rest is only counted */
	}
	if (!v->broken)
		verify_seal(v, res, i, id);
	v->seals++;
	v->last_sealed = id;
	v->last_seq = atoll(PQgetvalue(res, i, 0));
	/* the heads that must still be in the chain, as they were */
	if (v->last_seq == v->mem_seq)
		v->mem_found = audit_bytea_eq(res, i, 2, v->mem_hash);
	if (v->want_seq != 0 && v->last_seq == v->want_seq) {
		v->want_found = audit_bytea_eq(res, i, 2, v->want_hash);
		v->want_id = id;
	}
}

/* 1 if a seal covers row id, 0 if none, -1 (e set) on error. */
static int
is_sealed(struct request *r, long long id, int *e)
{
	struct params p;
	PGresult *res;
	int sealed;

	params_init(&p);
	params_int(&p, id);
	if ((*e = db_exec_params(r->db, ST_AUDIT_SEALED, &p, &res)) != 0)
		return -1;
	sealed = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return sealed;
}

/* "SEQ:HASH" (a head from an earlier verify, or from syslog). */
static int
parse_head(struct request *r, struct verify *v)
{
	const char *s = NULL, *colon;
	char *end;
	size_t bl;
	int e;

	if ((e = proto_get_string(r->req, "head", 0, &s, &r->why)) != 0 ||
	    s == NULL)
		return e;
	v->want_seq = strtoll(s, &end, 10);
	colon = end;
	if (s[0] < '0' || s[0] > '9' || *colon != ':' || v->want_seq < 1 ||
	    strlen(colon + 1) != AUDIT_HASH_LEN * 2 ||
	    sodium_hex2bin(v->want_hash, sizeof(v->want_hash), colon + 1,
	    AUDIT_HASH_LEN * 2, NULL, &bl, NULL) != 0 || bl != AUDIT_HASH_LEN)
		return req_fail(r, SD_EBADREQ, "head must be SEQ:HASH (the "
		    "head_seq and head of an earlier audit.verify, HASH in "
		    "64 hex digits)");
	return 0;
}

/*
 * The trail is read a page of VERIFY_PAGE rows (then seals) at a time,
 * so that what verify holds does not grow with the trail; the rows
 * that no seal covers are found by the database (an anti-join).
 * "acknowledge": ID marks the gap recorded at row ID as explained: this
 * request's own audit row, MACed and sealed, carries it (and who).
 */
int
act_audit_verify(struct request *r)
{
	struct verify v = { .kr = ctx_keyring(r->ctx) };
	char hex[AUDIT_HASH_LEN * 2 + 1];
	long long ack = 0;
	json_t *gaps;
	PGresult *res;
	size_t i;
	int e;

	if ((e = parse_head(r, &v)) != 0 ||
	    (e = proto_get_int(r->req, "acknowledge", 0, 1, LLONG_MAX, &ack,
	    &r->why)) != 0)
		return e;
	/* first: every seal it counts has committed, so is read below */
	audit_seal_head(&v.mem_seq, v.mem_hash);
	if ((e = each_row(r, ST_AUDIT_ROWS, &v, verify_row)) != 0 ||
	    (e = each_row(r, ST_AUDIT_SEALS, &v, verify_seal_row)) != 0)
		goto out;
	if (ack != 0) {
		if (!ids_has(&v.gaps, ack)) {
			e = req_fail(r, SD_ENOTFOUND, "row %lld is not a gap "
			    "recorded by secretd (action %s)", ack,
			    AUDIT_TRUNCATED);
			goto out;
		}
		ids_add(&v.acks, ack);
		r->detail = json_pack("{s:I}", "acknowledge", (json_int_t)ack);
	}
	/* the tail was cut: the head this daemon knew is gone or changed */
	if (v.mem_seq > 0 && !v.mem_found)
		problem(&v, v.last_sealed, "truncated");
	/* ... or the head the caller recorded earlier */
	if (v.want_seq > 0 && !v.want_found)
		problem(&v, v.want_id ? v.want_id : v.last_sealed, "truncated");
	/* ... or the sealer found it cut and recorded the gap */
	gaps = json_array();
	for (i = 0; i < v.gaps.n; i++) {
		int acked = ids_has(&v.acks, v.gaps.id[i]);

		if (!acked)
			problem(&v, v.gaps.id[i], "truncated");
		json_array_append_new(gaps, json_pack("{s:I,s:b}", "id",
		    (json_int_t)v.gaps.id[i], "acknowledged", acked));
	}
	json_object_set_new(r->resp, "gaps", gaps);
	/* a row older than a minute that no seal covers: its seal is gone */
	if ((e = db_exec(r->db, ST_AUDIT_UNSEALED, 0, NULL, NULL, NULL,
	    &res)) != 0)
		goto out;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		problem(&v, atoll(PQgetvalue(res, 0, 0)), "unsealed");
	PQclear(res);
	/* a row that is neither sealed nor pending and has a bad MAC was
	 * reported above as altered; call it forged if nothing sealed it */
	if (v.what != NULL && strcmp(v.what, "altered") == 0) {
		switch (is_sealed(r, v.bad, &e)) {
		case -1:
			goto out;
		case 0:
			v.what = "forged";
			break;
		}
	}
	json_object_set_new(r->resp, "intact", json_boolean(v.what == NULL));
	json_object_set_new(r->resp, "rows", json_integer(v.rows));
	json_object_set_new(r->resp, "sealed", json_integer(v.seals));
	sodium_bin2hex(hex, sizeof(hex), v.prev, AUDIT_HASH_LEN);
	json_object_set_new(r->resp, "head", json_string(hex));
	json_object_set_new(r->resp, "head_seq", json_integer(v.last_seq));
	if (v.want_seq > 0)
		json_object_set_new(r->resp, "head_extends",
		    json_boolean(v.want_found));
	json_object_set_new(r->resp, "first_bad", v.what == NULL ?
	    json_null() : json_pack("{s:I,s:s}", "id", (json_int_t)v.bad,
	    "problem", v.what));
	e = 0;
out:
	free(v.gaps.id);
	free(v.acks.id);
	return e;
}

/*
 * The audit rows at or below "path" whose value hash is that of the
 * candidate ("value" / "value_base64").  The candidate and its hash are
 * wiped after use and never answered or recorded; the call's own row
 * has the path and the number of rows that matched.
 */
int
act_audit_hash(struct request *r)
{
	unsigned char *val = NULL, h[AUDIT_HASH_LEN];
	char hex[2 + AUDIT_HASH_LEN * 2 + 1];
	struct params p;
	size_t len = 0;
	json_t *rows;
	PGresult *res;
	int e, i, n;

	if ((e = req_path(r, "path")) != 0)
		return e;
	if (quota_exhausted(QUOTA_AUDIT_HASH, r->sess->principal_id))
		return req_fail(r, SD_ERATE, "too many audit.hash calls from "
		    "this principal (%d in %d minutes); retry later",
		    QUOTA_AUDIT_HASH_MAX, QUOTA_WINDOW_S / 60);
	quota_add(QUOTA_AUDIT_HASH, r->sess->principal_id, 1);
	if ((e = proto_get_value(r->req, r->ctx->cfg->max_value_size, &val,
	    &len, &r->why)) != 0)
		return e;
	audit_value_hash(ctx_keyring(r->ctx), val, len, h);
	freezero(val, len + 1);
	hex[0] = '\\';
	hex[1] = 'x';
	sodium_bin2hex(hex + 2, sizeof(hex) - 2, h, sizeof(h));
	sodium_memzero(h, sizeof(h));
	params_init(&p);
	params_text(&p, hex);
	sodium_memzero(hex, sizeof(hex));
	params_take(&p, store_path_param(&r->path));
	params_int(&p, HASH_ROWS_MAX + 1);
	/* freed, and the hash wiped, either way */
	if ((e = db_exec_params(r->db, ST_AUDIT_HASH_ROWS, &p, &res)) != 0)
		return e;
	rows = json_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < HASH_ROWS_MAX; i++)
		json_array_append_new(rows, row_json(res, i));
	PQclear(res);
	json_object_set_new(r->resp, "rows", rows);
	json_object_set_new(r->resp, "truncated", json_boolean(n >
	    HASH_ROWS_MAX));
	r->detail = json_pack("{s:i}", "matches", n > HASH_ROWS_MAX ?
	    HASH_ROWS_MAX : n);
	return 0;
}

/* Run a report statement with one parameter. */
static int
report_exec(struct request *r, int stmt, const char *param, PGresult **res)
{
	const char *v[1] = { param };

	return db_exec(r->db, stmt, param ? 1 : 0, v, NULL, NULL, res);
}

static json_t *
report_access(PGresult *res)
{
	json_t *out = json_array(), *cur = NULL, *groups = NULL;
	char *last_p = NULL, *last_path = NULL;
	int i, perms = 0;

	for (i = 0; i <= PQntuples(res); i++) {
		const char *p = i < PQntuples(res) ? PQgetvalue(res, i, 0) : NULL;
		const char *path = p ? PQgetvalue(res, i, 1) : NULL;

		if (cur != NULL && (p == NULL || strcmp(p, last_p) != 0 ||
		    strcmp(path, last_path) != 0)) {
			json_object_set_new(cur, "permissions",
			    acl_perms_to_json(perms, 0));
			json_object_set_new(cur, "groups", groups);
			json_array_append_new(out, cur);
			cur = NULL;
		}
		if (p == NULL)
			break;
		if (cur == NULL) {
			struct sd_path sp;

			cur = json_object();
			json_object_set_new(cur, "principal", json_string(p));
			if (store_path_from_pg(path, &sp) == 0) {
				json_object_set_new(cur, "path", path_to_json(&sp));
				path_free(&sp);
			}
			groups = json_array();
			perms = 0;
			free(last_p);
			free(last_path);
			last_p = xstrdup(p);
			last_path = xstrdup(path);
		}
		perms |= atoi(PQgetvalue(res, i, 2));
		json_array_append_new(groups, json_string(PQgetvalue(res, i, 3)));
	}
	free(last_p);
	free(last_path);
	return out;
}

int
act_audit_report(struct request *r)
{
	char since[64], stale[64], now[32];
	struct params p;
	long long secs;
	int e, has, i;
	time_t t, st;
	struct tm tm;
	json_t *a, *o;
	PGresult *res;

	if ((e = parse_when(r, "since", since, &has, &st)) != 0)
		return e;
	if (!has) {
		t = time(NULL) - 30 * 86400;
		gmtime_r(&t, &tm);
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if ((e = parse_when(r, "stale", stale, &has, &st)) != 0)
		return e;
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	secs = has ? (long long)(t - st) : 90LL * 86400;
	json_object_set_new(r->resp, "since", json_string(since));
	json_object_set_new(r->resp, "until", json_string(now));

	if ((e = report_exec(r, ST_REPORT_PRINCIPALS, since, &res)) != 0)
		return e;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I,s:I}",
		    "principal", PQgetvalue(res, i, 0),
		    "reads", (json_int_t)atoll(PQgetvalue(res, i, 1)),
		    "writes", (json_int_t)atoll(PQgetvalue(res, i, 2)),
		    "denied", (json_int_t)atoll(PQgetvalue(res, i, 3)),
		    "errors", (json_int_t)atoll(PQgetvalue(res, i, 4))));
	PQclear(res);
	json_object_set_new(r->resp, "by_principal", a);

	if ((e = report_exec(r, ST_REPORT_PATHS, since, &res)) != 0)
		return e;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I}",
		    "path", PQgetvalue(res, i, 0),
		    "reads", (json_int_t)atoll(PQgetvalue(res, i, 1)),
		    "writes", (json_int_t)atoll(PQgetvalue(res, i, 2)),
		    "denied", (json_int_t)atoll(PQgetvalue(res, i, 3))));
	PQclear(res);
	json_object_set_new(r->resp, "by_path", a);

	if ((e = report_exec(r, ST_REPORT_DAYS, since, &res)) != 0)
		return e;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I}",
		    "day", PQgetvalue(res, i, 0),
		    "ok", (json_int_t)atoll(PQgetvalue(res, i, 1)),
		    "denied", (json_int_t)atoll(PQgetvalue(res, i, 2)),
		    "error", (json_int_t)atoll(PQgetvalue(res, i, 3))));
	PQclear(res);
	json_object_set_new(r->resp, "by_day", a);

	if ((e = report_exec(r, ST_REPORT_DENIED, since, &res)) != 0)
		return e;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object();
		json_object_set_new(o, "principal", text_or_null(res, i, 0));
		json_object_set_new(o, "fingerprint", text_or_null(res, i, 1));
		json_object_set_new(o, "client_addr", text_or_null(res, i, 2));
		json_object_set_new(o, "action", text_or_null(res, i, 3));
		json_object_set_new(o, "path", path_or_null(res, i, 4));
		json_object_set_new(o, "count", int_or_null(res, i, 5));
		json_object_set_new(o, "last", text_or_null(res, i, 6));
		json_array_append_new(a, o);
	}
	PQclear(res);
	json_object_set_new(r->resp, "denied", a);

	params_init(&p);
	params_int(&p, secs);
	if ((e = db_exec_params(r->db, ST_REPORT_STALE, &p, &res)) != 0)
		return e;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object();
		json_object_set_new(o, "path", path_or_null(res, i, 0));
		json_object_set_new(o, "version", int_or_null(res, i, 1));
		json_object_set_new(o, "updated_at", text_or_null(res, i, 2));
		json_object_set_new(o, "age_days", int_or_null(res, i, 3));
		json_array_append_new(a, o);
	}
	PQclear(res);
	json_object_set_new(r->resp, "stale", a);

	if ((e = report_exec(r, ST_REPORT_ACCESS, NULL, &res)) != 0)
		return e;
	json_object_set_new(r->resp, "access", report_access(res));
	PQclear(res);
	return 0;
}

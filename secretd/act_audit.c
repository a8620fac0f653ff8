/*
 * act_audit.c - audit.query, audit.verify, audit.hash, audit.report.
 * All need the global audit permission (dispatch table).
 *
 * verify recomputes every row's MAC from what the database holds now and
 * walks the seal chain: an altered or forged row fails its MAC, a deleted
 * row leaves a seal pointing at nothing or a gap in the chain, and a
 * chain shorter than the one this daemon wrote means seals were removed.
 * It reports the first problem by row id, reading the trail by pages.
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
#include "audit.h"
#include "proto.h"
#include "store.h"
#include "xmalloc.h"

#define QUERY_LIMIT_MAX	1000
#define VERIFY_PAGE	1000	/* rows or seals audit.verify holds at once */

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

int
act_audit_query(struct request *r)
{
	char since[64], until[64], before[24], lim[16], *prefix = NULL;
	time_t te;
	const char *principal = NULL, *action = NULL, *result = NULL,
	    *cursor = NULL, *v[8];
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
	snprintf(before, sizeof(before), "%lld", cur);
	snprintf(lim, sizeof(lim), "%lld", limit);
	v[0] = has_since ? since : NULL;
	v[1] = has_until ? until : NULL;
	v[2] = principal;
	v[3] = prefix;
	v[4] = action;
	v[5] = result;
	v[6] = cursor ? before : NULL;
	v[7] = lim;
	e = db_exec(r->db, ST_AUDIT_QUERY, 8, v, NULL, NULL, &res);
	free(prefix);
	if (e != 0)
		return e;
	rows = json_array();
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		json_t *detail = NULL;

		o = json_object();
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

/* The MAC of row i of ST_AUDIT_ROWS as the database holds it now. */
static void
row_mac(const struct keyring *kr, PGresult *res, int i, unsigned char *out)
{
	struct audit_canon c = { 0 };
	struct sd_path p;
	unsigned char *h;
	size_t hl;
	int col;

	for (col = 1; col <= 14; col++) {
		if (PQgetisnull(res, i, col)) {
			audit_canon_null(&c);
		} else if (col == 5) {
			if (store_path_from_pg(PQgetvalue(res, i, col), &p) != 0)
				audit_canon_null(&c);
			else {
				audit_canon_path(&c, &p);
				path_free(&p);
			}
		} else if (col == 13) {
			h = PQunescapeBytea((unsigned char *)PQgetvalue(res, i,
			    col), &hl);
			audit_canon_field(&c, h, h ? hl : 0);
			PQfreemem(h);
		} else
			audit_canon_field(&c, PQgetvalue(res, i, col),
			    (size_t)PQgetlength(res, i, col));
	}
	audit_mac(kr, c.p, c.len, out);
	audit_canon_free(&c);
}

static int
bytea_eq(PGresult *res, int i, int col, const unsigned char *want)
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

/* What audit.verify has found so far. */
struct verify {
	const struct keyring	*kr;
	unsigned char		 prev[AUDIT_HASH_LEN];	/* the chain's hash */
	long long		 rows, seals;
	long long		 last_sealed;	/* the last seal's row id */
	int			 broken;	/* the seqs stopped following */
	long long		 bad;		/* the first problem's row id */
	const char		*what;		/* and what it is; NULL: none */
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
 * time in the order of its first column (stmt's $1: after that key;
 * $2: how many).
 */
static int
each_row(struct request *r, int stmt, struct verify *v,
    void (*each)(struct verify *, PGresult *, int))
{
	char after[24] = "0", limit[16];
	const char *p[2] = { after, limit };
	PGresult *res;
	int e, i, n;

	snprintf(limit, sizeof(limit), "%d", VERIFY_PAGE);
	do {
		if ((e = db_exec(r->db, stmt, 2, p, NULL, NULL, &res)) != 0)
			return e;
		n = PQntuples(res);
		for (i = 0; i < n; i++)
			each(v, res, i);
		if (n > 0)
			snprintf(after, sizeof(after), "%s",
			    PQgetvalue(res, n - 1, 0));
		PQclear(res);
	} while (n == VERIFY_PAGE);
	return 0;
}

/* Row i of ST_AUDIT_ROWS: its MAC must match what it holds. */
static void
verify_row(struct verify *v, PGresult *res, int i)
{
	unsigned char mac[AUDIT_HASH_LEN];

	row_mac(v->kr, res, i, mac);
	if (!bytea_eq(res, i, 15, mac))
		problem(v, atoll(PQgetvalue(res, i, 0)), "altered");
	v->rows++;
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
		if (!bytea_eq(res, i, 2, want))
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
}

/* 1 if a seal covers row id, 0 if none, -1 (e set) on error. */
static int
is_sealed(struct request *r, long long id, int *e)
{
	char v[24];
	const char *p[1] = { v };
	PGresult *res;
	int sealed;

	snprintf(v, sizeof(v), "%lld", id);
	if ((*e = db_exec(r->db, ST_AUDIT_SEALED, 1, p, NULL, NULL,
	    &res)) != 0)
		return -1;
	sealed = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return sealed;
}

/*
 * The trail is read a page of VERIFY_PAGE rows (then seals) at a time,
 * so that what verify holds does not grow with the trail; the rows
 * that no seal covers are found by the database (an anti-join).
 */
int
act_audit_verify(struct request *r)
{
	struct verify v = { .kr = ctx_keyring(r->ctx) };
	unsigned char head[AUDIT_HASH_LEN];
	char hex[AUDIT_HASH_LEN * 2 + 1];
	int64_t mem_seq;
	PGresult *res;
	int e;

	/* first: every seal it counts has committed, so is read below */
	audit_seal_head(&mem_seq, head);
	if ((e = each_row(r, ST_AUDIT_ROWS, &v, verify_row)) != 0 ||
	    (e = each_row(r, ST_AUDIT_SEALS, &v, verify_seal_row)) != 0)
		return e;
	/* seals removed from the end: this daemon wrote more than remain */
	if (mem_seq > v.seals)
		problem(&v, v.last_sealed, "missing");
	/* a row older than a minute that no seal covers: its seal is gone */
	if ((e = db_exec(r->db, ST_AUDIT_UNSEALED, 0, NULL, NULL, NULL,
	    &res)) != 0)
		return e;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		problem(&v, atoll(PQgetvalue(res, 0, 0)), "unsealed");
	PQclear(res);
	/* a row that is neither sealed nor pending and has a bad MAC was
	 * reported above as altered; call it forged if nothing sealed it */
	if (v.what != NULL && strcmp(v.what, "altered") == 0) {
		switch (is_sealed(r, v.bad, &e)) {
		case -1:
			return e;
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
	json_object_set_new(r->resp, "first_bad", v.what == NULL ?
	    json_null() : json_pack("{s:I,s:s}", "id", (json_int_t)v.bad,
	    "problem", v.what));
	return 0;
}

int
act_audit_hash(struct request *r)
{
	unsigned char *val = NULL, h[AUDIT_HASH_LEN];
	char hex[AUDIT_HASH_LEN * 2 + 1];
	size_t len = 0;
	int e;

	if ((e = proto_get_value(r->req, r->ctx->cfg->max_value_size, &val,
	    &len, &r->why)) != 0)
		return e;
	audit_value_hash(ctx_keyring(r->ctx), val, len, h);
	freezero(val, len + 1);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	json_object_set_new(r->resp, "value_hash", json_string(hex));
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
	char since[64], stale[64], now[32], secs[24];
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
	snprintf(secs, sizeof(secs), "%lld", has ? (long long)(t - st) :
	    90LL * 86400);
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

	if ((e = report_exec(r, ST_REPORT_STALE, secs, &res)) != 0)
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

/*
 * act_audit.c - audit.query, audit.verify, audit.hash, audit.report.
 * All need the global audit permission (dispatch table).
 *
 * verify recomputes every row's MAC from what the database holds now and
 * walks the seal chain: an altered or forged row fails its MAC, a deleted
 * row leaves a seal pointing at nothing or a gap in the chain, and a
 * chain shorter than the one this daemon wrote means seals were removed.
 * It reports the first problem by row id.
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

static void
problem(long long *bad_id, const char **what, long long id, const char *p)
{
	if (*bad_id == 0 || id < *bad_id) {
		*bad_id = id;
		*what = p;
	}
}

int
act_audit_verify(struct request *r)
{
	const struct keyring *kr = ctx_keyring(r->ctx);
	unsigned char mac[AUDIT_HASH_LEN], prev[AUDIT_HASH_LEN] = { 0 },
	    want[AUDIT_HASH_LEN], head[AUDIT_HASH_LEN];
	char hex[AUDIT_HASH_LEN * 2 + 1];
	const char *what = NULL;
	long long bad = 0, id;
	int64_t mem_seq;
	PGresult *rows, *seals;
	int e, i, nrows, nseals;

	if ((e = db_exec(r->db, ST_AUDIT_ROWS, 0, NULL, NULL, NULL, &rows)) != 0)
		return e;
	if ((e = db_exec(r->db, ST_AUDIT_SEALS, 0, NULL, NULL, NULL,
	    &seals)) != 0) {
		PQclear(rows);
		return e;
	}
	nrows = PQntuples(rows);
	nseals = PQntuples(seals);
	/* every row: its MAC must match what it holds */
	for (i = 0; i < nrows; i++) {
		id = atoll(PQgetvalue(rows, i, 0));
		row_mac(kr, rows, i, mac);
		if (!bytea_eq(rows, i, 15, mac))
			problem(&bad, &what, id, "altered");
	}
	/* the chain: consecutive seqs, each hash over the previous */
	for (i = 0; i < nseals; i++) {
		id = atoll(PQgetvalue(seals, i, 1));
		if (atoll(PQgetvalue(seals, i, 0)) != i + 1) {
			problem(&bad, &what, id, "chain");
			break;
		}
		if (PQgetisnull(seals, i, 3)) {
			problem(&bad, &what, id, "missing");
			memcpy(prev, want, 0);
		} else {
			unsigned char *m;
			size_t ml;

			m = PQunescapeBytea((unsigned char *)PQgetvalue(seals,
			    i, 3), &ml);
			if (m != NULL && ml == AUDIT_HASH_LEN)
				audit_seal_hash(kr, prev, id, m, want);
			else
				memset(want, 0, sizeof(want));
			PQfreemem(m);
			if (!bytea_eq(seals, i, 2, want))
				problem(&bad, &what, id, "chain");
		}
		/* go on from what is stored, to find later breaks too */
		{
			unsigned char *h;
			size_t hl;

			h = PQunescapeBytea((unsigned char *)PQgetvalue(seals,
			    i, 2), &hl);
			if (h != NULL && hl == AUDIT_HASH_LEN)
				memcpy(prev, h, AUDIT_HASH_LEN);
			PQfreemem(h);
		}
	}
	/* seals removed from the end: this daemon wrote more than remain */
	audit_seal_head(&mem_seq, head);
	if (mem_seq > nseals)
		problem(&bad, &what, nseals > 0 ?
		    atoll(PQgetvalue(seals, nseals - 1, 1)) : 0, "missing");
	/* a row older than a minute that no seal covers: its seal is gone */
	for (i = 0; i < nrows; i++) {
		int k, sealed = 0;

		if (strcmp(PQgetvalue(rows, i, 16), "t") != 0)
			continue;
		id = atoll(PQgetvalue(rows, i, 0));
		for (k = 0; k < nseals && !sealed; k++)
			sealed = atoll(PQgetvalue(seals, k, 1)) == id;
		if (!sealed)
			problem(&bad, &what, id, "unsealed");
	}
	/* a row that is neither sealed nor pending and has a bad MAC was
	 * reported above as altered; call it forged if nothing sealed it */
	if (bad != 0 && what != NULL && strcmp(what, "altered") == 0) {
		int sealed = 0;

		for (i = 0; i < nseals && !sealed; i++)
			sealed = atoll(PQgetvalue(seals, i, 1)) == bad;
		if (!sealed)
			what = "forged";
	}
	json_object_set_new(r->resp, "intact", json_boolean(bad == 0));
	json_object_set_new(r->resp, "rows", json_integer(nrows));
	json_object_set_new(r->resp, "sealed", json_integer(nseals));
	sodium_bin2hex(hex, sizeof(hex), prev, AUDIT_HASH_LEN);
	json_object_set_new(r->resp, "head", json_string(hex));
	json_object_set_new(r->resp, "first_bad", bad == 0 ? json_null() :
	    json_pack("{s:I,s:s}", "id", (json_int_t)bad, "problem", what));
	PQclear(rows);
	PQclear(seals);
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

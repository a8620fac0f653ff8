/*
 * act_batch.c - secret.get_many: many values in one request, for hosts
 * fetching their credentials at boot.
 *
 * By list: one result per path, each checked on its own; a forbidden
 * path gets permission_denied whether it exists or not, and does not fail
 * the batch.  By prefix: the caller needs discover or read at the prefix;
 * the readable live values below it come back in path order, with
 * permissions accumulated down the tree in one query.  Every item read
 * (or not found) is its own audit row; the denied paths of a list share
 * one row (their count and the first DENIED_SHOWN of them), so that a
 * principal without a grant cannot write 10 000 rows per request, and
 * count toward the principal's denial budget (quota.h): once it is
 * spent, the rest of the list is not read (rate_limited each) and the
 * next get_many answers rate_limited.
 *
 * An answer is bounded in bytes as well as in items (ANSWER_MAX): by
 * prefix it stops early and says "truncated"; by list, the paths past
 * the bound are not read and each gets its own too_large entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "actions.h"
#include "pg_array.h"
#include "proto.h"
#include "quota.h"
#include "store.h"
#include "xmalloc.h"

#define BATCH_MAX	10000

/*
 * The results of one answer take at most this many bytes of JSON, so
 * that the line stays well under what every reader of it accepts
 * (PROTO_MAX_LINE_CAP) and one request cannot make secretd hold much
 * more.  Past it a list's paths still get their too_large entries, which
 * echo no more than the request's own paths.
 */
#define ANSWER_MAX	(8 * 1024 * 1024)

#define ANSWER_FULL	"the answer is full; ask for this path again"

#define DENIED_SHOWN	5	/* denied paths named in their audit row */

/*
 * The denied paths of a list, for their one audit row.  Once the
 * principal's budget is spent (left), the paths after are not read at
 * all: each answers rate_limited, and the same row counts them.
 */
struct denied {
	long		 n, left, unchecked;
	struct sd_path	 first;
	json_t		*shown;		/* the first DENIED_SHOWN paths */
};

/* The bytes o takes in the answer line. */
static size_t
item_size(const json_t *o)
{
	return json_dumpb(o, NULL, 0, JSON_COMPACT) + 1;	/* its comma */
}

static json_t *
item_error(const struct sd_path *p, int err, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "path", path_to_json(p));
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "error", json_pack("{s:s,s:s}", "code",
	    sd_err_code(err), "message", msg));
	return o;
}

/* The value in row: version at vcol, key id/nonce/ciphertext from kcol,
 * time and author from tcol. */
static json_t *
item_value(struct request *r, const struct sd_path *p, PGresult *res,
    int row, int vcol, int kcol, int tcol, long long node, int *err)
{
	unsigned char *pt = NULL;
	size_t plen = 0;
	int version = atoi(PQgetvalue(res, row, vcol));
	json_t *o;

	if ((*err = req_open_value(r, node, version, res, row, kcol, &pt,
	    &plen)) != 0)
		return item_error(p, *err, r->why);
	o = json_object();
	json_object_set_new(o, "path", path_to_json(p));
	json_object_set_new(o, "ok", json_true());
	proto_set_value(o, pt, plen);
	freezero(pt, plen + 1);
	json_object_set_new(o, "version", json_integer(version));
	json_object_set_new(o, "updated_at",
	    json_string(PQgetvalue(res, row, tcol)));
	json_object_set_new(o, "updated_by",
	    json_string(PQgetvalue(res, row, tcol + 1)));
	return o;
}

/*
 * One path of a list: the same checks and answers as secret.get.  *used
 * counts the answer's bytes so far; a path past ANSWER_MAX is not read,
 * and a value that would take the answer past it is not sent: either
 * gets too_large.
 */
static json_t *
get_one(struct request *r, const json_t *jp, size_t *used, struct denied *dn,
    const PGresult *res, int row)
{
	struct sd_path p = { 0 };
	const char *why = NULL;
	json_t *o;
	size_t sz;
	int e, version = -1;

	if (path_from_json(jp, &p, &why) != 0) {
		/* echo what was sent: there is no valid path to show */
		o = item_error(&p, SD_EBADREQ, why);
		json_object_set_new(o, "path", json_deep_copy(jp));
		*used += item_size(o);
		return o;
	}
	if (*used >= ANSWER_MAX) {
		e = SD_ETOOLARGE;
		o = item_error(&p, e, ANSWER_FULL);
		goto done;
	}
	if (dn->n >= dn->left) {
		e = SD_ERATE;
		o = item_error(&p, e, "too many denied paths; not checked");
		goto done;
	}
	e = 0;
	if (!acl_allows(atoi(PQgetvalue(res, row, 0)), PERM_READ)) {
		e = SD_EPERM;
		r->refused = 1;		/* revoked? (revoke.h) */
		o = item_error(&p, e, "no read access at this path");
	} else if (PQgetisnull(res, row, 1) || PQgetisnull(res, row, 2) ||
	    strcmp(PQgetvalue(res, row, 3), "t") == 0 ||
	    PQgetisnull(res, row, 6)) {
		e = SD_ENOTFOUND;
		o = item_error(&p, e, "no value at this path");
	} else {
		version = atoi(PQgetvalue(res, row, 2));
		o = item_value(r, &p, (PGresult *)res, row, 2, 4, 7,
		    strtoll(PQgetvalue(res, row, 1), NULL, 10), &e);
	}
done:
	sz = item_size(o);
	if (e == 0 && sz > ANSWER_MAX - *used) {
		/* read, but not sent (the row says so); the answer is full */
		json_decref(o);
		e = SD_ETOOLARGE;
		version = -1;
		o = item_error(&p, e, ANSWER_FULL);
		sz = item_size(o);
		*used = ANSWER_MAX;
	}
	*used += sz;
	if (e == SD_EPERM) {
		if (dn->n++ == 0)
			path_copy(&dn->first, &p);
		if (json_array_size(dn->shown) < DENIED_SHOWN)
			json_array_append_new(dn->shown, path_to_json(&p));
	} else if (e == SD_ERATE)
		dn->unchecked++;
	else
		req_audit_item(r, &p, version, e);
	path_free(&p);
	return o;
}

/* The one row of a list's denials; they count toward the budget. */
static void
denied_audit(struct request *r, struct denied *dn)
{
	json_t *detail;

	if (dn->n > 0) {
		detail = json_pack("{s:I,s:O}", "denied", (json_int_t)dn->n,
		    "paths", dn->shown);
		if (dn->unchecked > 0)
			json_object_set_new(detail, "unchecked",
			    json_integer(dn->unchecked));
		req_audit_item_detail(r, &dn->first, -1, SD_EPERM, detail);
		quota_add(QUOTA_DENIALS, r->sess->principal_id, dn->n);
	}
	json_decref(dn->shown);
	path_free(&dn->first);
}

/*
 * Every valid path of the list read by one get_many statement (the
 * walk for a batch), a row per path in order; then each answered as
 * secret.get would.  Paths whose answer is not sent (past ANSWER_MAX or
 * the denial budget) are read but never opened.
 */
static int
read_list(struct request *r, const json_t *paths, PGresult **res, int **row)
{
	struct pg_array col[4];
	struct params who;
	struct sd_path p;
	const char *why, *v[4];
	const json_t *jp;
	char *param;
	size_t i;
	int k, n = 0, e;

	*row = xcalloc(json_array_size(paths) + 1, sizeof(**row));
	params_init(&who);		/* the same caller in every row */
	params_principal(&who, r);
	params_key(&who, r);
	for (k = 0; k < 4; k++)
		pg_array_init(&col[k]);
	json_array_foreach(paths, i, jp) {
		memset(&p, 0, sizeof(p));
		why = NULL;
		if (path_from_json(jp, &p, &why) != 0) {
			(*row)[i] = -1;
			continue;
		}
		param = store_path_param(&p);
		pg_array_text(&col[0], who.v[0]);
		pg_array_text(&col[1], param);
		pg_array_null(&col[2]);
		pg_array_text(&col[3], who.v[1]);
		free(param);
		path_free(&p);
		(*row)[i] = n++;
	}
	for (k = 0; k < 4; k++)
		v[k] = pg_array_str(&col[k]);
	e = db_exec(r->db, ST_GET_MANY, 4, v, NULL, NULL, res);
	for (k = 0; k < 4; k++)
		pg_array_free(&col[k]);
	params_free(&who);
	if (e == 0 && PQntuples(*res) != n) {
		e = req_fail(r, SD_EINTERNAL, "get_many: %d rows for %d paths",
		    PQntuples(*res), n);
		PQclear(*res);
	}
	if (e != 0) {
		free(*row);
		*row = NULL;
	}
	return e;
}

static int
by_list(struct request *r, const json_t *paths)
{
	struct denied dn = { 0 };
	json_t *results, *jp;
	PGresult *res;
	size_t i, used = 0;
	int e, *row;

	if (json_array_size(paths) > BATCH_MAX)
		return req_fail(r, SD_ETOOLARGE, "at most %d paths", BATCH_MAX);
	if ((e = read_list(r, paths, &res, &row)) != 0)
		return e;
	results = json_array();
	dn.shown = json_array();
	dn.left = quota_left(QUOTA_DENIALS, r->sess->principal_id);
	json_array_foreach(paths, i, jp)
		json_array_append_new(results, get_one(r, jp, &used, &dn,
		    res, row[i]));
	PQclear(res);
	free(row);
	denied_audit(r, &dn);
	json_object_set_new(r->resp, "results", results);
	return 0;
}

static int
by_prefix(struct request *r)
{
	struct sd_path rel, full;
	struct params p;
	long long node, total;
	size_t used = 0;
	int e, perms, recursive = 0, i, k, n;
	json_t *results;
	PGresult *res;

	if ((e = proto_get_bool(r->req, "recursive", 0, &recursive,
	    &r->why)) != 0 ||
	    (e = req_path(r, "prefix")) != 0 ||
	    (e = req_node_perms(r, &perms, &node)) != 0)
		return e;
	if (!(perms & (PERM_DISCOVER | PERM_READ))) {
		quota_add(QUOTA_DENIALS, r->sess->principal_id, 1);
		return req_fail(r, SD_EPERM, "no discover or read access at "
		    "this prefix");
	}
	results = json_array();
	json_object_set_new(r->resp, "results", results);
	if (node == 0)
		return 0;
	params_init(&p);
	params_principal(&p, r);
	params_int(&p, node);
	params_int(&p, perms);
	params_text(&p, recursive ? "true" : "false");
	params_int(&p, BATCH_MAX + 1);
	params_int(&p, PERM_READ);
	params_int(&p, ANSWER_MAX);
	params_key(&p, r);
	if ((e = db_exec_params(r->db, ST_GET_TREE, &p, &res)) != 0)
		return e;
	n = PQntuples(res);
	total = n > 0 ? strtoll(PQgetvalue(res, 0, 9), NULL, 10) : 0;
	for (i = 0; i < n && i < BATCH_MAX; i++) {
		json_t *o;
		size_t sz;
		int ie;

		if (!acl_allows(atoi(PQgetvalue(res, i, 1)), PERM_READ))
			continue;
		if (store_path_from_pg(PQgetvalue(res, i, 0), &rel) != 0)
			continue;
		memset(&full, 0, sizeof(full));
		for (k = 0; k < r->path.n && full.n < PATH_MAX_DEPTH; k++)
			full.name[full.n++] = r->path.name[k];
		for (k = 0; k < rel.n && full.n < PATH_MAX_DEPTH; k++)
			full.name[full.n++] = rel.name[k];
		o = item_value(r, &full, res, i, 2, 3, 6,
		    strtoll(PQgetvalue(res, i, 8), NULL, 10), &ie);
		if ((sz = item_size(o)) > ANSWER_MAX - used) {
			/* the answer is full: this one is not sent */
			json_decref(o);
			path_free(&rel);
			break;
		}
		used += sz;
		req_audit_item(r, &full, atoi(PQgetvalue(res, i, 2)), ie);
		json_array_append_new(results, o);
		path_free(&rel);
	}
	PQclear(res);
	/* stopped short, or the statement held some back (see ST_GET_TREE) */
	if (i < total)
		json_object_set_new(r->resp, "truncated", json_true());
	return 0;
}

int
act_secret_get_many(struct request *r)
{
	const json_t *paths = json_object_get(r->req, "paths");

	if (quota_exhausted(QUOTA_DENIALS, r->sess->principal_id))
		return req_fail(r, SD_ERATE, "too many denied paths from this "
		    "principal (%d in %d minutes); retry later",
		    QUOTA_DENIALS_MAX, QUOTA_WINDOW_S / 60);
	if (paths != NULL && json_object_get(r->req, "prefix") != NULL)
		return req_fail(r, SD_EBADREQ, "paths and prefix are exclusive");
	if (paths != NULL) {
		if (!json_is_array(paths))
			return req_fail(r, SD_EBADREQ, "paths must be an array "
			    "of paths");
		return by_list(r, paths);
	}
	if (json_object_get(r->req, "prefix") == NULL)
		return req_fail(r, SD_EBADREQ, "paths or prefix missing");
	return by_prefix(r);
}

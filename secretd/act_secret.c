/*
 * act_secret.c - secret.get, put, list, history, delete.
 *
 * Every handler checks the caller's permission at the path before it
 * looks at anything else, and answers permission_denied the same way
 * whether or not the path exists (no existence leak).  Plaintext exists
 * only between open_value/seal_value and the response or the client's
 * buffer, and is wiped on every path out.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "acl.h"
#include "actions.h"
#include "pg_array.h"
#include "get_hint.h"
#include "log.h"
#include "proto.h"
#include "store.h"
#include "xmalloc.h"

#define LIST_MAX	10000

static int
denied(struct request *r, const char *what)
{
	return req_fail(r, SD_EPERM, "no %s access at this path", what);
}

/*
 * secret.get is a plan (struct plan): act_secret_get_plan checks the
 * request and names its one statement, get_many (the walk, the
 * permission and the version, for a batch of reads: a row per read);
 * get_finish turns its row into the answer.  Alone, a get that can
 * guess the version it will read (the one asked for, or get_hint's)
 * sends its audit row with the statement: get_audited.
 */
static int
get_finish(struct request *r, const struct plan *pl, const PGresult *res,
    int row)
{
	long long want = pl->arg;
	unsigned char *pt = NULL;
	size_t plen = 0;
	long long node;
	int e, version;

	if (!acl_allows(atoi(PQgetvalue(res, row, 0)), PERM_READ))
		return denied(r, "read");
	if (want > 0)
		r->version = want;
	if (PQgetisnull(res, row, 1) || PQgetisnull(res, row, 2))
		return req_fail(r, SD_ENOTFOUND, want > 0 ?
		    "no such version" : "no value at this path");
	node = strtoll(PQgetvalue(res, row, 1), NULL, 10);
	version = atoi(PQgetvalue(res, row, 2));
	r->version = version;
	if (strcmp(PQgetvalue(res, row, 3), "t") == 0)
		return req_fail(r, SD_ENOTFOUND, want > 0 ? "version %d is a "
		    "deletion" : "the value was deleted (version %d)", version);
	if (PQgetisnull(res, row, 6))
		return req_fail(r, SD_ENOTFOUND, "version %d was destroyed",
		    version);
	if ((e = req_open_value(r, node, version, res, row, 4, &pt,
	    &plen)) != 0)
		return e;
	json_object_set_new(r->resp, "path", path_to_json(&r->path));
	proto_set_value(r->resp, pt, plen);
	freezero(pt, plen + 1);
	json_object_set_new(r->resp, "version", json_integer(version));
	json_object_set_new(r->resp, "updated_at",
	    json_string(PQgetvalue(res, row, 7)));
	json_object_set_new(r->resp, "updated_by",
	    json_string(PQgetvalue(res, row, 8)));
	if (want == 0)
		get_hint_store(pl->p.v[1], version);
	return 0;
}

/* The version a lone get expects: the one asked for, or get_hint's. */
static int
get_guess(const struct plan *pl)
{
	return pl->arg > 0 ? (int)pl->arg : get_hint_lookup(pl->p.v[1]);
}

int
act_secret_get_plan(struct request *r, struct plan *pl)
{
	long long want = 0;
	int e;

	if ((e = req_path(r, "path")) != 0 ||
	    (e = proto_get_int(r->req, "version", 0, 1, INT_MAX, &want,
	    &r->why)) != 0)
		return e;
	pl->stmt = ST_GET_MANY;
	pl->stmt_one = ST_GET_ONE;
	params_principal(&pl->p, r);
	params_take(&pl->p, store_path_param(&r->path));
	if (want > 0)
		params_int(&pl->p, want);
	else
		params_null(&pl->p);
	params_key(&pl->p, r);
	pl->arg = want;
	pl->finish = get_finish;
	pl->audited_stmt = ST_GET_AUDITED;
	pl->audited_perm = PERM_READ;
#ifdef SECRETD_NO_GET_HINT
	/* make bench's second secretd: a lone get never guesses, so that
	 * the bench can show what guessing is worth (get_hint_p50_ratio) */
	pl->guess = NULL;
	(void)get_guess;
#else
	pl->guess = get_guess;
#endif
	return 0;
}

/*
 * secret.put is a plan as well.  Its statement, put_lock, checks write
 * permission, walks the path and locks the node, all or nothing.
 * put_write does the rest once the node is locked: the value, the
 * check-and-set, sealing, and adding the new version to the
 * transaction (sent with the audit row and the COMMIT).
 */
static int
put_write(struct request *r, long long cas, long long node, int current,
    int live)
{
	unsigned char *val = NULL;
	size_t len = 0;
	int e;

	if ((e = proto_get_value(r->req, r->ctx->cfg->max_value_size, &val,
	    &len, &r->why)) != 0)
		return e;	/* rolled back: the path is not created */
	if (cas >= 0 && (cas == 0 ? live : cas != current)) {
		e = req_fail(r, SD_ECONFLICT, "check-and-set failed: the "
		    "current version is %d%s", current, live ? "" :
		    " (no value)");
		goto out;
	}
	r->version = current + 1;
	if ((e = req_put_sealed(r, node, current + 1, val, len)) != 0)
		goto out;
	json_object_set_new(r->resp, "version", json_integer(current + 1));
out:
	freezero(val, len);
	return e;
}

/*
 * put_lock's row: 0 with the node locked; DEFER_ALONE when the path
 * must be created first or was removed (*node left 0), or when the row
 * must be read again (stale: a writer committed while we waited for the
 * lock; *node set); else an error.
 */
static int
put_lock_row(struct request *r, const PGresult *res, int row,
    long long *node, int *current, int *live)
{
	if (!acl_allows(atoi(PQgetvalue(res, row, 0)), PERM_WRITE))
		return denied(r, "write");
	if (PQgetisnull(res, row, 2))
		return DEFER_ALONE;
	*node = strtoll(PQgetvalue(res, row, 2), NULL, 10);
	*current = atoi(PQgetvalue(res, row, 3));
	*live = strcmp(PQgetvalue(res, row, 4), "t") == 0;
	return strcmp(PQgetvalue(res, row, 5), "t") == 0 ? DEFER_ALONE : 0;
}

static int
put_finish(struct request *r, const struct plan *pl, const PGresult *res,
    int row)
{
	long long node = 0;
	int e, current = 0, live = 0;

	if ((e = put_lock_row(r, res, row, &node, &current, &live)) != 0)
		return e;
	return put_write(r, pl->arg, node, current, live);
}

int
act_secret_put_plan(struct request *r, struct plan *pl)
{
	long long cas = -1;
	int e;

	if ((e = req_path(r, "path")) != 0)
		return e;
	if (r->path.n == 0)
		return req_fail(r, SD_EBADREQ, "the root cannot hold a value");
	if ((e = proto_get_int(r->req, "cas", 0, 0, INT_MAX, &cas,
	    &r->why)) != 0)
		return e;
	pl->stmt = ST_PUT_LOCK;
	pl->stmt_one = ST_PUT_LOCK_ONE;
	params_principal(&pl->p, r);
	params_take(&pl->p, store_path_param(&r->path));
	params_int(&pl->p, PERM_WRITE);
	params_key(&pl->p, r);
	pl->arg = cas;
	pl->finish = put_finish;
	pl->lock_key = pl->p.v[1];
	return 0;
}

/*
 * Whole, when the plan could not do it: put_lock, and when the path is
 * missing, sd_ensure_path and put_lock again; a put that waited behind
 * another writer reads its row again, lock in hand.  Nothing is created
 * or locked unless the caller may write here.
 */
int
act_secret_put(struct request *r)
{
	struct plan pl;
	long long node = 0;
	int e, try, exists, created = 0, current = 0, live = 0;
	PGresult *res;

	memset(&pl, 0, sizeof(pl));
	if ((e = act_secret_put_plan(r, &pl)) != 0)
		goto out;
	for (try = 0;; try++) {
		if ((e = db_exec(r->db, pl.stmt_one, pl.p.n, pl.p.v, NULL,
		    NULL, &res)) != 0)
			break;
		exists = !PQgetisnull(res, 0, 1);
		node = 0;
		e = put_lock_row(r, res, 0, &node, &current, &live);
		PQclear(res);
		if (e != DEFER_ALONE)
			break;
		if (node != 0 && try < 2)
			continue;	/* stale: read again, lock in hand */
		if (exists || created || try == 2) {
			e = req_fail(r, SD_ENOTFOUND, "no such path");
			break;		/* removed under our feet */
		}
		if ((e = db_exec(r->db, ST_ENSURE_PATH, 1, &pl.p.v[1], NULL,
		    NULL, &res)) != 0)
			break;
		PQclear(res);
		created = 1;
	}
	if (e == 0)
		e = put_write(r, pl.arg, node, current, live);
out:
	plan_free(&pl);
	return e;
}

/* The caller needs discover here and a node must exist. */
static int
need_node(struct request *r, int perm, const char *what, long long *node)
{
	int e, perms;

	if ((e = req_path(r, "path")) != 0 ||
	    (e = req_node_perms(r, &perms, node)) != 0)
		return e;
	if (!acl_allows(perms, perm))
		return denied(r, what);
	if (*node == 0)
		return req_fail(r, SD_ENOTFOUND, "no such path");
	return 0;
}

static json_t *
list_entry(const struct request *r, PGresult *res, int row)
{
	struct sd_path rel, full;
	json_t *o = json_object();
	int i;

	memset(&full, 0, sizeof(full));
	if (store_path_from_pg(PQgetvalue(res, row, 0), &rel) != 0)
		return o;
	for (i = 0; i < r->path.n && full.n < PATH_MAX_DEPTH; i++)
		full.name[full.n++] = r->path.name[i];
	for (i = 0; i < rel.n && full.n < PATH_MAX_DEPTH; i++)
		full.name[full.n++] = rel.name[i];
	json_object_set_new(o, "path", path_to_json(&full));
	path_free(&rel);
	json_object_set_new(o, "has_value",
	    json_boolean(strcmp(PQgetvalue(res, row, 1), "t") == 0));
	json_object_set_new(o, "version", PQgetisnull(res, row, 2) ?
	    json_null() : json_integer(atoi(PQgetvalue(res, row, 2))));
	json_object_set_new(o, "updated_at", PQgetisnull(res, row, 3) ?
	    json_null() : json_string(PQgetvalue(res, row, 3)));
	json_object_set_new(o, "children",
	    json_integer(atoll(PQgetvalue(res, row, 4))));
	return o;
}

int
act_secret_list(struct request *r)
{
	struct params p;
	long long node;
	int e, recursive = 0, i, n;
	json_t *entries;
	PGresult *res;

	if ((e = proto_get_bool(r->req, "recursive", 0, &recursive,
	    &r->why)) != 0 ||
	    (e = need_node(r, PERM_DISCOVER, "discover", &node)) != 0)
		return e;
	params_init(&p);
	params_int(&p, node);
	params_int(&p, LIST_MAX + 1);
	if ((e = db_exec_params(r->db, recursive ? ST_LIST_TREE : ST_LIST, &p,
	    &res)) != 0)
		return e;
	entries = json_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < LIST_MAX; i++)
		json_array_append_new(entries, list_entry(r, res, i));
	PQclear(res);
	json_object_set_new(r->resp, "entries", entries);
	if (n > LIST_MAX)
		json_object_set_new(r->resp, "truncated", json_true());
	return 0;
}

int
act_secret_history(struct request *r)
{
	struct params p;
	const char *state;
	long long node;
	int e, i, n, current;
	json_t *versions, *o;
	PGresult *res;

	if ((e = need_node(r, PERM_DISCOVER, "discover", &node)) != 0)
		return e;
	params_init(&p);
	params_int(&p, node);
	if ((e = db_exec_params(r->db, ST_HISTORY, &p, &res)) != 0)
		return e;
	if ((n = PQntuples(res)) == 0) {
		PQclear(res);
		return req_fail(r, SD_ENOTFOUND, "no versions at this path");
	}
	versions = json_array();
	current = atoi(PQgetvalue(res, 0, 5));
	for (i = 0; i < n; i++) {
		int ver = atoi(PQgetvalue(res, i, 0));

		if (strcmp(PQgetvalue(res, i, 1), "t") == 0)
			state = "deleted";
		else if (strcmp(PQgetvalue(res, i, 2), "t") == 0)
			state = "destroyed";
		else
			state = ver == current ? "current" : "previous";
		o = json_object();
		json_object_set_new(o, "version", json_integer(ver));
		json_object_set_new(o, "state", json_string(state));
		json_object_set_new(o, "created_at",
		    json_string(PQgetvalue(res, i, 3)));
		json_object_set_new(o, "created_by",
		    json_string(PQgetvalue(res, i, 4)));
		json_array_append_new(versions, o);
	}
	PQclear(res);
	json_object_set_new(r->resp, "versions", versions);
	return 0;
}

int
act_secret_delete(struct request *r)
{
	struct params p;
	long long node;
	int e, recursive = 0, current, live, n;
	PGresult *res;

	if ((e = proto_get_bool(r->req, "recursive", 0, &recursive,
	    &r->why)) != 0 ||
	    (e = need_node(r, PERM_WRITE, "write", &node)) != 0)
		return e;
	if (recursive) {
		params_init(&p);
		params_int(&p, node);
		params_text(&p, r->sess->principal);
		params_int(&p, r->ctx->cfg->max_versions);
		if ((e = db_exec_params(r->db, ST_DELETE_TREE, &p, &res)) != 0)
			return e;
		n = PQntuples(res);
		PQclear(res);
		if (n == 0)
			return req_fail(r, SD_ENOTFOUND, "no values to delete");
		json_object_set_new(r->resp, "deleted", json_integer(n));
		return 0;
	}
	if ((e = req_lock_node(r, node, &current, &live)) != 0)
		return e;
	if (!live)
		return req_fail(r, SD_ENOTFOUND, "no value to delete");
	params_init(&p);
	params_int(&p, node);
	params_int(&p, current + 1);
	params_text(&p, r->sess->principal);
	params_int(&p, r->ctx->cfg->max_versions);
	if ((e = db_run_params(r->db, ST_TOMBSTONE, &p)) != 0)
		return e;
	r->version = current + 1;
	json_object_set_new(r->resp, "deleted", json_integer(1));
	json_object_set_new(r->resp, "version", json_integer(current + 1));
	return 0;
}

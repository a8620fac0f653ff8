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
#include "audit.h"
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
 * secret.get in two halves: act_secret_get_read checks the request and
 * names the one statement it needs, get_finish turns its result into the
 * answer.  act_secret_get runs both on the request's own connection; under
 * load the audit writer runs the statements of many gets in one round
 * trip and finishes each there (audit_submit_read).
 */
static int
get_finish(struct request *r, const struct deferred_read *rd,
    const PGresult *res, int row)
{
	long long want = rd->arg;
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
	return 0;
}

int
act_secret_get_read(struct request *r, struct deferred_read *rd)
{
	long long want = 0;
	int e;

	memset(rd, 0, sizeof(*rd));
	if ((e = req_path(r, "path")) != 0 ||
	    (e = proto_get_int(r->req, "version", 0, 1, INT_MAX, &want,
	    &r->why)) != 0)
		return e;
	rd->stmt = ST_GET;
	rd->batch_stmt = ST_GET_MANY;
	rd->n = 4;
	rd->arg = want;
	/* owned copies: another thread may send them */
	rd->v[0] = rd->own[0] = xstrdup(req_principal_param(r));
	rd->v[1] = rd->own[1] = store_path_param(&r->path);
	if (want > 0) {
		rd->own[2] = xmalloc(16);
		snprintf(rd->own[2], 16, "%lld", want);
		rd->v[2] = rd->own[2];
	}
	rd->v[3] = rd->own[3] = xstrdup(req_key_param(r));
	rd->finish = get_finish;
	return 0;
}

/*
 * A lone get that can guess the version it will read (the one asked
 * for, or get_hint's) sends its row of success with its statement
 * (ST_GET_AUDITED): one round trip, which commits the row when the read
 * is as guessed.  Else the caller writes the row as usual.
 */
static int
get_audited(struct request *r, const struct deferred_read *rd, int expect,
    PGresult **res)
{
	const char *lead[6];
	char vbuf[16], pbuf[16];
	int e;

	snprintf(vbuf, sizeof(vbuf), "%d", expect);
	snprintf(pbuf, sizeof(pbuf), "%d", PERM_READ);
	lead[0] = rd->v[0];
	lead[1] = rd->v[1];
	lead[2] = rd->v[2];
	lead[3] = rd->v[3];
	lead[4] = vbuf;
	lead[5] = pbuf;
	r->version = expect;	/* as the row says */
	e = audit_exec_with_row(r, ST_GET_AUDITED, 6, lead, 9, res);
	r->version = -1;
	return e;
}

int
act_secret_get(struct request *r)
{
	struct deferred_read rd;
	PGresult *res;
	int e, expect = 0;

	if ((e = act_secret_get_read(r, &rd)) != 0)
		goto out;
	if (r->lone_action != NULL)
		expect = rd.arg > 0 ? (int)rd.arg : get_hint_lookup(rd.v[1]);
	/* without a guess, or if that failed (its errors are ST_GET's, or
	 * the audit row's, told apart only by running them apart) */
	if (expect == 0 || get_audited(r, &rd, expect, &res) != 0)
		e = db_exec(r->db, rd.stmt, rd.n, rd.v, NULL, NULL, &res);
	if (e == 0) {
		e = rd.finish(r, &rd, res, 0);
		PQclear(res);
	}
	if (e == 0 && rd.arg == 0)
		get_hint_store(rd.v[1], (int)r->version);
out:
	deferred_read_free(&rd);
	return e;
}

/*
 * secret.put in two halves as well.  Its first statement, put_lock,
 * checks write permission, walks the path and locks the node, all or
 * nothing.  put_write does the rest once the node is locked: the value,
 * the check-and-set, sealing, and queueing the new version (sent with
 * the audit row and the COMMIT).
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

/* The batched second half (write_batch.c). */
static int
put_finish(struct request *r, const struct deferred_read *rd,
    const PGresult *res, int row)
{
	long long node = 0;
	int e, current = 0, live = 0;

	if ((e = put_lock_row(r, res, row, &node, &current, &live)) != 0)
		return e;
	return put_write(r, rd->arg, node, current, live);
}

int
act_secret_put_lock(struct request *r, struct deferred_read *rd)
{
	long long cas = -1;
	int e;

	memset(rd, 0, sizeof(*rd));
	if ((e = req_path(r, "path")) != 0)
		return e;
	if (r->path.n == 0)
		return req_fail(r, SD_EBADREQ, "the root cannot hold a value");
	if ((e = proto_get_int(r->req, "cas", 0, 0, INT_MAX, &cas,
	    &r->why)) != 0)
		return e;
	rd->stmt = ST_PUT_LOCK;		/* arrays, alone too */
	rd->batch_stmt = ST_PUT_LOCK;
	rd->n = 4;
	rd->arg = cas;
	rd->v[0] = rd->own[0] = xstrdup(req_principal_param(r));
	rd->v[1] = rd->own[1] = store_path_param(&r->path);
	rd->own[2] = xmalloc(16);
	snprintf(rd->own[2], 16, "%d", PERM_WRITE);
	rd->v[2] = rd->own[2];
	rd->v[3] = rd->own[3] = xstrdup(req_key_param(r));
	rd->finish = put_finish;
	return 0;
}

/*
 * Alone: put_lock, and when the path is missing, sd_ensure_path and
 * put_lock again; a put that waited behind another writer reads its row
 * again, lock in hand.  Nothing is created or locked unless the caller
 * may write here.
 */
int
act_secret_put(struct request *r)
{
	struct deferred_read rd;
	const struct deferred_read *one = &rd;
	struct pg_array col[4];
	const char *v[4];
	long long node = 0;
	int e, k, try, exists, created = 0, current = 0, live = 0;
	PGresult *res;

	if ((e = act_secret_put_lock(r, &rd)) != 0)
		goto out;
	deferred_read_arrays(&one, 1, col, v);
	for (try = 0;; try++) {
		if ((e = db_exec(r->db, rd.stmt, rd.n, v, NULL, NULL,
		    &res)) != 0)
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
		if ((e = db_exec(r->db, ST_ENSURE_PATH, 1, &rd.v[1], NULL,
		    NULL, &res)) != 0)
			break;
		PQclear(res);
		created = 1;
	}
	for (k = 0; k < rd.n; k++)
		pg_array_free(&col[k]);
	if (e == 0)
		e = put_write(r, rd.arg, node, current, live);
out:
	deferred_read_free(&rd);
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
	char nbuf[24], lbuf[16];
	const char *v[2];
	long long node;
	int e, recursive = 0, i, n;
	json_t *entries;
	PGresult *res;

	if ((e = proto_get_bool(r->req, "recursive", 0, &recursive,
	    &r->why)) != 0 ||
	    (e = need_node(r, PERM_DISCOVER, "discover", &node)) != 0)
		return e;
	snprintf(nbuf, sizeof(nbuf), "%lld", node);
	snprintf(lbuf, sizeof(lbuf), "%d", LIST_MAX + 1);
	v[0] = nbuf;
	v[1] = lbuf;
	if ((e = db_exec(r->db, recursive ? ST_LIST_TREE : ST_LIST, 2, v,
	    NULL, NULL, &res)) != 0)
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
	char nbuf[24];
	const char *v[1] = { nbuf }, *state;
	long long node;
	int e, i, n, current;
	json_t *versions, *o;
	PGresult *res;

	if ((e = need_node(r, PERM_DISCOVER, "discover", &node)) != 0)
		return e;
	snprintf(nbuf, sizeof(nbuf), "%lld", node);
	if ((e = db_exec(r->db, ST_HISTORY, 1, v, NULL, NULL, &res)) != 0)
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
	char nbuf[24], vbuf[16], mbuf[16];
	const char *v[4];
	long long node;
	int e, recursive = 0, current, live, n;
	PGresult *res;

	if ((e = proto_get_bool(r->req, "recursive", 0, &recursive,
	    &r->why)) != 0 ||
	    (e = need_node(r, PERM_WRITE, "write", &node)) != 0)
		return e;
	snprintf(nbuf, sizeof(nbuf), "%lld", node);
	snprintf(mbuf, sizeof(mbuf), "%d", r->ctx->cfg->max_versions);
	if (recursive) {
		v[0] = nbuf;
		v[1] = r->sess->principal;
		v[2] = mbuf;
		if ((e = db_exec(r->db, ST_DELETE_TREE, 3, v, NULL, NULL,
		    &res)) != 0)
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
	snprintf(vbuf, sizeof(vbuf), "%d", current + 1);
	v[0] = nbuf;
	v[1] = vbuf;
	v[2] = r->sess->principal;
	v[3] = mbuf;
	if ((e = db_run(r->db, ST_TOMBSTONE, 4, v)) != 0)
		return e;
	r->version = current + 1;
	json_object_set_new(r->resp, "deleted", json_integer(1));
	json_object_set_new(r->resp, "version", json_integer(current + 1));
	return 0;
}

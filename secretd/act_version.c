/*
 * act_version.c - secret.undelete, secret.rollback and secret.destroy.
 *
 * Undelete and rollback write an old version's value again as a new
 * version, inside the daemon: the plaintext is opened under the old
 * row's associated data and sealed under the new one, and never leaves.
 * Destroy drops the ciphertext of named versions for good; the rows stay
 * so that history still shows them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "actions.h"
#include "pg_array.h"
#include "proto.h"
#include "store.h"
#include "xmalloc.h"

#define DESTROY_MAX	1000

/* Permission check and node lookup shared by the three actions. */
static int
version_target(struct request *r, int need, long long *node)
{
	int e, perms;

	if ((e = req_path(r, "path")) != 0 ||
	    (e = req_node_perms(r, &perms, node)) != 0)
		return e;
	if (!acl_allows(perms, need))
		return req_fail(r, SD_EPERM, "this needs %s at this path",
		    need & PERM_MANAGE ? "write and manage" : "write and read");
	if (*node == 0)
		return req_fail(r, SD_ENOTFOUND, "no such path");
	return 0;
}

static int
restore(struct request *r, int only_if_deleted)
{
	struct params p;
	unsigned char *pt = NULL;
	size_t plen = 0;
	long long node, want;
	int e, current, live;
	PGresult *res;

	if ((e = proto_get_int(r->req, "version", 1, 1, INT_MAX, &want,
	    &r->why)) != 0 ||
	    (e = version_target(r, PERM_WRITE | PERM_READ, &node)) != 0 ||
	    (e = req_lock_node(r, node, &current, &live)) != 0)
		return e;
	if (r->detail == NULL)
		r->detail = json_object();
	json_object_set_new(r->detail, "from_version", json_integer(want));
	if (only_if_deleted && (live || current == 0))
		return req_fail(r, SD_ECONFLICT, "the secret is not deleted "
		    "(current version %d)", current);
	params_init(&p);
	params_int(&p, node);
	params_int(&p, want);
	if ((e = db_exec_params(r->db, ST_VERSION_GET, &p, &res)) != 0)
		return e;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") == 0 ||
	    PQgetisnull(res, 0, 3)) {
		e = req_fail(r, SD_ENOTFOUND, "version %lld holds no value "
		    "(absent, pruned, a deletion or destroyed)", want);
		PQclear(res);
		return e;
	}
	e = req_open_value(r, node, (int)want, res, 0, 1, &pt, &plen);
	PQclear(res);
	if (e != 0)
		return e;
	e = req_put_sealed(r, node, current + 1, pt, plen);
	freezero(pt, plen + 1);
	if (e == 0)
		json_object_set_new(r->resp, "version", json_integer(current + 1));
	return e;
}

int
act_secret_undelete(struct request *r)
{
	return restore(r, 1);
}

int
act_secret_rollback(struct request *r)
{
	return restore(r, 0);
}

int
act_secret_destroy(struct request *r)
{
	const json_t *versions = json_object_get(r->req, "versions");
	struct pg_array arr;
	struct params p;
	long long node;
	int e, current, live, n, exist;
	size_t i, nv;
	json_t *x;
	PGresult *res;

	if (!json_is_array(versions) || (nv = json_array_size(versions)) == 0)
		return req_fail(r, SD_EBADREQ, "versions must be a non-empty "
		    "array of version numbers");
	if (nv > DESTROY_MAX)
		return req_fail(r, SD_ETOOLARGE, "at most %d versions at once",
		    DESTROY_MAX);
	json_array_foreach(versions, i, x)
		if (!json_is_integer(x) || json_integer_value(x) < 1 ||
		    json_integer_value(x) > INT_MAX)
			return req_fail(r, SD_EBADREQ, "versions must be "
			    "positive integers");
	if ((e = version_target(r, PERM_WRITE | PERM_MANAGE, &node)) != 0 ||
	    (e = req_lock_node(r, node, &current, &live)) != 0)
		return e;
	if (r->detail == NULL)
		r->detail = json_object();
	json_object_set(r->detail, "versions", (json_t *)versions);

	pg_array_init(&arr);
	json_array_foreach(versions, i, x)
		pg_array_int(&arr, (long long)json_integer_value(x));
	params_init(&p);
	params_int(&p, node);
	params_take(&p, pg_array_take(&arr));
	if ((e = db_exec(r->db, ST_VERSIONS_COUNT, p.n, params_v(&p), NULL,
	    NULL, &res)) != 0)
		goto out;
	exist = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((e = db_exec(r->db, ST_DESTROY, p.n, params_v(&p), NULL, NULL,
	    &res)) != 0)
		goto out;
	n = PQntuples(res);
	PQclear(res);
	/* count distinct requested versions to compare with what exists */
	{
		json_t *seen = json_object();
		char k[16];

		json_array_foreach(versions, i, x) {
			snprintf(k, sizeof(k), "%lld",
			    (long long)json_integer_value(x));
			json_object_set_new(seen, k, json_true());
		}
		if ((size_t)exist != json_object_size(seen))
			e = req_fail(r, SD_ENOTFOUND, "no such version");
		json_decref(seen);
	}
	if (e == 0)
		json_object_set_new(r->resp, "destroyed", json_integer(n));
out:
	params_free(&p);
	return e;
}

/*
 * act_acl.c - acl.get and acl.set, on nodes and on the global grants.
 *
 * Node grants need manage at or above the node, and only permissions
 * the caller holds there can be newly granted.  Global grants can only
 * be changed in the permissions the caller holds itself, so no one can
 * grant themselves (or anyone) more than they have (delegate.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "acl.h"
#include "actions.h"
#include "delegate.h"
#include "proto.h"
#include "store.h"
#include "xmalloc.h"

static int
want_global(struct request *r, int *global)
{
	*global = 0;
	return proto_get_bool(r->req, "global", 0, global, &r->why);
}

static json_t *
grant_json(const struct sd_path *at, const char *group, int perms,
    int global, int inherited)
{
	json_t *g = json_object();

	if (!global)
		json_object_set_new(g, "path", path_to_json(at));
	json_object_set_new(g, "group", json_string(group));
	json_object_set_new(g, "permissions", acl_perms_to_json(perms, global));
	if (!global)
		json_object_set_new(g, "inherited", json_boolean(inherited));
	return g;
}

int
act_acl_get(struct request *r)
{
	struct sd_path at;
	json_t *grants;
	PGresult *res;
	char *path;
	const char *v[1];
	long long node;
	int e, global, perms, i, depth;

	if ((e = want_global(r, &global)) != 0)
		return e;
	if (global) {
		if ((e = req_global_perms(r, &perms)) != 0)
			return e;
		if (perms == 0)
			return req_fail(r, SD_EPERM, "reading the global grants "
			    "needs a global grant");
		if ((e = db_exec(r->db, ST_ACL_GLOBAL_GET, 0, NULL, NULL, NULL,
		    &res)) != 0)
			return e;
	} else {
		if ((e = req_path(r, "path")) != 0 ||
		    (e = req_node_perms(r, &perms, &node)) != 0)
			return e;
		if (!acl_allows(perms, PERM_MANAGE))
			return req_fail(r, SD_EPERM, "no manage access at this "
			    "path");
		path = store_path_param(&r->path);
		v[0] = path;
		e = db_exec(r->db, ST_ACL_GET, 1, v, NULL, NULL, &res);
		free(path);
		if (e != 0)
			return e;
	}
	grants = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		if (global) {
			json_array_append_new(grants, grant_json(NULL,
			    PQgetvalue(res, i, 0),
			    atoi(PQgetvalue(res, i, 1)), 1, 0));
			continue;
		}
		depth = atoi(PQgetvalue(res, i, 0));
		at = r->path;
		at.n = depth;
		json_array_append_new(grants, grant_json(&at,
		    PQgetvalue(res, i, 1), atoi(PQgetvalue(res, i, 2)), 0,
		    depth < r->path.n));
	}
	PQclear(res);
	json_object_set_new(r->resp, "grants", grants);
	return 0;
}

/*
 * The group's id (0: no such group) and its grant: at node (0: the node
 * does not exist) or, with global, its global grant.
 */
static int
old_grant(struct request *r, int global, long long node, const char *group,
    long long *gid, int *old)
{
	struct params p;
	PGresult *res;
	int e;

	params_init(&p);
	if (!global)
		params_int(&p, node);
	params_text(&p, group);
	if ((e = db_exec_params(r->db, global ? ST_GLOBAL_GRANT_OLD :
	    ST_GRANT_OLD, &p, &res)) != 0)
		return e;
	*gid = PQgetisnull(res, 0, 0) ? 0 :
	    strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*old = atoi(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/*
 * Permission before existence: the caller's right to change this grant
 * (manage at the node, or some global permission) and the delegation
 * rule (delegate.h) are checked before the group is looked up, so that
 * a caller without them gets permission_denied whether it exists or not.
 */
int
act_acl_set(struct request *r)
{
	const char *group;
	struct params p;
	long long gid, node = 0;
	int e, global, want, held, old;
	PGresult *res;

	if ((e = want_global(r, &global)) != 0)
		return e;
	if (!global && (e = req_path(r, "path")) != 0)
		return e;
	if ((e = req_name(r, "group", &group)) != 0 ||
	    (e = acl_perms_from_json(json_object_get(r->req, "permissions"),
	    global, &want, &r->why)) != 0)
		return e;
	json_object_set_new(r->detail, "permissions",
	    acl_perms_to_json(want, global));
	json_object_set_new(r->detail, "global", json_boolean(global));
	if (global) {
		/* old = want: only "holds some global permission" yet */
		if ((e = req_global_perms(r, &held)) != 0 ||
		    (e = delegate_global_grant(r, held, want, want)) != 0)
			return e;
	} else {
		if ((e = req_node_perms(r, &held, &node)) != 0)
			return e;
		if (!acl_allows(held, PERM_MANAGE))
			return req_fail(r, SD_EPERM, "no manage access at this "
			    "path");
	}
	if ((e = old_grant(r, global, node, group, &gid, &old)) != 0 ||
	    (e = global ? delegate_global_grant(r, held, old, want) :
	    delegate_node_grant(r, held, old, want, group)) != 0)
		return e;
	if (gid == 0)
		return req_fail(r, SD_ENOTFOUND, "no such group");
	params_init(&p);
	if (!global) {
		params_take(&p, store_path_param(&r->path));
		/* which leaves p empty again */
		if ((e = db_exec_params(r->db, ST_ENSURE_PATH, &p, &res)) != 0)
			return e;
		params_text(&p, PQgetvalue(res, 0, 0));	/* the node */
		PQclear(res);
	}
	params_int(&p, gid);
	if (want)
		params_int(&p, want);
	return db_run_params(r->db, global ? (want ? ST_GLOBAL_GRANT_SET :
	    ST_GLOBAL_GRANT_DELETE) : (want ? ST_GRANT_SET : ST_GRANT_DELETE),
	    &p);
}

static const char *const who_order[] = { "discover", "read", "write",
    "manage" };

int
act_acl_who(struct request *r)
{
	struct sd_path at;
	json_t *who;
	char *path;
	const char *v[1];
	long long node;
	int e, perms, global, i, k, n;
	PGresult *res;

	if ((e = req_path(r, "path")) != 0 ||
	    (e = req_node_perms(r, &perms, &node)) != 0 ||
	    (e = req_global_perms(r, &global)) != 0)
		return e;
	if (!acl_allows(perms, PERM_MANAGE) &&
	    !acl_allows(global, GPERM_AUDIT))
		return req_fail(r, SD_EPERM, "this needs manage at this path "
		    "or the global audit permission");
	path = store_path_param(&r->path);
	v[0] = path;
	e = db_exec(r->db, ST_ACL_WHO, 1, v, NULL, NULL, &res);
	free(path);
	if (e != 0)
		return e;
	who = json_array();
	n = PQntuples(res);
	for (k = 0; k < 4; k++) {
		for (i = 0; i < n; i++) {
			json_t *o;

			if (!(atoi(PQgetvalue(res, i, 0)) & (1 << k)))
				continue;
			at = r->path;
			at.n = atoi(PQgetvalue(res, i, 3));
			o = json_object();
			json_object_set_new(o, "permission",
			    json_string(who_order[k]));
			json_object_set_new(o, "principal",
			    json_string(PQgetvalue(res, i, 1)));
			json_object_set_new(o, "group",
			    json_string(PQgetvalue(res, i, 2)));
			json_object_set_new(o, "path", path_to_json(&at));
			json_array_append_new(who, o);
		}
	}
	PQclear(res);
	json_object_set_new(r->resp, "who", who);
	return 0;
}

/*
 * act_group.c - group.create, delete, list, member_add, member_remove,
 * member_list.  All need group_manage (checked by the dispatch table);
 * member_add also the delegation rule (delegate.h): the caller must hold
 * everything the group holds.
 */
#include <stdio.h>
#include <stdlib.h>

#include "actions.h"
#include "delegate.h"
#include "pg_array.h"
#include "store.h"

static int
count_or_missing(struct request *r, PGresult *res, const char *what)
{
	int n = atoi(PQcmdTuples(res));

	PQclear(res);
	return n == 0 ? req_fail(r, SD_ENOTFOUND, "%s", what) : 0;
}

int
act_group_create(struct request *r)
{
	const char *name, *v[1];
	int e;

	if ((e = req_name(r, "group", &name)) != 0)
		return e;
	v[0] = name;
	if ((e = db_run(r->db, ST_GROUP_CREATE, 1, v)) == SD_EEXISTS)
		return req_fail(r, e, "group exists");
	return e;
}

int
act_group_delete(struct request *r)
{
	const char *name, *v[1];
	PGresult *res;
	int e;

	if ((e = req_name(r, "group", &name)) != 0)
		return e;
	v[0] = name;
	if ((e = db_exec(r->db, ST_GROUP_DELETE, 1, v, NULL, NULL, &res)) != 0)
		return e;
	return count_or_missing(r, res, "no such group");
}

int
act_group_list(struct request *r)
{
	json_t *groups = json_array(), *g;
	PGresult *res;
	int e, i;

	if ((e = db_exec(r->db, ST_GROUP_LIST, 0, NULL, NULL, NULL, &res)) != 0) {
		json_decref(groups);
		return e;
	}
	for (i = 0; i < PQntuples(res); i++) {
		g = json_object();
		json_object_set_new(g, "name", json_string(PQgetvalue(res, i, 0)));
		json_object_set_new(g, "members",
		    json_integer(atoll(PQgetvalue(res, i, 1))));
		json_array_append_new(groups, g);
	}
	PQclear(res);
	json_object_set_new(r->resp, "groups", groups);
	return 0;
}

/*
 * Resolve "group" and "member" into ids, added to p (only when both
 * are found) as the parameters of member_add and member_remove:
 * member, group.  To add, the delegation rule is checked on the group
 * before the member is looked up: a caller that may not add to the
 * group learns nothing of the member's existence.
 */
static int
member_ids(struct request *r, struct params *p, int adding)
{
	const char *group, *member;
	struct pg_array ids;
	long long gid, pid;
	int e;

	if ((e = req_name(r, "group", &group)) != 0 ||
	    (e = req_name(r, "member", &member)) != 0 ||
	    (e = group_id(r, group, &gid)) != 0)
		return e;
	if (adding) {
		pg_array_init(&ids);
		pg_array_int(&ids, gid);
		e = delegate_groups(r, pg_array_str(&ids));
		pg_array_free(&ids);
		if (e != 0)
			return e;
	}
	if ((e = principal_id(r, member, &pid)) != 0)
		return e;
	params_int(p, pid);
	params_int(p, gid);
	return 0;
}

int
act_group_member_add(struct request *r)
{
	struct params p;
	int e;

	params_init(&p);
	if ((e = member_ids(r, &p, 1)) != 0)
		return e;
	if ((e = db_run_params(r->db, ST_MEMBER_ADD, &p)) == SD_EEXISTS)
		return req_fail(r, e, "already a member");
	return e;
}

int
act_group_member_remove(struct request *r)
{
	struct params p;
	PGresult *res;
	int e;

	params_init(&p);
	if ((e = member_ids(r, &p, 0)) != 0 ||
	    (e = db_exec_params(r->db, ST_MEMBER_REMOVE, &p, &res)) != 0)
		return e;
	return count_or_missing(r, res, "not a member");
}

int
act_group_member_list(struct request *r)
{
	const char *name;
	struct params p;
	long long gid;
	json_t *members;
	PGresult *res;
	int e, i;

	if ((e = req_name(r, "group", &name)) != 0 ||
	    (e = group_id(r, name, &gid)) != 0)
		return e;
	params_init(&p);
	params_int(&p, gid);
	if ((e = db_exec_params(r->db, ST_MEMBER_LIST, &p, &res)) != 0)
		return e;
	members = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(members,
		    json_string(PQgetvalue(res, i, 0)));
	PQclear(res);
	json_object_set_new(r->resp, "members", members);
	return 0;
}

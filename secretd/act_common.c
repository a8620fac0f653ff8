/*
 * act_common.c - lookups shared by several action families.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "proto.h"
#include "store.h"
#include "xmalloc.h"

int
name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '.' || c == '_' || c == '@' || c == '-'));
		if (!ok)
			return 0;
	}
	return 1;
}

int
req_name(struct request *r, const char *key, const char **out)
{
	int e;

	if ((e = proto_get_string(r->req, key, 1, out, &r->why)) != 0)
		return e;
	if (!name_valid(*out))
		return req_fail(r, SD_EBADREQ, "%s must match "
		    "[a-z0-9][a-z0-9._@-]{0,63}", key);
	if (r->detail == NULL)
		r->detail = json_object();
	json_object_set_new(r->detail, key, json_string(*out));
	return 0;
}

int
req_node_perms(struct request *r, int *perms, long long *node_id)
{
	char *path = store_path_param(&r->path);
	const char *v[2] = { req_principal_param(r), path };
	PGresult *res;
	int e;

	e = db_exec(r->db, ST_NODE_PERMS, 2, v, NULL, NULL, &res);
	free(path);
	if (e != 0)
		return e;
	*perms = atoi(PQgetvalue(res, 0, 0));
	*node_id = PQgetisnull(res, 0, 1) ? 0 :
	    strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	return 0;
}

int
req_global_perms(struct request *r, int *perms)
{
	const char *v[1] = { req_principal_param(r) };
	PGresult *res;
	int e;

	if ((e = db_exec(r->db, ST_GLOBAL_PERMS, 1, v, NULL, NULL, &res)) != 0)
		return e;
	*perms = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static int
lookup_id(struct request *r, int stmt, const char *name, long long *id,
    const char *what)
{
	const char *v[1] = { name };
	PGresult *res;
	int e;

	if ((e = db_exec(r->db, stmt, 1, v, NULL, NULL, &res)) != 0)
		return e;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return req_fail(r, SD_ENOTFOUND, "no such %s", what);
	}
	*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int
group_id(struct request *r, const char *name, long long *id)
{
	return lookup_id(r, ST_GROUP_ID, name, id, "group");
}

int
principal_id(struct request *r, const char *name, long long *id)
{
	return lookup_id(r, ST_PRINCIPAL_ID, name, id, "principal");
}

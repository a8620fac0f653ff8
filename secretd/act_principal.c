/*
 * act_principal.c - principal.create, delete, list, show, key_add,
 * key_remove.  All need principal_manage (dispatch table); adding the
 * new principal to groups at creation also needs group_manage.  Creating
 * with groups and adding a key also follow the delegation rule
 * (delegate.h).
 * A key belongs to at most one principal: its fingerprint is unique.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "actions.h"
#include "delegate.h"
#include "proto.h"
#include "sshkey.h"
#include "store.h"

/* Parse the "key" field into k and note its fingerprint for the audit. */
static int
req_key(struct request *r, struct sshkey_pub *k)
{
	const char *s;
	int e;

	if ((e = proto_get_string(r->req, "key", 1, &s, &r->why)) != 0 ||
	    (e = sshkey_parse_line(s, strlen(s), k, &r->why)) != 0)
		return e;
	if (r->detail == NULL)
		r->detail = json_object();
	json_object_set_new(r->detail, "key_fingerprint", json_string(k->fp));
	return 0;
}

static int
add_key(struct request *r, long long pid, const struct sshkey_pub *k)
{
	struct params p;
	int e;

	params_init(&p);
	params_text(&p, k->fp);
	params_int(&p, pid);
	params_text(&p, k->type);
	params_text(&p, k->b64);
	e = db_run_params(r->db, ST_KEY_ADD, &p);
	if (e == SD_EEXISTS)
		return req_fail(r, e, "this key already belongs to a "
		    "principal");
	if (e == 0)
		json_object_set_new(r->resp, "fingerprint", json_string(k->fp));
	return e;
}

/*
 * The groups a new principal joins: adding to groups needs group_manage
 * too, and the delegation rule (the caller holds everything they hold),
 * checked before whether each group exists.  *ids: NULL for none.
 */
static int
check_groups(struct request *r, const json_t *groups, char **ids)
{
	int e, held, missing = 0;

	*ids = NULL;
	if (groups == NULL)
		return 0;
	if (!json_is_array(groups))
		return req_fail(r, SD_EBADREQ, "groups must be an array");
	if (json_array_size(groups) == 0)
		return 0;
	if ((e = req_global_perms(r, &held)) != 0)
		return e;
	if (!acl_allows(held, GPERM_GROUP_MANAGE))
		return req_fail(r, SD_EPERM, "adding to groups needs "
		    "group_manage");
	if ((e = req_group_ids(r, groups, ids, &missing)) != 0 ||
	    (e = delegate_groups(r, *ids)) != 0)
		return e;
	if (missing > 0)
		return req_fail(r, SD_ENOTFOUND, "no such group");
	json_object_set(r->detail, "groups", (json_t *)groups);
	return 0;
}

int
act_principal_create(struct request *r)
{
	struct sshkey_pub k = { 0 };
	const json_t *groups = json_object_get(r->req, "groups");
	const char *name, *v[1];
	struct params p;
	char *ids = NULL;
	long long pid;
	PGresult *res;
	int e;

	if ((e = req_name(r, "principal", &name)) != 0 ||
	    (e = req_key(r, &k)) != 0 ||
	    (e = check_groups(r, groups, &ids)) != 0)
		goto out;
	v[0] = name;
	if ((e = db_exec(r->db, ST_PRINCIPAL_CREATE, 1, v, NULL, NULL,
	    &res)) != 0) {
		if (e == SD_EEXISTS)
			e = req_fail(r, e, "principal exists");
		goto out;
	}
	pid = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if ((e = add_key(r, pid, &k)) != 0)
		goto out;
	if (ids != NULL) {
		params_init(&p);
		params_int(&p, pid);
		params_text(&p, ids);
		e = db_run_params(r->db, ST_MEMBER_ADD_IDS, &p);
	}
out:
	free(ids);
	sshkey_pub_free(&k);
	return e;
}

int
act_principal_delete(struct request *r)
{
	const char *name, *v[1];
	PGresult *res;
	int e, n;

	if ((e = req_name(r, "principal", &name)) != 0)
		return e;
	v[0] = name;
	if ((e = db_exec(r->db, ST_PRINCIPAL_DELETE, 1, v, NULL, NULL,
	    &res)) != 0)
		return e;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	return n == 0 ? req_fail(r, SD_ENOTFOUND, "no such principal") : 0;
}

int
act_principal_list(struct request *r)
{
	json_t *list = json_array(), *p;
	PGresult *res;
	int e, i;

	if ((e = db_exec(r->db, ST_PRINCIPAL_LIST, 0, NULL, NULL, NULL,
	    &res)) != 0) {
		json_decref(list);
		return e;
	}
	for (i = 0; i < PQntuples(res); i++) {
		p = json_object();
		json_object_set_new(p, "name", json_string(PQgetvalue(res, i, 0)));
		json_object_set_new(p, "keys",
		    json_integer(atoll(PQgetvalue(res, i, 1))));
		json_array_append_new(list, p);
	}
	PQclear(res);
	json_object_set_new(r->resp, "principals", list);
	return 0;
}

int
act_principal_show(struct request *r)
{
	const char *name, *v[1];
	struct params p;
	json_t *keys, *groups, *k;
	PGresult *res;
	int e, i;

	if ((e = req_name(r, "principal", &name)) != 0)
		return e;
	v[0] = name;
	if ((e = db_exec(r->db, ST_PRINCIPAL_ID, 1, v, NULL, NULL, &res)) != 0)
		return e;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return req_fail(r, SD_ENOTFOUND, "no such principal");
	}
	params_init(&p);
	params_text(&p, PQgetvalue(res, 0, 0));		/* the id */
	json_object_set_new(r->resp, "principal", json_string(name));
	json_object_set_new(r->resp, "created_at",
	    json_string(PQgetvalue(res, 0, 1)));
	PQclear(res);

	if ((e = db_exec(r->db, ST_PRINCIPAL_GROUPS, p.n, params_v(&p), NULL,
	    NULL, &res)) != 0)
		goto out;
	groups = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(groups, json_string(PQgetvalue(res, i, 0)));
	PQclear(res);
	json_object_set_new(r->resp, "groups", groups);

	if ((e = db_exec(r->db, ST_PRINCIPAL_KEYS, p.n, params_v(&p), NULL,
	    NULL, &res)) != 0)
		goto out;
	keys = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		k = json_object();
		json_object_set_new(k, "type", json_string(PQgetvalue(res, i, 0)));
		json_object_set_new(k, "fingerprint",
		    json_string(PQgetvalue(res, i, 1)));
		json_object_set_new(k, "key", json_pack("s++",
		    PQgetvalue(res, i, 0), " ", PQgetvalue(res, i, 2)));
		json_array_append_new(keys, k);
	}
	PQclear(res);
	json_object_set_new(r->resp, "keys", keys);
out:
	params_free(&p);
	return e;
}

int
act_principal_key_add(struct request *r)
{
	struct sshkey_pub k = { 0 };
	const char *name;
	long long id;
	int e;

	if ((e = req_name(r, "principal", &name)) != 0 ||
	    (e = req_key(r, &k)) != 0 ||
	    (e = principal_id(r, name, &id)) != 0)
		goto out;
	/* the key's holder could act as the principal: the caller must
	 * hold all it holds (delegate.h) */
	if ((e = delegate_principal(r, id, name)) != 0)
		goto out;
	e = add_key(r, id, &k);
out:
	sshkey_pub_free(&k);
	return e;
}

int
act_principal_key_remove(struct request *r)
{
	struct sshkey_pub k = { 0 };
	const char *name, *fp = NULL;
	struct params p;
	long long id;
	PGresult *res;
	int e, n;

	if ((e = req_name(r, "principal", &name)) != 0)
		return e;
	if (json_object_get(r->req, "key") != NULL) {
		if ((e = req_key(r, &k)) != 0)
			goto out;
		fp = k.fp;
	} else {
		if ((e = proto_get_string(r->req, "fingerprint", 1, &fp,
		    &r->why)) != 0)
			goto out;
		if (!sshkey_fp_valid(fp)) {
			e = req_fail(r, SD_EBADREQ, "fingerprint must be "
			    "SHA256:<43 base64 characters>");
			goto out;
		}
		json_object_set_new(r->detail, "key_fingerprint",
		    json_string(fp));
	}
	if ((e = principal_id(r, name, &id)) != 0)
		goto out;
	params_init(&p);
	params_int(&p, id);
	params_text(&p, fp);
	if ((e = db_exec_params(r->db, ST_KEY_REMOVE, &p, &res)) != 0)
		goto out;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n == 0)
		e = req_fail(r, SD_ENOTFOUND, "the principal has no such key");
out:
	sshkey_pub_free(&k);
	return e;
}

/*
 * act_session.c - whoami: who the session is, its groups and global
 * permissions.  Allowed in enrol-only sessions (it reveals nothing).
 */
#include <stdlib.h>

#include "acl.h"
#include "actions.h"
#include "revoke.h"
#include "store.h"

int
act_whoami(struct request *r)
{
	struct params p;
	json_t *groups = json_array();
	PGresult *res;
	char msg[128];
	int e, global = 0, i;

	if (!r->sess->enrol_only) {
		/* it reads no grant of a path: ask (revoke.h) */
		if ((e = revoke_key_valid(r->db, r->sess)) < 0) {
			json_decref(groups);
			return e;
		}
		if (e == 0) {
			json_decref(groups);
			r->sess->revoked = 1;
			return req_fail(r, SD_EUNAUTH, "%s", revoke_message(
			    r->sess, msg, sizeof(msg)));
		}
		if ((e = req_global_perms(r, &global)) != 0) {
			json_decref(groups);
			return e;
		}
		params_init(&p);
		params_principal(&p, r);
		e = db_exec_params(r->db, ST_PRINCIPAL_GROUPS, &p, &res);
		if (e != 0) {
			json_decref(groups);
			return e;
		}
		for (i = 0; i < PQntuples(res); i++)
			json_array_append_new(groups,
			    json_string(PQgetvalue(res, i, 0)));
		PQclear(res);
	}
	json_object_set_new(r->resp, "principal", r->sess->enrol_only ?
	    json_null() : json_string(r->sess->principal));
	json_object_set_new(r->resp, "groups", groups);
	json_object_set_new(r->resp, "global", acl_perms_to_json(global, 1));
	json_object_set_new(r->resp, "enrol_only",
	    json_boolean(r->sess->enrol_only));
	return 0;
}

/*
 * audit.c - building and inserting one audit row.
 */
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "log.h"
#include "proto.h"
#include "store.h"
#include "xmalloc.h"

int
audit_write(struct request *r, const char *action, int err)
{
	const struct session *s = r->sess;
	const char *v[13];
	int len[13] = { 0 }, fmt[13] = { 0 };
	char version[16], port[16], *path = NULL, *reqid = NULL, *detail = NULL;
	const json_t *id = json_object_get(r->req, "id");
	PGresult *res;
	int e;

	v[0] = s->principal_id ? s->principal : NULL;
	v[1] = s->fingerprint[0] ? s->fingerprint : NULL;
	v[2] = action;
	if (r->has_path)
		path = store_path_param(&r->path);
	v[3] = path;
	snprintf(version, sizeof(version), "%lld", r->version);
	v[4] = r->version >= 0 ? version : NULL;
	v[5] = err == 0 ? "ok" : (err == SD_EPERM || err == SD_EUNAUTH) ?
	    "denied" : "error";
	v[6] = err == 0 ? NULL : sd_err_code(err);
	v[7] = s->client_addr[0] ? s->client_addr : NULL;
	snprintf(port, sizeof(port), "%d", s->client_port);
	v[8] = s->client_port ? port : NULL;
	v[9] = s->id;
	if (id != NULL)
		reqid = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
	v[10] = reqid;
	v[11] = r->has_hash ? (const char *)r->value_hash : NULL;
	len[11] = AUDIT_HASH_LEN;
	fmt[11] = 1;
	if (r->detail != NULL)
		detail = json_dumps(r->detail, JSON_COMPACT | JSON_SORT_KEYS);
	v[12] = detail;

	e = db_exec(r->db, ST_AUDIT_INSERT, 13, v, len, fmt, &res);
	if (e == 0)
		PQclear(res);
	else
		log_error("audit row for %s not written: %s", action,
		    sd_err_code(e));
	free(path);
	free(reqid);
	free(detail);
	return e;
}

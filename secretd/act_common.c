/*
 * act_common.c - lookups shared by several action families.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "exec.h"
#include "log.h"
#include "pg_array.h"
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
	struct params one;
	PGresult *res;
	int e;

	/* the walk of every permission check, for a batch of one */
	params_init(&one);
	params_principal(&one, r);
	params_take(&one, store_path_param(&r->path));
	params_null(&one);
	params_key(&one, r);
	e = db_exec(r->db, ST_NODE_PERMS, one.n, params_v(&one), NULL, NULL,
	    &res);
	params_free(&one);
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
	struct params p;
	PGresult *res;
	int e;

	params_init(&p);
	params_principal(&p, r);
	params_key(&p, r);
	if ((e = db_exec_params(r->db, ST_GLOBAL_PERMS, &p, &res)) != 0)
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

int
req_group_ids(struct request *r, const json_t *groups, char **ids,
    int *missing)
{
	struct pg_array names;
	const char *v[1], *s;
	json_t *g, *seen;
	PGresult *res;
	size_t i;
	int e;

	if (groups != NULL && !json_is_array(groups))
		return req_fail(r, SD_EBADREQ, "groups must be an array");
	seen = json_object();
	pg_array_init(&names);
	json_array_foreach(groups, i, g) {
		if ((s = json_string_value(g)) == NULL || !name_valid(s)) {
			json_decref(seen);
			pg_array_free(&names);
			return req_fail(r, SD_EBADREQ, "invalid group name");
		}
		if (json_object_get(seen, s) == NULL)
			pg_array_text(&names, s);
		json_object_set_new(seen, s, json_true());
	}
	json_decref(seen);
	v[0] = pg_array_str(&names);
	e = db_exec(r->db, ST_GROUP_IDS, 1, v, NULL, NULL, &res);
	if (e == 0) {
		*ids = xstrdup(PQgetvalue(res, 0, 0));
		*missing = names.n - atoi(PQgetvalue(res, 0, 1));
		PQclear(res);
	}
	pg_array_free(&names);
	return e;
}

int
req_lock_node(struct request *r, long long node, int *current, int *live)
{
	struct params p;
	PGresult *res;
	int e = 0, try, stale = 1;

	params_init(&p);
	params_int(&p, node);
	/* a writer that committed while we waited for the lock: its version
	 * row is newer than our snapshot, so read again with the lock held */
	for (try = 0; stale && try < 2; try++) {
		if ((e = db_exec(r->db, ST_NODE_LOCK, p.n, params_v(&p), NULL,
		    NULL, &res)) != 0)
			break;
		if (PQntuples(res) != 1) {
			PQclear(res);
			e = req_fail(r, SD_ENOTFOUND, "no such path");
			break;
		}
		*current = atoi(PQgetvalue(res, 0, 1));
		*live = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		stale = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
		PQclear(res);
	}
	params_free(&p);
	return e;
}

int
req_open_value(struct request *r, long long node, int version,
    const PGresult *res, int row, int col, unsigned char **pt, size_t *plen)
{
	unsigned char *nonce, *ct;
	size_t nlen = 0, clen = 0;
	uint32_t key_id;
	int e;

	key_id = (uint32_t)strtoul(PQgetvalue(res, row, col), NULL, 10);
	nonce = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row,
	    col + 1), &nlen);
	ct = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row,
	    col + 2), &clen);
	e = nonce == NULL || ct == NULL || open_value(ctx_keyring(r->ctx),
	    node, version, key_id, nonce, nlen, ct, clen, pt, plen) != 0;
	PQfreemem(nonce);
	PQfreemem(ct);
	if (e) {
		log_error("cannot open the value of node %lld version %d "
		    "(key %u): missing key or failed authentication", node,
		    version, key_id);
		return req_fail(r, SD_EINTERNAL, "stored value cannot be "
		    "decrypted (see the server log)");
	}
	return 0;
}

int
req_put_sealed(struct request *r, long long node, int version,
    const unsigned char *val, size_t len)
{
	const struct keyring *kr = ctx_keyring(r->ctx);
	unsigned char nonce[SEAL_NONCE_LEN], *ct = NULL;
	size_t clen;
	uint32_t key_id;
	int e;

	if (r->txn == NULL)
		fatal("req_put_sealed outside a transaction");
	if ((e = seal_value(kr, node, version, val, len, &key_id, nonce, &ct,
	    &clen)) != 0)
		return e;
	/* sent with the audit row and the COMMIT (exec.h) */
	txn_put_version(r->txn, node, version, key_id, nonce, sizeof(nonce),
	    ct, clen, r->sess->principal);
	free(ct);
	audit_value_hash(kr, val, len, r->value_hash);
	r->has_hash = 1;
	r->version = version;
	return 0;
}

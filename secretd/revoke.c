/*
 * revoke.c - telling a revoked key from a refused request (revoke.h).
 */
#include <stdio.h>
#include <string.h>

#include "revoke.h"
#include "store.h"

int
revoke_key_valid(struct db *db, const struct session *s)
{
	struct params p;
	PGresult *res;
	int e, valid;

	params_init(&p);
	params_int(&p, s->principal_id);
	params_text(&p, s->fingerprint);
	if ((e = db_exec_params(db, ST_KEY_VALID, &p, &res)) != 0)
		return e;
	valid = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return valid;
}

int
revoke_check(const struct server_ctx *ctx, struct session *s)
{
	struct db *db;
	int valid;

	if (s->enrol_only || s->principal_id == 0 || s->revoked)
		return s->revoked;
	if (db_acquire(ctx->pool, &db) != 0)
		return 0;
	valid = revoke_key_valid(db, s);
	db_release(ctx->pool, db);
	if (valid != 0)		/* valid, or cannot tell */
		return 0;
	s->revoked = 1;
	return 1;
}

const char *
revoke_message(const struct session *s, char *buf, size_t len)
{
	snprintf(buf, len, "key %s was revoked", s->fingerprint);
	return buf;
}

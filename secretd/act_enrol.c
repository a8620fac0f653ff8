/*
 * act_enrol.c - enrolment tokens and enrol.
 *
 * A token is "se1_" + 32 random bytes (unpadded base64url), shown once;
 * only its BLAKE2b-256 hash is stored, looked up by that hash, and
 * compared again with sodium_memcmp.  enrol runs in an enrol-only
 * session: the key sshd verified becomes the new principal's key.  Every
 * reason a token is refused gets the same answer, and failed attempts
 * are rate limited per client address.  Tokens are never logged or
 * audited (rows carry the token id).  A token carries its creator's
 * authority (the delegation rule, delegate.h): checked when it is made
 * and again, against what the creator holds then, at each use.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "acl.h"
#include "actions.h"
#include "delegate.h"
#include "log.h"
#include "proto.h"
#include "ratelimit.h"
#include "store.h"
#include "xmalloc.h"

#define TOKEN_PREFIX	"se1_"
#define TOKEN_BYTES	32
#define TOKEN_MAX_LEN	128
#define TTL_MAX		(30 * 24 * 3600)
#define USES_MAX	10000
#define CIDRS_MAX	32

static void
token_hash(const char *token, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)token,
	    strlen(token), NULL, 0);
}

/* ttl: integer seconds, or "<n>s|m|h|d".  0 or SD_EBADREQ. */
static int
parse_ttl(struct request *r, long long *secs)
{
	const json_t *v = json_object_get(r->req, "ttl");
	const char *s;
	char *end;
	long long n, mult = 1;

	if (v == NULL)
		return req_fail(r, SD_EBADREQ, "ttl missing (at most 30d)");
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if ((s = json_string_value(v)) != NULL && isdigit((unsigned char)*s)) {
		n = strtoll(s, &end, 10);
		if (strcmp(end, "s") == 0 || *end == '\0')
			mult = 1;
		else if (strcmp(end, "m") == 0)
			mult = 60;
		else if (strcmp(end, "h") == 0)
			mult = 3600;
		else if (strcmp(end, "d") == 0)
			mult = 86400;
		else
			return req_fail(r, SD_EBADREQ, "ttl must be seconds or "
			    "a number with s, m, h or d");
	} else
		return req_fail(r, SD_EBADREQ, "ttl must be seconds or a "
		    "number with s, m, h or d");
	if (n < 1 || n > TTL_MAX / mult || n * mult > TTL_MAX)
		return req_fail(r, SD_EBADREQ, "ttl must be from 1s to 30d");
	*secs = n * mult;
	return 0;
}

/* Parse "addr/len" into family, address bytes and prefix length. */
static int
cidr_parse(const char *s, int *af, unsigned char addr[16], int *plen)
{
	char buf[64], *slash, *end;
	long n;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	*af = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*af, buf, addr) != 1)
		return -1;
	if (slash == NULL) {
		*plen = *af == AF_INET ? 32 : 128;
		return 0;
	}
	n = strtol(slash, &end, 10);
	if (*slash == '\0' || *end != '\0' || n < 0 ||
	    n > (*af == AF_INET ? 32 : 128))
		return -1;
	*plen = (int)n;
	return 0;
}

static int
cidr_contains(const char *cidr, const char *ip)
{
	unsigned char net[16], a[16];
	int af, bf, plen, alen, i;

	if (cidr_parse(cidr, &af, net, &plen) != 0 ||
	    cidr_parse(ip, &bf, a, &alen) != 0 || af != bf)
		return 0;
	for (i = 0; i < plen / 8; i++)
		if (net[i] != a[i])
			return 0;
	if (plen % 8 != 0) {
		unsigned char mask = (unsigned char)(0xff << (8 - plen % 8));
		if ((net[i] & mask) != (a[i] & mask))
			return 0;
	}
	return 1;
}

/* Libpq text[] literal of validated CIDR strings (no quoting needed). */
static int
cidrs_param(struct request *r, const json_t *cidrs, char **out)
{
	unsigned char addr[16];
	size_t i, len = 3;
	const char *s;
	json_t *c;
	int af, plen;
	char *o;

	if (cidrs != NULL && (!json_is_array(cidrs) ||
	    json_array_size(cidrs) > CIDRS_MAX))
		return req_fail(r, SD_EBADREQ, "cidrs must be an array of at "
		    "most %d CIDRs", CIDRS_MAX);
	json_array_foreach(cidrs, i, c) {
		if ((s = json_string_value(c)) == NULL ||
		    cidr_parse(s, &af, addr, &plen) != 0)
			return req_fail(r, SD_EBADREQ, "cidrs must be like "
			    "192.0.2.0/24 or 2001:db8::/32");
		len += strlen(s) + 1;
	}
	o = *out = xmalloc(len);
	*o++ = '{';
	json_array_foreach(cidrs, i, c)
		o += sprintf(o, "%s%s", i ? "," : "", json_string_value(c));
	*o++ = '}';
	*o = '\0';
	return 0;
}

/* Libpq text[] literal of validated group names. */
static int
groups_param(struct request *r, const json_t *groups, char **out,
    size_t *n)
{
	size_t i, len = 3;
	const char *s;
	json_t *g, *seen;
	char *o;

	if (groups != NULL && !json_is_array(groups))
		return req_fail(r, SD_EBADREQ, "groups must be an array");
	seen = json_object();
	json_array_foreach(groups, i, g) {
		if ((s = json_string_value(g)) == NULL || !name_valid(s)) {
			json_decref(seen);
			return req_fail(r, SD_EBADREQ, "invalid group name");
		}
		json_object_set_new(seen, s, json_true());
		len += strlen(s) + 1;
	}
	*n = json_object_size(seen);
	json_decref(seen);
	o = *out = xmalloc(len);
	*o++ = '{';
	json_array_foreach(groups, i, g)
		o += sprintf(o, "%s%s", i ? "," : "", json_string_value(g));
	*o++ = '}';
	*o = '\0';
	return 0;
}

int
act_enrol_token_create(struct request *r)
{
	unsigned char raw[TOKEN_BYTES], hash[32];
	char token[sizeof(TOKEN_PREFIX) + sodium_base64_ENCODED_LEN(TOKEN_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	char *groups = NULL, *cidrs = NULL, *ids = NULL;
	const char *pattern = "*";
	struct params p;
	int e, rekey = 0, missing = 0;
	long long ttl = 0, uses = 1;
	size_t ngroups = 0;
	PGresult *res = NULL;

	if ((e = parse_ttl(r, &ttl)) != 0 ||
	    (e = proto_get_string(r->req, "name_pattern", 0, &pattern,
	    &r->why)) != 0 ||
	    (e = proto_get_int(r->req, "uses", 0, 1, USES_MAX, &uses,
	    &r->why)) != 0 ||
	    (e = proto_get_bool(r->req, "allow_rekey", 0, &rekey,
	    &r->why)) != 0)
		return e;
	if (*pattern == '\0' || strlen(pattern) > 64)
		return req_fail(r, SD_EBADREQ, "name_pattern must be 1 to 64 "
		    "characters");
	if ((e = delegate_token_create(r, rekey, pattern)) != 0)
		return e;
	if ((e = groups_param(r, json_object_get(r->req, "groups"), &groups,
	    &ngroups)) != 0 ||
	    (e = cidrs_param(r, json_object_get(r->req, "cidrs"), &cidrs)) != 0)
		goto out;
	/* the token carries its creator's authority: the creator must hold
	 * everything its groups hold (checked again at each use) */
	if ((e = req_group_ids(r, json_object_get(r->req, "groups"), &ids,
	    &missing)) != 0 ||
	    (e = delegate_groups(r, ids)) != 0)
		goto out;
	if (missing > 0) {
		e = req_fail(r, SD_ENOTFOUND, "no such group");
		goto out;
	}

	randombytes_buf(raw, sizeof(raw));
	memcpy(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
	sodium_bin2base64(token + strlen(TOKEN_PREFIX),
	    sizeof(token) - strlen(TOKEN_PREFIX), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	token_hash(token, hash);

	params_init(&p);
	params_bytea(&p, hash, sizeof(hash));
	params_text(&p, pattern);
	params_text(&p, groups);
	params_int(&p, uses);
	params_text(&p, rekey ? "true" : "false");
	params_text(&p, cidrs);
	params_int(&p, ttl);
	params_text(&p, r->sess->principal);
	if ((e = db_exec_params(r->db, ST_TOKEN_CREATE, &p, &res)) != 0)
		goto out;
	if ((size_t)atoi(PQgetvalue(res, 0, 2)) != ngroups) {
		e = req_fail(r, SD_ENOTFOUND, "no such group");
		goto out;
	}
	if (r->detail == NULL)
		r->detail = json_object();
	json_object_set_new(r->detail, "token_id",
	    json_integer(atoll(PQgetvalue(res, 0, 0))));
	json_object_set_new(r->detail, "name_pattern", json_string(pattern));
	json_object_set(r->detail, "groups", json_object_get(r->req, "groups") ?
	    json_object_get(r->req, "groups") : json_array());
	json_object_set_new(r->resp, "token", json_string(token));
	json_object_set_new(r->resp, "token_id",
	    json_integer(atoll(PQgetvalue(res, 0, 0))));
	json_object_set_new(r->resp, "expires_at",
	    json_string(PQgetvalue(res, 0, 1)));
out:
	sodium_memzero(token, sizeof(token));
	PQclear(res);
	free(groups);
	free(cidrs);
	free(ids);
	return e;
}

/* Convert a text[] column (no quoting inside: names and CIDRs) to JSON. */
static json_t *
pg_array_json(const char *s)
{
	json_t *a = json_array();
	char *copy, *tok, *save = NULL;
	size_t n = strlen(s);

	if (n < 2)
		return a;
	copy = xstrndup(s + 1, n - 2);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(tok));
	free(copy);
	return a;
}

int
act_enrol_token_list(struct request *r)
{
	json_t *list = json_array(), *t;
	PGresult *res;
	int e, i;

	if ((e = db_exec(r->db, ST_TOKEN_LIST, 0, NULL, NULL, NULL, &res)) != 0) {
		json_decref(list);
		return e;
	}
	for (i = 0; i < PQntuples(res); i++) {
		t = json_object();
		json_object_set_new(t, "token_id",
		    json_integer(atoll(PQgetvalue(res, i, 0))));
		json_object_set_new(t, "name_pattern",
		    json_string(PQgetvalue(res, i, 1)));
		json_object_set_new(t, "groups",
		    pg_array_json(PQgetvalue(res, i, 2)));
		json_object_set_new(t, "uses_left",
		    json_integer(atoi(PQgetvalue(res, i, 3))));
		json_object_set_new(t, "uses",
		    json_integer(atoi(PQgetvalue(res, i, 4))));
		json_object_set_new(t, "allow_rekey",
		    json_boolean(strcmp(PQgetvalue(res, i, 5), "t") == 0));
		json_object_set_new(t, "cidrs",
		    pg_array_json(PQgetvalue(res, i, 6)));
		json_object_set_new(t, "expires_at",
		    json_string(PQgetvalue(res, i, 7)));
		json_object_set_new(t, "created_by",
		    json_string(PQgetvalue(res, i, 8)));
		json_object_set_new(t, "created_at",
		    json_string(PQgetvalue(res, i, 9)));
		json_object_set_new(t, "state",
		    json_string(PQgetvalue(res, i, 10)));
		json_array_append_new(list, t);
	}
	PQclear(res);
	json_object_set_new(r->resp, "tokens", list);
	return 0;
}

int
act_enrol_token_revoke(struct request *r)
{
	long long id;
	struct params p;
	PGresult *res;
	int e, n;

	if ((e = proto_get_int(r->req, "token_id", 1, 1, LLONG_MAX, &id,
	    &r->why)) != 0)
		return e;
	if (r->detail == NULL)
		r->detail = json_object();
	json_object_set_new(r->detail, "token_id", json_integer(id));
	params_init(&p);
	params_int(&p, id);
	if ((e = db_exec_params(r->db, ST_TOKEN_REVOKE, &p, &res)) != 0)
		return e;
	n = PQntuples(res);
	PQclear(res);
	return n == 0 ? req_fail(r, SD_ENOTFOUND, "no such token") : 0;
}

/* Does any CIDR of the token (a text[] literal) hold addr? "{}": yes. */
static int
cidrs_allow(const char *arr, const char *addr)
{
	char *copy, *tok, *save = NULL;
	size_t n = strlen(arr);
	int ok = 0;

	if (n <= 2)
		return 1;
	if (*addr == '\0')
		return 0;
	copy = xstrndup(arr + 1, n - 2);
	for (tok = strtok_r(copy, ",", &save); tok != NULL && !ok;
	    tok = strtok_r(NULL, ",", &save))
		ok = cidr_contains(tok, addr);
	free(copy);
	return ok;
}

/* Refuse, counting a failure for the client (fails closed: if the count
 * cannot be written, the request fails with that error instead). */
static int
refused(struct request *r)
{
	int e;

	if ((e = ratelimit_fail(r)) != 0)
		return e;
	return req_fail(r, SD_EPERM, "enrolment refused: the token is not "
	    "valid for this name from this address");
}

/* Create the principal, or give an existing one the session's key. */
static int
bind_key(struct request *r, const char *name, int allow_rekey,
    const char *group_ids, int *rekeyed)
{
	const struct sshkey_pub *k = &r->sess->key;
	struct params p;
	long long id;
	PGresult *res;
	int e;

	e = principal_id(r, name, &id);
	if (e != 0 && e != SD_ENOTFOUND)
		return e;
	params_init(&p);
	if (e == 0) {
		if (!allow_rekey)
			return req_fail(r, SD_EEXISTS, "principal exists and "
			    "the token does not allow rekeying");
		if ((e = delegate_rekey_target(r, id, name, group_ids)) != 0)
			return e;
		params_int(&p, id);
		if ((e = db_run_params(r->db, ST_PRINCIPAL_KEYS_DELETE,
		    &p)) != 0)
			return e;
		*rekeyed = 1;
	} else {
		r->why = NULL;
		params_text(&p, name);
		if ((e = db_exec_params(r->db, ST_PRINCIPAL_CREATE, &p,
		    &res)) != 0)
			return e;
		id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	params_text(&p, k->fp);
	params_int(&p, id);
	params_text(&p, k->type);
	params_text(&p, k->b64);
	e = db_run_params(r->db, ST_KEY_ADD, &p);
	if (e == SD_EEXISTS)
		return req_fail(r, e, "this key already belongs to a principal");
	if (e != 0)
		return e;
	params_int(&p, id);
	params_text(&p, group_ids);
	return db_run_params(r->db, ST_MEMBER_ADD_IDS, &p);
}

int
act_enrol(struct request *r)
{
	const char *token, *name, *v[1];
	unsigned char hash[32];
	PGresult *res;
	int e, rekeyed = 0, ok, blocked;

	if (!r->sess->enrol_only)
		return req_fail(r, SD_EBADREQ, "this key already belongs to "
		    "principal %s", r->sess->principal);
	if ((e = ratelimit_blocked(r, &blocked)) != 0)
		return e;
	if (blocked)
		return req_fail(r, SD_ERATE, "too many failed enrolments from "
		    "this address; try again later");
	if ((e = req_name(r, "principal", &name)) != 0 ||
	    (e = proto_get_string(r->req, "token", 1, &token, &r->why)) != 0)
		return e;
	if (strlen(token) > TOKEN_MAX_LEN ||
	    strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
		return refused(r);
	json_object_set_new(r->detail, "key_fingerprint",
	    json_string(r->sess->fingerprint));
	token_hash(token, hash);
	v[0] = (const char *)hash;
	if ((e = db_exec(r->db, ST_TOKEN_FIND, 1, v, (int[]){ 32 },
	    (int[]){ 1 }, &res)) != 0)
		return e;
	ok = PQntuples(res) == 1;
	if (ok) {
		size_t hlen = 0;
		unsigned char *stored = PQunescapeBytea(
		    (const unsigned char *)PQgetvalue(res, 0, 1), &hlen);

		ok = stored != NULL && hlen == 32 &&
		    sodium_memcmp(stored, hash, 32) == 0 &&
		    strcmp(PQgetvalue(res, 0, 6), "t") == 0 &&
		    fnmatch(PQgetvalue(res, 0, 2), name, 0) == 0 &&
		    cidrs_allow(PQgetvalue(res, 0, 5), r->sess->client_addr);
		PQfreemem(stored);
		json_object_set_new(r->detail, "token_id",
		    json_integer(atoll(PQgetvalue(res, 0, 0))));
	}
	if (!ok) {
		PQclear(res);
		return refused(r);
	}
	/* a valid token: what it gives, its creator must hold now */
	e = delegate_token_use(r, PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 3));
	if (e == 0)
		e = bind_key(r, name, strcmp(PQgetvalue(res, 0, 4), "t") == 0,
		    PQgetvalue(res, 0, 3), &rekeyed);
	if (e == 0) {
		v[0] = PQgetvalue(res, 0, 0);
		e = db_run(r->db, ST_TOKEN_USE, 1, v);
	}
	PQclear(res);
	if (e != 0)
		return e;
	log_info("enrolled %s with key %s%s", name, r->sess->fingerprint,
	    rekeyed ? " (rekeyed)" : "");
	json_object_set_new(r->resp, "principal", json_string(name));
	json_object_set_new(r->resp, "fingerprint",
	    json_string(r->sess->fingerprint));
	json_object_set_new(r->resp, "rekeyed", json_boolean(rekeyed));
	return 0;
}

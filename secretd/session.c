/*
 * session.c - the request loop of one connection.
 *
 * The first line must be "hello" (a secret-shell session) or
 * "key.lookup" (sshd's AuthorizedKeysCommand asking about a key).  After
 * hello, each line is one request: parsed strictly, dispatched through
 * the action table, run in its transaction with its audit row, and
 * answered with exactly one line, in order.  A bad line gets an error
 * response and the loop goes on; only framing loss, the idle timeout, a
 * write the client does not read within idle_timeout, a revoked key, or
 * the end of an enrol-only session's lifetime end the session.  Response
 * buffers are wiped after use since they may carry secret values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dispatch.h"
#include "exec.h"
#include "linereader.h"
#include "log.h"
#include "monotime.h"
#include "proto.h"
#include "revoke.h"
#include "session.h"
#include "sesslimit.h"
#include "stats.h"
#include "store.h"
#include "watch.h"
#include "xmalloc.h"

#define REQUEST_ID_MAX	128

/*
 * The most JSON values (and object members) a request may hold.  Parsed,
 * each costs ~100 bytes whatever its size, so a 1 MiB line of tiny values
 * grew the daemon by up to 37 MiB; capped, a request costs at most ~7 MiB
 * more than its bytes (docs/security.md, "Memory per request").  The largest
 * request in use, a get_many of 10 000 paths, fits up to 5 levels deep.
 */
#define REQUEST_MAX_VALUES	65536

/*
 * An upper bound on the values and members of JSON text: each but the
 * first follows a '[', '{', ',' or ':' outside a string.
 */
static size_t
json_value_bound(const char *s, size_t len)
{
	size_t i, n = 1;
	int in_str = 0;

	for (i = 0; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '[' || s[i] == '{' || s[i] == ',' ||
		    s[i] == ':')
			n++;
	}
	return n;
}

/*
 * Send one answer.  A client that does not read it within idle_timeout
 * is dropped: it would hold its thread (and its place) for ever.
 */
static int
send_json(const struct server_ctx *ctx, int fd, json_t *obj)
{
	size_t len;
	char *buf = proto_dump(obj, &len);
	int r = write_all_timeout(fd, buf, len, ctx->cfg->idle_timeout * 1000);

	if (r != 0 && errno == ETIMEDOUT)
		log_warn("the client read no answer for %d s: dropped",
		    ctx->cfg->idle_timeout);
	freezero(buf, len);
	return r;
}

/* Parse $SSH_CONNECTION ("client_ip client_port server_ip server_port"). */
static void
parse_client(struct session *s, const char *client)
{
	char addr[64];
	int port;

	if (client == NULL || sscanf(client, "%63s %d", addr, &port) != 2 ||
	    port <= 0 || port > 65535 ||
	    strspn(addr, "0123456789abcdefABCDEF.:") != strlen(addr))
		return;
	snprintf(s->client_addr, sizeof(s->client_addr), "%s", addr);
	s->client_port = port;
}

/* Look up a key's principal.  0 with *pid (0 if unknown), or error. */
static int
lookup_key(const struct server_ctx *ctx, const char *fp, int64_t *pid,
    char *name, size_t namelen)
{
	struct db *db;
	PGresult *res;
	const char *v[1] = { fp };
	int e;

	*pid = 0;
	if ((e = db_acquire(ctx->pool, &db)) != 0)
		return e;
	e = db_exec(db, ST_KEY_LOOKUP, 1, v, NULL, NULL, &res);
	db_release(ctx->pool, db);
	if (e != 0)
		return e;
	if (PQntuples(res) == 1) {
		*pid = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(name, namelen, "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return 0;
}

/* Audit a refused hello (unknown key) on its own. */
static void
audit_refused(const struct server_ctx *ctx, struct session *s,
    const json_t *req)
{
	struct request r;

	req_init(&r, ctx, s, req);
	if (exec_audit(&r, "hello", SD_EUNAUTH) != 0)
		log_warn("refused hello not audited");
	req_free(&r);
}

/*
 * Handle the first line.  Returns 1 to go on serving requests, 0 to
 * close the connection (after the answer was sent).
 */
static int
session_start(const struct server_ctx *ctx, struct session *s, int fd,
    const char *line, size_t len)
{
	struct sshkey_pub *key = &s->key;
	const char *why = NULL, *action = NULL, *k = NULL, *client = NULL;
	json_t *req, *resp;
	int e, go_on = 0;

	if ((req = proto_parse(line, len, &why)) == NULL) {
		resp = proto_error(NULL, SD_EBADREQ, why);
		goto out;
	}
	if (proto_get_string(req, "action", 1, &action, &why) != 0 ||
	    (strcmp(action, "hello") != 0 &&
	    strcmp(action, "key.lookup") != 0)) {
		resp = proto_error(json_object_get(req, "id"), SD_EUNAUTH,
		    "the first request must be hello");
		goto out;
	}
	if (proto_get_string(req, "key", 1, &k, &why) != 0 ||
	    proto_get_string(req, "client", 0, &client, &why) != 0 ||
	    sshkey_parse_line(k, strlen(k), key, &why) != 0) {
		resp = proto_error(json_object_get(req, "id"), SD_EBADREQ, why);
		goto out;
	}
	snprintf(s->fingerprint, sizeof(s->fingerprint), "%s", key->fp);
	e = lookup_key(ctx, key->fp, &s->principal_id, s->principal,
	    sizeof(s->principal));
	if (e != 0) {
		resp = proto_error(json_object_get(req, "id"), e,
		    "cannot look up the key now");
		goto out;
	}
	resp = proto_ok(json_object_get(req, "id"));
	if (strcmp(action, "key.lookup") == 0) {
		json_object_set_new(resp, "status", json_string(
		    s->principal_id ? "known" : ctx->cfg->enrol_unknown_keys ?
		    "enrol_only" : "unknown"));
		goto out;
	}
	parse_client(s, client);
	if (s->principal_id == 0 && !ctx->cfg->enrol_unknown_keys) {
		log_info("unknown key %s from %s refused", s->fingerprint,
		    s->client_addr[0] ? s->client_addr : "?");
		audit_refused(ctx, s, req);
		json_decref(resp);
		resp = proto_error(json_object_get(req, "id"), SD_EUNAUTH,
		    "key not known");
		goto out;
	}
	s->enrol_only = s->principal_id == 0;
	if ((e = sesslimit_begin(ctx->cfg, s->principal_id, s->whybuf,
	    sizeof(s->whybuf))) != 0) {
		log_warn("session for %s (%s) from %s refused: %s",
		    s->enrol_only ? "(enrol-only)" : s->principal,
		    s->fingerprint, s->client_addr[0] ? s->client_addr : "?",
		    s->whybuf);
		json_decref(resp);
		resp = proto_error(json_object_get(req, "id"), e, s->whybuf);
		goto out;
	}
	s->counted = 1;
	json_object_set_new(resp, "principal", s->enrol_only ? json_null() :
	    json_string(s->principal));
	json_object_set_new(resp, "enrol_only", json_boolean(s->enrol_only));
	json_object_set_new(resp, "session", json_string(s->id));
	log_info("session for %s (%s) from %s", s->enrol_only ? "(enrol-only)" :
	    s->principal, s->fingerprint,
	    s->client_addr[0] ? s->client_addr : "?");
	go_on = 1;
out:
	if (send_json(ctx, fd, resp) != 0)
		go_on = 0;
	json_decref(resp);
	json_decref(req);
	return go_on;
}

/* Run one action; returns the response object. */
static json_t *
run_action(const struct server_ctx *ctx, struct session *s,
    const struct action *a, const json_t *req)
{
	struct request r;
	const json_t *id = json_object_get(req, "id");
	json_t *resp;
	int e;
	int64_t t0 = stats_now_ns();

	req_init(&r, ctx, s, req);
	e = exec_request(&r, a);
	/* refused: because the session's key is gone?  Then say so and
	 * close (revoke.h); a refusal is the only sign of it */
	if ((e == SD_EPERM || r.refused) && revoke_check(ctx, s)) {
		e = SD_EUNAUTH;
		r.why = revoke_message(s, r.whybuf, sizeof(r.whybuf));
	}
	stats_request(dispatch_slot(a), e, t0);
	if (e != 0) {
		if (r.why == NULL)
			r.why = e == SD_EUNAVAIL ? "database unavailable, "
			    "retry later" : "internal error (see the server log)";
		resp = proto_error(id, e, r.why);
	} else {
		resp = r.resp;
		r.resp = NULL;
	}
	req_free(&r);
	return resp;
}

static json_t *
handle_line(const struct server_ctx *ctx, struct session *s,
    const char *line, size_t len)
{
	const struct action *a;
	const char *why = NULL, *action = NULL;
	const json_t *id;
	json_t *req, *resp;

	if (json_value_bound(line, len) > REQUEST_MAX_VALUES)
		return proto_error(NULL, SD_ETOOLARGE, "more than 65536 JSON "
		    "values in one request");
	if ((req = proto_parse(line, len, &why)) == NULL)
		return proto_error(NULL, SD_EBADREQ, why);
	id = json_object_get(req, "id");
	if (id != NULL && !json_is_integer(id) && !(json_is_string(id) &&
	    json_string_length(id) <= REQUEST_ID_MAX) && !json_is_null(id)) {
		json_decref(req);
		return proto_error(NULL, SD_EBADREQ, "id must be an integer or "
		    "a string of at most 128 bytes");
	}
	if (proto_get_string(req, "action", 1, &action, &why) != 0)
		resp = proto_error(id, SD_EBADREQ, why);
	else if ((a = dispatch_find(action)) == NULL)
		resp = proto_error(id, SD_EBADREQ, "unknown action");
	else
		resp = run_action(ctx, s, a, req);
	json_decref(req);
	return resp;
}

void
session_run(const struct server_ctx *ctx, int fd, unsigned long conn_no)
{
	struct session s;
	struct linereader *lr;
	unsigned char rnd[8];
	char tag[32], *line;
	size_t len;
	int r, timeout = ctx->cfg->idle_timeout * 1000;
	int64_t end = -1;	/* enrol-only: when its lifetime is over */
	json_t *resp;

	memset(&s, 0, sizeof(s));
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(s.id, sizeof(s.id), rnd, sizeof(rnd));
	snprintf(tag, sizeof(tag), "c%lu", conn_no);
	log_set_tag(tag);
	lr = linereader_fd(fd, ctx->cfg->max_request_size);

	r = linereader_next(lr, timeout, &line, &len);
	if (r != LR_LINE || !session_start(ctx, &s, fd, line, len))
		goto out;
	snprintf(tag, sizeof(tag), "s%.8s", s.id);
	log_set_tag(tag);
	if (s.enrol_only) {
		/* anyone's key may get here: short, small, few (sesslimit.h) */
		linereader_set_max(lr, ctx->cfg->enrol_max_request_size);
		end = monotime_ms() + ctx->cfg->enrol_session_lifetime * 1000LL;
	}

	for (;;) {
		if (end >= 0 && (timeout = (int)(end - monotime_ms())) <= 0) {
			log_info("enrol-only session closed after %d s "
			    "(enrol_session_lifetime)",
			    ctx->cfg->enrol_session_lifetime);
			break;
		}
		if (timeout > ctx->cfg->idle_timeout * 1000)
			timeout = ctx->cfg->idle_timeout * 1000;
		/* a watching session is idle by design: it waits for
		 * changes, and for its next request after them */
		if (s.watch != NULL && !watch_wait(ctx, &s, fd, lr))
			break;
		r = linereader_next(lr, timeout, &line, &len);
		if (r == LR_LINE)
			resp = handle_line(ctx, &s, line, len);
		else if (r == LR_TOOLONG)
			resp = proto_error(NULL, SD_ETOOLARGE,
			    "request line too long");
		else if (r == LR_NUL)
			resp = proto_error(NULL, SD_EBADREQ,
			    "NUL byte in request");
		else {
			if (r == LR_TIMEOUT && end >= 0 && monotime_ms() >= end)
				log_info("enrol-only session closed after %d s "
				    "(enrol_session_lifetime)",
				    ctx->cfg->enrol_session_lifetime);
			else if (r == LR_TIMEOUT)
				log_debug("idle timeout");
			break;
		}
		r = send_json(ctx, fd, resp);
		json_decref(resp);
		if (r != 0)
			break;
		if (s.revoked) {
			log_info("key %s of %s was revoked: session closed",
			    s.fingerprint, s.principal);
			break;
		}
	}
out:
	watch_end(&s);
	if (s.counted)
		sesslimit_end(s.principal_id);
	sshkey_pub_free(&s.key);
	linereader_free(lr);
	log_set_tag(NULL);
}

/*
 * rpc.c - NDJSON requests and responses for the `secret` client over its
 * one SSH session (docs/protocol.md).
 *
 * Every response line is read through the bounded line reader and parsed
 * strictly; one that is too long, malformed, or answers another request
 * ends the session with an error instead of being guessed at.  Request
 * and response buffers may hold values: they are wiped when released.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "linereader.h"
#include "proto.h"
#include "xmalloc.h"

#include "client/output.h"
#include "client/rpc.h"
#include "client/sshconn.h"

#define RESPONSE_TIMEOUT_MS	(60 * 1000)

struct cli_rpc {
	const struct cli_config	*cfg;
	struct cli_ssh		*ssh;
	struct linereader	*lr;
	long long		 next_id;
	int			 failed;	/* exit status once broken */
	int			 sent;		/* cli_rpc_sent */
	int			 events;	/* events read while waiting
						   for a response (watch) */
};

struct cli_rpc *
cli_rpc_new(const struct cli_config *cfg)
{
	struct cli_rpc *r = xcalloc(1, sizeof(*r));

	r->cfg = cfg;
	r->next_id = 1;
	return r;
}

static int
ensure_open(struct cli_rpc *r)
{
	int st;

	if (r->failed)
		return r->failed;
	if (r->ssh != NULL)
		return 0;
	if ((st = cli_ssh_open(r->cfg, &r->ssh)) != 0)
		return r->failed = st;
	r->lr = linereader_cb(cli_ssh_read, r->ssh, PROTO_MAX_LINE_CAP);
	return 0;
}

/* The session is unusable from now on: report why (exit status 3). */
static int
lost(struct cli_rpc *r, const char *what)
{
	const char *said = cli_ssh_stderr(r->ssh);

	if (said != NULL)
		r->failed = cli_err_status("unavailable", CLI_EXIT_CONN,
		    "%s %s (server said: %s)", what, r->cfg->host, said);
	else
		r->failed = cli_err_status("unavailable", CLI_EXIT_CONN,
		    "%s %s", what, r->cfg->host);
	return r->failed;
}

/* The server broke the protocol: report it (exit status 1). */
static int
broken(struct cli_rpc *r, const char *what, const char *detail)
{
	r->failed = cli_err(SD_EINTERNAL, "bad response from %s: %s%s%s",
	    r->cfg->host, what, detail != NULL ? ": " : "",
	    detail != NULL ? detail : "");
	return r->failed;
}

/* Read the response to request id. */
static int
read_response(struct cli_rpc *r, long long id, json_t **resp, int *err)
{
	const json_t *ok, *rid, *e, *code;
	const char *why;
	char *line;
	size_t len;
	json_t *obj;

 again:
	switch (linereader_next(r->lr, RESPONSE_TIMEOUT_MS, &line, &len)) {
	case LR_LINE:
		break;
	case LR_EOF:
	case LR_EIO:
		return lost(r, "connection closed before a response from");
	case LR_TIMEOUT:
		return lost(r, "no response within 60 seconds from");
	case LR_TOOLONG:
		return broken(r, "response line too long", NULL);
	case LR_NUL:
		return broken(r, "NUL byte in a response", NULL);
	default:
		return broken(r, "cannot read a response", NULL);
	}
	if ((obj = proto_parse(line, len, &why)) == NULL)
		return broken(r, "malformed response", why);
	/* a watching session's event (no "ok", no "id"): noted, and the
	 * response comes after it (cli_rpc_next_event) */
	if (json_is_string(json_object_get(obj, "event")) &&
	    json_object_get(obj, "ok") == NULL) {
		json_decref(obj);
		r->events++;
		goto again;
	}
	ok = json_object_get(obj, "ok");
	rid = json_object_get(obj, "id");
	if (!json_is_boolean(ok)) {
		json_decref(obj);
		return broken(r, "response without \"ok\"", NULL);
	}
	/*
	 * Responses come in request order and echo the id.  An error
	 * without an id is the server failing to read our line at all (too
	 * long, say): it answers the request we are waiting for.
	 */
	if (rid != NULL && !json_is_null(rid) && (!json_is_integer(rid) ||
	    json_integer_value(rid) != id)) {
		json_decref(obj);
		return broken(r, "response to another request", NULL);
	}
	*err = SD_OK;
	if (json_is_false(ok)) {
		e = json_object_get(obj, "error");
		code = json_object_get(e, "code");
		*err = json_is_string(code) ?
		    sd_err_from_code(json_string_value(code)) : SD_EINTERNAL;
		if (*err == SD_OK)
			*err = SD_EINTERNAL;
	}
	*resp = obj;
	return 0;
}

int
cli_rpc_request(struct cli_rpc *r, json_t *req, json_t **resp, int *err)
{
	long long id;
	size_t len;
	char *buf;
	int st;

	*resp = NULL;
	*err = SD_OK;
	r->sent = 0;
	if (req == NULL)
		return cli_err(SD_EBADREQ, "an argument is not valid UTF-8");
	if ((st = ensure_open(r)) != 0) {
		json_decref(req);
		return st;
	}
	id = r->next_id++;
	if (json_object_set_new(req, "id", json_integer(id)) != 0 ||
	    (buf = proto_dump(req, &len)) == NULL) {
		json_decref(req);
		return cli_err(SD_EINTERNAL, "cannot build the request");
	}
	json_decref(req);
	r->sent = 1;	/* a part may reach the server even if this fails */
	st = cli_ssh_write(r->ssh, buf, len);
	freezero(buf, len);		/* may hold a value */
	if (st != 0)
		return lost(r, "cannot send a request to");
	return read_response(r, id, resp, err);
}

/* A protocol error code is a short lower-case word; anything else is not. */
static const char *
safe_code(const json_t *code)
{
	const char *s;
	size_t i;

	if (!json_is_string(code))
		return "internal";
	s = json_string_value(code);
	if (s[0] == '\0' || strlen(s) > 32)
		return "internal";
	for (i = 0; s[i] != '\0'; i++)
		if ((s[i] < 'a' || s[i] > 'z') && s[i] != '_')
			return "internal";
	return s;
}

int
cli_rpc_report(struct cli_rpc *r, const json_t *resp)
{
	const json_t *e = json_object_get(resp, "error");
	const json_t *msg = json_object_get(e, "message");
	const char *code = safe_code(json_object_get(e, "code"));

	if (r->cfg->json)
		(void)cli_print_json(resp);
	return cli_err_status(code, sd_err_exit_status(sd_err_from_code(code)),
	    "%s", json_is_string(msg) ? json_string_value(msg) :
	    "(no message)");
}

int
cli_rpc_call(struct cli_rpc *r, json_t *req, json_t **resp)
{
	int st, err;

	if ((st = cli_rpc_request(r, req, resp, &err)) != 0)
		return st;
	if (err != SD_OK) {
		st = cli_rpc_report(r, *resp);
		json_decref(*resp);
		*resp = NULL;
		return st;
	}
	return 0;
}

int
cli_rpc_open(struct cli_rpc *r)
{
	return ensure_open(r);
}

int
cli_rpc_sent(const struct cli_rpc *r)
{
	return r->sent;
}

void
cli_rpc_close(struct cli_rpc *r)
{
	linereader_free(r->lr);
	cli_ssh_close(r->ssh);
	r->lr = NULL;
	r->ssh = NULL;
}

void
cli_rpc_free(struct cli_rpc *r)
{
	if (r == NULL)
		return;
	cli_rpc_close(r);
	free(r);
}

int
cli_rpc_next_event(struct cli_rpc *r, int timeout_ms, json_t **ev)
{
	const char *why;
	char *line;
	size_t len;
	json_t *obj;
	int st;

	*ev = NULL;
	if ((st = ensure_open(r)) != 0)
		return st;
	if (r->events > 0) {
		r->events = 0;
		return 0;
	}
	switch (linereader_next(r->lr, timeout_ms, &line, &len)) {
	case LR_LINE:
		break;
	case LR_TIMEOUT:
		return CLI_RPC_IDLE;
	case LR_EOF:
	case LR_EIO:
		return lost(r, "connection closed by");
	case LR_TOOLONG:
		return broken(r, "event line too long", NULL);
	default:
		return broken(r, "cannot read an event", NULL);
	}
	if ((obj = proto_parse(line, len, &why)) == NULL)
		return broken(r, "malformed event", why);
	if (!json_is_string(json_object_get(obj, "event")) ||
	    json_object_get(obj, "ok") != NULL) {
		json_decref(obj);
		return broken(r, "a response to no request", NULL);
	}
	*ev = obj;
	return 0;
}

void
cli_rpc_reset(struct cli_rpc *r)
{
	cli_rpc_close(r);
	r->failed = 0;
	r->events = 0;
}

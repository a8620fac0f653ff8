/*
 * cmd_secret.c - the secret commands of `secret`: get, put, ls, history,
 * rm, undelete, rollback, destroy.  (edit, which also runs an editor, is
 * in cmd_edit.c.)
 *
 * A value is only ever read from stdin, a file or the generator, and only
 * ever written to stdout or the -o file; every buffer that held one is
 * wiped.  Nothing here prints a value anywhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "proto.h"
#include "table.h"
#include "xmalloc.h"

#include "client/cmd_secret.h"
#include "client/input.h"
#include "client/output.h"
#include "client/rpc.h"
#include "client/wait.h"

#define MAX_VERSION	(1LL << 53)	/* JSON-safe integers */
#define WAIT_MAX	(7LL * 86400)

/* --wait DURATION (0 without). */
static int
parse_wait(struct cli_ctx *ctx, const struct cli_args *a, long long *wait_s)
{
	const char *ws = cli_arg_last(a, OPT_WAIT);

	*wait_s = 0;
	if (ws != NULL && cli_parse_duration(ws, 0, WAIT_MAX, wait_s) != 0)
		return cli_usage(ctx->cmd, "--wait wants a duration such as "
		    "30s, 5m or 1h, not \"%s\"", ws);
	return 0;
}

/* One request, asked again by cli_retry (wait.h) while unavailable. */
struct attempt {
	json_t	*req;		/* kept: each attempt sends a reference */
	json_t	*resp;		/* the ok response */
	int	 maybe_done;	/* an attempt's outcome is unknown */
};

static int
read_attempt(struct cli_ctx *ctx, void *arg)
{
	struct attempt *t = arg;

	return cli_attempt_call(ctx, json_incref(t->req), NULL, &t->resp);
}

/*
 * A put with cas: repeating it cannot apply it twice.  But when an
 * attempt may have committed (the session ended after the request was
 * sent, or the server says the commit's outcome is unknown) and a later
 * one finds the version moved on, that conflict may be our own write:
 * the put ends there, unavailable with the outcome unknown.
 */
static int
cas_put_attempt(struct cli_ctx *ctx, void *arg)
{
	struct attempt *t = arg;
	const json_t *msg;
	json_t *resp;
	int st, err;

	if ((st = cli_rpc_request(ctx->rpc, json_incref(t->req), &resp,
	    &err)) != 0) {
		if (cli_rpc_sent(ctx->rpc))
			t->maybe_done = 1;
		return st;
	}
	if (err == SD_OK) {
		t->resp = resp;
		return 0;
	}
	msg = json_object_get(json_object_get(resp, "error"), "message");
	if (err == SD_EUNAVAIL && json_is_string(msg) &&
	    strcmp(json_string_value(msg), PROTO_MSG_OUTCOME_UNKNOWN) == 0)
		t->maybe_done = 1;
	if (err == SD_ECONFLICT && t->maybe_done) {
		json_decref(resp);
		cli_retry_stop();
		return cli_err(SD_EUNAVAIL, "an earlier attempt of this put "
		    "may have committed and the version has moved on: %s",
		    PROTO_MSG_OUTCOME_UNKNOWN);
	}
	st = cli_err(err, "%s", json_is_string(msg) ?
	    json_string_value(msg) : "(no message)");
	json_decref(resp);
	return st;
}

/* A put without cas is never sent twice: only the session is waited for. */
static int
open_attempt(struct cli_ctx *ctx, void *arg)
{
	(void)arg;
	return cli_rpc_open(ctx->rpc);
}

/* Open -o FILE before asking for the value, without truncating yet. */
static int
open_output(const char *file, int *fd, int *created)
{
	int flags = O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;

	*created = 0;
	*fd = open(file, flags | O_CREAT | O_EXCL, 0600);
	if (*fd >= 0) {
		*created = 1;
		return 0;
	}
	if (errno == EEXIST)
		*fd = open(file, flags);
	if (*fd < 0) {
		if (errno == ELOOP)
			return cli_err(SD_EBADREQ, "%s is a symbolic link; "
			    "refusing to write a secret through it", file);
		return cli_err(SD_EBADREQ, "cannot open %s: %s", file,
		    strerror(errno));
	}
	return 0;
}

/* Write the value to fd (replacing a regular file's content). */
static int
write_value(int fd, const char *name, const unsigned char *val, size_t len,
    int newline)
{
	if (fd != STDOUT_FILENO && ftruncate(fd, 0) != 0 && errno != EINVAL)
		return cli_err(SD_EINTERNAL, "cannot truncate %s: %s", name,
		    strerror(errno));
	fflush(stdout);
	if (cli_write_all(fd, val, len) != 0 ||
	    (newline && cli_write_all(fd, "\n", 1) != 0))
		return cli_err(SD_EINTERNAL, "write to %s: %s", name,
		    strerror(errno));
	return 0;
}

int
cli_get(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *file = cli_arg_last(a, OPT_OUTPUT), *vs, *why;
	unsigned char *val = NULL;
	json_t *path, *req, *resp;
	struct attempt t = { 0 };
	long long version = 0, wait_s;
	size_t vlen = 0;
	int st, fd = STDOUT_FILENO, created = 0, written = 0;

	if ((vs = cli_arg_last(a, OPT_VERSION)) != NULL &&
	    cli_parse_num(vs, 1, MAX_VERSION, &version) != 0)
		return cli_usage(ctx->cmd, "--version wants a number >= 1, "
		    "not \"%s\"", vs);
	if ((st = parse_wait(ctx, a, &wait_s)) != 0)
		return st;
	if (file != NULL && strcmp(file, "-") == 0)
		file = NULL;
	if ((st = cli_arg_path(a->pos[0], &path)) != 0)
		return st;
	req = json_pack("{s:s, s:o}", "action", "secret.get", "path", path);
	if (req != NULL && version > 0)
		json_object_set_new(req, "version", json_integer(version));
	if (file != NULL && (st = open_output(file, &fd, &created)) != 0) {
		json_decref(req);
		return st;
	}

	if (wait_s > 0) {
		t.req = req;
		st = cli_retry(ctx, wait_s, read_attempt, &t);
		json_decref(req);
		resp = t.resp;
	} else
		st = cli_rpc_call(ctx->rpc, req, &resp);
	if (st != 0)
		goto out;
	if (proto_get_value(resp, PROTO_MAX_LINE_CAP, &val, &vlen,
	    &why) != 0) {
		json_decref(resp);
		st = cli_err(SD_EINTERNAL, "bad response: %s", why);
		goto out;
	}
	if (ctx->cfg->json && file == NULL) {
		st = cli_emit_json(resp);	/* the raw response, value and all */
		goto out;
	}
	st = write_value(fd, file != NULL ? file : "stdout", val, vlen,
	    file == NULL && isatty(STDOUT_FILENO));
	if (st == 0 && fd != STDOUT_FILENO) {
		written = 1;
		if (close(fd) != 0)
			st = cli_err(SD_EINTERNAL, "write to %s: %s", file,
			    strerror(errno));
		fd = STDOUT_FILENO;
	}
	if (st == 0 && ctx->cfg->json) {
		/* The value went to the file: keep it out of stdout. */
		json_object_del(resp, "value");
		json_object_del(resp, "value_base64");
		st = cli_emit_json(resp);
	} else
		json_decref(resp);
 out:
	freezero(val, vlen);
	if (fd != STDOUT_FILENO)
		close(fd);
	if (st != 0 && created && !written)
		unlink(file);		/* leave no empty file behind */
	return st;
}

/*
 * Finish a command that made a new version: the raw response with
 * --json, else "version N" on a TTY.  Takes resp.
 */
int
cli_print_version(struct cli_ctx *ctx, json_t *resp)
{
	json_t *v;

	if (ctx->cfg->json)
		return cli_emit_json(resp);
	v = json_object_get(resp, "version");
	if (json_is_integer(v))
		cli_info(ctx->cfg, "version %lld",
		    (long long)json_integer_value(v));
	json_decref(resp);
	return cli_flush_stdout();
}

int
cli_put(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *file = cli_arg_last(a, OPT_FILE);
	const char *gen = cli_arg_last(a, OPT_GENERATE);
	const char *cs = cli_arg_last(a, OPT_CHARSET), *chars = NULL;
	const char *cass = cli_arg_last(a, OPT_CAS);
	unsigned char *val = NULL;
	long long cas = -1, glen = 0, wait_s;
	struct attempt t = { 0 };
	json_t *path, *req, *resp;
	size_t vlen = 0;
	int st;

	if (file != NULL && gen != NULL)
		return cli_usage(ctx->cmd, "-f and --generate exclude each "
		    "other");
	if (gen != NULL && cli_parse_num(gen, 1, CLI_MAX_VALUE, &glen) != 0)
		return cli_usage(ctx->cmd, "--generate wants a length from 1 "
		    "to %d, not \"%s\"", CLI_MAX_VALUE, gen);
	if (cs != NULL && gen == NULL)
		return cli_usage(ctx->cmd, "--charset goes with --generate");
	if (gen != NULL && (chars = cli_charset(cs != NULL ? cs :
	    "alnum")) == NULL)
		return cli_usage(ctx->cmd, "unknown --charset \"%s\" (alnum, "
		    "alpha, hex, base64url, print)", cs);
	if (cass != NULL && cli_parse_num(cass, 0, MAX_VERSION, &cas) != 0)
		return cli_usage(ctx->cmd, "--cas wants a version number "
		    ">= 0, not \"%s\"", cass);
	if ((st = parse_wait(ctx, a, &wait_s)) != 0)
		return st;
	if ((st = cli_arg_path(a->pos[0], &path)) != 0)
		return st;

	if (gen != NULL) {
		cli_generate_value((size_t)glen, chars, &val);
		vlen = (size_t)glen;
	} else if ((st = cli_read_value(file, a->pos[0], &val, &vlen)) != 0) {
		json_decref(path);
		return st;
	}
	req = json_pack("{s:s, s:o}", "action", "secret.put", "path", path);
	if (req != NULL) {
		proto_set_value(req, val, vlen);
		if (cas >= 0)
			json_object_set_new(req, "cas", json_integer(cas));
	}
	freezero(val, vlen);
	if (wait_s > 0 && cas >= 0 && req != NULL) {
		t.req = req;
		st = cli_retry(ctx, wait_s, cas_put_attempt, &t);
		json_decref(req);
		if (st != 0)
			return st;
		return cli_print_version(ctx, t.resp);
	}
	if (wait_s > 0 && req != NULL &&
	    (st = cli_retry(ctx, wait_s, open_attempt, NULL)) != 0) {
		json_decref(req);
		return st;
	}
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	return cli_print_version(ctx, resp);
}

int
cli_ls(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *path, *req, *resp, *entries, *e, *ch, *ep;
	size_t i, depth;
	char *p;
	int st;

	if ((st = cli_arg_path(a->npos > 0 ? a->pos[0] : "", &path)) != 0)
		return st;
	depth = json_array_size(path);
	req = json_pack("{s:s, s:o}", "action", "secret.list", "path", path);
	if (req != NULL && cli_arg_count(a, OPT_RECURSIVE) > 0)
		json_object_set_new(req, "recursive", json_true());
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	entries = json_object_get(resp, "entries");
	json_array_foreach(entries, i, e) {
		/* Relative to the listed node, as ls(1) does. */
		ep = json_object_get(e, "path");
		p = cli_printable_subpath(ep, json_array_size(ep) > depth ?
		    depth : 0, "/");
		ch = json_object_get(e, "children");
		printf("%s%s\n", p, json_is_integer(ch) &&
		    json_integer_value(ch) > 0 ? "/" : "");
		free(p);
	}
	if (json_is_true(json_object_get(resp, "truncated")))
		cli_warn(ctx->cfg, "listing truncated after %zu entries",
		    json_array_size(entries));
	json_decref(resp);
	return cli_flush_stdout();
}

int
cli_history(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *path, *req, *resp, *v;
	struct table *t;
	char *row[4];
	size_t i;
	int st;

	if ((st = cli_arg_path(a->pos[0], &path)) != 0)
		return st;
	req = json_pack("{s:s, s:o}", "action", "secret.history", "path",
	    path);
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	t = table_new(4, NULL, 0);
	row[0] = xstrdup("VERSION");
	row[1] = xstrdup("STATE");
	row[2] = xstrdup("CREATED");
	row[3] = xstrdup("BY");
	table_add(t, row);
	json_array_foreach(json_object_get(resp, "versions"), i, v) {
		row[0] = cli_printable_field(v, "version");
		row[1] = cli_printable_field(v, "state");
		row[2] = cli_printable_field(v, "created_at");
		row[3] = cli_printable_field(v, "created_by");
		table_add(t, row);
	}
	table_print(t, stdout);
	json_decref(resp);
	return cli_flush_stdout();
}

/*
 * The answer of rm or destroy: on a terminal the count the server reports
 * under key ("deleted 2 values"); with --json the response.
 */
static int
print_count(struct cli_ctx *ctx, json_t *resp, const char *key,
    const char *noun)
{
	const json_t *n;

	if (ctx->cfg->json)
		return cli_emit_json(resp);
	n = json_object_get(resp, key);
	if (json_is_integer(n))
		cli_info(ctx->cfg, "%s %lld %s%s", key,
		    (long long)json_integer_value(n), noun,
		    json_integer_value(n) == 1 ? "" : "s");
	json_decref(resp);
	return cli_flush_stdout();
}

int
cli_rm(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *path, *req, *resp;
	int st;

	if ((st = cli_arg_path(a->pos[0], &path)) != 0)
		return st;
	req = json_pack("{s:s, s:o}", "action", "secret.delete", "path",
	    path);
	if (req != NULL && cli_arg_count(a, OPT_RECURSIVE) > 0)
		json_object_set_new(req, "recursive", json_true());
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	return print_count(ctx, resp, "deleted", "value");
}

/* undelete/rollback: write version N's value again as a new version. */
static int
copy_version(struct cli_ctx *ctx, const struct cli_args *a,
    const char *action)
{
	json_t *path, *req, *resp;
	long long version;
	int st;

	if (cli_parse_num(a->pos[1], 1, MAX_VERSION, &version) != 0)
		return cli_usage(ctx->cmd, "VERSION wants a number >= 1, not "
		    "\"%s\"", a->pos[1]);
	if ((st = cli_arg_path(a->pos[0], &path)) != 0)
		return st;
	req = json_pack("{s:s, s:o, s:I}", "action", action, "path", path,
	    "version", (json_int_t)version);
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	return cli_print_version(ctx, resp);
}

int
cli_undelete(struct cli_ctx *ctx, const struct cli_args *a)
{
	return copy_version(ctx, a, "secret.undelete");
}

int
cli_rollback(struct cli_ctx *ctx, const struct cli_args *a)
{
	return copy_version(ctx, a, "secret.rollback");
}

int
cli_destroy(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *path, *req, *resp, *versions, *v;
	long long version;
	size_t k;
	int i, st, dup;

	versions = json_array();
	for (i = 1; i < a->npos; i++) {
		if (cli_parse_num(a->pos[i], 1, MAX_VERSION, &version) != 0) {
			json_decref(versions);
			return cli_usage(ctx->cmd, "VERSION wants a number "
			    ">= 1, not \"%s\"", a->pos[i]);
		}
		/* "destroy p 3 3" destroys version 3, once. */
		dup = 0;
		json_array_foreach(versions, k, v)
			if (json_integer_value(v) == version)
				dup = 1;
		if (!dup)
			json_array_append_new(versions, json_integer(version));
	}
	if ((st = cli_arg_path(a->pos[0], &path)) != 0) {
		json_decref(versions);
		return st;
	}
	req = json_pack("{s:s, s:o, s:o}", "action", "secret.destroy", "path",
	    path, "versions", versions);
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	return print_count(ctx, resp, "destroyed", "version");
}

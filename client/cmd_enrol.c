/*
 * cmd_enrol.c - enrolment tokens and enrolling (cmd_enrol.h).
 *
 * A token is a bearer secret: it is read only from a file, the
 * environment or stdin (never argv), never printed except by
 * `enrol-token create` on stdout, never put in an error message, and
 * every buffer that held it is wiped.  `enrol` asks whoami first: a key
 * that already is NAME is a success without spending the token, which
 * makes enrolling at every boot (and retrying after a lost answer) safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "table.h"
#include "xmalloc.h"

#include "client/cmd_enrol.h"
#include "client/input.h"
#include "client/output.h"
#include "client/wait.h"

#define TOKEN_MAX	1024		/* bytes read, whitespace included */
#define TOKEN_PREFIX	"se1_"
#define TTL_MAX		(100LL * 365 * 86400)	/* the server caps lower */
#define WAIT_MAX	(7LL * 86400)

const struct cli_optspec cli_opts_enrol_token_create[] = {
	{ "name-pattern",	0, 1, OPT_ENROL_NAME_PATTERN },
	{ "group",		0, 1, OPT_ENROL_GROUP },
	{ "ttl",		0, 1, OPT_ENROL_TTL },
	{ "uses",		0, 1, OPT_ENROL_USES },
	{ "allow-rekey",	0, 0, OPT_ENROL_ALLOW_REKEY },
	{ "cidr",		0, 1, OPT_ENROL_CIDR },
	CLI_OPT_END
};

const struct cli_optspec cli_opts_enrol[] = {
	{ "name",		0, 1, OPT_ENROL_NAME },
	{ "token-file",		0, 1, OPT_ENROL_TOKEN_FILE },
	{ "wait",		0, 1, OPT_ENROL_WAIT },
	CLI_OPT_END
};

/* A JSON array of every argument of option id. */
static json_t *
arg_array(const struct cli_args *a, int id)
{
	json_t *arr = json_array();
	const char *s;
	int i;

	for (i = 0; (s = cli_arg_nth(a, id, i)) != NULL; i++)
		json_array_append_new(arr, json_string(s));
	return arr;
}

int
cli_enrol_token_create(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *ttls = cli_arg_last(a, OPT_ENROL_TTL);
	const char *usess = cli_arg_last(a, OPT_ENROL_USES);
	const char *pattern = cli_arg_last(a, OPT_ENROL_NAME_PATTERN);
	const json_t *tok, *id, *exp;
	long long ttl = 3600, uses = 1;
	json_t *req, *resp, *groups, *cidrs;
	const char *t;
	char *when;
	size_t i;
	int st;

	if (ttls != NULL && cli_parse_duration(ttls, 1, TTL_MAX, &ttl) != 0)
		return cli_usage(ctx->cmd, "--ttl wants a duration such as 90s, "
		    "30m, 1h or 7d, not \"%s\"", ttls);
	if (usess != NULL && cli_parse_num(usess, 1, 1LL << 31, &uses) != 0)
		return cli_usage(ctx->cmd, "--uses wants a number >= 1, not "
		    "\"%s\"", usess);
	groups = arg_array(a, OPT_ENROL_GROUP);
	cidrs = arg_array(a, OPT_ENROL_CIDR);
	req = json_pack("{s:s, s:I, s:I, s:b, s:o, s:o}", "action",
	    "enrol.token_create", "ttl", (json_int_t)ttl, "uses",
	    (json_int_t)uses, "allow_rekey",
	    cli_arg_count(a, OPT_ENROL_ALLOW_REKEY) > 0, "groups", groups,
	    "cidrs", cidrs);
	if (req != NULL && pattern != NULL)
		json_object_set_new(req, "name_pattern", json_string(pattern));
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	tok = json_object_get(resp, "token");
	t = json_string_value(tok);
	for (i = 0; t != NULL && t[i] != '\0'; i++)
		if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] >= 0x7f)
			t = NULL;
	if (t == NULL || strncmp(t, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0) {
		json_decref(resp);
		return cli_err(SD_EINTERNAL, "bad response: no token in it");
	}
	/* stdout holds the token alone, for $(...) and pipes. */
	printf("%s\n", t);
	st = cli_flush_stdout();
	if (st == 0 && !ctx->cfg->quiet && isatty(STDERR_FILENO)) {
		id = json_object_get(resp, "token_id");
		exp = json_object_get(resp, "expires_at");
		when = cli_printable(json_string_value(exp));
		fprintf(stderr, "token %lld, valid until %s for %lld "
		    "enrolment%s; it is shown only this once\n",
		    (long long)json_integer_value(id), when, uses,
		    uses == 1 ? "" : "s");
		free(when);
	}
	json_decref(resp);
	return st;
}

int
cli_enrol_token_list(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *req, *resp, *v;
	struct table *t;
	char *row[9], *p;
	size_t i;
	int st;

	req = json_pack("{s:s}", "action", "enrol.token_list");
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	t = table_new(9, NULL, 0);
	row[0] = xstrdup("ID");
	row[1] = xstrdup("STATE");
	row[2] = xstrdup("USED");
	row[3] = xstrdup("LEFT");
	row[4] = xstrdup("EXPIRES");
	row[5] = xstrdup("NAMES");
	row[6] = xstrdup("GROUPS");
	row[7] = xstrdup("REKEY");
	row[8] = xstrdup("CIDRS");
	table_add(t, row);
	json_array_foreach(json_object_get(resp, "tokens"), i, v) {
		row[0] = cli_printable_field(v, "token_id");
		row[1] = cli_printable_field(v, "state");
		row[2] = cli_printable_field(v, "uses");
		row[3] = cli_printable_field(v, "uses_left");
		row[4] = cli_printable_field(v, "expires_at");
		row[5] = cli_printable_field(v, "name_pattern");
		row[6] = cli_printable_list(json_object_get(v, "groups"), ",",
		    "-");
		row[7] = xstrdup(json_is_true(json_object_get(v,
		    "allow_rekey")) ? "yes" : "no");
		p = cli_printable_list(json_object_get(v, "cidrs"), ",", "any");
		row[8] = p;
		table_add(t, row);
	}
	table_print(t, stdout);
	json_decref(resp);
	return cli_flush_stdout();
}

int
cli_enrol_token_revoke(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *req, *resp;
	long long id;
	int st;

	if (cli_parse_num(a->pos[0], 1, 1LL << 53, &id) != 0)
		return cli_usage(ctx->cmd, "TOKEN_ID wants a number >= 1 (as "
		    "enrol-token list shows), not \"%s\"", a->pos[0]);
	req = json_pack("{s:s, s:I}", "action", "enrol.token_revoke",
	    "token_id", (json_int_t)id);
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	cli_info(ctx->cfg, "revoked token %lld", id);
	json_decref(resp);
	return cli_flush_stdout();
}

/* [a-z0-9][a-z0-9._@-]{0,63}, the principal name rule. */
static int
principal_name_valid(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("._@-", s[i]) != NULL))
			return 0;
	return i <= 64;
}

/* Read all of fd, at most TOKEN_MAX bytes, into buf (TOKEN_MAX + 1). */
static int
read_token_fd(int fd, char *buf, size_t *len)
{
	size_t n = 0;
	ssize_t r;

	for (;;) {
		r = read(fd, buf + n, TOKEN_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > TOKEN_MAX) {
			errno = EFBIG;
			return -1;
		}
	}
	*len = n;
	return 0;
}

/*
 * The token, from --token-file, else $SECRET_ENROL_TOKEN, else stdin (a
 * terminal: asked for without echo).  One word on one line; surrounding
 * white space is dropped.  *out is malloc'ed: freezero_str() it.
 */
static int
read_token(const char *file, char **out)
{
	const char *env = getenv("SECRET_ENROL_TOKEN"), *from;
	char *buf = xcalloc(1, TOKEN_MAX + 2), *p, *end;
	size_t len = 0, i;
	int fd = -1, r = 0, saved;

	*out = NULL;
	if (file != NULL && strcmp(file, "-") != 0) {
		from = file;
		if ((fd = open(file, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0 ||
		    read_token_fd(fd, buf, &len) != 0)
			r = -1;
		saved = errno;
		if (fd >= 0)
			close(fd);
		errno = saved;
	} else if (file == NULL && env != NULL && *env != '\0') {
		from = "$SECRET_ENROL_TOKEN";
		len = strlen(env);
		if (len > TOKEN_MAX)
			len = TOKEN_MAX + 1;	/* reported below */
		else
			memcpy(buf, env, len);
	} else if (isatty(STDIN_FILENO)) {
		from = "the terminal";
		if (cli_tty_read_hidden("Enrolment token (not echoed): ", buf,
		    TOKEN_MAX + 1) != 0)
			r = -1;
		len = strlen(buf);
	} else {
		from = "stdin";
		r = read_token_fd(STDIN_FILENO, buf, &len);
	}
	if (r != 0 || len > TOKEN_MAX) {
		saved = errno;
		freezero(buf, TOKEN_MAX + 2);
		if (len > TOKEN_MAX || saved == EFBIG)
			return cli_err(SD_EBADREQ, "the token from %s is longer "
			    "than %d bytes: not an enrolment token", from,
			    TOKEN_MAX);
		return cli_err(SD_EBADREQ, "cannot read the token from %s: %s",
		    from, strerror(saved));
	}
	buf[len] = '\0';
	for (p = buf; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
		;
	for (end = buf + len; end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'); end--)
		;
	*end = '\0';
	r = strncmp(p, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0 &&
	    p[strlen(TOKEN_PREFIX)] != '\0';
	for (i = strlen(TOKEN_PREFIX); r && p[i] != '\0'; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' &&
		    p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '-' || p[i] == '_'))
			r = 0;
	if (!r) {
		freezero(buf, TOKEN_MAX + 2);
		if (p == end)
			return cli_err(SD_EBADREQ, "no enrolment token in %s",
			    from);
		return cli_err(SD_EBADREQ, "%s does not hold an enrolment "
		    "token (one line: " TOKEN_PREFIX " and base64url)", from);
	}
	*out = xstrdup(p);
	freezero(buf, TOKEN_MAX + 2);
	return 0;
}

struct enrol {
	const char	*name;
	const char	*token;
	json_t		*resp;		/* the answer to print */
	int		 already;	/* the key already is name */
};

/*
 * Send an enrol without the token from a session whose key is already a
 * principal's.  The server refuses it with bad_request before it looks
 * for a token, and that refusal is its audit row: every enrolment
 * attempt, a repeated one too, leaves one.  Any other answer is
 * reported.
 */
static int
record_attempt(struct cli_ctx *ctx, const char *name)
{
	json_t *req, *resp;
	const json_t *msg;
	int st, err;

	req = json_pack("{s:s, s:s}", "action", "enrol", "principal", name);
	if ((st = cli_rpc_request(ctx->rpc, req, &resp, &err)) != 0)
		return st;
	if (err == SD_EBADREQ) {
		json_decref(resp);
		return 0;
	}
	msg = json_object_get(json_object_get(resp, "error"), "message");
	st = cli_err(err == SD_OK ? SD_EINTERNAL : err, "enrol: %s",
	    err == SD_OK ? "the server accepted an enrolment without a "
	    "token" : json_is_string(msg) ? json_string_value(msg) :
	    "(no message)");
	json_decref(resp);
	return st;
}

static int
enrol_attempt(struct cli_ctx *ctx, void *arg)
{
	struct enrol *e = arg;
	const char *who;
	json_t *req, *resp;
	int st;

	json_decref(e->resp);
	e->resp = NULL;
	e->already = 0;
	req = json_pack("{s:s}", "action", "whoami");
	if ((st = cli_attempt_call(ctx, req, NULL, &resp)) != 0)
		return st;
	if (!json_is_true(json_object_get(resp, "enrol_only"))) {
		/* the attempt is still sent, without the token, so that the
		 * server records it (an enrol from a known key answers
		 * bad_request and leaves an audit row) */
		if ((st = record_attempt(ctx, e->name)) != 0) {
			json_decref(resp);
			return st;
		}
		who = json_string_value(json_object_get(resp, "principal"));
		if (who != NULL && strcmp(who, e->name) == 0) {
			e->already = 1;
			e->resp = resp;
			return 0;
		}
		st = cli_err(SD_EBADREQ, "this key already belongs to "
		    "principal %s; enrol is for a key the server does not "
		    "know", who != NULL ? who : "(unknown)");
		json_decref(resp);
		return st;
	}
	json_decref(resp);
	req = json_pack("{s:s, s:s, s:s}", "action", "enrol", "token",
	    e->token, "principal", e->name);
	if ((st = cli_attempt_call(ctx, req, NULL, &resp)) != 0)
		return st;
	e->resp = resp;
	return 0;
}

int
cli_enrol(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *name = cli_arg_last(a, OPT_ENROL_NAME);
	const char *ws = cli_arg_last(a, OPT_ENROL_WAIT);
	struct enrol e = { 0 };
	long long wait_s = 0;
	char *token = NULL, *fp;
	int st;

	if (name == NULL)
		return cli_usage(ctx->cmd, "--name NAME is required");
	if (!principal_name_valid(name))
		return cli_usage(ctx->cmd, "invalid principal name \"%s\" "
		    "(want [a-z0-9][a-z0-9._@-]*, at most 64 bytes)", name);
	if (ws != NULL && cli_parse_duration(ws, 0, WAIT_MAX, &wait_s) != 0)
		return cli_usage(ctx->cmd, "--wait wants a duration such as "
		    "30s, 5m or 1h, not \"%s\"", ws);
	if ((st = read_token(cli_arg_last(a, OPT_ENROL_TOKEN_FILE),
	    &token)) != 0)
		return st;
	e.name = name;
	e.token = token;
	st = cli_retry(ctx, wait_s, enrol_attempt, &e);
	freezero_str(token);
	if (st != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(e.resp);
	if (!ctx->cfg->quiet) {
		if (e.already)
			printf("already enrolled as %s\n", name);
		else {
			fp = cli_printable_field(e.resp, "fingerprint");
			printf("enrolled %s (%s)%s\n", name, fp,
			    json_is_true(json_object_get(e.resp, "rekeyed")) ?
			    ", replacing its previous keys" : "");
			free(fp);
		}
	}
	json_decref(e.resp);
	return cli_flush_stdout();
}

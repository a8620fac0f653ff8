/*
 * cmd_audit.c - the auditor's commands of `secret`: audit query (all
 * pages, newest first), audit verify (also against a head recorded
 * earlier), audit hash (the rows that recorded a candidate value) and
 * audit report (rendered by report.c / report_html.c).
 *
 * A candidate value for `audit hash` comes from stdin only (never argv)
 * and is wiped after use; nothing here prints it.  Rows and reports are
 * untrusted server data: printed through cli_printable() or a renderer
 * that escapes them.  `report -o FILE` is rendered in memory, then
 * written to a temporary file beside FILE (mode 0600) renamed over it,
 * so FILE is either the old one or the whole new report.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "proto.h"
#include "table.h"
#include "xmalloc.h"

#include "client/atomic.h"
#include "client/cmd_audit.h"
#include "client/input.h"
#include "client/output.h"
#include "client/report.h"

#define QUERY_DEFAULT		100	/* rows without --limit/--all */
#define QUERY_PAGE_MAX		1000	/* the server's cap per page */
#define QUERY_LIMIT_MAX		(1LL << 40)

const struct cli_optspec cli_audit_query_opts[] = {
	{ "since",	0, 1, OPT_AUDIT_SINCE },
	{ "until",	0, 1, OPT_AUDIT_UNTIL },
	{ "principal",	0, 1, OPT_AUDIT_PRINCIPAL },
	{ "path",	0, 1, OPT_AUDIT_PATH },
	{ "action",	0, 1, OPT_AUDIT_ACTION },
	{ "result",	0, 1, OPT_AUDIT_RESULT },
	{ "limit",	0, 1, OPT_AUDIT_LIMIT },
	{ "all",	0, 0, OPT_AUDIT_ALL },
	CLI_OPT_END
};

const struct cli_optspec cli_audit_report_opts[] = {
	{ "since",	0,   1, OPT_AUDIT_SINCE },
	{ "stale",	0,   1, OPT_AUDIT_STALE },
	{ "format",	0,   1, OPT_AUDIT_FORMAT },
	{ "output",	'o', 1, OPT_AUDIT_OUTPUT },
	CLI_OPT_END
};

/* ------------------------------------------------------------- paging */

/* Called for each row, newest first; returns 0 or an exit status. */
typedef int (*row_fn)(void *arg, const json_t *row);

/* base (not consumed) with "limit" and, if any, "cursor". */
static json_t *
page_request(const json_t *base, long long limit, const char *cursor)
{
	json_t *req = json_deep_copy(base);

	if (req != NULL) {
		json_object_set_new(req, "limit", json_integer(limit));
		if (cursor != NULL)
			json_object_set_new(req, "cursor", json_string(cursor));
	}
	return req;
}

/*
 * Run the audit.query base (not consumed) page after page, handing each
 * row to fn, until limit rows (-1: no limit) or the last page.  *more
 * (if more is not NULL) tells whether rows were left unread because of
 * the limit.  Returns 0 or an exit status (reported).
 */
static int
query_pages(struct cli_ctx *ctx, const json_t *base, long long limit,
    row_fn fn, void *arg, int *more)
{
	long long got = 0, last_id = LLONG_MAX, page, id;
	json_t *resp, *rows, *row, *nc;
	char *cursor = NULL;
	size_t i;
	int st = 0;

	if (more != NULL)
		*more = 0;
	for (;;) {
		page = limit < 0 || limit - got > QUERY_PAGE_MAX ?
		    QUERY_PAGE_MAX : limit - got;
		if ((st = cli_rpc_call(ctx->rpc, page_request(base, page,
		    cursor), &resp)) != 0)
			break;
		rows = json_object_get(resp, "rows");
		nc = json_object_get(resp, "next_cursor");
		if (!json_is_array(rows) || (nc != NULL && !json_is_null(nc) &&
		    !json_is_string(nc)) || (long long)json_array_size(rows) >
		    page) {
			json_decref(resp);
			st = cli_err(SD_EINTERNAL, "bad response to "
			    "audit.query: no rows, or more than asked for");
			break;
		}
		json_array_foreach(rows, i, row) {
			id = json_integer_value(json_object_get(row, "id"));
			/* Newest first, no row twice: ids strictly fall. */
			if (!json_is_object(row) || !json_is_integer(
			    json_object_get(row, "id")) || id >= last_id) {
				st = cli_err(SD_EINTERNAL, "bad response to "
				    "audit.query: rows out of order");
				break;
			}
			last_id = id;
			if ((st = fn(arg, row)) != 0)
				break;
			got++;
		}
		if (st == 0 && json_is_string(nc) && json_array_size(rows) == 0)
			st = cli_err(SD_EINTERNAL, "bad response to "
			    "audit.query: an empty page with a cursor");
		if (st != 0 || !json_is_string(nc)) {
			json_decref(resp);
			break;
		}
		free(cursor);
		cursor = xstrdup(json_string_value(nc));
		json_decref(resp);
		if (limit >= 0 && got >= limit) {
			/* A full last page may be all there is: ask for one. */
			if (more != NULL && (st = cli_rpc_call(ctx->rpc,
			    page_request(base, 1, cursor), &resp)) == 0) {
				*more = json_array_size(json_object_get(resp,
				    "rows")) > 0;
				json_decref(resp);
			}
			break;
		}
	}
	free(cursor);
	return st;
}

/* --------------------------------------------------------------- rows */

static void
row_header(struct table *t)
{
	static const char *const h[] = { "ID", "TIME", "PRINCIPAL", "ACTION",
	    "PATH", "VERSION", "RESULT", "CODE", "CLIENT" };
	char *cells[9];
	int i;

	for (i = 0; i < 9; i++)
		cells[i] = xstrdup(h[i]);
	table_add(t, cells);
}

/* "addr:port", "[v6]:port", "addr" or "-", made printable. */
static char *
client_cell(const json_t *row)
{
	const char *addr = json_string_value(json_object_get(row,
	    "client_addr"));
	const json_t *port = json_object_get(row, "client_port");
	char *raw, *out;

	if (addr == NULL)
		return xstrdup("-");
	if (!json_is_integer(port))
		return cli_printable(addr);
	raw = xasprintf(strchr(addr, ':') != NULL ? "[%s]:%lld" : "%s:%lld",
	    addr, (long long)json_integer_value(port));
	out = cli_printable(raw);
	free(raw);
	return out;
}

/* One row as table cells (the format of `audit query`). */
static void
row_add(struct table *t, const json_t *row)
{
	const json_t *path = json_object_get(row, "path");
	char *c[9];

	c[0] = cli_printable_field(row, "id");
	c[1] = cli_printable_field(row, "at");
	c[2] = json_is_string(json_object_get(row, "principal")) ?
	    cli_printable_field(row, "principal") :
	    cli_printable_field(row, "fingerprint");
	c[3] = cli_printable_field(row, "action");
	c[4] = json_is_array(path) ? cli_printable_path(path, "/") :
	    xstrdup("-");
	c[5] = cli_printable_field(row, "version");
	c[6] = cli_printable_field(row, "result");
	c[7] = cli_printable_field(row, "error_code");
	c[8] = client_cell(row);
	table_add(t, c);
}

struct query_out {
	struct table	*t;	/* human output; NULL: NDJSON */
	size_t			 n;
};

static int
query_row(void *arg, const json_t *row)
{
	struct query_out *q = arg;

	q->n++;
	if (q->t == NULL)
		return cli_print_json(row);
	if (q->n == 1)
		row_header(q->t);
	row_add(q->t, row);
	return 0;
}

/* -------------------------------------------------------------- query */

static int
valid_result(const char *s)
{
	return strcmp(s, "ok") == 0 || strcmp(s, "denied") == 0 ||
	    strcmp(s, "error") == 0;
}

int
cli_audit_query(struct cli_ctx *ctx, const struct cli_args *a)
{
	static const struct {
		int		 id;
		const char	*field;
	} strs[] = {
		{ OPT_AUDIT_SINCE, "since" }, { OPT_AUDIT_UNTIL, "until" },
		{ OPT_AUDIT_PRINCIPAL, "principal" },
		{ OPT_AUDIT_ACTION, "filter_action" },
		{ OPT_AUDIT_RESULT, "result" },
	};
	const char *ls = cli_arg_last(a, OPT_AUDIT_LIMIT), *v;
	const char *res = cli_arg_last(a, OPT_AUDIT_RESULT);
	const char *path = cli_arg_last(a, OPT_AUDIT_PATH);
	long long limit = QUERY_DEFAULT;
	struct query_out q;
	json_t *base, *p, *js;
	size_t i;
	int st, more;

	if (ls != NULL && cli_arg_count(a, OPT_AUDIT_ALL) > 0)
		return cli_usage(ctx->cmd, "--limit and --all exclude each "
		    "other");
	if (ls != NULL && cli_parse_num(ls, 1, QUERY_LIMIT_MAX, &limit) != 0)
		return cli_usage(ctx->cmd, "--limit wants a number >= 1, not "
		    "\"%s\"", ls);
	if (cli_arg_count(a, OPT_AUDIT_ALL) > 0)
		limit = -1;
	if (res != NULL && !valid_result(res))
		return cli_usage(ctx->cmd, "--result is ok, denied or error, "
		    "not \"%s\"", res);

	base = json_pack("{s:s}", "action", "audit.query");
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if ((v = cli_arg_last(a, strs[i].id)) == NULL)
			continue;
		if ((js = json_string(v)) == NULL) {
			json_decref(base);
			return cli_err(SD_EBADREQ, "--%s is not valid UTF-8",
			    strs[i].field);
		}
		json_object_set_new(base, strs[i].field, js);
	}
	if (path != NULL) {
		if ((st = cli_arg_path(path, &p)) != 0) {
			json_decref(base);
			return st;
		}
		json_object_set_new(base, "path_prefix", p);
	}

	memset(&q, 0, sizeof(q));
	if (!ctx->cfg->json)
		q.t = table_new(9, NULL, 0);
	st = query_pages(ctx, base, limit, query_row, &q, &more);
	json_decref(base);
	/* After a failure, the rows read before it are still shown. */
	if (q.t != NULL)
		table_print(q.t, stdout);
	if (st == 0 && more)
		cli_warn(ctx->cfg, "more rows match; showing the newest %lld "
		    "(--limit N or --all for more)", limit);
	return st != 0 ? st : cli_flush_stdout();
}

/* ------------------------------------------------------------- verify */

const struct cli_optspec cli_audit_verify_opts[] = {
	{ "head",		0, 1, OPT_AUDIT_HEAD },
	{ "acknowledge",	0, 1, OPT_AUDIT_ACK },
	CLI_OPT_END
};

/* What each problem audit.verify names means, for the error line. */
static const char *
problem_text(const char *problem)
{
	static const struct {
		const char	*problem;
		const char	*text;
	} p[] = {
		{ "altered", "its content does not match its MAC (altered)" },
		{ "forged", "it has no valid MAC (inserted without the key)" },
		{ "missing", "it is sealed but gone (deleted)" },
		{ "chain", "the seal chain breaks there (a row or seal removed "
		    "or changed)" },
		{ "unsealed", "no seal covers it a minute after it was written "
		    "(its seal removed)" },
		{ "truncated", "the newest seals (and rows) were cut off the "
		    "end of the trail" },
	};
	size_t i;

	for (i = 0; problem != NULL && i < sizeof(p) / sizeof(p[0]); i++)
		if (strcmp(problem, p[i].problem) == 0)
			return p[i].text;
	return NULL;
}

/* "SEQ:HASH", HASH 64 hex digits: the form audit.verify takes. */
static int
valid_head(const char *s)
{
	const char *c = strchr(s, ':');
	size_t i;

	if (c == NULL || c == s || c - s > 19 || strlen(c + 1) != 64 ||
	    *s == '0')
		return 0;
	for (i = 0; s + i < c; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	for (c++; *c != '\0'; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') ||
		    (*c >= 'A' && *c <= 'F')))
			return 0;
	return 1;
}

/* The gap recorded at row id, from the "gaps" of the answer, or NULL. */
static const json_t *
gap_at(const json_t *resp, json_int_t id)
{
	const json_t *g;
	size_t i;

	json_array_foreach(json_object_get(resp, "gaps"), i, g)
		if (json_integer_value(json_object_get(g, "id")) == id)
			return g;
	return NULL;
}

/* Why the trail is not intact, on stderr; returns the exit status. */
static int
verify_broken(const json_t *resp, const char *want)
{
	const json_t *bad = json_object_get(resp, "first_bad");
	const char *problem = json_string_value(json_object_get(bad,
	    "problem"));
	const char *text = problem_text(problem);
	json_int_t id = json_integer_value(json_object_get(bad, "id"));
	char *prob = cli_printable(problem);
	int st, trunc = problem != NULL && strcmp(problem, "truncated") == 0;

	if (want != NULL && json_is_false(json_object_get(resp,
	    "head_extends")))
		/* what the caller asked for; another first problem, if any,
		 * on the same line */
		st = cli_err_status("tampered", CLI_EXIT_ERROR, "audit trail "
		    "truncated: it no longer extends head %s (the rows sealed "
		    "up to there, or their seals, were removed or replaced)"
		    "%s%s", want, trunc || problem == NULL ? "" :
		    "; first problem: ", trunc || problem == NULL ? "" :
		    (text != NULL ? text : prob));
	else if (trunc && id > 0 && gap_at(resp, id) != NULL)
		st = cli_err_status("tampered", CLI_EXIT_ERROR, "audit trail "
		    "truncated before row %lld: secretd found the newest seals "
		    "(and rows) cut off the end of the trail and recorded the "
		    "gap there; once it is explained, acknowledge it with "
		    "\"secret audit verify --acknowledge %lld\"", (long long)id,
		    (long long)id);
	else if (trunc)
		st = cli_err_status("tampered", CLI_EXIT_ERROR, "audit trail "
		    "truncated after row %lld: %s", (long long)id, text);
	else if (id > 0)
		st = cli_err_status("tampered", CLI_EXIT_ERROR, "audit trail "
		    "broken at row %lld: %s", (long long)id,
		    text != NULL ? text : prob);
	else if (problem != NULL && strcmp(problem, "missing") == 0)
		/* No row to name: seals were cut off the end of the chain. */
		st = cli_err_status("tampered", CLI_EXIT_ERROR, "audit trail "
		    "broken after its last seal: the newest seals are gone "
		    "(rows deleted)");
	else
		st = cli_err_status("tampered", CLI_EXIT_ERROR, "audit trail "
		    "broken: %s", text != NULL ? text : prob);
	free(prob);
	return st;
}

int
cli_audit_verify(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *want = cli_arg_last(a, OPT_AUDIT_HEAD);
	const char *acks = cli_arg_last(a, OPT_AUDIT_ACK);
	const json_t *g;
	json_t *req, *resp, *intact;
	long long ack = 0;
	char *head;
	size_t i;
	int st;

	if (want != NULL && !valid_head(want))
		return cli_usage(ctx->cmd, "--head wants SEQ:HASH (as printed "
		    "by \"audit verify\" or logged as \"audit head\"), not "
		    "\"%s\"", want);
	if (acks != NULL && cli_parse_num(acks, 1, LLONG_MAX, &ack) != 0)
		return cli_usage(ctx->cmd, "--acknowledge wants a row id, not "
		    "\"%s\"", acks);
	req = json_pack("{s:s}", "action", "audit.verify");
	if (req != NULL && want != NULL)
		json_object_set_new(req, "head", json_string(want));
	if (req != NULL && ack != 0)
		json_object_set_new(req, "acknowledge", json_integer(ack));
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	intact = json_object_get(resp, "intact");
	if (!json_is_boolean(intact)) {
		json_decref(resp);
		return cli_err(SD_EINTERNAL, "bad response to audit.verify: "
		    "no \"intact\"");
	}
	if (ctx->cfg->json && (st = cli_print_json(resp)) != 0) {
		json_decref(resp);
		return st;
	}
	if (ack != 0)
		cli_info(ctx->cfg, "the gap recorded at row %lld is "
		    "acknowledged (in this request's audit row)", ack);
	if (json_is_true(intact)) {
		if (!ctx->cfg->json) {
			head = cli_printable_field(resp, "head");
			printf("intact: %lld rows, %lld sealed, head %lld:%s\n",
			    (long long)json_integer_value(json_object_get(resp,
			    "rows")), (long long)json_integer_value(
			    json_object_get(resp, "sealed")),
			    (long long)json_integer_value(json_object_get(resp,
			    "head_seq")), head);
			free(head);
			if (want != NULL)
				printf("extends head %s\n", want);
			json_array_foreach(json_object_get(resp, "gaps"), i, g)
				printf("acknowledged gap at row %lld\n",
				    (long long)json_integer_value(
				    json_object_get(g, "id")));
		}
		json_decref(resp);
		return cli_flush_stdout();
	}
	st = verify_broken(resp, want);
	json_decref(resp);
	(void)cli_flush_stdout();
	return st;
}

/* --------------------------------------------------------------- hash */

/*
 * The server matches the candidate against the rows' keyed value hashes
 * itself and answers those rows: no hash ever reaches the client (one
 * would let its holder test guesses offline).
 */
int
cli_audit_hash(struct cli_ctx *ctx, const struct cli_args *a)
{
	unsigned char *val = NULL;
	json_t *path, *req, *resp, *rows, *row;
	struct query_out q;
	size_t vlen = 0, i;
	int st;

	if ((st = cli_arg_path(a->pos[0], &path)) != 0)
		return st;
	if ((st = cli_read_value(NULL, "the candidate", &val, &vlen)) != 0) {
		json_decref(path);
		return st;
	}
	req = json_pack("{s:s, s:o}", "action", "audit.hash", "path", path);
	if (req != NULL)
		proto_set_value(req, val, vlen);
	freezero(val, vlen);
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	rows = json_object_get(resp, "rows");
	if (!json_is_array(rows)) {
		json_decref(resp);
		return cli_err(SD_EINTERNAL, "bad response to audit.hash: no "
		    "rows");
	}
	memset(&q, 0, sizeof(q));
	if (!ctx->cfg->json)
		q.t = table_new(9, NULL, 0);
	json_array_foreach(rows, i, row)
		if (!json_is_object(row) || (st = query_row(&q, row)) != 0)
			break;
	if (st == 0 && i < json_array_size(rows))
		st = cli_err(SD_EINTERNAL, "bad response to audit.hash: a row "
		    "is not an object");
	if (q.t != NULL)
		table_print(q.t, stdout);
	if (st == 0 && json_array_size(rows) == 0)
		cli_info(ctx->cfg, "(no row at or below %s records this value)",
		    a->pos[0]);
	if (st == 0 && json_is_true(json_object_get(resp, "truncated")))
		cli_warn(ctx->cfg, "more rows match; showing the newest %zu",
		    json_array_size(rows));
	json_decref(resp);
	return st != 0 ? st : cli_flush_stdout();
}

/* ------------------------------------------------------------- report */

int
cli_audit_report(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *since = cli_arg_last(a, OPT_AUDIT_SINCE);
	const char *stale = cli_arg_last(a, OPT_AUDIT_STALE);
	const char *fmts = cli_arg_last(a, OPT_AUDIT_FORMAT);
	const char *file = cli_arg_last(a, OPT_AUDIT_OUTPUT);
	enum report_format fmt = REPORT_TEXT;
	struct report_meta m;
	json_t *req, *resp;
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *f;
	int st;

	if (fmts != NULL && report_format_parse(fmts, &fmt) != 0)
		return cli_usage(ctx->cmd, "--format is text, csv, json or "
		    "html, not \"%s\"", fmts);
	if (ctx->cfg->json && fmts != NULL && fmt != REPORT_JSON)
		return cli_usage(ctx->cmd, "--json prints the raw response; "
		    "it does not go with --format %s", fmts);
	if (file != NULL && strcmp(file, "-") == 0)
		file = NULL;
	memset(&m, 0, sizeof(m));
	m.server = ctx->cfg->host;
	m.since = since != NULL ? since : "30d";
	m.stale = stale != NULL ? stale : "90d";
	report_meta_now(&m);
	req = json_pack("{s:s, s:s, s:s}", "action", "audit.report", "since",
	    m.since, "stale", m.stale);
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;

	/* A file gets the whole report at once (client/atomic.c). */
	f = file != NULL ? open_memstream(&buf, &len) : stdout;
	if (f == NULL) {
		json_decref(resp);
		return cli_err(SD_EINTERNAL, "out of memory");
	}
	if (ctx->cfg->json) {
		st = (line = proto_dump(resp, &len)) == NULL ||
		    fwrite(line, 1, len, f) != len ? -1 : 0;
		free(line);
	} else
		st = report_render(f, fmt, resp, &m);
	json_decref(resp);
	if (file == NULL)
		return st != 0 ? cli_err(SD_EINTERNAL, "write to stdout: %s",
		    strerror(errno)) : cli_flush_stdout();
	if (fclose(f) != 0 || st != 0) {
		free(buf);
		return cli_err(SD_EINTERNAL, "cannot render the report");
	}
	st = cli_atomic_write_file(file, buf, len, 0600, NULL);
	free(buf);
	if (st == 0)
		cli_info(ctx->cfg, "report written to %s", file);
	return st;
}

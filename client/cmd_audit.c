/*
 * cmd_audit.c - the auditor's commands of `secret`: audit query (all
 * pages, newest first), audit verify, audit hash (a candidate value's
 * keyed hash, and the writes that stored it) and audit report (rendered
 * by report.c / report_html.c).
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
#include "xmalloc.h"

#include "client/atomic.h"
#include "client/cmd_audit.h"
#include "client/input.h"
#include "client/output.h"
#include "client/report.h"

#define QUERY_DEFAULT		100	/* rows without --limit/--all */
#define QUERY_PAGE_MAX		1000	/* the server's cap per page */
#define QUERY_LIMIT_MAX		(1LL << 40)
#define HASH_HEX_MAX		128

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
row_header(struct cli_table *t)
{
	static const char *const h[] = { "ID", "TIME", "PRINCIPAL", "ACTION",
	    "PATH", "VERSION", "RESULT", "CODE", "CLIENT" };
	char *cells[9];
	int i;

	for (i = 0; i < 9; i++)
		cells[i] = xstrdup(h[i]);
	cli_table_add(t, cells);
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
row_add(struct cli_table *t, const json_t *row)
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
	cli_table_add(t, c);
}

struct query_out {
	struct cli_table	*t;	/* human output; NULL: NDJSON */
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
		q.t = cli_table_new(9);
	st = query_pages(ctx, base, limit, query_row, &q, &more);
	json_decref(base);
	/* After a failure, the rows read before it are still shown. */
	if (q.t != NULL)
		cli_table_print(q.t, stdout);
	if (st == 0 && more)
		cli_warn(ctx->cfg, "more rows match; showing the newest %lld "
		    "(--limit N or --all for more)", limit);
	return st != 0 ? st : cli_flush_stdout();
}

/* ------------------------------------------------------------- verify */

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
	};
	size_t i;

	for (i = 0; problem != NULL && i < sizeof(p) / sizeof(p[0]); i++)
		if (strcmp(problem, p[i].problem) == 0)
			return p[i].text;
	return NULL;
}

int
cli_audit_verify(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *resp, *intact, *bad;
	const char *problem, *text;
	char *head, *prob;
	int st;

	if ((st = cli_rpc_call(ctx->rpc, json_pack("{s:s}", "action",
	    "audit.verify"), &resp)) != 0)
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
	if (json_is_true(intact)) {
		if (!ctx->cfg->json) {
			head = cli_printable_field(resp, "head");
			printf("intact: %lld rows, %lld sealed, head %s\n",
			    (long long)json_integer_value(json_object_get(resp,
			    "rows")), (long long)json_integer_value(
			    json_object_get(resp, "sealed")), head);
			free(head);
		}
		json_decref(resp);
		return cli_flush_stdout();
	}
	bad = json_object_get(resp, "first_bad");
	problem = json_string_value(json_object_get(bad, "problem"));
	text = problem_text(problem);
	prob = cli_printable(problem);
	if (json_is_integer(json_object_get(bad, "id")) &&
	    json_integer_value(json_object_get(bad, "id")) > 0)
		st = cli_err_status("tampered", CLI_EXIT_ERROR, "audit trail "
		    "broken at row %lld: %s", (long long)json_integer_value(
		    json_object_get(bad, "id")), text != NULL ? text : prob);
	else if (problem != NULL && strcmp(problem, "missing") == 0)
		/* No row to name: seals were cut off the end of the chain. */
		st = cli_err_status("tampered", CLI_EXIT_ERROR, "audit trail "
		    "broken after its last seal: the newest seals are gone "
		    "(rows deleted)");
	else
		st = cli_err_status("tampered", CLI_EXIT_ERROR, "audit trail "
		    "broken: %s", text != NULL ? text : prob);
	free(prob);
	json_decref(resp);
	(void)cli_flush_stdout();
	return st;
}

/* --------------------------------------------------------------- hash */

/* The actions that store a value, whose rows carry its hash. */
static const char *const write_actions[] = {
	"secret.put", "secret.rollback", "secret.undelete",
};

struct collect {
	const char	*hash;
	json_t		*found;		/* the matching rows */
};

static int
collect_row(void *arg, const json_t *row)
{
	struct collect *c = arg;
	const char *h = json_string_value(json_object_get(row, "value_hash"));

	/* The hash is not secret (it is printed); a plain compare will do. */
	if (h != NULL && strcasecmp(h, c->hash) == 0)
		json_array_append(c->found, (json_t *)row);
	return 0;
}

static int
cmp_newest(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a,
	    "id"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b,
	    "id"));

	return x > y ? -1 : x < y;
}

static int
valid_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return i > 0 && i <= HASH_HEX_MAX;
}

int
cli_audit_hash(struct cli_ctx *ctx, const struct cli_args *a)
{
	unsigned char *val = NULL;
	char hash[HASH_HEX_MAX + 1];
	json_t *path, *req, *resp, *base, **sorted;
	struct collect c;
	struct query_out q;
	size_t vlen = 0, i, n;
	const char *h;
	int st;

	if ((st = cli_arg_path(a->pos[0], &path)) != 0)
		return st;
	if ((st = cli_read_value(NULL, "the candidate", &val, &vlen)) != 0) {
		json_decref(path);
		return st;
	}
	req = json_pack("{s:s}", "action", "audit.hash");
	if (req != NULL)
		proto_set_value(req, val, vlen);
	freezero(val, vlen);
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0) {
		json_decref(path);
		return st;
	}
	h = json_string_value(json_object_get(resp, "value_hash"));
	if (h == NULL || !valid_hex(h)) {
		json_decref(resp);
		json_decref(path);
		return cli_err(SD_EINTERNAL, "bad response to audit.hash: no "
		    "hex value_hash");
	}
	snprintf(hash, sizeof(hash), "%s", h);
	if (ctx->cfg->json)
		st = cli_print_json(resp);
	else
		printf("%s\n", hash);
	json_decref(resp);

	/*
	 * Where was it written?  The rows of the actions that store a value
	 * under PATH that carry this hash, merged newest first.
	 */
	c.hash = hash;
	c.found = json_array();
	for (i = 0; st == 0 && i < sizeof(write_actions) /
	    sizeof(write_actions[0]); i++) {
		base = json_pack("{s:s, s:O, s:s}", "action", "audit.query",
		    "path_prefix", path, "filter_action", write_actions[i]);
		st = query_pages(ctx, base, -1, collect_row, &c, NULL);
		json_decref(base);
	}
	json_decref(path);
	n = json_array_size(c.found);
	sorted = xcalloc(n + 1, sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = json_array_get(c.found, i);
	qsort(sorted, n, sizeof(*sorted), cmp_newest);
	memset(&q, 0, sizeof(q));
	if (!ctx->cfg->json)
		q.t = cli_table_new(9);
	for (i = 0; st == 0 && i < n; i++)
		st = query_row(&q, sorted[i]);
	free(sorted);
	json_decref(c.found);
	if (q.t != NULL)
		cli_table_print(q.t, stdout);
	if (st == 0 && n == 0)
		cli_info(ctx->cfg, "(no write of this value at or below %s "
		    "in the audit trail)", a->pos[0]);
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

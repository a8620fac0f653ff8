/*
 * report.c - the audit report as text, CSV and JSON; HTML is
 * report_html.c's.  Both read the response through report_data.h.
 *
 * Text is for a terminal: every server string goes through
 * cli_printable().  CSV is RFC 4180 (CRLF line ends; a field with , or "
 * or a leading or trailing space quoted, quotes doubled) with one header
 * for all sections; control characters become '?' there too, and a cell
 * a spreadsheet would take for a formula (= + - @ first) gets a leading
 * apostrophe, so a hostile path cannot run one.  JSON is the response
 * itself, indented.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "xmalloc.h"

#include "client/output.h"
#include "client/report.h"
#include "client/report_data.h"
#include "client/report_html.h"

int
report_format_parse(const char *name, enum report_format *out)
{
	static const struct {
		const char		*name;
		enum report_format	 fmt;
	} f[] = {
		{ "text", REPORT_TEXT }, { "csv", REPORT_CSV },
		{ "json", REPORT_JSON }, { "html", REPORT_HTML },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(name, f[i].name) == 0) {
			*out = f[i].fmt;
			return 0;
		}
	return -1;
}

/* ------------------------------------------------------------------ text */

/*
 * A section's table: indented by two spaces, numbers right-aligned, a
 * header row, "(none)" when there is no other row.
 */
static struct table *
ttab_new(const char *align, const char *const *head)
{
	struct table *t = table_new((int)strlen(align), align, 2);

	table_add_copy(t, head);
	return t;
}

static void
ttab_print(struct table *t, FILE *f)
{
	if (table_rows(t) > 1) {
		table_print(t, f);
		return;
	}
	fputs("  (none)\n", f);
	table_free(t);
}

static char *
num(long long n)
{
	return xasprintf("%lld", n);
}

/* A raw string made printable; NULL gives dflt. */
static char *
pr(const char *s, const char *dflt)
{
	return s != NULL ? cli_printable(s) : xstrdup(dflt);
}

/* A path field made printable ("-" when missing). */
static char *
pr_path(const json_t *o, const char *key)
{
	char *raw = report_path(o, key), *out;

	out = pr(raw, "-");
	free(raw);
	return out;
}

static char *
pr_list(const json_t *o, const char *key)
{
	return cli_printable_list(json_object_get(o, key), ",", "-");
}

static char *
pr_time(const char *s)
{
	char buf[64];

	return cli_printable(report_time(s, buf, sizeof(buf)));
}

static void
render_text(FILE *f, const json_t *rep, const struct report_meta *m)
{
	static const char *const h_pr[] = { "PRINCIPAL", "READS", "WRITES",
	    "DENIED", "ERRORS" };
	static const char *const h_pa[] = { "PATH", "READS", "WRITES",
	    "DENIED" };
	static const char *const h_day[] = { "DAY", "OK", "DENIED", "ERROR" };
	static const char *const h_den[] = { "WHO", "SOURCE", "ACTION", "PATH",
	    "COUNT", "LAST" };
	static const char *const h_st[] = { "PATH", "VERSION", "UPDATED",
	    "AGE (DAYS)" };
	static const char *const h_ac[] = { "PRINCIPAL", "PATH", "PERMISSIONS",
	    "VIA GROUPS" };
	struct report_totals t;
	struct table *tab;
	const json_t *e;
	char *row[6], *a, *b, *server, *gen;
	size_t i;

	report_totals(rep, &t);
	a = pr_time(report_str(rep, "since"));
	b = pr_time(report_str(rep, "until"));
	server = pr(m->server, "-");
	gen = pr_time(m->generated);
	fprintf(f, "secretd audit report\n"
	    "  period     %s .. %s (since %s)\n"
	    "  server     %s\n"
	    "  generated  %s\n\n", a, b, m->since, server, gen);
	free(a);
	free(b);
	free(server);
	free(gen);

	fprintf(f, "Summary\n"
	    "  requests audited  %lld (%lld ok, %lld denied, %lld error)\n"
	    "  secret reads      %lld\n"
	    "  secret writes     %lld\n"
	    "  principals        %zu active\n"
	    "  denied attempts   %lld from %zu source%s\n"
	    "  stale secrets     %zu (not changed in %s)\n\n",
	    t.requests, t.ok, t.denied, t.error, t.reads, t.writes,
	    t.principals, t.denied, t.sources, t.sources == 1 ? "" : "s",
	    t.stale, m->stale);

	fputs("Accesses by principal\n", f);
	tab = ttab_new("lrrrr", h_pr);
	json_array_foreach(json_object_get(rep, "by_principal"), i, e) {
		row[0] = pr(report_str(e, "principal"), "(unknown key)");
		row[1] = num(report_num(e, "reads"));
		row[2] = num(report_num(e, "writes"));
		row[3] = num(report_num(e, "denied"));
		row[4] = num(report_num(e, "errors"));
		table_add(tab, row);
	}
	ttab_print(tab, f);

	fputs("\nAccesses by top-level path\n", f);
	tab = ttab_new("lrrr", h_pa);
	json_array_foreach(json_object_get(rep, "by_path"), i, e) {
		row[0] = pr_path(e, "path");
		row[1] = num(report_num(e, "reads"));
		row[2] = num(report_num(e, "writes"));
		row[3] = num(report_num(e, "denied"));
		table_add(tab, row);
	}
	ttab_print(tab, f);

	fputs("\nRequests by day\n", f);
	tab = ttab_new("lrrr", h_day);
	json_array_foreach(json_object_get(rep, "by_day"), i, e) {
		row[0] = pr(report_str(e, "day"), "-");
		row[1] = num(report_num(e, "ok"));
		row[2] = num(report_num(e, "denied"));
		row[3] = num(report_num(e, "error"));
		table_add(tab, row);
	}
	ttab_print(tab, f);

	fputs("\nDenied attempts and their sources\n", f);
	tab = ttab_new("llllrl", h_den);
	json_array_foreach(json_object_get(rep, "denied"), i, e) {
		row[0] = report_str(e, "principal") != NULL ?
		    pr(report_str(e, "principal"), "-") :
		    pr(report_str(e, "fingerprint"), "-");
		row[1] = pr(report_str(e, "client_addr"), "-");
		row[2] = pr(report_str(e, "action"), "-");
		row[3] = pr_path(e, "path");
		row[4] = num(report_num(e, "count"));
		row[5] = pr_time(report_str(e, "last"));
		table_add(tab, row);
	}
	ttab_print(tab, f);

	fprintf(f, "\nStale secrets (not changed in %s)\n", m->stale);
	tab = ttab_new("lrlr", h_st);
	json_array_foreach(json_object_get(rep, "stale"), i, e) {
		row[0] = pr_path(e, "path");
		row[1] = num(report_num(e, "version"));
		row[2] = pr_time(report_str(e, "updated_at"));
		row[3] = num(report_num(e, "age_days"));
		table_add(tab, row);
	}
	ttab_print(tab, f);

	fputs("\nAccess matrix (node permissions, inherited by everything "
	    "below PATH)\n", f);
	tab = ttab_new("llll", h_ac);
	json_array_foreach(json_object_get(rep, "access"), i, e) {
		row[0] = pr(report_str(e, "principal"), "-");
		row[1] = pr_path(e, "path");
		row[2] = pr_list(e, "permissions");
		row[3] = pr_list(e, "groups");
		table_add(tab, row);
	}
	ttab_print(tab, f);
}

/* ------------------------------------------------------------------- csv */

enum csv_col {
	C_SECTION, C_DAY, C_PRINCIPAL, C_FINGERPRINT, C_CLIENT, C_ACTION,
	C_PATH, C_READS, C_WRITES, C_DENIED, C_ERRORS, C_OK, C_COUNT, C_LAST,
	C_VERSION, C_UPDATED, C_AGE, C_PERMS, C_GROUPS, C_SINCE, C_UNTIL,
	C_NCOLS
};

static const char *const csv_head[C_NCOLS] = {
	"section", "day", "principal", "fingerprint", "client_addr", "action",
	"path", "reads", "writes", "denied", "errors", "ok", "count", "last",
	"version", "updated_at", "age_days", "permissions", "groups", "since",
	"until"
};

static void
csv_cell(FILE *f, const char *raw)
{
	int quote = 0, formula;
	const char *p;
	char *s;

	if (raw == NULL)
		return;
	/* Names hold no control characters; a hostile server's would. */
	s = cli_printable(raw);
	formula = s[0] != '\0' && strchr("=+-@", s[0]) != NULL;
	for (p = s; *p != '\0'; p++)
		if (*p == ',' || *p == '"')
			quote = 1;
	if (s[0] == ' ' || (s[0] != '\0' && s[strlen(s) - 1] == ' '))
		quote = 1;
	if (quote)
		fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	if (quote)
		fputc('"', f);
	free(s);
}

/* One row: cells[c] raw strings (NULL: empty); then free them. */
static void
csv_row(FILE *f, char **cells)
{
	int c;

	for (c = 0; c < C_NCOLS; c++) {
		if (c > 0)
			fputc(',', f);
		csv_cell(f, cells[c]);
		free(cells[c]);
		cells[c] = NULL;
	}
	fputs("\r\n", f);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* The strings of a JSON array joined by spaces (names hold none). */
static char *
csv_list(const json_t *o, const char *key)
{
	const json_t *arr = json_object_get(o, key), *v;
	size_t i, len = 1, off = 0;
	char *out;

	if (!json_is_array(arr))
		return NULL;
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			len += strlen(json_string_value(v)) + 1;
	out = xmalloc(len);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		if (off > 0)
			out[off++] = ' ';
		memcpy(out + off, json_string_value(v),
		    strlen(json_string_value(v)));
		off += strlen(json_string_value(v));
	}
	out[off] = '\0';
	return out;
}

static void
render_csv(FILE *f, const json_t *rep)
{
	char *c[C_NCOLS] = { NULL };
	const json_t *e;
	size_t i;
	int k;

	for (k = 0; k < C_NCOLS; k++) {
		if (k > 0)
			fputc(',', f);
		fputs(csv_head[k], f);
	}
	fputs("\r\n", f);

	c[C_SECTION] = xstrdup("period");
	c[C_SINCE] = dup_or_null(report_str(rep, "since"));
	c[C_UNTIL] = dup_or_null(report_str(rep, "until"));
	csv_row(f, c);
	json_array_foreach(json_object_get(rep, "by_principal"), i, e) {
		c[C_SECTION] = xstrdup("principal");
		c[C_PRINCIPAL] = dup_or_null(report_str(e, "principal"));
		c[C_READS] = num(report_num(e, "reads"));
		c[C_WRITES] = num(report_num(e, "writes"));
		c[C_DENIED] = num(report_num(e, "denied"));
		c[C_ERRORS] = num(report_num(e, "errors"));
		csv_row(f, c);
	}
	json_array_foreach(json_object_get(rep, "by_path"), i, e) {
		c[C_SECTION] = xstrdup("path");
		c[C_PATH] = report_path(e, "path");
		c[C_READS] = num(report_num(e, "reads"));
		c[C_WRITES] = num(report_num(e, "writes"));
		c[C_DENIED] = num(report_num(e, "denied"));
		csv_row(f, c);
	}
	json_array_foreach(json_object_get(rep, "by_day"), i, e) {
		c[C_SECTION] = xstrdup("day");
		c[C_DAY] = dup_or_null(report_str(e, "day"));
		c[C_OK] = num(report_num(e, "ok"));
		c[C_DENIED] = num(report_num(e, "denied"));
		c[C_ERRORS] = num(report_num(e, "error"));
		csv_row(f, c);
	}
	json_array_foreach(json_object_get(rep, "denied"), i, e) {
		c[C_SECTION] = xstrdup("denied");
		c[C_PRINCIPAL] = dup_or_null(report_str(e, "principal"));
		c[C_FINGERPRINT] = dup_or_null(report_str(e, "fingerprint"));
		c[C_CLIENT] = dup_or_null(report_str(e, "client_addr"));
		c[C_ACTION] = dup_or_null(report_str(e, "action"));
		c[C_PATH] = report_path(e, "path");
		c[C_COUNT] = num(report_num(e, "count"));
		c[C_LAST] = dup_or_null(report_str(e, "last"));
		csv_row(f, c);
	}
	json_array_foreach(json_object_get(rep, "stale"), i, e) {
		c[C_SECTION] = xstrdup("stale");
		c[C_PATH] = report_path(e, "path");
		c[C_VERSION] = num(report_num(e, "version"));
		c[C_UPDATED] = dup_or_null(report_str(e, "updated_at"));
		c[C_AGE] = num(report_num(e, "age_days"));
		csv_row(f, c);
	}
	json_array_foreach(json_object_get(rep, "access"), i, e) {
		c[C_SECTION] = xstrdup("access");
		c[C_PRINCIPAL] = dup_or_null(report_str(e, "principal"));
		c[C_PATH] = report_path(e, "path");
		c[C_PERMS] = csv_list(e, "permissions");
		c[C_GROUPS] = csv_list(e, "groups");
		csv_row(f, c);
	}
}

/* ------------------------------------------------------------------ json */

static int
render_json(FILE *f, const json_t *rep)
{
	json_t *copy = json_copy((json_t *)rep);
	int r;

	json_object_del(copy, "id");
	json_object_del(copy, "ok");
	r = json_dumpf(copy, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(copy);
	if (r != 0)
		return -1;
	fputc('\n', f);
	return 0;
}

int
report_render(FILE *f, enum report_format fmt, const json_t *rep,
    const struct report_meta *m)
{
	switch (fmt) {
	case REPORT_TEXT:
		render_text(f, rep, m);
		break;
	case REPORT_CSV:
		render_csv(f, rep);
		break;
	case REPORT_JSON:
		if (render_json(f, rep) != 0)
			return -1;
		break;
	case REPORT_HTML:
		if (report_html(f, rep, m) != 0)
			return -1;
		break;
	}
	return fflush(f) != 0 || ferror(f) ? -1 : 0;
}

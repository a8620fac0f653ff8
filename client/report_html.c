/*
 * report_html.c - the audit report as one self-contained HTML page.
 *
 * Layout: a header (period, server, time of generation), headline
 * figures, then one card per question an auditor asks: requests per day
 * (stacked columns: ok, denied, error), accesses per principal and per
 * top-level path (stacked bars), denied attempts with their sources,
 * stale secrets, and the effective access matrix (principals x paths,
 * one badge per permission; inherited ones faded, groups in the tooltip).
 *
 * Must never: load or link anything (no <script>, no external font,
 * stylesheet, image or URL; the page's Content-Security-Policy is
 * default-src 'none'), or write a server string without html_esc().
 * Tooltips are SVG <title> and HTML title attributes, so the page needs
 * no script at all.
 *
 * The stylesheet and the page around the sections are files,
 * client/report.css and client/report.html, compiled in at build time
 * (report_assets.h); this file fills the page's {{slots}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#include "client/report_assets.h"
#include "client/report_data.h"
#include "client/report_html.h"
#include "client/svg.h"

#define MAX_CHART_ROWS	25	/* bars per chart; the rest summed */
#define MAX_FILL_DAYS	400	/* longer: only the days with requests */
#define MAX_MATRIX_COLS	40	/* paths shown as matrix columns */
#define MAX_MATRIX_ROWS	200	/* principals shown as matrix rows */
#define MAX_SOURCE_ROWS	12	/* bars of denied attempts per address */
#define TABLE_ROWS	25	/* table rows shown; the rest folded */

static const char *const month[12] = { "Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const wday[7] = { "Sun", "Mon", "Tue", "Wed", "Thu",
    "Fri", "Sat" };

/* ---------------------------------------------------------------- pieces */

static void
fmt_num(FILE *f, long long n)
{
	char tmp[32];
	size_t len, i;

	len = (size_t)snprintf(tmp, sizeof(tmp), "%lld", n < 0 ? 0 : n);
	for (i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			fputc(',', f);
		fputc(tmp[i], f);
	}
}

static void
esc_time(FILE *f, const char *s)
{
	char buf[64];

	html_esc(f, report_time(s, buf, sizeof(buf)));
}

/* A path (string or array field) as escaped monospace text. */
static void
esc_path(FILE *f, const json_t *o, const char *key)
{
	char *p = report_path(o, key);

	if (p == NULL) {
		fputs("<span class=\"muted\">-</span>", f);
		return;
	}
	fputs("<span class=\"path\">", f);
	html_esc(f, p);
	fputs("</span>", f);
	free(p);
}

/* The principal of an entry, or "unknown key" and its fingerprint. */
static void
esc_who(FILE *f, const json_t *e)
{
	const char *p = report_str(e, "principal");

	if (p != NULL) {
		html_esc(f, p);
		return;
	}
	fputs("<span class=\"unknown\">unknown key</span><span class=\"mono\">",
	    f);
	html_esc_cut(f, report_str(e, "fingerprint"), 24);
	fputs("</span>", f);
}

static void
kpi(FILE *f, const char *cls, const char *label, long long v,
    const char *sub)
{
	/* Seven digits and more get a smaller face to fit the card. */
	fprintf(f, "<div class=\"kpi%s%s\"><div class=\"l\">%s</div>"
	    "<div class=\"v%s\">", *cls != '\0' ? " " : "", cls, label,
	    v >= 1000000 ? " long" : "");
	fmt_num(f, v);
	fputs("</div>", f);
	if (sub != NULL)
		fprintf(f, "<div class=\"s\">%s</div>", sub);
	fputs("</div>\n", f);
}

/*
 * Long tables: the first TABLE_ROWS rows show, the rest fold into a
 * <details> with the same header.  Call table_open() first, table_row(i)
 * before row i, table_close() after the last.
 */
static void
table_open(FILE *f, const char *head)
{
	fprintf(f, "<div class=\"tbl\"><table>\n<thead><tr>%s</tr></thead>"
	    "\n<tbody>\n", head);
}

static void
table_row(FILE *f, const char *head, size_t i, size_t n, const char *what)
{
	if (i != TABLE_ROWS)
		return;
	fprintf(f, "</tbody></table></div>\n<details><summary>%zu more %s"
	    "</summary>\n", n - i, what);
	table_open(f, head);
}

static void
table_close(FILE *f, size_t n)
{
	fputs("</tbody></table></div>\n", f);
	if (n > TABLE_ROWS)
		fputs("</details>\n", f);
}

/* ---------------------------------------------------------------- header */

static void
headline(FILE *f, const json_t *rep, const struct report_meta *m)
{
	struct report_totals t;
	char sub[128];

	report_totals(rep, &t);
	fputs("<div class=\"kpis\">\n", f);
	kpi(f, "", "Requests audited", t.requests, NULL);
	kpi(f, "", "Secret reads", t.reads, NULL);
	kpi(f, "", "Secret writes", t.writes, NULL);
	snprintf(sub, sizeof(sub), "from %zu source%s", t.sources,
	    t.sources == 1 ? "" : "s");
	kpi(f, t.denied > 0 ? "alert" : "", "Denied", t.denied, sub);
	kpi(f, t.error > 0 ? "warn" : "", "Errors", t.error, NULL);
	kpi(f, "", "Active principals", (long long)t.principals, NULL);
	fputs("<div class=\"kpi", f);
	if (t.stale > 0)
		fputs(" warn", f);
	fputs("\"><div class=\"l\">Stale secrets</div><div class=\"v\">", f);
	fmt_num(f, (long long)t.stale);
	fputs("</div><div class=\"s\">unchanged for ", f);
	html_esc(f, m->stale);
	fputs("</div></div>\n</div>\n", f);
}

/* ------------------------------------------------------------------ days */

static const struct svg_series day_series[] = {
	{ "ok", "ok", "ok" }, { "denied", "denied", "denied" },
	{ "error", "errors", "error" },
};

static void
day_label(long day, char *label, size_t llen, char *title, size_t tlen)
{
	struct tm tm;

	if (report_day_date(day, &tm) != 0) {
		snprintf(label, llen, "?");
		snprintf(title, tlen, "?");
		return;
	}
	snprintf(label, llen, "%d %s", tm.tm_mday, month[tm.tm_mon % 12]);
	snprintf(title, tlen, "%s %04d-%02d-%02d", wday[tm.tm_wday % 7],
	    (tm.tm_year + 1900) % 100000, tm.tm_mon + 1, tm.tm_mday);
}

static void
section_days(FILE *f, const json_t *rep)
{
	const json_t *arr = json_object_get(rep, "by_day"), *e;
	long first = 0, last = 0, d, ds;
	struct svg_bar *bars;
	char (*lab)[64], (*tit)[64];
	size_t i, n = 0, nfill;
	int fill = 1;

	/* The period's days, also those without a request. */
	if (report_day_parse(report_str(rep, "since"), &first) != 0 ||
	    report_day_parse(report_str(rep, "until"), &last) != 0)
		fill = 0;
	json_array_foreach(arr, i, e) {
		if (report_day_parse(report_str(e, "day"), &d) != 0) {
			fill = 0;
			break;
		}
		if (d < first)
			first = d;
		if (d > last)
			last = d;
	}
	if (fill && (last < first || last - first + 1 > MAX_FILL_DAYS))
		fill = 0;
	nfill = fill ? (size_t)(last - first + 1) : json_array_size(arr);
	bars = xcalloc(nfill + 1, sizeof(*bars));
	lab = xcalloc(nfill + 1, sizeof(*lab));
	tit = xcalloc(nfill + 1, sizeof(*tit));
	if (fill) {
		for (i = 0; i < nfill; i++) {
			day_label(first + (long)i, lab[i], sizeof(lab[i]),
			    tit[i], sizeof(tit[i]));
			bars[i].label = lab[i];
			bars[i].title = tit[i];
		}
		n = nfill;
	}
	json_array_foreach(arr, i, e) {
		size_t k;

		if (fill) {
			(void)report_day_parse(report_str(e, "day"), &ds);
			k = (size_t)(ds - first);
		} else {
			k = n++;
			if (report_day_parse(report_str(e, "day"), &ds) == 0)
				day_label(ds, lab[k], sizeof(lab[k]), tit[k],
				    sizeof(tit[k]));
			else
				snprintf(lab[k], sizeof(lab[k]), "?");
			bars[k].label = report_str(e, "day") != NULL ?
			    lab[k] : "?";
			bars[k].title = tit[k][0] != '\0' ? tit[k] : NULL;
		}
		bars[k].v[0] += report_num(e, "ok");
		bars[k].v[1] += report_num(e, "denied");
		bars[k].v[2] += report_num(e, "error");
	}
	fputs("<section id=\"days\">\n<h2>Requests per day</h2>\n"
	    "<p class=\"note\">Every audited request, by its outcome "
	    "(UTC days).</p>\n", f);
	svg_legend(f, day_series, 3);
	svg_columns(f, "Requests per day, stacked by outcome", day_series, 3,
	    bars, n);
	fputs("</section>\n", f);
	free(bars);
	free(lab);
	free(tit);
}

/* ------------------------------------------------------ principals, paths */

static const struct svg_series access_series[] = {
	{ "read", "reads", "read" }, { "write", "writes", "write" },
	{ "denied", "denied", "denied" }, { "error", "errors", "error" },
};

/*
 * One stacked bar chart of arr (entries named by name_key), ranked by
 * total; beyond MAX_CHART_ROWS a note says how many more there are and
 * what they add up to (a bar for them would dwarf the others).
 */
static void
bar_chart(FILE *f, const char *aria, const json_t *arr, const char *name_key,
    int is_path, int ns, const char *unnamed, const char *what)
{
	static const char *const keys[] = { "reads", "writes", "denied",
	    "errors", NULL };
	static const char *const vkeys[SVG_MAX_SERIES] = { "reads", "writes",
	    "denied", "errors" };
	struct report_ranked *r;
	struct svg_bar *bars;
	long long rest = 0;
	char **names;
	size_t n, i, shown;
	int k;

	if (json_array_size(arr) == 0) {
		fputs("<div class=\"empty\">No requests in this period.</div>\n",
		    f);
		return;
	}
	r = report_rank(arr, name_key, keys, &n);
	shown = n > MAX_CHART_ROWS ? MAX_CHART_ROWS : n;
	bars = xcalloc(shown + 1, sizeof(*bars));
	names = xcalloc(shown + 1, sizeof(*names));
	for (i = 0; i < n; i++) {
		if (i >= shown) {
			rest += r[i].total;
			continue;
		}
		names[i] = is_path ? report_path(r[i].e, name_key) :
		    (report_str(r[i].e, name_key) != NULL ?
		    xstrdup(report_str(r[i].e, name_key)) : NULL);
		bars[i].label = names[i] != NULL ? names[i] : unnamed;
		for (k = 0; k < ns; k++)
			bars[i].v[k] = report_num(r[i].e, vkeys[k]);
	}
	svg_hbars(f, aria, access_series, ns, bars, shown);
	if (n > shown) {
		fprintf(f, "<p class=\"note\">The %zu busiest of %zu %s; the "
		    "other %zu account for ", shown, n, what, n - shown);
		fmt_num(f, rest);
		fputs(" more.</p>\n", f);
	}
	for (i = 0; i < shown; i++)
		free(names[i]);
	free(names);
	free(bars);
	free(r);
}

static void
section_access_counts(FILE *f, const json_t *rep)
{
	fputs("<section id=\"principals\">\n<h2>Accesses per principal</h2>\n"
	    "<p class=\"note\">Reads and writes of secrets, denied and failed "
	    "requests, by the principal that made them.</p>\n", f);
	svg_legend(f, access_series, 4);
	bar_chart(f, "Accesses per principal", json_object_get(rep,
	    "by_principal"), "principal", 0, 4, "(unknown key)", "principals");
	fputs("</section>\n", f);

	fputs("<section id=\"paths\">\n<h2>Accesses per top-level path</h2>\n"
	    "<p class=\"note\">The same requests by the first name of the "
	    "path they touched.</p>\n", f);
	svg_legend(f, access_series, 3);
	bar_chart(f, "Accesses per top-level path", json_object_get(rep,
	    "by_path"), "path", 1, 3, "/", "paths");
	fputs("</section>\n", f);
}

/* ---------------------------------------------------------------- denied */

static const struct svg_series denied_series[] = {
	{ "denied", "denied", "denied" },
};

static void
section_denied(FILE *f, const json_t *rep)
{
	static const char *const keys[] = { "count", NULL };
	static const char head[] = "<th>Who</th><th>Source</th><th>Action</th>"
	    "<th>Path</th><th class=\"n\">Attempts</th><th>Last</th>";
	const json_t *arr = json_object_get(rep, "denied");
	struct svg_bar *src;
	struct report_ranked *r;
	size_t n, i, j, nsrc = 0;
	const char *a;

	fputs("<section id=\"denied\">\n<h2>Denied attempts and their "
	    "sources</h2>\n<p class=\"note\">Requests refused for want of a "
	    "grant or of a known key, grouped by who, from where, and what "
	    "they tried.</p>\n", f);
	if (json_array_size(arr) == 0) {
		fputs("<div class=\"empty\">No denied attempts in this period."
		    "</div>\n</section>\n", f);
		return;
	}

	/* By source address first: where the pressure comes from. */
	src = xcalloc(json_array_size(arr) + 1, sizeof(*src));
	for (i = 0; i < json_array_size(arr); i++) {
		a = report_str(json_array_get(arr, i), "client_addr");
		if (a == NULL)
			a = "(no address)";
		for (j = 0; j < nsrc; j++)
			if (strcmp(src[j].label, a) == 0)
				break;
		if (j == nsrc)
			src[nsrc++].label = a;
		src[j].v[0] += report_num(json_array_get(arr, i), "count");
	}
	for (i = 1; i < nsrc; i++)		/* few: insertion sort */
		for (j = i; j > 0 && src[j].v[0] > src[j - 1].v[0]; j--) {
			struct svg_bar t = src[j];

			src[j] = src[j - 1];
			src[j - 1] = t;
		}
	fputs("<h3>By source address</h3>\n", f);
	svg_hbars(f, "Denied attempts per source address", denied_series, 1,
	    src, nsrc > MAX_SOURCE_ROWS ? MAX_SOURCE_ROWS : nsrc);
	if (nsrc > MAX_SOURCE_ROWS)
		fprintf(f, "<p class=\"note\">The %d busiest of %zu addresses; "
		    "the table below has them all.</p>\n", MAX_SOURCE_ROWS,
		    nsrc);
	free(src);

	r = report_rank(arr, "principal", keys, &n);
	fputs("<h3>Attempts</h3>\n", f);
	table_open(f, head);
	for (i = 0; i < n; i++) {
		table_row(f, head, i, n, "attempts");
		fputs("<tr><td>", f);
		esc_who(f, r[i].e);
		fputs("</td><td class=\"mono\">", f);
		html_esc(f, report_str(r[i].e, "client_addr"));
		fputs("</td><td class=\"mono\">", f);
		html_esc(f, report_str(r[i].e, "action"));
		fputs("</td><td>", f);
		esc_path(f, r[i].e, "path");
		fputs("</td><td class=\"n\"><span class=\"pill\">", f);
		fmt_num(f, report_num(r[i].e, "count"));
		fputs("</span></td><td class=\"muted\">", f);
		esc_time(f, report_str(r[i].e, "last"));
		fputs("</td></tr>\n", f);
	}
	table_close(f, n);
	fputs("</section>\n", f);
	free(r);
}

/* ----------------------------------------------------------------- stale */

static void
section_stale(FILE *f, const json_t *rep, const struct report_meta *m)
{
	static const char *const keys[] = { "age_days", NULL };
	static const char head[] = "<th>Path</th><th class=\"n\">Version</th>"
	    "<th>Last changed</th><th class=\"n\">Age</th>"
	    "<th style=\"width:30%\"></th>";
	const json_t *arr = json_object_get(rep, "stale");
	double limit = report_duration_days(m->stale), w;
	struct report_ranked *r;
	long long max;
	size_t n, i;

	fputs("<section id=\"stale\">\n<h2>Stale secrets</h2>\n"
	    "<p class=\"note\">Live secrets whose value has not changed for "
	    "", f);
	html_esc(f, m->stale);
	fputs(" or more: candidates for rotation.  Red: more than twice "
	    "that.</p>\n", f);
	if (json_array_size(arr) == 0) {
		fputs("<div class=\"empty\">None: every secret changed "
		    "recently.</div>\n</section>\n", f);
		return;
	}
	r = report_rank(arr, "updated_at", keys, &n);
	max = n > 0 && r[0].total > 0 ? r[0].total : 1;
	table_open(f, head);
	for (i = 0; i < n; i++) {
		table_row(f, head, i, n, "stale secrets");
		w = 100.0 * (double)r[i].total / (double)max;
		fputs("<tr><td>", f);
		esc_path(f, r[i].e, "path");
		fputs("</td><td class=\"n\">", f);
		fmt_num(f, report_num(r[i].e, "version"));
		fputs("</td><td class=\"muted\">", f);
		esc_time(f, report_str(r[i].e, "updated_at"));
		fputs("</td><td class=\"n\">", f);
		fmt_num(f, r[i].total);
		fprintf(f, " days</td><td><div class=\"bar%s\"><span "
		    "style=\"width:%.1f%%\"></span></div></td></tr>\n",
		    limit > 0 && (double)r[i].total > 2 * limit ? " old" : "",
		    w < 2 ? 2.0 : w);
	}
	table_close(f, n);
	fputs("</section>\n", f);
	free(r);
}

/* ---------------------------------------------------------------- access */

#define P_DISCOVER	1
#define P_READ		2
#define P_WRITE		4
#define P_MANAGE	8

static const struct {
	int		 bit;
	const char	*name;
	const char	*letter;
} perm_names[] = {
	{ P_DISCOVER, "discover", "D" }, { P_READ, "read", "R" },
	{ P_WRITE, "write", "W" }, { P_MANAGE, "manage", "M" },
};
#define NPERM	(sizeof(perm_names) / sizeof(perm_names[0]))

struct grant_row {
	const json_t	*e;
	const char	*principal;
	char		*path;		/* "a/b", root "/" */
	const json_t	*parr;		/* the path array */
	int		 perms;
};

struct col {
	const char	*path;
	const json_t	*parr;
};

static int
perm_bits(const json_t *arr)
{
	const json_t *v;
	size_t i, k;
	int bits = 0;

	json_array_foreach(arr, i, v)
		for (k = 0; k < NPERM; k++)
			if (json_is_string(v) && strcmp(json_string_value(v),
			    perm_names[k].name) == 0)
				bits |= perm_names[k].bit;
	return bits;
}

/* Whether path array a is a proper ancestor of b. */
static int
is_ancestor(const json_t *a, const json_t *b)
{
	size_t i, na = json_array_size(a);

	if (!json_is_array(a) || !json_is_array(b) ||
	    na >= json_array_size(b))
		return 0;
	for (i = 0; i < na; i++)
		if (!json_equal(json_array_get(a, i), json_array_get(b, i)))
			return 0;
	return 1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_col(const void *a, const void *b)
{
	const struct col *x = a, *y = b;

	return strcmp(x->path, y->path);
}

static int
cmp_grant(const void *a, const void *b)
{
	const struct grant_row *x = a, *y = b;
	int c = strcmp(x->principal, y->principal);

	return c != 0 ? c : strcmp(x->path, y->path);
}

static void
badge(FILE *f, int k, int inherited)
{
	fprintf(f, "<span class=\"b p-%s%s\">%s</span>", perm_names[k].name,
	    inherited ? " inh" : "", perm_names[k].letter);
}

/* "read, write" of a JSON array, escaped. */
static void
esc_list(FILE *f, const json_t *arr)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		if (i > 0)
			fputs(", ", f);
		html_esc(f, json_is_string(v) ? json_string_value(v) : "?");
	}
}

static void
matrix_cell(FILE *f, const struct grant_row *g, size_t ng,
    const char *principal, const struct col *c)
{
	int direct = 0, inh = 0, first = 1;
	size_t i, k;

	for (i = 0; i < ng; i++) {
		if (strcmp(g[i].principal, principal) != 0)
			continue;
		if (strcmp(g[i].path, c->path) == 0)
			direct |= g[i].perms;
		else if (is_ancestor(g[i].parr, c->parr))
			inh |= g[i].perms;
	}
	if ((direct | inh) == 0) {
		fputs("<td class=\"none\">&middot;</td>", f);
		return;
	}
	fputs("<td title=\"", f);
	html_esc(f, principal);
	fputs(" at ", f);
	html_esc(f, c->path);
	fputs(": ", f);
	for (i = 0; i < ng; i++) {
		if (strcmp(g[i].principal, principal) != 0 ||
		    (strcmp(g[i].path, c->path) != 0 &&
		    !is_ancestor(g[i].parr, c->parr)))
			continue;
		if (!first)
			fputs("; ", f);
		first = 0;
		esc_list(f, json_object_get(g[i].e, "permissions"));
		fputs(" via ", f);
		esc_list(f, json_object_get(g[i].e, "groups"));
		if (strcmp(g[i].path, c->path) != 0) {
			fputs(" (inherited from ", f);
			html_esc(f, g[i].path);
			fputs(")", f);
		}
	}
	fputs("\">", f);
	for (k = 0; k < NPERM; k++)
		if ((direct | inh) & perm_names[k].bit)
			badge(f, (int)k, !(direct & perm_names[k].bit));
	fputs("</td>", f);
}

static void
section_matrix(FILE *f, const json_t *rep)
{
	const json_t *arr = json_object_get(rep, "access"), *e;
	struct grant_row *g;
	const char **pr;
	struct col *cols;
	size_t ng = 0, npr = 0, ncol = 0, i, j, k, shown_cols, shown_rows;

	fputs("<section id=\"access\">\n<h2>Access matrix</h2>\n"
	    "<p class=\"note\">Who can do what where: the node permissions "
	    "each principal holds through its groups, at every path that has "
	    "a grant.  A permission applies to the path and everything below "
	    "it; an outlined badge is inherited from a path above.  Hover a "
	    "cell for the groups.</p>\n", f);
	if (json_array_size(arr) == 0) {
		fputs("<div class=\"empty\">No principal holds a node "
		    "permission.</div>\n</section>\n", f);
		return;
	}
	g = xcalloc(json_array_size(arr) + 1, sizeof(*g));
	pr = xcalloc(json_array_size(arr) + 1, sizeof(*pr));
	cols = xcalloc(json_array_size(arr) + 1, sizeof(*cols));
	json_array_foreach(arr, i, e) {
		const char *p = report_str(e, "principal");
		char *path = report_path(e, "path");

		if (p == NULL || path == NULL ||
		    !json_is_array(json_object_get(e, "path"))) {
			free(path);
			continue;
		}
		g[ng].e = e;
		g[ng].principal = p;
		g[ng].path = path;
		g[ng].parr = json_object_get(e, "path");
		g[ng].perms = perm_bits(json_object_get(e, "permissions"));
		for (j = 0; j < npr && strcmp(pr[j], p) != 0; j++)
			;
		if (j == npr)
			pr[npr++] = p;
		for (j = 0; j < ncol && strcmp(cols[j].path, path) != 0; j++)
			;
		if (j == ncol) {
			cols[ncol].path = path;
			cols[ncol++].parr = g[ng].parr;
		}
		ng++;
	}
	qsort(pr, npr, sizeof(*pr), cmp_str);
	qsort(cols, ncol, sizeof(*cols), cmp_col);
	qsort(g, ng, sizeof(*g), cmp_grant);
	shown_cols = ncol > MAX_MATRIX_COLS ? MAX_MATRIX_COLS : ncol;
	shown_rows = npr > MAX_MATRIX_ROWS ? MAX_MATRIX_ROWS : npr;

	fputs("<div class=\"badges\">", f);
	for (k = 0; k < NPERM; k++) {
		fputs("<span>", f);
		badge(f, (int)k, 0);
		fprintf(f, " %s</span>", perm_names[k].name);
	}
	fputs("<span>", f);
	badge(f, 1, 1);
	fputs(" inherited</span></div>\n", f);

	fputs("<div class=\"tbl\"><table class=\"matrix\">\n<thead><tr>"
	    "<th class=\"who\">Principal</th>", f);
	for (j = 0; j < shown_cols; j++) {
		fputs("<th class=\"col\" title=\"", f);
		html_esc(f, cols[j].path);
		fputs("\">", f);
		html_esc_cut(f, cols[j].path, 24);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (i = 0; i < shown_rows; i++) {
		fputs("<tr><td class=\"who\">", f);
		html_esc(f, pr[i]);
		fputs("</td>", f);
		for (j = 0; j < shown_cols; j++)
			matrix_cell(f, g, ng, pr[i], &cols[j]);
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></div>\n", f);
	if (ncol > shown_cols || npr > shown_rows)
		fprintf(f, "<p class=\"note\">Showing %zu of %zu paths and %zu "
		    "of %zu principals; the list below has them all.</p>\n",
		    shown_cols, ncol, shown_rows, npr);

	fprintf(f, "<details%s><summary>Every grant, principal by principal "
	    "(%zu)</summary>\n<div class=\"tbl\"><table>\n<thead><tr>"
	    "<th>Principal</th><th>Path</th><th>Permissions</th>"
	    "<th>Through groups</th></tr></thead>\n<tbody>\n",
	    ncol > shown_cols || npr > shown_rows ? " open" : "", ng);
	for (i = 0; i < ng; i++) {
		fputs("<tr><td>", f);
		html_esc(f, g[i].principal);
		fputs("</td><td><span class=\"path\">", f);
		html_esc(f, g[i].path);
		fputs("</span></td><td>", f);
		for (k = 0; k < NPERM; k++)
			if (g[i].perms & perm_names[k].bit)
				badge(f, (int)k, 0);
		fputs("</td><td class=\"muted\">", f);
		esc_list(f, json_object_get(g[i].e, "groups"));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></div>\n</details>\n</section>\n", f);

	for (i = 0; i < ng; i++)
		free(g[i].path);
	free(g);
	free(pr);
	free(cols);
}

/* The skeleton's slots, by name; every value escaped. */
static void
slot(FILE *f, const char *name, size_t len, const json_t *rep,
    const struct report_meta *m)
{
	if (len == 6 && strncmp(name, "server", len) == 0)
		html_esc(f, m->server);
	else if (len == 5 && strncmp(name, "since", len) == 0)
		esc_time(f, report_str(rep, "since"));
	else if (len == 5 && strncmp(name, "until", len) == 0)
		esc_time(f, report_str(rep, "until"));
	else if (len == 6 && strncmp(name, "period", len) == 0)
		html_esc(f, m->since);
	else if (len == 9 && strncmp(name, "generated", len) == 0)
		esc_time(f, m->generated);
	else if (len == 3 && strncmp(name, "css", len) == 0)
		fputs(report_css, f);
	else if (len == 8 && strncmp(name, "sections", len) == 0) {
		headline(f, rep, m);
		section_days(f, rep);
		section_access_counts(f, rep);
		section_denied(f, rep);
		section_stale(f, rep, m);
		section_matrix(f, rep);
	} else	/* a slot report.html added without its code: visible */
		fprintf(f, "{{%.*s}}", (int)len, name);
}

int
report_html(FILE *f, const json_t *rep, const struct report_meta *m)
{
	const char *p = report_page, *open, *close;

	while ((open = strstr(p, "{{")) != NULL &&
	    (close = strstr(open + 2, "}}")) != NULL) {
		fwrite(p, 1, (size_t)(open - p), f);
		slot(f, open + 2, (size_t)(close - open - 2), rep, m);
		p = close + 2;
	}
	fputs(p, f);
	return ferror(f) ? -1 : 0;
}

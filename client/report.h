/*
 * report.h - rendering of an audit.report response (docs/protocol.md) as
 * text, CSV, JSON or one self-contained HTML page (report_html.c).
 *
 * Renderers only format: they never talk to the server, never fetch or
 * reference anything outside the output, and treat every string of the
 * response as untrusted (made printable for text, quoted for CSV,
 * escaped for HTML).  A missing or mistyped field renders as "-" or 0.
 */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include <stdio.h>

#include <jansson.h>

enum report_format {
	REPORT_TEXT,
	REPORT_CSV,
	REPORT_JSON,
	REPORT_HTML,
};

/* What the renderers show about the report itself. */
struct report_meta {
	const char	*server;	/* host it came from */
	const char	*since;		/* as requested: "30d" */
	const char	*stale;		/* as requested: "90d" */
	char		 generated[32];	/* now: "2026-11-22T10:00:00Z" */
};

/* "text", "csv", "json", "html".  Returns 0 or -1. */
int	report_format_parse(const char *name, enum report_format *out);

/* Fill m->generated with the current UTC time. */
void	report_meta_now(struct report_meta *m);

/*
 * Render the report (an audit.report response, "id" and "ok" ignored) in
 * format fmt to f.  Returns 0, or -1 if writing to f failed (ferror).
 */
int	report_render(FILE *f, enum report_format fmt, const json_t *rep,
	    const struct report_meta *m);

/* ---- helpers shared by the renderers (report.c) ---- */

/* The string at key, or NULL when missing or not a string. */
const char *report_str(const json_t *o, const char *key);
/*
 * The integer at key when >= 0 (at most REPORT_NUM_MAX, so that sums over
 * any response that fits in memory cannot overflow), else 0.
 */
#define REPORT_NUM_MAX	(1LL << 40)
long long report_num(const json_t *o, const char *key);
/*
 * The path at key as "a/b/c" (raw, not made printable): a string as is,
 * an array joined with '/', the root ([]) as "/".  NULL when missing,
 * null or of another type.  Malloc'ed.
 */
char	*report_path(const json_t *o, const char *key);
/*
 * An RFC 3339 time as "2026-11-22 10:00:00 UTC" (seconds precision; the
 * offset kept when it is not Z) into buf; anything else copied as is.
 * NULL gives "-".  Returns buf.
 */
const char *report_time(const char *s, char *buf, size_t len);

/* The headline numbers of a report (text summary, HTML cards). */
struct report_totals {
	long long	requests, ok, denied, error;	/* from by_day */
	long long	reads, writes;		/* from by_principal */
	size_t		principals;	/* active in the period */
	size_t		sources;	/* addresses of denied attempts */
	size_t		stale;
};
void	report_totals(const json_t *rep, struct report_totals *t);

#endif

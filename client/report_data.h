/*
 * report_data.h - the data model of the audit report: typed access to
 * the fields of an audit.report response (docs/protocol.md) and what the
 * renderers compute from them (totals, rankings, days of the period).
 *
 * Nothing here prints.  Every string of the response is untrusted and
 * returned raw: the renderers (report.c, report_html.c) make it
 * printable, quote or escape it.  A missing or mistyped field reads as
 * NULL or 0.
 */
#ifndef CLI_REPORT_DATA_H
#define CLI_REPORT_DATA_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

/* What the renderers show about the report itself. */
struct report_meta {
	const char	*server;	/* host it came from */
	const char	*since;		/* as requested: "30d" */
	const char	*stale;		/* as requested: "90d" */
	char		 generated[32];	/* now: "2026-11-22T10:00:00Z" */
};

/* Fill m->generated with the current UTC time. */
void	report_meta_now(struct report_meta *m);

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

/* An entry of a response array with the sum it is ranked by. */
struct report_ranked {
	const json_t	*e;
	const char	*key;		/* breaks ties; may be NULL */
	long long	 total;
};
/*
 * The entries of arr, largest sum of the counts named in keys (a NULL-
 * terminated list) first, ties by the string at name_key; *n of them.
 * Malloc'ed.
 */
struct report_ranked *report_rank(const json_t *arr, const char *name_key,
	    const char *const *keys, size_t *n);

/*
 * Days of the period, counted from 1970-01-01 (UTC, proleptic Gregorian,
 * through timegm and gmtime_r).  report_day_parse reads the "YYYY-MM-DD"
 * that starts s; returns 0 or -1.  report_day_date gives a day's date
 * back (tm_year, tm_mon, tm_mday, tm_wday); returns 0 or -1.
 */
int	report_day_parse(const char *s, long *day);
int	report_day_date(long day, struct tm *tm);

/*
 * A duration as the server takes it ("90d", "12h", "15m", "3600s") in
 * days; 0 when not understood.
 */
double	report_duration_days(const char *s);

#endif

/*
 * stats_prom.c - a server.stats answer in the Prometheus text exposition
 * format (version 0.0.4), for node_exporter's textfile collector: one
 * HELP and one TYPE line per family, its samples together; counters end
 * in _total; the histogram has cumulative _bucket{le} samples ending in
 * le="+Inf", then _sum and _count; label values are escaped (\\, \", \n).
 * It reads the answer strictly: a field of the wrong type renders
 * nothing rather than a half file that a scraper would take as whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

struct out {
	FILE	*f;
	int	 bad;
};

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format asks. */
static void
label(struct out *o, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			fputs("\\\\", o->f);
		else if (*v == '"')
			fputs("\\\"", o->f);
		else if (*v == '\n')
			fputs("\\n", o->f);
		else
			fputc(*v, o->f);
	}
}

static json_t *
member(struct out *o, const json_t *obj, const char *key, int (*is)(
    const json_t *))
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || !is(v)) {
		o->bad = 1;
		return NULL;
	}
	return v;
}

static int is_object(const json_t *v) { return json_is_object(v); }
static int is_array(const json_t *v) { return json_is_array(v); }
static int is_string(const json_t *v) { return json_is_string(v); }
static int is_integer(const json_t *v) { return json_is_integer(v); }
static int is_number(const json_t *v) { return json_is_number(v); }

/* A metric of one sample, of type (gauge, counter), from an integer or
 * real member of obj. */
static void
sample(struct out *o, const char *type, const char *name, const char *help,
    const json_t *obj, const char *key)
{
	json_t *v = member(o, obj, key, is_number);

	if (v == NULL)
		return;
	family(o, name, type, help);
	if (json_is_integer(v))
		fprintf(o->f, "%s %lld\n", name,
		    (long long)json_integer_value(v));
	else
		fprintf(o->f, "%s %.9g\n", name, json_real_value(v));
}

static void
gauge(struct out *o, const char *name, const char *help, const json_t *obj,
    const char *key)
{
	sample(o, "gauge", name, help, obj, key);
}

static void
requests(struct out *o, const json_t *reqs)
{
	const json_t *r, *a, *res, *n;
	size_t i;

	family(o, "secretd_requests_total", "counter",
	    "Requests answered, by action and result (ok or an error code).");
	json_array_foreach(reqs, i, r) {
		if ((a = member(o, r, "action", is_string)) == NULL ||
		    (res = member(o, r, "result", is_string)) == NULL ||
		    (n = member(o, r, "count", is_integer)) == NULL)
			return;
		fputs("secretd_requests_total{action=\"", o->f);
		label(o, json_string_value(a));
		fputs("\",result=\"", o->f);
		label(o, json_string_value(res));
		fprintf(o->f, "\"} %lld\n", (long long)json_integer_value(n));
	}
}

static void
latency(struct out *o, const json_t *lat)
{
	const char *name;
	const json_t *le, *acts, *h, *b, *c, *s;
	json_t *v;
	size_t i, nle;

	if ((le = member(o, lat, "le", is_array)) == NULL ||
	    (acts = member(o, lat, "actions", is_object)) == NULL)
		return;
	nle = json_array_size(le);
	family(o, "secretd_request_duration_seconds", "histogram",
	    "Time from a request's parse to its answer, by action.");
	json_object_foreach((json_t *)acts, name, v) {
		h = v;
		if ((b = member(o, h, "buckets", is_array)) == NULL ||
		    (c = member(o, h, "count", is_integer)) == NULL ||
		    (s = member(o, h, "sum_s", is_number)) == NULL)
			return;
		if (json_array_size(b) != nle) {
			o->bad = 1;
			return;
		}
		for (i = 0; i < nle; i++) {
			if (!json_is_number(json_array_get(le, i)) ||
			    !json_is_integer(json_array_get(b, i))) {
				o->bad = 1;
				return;
			}
			fputs("secretd_request_duration_seconds_bucket{action=\"",
			    o->f);
			label(o, name);
			fprintf(o->f, "\",le=\"%g\"} %lld\n",
			    json_number_value(json_array_get(le, i)),
			    (long long)json_integer_value(json_array_get(b, i)));
		}
		fputs("secretd_request_duration_seconds_bucket{action=\"", o->f);
		label(o, name);
		fprintf(o->f, "\",le=\"+Inf\"} %lld\n",
		    (long long)json_integer_value(c));
		fputs("secretd_request_duration_seconds_sum{action=\"", o->f);
		label(o, name);
		fprintf(o->f, "\"} %.9g\n", json_number_value(s));
		fputs("secretd_request_duration_seconds_count{action=\"", o->f);
		label(o, name);
		fprintf(o->f, "\"} %lld\n", (long long)json_integer_value(c));
	}
}

static void
sessions(struct out *o, const json_t *s)
{
	const json_t *k = member(o, s, "principal", is_integer);
	const json_t *e = member(o, s, "enrol_only", is_integer);

	if (k == NULL || e == NULL)
		return;
	family(o, "secretd_sessions", "gauge",
	    "Open sessions: of known principals, and enrol-only ones.");
	fprintf(o->f, "secretd_sessions{kind=\"principal\"} %lld\n"
	    "secretd_sessions{kind=\"enrol_only\"} %lld\n",
	    (long long)json_integer_value(k), (long long)json_integer_value(e));
}

char *
stats_prometheus(const json_t *stats)
{
	const json_t *ver, *reqs, *lat, *sess, *pool, *audit, *ex;
	struct out o = { NULL, 0 };
	char *buf = NULL;
	size_t len = 0;

	if (!json_is_object(stats) ||
	    (ver = member(&o, stats, "version", is_string)) == NULL ||
	    (reqs = member(&o, stats, "requests", is_array)) == NULL ||
	    (lat = member(&o, stats, "latency", is_object)) == NULL ||
	    (sess = member(&o, stats, "sessions", is_object)) == NULL ||
	    (pool = member(&o, stats, "pool", is_object)) == NULL ||
	    (audit = member(&o, stats, "audit", is_object)) == NULL ||
	    (ex = member(&o, stats, "executor", is_object)) == NULL)
		return NULL;
	if ((o.f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	family(&o, "secretd_info", "gauge", "The daemon's version (always 1).");
	fputs("secretd_info{version=\"", o.f);
	label(&o, json_string_value(ver));
	fputs("\"} 1\n", o.f);
	gauge(&o, "secretd_uptime_seconds", "Seconds since the daemon started.",
	    stats, "uptime_s");
	requests(&o, reqs);
	latency(&o, lat);
	sessions(&o, sess);
	gauge(&o, "secretd_pool_connections", "Database connections in the "
	    "request pool (pool_size).", pool, "size");
	gauge(&o, "secretd_pool_connections_in_use", "Pool connections held "
	    "by a request (this one included).", pool, "in_use");
	gauge(&o, "secretd_pool_waiting", "Requests waiting for a pool "
	    "connection.", pool, "waiting");
	gauge(&o, "secretd_audit_queue_rows", "Requests (with their audit "
	    "rows) queued for the executor's workers.", audit, "queued_rows");
	gauge(&o, "secretd_audit_unsealed_rows", "Audit rows committed but "
	    "not yet sealed into the hash chain.", audit, "unsealed_rows");
	gauge(&o, "secretd_audit_seal_lag_seconds", "Age of the oldest audit "
	    "row not yet sealed (0: none).", audit, "seal_lag_s");
	sample(&o, "counter", "secretd_executor_alone_total", "Requests (and "
	    "audit rows) the executor ran alone, on their own thread.", ex,
	    "alone");
	sample(&o, "counter", "secretd_executor_batches_total", "Batches the "
	    "executor's workers ran.", ex, "batches");
	sample(&o, "counter", "secretd_executor_batched_total", "Requests in "
	    "those batches.", ex, "batched");
	if (fclose(o.f) != 0 || o.bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

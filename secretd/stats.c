/*
 * stats.c - the counters of stats.h: plain arrays of 64-bit counters,
 * one row per action, added to with relaxed atomics.  A request touches
 * only its own action's row, so two sessions contend only when they run
 * the same action, and then on one cache line for a few nanoseconds.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "stats.h"

const double stats_bucket_le[STATS_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5,
};

/* The bounds in nanoseconds, for the request path (no floating point). */
static const int64_t bucket_ns[STATS_BUCKETS] = {
	500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000, 2500000000LL,
	5000000000LL,
};

static struct {
	uint64_t	results[STATS_MAX_ACTIONS][STATS_RESULTS];
	uint64_t	buckets[STATS_MAX_ACTIONS][STATS_BUCKETS + 1];
	uint64_t	sum_ns[STATS_MAX_ACTIONS];
} st;

static int64_t started_ns;

int64_t
stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
stats_start(void)
{
	__atomic_store_n(&started_ns, stats_now_ns(), __ATOMIC_RELAXED);
}

int
stats_bucket_of(int64_t ns)
{
	int i;

	for (i = 0; i < STATS_BUCKETS; i++)
		if (ns <= bucket_ns[i])
			return i;
	return STATS_BUCKETS;
}

void
stats_request(int slot, int err, int64_t start_ns)
{
	int64_t ns = stats_now_ns() - start_ns;
	int res = -err;

	if (slot < 0 || slot >= STATS_MAX_ACTIONS)
		return;
	if (res < 0 || res >= STATS_RESULTS)
		res = -SD_EINTERNAL;
	if (ns < 0)
		ns = 0;
	__atomic_add_fetch(&st.results[slot][res], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&st.buckets[slot][stats_bucket_of(ns)], 1,
	    __ATOMIC_RELAXED);
	__atomic_add_fetch(&st.sum_ns[slot], (uint64_t)ns, __ATOMIC_RELAXED);
}

void
stats_reset(void)
{
	memset(&st, 0, sizeof(st));
}

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The latency of one action: cumulative buckets, count and sum. */
static json_t *
latency_of(int slot)
{
	json_t *b = json_array();
	uint64_t n = 0;
	int i;

	for (i = 0; i < STATS_BUCKETS; i++) {
		n += load(&st.buckets[slot][i]);
		json_array_append_new(b, json_integer((json_int_t)n));
	}
	n += load(&st.buckets[slot][STATS_BUCKETS]);
	return json_pack("{s:o, s:I, s:f}", "buckets", b, "count",
	    (json_int_t)n, "sum_s", (double)load(&st.sum_ns[slot]) / 1e9);
}

json_t *
stats_snapshot(const char *(*name_of)(int slot))
{
	json_t *reqs = json_array(), *lat = json_object(), *le = json_array();
	const char *name;
	uint64_t n, any;
	int64_t up;
	int s, i;

	for (i = 0; i < STATS_BUCKETS; i++)
		json_array_append_new(le, json_real(stats_bucket_le[i]));
	for (s = 0; s < STATS_MAX_ACTIONS && (name = name_of(s)) != NULL;
	    s++) {
		for (any = 0, i = 0; i < STATS_RESULTS; i++) {
			if ((n = load(&st.results[s][i])) == 0)
				continue;
			any += n;
			json_array_append_new(reqs, json_pack("{s:s, s:s, s:I}",
			    "action", name, "result", i == 0 ? "ok" :
			    sd_err_code(-i), "count", (json_int_t)n));
		}
		if (any > 0)
			json_object_set_new(lat, name, latency_of(s));
	}
	up = (stats_now_ns() - __atomic_load_n(&started_ns,
	    __ATOMIC_RELAXED)) / 1000000000;
	return json_pack("{s:s, s:I, s:o, s:{s:o, s:o}}", "version",
	    SECRETD_VERSION, "uptime_s", (json_int_t)up, "requests", reqs,
	    "latency", "le", le, "actions", lat);
}

/*
 * test_stats.c - the request counters and latency histograms
 * (secretd/stats.c) and their Prometheus rendering (secretd/stats_prom.c):
 * bucket bounds are inclusive, results are counted by error code,
 * buckets are cumulative and end in +Inf, label values are escaped, and
 * an answer of the wrong shape renders nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/err.h"
#include "secretd/stats.h"

static const char *
names(int slot)
{
	static const char *const n[] = { "secret.get", "secret.put",
	    "odd\"name\\x\ny" };

	return slot >= 0 && slot < 3 ? n[slot] : NULL;
}

static void
test_buckets(void **state)
{
	(void)state;
	assert_int_equal(stats_bucket_of(0), 0);
	assert_int_equal(stats_bucket_of(500000), 0);	/* le is inclusive */
	assert_int_equal(stats_bucket_of(500001), 1);
	assert_int_equal(stats_bucket_of(1000000000), 10);
	assert_int_equal(stats_bucket_of(5000000000LL), STATS_BUCKETS - 1);
	assert_int_equal(stats_bucket_of(5000000001LL), STATS_BUCKETS);
}

/* The count of action/result in a snapshot (0 if absent). */
static long long
count_of(const json_t *snap, const char *action, const char *result)
{
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(snap, "requests"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "action")),
		    action) == 0 && strcmp(json_string_value(
		    json_object_get(r, "result")), result) == 0)
			return json_integer_value(json_object_get(r, "count"));
	return 0;
}

static void
test_counts(void **state)
{
	int64_t now = stats_now_ns();
	json_t *snap, *h;
	int i;

	(void)state;
	stats_reset();
	for (i = 0; i < 5; i++)
		stats_request(0, 0, now);
	stats_request(0, SD_EPERM, now);
	stats_request(1, SD_ENOTFOUND, now - 2000000000LL);	/* 2 s ago */
	stats_request(1, -99, now);		/* unknown: internal */
	stats_request(STATS_MAX_ACTIONS, 0, now);	/* ignored */
	snap = stats_snapshot(names);
	assert_int_equal(count_of(snap, "secret.get", "ok"), 5);
	assert_int_equal(count_of(snap, "secret.get", "permission_denied"), 1);
	assert_int_equal(count_of(snap, "secret.put", "not_found"), 1);
	assert_int_equal(count_of(snap, "secret.put", "internal"), 1);
	assert_int_equal(json_array_size(json_object_get(snap, "requests")), 4);
	h = json_object_get(json_object_get(json_object_get(snap, "latency"),
	    "actions"), "secret.put");
	assert_non_null(h);
	assert_int_equal(json_integer_value(json_object_get(h, "count")), 2);
	/* cumulative: the 2 s request is in le=2.5 and le=5, not le=1 */
	assert_int_equal(json_integer_value(json_array_get(
	    json_object_get(h, "buckets"), 10)), 1);
	assert_int_equal(json_integer_value(json_array_get(
	    json_object_get(h, "buckets"), 11)), 2);
	assert_true(json_real_value(json_object_get(h, "sum_s")) >= 2.0);
	/* an action never run has no histogram */
	assert_null(json_object_get(json_object_get(json_object_get(snap,
	    "latency"), "actions"), "odd\"name\\x\ny"));
	json_decref(snap);
}

static json_t *
answer(void)
{
	int64_t now = stats_now_ns();
	json_t *s;

	stats_reset();
	stats_request(0, 0, now);
	stats_request(0, 0, now);
	stats_request(2, SD_EPERM, now);
	s = stats_snapshot(names);
	json_object_set_new(s, "sessions", json_pack("{s:i, s:i}",
	    "principal", 3, "enrol_only", 1));
	json_object_set_new(s, "pool", json_pack("{s:i, s:i, s:i}",
	    "size", 8, "in_use", 2, "waiting", 0));
	json_object_set_new(s, "audit", json_pack("{s:i, s:i, s:f}",
	    "queued_rows", 4, "unsealed_rows", 7, "seal_lag_s", 1.5));
	json_object_set_new(s, "executor", json_pack("{s:I, s:I, s:I}",
	    "alone", (json_int_t)11, "batches", (json_int_t)3,
	    "batched", (json_int_t)9));
	return s;
}

static void
test_prometheus(void **state)
{
	json_t *s = answer();
	char *t = stats_prometheus(s);

	(void)state;
	assert_non_null(t);
	assert_non_null(strstr(t, "# HELP secretd_requests_total "));
	assert_non_null(strstr(t, "# TYPE secretd_requests_total counter\n"));
	assert_non_null(strstr(t, "secretd_requests_total{action=\"secret.get\","
	    "result=\"ok\"} 2\n"));
	/* \, " and newline escaped in a label value */
	assert_non_null(strstr(t, "secretd_requests_total{action="
	    "\"odd\\\"name\\\\x\\ny\",result=\"permission_denied\"} 1\n"));
	assert_non_null(strstr(t, "# TYPE secretd_request_duration_seconds "
	    "histogram\n"));
	assert_non_null(strstr(t, "secretd_request_duration_seconds_bucket{"
	    "action=\"secret.get\",le=\"0.0005\"} "));
	assert_non_null(strstr(t, "secretd_request_duration_seconds_bucket{"
	    "action=\"secret.get\",le=\"5\"} 2\n"));
	assert_non_null(strstr(t, "secretd_request_duration_seconds_bucket{"
	    "action=\"secret.get\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(t, "secretd_request_duration_seconds_count{"
	    "action=\"secret.get\"} 2\n"));
	assert_non_null(strstr(t, "secretd_request_duration_seconds_sum{"
	    "action=\"secret.get\"} "));
	assert_non_null(strstr(t, "secretd_sessions{kind=\"enrol_only\"} 1\n"));
	assert_non_null(strstr(t, "secretd_pool_connections_in_use 2\n"));
	assert_non_null(strstr(t, "secretd_audit_seal_lag_seconds 1.5\n"));
	assert_non_null(strstr(t, "# TYPE secretd_executor_batches_total "
	    "counter\n"));
	assert_non_null(strstr(t, "secretd_executor_alone_total 11\n"));
	assert_non_null(strstr(t, "secretd_executor_batches_total 3\n"));
	assert_non_null(strstr(t, "secretd_executor_batched_total 9\n"));
	assert_non_null(strstr(t, "secretd_info{version=\"" SECRETD_VERSION
	    "\"} 1\n"));
	/* every line ends with a newline, the last one too */
	assert_int_equal(t[strlen(t) - 1], '\n');
	free(t);
	json_decref(s);
}

static void
test_prometheus_strict(void **state)
{
	json_t *s = answer();

	(void)state;
	json_object_set_new(json_object_get(s, "pool"), "in_use",
	    json_string("2"));
	assert_null(stats_prometheus(s));
	json_decref(s);
	s = answer();
	json_object_del(s, "audit");
	assert_null(stats_prometheus(s));
	json_decref(s);
	s = answer();
	json_array_append_new(json_object_get(json_object_get(json_object_get(
	    json_object_get(s, "latency"), "actions"), "secret.get"),
	    "buckets"), json_integer(9));
	assert_null(stats_prometheus(s));	/* buckets != bounds */
	json_decref(s);
	assert_null(stats_prometheus(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_prometheus_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

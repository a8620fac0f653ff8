/*
 * stats.h - the daemon's request counters and latency histograms, for
 * server.stats (act_stats.c) and `secretd stats` (stats_cmd.c).
 *
 * Counting costs a request two reads of the monotonic clock and three
 * relaxed atomic additions to slots of its own action: no lock, nothing
 * shared with another action's requests.  A snapshot reads each counter
 * once, so it may see a request's result counted before its latency: a
 * scrape is never exact to the request, only monotonic.
 */
#ifndef SECRETD_STATS_H
#define SECRETD_STATS_H

#include <stdint.h>
#include <jansson.h>

/* The most actions counted (dispatch.c's rows); later rows are not. */
#define STATS_MAX_ACTIONS	64
/* Results: 0 is ok, then one per SD_E* code (-1 .. -10). */
#define STATS_RESULTS		11
/* Latency buckets, upper bounds in seconds (Prometheus "le"); the last
 * slot counts the rest (+Inf). */
#define STATS_BUCKETS		13
extern const double stats_bucket_le[STATS_BUCKETS];

/* The time the daemon started serving (for uptime). */
void	stats_start(void);

/* Now, in nanoseconds of the monotonic clock: a request's start. */
int64_t	stats_now_ns(void);

/* Count one request of action slot i that ended with err (0 or SD_E*)
 * and started at start_ns (stats_now_ns). */
void	stats_request(int slot, int err, int64_t start_ns);

/* The bucket (0 .. STATS_BUCKETS, the last +Inf) of a latency. */
int	stats_bucket_of(int64_t ns);

/*
 * The counters as JSON (a new reference): "uptime_s", "version",
 * "requests" [{action, result, count}] for each non-zero counter, and
 * "latency" {"le": [bounds], "actions": {name: {buckets (cumulative,
 * one per bound), count, sum_s}}} for each action run at least once.
 * name_of(slot) names slot (NULL: no such action).
 */
json_t	*stats_snapshot(const char *(*name_of)(int slot));

/* Zero every counter (the unit tests). */
void	stats_reset(void);

/*
 * Render a server.stats answer (stats_snapshot's fields plus sessions,
 * pool and audit objects) in the Prometheus text exposition format,
 * version 0.0.4.  Returns a malloc'd NUL-terminated string, or NULL
 * when stats is not such an answer (a field of the wrong type).
 */
char	*stats_prometheus(const json_t *stats);

#endif

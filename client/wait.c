/*
 * wait.c - durations and the --wait retry loop (wait.h).
 *
 * A retry must never repeat something the user can see: attempts only
 * talk to the server, and the error reports of a failed attempt are held
 * back (output.h: cli_err_capture) so that a run that ends well prints
 * only warnings, and one that ends badly prints exactly one error, the
 * last.  Nothing is retried unless the failure says "unavailable".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "err.h"

#include "client/output.h"
#include "client/rpc.h"
#include "client/wait.h"

#define BACKOFF_FIRST_MS	500
#define BACKOFF_MAX_MS		10000

int
cli_parse_duration(const char *s, long long min_s, long long max_s,
    long long *out_s)
{
	long long v, mul = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0')
			return -1;
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -1;
		}
	}
	if (v > max_s / mul)
		return -1;
	v *= mul;
	if (v < min_s || v > max_s)
		return -1;
	*out_s = v;
	return 0;
}

int
cli_attempt_call(struct cli_ctx *ctx, json_t *req, const char *what,
    json_t **resp)
{
	const json_t *msg;
	int st, err;

	if ((st = cli_rpc_request(ctx->rpc, req, resp, &err)) != 0)
		return st;
	if (err == SD_OK)
		return 0;
	msg = json_object_get(json_object_get(*resp, "error"), "message");
	st = cli_err(err, "%s%s%s", what != NULL ? what : "",
	    what != NULL ? ": " : "", json_is_string(msg) ?
	    json_string_value(msg) : "(no message)");
	json_decref(*resp);
	*resp = NULL;
	return st;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long long ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int retry_stopped;

void
cli_retry_stop(void)
{
	retry_stopped = 1;
}

int
cli_retry(struct cli_ctx *ctx, long long wait_s, cli_attempt_fn fn,
    void *arg)
{
	long long deadline, step = BACKOFF_FIRST_MS, pause, left;
	const char *code, *msg = "";
	int st;

	if (wait_s <= 0)
		return fn(ctx, arg);
	deadline = now_ms() + wait_s * 1000;
	for (;;) {
		cli_err_capture(1);
		retry_stopped = 0;
		st = fn(ctx, arg);
		code = cli_err_captured(&msg);
		left = deadline - now_ms();
		if (st == 0 || code == NULL || retry_stopped ||
		    strcmp(code, "unavailable") != 0 || left <= 0) {
			cli_err_release();
			return st;
		}
		/* Upper half of the step: spread a fleet booting together. */
		pause = step / 2 + (long long)randombytes_uniform(
		    (uint32_t)(step / 2 + 1));
		if (pause > left)
			pause = left;
		cli_warn(ctx->cfg, "%s; retrying in %lld.%01lld s (for %lld s "
		    "more)", msg, pause / 1000, (pause % 1000) / 100,
		    (left + 999) / 1000);
		cli_err_capture(0);
		sleep_ms(pause);
		if (step < BACKOFF_MAX_MS)
			step = step * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    step * 2;
		/* A failed session stays failed: start a new one. */
		cli_rpc_free(ctx->rpc);
		ctx->rpc = cli_rpc_new(ctx->cfg);
	}
}

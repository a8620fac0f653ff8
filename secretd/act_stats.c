/*
 * act_stats.c - server.stats: what the daemon is doing, for operators
 * and monitoring (`secretd stats`).  It needs the global audit
 * permission (dispatch.c), like the audit.* reads, and is audited like
 * them; it reads only counters in memory, never a secret, a path or a
 * principal's name, so its answer may be kept in a world-readable file.
 */
#include "actions.h"
#include "audit_seal.h"
#include "exec.h"
#include "dispatch.h"
#include "sesslimit.h"
#include "stats.h"

int
act_server_stats(struct request *r)
{
	json_t *s = stats_snapshot(dispatch_name);
	const char *k;
	json_t *v;
	int known, enrol, size, in_use, waiting, queued, unsealed;
	long long alone, batches, batched;
	double lag;

	sesslimit_counts(&known, &enrol);
	db_pool_usage(r->ctx->pool, &size, &in_use, &waiting);
	exec_stats(&queued, &alone, &batches, &batched);
	audit_seal_stats(&unsealed, &lag);
	json_object_set_new(s, "sessions", json_pack("{s:i, s:i}",
	    "principal", known, "enrol_only", enrol));
	json_object_set_new(s, "pool", json_pack("{s:i, s:i, s:i}",
	    "size", size, "in_use", in_use, "waiting", waiting));
	json_object_set_new(s, "audit", json_pack("{s:i, s:i, s:f}",
	    "queued_rows", queued, "unsealed_rows", unsealed,
	    "seal_lag_s", lag));
	json_object_set_new(s, "executor", json_pack("{s:I, s:I, s:I}",
	    "alone", (json_int_t)alone, "batches", (json_int_t)batches,
	    "batched", (json_int_t)batched));
	json_object_foreach(s, k, v)
		json_object_set(r->resp, k, v);
	json_decref(s);
	return 0;
}

/*
 * audit_seal.c - the sealer: chains committed audit rows (audit_seal.h).
 *
 * A thread of its own, on a connection of its own, seals what has
 * committed shortly after: seal n = MAC(seal n-1 || row id || row MAC),
 * inserted into audit_seal under an advisory lock that orders several
 * daemons on one database.  No request waits for a seal.  Rows committed
 * but not sealed when the daemon stopped are sealed at the next start,
 * if their MAC holds.
 *
 * The sealer never extends a chain whose head is behind the last head
 * it knew (the tail was cut off by someone with the database's
 * superuser): it raises an alarm and records the gap as a row of its
 * own before it seals on (gap_row).  After each seal transaction the
 * new head goes to syslog whatever audit_syslog says: a witness outside
 * the database, which `secret audit verify --head` checks against.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <sodium.h>

#include "audit_row.h"
#include "audit_seal.h"
#include "log.h"
#include "monotime.h"
#include "store.h"
#include "xmalloc.h"

#define SEAL_BATCH_MAX	2000
#define SEAL_DELAY_MS	50

struct sealable {
	int64_t		 id;
	unsigned char	 mac[AUDIT_HASH_LEN];
	int64_t		 queued_ms;	/* monotime: for the seal lag */
};

static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 seal_cv;	/* rows to seal, or stop */
	struct sealable		*seal;		/* committed, not yet sealed */
	size_t			 nseal, capseal;
	int64_t			 seal_seq;	/* last seal written */
	unsigned char		 seal_hash[AUDIT_HASH_LEN];
	int			 seal_loaded;
	struct db_pool		*pool;
	const struct server_ctx	*ctx;
	pthread_t		 sealer;
	int			 stop;
} q = { .mu = PTHREAD_MUTEX_INITIALIZER, .seal_cv = PTHREAD_COND_INITIALIZER };

int64_t
audit_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Queue a committed row for sealing; call with q.mu held.  A row can be
 * reported twice (found by the start-up scan and by its committer):
 * seal_txn drops duplicates and rows the database has sealed already,
 * so this stays O(1) in the request path.
 */
static void
sealable_add_locked(int64_t id, const unsigned char *mac)
{
	if (q.nseal == q.capseal) {
		q.capseal = q.capseal ? q.capseal * 2 : 256;
		q.seal = xreallocarray(q.seal, q.capseal, sizeof(*q.seal));
	}
	q.seal[q.nseal].id = id;
	memcpy(q.seal[q.nseal].mac, mac, AUDIT_HASH_LEN);
	q.seal[q.nseal].queued_ms = monotime_ms();
	if (q.nseal++ == 0)
		pthread_cond_signal(&q.seal_cv);
}

/* The chain head as the database has it now (seq 0: empty chain). */
static int
seal_head(struct db *d, int64_t *seq, unsigned char *hash)
{
	PGresult *res;
	unsigned char *h;
	size_t hl;
	int e;

	*seq = 0;
	memset(hash, 0, AUDIT_HASH_LEN);
	if ((e = db_exec(d, ST_SEAL_HEAD, 0, NULL, NULL, NULL, &res)) != 0)
		return e;
	if (PQntuples(res) == 1) {
		*seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		h = PQunescapeBytea((unsigned char *)PQgetvalue(res, 0, 1), &hl);
		if (h == NULL || hl != AUDIT_HASH_LEN)
			e = SD_EINTERNAL;
		else
			memcpy(hash, h, AUDIT_HASH_LEN);
		PQfreemem(h);
	}
	PQclear(res);
	return e;
}

/*
 * Queue the rows a previous run left unsealed (the start-up scan), but
 * only those whose MAC matches their content: a row inserted or altered
 * while no secretd watched stays unsealed, so that audit.verify names
 * it (forged) instead of the chain vouching for it.  Also take the
 * chain's head as the one this daemon knows, so that the sealer sees a
 * truncation from now on (seal_txn).
 */
static int
seal_load(struct db *d)
{
	unsigned char head[AUDIT_HASH_LEN];
	struct sealable *good;
	int64_t seq;
	PGresult *res;
	int i, e, n = 0, bad = 0;

	if ((e = seal_head(d, &seq, head)) != 0 ||
	    (e = db_exec(d, ST_UNSEALED, 0, NULL, NULL, NULL, &res)) != 0)
		return e;
	good = xcalloc((size_t)PQntuples(res) + 1, sizeof(*good));
	for (i = 0; i < PQntuples(res); i++) {
		audit_row_mac(ctx_keyring(q.ctx), res, i, good[n].mac);
		if (!audit_bytea_eq(res, i, AC_MAC + 1 /* after the id */, good[n].mac)) {
			bad++;
			log_error("ALARM: audit row %s, left unsealed, has no "
			    "valid MAC: not sealed", PQgetvalue(res, i, 0));
			syslog(LOG_AUTHPRIV | LOG_ALERT, "audit alarm: row %s, "
			    "left unsealed, has no valid MAC: not sealed",
			    PQgetvalue(res, i, 0));
			continue;
		}
		good[n++].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	}
	pthread_mutex_lock(&q.mu);
	if (q.seal_seq == 0) {
		q.seal_seq = seq;
		memcpy(q.seal_hash, head, AUDIT_HASH_LEN);
	}
	for (i = 0; i < n; i++)
		sealable_add_locked(good[i].id, good[i].mac);
	pthread_mutex_unlock(&q.mu);
	free(good);
	if (PQntuples(res) > bad)
		log_info("sealing %d audit rows left unsealed",
		    PQntuples(res) - bad);
	PQclear(res);
	q.seal_loaded = 1;
	return 0;
}

/* A text[]-style literal of the ids, "{1,2,3}". */
static char *
ids_literal(const struct sealable *todo, size_t n)
{
	char *out = xmalloc(n * 22 + 3), *o = out;
	size_t i;

	*o++ = '{';
	for (i = 0; i < n; i++)
		o += sprintf(o, "%s%lld", i ? "," : "", (long long)todo[i].id);
	strcpy(o, "}");
	return out;
}

static int
sealable_cmp(const void *a, const void *b)
{
	const struct sealable *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Sort by id and drop repeats; returns the new count. */
static size_t
sealable_unique(struct sealable *todo, size_t n)
{
	size_t i, m = 0;

	qsort(todo, n, sizeof(*todo), sealable_cmp);
	for (i = 0; i < n; i++)
		if (m == 0 || todo[m - 1].id != todo[i].id)
			todo[m++] = todo[i];
	return m;
}

/*
 * 1 in *holds if the chain in the database still has the head this
 * daemon last knew (known, khash: what it sealed last, or found at
 * start), given the head the database has now (seq, hash); another
 * secretd may have extended it since.  0 or the error.
 */
static int
chain_holds(struct db *d, int64_t known, const unsigned char *khash,
    int64_t seq, const unsigned char *hash, int *holds)
{
	char buf[24];
	const char *v[1] = { buf };
	PGresult *res;
	int e;

	*holds = 1;
	if (known == 0)
		return 0;
	if (seq <= known) {
		*holds = seq == known &&
		    sodium_memcmp(hash, khash, AUDIT_HASH_LEN) == 0;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)known);
	if ((e = db_exec(d, ST_SEAL_AT, 1, v, NULL, NULL, &res)) != 0)
		return e;
	*holds = PQntuples(res) == 1 && audit_bytea_eq(res, 0, 0, khash);
	PQclear(res);
	return 0;
}

/*
 * The chain no longer holds the head this daemon knew: seals (and their
 * rows, presumably) were cut off its end.  Never seal on top of that as
 * if nothing happened: raise the alarm, and start a new segment with a
 * row of its own, action "audit.truncated", that records the head known
 * and the head found.  The row is MACed and sealed like any other, so
 * audit.verify reports "truncated" at it until an auditor acknowledges
 * it (audit.verify "acknowledge"), whether this daemon runs on or not.
 * *out gets the row's id and MAC; 0 or the database error.
 */
static int
gap_row(struct db *d, int64_t known, const unsigned char *khash,
    int64_t seq, const unsigned char *hash, struct sealable *out)
{
	struct audit_input in = { .action = AUDIT_TRUNCATED, .version = -1,
	    .err = SD_EINTERNAL, .session_id = "secretd" };
	struct audit_row row = { 0 };
	struct audit_cols cols;
	char kx[AUDIT_HASH_LEN * 2 + 1], fx[AUDIT_HASH_LEN * 2 + 1];
	json_t *detail;
	PGresult *res;
	int e;

	sodium_bin2hex(kx, sizeof(kx), khash, AUDIT_HASH_LEN);
	sodium_bin2hex(fx, sizeof(fx), hash, AUDIT_HASH_LEN);
	log_error("ALARM: audit chain truncated: this daemon knew head "
	    "%lld:%s, the database has %lld:%s; recording the gap",
	    (long long)known, kx, (long long)seq, fx);
	syslog(LOG_AUTHPRIV | LOG_ALERT, "audit alarm: chain truncated: "
	    "known head %lld:%s, found %lld:%s", (long long)known, kx,
	    (long long)seq, fx);
	detail = json_pack("{s:I,s:s,s:I,s:s}",
	    "known_seq", (json_int_t)known, "known_head", kx,
	    "found_seq", (json_int_t)seq, "found_head", fx);
	in.detail = detail;
	in.at_us = audit_now_us();
	in.err_code = "truncated";
	audit_row_build(&row, ctx_keyring(q.ctx), &in);
	json_decref(detail);
	audit_cols_init(&cols);
	audit_cols_add(&cols, &row);
	e = db_exec(d, ST_AUDIT_INSERT, AUDIT_NCOLS, audit_cols_params(&cols),
	    NULL, NULL, &res);
	audit_cols_free(&cols);
	if (e == 0) {
		out->id = PQntuples(res) == 1 ?
		    audit_result_id(res, 0, row.mac) : 0;
		memcpy(out->mac, row.mac, AUDIT_HASH_LEN);
		PQclear(res);
		if (out->id == 0)
			e = SD_EINTERNAL;
	}
	audit_row_free(&row);
	return e;
}

/*
 * Seal what has committed, in one transaction holding the chain's
 * advisory lock: read the head the database has now (another secretd on
 * the same database may have extended it), check that it still extends
 * the head this daemon knew (else record the gap first: gap_row), skip
 * rows already sealed, extend the chain, commit.  On failure everything
 * stays queued.  After the commit the new head goes to syslog, always:
 * a witness outside the database (secret audit verify --head).
 */
static int
seal_txn(struct db *d, struct sealable *todo, size_t n)
{
	unsigned char hash[AUDIT_HASH_LEN], prev[AUDIT_HASH_LEN];
	unsigned char khash[AUDIT_HASH_LEN];
	char *seqs, *ids, *hashes, *a, *h, *lit, hex[AUDIT_HASH_LEN * 2 + 1];
	const char *v[3];
	struct sealable *list;
	PGresult *res;
	int64_t seq, known;
	size_t i, k, m = 0;
	int e, holds;

	n = sealable_unique(todo, n);
	if ((e = db_begin(d)) != 0 || (e = db_run(d, ST_SEAL_LOCK, 0, NULL)) != 0 ||
	    (e = seal_head(d, &seq, prev)) != 0)
		return e;
	pthread_mutex_lock(&q.mu);
	known = q.seal_seq;
	memcpy(khash, q.seal_hash, AUDIT_HASH_LEN);
	pthread_mutex_unlock(&q.mu);
	if ((e = chain_holds(d, known, khash, seq, prev, &holds)) != 0)
		return e;
	lit = ids_literal(todo, n);
	v[0] = lit;
	e = db_exec(d, ST_SEALED_AMONG, 1, v, NULL, NULL, &res);
	free(lit);
	if (e != 0)
		return e;
	/* the gap's row first, then the rows not sealed yet */
	list = xcalloc(n + 1, sizeof(*list));
	if (!holds && (e = gap_row(d, known, khash, seq, prev, &list[m++])) != 0) {
		PQclear(res);
		free(list);
		return e;
	}
	for (i = 0; i < n; i++) {
		int sealed = 0;

		for (k = 0; k < (size_t)PQntuples(res) && !sealed; k++)
			sealed = strtoll(PQgetvalue(res, (int)k, 0), NULL, 10) ==
			    todo[i].id;
		if (!sealed)
			list[m++] = todo[i];
	}
	PQclear(res);
	if (m > 0) {
		a = seqs = xmalloc(m * 22 + 3);
		h = hashes = xmalloc(m * (AUDIT_HASH_LEN * 2 + 8) + 3);
		*a++ = *h++ = '{';
		for (i = 0; i < m; i++) {
			audit_seal_hash(ctx_keyring(q.ctx), prev, list[i].id,
			    list[i].mac, hash);
			memcpy(prev, hash, AUDIT_HASH_LEN);
			a += sprintf(a, "%s%lld", i ? "," : "", (long long)++seq);
			h += sprintf(h, "%s\"\\\\x", i ? "," : "");
			sodium_bin2hex(h, AUDIT_HASH_LEN * 2 + 1, hash,
			    AUDIT_HASH_LEN);
			h += AUDIT_HASH_LEN * 2;
			*h++ = '"';
		}
		strcpy(a, "}");
		strcpy(h, "}");
		ids = ids_literal(list, m);
		v[0] = seqs;
		v[1] = ids;
		v[2] = hashes;
		e = db_run(d, ST_SEAL_INSERT, 3, v);
		free(seqs);
		free(ids);
		free(hashes);
	}
	free(list);
	if (e != 0 || (e = db_commit(d)) != 0)
		return e;
	if (m > 0) {
		pthread_mutex_lock(&q.mu);
		q.seal_seq = seq;
		memcpy(q.seal_hash, prev, AUDIT_HASH_LEN);
		pthread_mutex_unlock(&q.mu);
		sodium_bin2hex(hex, sizeof(hex), prev, AUDIT_HASH_LEN);
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "audit head %lld:%s",
		    (long long)seq, hex);
	}
	return 0;
}

/* Seal up to SEAL_BATCH_MAX queued rows; 0 or the error. */
static int
seal_pending(void)
{
	struct sealable *todo;
	struct db *d;
	size_t n;
	int e;

	if ((e = db_acquire(q.pool, &d)) != 0)
		return e;
	if (!q.seal_loaded && (e = seal_load(d)) != 0) {
		db_release(q.pool, d);
		return e;
	}
	pthread_mutex_lock(&q.mu);
	n = q.nseal < SEAL_BATCH_MAX ? q.nseal : SEAL_BATCH_MAX;
	todo = xcalloc(n ? n : 1, sizeof(*todo));
	memcpy(todo, q.seal, n * sizeof(*todo));
	pthread_mutex_unlock(&q.mu);
	if (n > 0 && (e = seal_txn(d, todo, n)) != 0) {
		db_rollback(d);
		log_warn("audit seals not written (%s); will retry",
		    sd_err_code(e));
	}
	db_release(q.pool, d);
	if (n > 0 && e == 0) {
		/* the first n queued entries are handled: drop them */
		pthread_mutex_lock(&q.mu);
		memmove(q.seal, q.seal + n, (q.nseal - n) * sizeof(*q.seal));
		q.nseal -= n;
		pthread_mutex_unlock(&q.mu);
	}
	free(todo);
	return e;
}

/* Wait on q.seal_cv (q.mu held) for up to ms milliseconds. */
static void
seal_wait_ms(long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&q.seal_cv, &q.mu, &until);
}

/*
 * The sealer: a thread and a connection of its own, so that no request
 * and no batch ever waits behind a seal.  Once rows are committed it
 * lets SEAL_DELAY_MS pass (to seal many at once), then seals; after a
 * failure it retries every second.  On stop it seals what is left.
 */
static void *
sealer_main(void *arg)
{
	int e = 0;

	(void)arg;
	log_set_tag("audit-seal");
	pthread_mutex_lock(&q.mu);
	for (;;) {
		while (q.nseal == 0 && !q.stop)
			pthread_cond_wait(&q.seal_cv, &q.mu);
		if (!q.stop)
			seal_wait_ms(e != 0 ? 1000 : SEAL_DELAY_MS);
		if (q.nseal > 0) {
			pthread_mutex_unlock(&q.mu);
			e = seal_pending();
			pthread_mutex_lock(&q.mu);
		}
		if (q.stop && (q.nseal == 0 || e != 0))
			break;
	}
	pthread_mutex_unlock(&q.mu);
	return NULL;
}

void
audit_seal_enqueue(int64_t id, const unsigned char *mac)
{
	pthread_mutex_lock(&q.mu);
	sealable_add_locked(id, mac);
	pthread_mutex_unlock(&q.mu);
}

void
audit_seal_start(const char *conninfo, const struct server_ctx *ctx)
{
	struct db *d;

	q.pool = db_pool_new(conninfo, 1, store_stmts, ST__COUNT);
	q.ctx = ctx;
	q.stop = 0;
	/* load the chain head before any request can commit a row */
	if (db_acquire(q.pool, &d) == 0) {
		if (seal_load(d) != 0)
			log_warn("audit seal chain not loaded yet; will retry");
		db_release(q.pool, d);
	}
	if (pthread_create(&q.sealer, NULL, sealer_main, NULL) != 0)
		fatal("cannot start the audit sealer");
}

void
audit_seal_stop(void)
{
	pthread_mutex_lock(&q.mu);
	q.stop = 1;
	pthread_cond_signal(&q.seal_cv);
	pthread_mutex_unlock(&q.mu);
	pthread_join(q.sealer, NULL);
	if (q.nseal > 0)
		(void)seal_pending();	/* a last try */
	db_pool_free(q.pool);
	q.pool = NULL;
	free(q.seal);
	q.seal = NULL;
	q.nseal = q.capseal = 0;
}

void
audit_seal_head(int64_t *seq, unsigned char hash[AUDIT_HASH_LEN])
{
	pthread_mutex_lock(&q.mu);
	*seq = q.seal_seq;
	memcpy(hash, q.seal_hash, AUDIT_HASH_LEN);
	pthread_mutex_unlock(&q.mu);
}

void
audit_seal_stats(int *unsealed, double *seal_lag_s)
{
	int64_t oldest = -1;
	size_t i;

	pthread_mutex_lock(&q.mu);
	*unsealed = (int)q.nseal;
	/* the queue is mostly in order, but a retry may put rows back */
	for (i = 0; i < q.nseal; i++)
		if (oldest < 0 || q.seal[i].queued_ms < oldest)
			oldest = q.seal[i].queued_ms;
	pthread_mutex_unlock(&q.mu);
	*seal_lag_s = oldest < 0 ? 0 : (double)(monotime_ms() - oldest) / 1e3;
}

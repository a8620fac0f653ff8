/*
 * write_batch.c - concurrent puts share a transaction (write_batch.h).
 *
 * One thread, the batcher, on a connection of its own.  Per batch, two
 * round trips: BEGIN and the requests' first statement, one for the
 * batch (for puts: the permission checks and the locks of their nodes),
 * then every request's writes and audit row and the COMMIT.  Those are
 * one statement per kind for the batch as well: the puts' new versions
 * (put_rows.h) and the audit rows (audit_batch in audit.h).  A lone put
 * costs two round trips and a commit; a batch of thirty costs the same,
 * which is most of what a put costs PostgreSQL (docs/performance.md).
 *
 * A batch never holds two requests for the same path (the second waits
 * for the next batch: both would take the same version), and put_lock
 * locks in node order, so that it cannot deadlock against another
 * batch.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "pg_array.h"
#include "store.h"
#include "write_batch.h"
#include "xmalloc.h"

#define WRITE_BATCH_MAX	32
#ifndef WRITE_BATCHERS
#define WRITE_BATCHERS	2	/* one batch locks while another commits */
#endif

struct item {
	struct request			*r;
	const char			*action;
	const struct deferred_read	*rd;
	int				 err;	/* outcome, or DEFER_ALONE */
	sem_t				 done;
	struct item			*next;
};

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 work;		/* items queued, or stop */
	struct item	*head, *tail;
	struct db_pool	*pool;
	pthread_t	 thread[WRITE_BATCHERS];
	int		 running;
	int		 stop;
	int		 busy;		/* batches in flight */
	int		 direct;	/* a change runs alone */
} q = { .mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER };

/* A batched change's second parameter is its path (put_lock's). */
static const char *
item_path(const struct item *it)
{
	return it->rd->v[1];
}

/*
 * Take up to WRITE_BATCH_MAX queued items, none for a path already
 * taken (those stay queued, in order); call with q.mu held.
 */
static int
take_batch(struct item **batch)
{
	struct item *it, *keep = NULL, *keep_tail = NULL, *next;
	int i, n = 0, dup;

	for (it = q.head; it != NULL; it = next) {
		next = it->next;
		it->next = NULL;
		dup = n == WRITE_BATCH_MAX;
		for (i = 0; !dup && i < n; i++)
			dup = strcmp(item_path(batch[i]), item_path(it)) == 0;
		if (!dup) {
			batch[n++] = it;
			continue;
		}
		if (keep_tail)
			keep_tail->next = it;
		else
			keep = it;
		keep_tail = it;
	}
	q.head = keep;
	q.tail = keep_tail;
	return n;
}

/* Undo what a failed batch left in its requests: they run again alone. */
static void
batch_failed(struct db *d, struct item **batch, int n, int e)
{
	int i;

	log_warn("a batch of %d changes failed (%s); running them one by "
	    "one", n, sd_err_code(e));
	db_rollback(d);
	for (i = 0; i < n; i++) {
		batch[i]->err = DEFER_ALONE;
		PQclear(batch[i]->r->audit_res);
		batch[i]->r->audit_res = NULL;
		free(batch[i]->r->audit_mirror);
		batch[i]->r->audit_mirror = NULL;
	}
}

/*
 * The batch's COMMIT was sent and no answer came back: each change in it
 * may or may not have committed.  None may run again (a put without cas
 * would then make a second version), nor be reported as done or as
 * failed: each is answered unavailable, saying the outcome is unknown.
 * Those handed back before the commit (DEFER_ALONE) were not in it.
 */
static void
batch_unknown(struct db *d, struct item **batch, int n)
{
	int i;

	log_warn("a batch of %d changes: the connection was lost during "
	    "its COMMIT; their outcome is unknown", n);
	db_rollback(d);
	for (i = 0; i < n; i++) {
		if (batch[i]->err == DEFER_ALONE)
			continue;
		batch[i]->err = SD_EUNAVAIL;
		batch[i]->r->why = DB_OUTCOME_UNKNOWN_MSG;
		PQclear(batch[i]->r->audit_res);
		batch[i]->r->audit_res = NULL;
		free(batch[i]->r->audit_mirror);
		batch[i]->r->audit_mirror = NULL;
	}
}

static void
run_batch(struct item **batch, int n)
{
	const struct deferred_read *rds[WRITE_BATCH_MAX];
	struct pg_array col[4];
	const char *v[4];
	struct audit_batch *audit;
	struct put_rows rows;
	struct request *r;
	PGresult *res = NULL;
	struct db *d;
	int i, e;

	if ((e = db_acquire(q.pool, &d)) != 0) {
		for (i = 0; i < n; i++)
			batch[i]->err = DEFER_ALONE;
		return;
	}
	audit = audit_batch_new();
	/* round trip 1: BEGIN and the first statement, for all of them */
	for (i = 0; i < n; i++)
		rds[i] = batch[i]->rd;
	deferred_read_arrays(rds, n, col, v);
	if ((e = db_begin(d)) == 0 && (e = db_queue(d, rds[0]->batch_stmt,
	    rds[0]->n, v, NULL, NULL, &res)) == 0)
		e = db_flush(d);
	for (i = 0; i < rds[0]->n; i++)
		pg_array_free(&col[i]);
	if (e == 0 && PQntuples(res) != n) {
		log_error("%s: %d rows for %d requests",
		    store_stmts[rds[0]->batch_stmt].name, PQntuples(res), n);
		e = SD_EINTERNAL;
	}
	if (e != 0)
		goto fail;
	/* each request's second half queues its writes, then its row */
	put_rows_init(&rows, batch[0]->r->ctx->cfg->max_versions);
	for (i = 0; i < n; i++) {
		r = batch[i]->r;
		r->db = d;
		r->put_rows = &rows;
		r->audit_batch = audit;
		batch[i]->err = batch[i]->rd->finish(r, batch[i]->rd, res, i);
		if (batch[i]->err != DEFER_ALONE)
			e = audit_write(r, batch[i]->action, batch[i]->err);
		r->db = NULL;
		r->put_rows = NULL;
		r->audit_batch = NULL;
		if (e != 0)
			break;
	}
	if (e == 0 && rows.n > 0)
		e = put_rows_queue(&rows, d);
	put_rows_free(&rows);
	if (e == 0)
		e = audit_batch_queue(audit, d);
	/* round trip 2: all of it, and the COMMIT */
	if (e == 0 && (e = db_commit(d)) != 0 && db_outcome_unknown(d)) {
		batch_unknown(d, batch, n);
		goto out;
	}
	if (e != 0)
		goto fail;
	audit_batch_committed(audit);
out:
	audit_batch_free(audit);
	PQclear(res);
	db_release(q.pool, d);
	return;
fail:
	batch_failed(d, batch, n, e);
	audit_batch_free(audit);
	PQclear(res);
	db_release(q.pool, d);
}

static void *
batcher_main(void *arg)
{
	struct item *batch[WRITE_BATCH_MAX];
	int i, n;

	(void)arg;
	log_set_tag("write-batch");
	pthread_mutex_lock(&q.mu);
	for (;;) {
		while (q.head == NULL && !q.stop)
			pthread_cond_wait(&q.work, &q.mu);
		if (q.head == NULL)
			break;		/* stopping, and nothing left */
		n = take_batch(batch);
		q.busy++;
		pthread_mutex_unlock(&q.mu);

		run_batch(batch, n);

		pthread_mutex_lock(&q.mu);
		q.busy--;
		pthread_mutex_unlock(&q.mu);
		for (i = 0; i < n; i++)		/* not under q.mu */
			sem_post(&batch[i]->done);
		pthread_mutex_lock(&q.mu);
	}
	pthread_mutex_unlock(&q.mu);
	return NULL;
}

int
write_batch_submit(struct request *r, const char *action,
    const struct deferred_read *rd)
{
	struct item it = { .r = r, .action = action, .rd = rd };

	sem_init(&it.done, 0, 0);
	pthread_mutex_lock(&q.mu);
	if (!q.running) {
		pthread_mutex_unlock(&q.mu);
		sem_destroy(&it.done);
		return DEFER_ALONE;
	}
	if (q.tail)
		q.tail->next = &it;
	else
		q.head = &it;
	q.tail = &it;
	pthread_cond_signal(&q.work);
	pthread_mutex_unlock(&q.mu);
	while (sem_wait(&it.done) != 0 && errno == EINTR)
		;
	sem_destroy(&it.done);
	return it.err;
}

int
write_direct_begin(void)
{
	int ok;

	pthread_mutex_lock(&q.mu);
	ok = !q.running || (q.head == NULL && !q.busy && !q.direct);
	if (ok)
		q.direct = 1;
	pthread_mutex_unlock(&q.mu);
	return ok;
}

void
write_direct_end(void)
{
	pthread_mutex_lock(&q.mu);
	q.direct = 0;
	pthread_mutex_unlock(&q.mu);
}

void
write_batch_start(const char *conninfo)
{
	int i;

	q.pool = db_pool_new(conninfo, WRITE_BATCHERS, store_stmts, ST__COUNT);
	q.stop = 0;
	q.running = 1;
	for (i = 0; i < WRITE_BATCHERS; i++)
		if (pthread_create(&q.thread[i], NULL, batcher_main, NULL) != 0)
			fatal("cannot start the write batcher");
}

void
write_batch_stop(void)
{
	int i;

	pthread_mutex_lock(&q.mu);
	q.stop = 1;
	pthread_cond_broadcast(&q.work);
	pthread_mutex_unlock(&q.mu);
	for (i = 0; i < WRITE_BATCHERS; i++)	/* queued changes run first */
		pthread_join(q.thread[i], NULL);
	pthread_mutex_lock(&q.mu);
	q.running = 0;
	pthread_mutex_unlock(&q.mu);
	db_pool_free(q.pool);
	q.pool = NULL;
}

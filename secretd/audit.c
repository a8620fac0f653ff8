/*
 * audit.c - building audit rows, and the audit writer thread.
 *
 * The writer takes every row queued since its last commit (up to
 * AUDIT_BATCH_MAX), sends one prepared INSERT per row in libpq pipeline
 * mode, and ends with one Sync: the rows form one implicit transaction,
 * so they commit together or, on any error, none does and every waiter
 * gets the error.  This turns N concurrent reads' N commits into one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "proto.h"
#include "store.h"
#include "xmalloc.h"

#define AUDIT_NPARAMS	13
#define AUDIT_BATCH_MAX	512

struct audit_row {
	char			*v[AUDIT_NPARAMS];
	int			 len[AUDIT_NPARAMS];
	int			 fmt[AUDIT_NPARAMS];
	int			 done;
	int			 err;
	struct audit_row	*next;
};

static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 work;
	pthread_cond_t		 done;
	struct audit_row	*head, *tail;
	struct db_pool		*pool;
	pthread_t		 thread;
	int			 running;
	int			 stop;
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	PTHREAD_COND_INITIALIZER, NULL, NULL, NULL, 0, 0, 0 };

static char *
dupnull(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
row_build(struct audit_row *row, struct request *r, const char *action,
    int err)
{
	const struct session *s = r->sess;
	const json_t *id = json_object_get(r->req, "id");
	char buf[32];

	memset(row, 0, sizeof(*row));
	row->v[0] = dupnull(s->principal_id ? s->principal : NULL);
	row->v[1] = dupnull(s->fingerprint[0] ? s->fingerprint : NULL);
	row->v[2] = xstrdup(action);
	row->v[3] = r->has_path ? store_path_param(&r->path) : NULL;
	snprintf(buf, sizeof(buf), "%lld", r->version);
	row->v[4] = r->version >= 0 ? xstrdup(buf) : NULL;
	row->v[5] = xstrdup(err == 0 ? "ok" :
	    (err == SD_EPERM || err == SD_EUNAUTH) ? "denied" : "error");
	row->v[6] = err == 0 ? NULL : xstrdup(sd_err_code(err));
	row->v[7] = dupnull(s->client_addr[0] ? s->client_addr : NULL);
	snprintf(buf, sizeof(buf), "%d", s->client_port);
	row->v[8] = s->client_port ? xstrdup(buf) : NULL;
	row->v[9] = xstrdup(s->id);
	row->v[10] = id ? json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	if (r->has_hash) {
		row->v[11] = xmalloc(AUDIT_HASH_LEN);
		memcpy(row->v[11], r->value_hash, AUDIT_HASH_LEN);
		row->len[11] = AUDIT_HASH_LEN;
		row->fmt[11] = 1;
	}
	row->v[12] = r->detail ?
	    json_dumps(r->detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

static void
row_free(struct audit_row *row)
{
	int i;

	for (i = 0; i < AUDIT_NPARAMS; i++)
		free(row->v[i]);
}

int
audit_write(struct request *r, const char *action, int err)
{
	struct audit_row row;
	PGresult *res;
	int e;

	row_build(&row, r, action, err);
	e = db_exec(r->db, ST_AUDIT_INSERT, AUDIT_NPARAMS,
	    (const char *const *)row.v, row.len, row.fmt, &res);
	if (e == 0)
		PQclear(res);
	else
		log_error("audit row for %s not written: %s", action,
		    sd_err_code(e));
	row_free(&row);
	return e;
}

int
audit_submit(struct request *r, const char *action, int err)
{
	struct audit_row *rows;
	struct request item;
	int i, n = 1 + r->n_extra, e = 0;

	rows = xcalloc((size_t)n, sizeof(*rows));
	row_build(&rows[0], r, action, err);
	for (i = 0; i < r->n_extra; i++) {
		item = *r;
		item.path = r->extra[i].path;
		item.has_path = 1;
		item.version = r->extra[i].version;
		item.has_hash = 0;
		item.detail = NULL;
		row_build(&rows[i + 1], &item, action, r->extra[i].err);
	}
	pthread_mutex_lock(&q.mu);
	if (!q.running) {
		pthread_mutex_unlock(&q.mu);
		e = SD_EINTERNAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (q.tail)
			q.tail->next = &rows[i];
		else
			q.head = &rows[i];
		q.tail = &rows[i];
	}
	pthread_cond_signal(&q.work);
	for (i = 0; i < n; i++) {
		while (!rows[i].done)
			pthread_cond_wait(&q.done, &q.mu);
		if (rows[i].err != 0 && e == 0)
			e = rows[i].err;
	}
	pthread_mutex_unlock(&q.mu);
	if (e != 0)
		log_error("audit row for %s not written: %s", action,
		    sd_err_code(e));
out:
	for (i = 0; i < n; i++)
		row_free(&rows[i]);
	free(rows);
	return e;
}

/* Commit a batch in one pipeline; 0 or an SD_E* code for all of it. */
static int
write_batch(struct audit_row *rows)
{
	const struct db_stmt *st = &store_stmts[ST_AUDIT_INSERT];
	struct audit_row *row;
	struct db *d;
	PGconn *c;
	PGresult *res;
	int e = 0, n = 0, i;

	if ((e = db_acquire(q.pool, &d)) != 0)
		return e;
	c = db_conn(d);
	if (PQenterPipelineMode(c) != 1) {
		db_release(q.pool, d);
		return SD_EINTERNAL;
	}
	for (row = rows; row != NULL; row = row->next, n++)
		if (PQsendQueryPrepared(c, st->name, AUDIT_NPARAMS,
		    (const char *const *)row->v, row->len, row->fmt, 0) != 1)
			e = SD_EUNAVAIL;
	if (e == 0 && PQpipelineSync(c) != 1)
		e = SD_EUNAVAIL;
	/* one result (then NULL) per query, then the sync */
	for (i = 0; e == 0 && i < n; i++) {
		if ((res = PQgetResult(c)) == NULL) {
			e = SD_EUNAVAIL;
			break;
		}
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			if (PQresultStatus(res) != PGRES_PIPELINE_ABORTED)
				log_error("audit insert: %s",
				    PQresultErrorMessage(res));
			e = PQstatus(c) == CONNECTION_OK ? SD_EINTERNAL :
			    SD_EUNAVAIL;
		}
		PQclear(res);
		while ((res = PQgetResult(c)) != NULL)
			PQclear(res);
	}
	/* drain up to and including the sync result */
	while (PQstatus(c) == CONNECTION_OK && (res = PQgetResult(c)) != NULL) {
		int sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;

		PQclear(res);
		if (sync)
			break;
	}
	if (PQexitPipelineMode(c) != 1 && e == 0)
		e = SD_EINTERNAL;
	if (PQstatus(c) != CONNECTION_OK && e == 0)
		e = SD_EUNAVAIL;
	db_release(q.pool, d);
	return e;
}

static void *
writer_main(void *arg)
{
	struct audit_row *batch, *row, *last;
	int n, e;

	(void)arg;
	log_set_tag("audit");
	pthread_mutex_lock(&q.mu);
	for (;;) {
		while (q.head == NULL && !q.stop)
			pthread_cond_wait(&q.work, &q.mu);
		if (q.head == NULL && q.stop)
			break;
		batch = q.head;
		for (n = 1, last = batch; last->next && n < AUDIT_BATCH_MAX; n++)
			last = last->next;
		q.head = last->next;
		if (q.head == NULL)
			q.tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&q.mu);

		e = write_batch(batch);

		pthread_mutex_lock(&q.mu);
		for (row = batch; row != NULL; row = row->next) {
			row->err = e;
			row->done = 1;
		}
		pthread_cond_broadcast(&q.done);
	}
	pthread_mutex_unlock(&q.mu);
	return NULL;
}

void
audit_writer_start(const char *conninfo)
{
	q.pool = db_pool_new(conninfo, 1, store_stmts, ST__COUNT);
	q.stop = 0;
	q.running = 1;
	if (pthread_create(&q.thread, NULL, writer_main, NULL) != 0)
		fatal("cannot start the audit writer");
}

void
audit_writer_stop(void)
{
	pthread_mutex_lock(&q.mu);
	q.stop = 1;
	pthread_cond_signal(&q.work);
	pthread_mutex_unlock(&q.mu);
	pthread_join(q.thread, NULL);
	pthread_mutex_lock(&q.mu);
	q.running = 0;
	pthread_mutex_unlock(&q.mu);
	db_pool_free(q.pool);
	q.pool = NULL;
}

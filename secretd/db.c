/*
 * db.c - PostgreSQL connection pool.
 *
 * A mutex and condition variable guard a fixed array of slots; a request
 * holds one slot from acquire to release.  Reconnection happens inside
 * acquire, rate-limited by an exponential backoff shared by the pool, so
 * a dead database costs each request one quick "unavailable" rather than
 * a connect timeout.  Never logs parameter values: they may be secret.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "monotime.h"
#include "xmalloc.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define ACQUIRE_WAIT_S	10

struct db {
	PGconn		*conn;
	int		 busy;
	int		 prepared;
	struct db_pool	*pool;
};

struct db_pool {
	char			*conninfo;
	const struct db_stmt	*stmts;
	int			 nstmts;
	int			 size;
	struct db		*slots;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	long long		 retry_at_ms;	/* no connect attempt before */
	int			 backoff_ms;
};

struct db_pool *
db_pool_new(const char *conninfo, int size, const struct db_stmt *stmts,
    int nstmts)
{
	struct db_pool *p = xcalloc(1, sizeof(*p));
	int i;

	p->conninfo = xstrdup(conninfo);
	p->stmts = stmts;
	p->nstmts = nstmts;
	p->size = size;
	p->slots = xcalloc((size_t)size, sizeof(*p->slots));
	for (i = 0; i < size; i++)
		p->slots[i].pool = p;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	return p;
}

void
db_pool_free(struct db_pool *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->size; i++)
		if (p->slots[i].conn != NULL)
			PQfinish(p->slots[i].conn);
	free(p->slots);
	freezero_str(p->conninfo);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

/* Server notices (e.g. "already exists, skipping") go to the debug log. */
static void
notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("database: %.200s", msg);
}

PGconn *
db_connect_once(const char *conninfo, char *err, size_t errlen)
{
	PGconn *c = PQconnectdb(conninfo);
	const char *m;
	size_t n;

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		m = c ? PQerrorMessage(c) : "out of memory";
		snprintf(err, errlen, "database: %s", m);
		n = strlen(err);
		while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
		if (c != NULL)
			PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice, NULL);
	return c;
}

/* Connect and prepare every statement; called without the pool lock. */
static int
slot_connect(struct db *d)
{
	struct db_pool *p = d->pool;
	char err[512];
	PGresult *r;
	int i;

	if (d->conn != NULL) {
		PQfinish(d->conn);
		d->conn = NULL;
	}
	d->prepared = 0;
	if ((d->conn = db_connect_once(p->conninfo, err, sizeof(err))) == NULL) {
		log_warn("%s", err);
		return SD_EUNAVAIL;
	}
	for (i = 0; i < p->nstmts; i++) {
		r = PQprepare(d->conn, p->stmts[i].name, p->stmts[i].sql, 0,
		    NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_error("prepare %s: %s", p->stmts[i].name,
			    PQresultErrorMessage(r));
			int bad = PQstatus(d->conn) == CONNECTION_BAD;

			PQclear(r);
			PQfinish(d->conn);
			d->conn = NULL;
			return bad ? SD_EUNAVAIL : SD_EINTERNAL;
		}
		PQclear(r);
	}
	d->prepared = 1;
	return 0;
}

int
db_acquire(struct db_pool *p, struct db **out)
{
	struct timespec deadline;
	struct db *d = NULL;
	int i, r;

	*out = NULL;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ACQUIRE_WAIT_S;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (i = 0; i < p->size; i++) {
			/* prefer a slot that is already connected */
			if (!p->slots[i].busy && p->slots[i].conn != NULL) {
				d = &p->slots[i];
				break;
			}
		}
		for (i = 0; d == NULL && i < p->size; i++)
			if (!p->slots[i].busy)
				d = &p->slots[i];
		if (d != NULL)
			break;
		if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) != 0) {
			pthread_mutex_unlock(&p->mu);
			log_warn("no database connection free for %d s",
			    ACQUIRE_WAIT_S);
			return SD_EUNAVAIL;
		}
	}
	d->busy = 1;
	if (d->conn != NULL && PQstatus(d->conn) == CONNECTION_OK &&
	    d->prepared) {
		pthread_mutex_unlock(&p->mu);
		*out = d;
		return 0;
	}
	if (monotime_ms() < p->retry_at_ms) {
		d->busy = 0;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		return SD_EUNAVAIL;
	}
	pthread_mutex_unlock(&p->mu);

	r = slot_connect(d);

	pthread_mutex_lock(&p->mu);
	if (r != 0) {
		p->backoff_ms = p->backoff_ms == 0 ? BACKOFF_MIN_MS :
		    p->backoff_ms * 2;
		if (p->backoff_ms > BACKOFF_MAX_MS)
			p->backoff_ms = BACKOFF_MAX_MS;
		p->retry_at_ms = monotime_ms() + p->backoff_ms;
		d->busy = 0;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		return r;
	}
	if (p->backoff_ms != 0)
		log_info("database connection restored");
	p->backoff_ms = 0;
	p->retry_at_ms = 0;
	pthread_mutex_unlock(&p->mu);
	*out = d;
	return 0;
}

void
db_release(struct db_pool *p, struct db *d)
{
	if (d == NULL)
		return;
	/* A connection left inside a transaction is not reusable. */
	if (d->conn != NULL && PQtransactionStatus(d->conn) != PQTRANS_IDLE) {
		PQfinish(d->conn);
		d->conn = NULL;
	}
	pthread_mutex_lock(&p->mu);
	d->busy = 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static int
result_error(struct db *d, PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(d->conn) != CONNECTION_OK) {
		log_warn("database connection lost during %s", what);
		return SD_EUNAVAIL;
	}
	if (state != NULL && strcmp(state, "23505") == 0)
		return SD_EEXISTS;
	/* 40001 serialization, 40P01 deadlock, 57P01 admin shutdown */
	if (state != NULL && (strncmp(state, "40", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0))
		return SD_EUNAVAIL;
	log_error("%s failed: %s %s", what, state ? state : "-",
	    r ? PQresultErrorMessage(r) : PQerrorMessage(d->conn));
	return SD_EINTERNAL;
}

int
db_exec(struct db *d, int stmt, int n, const char *const *values,
    const int *lengths, const int *formats, PGresult **res)
{
	const struct db_stmt *s = &d->pool->stmts[stmt];
	PGresult *r;
	ExecStatusType st;
	int e;

	*res = NULL;
	r = PQexecPrepared(d->conn, s->name, n, values, lengths, formats, 0);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		*res = r;
		return 0;
	}
	e = result_error(d, r, s->name);
	PQclear(r);
	return e;
}

int
db_run(struct db *d, int stmt, int n, const char *const *values)
{
	PGresult *r;
	int e;

	if ((e = db_exec(d, stmt, n, values, NULL, NULL, &r)) == 0)
		PQclear(r);
	return e;
}

int
db_run_bin(struct db *d, int stmt, int n, const char *const *values,
    const int *lengths, const int *formats)
{
	PGresult *r;
	int e;

	if ((e = db_exec(d, stmt, n, values, lengths, formats, &r)) == 0)
		PQclear(r);
	return e;
}

static int
simple(struct db *d, const char *sql)
{
	PGresult *r = PQexec(d->conn, sql);
	int e = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		e = result_error(d, r, sql);
	PQclear(r);
	return e;
}

int
db_begin(struct db *d)
{
	return simple(d, "BEGIN");
}

int
db_commit(struct db *d)
{
	return simple(d, "COMMIT");
}

void
db_rollback(struct db *d)
{
	if (d->conn != NULL && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		(void)simple(d, "ROLLBACK");
}

PGconn *
db_conn(struct db *d)
{
	return d->conn;
}

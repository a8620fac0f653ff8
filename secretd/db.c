/*
 * db.c - PostgreSQL connection pool.
 *
 * A mutex and condition variable guard a fixed array of slots; a request
 * holds one slot from acquire to release.  Reconnection happens inside
 * acquire, rate-limited by an exponential backoff shared by the pool, so
 * a dead database costs each request one quick "unavailable" rather than
 * a connect timeout.  An idle connection the server has closed (it was
 * restarted, say) is found and replaced in acquire, before any request
 * is sent on it.  A connection that finds itself on a read-only server
 * (a standby, after a failover left it behind) is dropped too, so that
 * the next one goes, through a multi-host conninfo, to the new primary.
 * Never logs parameter values: they may be secret.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "monotime.h"
#include "params.h"
#include "xmalloc.h"

#define BACKOFF_MIN_MS	100
/* a failover ends in seconds: a pool finds the new primary at most this
 * long after it is promoted (one connection attempt a second costs the
 * database little while it is down) */
#define BACKOFF_MAX_MS	1000
#define ACQUIRE_WAIT_S	10

/* A statement sent in pipeline mode whose result is not read yet. */
struct queued {
	int		 stmt;		/* DB_STMT_BEGIN/COMMIT or an index */
	PGresult	**out;		/* where its result goes, or NULL */
};

#define DB_STMT_BEGIN	(-2)
#define DB_STMT_COMMIT	(-3)
/* BEGIN and COMMIT are prepared too, so that they are not parsed anew
 * on every transaction */
#define STMT_BEGIN_NAME		"sd_begin"
#define STMT_COMMIT_NAME	"sd_commit"

struct db {
	PGconn		*conn;
	int		 busy;
	int		 prepared;
	int		 begin_pending;	/* BEGIN not sent yet */
	int		 nqueued;	/* in pipeline mode when > 0 */
	struct queued	*queue;		/* grows as needed */
	int		 capqueued;
	int		 failed_stmt;	/* of the last failed call, or -1 */
	int		 spin_us;	/* db_spin, until released */
	int		 drop;		/* not to be reused: close at release */
	int		 txn;		/* BEGIN sent, no COMMIT/ROLLBACK yet */
	int		 outcome_unknown; /* of the last call (db.h) */
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
	int			 waiting;	/* in db_acquire, for a slot */
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
	for (i = 0; i < p->size; i++) {
		if (p->slots[i].conn != NULL)
			PQfinish(p->slots[i].conn);
		free(p->slots[i].queue);
	}
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
/*
 * Every statement secretd prepares is a few index lookups into data that
 * stays in memory.  Unless the server, the database, the role or the
 * conninfo sets random_page_cost, tell the planner so for this session:
 * 1.1 (the usual value for SSDs and cached data) instead of 4 (spinning
 * disks), with which a store of a few hundred nodes is walked by
 * sequential scans and hash tables rebuilt at every level of the path
 * (docs/performance.md).
 */
#define SESSION_PLANNING \
	"SELECT set_config('random_page_cost', '1.1', false) " \
	"FROM pg_settings WHERE name = 'random_page_cost' " \
	"AND source = 'default'"

static int
slot_connect(struct db *d)
{
	struct db_pool *p = d->pool;
	const char *name;
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
	for (i = -3; i < p->nstmts; i++) {
		name = i == -3 ? "random_page_cost" : i == -2 ?
		    STMT_BEGIN_NAME : i == -1 ? STMT_COMMIT_NAME :
		    p->stmts[i].name;
		if (i == -3)
			r = PQexec(d->conn, SESSION_PLANNING);
		else
			r = PQprepare(d->conn, name, i == -2 ? "BEGIN" :
			    i == -1 ? "COMMIT" : p->stmts[i].sql, 0, NULL);
		if (PQresultStatus(r) != (i == -3 ? PGRES_TUPLES_OK :
		    PGRES_COMMAND_OK)) {
			log_error("prepare %s: %s", name,
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

/*
 * 1 if the idle connection c can take a request.  The server sends
 * nothing to an idle connection of ours (no LISTEN, no SET of reported
 * settings) unless it is going away: a FATAL message before it closes,
 * or the close itself.  So anything to read means a dead connection, or
 * one not worth keeping; either way a new one is made before use.
 */
static int
idle_conn_usable(PGconn *c)
{
	struct pollfd pfd;

	if (PQstatus(c) != CONNECTION_OK)
		return 0;
	pfd.fd = PQsocket(c);
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 0;
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
		p->waiting++;
		r = pthread_cond_timedwait(&p->cv, &p->mu, &deadline);
		p->waiting--;
		if (r != 0) {
			pthread_mutex_unlock(&p->mu);
			log_warn("no database connection free for %d s",
			    ACQUIRE_WAIT_S);
			return SD_EUNAVAIL;
		}
	}
	d->busy = 1;
	pthread_mutex_unlock(&p->mu);
	if (d->conn != NULL && d->prepared) {
		if (idle_conn_usable(d->conn)) {
			*out = d;
			return 0;
		}
		log_info("database connection closed by the server while "
		    "idle; reconnecting");
	}
	pthread_mutex_lock(&p->mu);
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
	/* A connection left inside a transaction, or with statements in
	 * flight, is not reusable. */
	if (d->conn != NULL && (d->drop || d->nqueued > 0 ||
	    PQpipelineStatus(d->conn) != PQ_PIPELINE_OFF ||
	    PQtransactionStatus(d->conn) != PQTRANS_IDLE)) {
		PQfinish(d->conn);
		d->conn = NULL;
	}
	d->begin_pending = 0;
	d->nqueued = 0;
	d->spin_us = 0;
	d->drop = 0;
	d->txn = 0;
	pthread_mutex_lock(&p->mu);
	d->busy = 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* SQLSTATEs that end the session: 57P01 admin shutdown (a terminated
 * backend), 57P02 crash shutdown, 57P03 cannot connect now, and the
 * connection exceptions (08) libpq reports for a broken link. */
static int
state_ends_session(const char *state)
{
	return state != NULL && (strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "08", 2) == 0);
}

/*
 * 1 if r, the error result of statement stmt, is the server's answer
 * that the transaction did not commit.  Not so when the result is
 * libpq's report of a lost connection (no SQLSTATE, or 08), nor when
 * COMMIT itself was interrupted by the session's end: a backend
 * terminated while COMMIT waits for a synchronous standby has already
 * committed locally.
 */
static int
is_abort_answer(int stmt, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (state == NULL || strncmp(state, "08", 2) == 0)
		return 0;
	return stmt != DB_STMT_COMMIT || !state_ends_session(state);
}

static int
result_error(struct db *d, PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(d->conn) != CONNECTION_OK || state_ends_session(state)) {
		log_warn("database connection lost during %s", what);
		d->drop = 1;
		return SD_EUNAVAIL;
	}
	if (state != NULL && strcmp(state, "23505") == 0)
		return SD_EEXISTS;
	/* 25006 read_only_sql_transaction: this server is (now) a standby.
	 * Another connection may reach the primary; this one never will. */
	if (state != NULL && strcmp(state, "25006") == 0) {
		log_warn("%s: the database server is read-only (a standby?); "
		    "dropping the connection", what);
		d->drop = 1;
		return SD_EUNAVAIL;
	}
	/* 40001 serialization, 40P01 deadlock */
	if (state != NULL && strncmp(state, "40", 2) == 0)
		return SD_EUNAVAIL;
	log_error("%s failed: %s %s", what, state ? state : "-",
	    r ? PQresultErrorMessage(r) : PQerrorMessage(d->conn));
	return SD_EINTERNAL;
}

static const char *
stmt_name(const struct db *d, int stmt)
{
	return stmt == DB_STMT_BEGIN ? "BEGIN" : stmt == DB_STMT_COMMIT ?
	    "COMMIT" : d->pool->stmts[stmt].name;
}

static int spin_allowed;
static pthread_once_t spin_once = PTHREAD_ONCE_INIT;

static void
spin_init(void)
{
	/* with one CPU the spinning thread would hold the CPU the server
	 * needs to answer */
	spin_allowed = sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

void
db_spin(struct db *d, int us)
{
	pthread_once(&spin_once, spin_init);
	d->spin_us = spin_allowed ? us : 0;
}

/*
 * Before PQgetResult sleeps in poll(): when db_spin asked for it, read
 * what the server has sent, without sleeping, until a result is
 * complete or d->spin_us have passed.
 */
static void
wait_spinning(struct db *d)
{
	struct timespec t0, t;
	long long us;

	if (d->spin_us <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (PQisBusy(d->conn) && PQconsumeInput(d->conn) == 1) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		us = (long long)(t.tv_sec - t0.tv_sec) * 1000000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000;
		if (us >= d->spin_us)
			break;
	}
}

/* Record a statement sent in pipeline mode, whose result is to come. */
static void
queue_push(struct db *d, int stmt, PGresult **out)
{
	if (d->nqueued == d->capqueued) {
		d->capqueued = d->capqueued ? d->capqueued * 2 : 8;
		d->queue = xreallocarray(d->queue, (size_t)d->capqueued,
		    sizeof(*d->queue));
	}
	d->queue[d->nqueued].stmt = stmt;
	d->queue[d->nqueued++].out = out;
}

/* Send BEGIN if it is pending, entering pipeline mode. */
static int
pipeline_open(struct db *d)
{
	if (d->nqueued == 0 && PQenterPipelineMode(d->conn) != 1)
		return result_error(d, NULL, "pipeline");
	if (d->begin_pending) {
		if (PQsendQueryPrepared(d->conn, STMT_BEGIN_NAME, 0, NULL,
		    NULL, NULL, 0) != 1)
			return result_error(d, NULL, "BEGIN");
		queue_push(d, DB_STMT_BEGIN, NULL);
		d->begin_pending = 0;
		d->txn = 1;
	}
	return 0;
}

static int
pipeline_send(struct db *d, int stmt, int n, const char *const *values,
    const int *lengths, const int *formats, PGresult **out)
{
	int e, ok;

	if ((e = pipeline_open(d)) != 0)
		return e;
	if (stmt == DB_STMT_COMMIT)
		ok = PQsendQueryPrepared(d->conn, STMT_COMMIT_NAME, 0, NULL,
		    NULL, NULL, 0);
	else
		ok = PQsendQueryPrepared(d->conn, d->pool->stmts[stmt].name, n,
		    values, lengths, formats, 0);
	if (ok != 1)
		return result_error(d, NULL, stmt_name(d, stmt));
	queue_push(d, stmt, out);
	return 0;
}

/*
 * Send a Sync and read the result of every queued statement, in order.
 * Returns 0, or the error of the first statement that failed (the rest
 * were skipped by the server), recording which one in failed_stmt.
 * When what was sent ends a transaction (a COMMIT, or statements outside
 * one, which commit at the Sync) and the connection is lost before the
 * server said how it ended, the outcome is unknown (db_outcome_unknown).
 */
static int
pipeline_flush(struct db *d)
{
	ExecStatusType st;
	PGresult *r;
	int i, e = 0, sync = 0, n = d->nqueued, ends = !d->txn;
	int committed = 0;	/* COMMIT's own answer came back */

	for (i = 0; i < n; i++)
		if (d->queue[i].stmt == DB_STMT_COMMIT)
			ends = 1;
	if (PQpipelineSync(d->conn) != 1) {
		e = result_error(d, NULL, "pipeline sync");
		d->outcome_unknown = ends;
	} else
		wait_spinning(d);
	for (i = 0; e == 0 && i < n; i++) {
		if ((r = PQgetResult(d->conn)) == NULL) {
			e = result_error(d, NULL, stmt_name(d,
			    d->queue[i].stmt));
			d->outcome_unknown = ends;
			break;
		}
		st = PQresultStatus(r);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (d->queue[i].out != NULL)
				*d->queue[i].out = r;
			else
				PQclear(r);
			committed = d->queue[i].stmt == DB_STMT_COMMIT;
		} else {
			e = result_error(d, r, stmt_name(d, d->queue[i].stmt));
			d->failed_stmt = d->queue[i].stmt;
			d->outcome_unknown = ends &&
			    !is_abort_answer(d->queue[i].stmt, r);
			PQclear(r);
		}
		while ((r = PQgetResult(d->conn)) != NULL)	/* the NULL */
			PQclear(r);
	}
	/* skip what an error aborted (a result and a NULL each), up to
	 * and including the sync, so the connection can be used again */
	for (i = 0; !sync && i < 2 * n + 2 &&
	    PQstatus(d->conn) == CONNECTION_OK; i++) {
		if ((r = PQgetResult(d->conn)) == NULL)
			continue;
		sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
		PQclear(r);
	}
	d->nqueued = 0;
	if (PQexitPipelineMode(d->conn) != 1 && e == 0) {
		if (committed) {
			/* lost after COMMIT's answer: it did commit, but the
			 * connection is of no further use */
			d->drop = 1;
			return 0;
		}
		e = result_error(d, NULL, "pipeline");
		d->outcome_unknown = ends;
	}
	if (e != 0)	/* results delivered before the failure are void */
		for (i = 0; i < n; i++)
			if (d->queue[i].out != NULL && *d->queue[i].out != NULL) {
				PQclear(*d->queue[i].out);
				*d->queue[i].out = NULL;
			}
	return e;
}

int
db_exec(struct db *d, int stmt, int n, const char *const *values,
    const int *lengths, const int *formats, PGresult **res)
{
	const struct db_stmt *s = &d->pool->stmts[stmt];
	PGresult *r, *extra;
	ExecStatusType st;
	int e;

	*res = NULL;
	d->failed_stmt = -1;
	d->outcome_unknown = 0;
	if (d->begin_pending || d->nqueued > 0) {
		/* one round trip for BEGIN, the queue and this statement */
		if ((e = pipeline_send(d, stmt, n, values, lengths, formats,
		    res)) != 0)
			return e;
		return pipeline_flush(d);
	}
	if (PQsendQueryPrepared(d->conn, s->name, n, values, lengths,
	    formats, 0) != 1) {
		d->failed_stmt = stmt;
		d->outcome_unknown = !d->txn;	/* sent in part? */
		return result_error(d, NULL, s->name);
	}
	wait_spinning(d);
	r = PQgetResult(d->conn);
	while ((extra = PQgetResult(d->conn)) != NULL)	/* up to the NULL */
		PQclear(extra);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		*res = r;
		return 0;
	}
	d->failed_stmt = stmt;
	/* outside a transaction the statement commits by itself */
	d->outcome_unknown = !d->txn && !is_abort_answer(stmt, r);
	e = result_error(d, r, s->name);
	PQclear(r);
	return e;
}

int
db_queue(struct db *d, int stmt, int n, const char *const *values,
    const int *lengths, const int *formats, PGresult **res)
{
	if (res != NULL)
		*res = NULL;
	return pipeline_send(d, stmt, n, values, lengths, formats, res);
}

int
db_flush(struct db *d)
{
	d->failed_stmt = -1;
	d->outcome_unknown = 0;
	if (d->begin_pending)
		fatal("db_flush inside a transaction");
	return d->nqueued > 0 ? pipeline_flush(d) : 0;
}

int
db_failed_stmt(const struct db *d)
{
	return d->failed_stmt;
}

int
db_outcome_unknown(const struct db *d)
{
	return d->outcome_unknown;
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
db_exec_params(struct db *d, int stmt, struct params *p, PGresult **res)
{
	int e = db_exec(d, stmt, p->n, params_v(p), params_lengths(p),
	    params_formats(p), res);

	params_free(p);
	return e;
}

int
db_run_params(struct db *d, int stmt, struct params *p)
{
	PGresult *r;
	int e;

	if ((e = db_exec_params(d, stmt, p, &r)) == 0)
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

/* COMMIT alone, its outcome unknown if no answer comes back. */
static int
commit_simple(struct db *d)
{
	PGresult *r = PQexec(d->conn, "COMMIT");
	int e = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		d->outcome_unknown = !is_abort_answer(DB_STMT_COMMIT, r);
		e = result_error(d, r, "COMMIT");
	}
	PQclear(r);
	return e;
}

int
db_begin(struct db *d)
{
	/* sent with the first statement, saving a round trip */
	d->begin_pending = 1;
	return 0;
}

int
db_commit(struct db *d)
{
	int e;

	d->failed_stmt = -1;
	d->outcome_unknown = 0;
	if (d->begin_pending && d->nqueued == 0) {
		d->begin_pending = 0;	/* nothing ran: nothing to commit */
		return 0;
	}
	if (d->nqueued == 0)
		e = commit_simple(d);
	else if ((e = pipeline_send(d, DB_STMT_COMMIT, 0, NULL, NULL, NULL,
	    NULL)) == 0)	/* the queue and COMMIT in one round trip */
		e = pipeline_flush(d);
	d->txn = 0;	/* on failure the caller rolls back */
	return e;
}

void
db_rollback(struct db *d)
{
	d->begin_pending = 0;
	d->txn = 0;
	if (d->conn != NULL && d->nqueued > 0)
		(void)pipeline_flush(d);
	if (d->conn != NULL && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		(void)simple(d, "ROLLBACK");
}

void
db_pool_usage(struct db_pool *p, int *size, int *in_use, int *waiting)
{
	int i;

	pthread_mutex_lock(&p->mu);
	*size = p->size;
	*waiting = p->waiting;
	for (*in_use = 0, i = 0; i < p->size; i++)
		*in_use += p->slots[i].busy != 0;
	pthread_mutex_unlock(&p->mu);
}

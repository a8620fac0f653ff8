/*
 * exec.c - the request executor (exec.h).
 *
 * A request becomes an item: its plan (or none: its audit rows only),
 * its kind (read or change), and once run its outcome and whether its
 * rows were written.  run_items() runs a batch of items of one kind on
 * one connection, whether that is one request on its own thread or many
 * on a worker's:
 *
 *   reads:   the plans' statement, one for all (round trip 1); each
 *            request finished with its row of the result; every
 *            request's audit rows in one INSERT, which commits by
 *            itself (round trip 2).
 *   changes: BEGIN and the plans' statement (round trip 1); each
 *            finished in the transaction (r->txn); their new versions,
 *            their audit rows and the COMMIT (round trip 2).
 *
 * A read alone that can guess its outcome (struct plan, guess) sends its
 * row with its statement: one round trip.
 *
 * Nothing is decided by a field of struct request: a request's rows are
 * built from what it recorded (path, version, value hash, detail, items)
 * once its outcome is known, and committed by whoever runs its batch.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "acl.h"
#include "actions.h"
#include "audit_row.h"
#include "audit_seal.h"
#include "exec.h"
#include "exec_queue.h"
#include "log.h"
#include "pg_array.h"
#include "put_rows.h"
#include "store.h"
#include "xmalloc.h"

#define EXEC_WORKERS	4	/* a batch runs while others commit */

/*
 * A request alone in the daemon waits for the database spinning, up to
 * this long per statement (db_spin): on a virtual machine, waking a
 * thread that slept costs tens of microseconds, which a lone request
 * pays at each round trip; make bench's spin_p50_ratio says what it is
 * worth (the build with -DSECRETD_NO_SPIN is its other side).  Under
 * load nobody spins.
 */
#ifdef SECRETD_NO_SPIN
#define LONE_SPIN_US	0
#else
#define LONE_SPIN_US	500
#endif

#define K_READ		EQ_READ
#define K_WRITE		EQ_WRITE

struct item {
	struct eq_node		 node;		/* first: the queue's view */
	struct request		*r;
	const char		*action;
	const struct plan	*plan;		/* NULL: its rows only */
	enum eq_kind		 kind;
	int			 err;		/* the request's outcome */
	int			 audit_err;	/* its rows not written */
	struct audit_row	*rows;		/* 1 + r->n_extra */
	int			 nrows;
	sem_t			 done;
};

struct txn {
	struct db		*db;
	struct put_rows		 versions;
	struct audit_cols	 cols;
	struct item		**items;	/* whose rows are in cols */
	int			 nitems, capitems;
	PGresult		*audit_res;
};

static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 work;		/* items queued, or stop */
	struct exec_queue	 queue;		/* under mu */
	int			 inflight;	/* requests in exec_request */
	long long		 alone;		/* requests run alone */
	long long		 batches;	/* batches the workers ran */
	long long		 batched;	/* requests in them */
	struct db_pool		*pool;
	const struct server_ctx	*ctx;
	pthread_t		 thread[EXEC_WORKERS];
	int			 running;
	int			 stop;
} q = { .mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER };

/* ------------------------------------------------------------ audit rows */

/* The row of r (or of its item x: NULL for the request itself). */
static void
row_build(struct audit_row *row, const struct request *r,
    const struct audit_extra *x, const char *action, int err)
{
	const struct session *s = r->sess;
	struct audit_input in = {
		.at_us = audit_now_us(),
		.principal = s->principal_id ? s->principal : NULL,
		.fingerprint = s->fingerprint[0] ? s->fingerprint : NULL,
		.action = action,
		.path = x ? &x->path : r->has_path ? &r->path : NULL,
		.version = x ? x->version : r->version,
		.err = x ? x->err : err,
		.client_addr = s->client_addr[0] ? s->client_addr : NULL,
		.client_port = s->client_port,
		.session_id = s->id,
		.request_id = json_object_get(r->req, "id"),
		.value_hash = !x && r->has_hash ? r->value_hash : NULL,
		.detail = x ? x->detail : r->detail,
		.mirror = r->ctx->cfg->audit_syslog,
	};

	audit_row_build(row, ctx_keyring(r->ctx), &in);
}

/* The rows of the item's request, for outcome err. */
static void
item_rows(struct item *it, int err)
{
	const struct request *r = it->r;
	int i;

	it->nrows = 1 + r->n_extra;
	it->rows = xcalloc((size_t)it->nrows, sizeof(*it->rows));
	row_build(&it->rows[0], r, NULL, it->action, err);
	for (i = 0; i < r->n_extra; i++)
		row_build(&it->rows[i + 1], r, &r->extra[i], it->action, 0);
}

static void
item_rows_free(struct item *it)
{
	int i;

	for (i = 0; i < it->nrows; i++)
		audit_row_free(&it->rows[i]);
	free(it->rows);
	it->rows = NULL;
	it->nrows = 0;
}

/*
 * Committed with ids from res (an audit insert's, the item's first row
 * at row first): to the sealer, and to syslog if mirrored.  0, or
 * SD_EINTERNAL when a row is not among those the INSERT returned (then
 * the rows are committed all the same, and the next start seals them).
 */
static int
item_rows_committed(struct item *it, const PGresult *res, int first)
{
	int64_t id;
	int i, e = 0;

	for (i = 0; i < it->nrows; i++) {
		if (res == NULL || first + i >= PQntuples(res) ||
		    (id = audit_result_id(res, first + i,
		    it->rows[i].mac)) == 0) {
			/* committed all the same: the next start seals it */
			log_error("audit insert: the rows returned are not "
			    "the rows sent");
			e = SD_EINTERNAL;
			continue;
		}
		if (it->rows[i].mirror != NULL)
			syslog(LOG_AUTHPRIV | LOG_INFO, "audit %s",
			    it->rows[i].mirror);
		audit_seal_enqueue(id, it->rows[i].mac);
	}
	return e;
}

/* Why a request fails when its row could not be written. */
static int
audit_failed(struct request *r, int err)
{
	r->why = "the audit trail cannot be written";
	return err == SD_EUNAVAIL ? SD_EUNAVAIL : SD_EINTERNAL;
}

/* ----------------------------------------------------------- transaction */

static void
txn_begin(struct txn *t, struct db *d, int keep)
{
	memset(t, 0, sizeof(*t));
	t->db = d;
	put_rows_init(&t->versions, keep);
	audit_cols_init(&t->cols);
}

void
txn_put_version(struct txn *t, long long node, int version, uint32_t key_id,
    const unsigned char *nonce, size_t nonce_len, const unsigned char *ct,
    size_t ct_len, const char *by)
{
	put_rows_add(&t->versions, node, version, key_id, nonce, nonce_len,
	    ct, ct_len, by);
}

/* The item's rows join the transaction. */
static void
txn_add_rows(struct txn *t, struct item *it)
{
	int i;

	if (t->nitems == t->capitems) {
		t->capitems = t->capitems ? 2 * t->capitems : 8;
		t->items = xreallocarray(t->items, (size_t)t->capitems,
		    sizeof(*t->items));
	}
	t->items[t->nitems++] = it;
	for (i = 0; i < it->nrows; i++)
		audit_cols_add(&t->cols, &it->rows[i]);
}

/*
 * Send the versions, the rows and the COMMIT in one round trip; after
 * it, the rows go to the sealer.  0 or the error (db_outcome_unknown
 * tells a lost COMMIT; db_failed_stmt an audit row that failed).
 */
static int
txn_commit(struct txn *t)
{
	int e = 0, i, first = 0;

	if (t->versions.n > 0)
		e = put_rows_queue(&t->versions, t->db);
	if (e == 0 && t->cols.n > 0)
		e = db_queue(t->db, ST_AUDIT_INSERT, AUDIT_NCOLS,
		    audit_cols_params(&t->cols), NULL, NULL, &t->audit_res);
	if (e == 0)
		e = db_commit(t->db);
	if (e != 0)
		return e;
	/* a change whose row came back wrong did commit: it is answered
	 * as done (item_rows_committed logged it) */
	for (i = 0; i < t->nitems; i++) {
		(void)item_rows_committed(t->items[i], t->audit_res, first);
		first += t->items[i]->nrows;
	}
	return 0;
}

static void
txn_free(struct txn *t)
{
	put_rows_free(&t->versions);
	audit_cols_free(&t->cols);
	free(t->items);
	PQclear(t->audit_res);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------- batches */

/* The plans' parameters as arrays, an element per plan (col: pg_array
 * each, freed by the caller). */
static void
plan_arrays(struct item **its, int n, struct pg_array *col, const char **v)
{
	int i, k, np = its[0]->plan->p.n;

	for (k = 0; k < np; k++) {
		pg_array_init(&col[k]);
		for (i = 0; i < n; i++)
			if (its[i]->plan->p.v[k] == NULL)
				pg_array_null(&col[k]);
			else
				pg_array_text(&col[k], its[i]->plan->p.v[k]);
		v[k] = pg_array_str(&col[k]);
	}
}

/* Run the plans' statement for the n items (all with a plan of that
 * statement); 0 with *res, a row per item. */
static int
plans_exec(struct db *d, struct item **its, int n, int queue_only,
    PGresult **res)
{
	struct pg_array col[PARAMS_MAX];
	const char *v[PARAMS_MAX];
	int e, k, stmt = its[0]->plan->stmt;

	if (n == 1) {
		/* a batch of one: the scalar form, planned once */
		stmt = its[0]->plan->stmt_one;
		memcpy(v, its[0]->plan->p.v, sizeof(v));
	} else
		plan_arrays(its, n, col, v);
	if (queue_only)
		e = db_queue(d, stmt, its[0]->plan->p.n, v, NULL, NULL, res);
	else
		e = db_exec(d, stmt, its[0]->plan->p.n, v, NULL, NULL, res);
	if (queue_only && e == 0)
		e = db_flush(d);
	for (k = 0; n > 1 && k < its[0]->plan->p.n; k++)
		pg_array_free(&col[k]);
	if (e == 0 && PQntuples(*res) != n) {
		log_error("%s: %d rows for %d requests",
		    store_stmts[stmt].name, PQntuples(*res), n);
		PQclear(*res);
		*res = NULL;
		e = SD_EINTERNAL;
	}
	return e;
}

/*
 * A read alone that guesses its version: its statement and its row of
 * success in one round trip.  Returns GUESS_WRITTEN when the read went
 * as guessed (finished, its row committed with it), GUESS_MISSED when it
 * did not (finished, its row built for the outcome and still to write),
 * GUESS_NONE to run it the usual way.
 */
enum guess { GUESS_NONE, GUESS_WRITTEN, GUESS_MISSED };

static enum guess
read_guessed(struct db *d, struct item *it)
{
	const struct plan *pl = it->plan;
	struct request *r = it->r;
	struct audit_cols cols;
	const char *v[AUDIT_NCOLS + PARAMS_MAX + 2];
	struct params tail;
	PGresult *res;
	int i, e, guess, idcol, n = 0;

	if (pl->guess == NULL || (guess = pl->guess(pl)) <= 0)
		return GUESS_NONE;
	r->version = guess;		/* as the row says */
	item_rows(it, 0);
	r->version = -1;
	audit_cols_init(&cols);
	audit_cols_add(&cols, &it->rows[0]);
	for (i = 0; i < AUDIT_NCOLS; i++)
		v[n++] = audit_cols_params(&cols)[i];
	for (i = 0; i < pl->p.n; i++)
		v[n++] = pl->p.v[i];
	params_init(&tail);
	params_int(&tail, guess);
	params_int(&tail, pl->audited_perm);
	for (i = 0; i < tail.n; i++)
		v[n++] = tail.v[i];
	e = db_exec(d, pl->audited_stmt, n, v, NULL, NULL, &res);
	audit_cols_free(&cols);
	params_free(&tail);
	if (e != 0 || PQntuples(res) != 1) {
		/* its errors are the read's or the row's, told apart only by
		 * running them apart */
		if (e == 0)
			PQclear(res);
		item_rows_free(it);
		return GUESS_NONE;
	}
	idcol = PQnfields(res) - 1;
	it->err = pl->finish(r, pl, res, 0);
	if (!PQgetisnull(res, 0, idcol)) {
		/* the read went as guessed: its row committed with it */
		if (it->rows[0].mirror != NULL)
			syslog(LOG_AUTHPRIV | LOG_INFO, "audit %s",
			    it->rows[0].mirror);
		audit_seal_enqueue(strtoll(PQgetvalue(res, 0, idcol), NULL,
		    10), it->rows[0].mac);
		PQclear(res);
		return GUESS_WRITTEN;
	}
	item_rows_free(it);
	item_rows(it, it->err);
	PQclear(res);
	return GUESS_MISSED;
}

/* Reads and rows: the plans' statement, each finished, all rows in one
 * INSERT (which commits by itself). */
static void
run_reads(struct db *d, struct item **its, int n)
{
	struct item *plans[EQ_READ_BATCH_MAX];
	struct audit_cols cols;
	PGresult *res = NULL;
	enum guess g;
	int i, k, e = 0, np = 0, first;

	if (n == 1 && its[0]->plan != NULL &&
	    (g = read_guessed(d, its[0])) != GUESS_NONE) {
		if (g == GUESS_WRITTEN)
			return;
	} else {
		for (i = 0; i < n; i++)
			if (its[i]->plan != NULL)
				plans[np++] = its[i];
		if (np > 0)
			e = plans_exec(d, plans, np, 0, &res);
		for (k = 0; k < np; k++) {
			plans[k]->err = e != 0 ? e :
			    plans[k]->plan->finish(plans[k]->r,
			    plans[k]->plan, res, k);
			item_rows(plans[k], plans[k]->err);
		}
		PQclear(res);
		res = NULL;
	}
	audit_cols_init(&cols);
	for (i = 0; i < n; i++)
		for (k = 0; k < its[i]->nrows; k++)
			audit_cols_add(&cols, &its[i]->rows[k]);
	e = db_exec(d, ST_AUDIT_INSERT, AUDIT_NCOLS, audit_cols_params(&cols),
	    NULL, NULL, &res);
	audit_cols_free(&cols);
	/* a read whose row is not among those returned fails closed, as
	 * one whose row was not written */
	for (i = 0, first = 0; i < n; i++) {
		its[i]->audit_err = e != 0 ? e :
		    item_rows_committed(its[i], res, first);
		first += its[i]->nrows;
	}
	if (e == 0)
		PQclear(res);
	else
		log_error("audit rows of %d requests not written: %s", n,
		    sd_err_code(e));
}

/*
 * Changes, in one transaction.  A batch that fails commits nothing and
 * hands every request back (DEFER_ALONE), to run whole one by one; one
 * whose COMMIT got no answer may have committed: none may run again,
 * and each is answered that its outcome is unknown.
 */
static void
run_changes(struct db *d, struct item **its, int n)
{
	struct txn t;
	struct request *r;
	PGresult *res = NULL;
	int i, e;

	txn_begin(&t, d, q.ctx->cfg->max_versions);
	if ((e = db_begin(d)) == 0)
		e = plans_exec(d, its, n, 1, &res);
	for (i = 0; e == 0 && i < n; i++) {
		r = its[i]->r;
		r->db = d;
		r->txn = &t;
		its[i]->err = its[i]->plan->finish(r, its[i]->plan, res, i);
		r->db = NULL;
		r->txn = NULL;
		if (its[i]->err != DEFER_ALONE) {
			item_rows(its[i], its[i]->err);
			txn_add_rows(&t, its[i]);
		}
	}
	PQclear(res);
	if (e == 0 && (e = txn_commit(&t)) == 0)
		goto out;
	if (db_outcome_unknown(d)) {
		log_warn("%d changes: the connection was lost during their "
		    "COMMIT; their outcome is unknown", n);
		for (i = 0; i < n; i++)
			if (its[i]->err != DEFER_ALONE) {
				its[i]->err = SD_EUNAVAIL;
				its[i]->r->why = DB_OUTCOME_UNKNOWN_MSG;
			}
	} else {
		if (n > 1)
			log_warn("a batch of %d changes failed (%s); running "
			    "them one by one", n, sd_err_code(e));
		for (i = 0; i < n; i++)
			its[i]->err = DEFER_ALONE;
	}
	db_rollback(d);
	for (i = 0; i < n; i++)
		item_rows_free(its[i]);
out:
	txn_free(&t);
}

/* Run n items of one kind on d, or fail them all with err (no
 * connection). */
static void
run_items(struct db *d, int err, struct item **its, int n)
{
	int i;

	if (err != 0) {
		for (i = 0; i < n; i++) {
			its[i]->err = its[i]->kind == K_WRITE ? DEFER_ALONE :
			    its[i]->plan ? err : its[i]->err;
			its[i]->audit_err = err;
		}
		return;
	}
	if (its[0]->kind == K_WRITE)
		run_changes(d, its, n);
	else
		run_reads(d, its, n);
}

/* ---------------------------------------------------------- the queue */

static void *
worker_main(void *arg)
{
	struct eq_node *batch[EQ_READ_BATCH_MAX];
	struct db *d;
	enum eq_kind kind;
	int i, n, e;

	(void)arg;
	log_set_tag("exec");
	pthread_mutex_lock(&q.mu);
	for (;;) {
		while ((n = eq_take(&q.queue, batch)) == 0 && !q.stop)
			pthread_cond_wait(&q.work, &q.mu);
		if (n == 0)
			break;		/* stopping, and nothing left */
		kind = batch[0]->kind;
		pthread_mutex_unlock(&q.mu);

		e = db_acquire(q.pool, &d);
		run_items(d, e, (struct item **)batch, n);
		if (e == 0)
			db_release(q.pool, d);

		pthread_mutex_lock(&q.mu);
		eq_batch_end(&q.queue, kind);
		q.batches++;
		q.batched += n;
		/* what waited for this batch's end may run now */
		if (eq_queued(&q.queue) > 0)
			pthread_cond_signal(&q.work);
		pthread_mutex_unlock(&q.mu);
		for (i = 0; i < n; i++)		/* not under q.mu */
			sem_post(&((struct item *)batch[i])->done);
		pthread_mutex_lock(&q.mu);
	}
	pthread_mutex_unlock(&q.mu);
	return NULL;
}

/* On d, a connection of a request: spin if it is the only request in
 * the daemon (LONE_SPIN_US). */
static void
spin_if_alone(struct db *d)
{
	if (LONE_SPIN_US > 0 && d != NULL &&
	    __atomic_load_n(&q.inflight, __ATOMIC_RELAXED) == 1)
		db_spin(d, LONE_SPIN_US);
}

/* Alone when the policy says so (or the workers are not running). */
static int
lone_begin(enum eq_kind kind)
{
	int ok;

	pthread_mutex_lock(&q.mu);
	ok = eq_lone_begin(&q.queue, kind);
	if (!ok && !q.running) {
		q.queue.lone[kind]++;
		ok = 1;
	}
	if (ok)
		q.alone++;
	pthread_mutex_unlock(&q.mu);
	return ok;
}

static void
lone_end(enum eq_kind kind)
{
	pthread_mutex_lock(&q.mu);
	eq_lone_end(&q.queue, kind);
	pthread_mutex_unlock(&q.mu);
}

/*
 * Run the item: alone on this thread when nothing of its kind is queued
 * or running (on *d, the request's connection if it holds one, else one
 * taken here), else in a worker's batch (a connection held is given
 * back first: nobody waits in the queue holding one).
 */
static void
submit(struct item *it, struct db **d)
{
	struct db *own = NULL;
	int e = 0;

	if (lone_begin(it->kind)) {
		if (*d == NULL && (e = db_acquire(it->r->ctx->pool, &own)) == 0)
			*d = own;
		spin_if_alone(*d);
		run_items(*d, e, &it, 1);
		if (own != NULL) {
			db_release(it->r->ctx->pool, own);
			*d = NULL;
		}
		lone_end(it->kind);
		return;
	}
	if (*d != NULL) {
		db_release(it->r->ctx->pool, *d);
		*d = NULL;
	}
	sem_init(&it->done, 0, 0);
	it->node.kind = it->kind;
	it->node.stmt = it->plan ? it->plan->stmt : -1;
	it->node.lock_key = it->plan ? it->plan->lock_key : NULL;
	pthread_mutex_lock(&q.mu);
	eq_push(&q.queue, &it->node);
	pthread_cond_signal(&q.work);
	pthread_mutex_unlock(&q.mu);
	while (sem_wait(&it->done) != 0 && errno == EINTR)
		;
	sem_destroy(&it->done);
}

/* After it ran: its rows are no longer needed; 0 or why they could not
 * be written. */
static int
item_end(struct item *it)
{
	item_rows_free(it);
	return it->audit_err;
}

/* --------------------------------------------------------- the requests */

/* r's rows for outcome err, written now (through the queue); 0 or the
 * error.  *d: the request's connection, or NULL. */
static int
write_rows(struct request *r, const char *action, int err, struct db **d)
{
	struct item it = { .r = r, .action = action, .kind = K_READ,
	    .err = err };

	item_rows(&it, err);
	submit(&it, d);
	if (it.audit_err != 0)
		log_error("audit row for %s not written: %s", action,
		    sd_err_code(it.audit_err));
	return item_end(&it);
}

int
exec_audit(struct request *r, const char *action, int err)
{
	struct db *d = NULL;

	return write_rows(r, action, err, &d);
}

static int
check_global(struct request *r, int needed)
{
	int e, held;

	if ((e = req_global_perms(r, &held)) != 0)
		return e;
	if (!acl_allows(held, needed))
		return req_fail(r, SD_EPERM, "this needs a global grant the "
		    "caller does not hold");
	return 0;
}

/* Whether a failure gets a row: an audited action's, and any refusal. */
static int
failure_audited(const struct action *a, int e)
{
	return (a->flags & A_AUDIT) || e == SD_EPERM || e == SD_EUNAUTH;
}

/* An action without a handler: its plan, here as a batch of one. */
static int
plan_here(struct request *r, const struct action *a)
{
	struct plan pl;
	struct item it = { .r = r, .action = a->name, .plan = &pl }, *one = &it;
	PGresult *res;
	int e;

	memset(&pl, 0, sizeof(pl));
	if ((e = a->plan(r, &pl)) == 0 &&
	    (e = plans_exec(r->db, &one, 1, 0, &res)) == 0) {
		e = pl.finish(r, &pl, res, 0);
		PQclear(res);
	}
	plan_free(&pl);
	return e == DEFER_ALONE ? SD_EINTERNAL : e;
}

/*
 * The whole handler on a connection of the request's own: a change in a
 * transaction with its row, a read followed by its row.
 */
static int
run_whole(struct request *r, const struct action *a)
{
	struct item it = { .r = r, .action = a->name, .kind = K_WRITE };
	struct txn t;
	int e = 0, ae, txn = (a->flags & A_TXN) != 0;

	if ((e = db_acquire(r->ctx->pool, &r->db)) != 0) {
		r->why = "database unavailable, retry later";
		goto failed;
	}
	spin_if_alone(r->db);
	if (r->sess->enrol_only && !(a->flags & A_ENROL_OK))
		e = req_fail(r, SD_EUNAUTH, "enrol-only session: only enrol "
		    "is allowed");
	else if (txn && (e = db_begin(r->db)) == 0) {
		txn_begin(&t, r->db, r->ctx->cfg->max_versions);
		r->txn = &t;
	}
	if (e == 0 && a->gperm != 0)
		e = check_global(r, a->gperm);
	if (e == 0)
		e = a->handler != NULL ? a->handler(r) : plan_here(r, a);
	if (txn && r->txn != NULL) {
		if (e == 0) {
			item_rows(&it, 0);
			txn_add_rows(&t, &it);
			if ((e = txn_commit(&t)) != 0 &&
			    db_outcome_unknown(r->db)) {
				e = SD_EUNAVAIL;  /* neither done nor failed */
				r->why = DB_OUTCOME_UNKNOWN_MSG;
			} else if (e != 0 &&
			    db_failed_stmt(r->db) == ST_AUDIT_INSERT)
				e = audit_failed(r, e);
		}
		if (e != 0)
			db_rollback(r->db);
		item_rows_free(&it);
		txn_free(&t);
		r->txn = NULL;
	}
	if (e == 0 && !txn && (a->flags & A_AUDIT)) {
		/* a read: its row, on this connection if nobody else is
		 * writing rows now */
		ae = write_rows(r, a->name, 0, &r->db);
		if (ae != 0)
			e = audit_failed(r, ae);	/* fail closed */
		if (r->db != NULL)
			db_release(r->ctx->pool, r->db);
		r->db = NULL;
		return e;
	}
	db_release(r->ctx->pool, r->db);
	r->db = NULL;
failed:
	/* the failure itself is recorded */
	if (e != 0 && failure_audited(a, e) && exec_audit(r, a->name, e) != 0)
		log_warn("failed %s not audited", a->name);
	return e;
}

/* A plan, alone or batched; its outcome.  DEFER_ALONE: run it whole. */
static int
run_plan(struct request *r, const struct action *a)
{
	struct plan pl;
	struct item it = { .r = r, .action = a->name, .plan = &pl,
	    .kind = (a->flags & A_TXN) ? K_WRITE : K_READ };
	struct db *d = NULL;
	int e;

	memset(&pl, 0, sizeof(pl));
	if ((e = a->plan(r, &pl)) != 0) {
		/* refused before its statement: the row says why */
		plan_free(&pl);
		if (failure_audited(a, e) && exec_audit(r, a->name, e) != 0)
			log_warn("failed %s not audited", a->name);
		return e;
	}
	submit(&it, &d);
	e = it.err;
	if (e != DEFER_ALONE && it.audit_err != 0) {
		log_error("audit row for %s not written: %s", a->name,
		    sd_err_code(it.audit_err));
		e = audit_failed(r, it.audit_err);	/* fail closed */
	}
	item_end(&it);
	plan_free(&pl);
	return e;
}

int
exec_request(struct request *r, const struct action *a)
{
	int e;

	__atomic_add_fetch(&q.inflight, 1, __ATOMIC_RELAXED);
	if (a->plan == NULL || r->sess->enrol_only || a->gperm != 0)
		e = run_whole(r, a);
	else if ((e = run_plan(r, a)) == DEFER_ALONE) {
		/* nothing of it was done or recorded: from the start, whole */
		req_reset(r);
		e = run_whole(r, a);
	}
	__atomic_sub_fetch(&q.inflight, 1, __ATOMIC_RELAXED);
	return e;
}

/* ------------------------------------------------------------ lifecycle */

void
exec_start(const char *conninfo, const struct server_ctx *ctx)
{
	int i;

	audit_seal_start(conninfo, ctx);
	q.pool = db_pool_new(conninfo, EXEC_WORKERS, store_stmts, ST__COUNT);
	q.ctx = ctx;
	q.stop = 0;
	q.running = 1;
	for (i = 0; i < EXEC_WORKERS; i++)
		if (pthread_create(&q.thread[i], NULL, worker_main, NULL) != 0)
			fatal("cannot start the executor");
}

void
exec_stop(void)
{
	int i;

	pthread_mutex_lock(&q.mu);
	q.stop = 1;
	pthread_cond_broadcast(&q.work);
	pthread_mutex_unlock(&q.mu);
	for (i = 0; i < EXEC_WORKERS; i++)	/* what is queued runs first */
		pthread_join(q.thread[i], NULL);
	pthread_mutex_lock(&q.mu);
	q.running = 0;
	pthread_mutex_unlock(&q.mu);
	db_pool_free(q.pool);
	q.pool = NULL;
	audit_seal_stop();
}

void
exec_stats(int *queued, long long *alone, long long *batches,
    long long *batched)
{
	pthread_mutex_lock(&q.mu);
	*queued = eq_queued(&q.queue);
	*alone = q.alone;
	*batches = q.batches;
	*batched = q.batched;
	pthread_mutex_unlock(&q.mu);
}

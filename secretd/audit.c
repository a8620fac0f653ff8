/*
 * audit.c - building audit rows, the audit writer threads, and sealing.
 *
 * A writer takes every row queued since its last commit (up to
 * AUDIT_BATCH_MAX) and inserts them with one statement, each column an
 * array (audit_insert in store.c): the rows commit together or, on any
 * error, none does and every waiter gets the error.  This turns N
 * concurrent reads' N commits into one, and N statements into one.
 * A row may come with its request's read (audit_submit_read): the writer
 * then first runs the reads of its batch, as one statement, finishes
 * those requests with their results and builds their rows.  There are
 * AUDIT_WRITERS writers, each with a connection, so that one batch's
 * reads run while another batch waits for its commit.
 *
 * A second thread, the sealer, on a connection of its own, seals what
 * has committed (the writer's rows and those of change transactions and
 * lone reads, reported by audit_committed) shortly after:
 * seal n = MAC(seal n-1 || row id || row MAC), inserted into audit_seal
 * under an advisory lock that orders several daemons on one database.
 * No request waits for a seal.  Rows committed but not sealed when the
 * daemon stopped are sealed at the next start, if their MAC holds.
 *
 * The sealer never extends a chain whose head is behind the last head
 * it knew (the tail was cut off by someone with the database's
 * superuser): it raises an alarm and records the gap as a row of its
 * own before it seals on (gap_row).  After each seal transaction the
 * new head goes to syslog whatever audit_syslog says: a witness outside
 * the database, which `secret audit verify --head` checks against.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <syslog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit.h"
#include "log.h"
#include "monotime.h"
#include "pg_array.h"
#include "proto.h"
#include "store.h"
#include "xmalloc.h"

#define AUDIT_NPARAMS	15
#define AUDIT_BATCH_MAX	512
#define SEAL_BATCH_MAX	2000
#define SEAL_DELAY_MS	50
#define AUDIT_WRITERS	2	/* one batch's reads run while another commits */

struct audit_row {
	char			*v[AUDIT_NPARAMS];
	int			 len[AUDIT_NPARAMS];
	int			 fmt[AUDIT_NPARAMS];
	unsigned char		 mac[AUDIT_HASH_LEN];
	char			*mirror;	/* syslog line, or NULL */
	int64_t			 id;		/* once inserted */
	int			 err;
	sem_t			*waiter;	/* posted once the row is done */
	struct audit_row	*next;
	/* a row whose request's read the writer runs first (built then) */
	struct deferred_read	*read;
	struct request		*req;
	const char		*action;
	int			 read_err;	/* the request's outcome */
};

struct sealable {
	int64_t		 id;
	unsigned char	 mac[AUDIT_HASH_LEN];
	int64_t		 queued_ms;	/* monotime: for the seal lag */
};

static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 work;		/* rows queued, or stop */
	pthread_cond_t		 seal_cv;	/* rows to seal, or stop */
	struct audit_row	*head, *tail;
	struct sealable		*seal;		/* committed, not yet sealed */
	size_t			 nseal, capseal;
	int64_t			 seal_seq;	/* last seal written */
	unsigned char		 seal_hash[AUDIT_HASH_LEN];
	int			 seal_loaded;
	struct db_pool		*pool;
	const struct server_ctx	*ctx;
	pthread_t		 thread[AUDIT_WRITERS];
	pthread_t		 sealer;
	int			 running;
	int			 stop;
	int			 writing;	/* batches in flight */
	int			 direct;	/* a request commits its own row */
} q = { .mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
	.seal_cv = PTHREAD_COND_INITIALIZER };

/* ---------------------------------------------------------- canonical form */

static void
canon_put(struct audit_canon *c, const void *v, size_t n, uint32_t len)
{
	if (c->len + 4 + n > c->cap) {
		c->cap = (c->len + 4 + n) * 2 + 64;
		c->p = xreallocarray(c->p, c->cap, 1);
	}
	c->p[c->len++] = (unsigned char)(len >> 24);
	c->p[c->len++] = (unsigned char)(len >> 16);
	c->p[c->len++] = (unsigned char)(len >> 8);
	c->p[c->len++] = (unsigned char)len;
	if (n > 0)
		memcpy(c->p + c->len, v, n);
	c->len += n;
}

void
audit_canon_field(struct audit_canon *c, const void *v, size_t n)
{
	if (v == NULL)
		audit_canon_null(c);
	else
		canon_put(c, v, n, (uint32_t)n);
}

void
audit_canon_null(struct audit_canon *c)
{
	canon_put(c, NULL, 0, 0xffffffffu);
}

void
audit_canon_path(struct audit_canon *c, const struct sd_path *p)
{
	struct audit_canon inner = { 0 };
	int i;

	for (i = 0; i < p->n; i++)
		audit_canon_field(&inner, p->name[i], strlen(p->name[i]));
	canon_put(c, inner.p, inner.len, (uint32_t)inner.len);
	audit_canon_free(&inner);
}

void
audit_canon_free(struct audit_canon *c)
{
	free(c->p);
	memset(c, 0, sizeof(*c));
}

void
audit_seal_hash(const struct keyring *kr, const unsigned char *prev,
    int64_t id, const unsigned char *mac, unsigned char *out)
{
	unsigned char buf[AUDIT_HASH_LEN * 2 + 8];
	int i;

	memcpy(buf, prev, AUDIT_HASH_LEN);
	for (i = 0; i < 8; i++)
		buf[AUDIT_HASH_LEN + i] = (unsigned char)((uint64_t)id >>
		    (56 - 8 * i));
	memcpy(buf + AUDIT_HASH_LEN + 8, mac, AUDIT_HASH_LEN);
	audit_mac(kr, buf, sizeof(buf), out);
}

void
audit_row_mac(const struct keyring *kr, const PGresult *res, int i,
    unsigned char *out)
{
	struct audit_canon c = { 0 };
	struct sd_path p;
	unsigned char *h;
	size_t hl;
	int col;

	for (col = 1; col <= 14; col++) {
		if (PQgetisnull(res, i, col)) {
			audit_canon_null(&c);
		} else if (col == 5) {
			if (store_path_from_pg(PQgetvalue(res, i, col), &p) != 0)
				audit_canon_null(&c);
			else {
				audit_canon_path(&c, &p);
				path_free(&p);
			}
		} else if (col == 13) {
			h = PQunescapeBytea((unsigned char *)PQgetvalue(res, i,
			    col), &hl);
			audit_canon_field(&c, h, h ? hl : 0);
			PQfreemem(h);
		} else
			audit_canon_field(&c, PQgetvalue(res, i, col),
			    (size_t)PQgetlength(res, i, col));
	}
	audit_mac(kr, c.p, c.len, out);
	audit_canon_free(&c);
}

int
audit_bytea_eq(const PGresult *res, int i, int col, const unsigned char *want)
{
	unsigned char *h;
	size_t hl;
	int eq;

	if (PQgetisnull(res, i, col))
		return 0;
	h = PQunescapeBytea((unsigned char *)PQgetvalue(res, i, col), &hl);
	eq = h != NULL && hl == AUDIT_HASH_LEN &&
	    sodium_memcmp(h, want, AUDIT_HASH_LEN) == 0;
	PQfreemem(h);
	return eq;
}

/* -------------------------------------------------------------- row build */

static char *
dupnull(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/*
 * The record as one JSON line for syslog/journald (audit_syslog = yes):
 * the same fields as the row, no value, never a token.
 */
static char *
mirror_line(const struct audit_row *row, const struct request *r)
{
	static const char *const names[] = { "principal", "fingerprint",
	    "action", NULL, "version", "result", "error_code", "client_addr",
	    "client_port", "session_id", "request_id" };
	json_t *o = json_object();
	char *line;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] != NULL && row->v[i] != NULL)
			json_object_set_new(o, names[i], json_string(row->v[i]));
	if (r->has_path)
		json_object_set_new(o, "path", path_to_json(&r->path));
	if (r->detail != NULL)
		json_object_set(o, "detail", r->detail);
	line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return line;
}

static void
mirror(struct audit_row *row)
{
	if (row->mirror != NULL)
		syslog(LOG_AUTHPRIV | LOG_INFO, "audit %s", row->mirror);
}

/* Fill a zeroed row's columns (its queue fields are left alone). */
static void
row_fill(struct audit_row *row, struct request *r, const char *action,
    int err)
{
	const struct session *s = r->sess;
	const json_t *id = json_object_get(r->req, "id");
	struct timespec ts;
	char buf[32];

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
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, sizeof(buf), "%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	row->v[13] = xstrdup(buf);
}

/* MAC the filled row (and make its syslog line, if mirrored). */
static void
row_seal(struct audit_row *row, struct request *r)
{
	struct audit_canon c = { 0 };
	int i;

	/* the MAC covers exactly what verify will read back */
	audit_canon_field(&c, row->v[13], strlen(row->v[13]));
	for (i = 0; i <= 12; i++) {
		if (i == 3 && r->has_path)
			audit_canon_path(&c, &r->path);
		else if (i == 11 && row->v[11] != NULL)
			audit_canon_field(&c, row->v[11], AUDIT_HASH_LEN);
		else if (row->v[i] == NULL)
			audit_canon_null(&c);
		else
			audit_canon_field(&c, row->v[i], strlen(row->v[i]));
	}
	audit_mac(ctx_keyring(r->ctx), c.p, c.len, row->mac);
	audit_canon_free(&c);
	row->v[14] = xmalloc(AUDIT_HASH_LEN);
	memcpy(row->v[14], row->mac, AUDIT_HASH_LEN);
	row->len[14] = AUDIT_HASH_LEN;
	row->fmt[14] = 1;
	if (r->ctx->cfg->audit_syslog)
		row->mirror = mirror_line(row, r);
}

static void
row_build(struct audit_row *row, struct request *r, const char *action,
    int err)
{
	row_fill(row, r, action, err);
	row_seal(row, r);
}

static void
row_free(struct audit_row *row)
{
	int i;

	for (i = 0; i < AUDIT_NPARAMS; i++)
		free(row->v[i]);
	free(row->mirror);
}

/*
 * Queue a committed row for sealing; call with q.mu held.  A row can be
 * reported twice (found by the start-up scan and by its committer):
 * seal_txn drops duplicates and rows the database has sealed already,
 * so this stays O(1) in the request path.
 */
static void
sealable_add(int64_t id, const unsigned char *mac)
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

/* Rows as the columns of one audit_insert (store.c). */
struct row_columns {
	struct pg_array	col[AUDIT_NPARAMS];
	const char	*v[AUDIT_NPARAMS];	/* the parameters */
	int		 n;
};

static void
columns_init(struct row_columns *c)
{
	int i;

	for (i = 0; i < AUDIT_NPARAMS; i++)
		pg_array_init(&c->col[i]);
	c->n = 0;
}

static void
columns_add(struct row_columns *c, const struct audit_row *row)
{
	int i;

	for (i = 0; i < AUDIT_NPARAMS; i++)
		if (row->v[i] == NULL)
			pg_array_null(&c->col[i]);
		else if (row->fmt[i] == 1)
			pg_array_bytea(&c->col[i],
			    (const unsigned char *)row->v[i],
			    (size_t)row->len[i]);
		else
			pg_array_text(&c->col[i], row->v[i]);
	c->n++;
}

static const char *const *
columns_params(struct row_columns *c)
{
	int i;

	for (i = 0; i < AUDIT_NPARAMS; i++)
		c->v[i] = pg_array_str(&c->col[i]);
	return c->v;
}

static void
columns_free(struct row_columns *c)
{
	int i;

	for (i = 0; i < AUDIT_NPARAMS; i++)
		pg_array_free(&c->col[i]);
}

/*
 * The id of the row with this MAC in audit_insert's result (id, MAC in
 * hex per row, in the order sent): row i is looked at first, and the
 * others should the order ever differ.  0 if no row has it.
 */
static int64_t
result_id(const PGresult *res, int i, const unsigned char *mac)
{
	char hex[2 * AUDIT_HASH_LEN + 1];
	int k, n = PQntuples(res);

	sodium_bin2hex(hex, sizeof(hex), mac, AUDIT_HASH_LEN);
	for (k = 0; k < n; k++)
		if (strcmp(PQgetvalue(res, (i + k) % n, 1), hex) == 0)
			return strtoll(PQgetvalue(res, (i + k) % n, 0), NULL,
			    10);
	return 0;
}

/* Give each of the n rows its id from audit_insert's result. */
static int
rows_take_ids(struct audit_row *rows, int n, const PGresult *res)
{
	struct audit_row *row;
	int i;

	if (PQntuples(res) != n)
		goto bad;
	for (row = rows, i = 0; row != NULL; row = row->next, i++)
		if ((row->id = result_id(res, i, row->mac)) == 0)
			goto bad;
	return 0;
bad:
	log_error("audit insert: the rows returned are not the rows sent");
	return SD_EINTERNAL;
}

struct audit_batch {
	struct row_columns	 cols;
	struct {
		unsigned char	 mac[AUDIT_HASH_LEN];
		char		*mirror;
	}			*row;
	int			 cap;
	PGresult		*res;
};

static void	audit_batch_reset(struct audit_batch *);

struct audit_batch *
audit_batch_new(void)
{
	struct audit_batch *b = xcalloc(1, sizeof(*b));

	columns_init(&b->cols);
	return b;
}

static void
batch_add(struct audit_batch *b, struct audit_row *row)
{
	if (b->cols.n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 32;
		b->row = xreallocarray(b->row, (size_t)b->cap,
		    sizeof(*b->row));
	}
	memcpy(b->row[b->cols.n].mac, row->mac, AUDIT_HASH_LEN);
	b->row[b->cols.n].mirror = row->mirror;
	row->mirror = NULL;
	columns_add(&b->cols, row);
}

int
audit_batch_queue(struct audit_batch *b, struct db *d)
{
	if (b->cols.n == 0)
		return 0;
	return db_queue(d, ST_AUDIT_INSERT, AUDIT_NPARAMS,
	    columns_params(&b->cols), NULL, NULL, &b->res);
}

void
audit_batch_committed(struct audit_batch *b)
{
	int64_t id;
	int i;

	if (b->res == NULL)
		return;
	for (i = 0; i < b->cols.n; i++) {
		if (i >= PQntuples(b->res) ||
		    (id = result_id(b->res, i, b->row[i].mac)) == 0) {
			/* committed all the same: the next start seals it */
			log_error("audit insert: the rows returned are not "
			    "the rows sent");
			continue;
		}
		if (b->row[i].mirror != NULL)
			syslog(LOG_AUTHPRIV | LOG_INFO, "audit %s",
			    b->row[i].mirror);
		pthread_mutex_lock(&q.mu);
		sealable_add(id, b->row[i].mac);
		pthread_mutex_unlock(&q.mu);
	}
	audit_batch_reset(b);
}

static void
audit_batch_reset(struct audit_batch *b)
{
	int i;

	for (i = 0; i < b->cols.n; i++)
		free(b->row[i].mirror);
	PQclear(b->res);
	b->res = NULL;
	columns_free(&b->cols);
	columns_init(&b->cols);
}

void
audit_batch_free(struct audit_batch *b)
{
	if (b == NULL)
		return;
	audit_batch_reset(b);
	columns_free(&b->cols);
	free(b->row);
	free(b);
}

int
audit_write(struct request *r, const char *action, int err)
{
	struct audit_row row = { 0 };
	struct row_columns cols;
	int e;

	row_build(&row, r, action, err);
	if (r->audit_batch != NULL) {
		batch_add(r->audit_batch, &row);
		row_free(&row);
		return 0;
	}
	columns_init(&cols);
	columns_add(&cols, &row);
	/* libpq copies the parameters into its buffer: all can go now */
	e = db_queue(r->db, ST_AUDIT_INSERT, AUDIT_NPARAMS,
	    columns_params(&cols), NULL, NULL, &r->audit_res);
	columns_free(&cols);
	if (e == 0) {
		memcpy(r->audit_mac, row.mac, AUDIT_HASH_LEN);
		r->audit_mirror = row.mirror;
		row.mirror = NULL;
	} else
		log_error("audit row for %s not written: %s", action,
		    sd_err_code(e));
	row_free(&row);
	return e;
}

int
audit_exec_with_row(struct request *r, int stmt, int n,
    const char *const *lead, int id_col, PGresult **res)
{
	struct audit_row row = { 0 };
	const char *v[8 + AUDIT_NPARAMS];
	int len[8 + AUDIT_NPARAMS] = { 0 }, fmt[8 + AUDIT_NPARAMS] = { 0 };
	int i, e;

	if (n > 8)
		fatal("audit_exec_with_row: %d leading parameters", n);
	row_build(&row, r, r->lone_action, 0);
	for (i = 0; i < n; i++)
		v[i] = lead[i];
	for (i = 0; i < AUDIT_NPARAMS; i++) {
		v[n + i] = row.v[i];
		len[n + i] = row.len[i];
		fmt[n + i] = row.fmt[i];
	}
	e = db_exec(r->db, stmt, n + AUDIT_NPARAMS, v, len, fmt, res);
	if (e == 0 && PQntuples(*res) == 1 && !PQgetisnull(*res, 0, id_col)) {
		r->row_written = 1;
		mirror(&row);
		pthread_mutex_lock(&q.mu);
		sealable_add(strtoll(PQgetvalue(*res, 0, id_col), NULL, 10),
		    row.mac);
		pthread_mutex_unlock(&q.mu);
	}
	row_free(&row);
	return e;
}

int
audit_direct_begin(void)
{
	int ok;

	pthread_mutex_lock(&q.mu);
	ok = q.running && q.head == NULL && !q.writing && !q.direct;
	if (ok)
		q.direct = 1;
	pthread_mutex_unlock(&q.mu);
	return ok;
}

void
audit_direct_end(void)
{
	pthread_mutex_lock(&q.mu);
	q.direct = 0;
	pthread_mutex_unlock(&q.mu);
}

void
audit_committed(struct request *r)
{
	if (r->audit_res == NULL)
		return;
	r->audit_id = strtoll(PQgetvalue(r->audit_res, 0, 0), NULL, 10);
	PQclear(r->audit_res);
	r->audit_res = NULL;
	if (r->audit_mirror != NULL) {
		syslog(LOG_AUTHPRIV | LOG_INFO, "audit %s", r->audit_mirror);
		free(r->audit_mirror);
		r->audit_mirror = NULL;
	}
	pthread_mutex_lock(&q.mu);
	sealable_add(r->audit_id, r->audit_mac);
	pthread_mutex_unlock(&q.mu);
	r->audit_id = 0;
}

int
audit_submit(struct request *r, const char *action, int err)
{
	sem_t done;
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
		item.detail = r->extra[i].detail;
		row_build(&rows[i + 1], &item, action, r->extra[i].err);
	}
	sem_init(&done, 0, 0);
	pthread_mutex_lock(&q.mu);
	if (!q.running) {
		pthread_mutex_unlock(&q.mu);
		e = SD_EINTERNAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		rows[i].waiter = &done;
		if (q.tail)
			q.tail->next = &rows[i];
		else
			q.head = &rows[i];
		q.tail = &rows[i];
	}
	pthread_cond_signal(&q.work);
	pthread_mutex_unlock(&q.mu);
	/* one post per row, not under q.mu: a woken request does not then
	 * queue for the lock the writer holds */
	for (i = 0; i < n; i++)
		while (sem_wait(&done) != 0 && errno == EINTR)
			;
	for (i = 0; i < n; i++)
		if (rows[i].err != 0 && e == 0)
			e = rows[i].err;
	if (e != 0)
		log_error("audit row for %s not written: %s", action,
		    sd_err_code(e));
	else
		for (i = 0; i < n; i++)
			mirror(&rows[i]);
out:
	sem_destroy(&done);
	for (i = 0; i < n; i++)
		row_free(&rows[i]);
	free(rows);
	return e;
}

int
audit_submit_read(struct request *r, const char *action,
    struct deferred_read *rd, int *audit_err)
{
	struct audit_row row = { 0 };
	sem_t done;

	*audit_err = 0;
	sem_init(&done, 0, 0);
	row.read = rd;
	row.req = r;
	row.action = action;
	row.waiter = &done;
	pthread_mutex_lock(&q.mu);
	if (!q.running) {
		pthread_mutex_unlock(&q.mu);
		sem_destroy(&done);
		*audit_err = SD_EINTERNAL;
		return SD_EINTERNAL;
	}
	if (q.tail)
		q.tail->next = &row;
	else
		q.head = &row;
	q.tail = &row;
	pthread_cond_signal(&q.work);
	pthread_mutex_unlock(&q.mu);
	while (sem_wait(&done) != 0 && errno == EINTR)
		;
	sem_destroy(&done);
	if (row.err != 0) {
		log_error("audit row for %s not written: %s", action,
		    sd_err_code(row.err));
		*audit_err = row.err;
	} else
		mirror(&row);
	row_free(&row);
	return row.read_err;
}

/* ------------------------------------------------------------ the writer */

/*
 * The reads of a batch (rows with a deferred read), as one statement:
 * their batch_stmt (struct deferred_read).  Then each request is
 * finished with its row of the result, and its audit row built.  If
 * the statement fails, every read of the batch fails with its error
 * (err != 0: the connection could not be had).
 */
static void
run_reads(struct db *d, struct audit_row *rows, int err)
{
	const struct deferred_read *rds[AUDIT_BATCH_MAX];
	struct pg_array col[4];
	const char *v[4];
	struct audit_row *row;
	PGresult *res = NULL;
	int i, e = err, n = 0;

	for (row = rows; row != NULL; row = row->next)
		if (row->read != NULL)
			rds[n++] = row->read;
	if (n == 0)
		return;
	for (i = 1; e == 0 && i < n; i++)
		if (rds[i]->batch_stmt != rds[0]->batch_stmt ||
		    rds[i]->n != rds[0]->n) {
			log_error("reads of different kinds in one batch");
			e = SD_EINTERNAL;
		}
	if (e == 0) {
		deferred_read_arrays(rds, n, col, v);
		e = db_exec(d, rds[0]->batch_stmt, rds[0]->n, v, NULL, NULL,
		    &res);
		for (i = 0; i < rds[0]->n; i++)
			pg_array_free(&col[i]);
	}
	if (e == 0 && PQntuples(res) != n) {
		log_error("%s: %d rows for %d reads",
		    store_stmts[rds[0]->batch_stmt].name, PQntuples(res), n);
		e = SD_EINTERNAL;
	}
	for (row = rows, i = 0; row != NULL; row = row->next) {
		if (row->read == NULL)
			continue;
		row->read_err = e != 0 ? e :
		    row->read->finish(row->req, row->read, res, i);
		i++;
		row_build(row, row->req, row->action, row->read_err);
	}
	PQclear(res);
}

/*
 * Run a batch's reads, then commit its rows with one statement; 0 or an
 * SD_E* code for all of the rows.
 */
static int
write_batch(struct audit_row *rows)
{
	struct row_columns cols;
	struct audit_row *row;
	struct db *d;
	PGresult *res;
	int e;

	if ((e = db_acquire(q.pool, &d)) != 0) {
		run_reads(NULL, rows, e);
		return e;
	}
	run_reads(d, rows, 0);
	columns_init(&cols);
	for (row = rows; row != NULL; row = row->next)
		columns_add(&cols, row);
	e = db_exec(d, ST_AUDIT_INSERT, AUDIT_NPARAMS, columns_params(&cols),
	    NULL, NULL, &res);
	if (e == 0) {
		e = rows_take_ids(rows, cols.n, res);
		PQclear(res);
	}
	columns_free(&cols);
	db_release(q.pool, d);
	return e;
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
		if (!audit_bytea_eq(res, i, 15, good[n].mac)) {
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
		sealable_add(good[i].id, good[i].mac);
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
	struct session s = { .id = "secretd" };
	struct request r = { .ctx = q.ctx, .sess = &s, .version = -1 };
	struct audit_row row = { 0 };
	struct row_columns cols;
	char kx[AUDIT_HASH_LEN * 2 + 1], fx[AUDIT_HASH_LEN * 2 + 1];
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
	r.detail = json_pack("{s:I,s:s,s:I,s:s}",
	    "known_seq", (json_int_t)known, "known_head", kx,
	    "found_seq", (json_int_t)seq, "found_head", fx);
	row_fill(&row, &r, AUDIT_TRUNCATED, SD_EINTERNAL);
	free(row.v[6]);
	row.v[6] = xstrdup("truncated");
	row_seal(&row, &r);
	json_decref(r.detail);
	columns_init(&cols);
	columns_add(&cols, &row);
	e = db_exec(d, ST_AUDIT_INSERT, AUDIT_NPARAMS, columns_params(&cols),
	    NULL, NULL, &res);
	columns_free(&cols);
	if (e == 0) {
		out->id = PQntuples(res) == 1 ? result_id(res, 0, row.mac) : 0;
		memcpy(out->mac, row.mac, AUDIT_HASH_LEN);
		PQclear(res);
		if (out->id == 0)
			e = SD_EINTERNAL;
	}
	row_free(&row);
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

static void *
writer_main(void *arg)
{
	struct audit_row *batch, *row, *last, *next;
	int n, e;

	(void)arg;
	log_set_tag("audit");
	pthread_mutex_lock(&q.mu);
	for (;;) {
		while (q.head == NULL && !q.stop)
			pthread_cond_wait(&q.work, &q.mu);
		if (q.head == NULL)
			break;		/* stopping, and nothing left */
		batch = q.head;
		for (n = 1, last = batch; last->next && n < AUDIT_BATCH_MAX; n++)
			last = last->next;
		q.head = last->next;
		if (q.head == NULL)
			q.tail = NULL;
		last->next = NULL;
		q.writing++;
		pthread_mutex_unlock(&q.mu);

		e = write_batch(batch);

		pthread_mutex_lock(&q.mu);
		q.writing--;
		for (row = batch; e == 0 && row != NULL; row = row->next)
			sealable_add(row->id, row->mac);
		pthread_mutex_unlock(&q.mu);
		/* wake exactly the requests of this batch; once its last row
		 * is posted a request frees its rows, so read next first */
		for (row = batch; row != NULL; row = next) {
			next = row->next;
			row->err = e;
			sem_post(row->waiter);
		}
		pthread_mutex_lock(&q.mu);
	}
	pthread_mutex_unlock(&q.mu);
	return NULL;
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
audit_writer_start(const char *conninfo, const struct server_ctx *ctx)
{
	struct db *d;
	int i;

	/* a connection for each writer, one for the sealer */
	q.pool = db_pool_new(conninfo, AUDIT_WRITERS + 1, store_stmts,
	    ST__COUNT);
	q.ctx = ctx;
	q.stop = 0;
	q.running = 1;
	/* load the chain head before any request can commit a row */
	if (db_acquire(q.pool, &d) == 0) {
		if (seal_load(d) != 0)
			log_warn("audit seal chain not loaded yet; will retry");
		db_release(q.pool, d);
	}
	for (i = 0; i < AUDIT_WRITERS; i++)
		if (pthread_create(&q.thread[i], NULL, writer_main, NULL) != 0)
			fatal("cannot start the audit writer");
	if (pthread_create(&q.sealer, NULL, sealer_main, NULL) != 0)
		fatal("cannot start the audit sealer");
}

void
audit_writer_stop(void)
{
	int i;

	pthread_mutex_lock(&q.mu);
	q.stop = 1;
	pthread_cond_broadcast(&q.work);
	pthread_cond_signal(&q.seal_cv);
	pthread_mutex_unlock(&q.mu);
	for (i = 0; i < AUDIT_WRITERS; i++)	/* the last rows commit */
		pthread_join(q.thread[i], NULL);
	pthread_join(q.sealer, NULL);
	if (q.nseal > 0)
		(void)seal_pending();	/* a last try */
	pthread_mutex_lock(&q.mu);
	q.running = 0;
	pthread_mutex_unlock(&q.mu);
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
audit_stats(int *queued, int *unsealed, double *seal_lag_s)
{
	const struct audit_row *row;
	int64_t oldest = -1;
	size_t i;

	pthread_mutex_lock(&q.mu);
	for (*queued = 0, row = q.head; row != NULL; row = row->next)
		(*queued)++;
	*unsealed = (int)q.nseal;
	/* the queue is mostly in order, but a retry may put rows back */
	for (i = 0; i < q.nseal; i++)
		if (oldest < 0 || q.seal[i].queued_ms < oldest)
			oldest = q.seal[i].queued_ms;
	pthread_mutex_unlock(&q.mu);
	*seal_lag_s = oldest < 0 ? 0 : (double)(monotime_ms() - oldest) / 1e3;
}

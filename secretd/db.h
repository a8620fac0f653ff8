/*
 * db.h - a fixed pool of PostgreSQL connections with prepared statements.
 *
 * Each connection prepares the statement table given to db_pool_new when
 * it connects.  A broken connection is reconnected on the next acquire,
 * with backoff; while the database is down callers get SD_EUNAVAIL and
 * the daemon keeps running.  The conninfo goes to libpq unchanged: a
 * multi-host one (host=a,b target_session_attrs=read-write) follows a
 * failover, as a connection lost or found read-only is dropped.  All SQL goes through prepared statements
 * with parameters: there is no function here that takes SQL text from a
 * caller at run time.
 */
#ifndef SECRETD_DB_H
#define SECRETD_DB_H

#include <libpq-fe.h>

#include "err.h"
#include "proto.h"

struct db_stmt {
	const char	*name;
	const char	*sql;
};

struct db_pool;
struct db;

/* stmts must stay valid for the pool's life.  Connections are opened
 * lazily.  Never returns NULL. */
struct db_pool *db_pool_new(const char *conninfo, int size,
	    const struct db_stmt *stmts, int nstmts);
void	db_pool_free(struct db_pool *pool);

/*
 * Take a connection for one request, waiting for a free one if needed.
 * Returns 0 with *out, or SD_EUNAVAIL when the database cannot be reached
 * (then *out is NULL).  The connection must be given back with
 * db_release, after COMMIT or ROLLBACK.
 */
int	db_acquire(struct db_pool *pool, struct db **out) SD_MUST_CHECK;
void	db_release(struct db_pool *pool, struct db *db);
/* The pool's size, its connections held by a request, and the requests
 * waiting in db_acquire for one (server.stats). */
void	db_pool_usage(struct db_pool *pool, int *size, int *in_use,
	    int *waiting);

/*
 * Run prepared statement number stmt with n text parameters (NULL
 * entries are SQL NULL).  lengths/formats may be NULL (all text); a
 * format of 1 marks a binary (bytea) parameter.  Returns 0 with *res
 * (caller PQclear()s it) for PGRES_COMMAND_OK / PGRES_TUPLES_OK, else:
 * SD_EUNAVAIL when the connection is lost, SD_EEXISTS for a unique
 * violation, SD_EINTERNAL otherwise (logged, with the SQLSTATE).
 */
int	db_exec(struct db *db, int stmt, int n, const char *const *values,
	    const int *lengths, const int *formats, PGresult **res)
	    SD_MUST_CHECK;

/* The same, discarding the result. */
int	db_run(struct db *db, int stmt, int n, const char *const *values)
	    SD_MUST_CHECK;

/* db_exec and db_run with the parameters p (params.h), which are freed
 * (params_free) either way. */
struct params;
int	db_exec_params(struct db *db, int stmt, struct params *p,
	    PGresult **res) SD_MUST_CHECK;
int	db_run_params(struct db *db, int stmt, struct params *p)
	    SD_MUST_CHECK;

/*
 * Send a statement without waiting for its result: it travels with the
 * next db_exec or db_commit, in the same round trip, and that call reads
 * its result (into *res if res is not NULL, else dropped) and fails with
 * its error.  For statements inside a transaction whose outcome nothing
 * depends on before the commit.  At most 8 are queued at a time.
 */
int	db_queue(struct db *db, int stmt, int n, const char *const *values,
	    const int *lengths, const int *formats, PGresult **res)
	    SD_MUST_CHECK;

/*
 * Send what db_queue queued and read the results.  Outside a transaction
 * the statements run as one implicit transaction, which commits when the
 * last succeeds (or none of them takes effect); after db_begin they run
 * in that transaction, which stays open.
 */
int	db_flush(struct db *db) SD_MUST_CHECK;
/* The statement whose error the last db_exec/db_commit returned, or -1
 * (BEGIN, COMMIT and lost connections are -1 or negative too). */
int	db_failed_stmt(const struct db *db);

/*
 * 1 if the last db_exec, db_flush or db_commit failed after sending what
 * ends a transaction (COMMIT, or statements outside a transaction,
 * which commit by themselves) and no answer came back from the server
 * (the connection was lost, or the backend ended during COMMIT): the
 * change may or may not have committed.  The caller must say so to its
 * client, never report success nor a clean failure, and never run the
 * change again by itself.
 */
int	db_outcome_unknown(const struct db *d);
#define DB_OUTCOME_UNKNOWN_MSG PROTO_MSG_OUTCOME_UNKNOWN

/*
 * Until db_release: wait for each result by reading the socket without
 * sleeping for up to us microseconds, then sleep as usual.  For a
 * request alone in the daemon, where the wakeup after a sleep costs more
 * than the wait (docs/performance.md); never on a single CPU.
 */
void	db_spin(struct db *db, int us);


/* Transaction control.  BEGIN is sent with the first statement that
 * follows (one round trip less); a transaction in which nothing ran
 * commits without a round trip.  db_commit sends what is queued. */
int	db_begin(struct db *db) SD_MUST_CHECK;
int	db_commit(struct db *db) SD_MUST_CHECK;
void	db_rollback(struct db *db);

/* Connect once outside the pool (migrate, init, rekey).  Returns NULL
 * and fills err on failure. */
PGconn	*db_connect_once(const char *conninfo, char *err, size_t errlen);

#endif

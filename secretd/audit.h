/*
 * audit.h - audit rows, their MACs, and the seal chain.
 *
 * One row per audited request.  A change writes its row inside its own
 * transaction (audit_write, then audit_committed after COMMIT), so the
 * action and its row commit together or not at all.  Everything else
 * (reads, and failures after their rollback) hands its row to an audit
 * writer (audit_submit), a thread that commits the rows of concurrent
 * requests together: one pipeline, one commit per batch; under load a
 * get hands over its read as well (audit_submit_read).  The caller
 * waits for that commit before it answers, so no value leaves the daemon
 * without its row (fail closed).
 *
 * Tamper evidence without a global lock: each row carries a MAC over its
 * canonical content, computed by the thread that built it; a sealer
 * thread then chains committed rows into audit_seal, off the request
 * path.  A row never holds a value, a token or key material:
 * values appear only as a keyed hash.
 */
#ifndef SECRETD_AUDIT_H
#define SECRETD_AUDIT_H

#include <stdint.h>

#include "request.h"

/* Start / stop the audit writer and the sealer (a database connection
 * each); stopping commits and seals what is queued. */
void	audit_writer_start(const char *conninfo, const struct server_ctx *ctx);
void	audit_writer_stop(void);

/*
 * Record request r running action with outcome err (0 ok,
 * SD_EPERM/SD_EUNAUTH "denied", anything else "error").
 * audit_write queues the INSERT in r->db's transaction (db_begin first):
 * it is sent with db_commit, in the same round trip, which fails with
 * the INSERT's error (db_failed_stmt says ST_AUDIT_INSERT); call
 * audit_committed after the COMMIT succeeded.  audit_submit queues the
 * row(s) for the writer and waits until they are committed.  Both
 * return 0 or the database error.
 */
int	audit_write(struct request *r, const char *action, int err)
	    SD_MUST_CHECK;
void	audit_committed(struct request *r);
/*
 * A write batch's rows (write_batch.c), sent as one statement: while
 * r->audit_batch is set, audit_write adds r's row to it and
 * audit_committed(r) does nothing.  audit_batch_queue queues the
 * statement on d (it travels with the COMMIT); after the COMMIT,
 * audit_batch_committed does for every row what audit_committed does.
 * audit_batch_free forgets rows not committed (after a rollback).
 */
struct audit_batch	*audit_batch_new(void);
int	audit_batch_queue(struct audit_batch *b, struct db *d) SD_MUST_CHECK;
void	audit_batch_committed(struct audit_batch *b);
void	audit_batch_free(struct audit_batch *b);
int	audit_submit(struct request *r, const char *action, int err)
	    SD_MUST_CHECK;

/*
 * Run rd, the statement of a read handler's first half (struct
 * deferred_read), in the writer's next batch: the reads of a batch go
 * in one round trip, then each request is finished there (rd->finish)
 * and its row (ok, denied or error, as finish says) committed with the
 * batch's rows.  r's thread waits meanwhile.  Returns the handler's
 * outcome; *audit_err is 0 or why the row could not be written (then
 * nothing may be answered but an error).
 */
int	audit_submit_read(struct request *r, const char *action,
	    struct deferred_read *rd, int *audit_err) SD_MUST_CHECK;
/*
 * A lone request may commit its own row (audit_write, db_flush,
 * audit_committed: one round trip) instead of handing it to the
 * writer: audit_direct_begin returns 1 when the writer has nothing
 * queued or in flight and no other request holds that right; the caller
 * then calls audit_direct_end.  Under load rows keep being batched.
 */
int	audit_direct_begin(void);
void	audit_direct_end(void);
/*
 * For a lone read (r->lone_action set): run stmt on r->db with the n
 * parameters lead followed by the row of r's success (built now, with
 * r->version as it stands), in one round trip.  The statement inserts
 * the row if the read succeeds as the row says, and returns its id in
 * column id_col (else NULL); then the row is committed and sealed as
 * audit_committed would, and r->row_written is set.  Returns 0 or the
 * database error; *res as db_exec.
 */
int	audit_exec_with_row(struct request *r, int stmt, int n,
	    const char *const *lead, int id_col, PGresult **res)
	    SD_MUST_CHECK;

/*
 * Canonical content of a row, as MACed: each field as a 4-byte
 * big-endian length and its bytes (0xffffffff for NULL), in this order:
 * at (microseconds since the epoch, decimal), principal, fingerprint,
 * action, path (each name as length + bytes), version, result,
 * error_code, client_addr, client_port, session_id, request_id,
 * value_hash (32 raw bytes), detail (JSON text).
 */
struct audit_canon {
	unsigned char	*p;
	size_t		 len, cap;
};
void	audit_canon_field(struct audit_canon *c, const void *v, size_t n);
void	audit_canon_null(struct audit_canon *c);
void	audit_canon_path(struct audit_canon *c, const struct sd_path *p);
void	audit_canon_free(struct audit_canon *c);

/*
 * The MAC of row i of res, a result with the columns of ST_AUDIT_ROWS
 * (id, then the canonical fields in columns 1..14, mac in 15), as the
 * database holds it now.
 */
void	audit_row_mac(const struct keyring *kr, const PGresult *res, int i,
	    unsigned char *out);
/* 1 if column col of row i is the AUDIT_HASH_LEN bytes want. */
int	audit_bytea_eq(const PGresult *res, int i, int col,
	    const unsigned char *want);

/* The action of the row the sealer writes when it finds the chain's
 * tail cut off (its detail: known_seq, known_head, found_seq,
 * found_head). */
#define AUDIT_TRUNCATED	"audit.truncated"

/* Seal hash: MAC(prev || id || row mac). */
void	audit_seal_hash(const struct keyring *kr, const unsigned char *prev,
	    int64_t id, const unsigned char *mac, unsigned char *out);

/* The last seal this daemon committed (seq 0: none yet). */
void	audit_seal_head(int64_t *seq, unsigned char hash[AUDIT_HASH_LEN]);

/* For server.stats: rows queued for the writers (not yet taken), rows
 * committed but not sealed, and the age of the oldest of those. */
void	audit_stats(int *queued, int *unsealed, double *seal_lag_s);

#endif

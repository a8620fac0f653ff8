/*
 * audit.h - audit rows.
 *
 * One row per audited request.  A change writes its row inside its own
 * transaction (audit_write), so the action and its row commit together
 * or not at all.  Everything else (reads, and failures after their
 * rollback) hands its row to the audit writer (audit_submit), a thread
 * that commits the rows of concurrent requests together: one pipeline,
 * one commit per batch.  The caller waits for that commit before it
 * answers, so no value leaves the daemon without its row (fail closed).
 * A row never holds a value, a token or key material: values appear only
 * as a keyed hash.
 */
#ifndef SECRETD_AUDIT_H
#define SECRETD_AUDIT_H

#include "request.h"

/* Start / stop the audit writer (its own database connection). */
void	audit_writer_start(const char *conninfo);
void	audit_writer_stop(void);

/*
 * Record request r running action with outcome err (0 ok,
 * SD_EPERM/SD_EUNAUTH "denied", anything else "error").
 * audit_write inserts through r->db, in the caller's transaction;
 * audit_submit queues the row for the writer and waits until it is
 * committed.  Both return 0 or the database error.
 */
int	audit_write(struct request *r, const char *action, int err)
	    SD_MUST_CHECK;
int	audit_submit(struct request *r, const char *action, int err)
	    SD_MUST_CHECK;

#endif

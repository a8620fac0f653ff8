/*
 * exec.h - the request executor: every request runs here, from its
 * action's row in the table (dispatch.h) to its audit row.
 *
 * One path.  An action with a plan (struct plan: secret.get, secret.put)
 * hands it over; the executor runs it alone or in a batch with other
 * requests' plans, and the request's audit row goes with it: a read's
 * row is inserted after the batch's statement, a change's row inside
 * the batch's transaction, so that a change and its row commit together
 * or not at all, and no value leaves the daemon without its row (fail
 * closed).  Any other action, and a plan whose finish answers
 * DEFER_ALONE, runs whole: its handler on a connection of its own, a
 * change in a transaction that also holds its row, a read followed by
 * its row.
 *
 * One policy, in one queue: a request that finds nothing of its kind
 * (read or change) queued or running runs at once on its own thread and
 * connection, as a batch of one; otherwise it waits in the queue, and a
 * worker thread takes everything of one kind that is queued (a change
 * never with another for the same key) and runs it as one batch: one
 * statement for its plans, one for its audit rows, one commit.
 */
#ifndef SECRETD_EXEC_H
#define SECRETD_EXEC_H

#include "dispatch.h"
#include "request.h"

/* Start / stop the workers (a connection each) and the sealer; stopping
 * runs what is queued first. */
void	exec_start(const char *conninfo, const struct server_ctx *ctx);
void	exec_stop(void);

/* Run request r (req_init) as action a: 0 with r->resp filled, or an
 * SD_E* code with r->why.  Its audit row is written either way. */
int	exec_request(struct request *r, const struct action *a);

/* Write r's audit row for action with outcome err (a request refused
 * before any action ran: an unknown key's hello); 0 or the error. */
int	exec_audit(struct request *r, const char *action, int err)
	    SD_MUST_CHECK;

/* A change's transaction, for the handler that runs in it. */
struct txn;
/* Add a new version of a secret to the transaction's one put_version
 * statement (put_rows.h), sent with its COMMIT. */
void	txn_put_version(struct txn *t, long long node, int version,
	    uint32_t key_id, const unsigned char *nonce, size_t nonce_len,
	    const unsigned char *ct, size_t ct_len, const char *by);

/* For server.stats: the requests queued for the workers now; since the
 * start, the requests (and rows) run alone, the batches the workers ran
 * and the requests in them. */
void	exec_stats(int *queued, long long *alone, long long *batches,
	    long long *batched);

#endif

/*
 * write_batch.h - concurrent puts share a transaction.
 *
 * A change that is not alone (another is running or queued) hands its
 * first statement (struct deferred_read: for a put, the statement that
 * checks the caller's permission and locks the node) to the batcher.
 * The batcher runs the first statements of a whole batch in one
 * transaction and one round trip, finishes each request there (the
 * action's finish: for a put, the check-and-set, sealing the value and
 * queueing its version), queues every request's audit row, and commits
 * the batch in a second round trip.  Each request's change and its row
 * commit together, as they do alone; a batch that fails commits nothing,
 * and its requests then run alone, one by one.
 */
#ifndef SECRETD_WRITE_BATCH_H
#define SECRETD_WRITE_BATCH_H

#include "request.h"

void	write_batch_start(const char *conninfo);
void	write_batch_stop(void);

/*
 * 1 when no change is queued, in a batch or running alone: the caller
 * then runs its change on its own connection and calls
 * write_direct_end.  Under load changes keep being batched.
 */
int	write_direct_begin(void);
void	write_direct_end(void);

/*
 * Run request r's change in the next batch and wait for it.  Returns
 * its outcome (0 or SD_E*), its audit row written in the batch's
 * transaction; or DEFER_ALONE: nothing of it was done or recorded, and
 * the caller must run it alone (a path to create, a batch that failed).
 */
int	write_batch_submit(struct request *r, const char *action,
	    const struct deferred_read *rd);

#endif

/*
 * exec_queue.h - the executor's queue and its one policy (exec.c): which
 * request runs alone at once, and which queued requests form a batch.
 * Pure: no thread, no lock (exec.c holds its mutex around every call),
 * no database; unit-tested (tests/unit/test_exec_queue.c).
 *
 * The policy:
 *   - a request runs alone, at once, when nothing of its kind (read or
 *     change) is queued, in a batch running, or running alone;
 *   - otherwise it is queued, and a batch is everything queued of the
 *     kind of the oldest queued request whose kind has fewer than
 *     EQ_BATCHES_PER_KIND batches running (one gathers while another
 *     commits: a third would only split the queue into smaller
 *     batches), in order, up to the kind's batch size; a plan never with one of another statement (a batch
 *     runs one statement), a change never with another of the same key
 *     (both would take the same version).  What is left stays queued,
 *     in order.
 */
#ifndef SECRETD_EXEC_QUEUE_H
#define SECRETD_EXEC_QUEUE_H

enum eq_kind { EQ_READ, EQ_WRITE, EQ__KINDS };

#define EQ_READ_BATCH_MAX	512
#define EQ_WRITE_BATCH_MAX	32
#define EQ_BATCHES_PER_KIND	2

/* A queued request, as the policy sees it (embedded in exec.c's item). */
struct eq_node {
	enum eq_kind	 kind;
	int		 stmt;		/* its plan's statement, or -1 (rows
					   only: joins any read batch) */
	const char	*lock_key;	/* a change's, else NULL */
	struct eq_node	*next;
};

struct exec_queue {
	struct eq_node	*head, *tail;
	int		 queued[EQ__KINDS];
	int		 busy[EQ__KINDS];	/* batches running */
	int		 lone[EQ__KINDS];	/* requests running alone */
};

/* 1: run alone now (then eq_lone_end); 0: queue it. */
int	eq_lone_begin(struct exec_queue *q, enum eq_kind kind);
void	eq_lone_end(struct exec_queue *q, enum eq_kind kind);

void	eq_push(struct exec_queue *q, struct eq_node *n);
/* The next batch into batch[] (room for EQ_READ_BATCH_MAX); its count,
 * 0 when nothing is queued that may run now.  The batch counts as running until
 * eq_batch_end. */
int	eq_take(struct exec_queue *q, struct eq_node **batch);
void	eq_batch_end(struct exec_queue *q, enum eq_kind kind);
/* Requests queued, of either kind. */
int	eq_queued(const struct exec_queue *q);

#endif

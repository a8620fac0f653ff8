/*
 * exec_queue.c - the executor's queue and its policy (exec_queue.h).
 */
#include <stddef.h>
#include <string.h>

#include "exec_queue.h"

int
eq_lone_begin(struct exec_queue *q, enum eq_kind kind)
{
	if (q->queued[kind] != 0 || q->busy[kind] != 0 || q->lone[kind] != 0)
		return 0;
	q->lone[kind]++;
	return 1;
}

void
eq_lone_end(struct exec_queue *q, enum eq_kind kind)
{
	q->lone[kind]--;
}

void
eq_push(struct exec_queue *q, struct eq_node *n)
{
	n->next = NULL;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	q->queued[n->kind]++;
}

/* Whether n may join the batch so far (batch[0..nb-1], of kind). */
static int
fits(struct eq_node *const *batch, int nb, int stmt,
    const struct eq_node *n, enum eq_kind kind)
{
	int i, max = kind == EQ_WRITE ? EQ_WRITE_BATCH_MAX : EQ_READ_BATCH_MAX;

	if (n->kind != kind || nb >= max)
		return 0;
	if (n->stmt >= 0 && stmt >= 0 && n->stmt != stmt)
		return 0;
	for (i = 0; kind == EQ_WRITE && i < nb; i++)
		if (batch[i]->lock_key != NULL && n->lock_key != NULL &&
		    strcmp(batch[i]->lock_key, n->lock_key) == 0)
			return 0;
	return 1;
}

int
eq_take(struct exec_queue *q, struct eq_node **batch)
{
	struct eq_node *n, *next, *keep = NULL, *keep_tail = NULL;
	enum eq_kind kind;
	int nb = 0, stmt = -1;

	for (n = q->head; n != NULL; n = n->next)
		if (q->busy[n->kind] < EQ_BATCHES_PER_KIND)
			break;
	if (n == NULL)
		return 0;
	kind = n->kind;
	for (n = q->head; n != NULL; n = next) {
		next = n->next;
		n->next = NULL;
		if (fits(batch, nb, stmt, n, kind)) {
			if (n->stmt >= 0)
				stmt = n->stmt;
			batch[nb++] = n;
			q->queued[kind]--;
			continue;
		}
		if (keep_tail)
			keep_tail->next = n;
		else
			keep = n;
		keep_tail = n;
	}
	q->head = keep;
	q->tail = keep_tail;
	q->busy[kind]++;
	return nb;
}

void
eq_batch_end(struct exec_queue *q, enum eq_kind kind)
{
	q->busy[kind]--;
}

int
eq_queued(const struct exec_queue *q)
{
	return q->queued[EQ_READ] + q->queued[EQ_WRITE];
}

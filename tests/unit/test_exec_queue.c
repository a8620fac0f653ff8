/*
 * test_exec_queue.c - the executor's policy (secretd/exec_queue.h):
 * when a request runs alone, and which queued requests form a batch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "secretd/exec_queue.h"

static struct eq_node *
node(struct eq_node *n, enum eq_kind kind, int stmt, const char *key)
{
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->stmt = stmt;
	n->lock_key = key;
	return n;
}

static void
test_lone_when_nothing_of_its_kind(void **state)
{
	struct exec_queue q = { 0 };
	struct eq_node a, b, *batch[EQ_READ_BATCH_MAX];

	(void)state;
	/* an empty daemon: alone, but only one at a time per kind */
	assert_int_equal(eq_lone_begin(&q, EQ_READ), 1);
	assert_int_equal(eq_lone_begin(&q, EQ_READ), 0);
	/* a change is not held up by a read running alone */
	assert_int_equal(eq_lone_begin(&q, EQ_WRITE), 1);
	eq_lone_end(&q, EQ_READ);
	eq_lone_end(&q, EQ_WRITE);
	assert_int_equal(eq_lone_begin(&q, EQ_READ), 1);
	eq_lone_end(&q, EQ_READ);

	/* something of its kind queued: no */
	eq_push(&q, node(&a, EQ_READ, 1, NULL));
	assert_int_equal(eq_lone_begin(&q, EQ_READ), 0);
	assert_int_equal(eq_lone_begin(&q, EQ_WRITE), 1);
	eq_lone_end(&q, EQ_WRITE);
	/* ... or a batch of its kind running */
	assert_int_equal(eq_take(&q, batch), 1);
	assert_int_equal(eq_lone_begin(&q, EQ_READ), 0);
	eq_batch_end(&q, EQ_READ);
	assert_int_equal(eq_lone_begin(&q, EQ_READ), 1);
	eq_lone_end(&q, EQ_READ);
	(void)b;
}

static void
test_batch_is_one_kind_in_order(void **state)
{
	struct exec_queue q = { 0 };
	struct eq_node n[6], *batch[EQ_READ_BATCH_MAX];

	(void)state;
	eq_push(&q, node(&n[0], EQ_READ, 1, NULL));
	eq_push(&q, node(&n[1], EQ_WRITE, 2, "{a}"));
	eq_push(&q, node(&n[2], EQ_READ, -1, NULL));	/* rows only */
	eq_push(&q, node(&n[3], EQ_READ, 1, NULL));
	eq_push(&q, node(&n[4], EQ_WRITE, 2, "{b}"));
	assert_int_equal(eq_queued(&q), 5);
	/* the oldest is a read: every read, in order */
	assert_int_equal(eq_take(&q, batch), 3);
	assert_ptr_equal(batch[0], &n[0]);
	assert_ptr_equal(batch[1], &n[2]);
	assert_ptr_equal(batch[2], &n[3]);
	assert_int_equal(eq_queued(&q), 2);
	/* then the changes */
	assert_int_equal(eq_take(&q, batch), 2);
	assert_ptr_equal(batch[0], &n[1]);
	assert_ptr_equal(batch[1], &n[4]);
	assert_int_equal(eq_take(&q, batch), 0);
	assert_int_equal(eq_queued(&q), 0);
}

static void
test_same_key_waits_for_the_next_batch(void **state)
{
	struct exec_queue q = { 0 };
	struct eq_node n[4], *batch[EQ_READ_BATCH_MAX];

	(void)state;
	eq_push(&q, node(&n[0], EQ_WRITE, 2, "{a}"));
	eq_push(&q, node(&n[1], EQ_WRITE, 2, "{a}"));
	eq_push(&q, node(&n[2], EQ_WRITE, 2, "{b}"));
	eq_push(&q, node(&n[3], EQ_WRITE, 2, "{a}"));
	assert_int_equal(eq_take(&q, batch), 2);
	assert_ptr_equal(batch[0], &n[0]);
	assert_ptr_equal(batch[1], &n[2]);
	/* the second and the fourth, in order, one per batch */
	eq_batch_end(&q, EQ_WRITE);
	assert_int_equal(eq_take(&q, batch), 1);
	assert_ptr_equal(batch[0], &n[1]);
	eq_batch_end(&q, EQ_WRITE);
	assert_int_equal(eq_take(&q, batch), 1);
	assert_ptr_equal(batch[0], &n[3]);
}

static void
test_one_statement_per_batch(void **state)
{
	struct exec_queue q = { 0 };
	struct eq_node n[3], *batch[EQ_READ_BATCH_MAX];

	(void)state;
	eq_push(&q, node(&n[0], EQ_READ, 1, NULL));
	eq_push(&q, node(&n[1], EQ_READ, 7, NULL));
	eq_push(&q, node(&n[2], EQ_READ, 1, NULL));
	assert_int_equal(eq_take(&q, batch), 2);
	assert_ptr_equal(batch[1], &n[2]);
	assert_int_equal(eq_take(&q, batch), 1);
	assert_ptr_equal(batch[0], &n[1]);
}

static void
test_batch_sizes(void **state)
{
	static struct eq_node n[EQ_READ_BATCH_MAX + 1];
	static char keys[EQ_WRITE_BATCH_MAX + 1][8];
	struct exec_queue q = { 0 };
	struct eq_node *batch[EQ_READ_BATCH_MAX];
	int i;

	(void)state;
	for (i = 0; i <= EQ_READ_BATCH_MAX; i++)
		eq_push(&q, node(&n[i], EQ_READ, 1, NULL));
	assert_int_equal(eq_take(&q, batch), EQ_READ_BATCH_MAX);
	assert_int_equal(eq_take(&q, batch), 1);
	assert_ptr_equal(batch[0], &n[EQ_READ_BATCH_MAX]);
	for (i = 0; i <= EQ_WRITE_BATCH_MAX; i++) {
		snprintf(keys[i], sizeof(keys[i]), "{k%d}", i);
		eq_push(&q, node(&n[i], EQ_WRITE, 2, keys[i]));
	}
	assert_int_equal(eq_take(&q, batch), EQ_WRITE_BATCH_MAX);
	assert_int_equal(eq_take(&q, batch), 1);
}

static void
test_two_batches_per_kind(void **state)
{
	struct exec_queue q = { 0 };
	struct eq_node n[5], *batch[EQ_READ_BATCH_MAX];

	(void)state;
	eq_push(&q, node(&n[0], EQ_WRITE, 2, "{a}"));
	assert_int_equal(eq_take(&q, batch), 1);
	eq_push(&q, node(&n[1], EQ_WRITE, 2, "{b}"));
	assert_int_equal(eq_take(&q, batch), 1);
	/* two changes' batches run: the next ones wait and gather, while
	 * a read may still go */
	eq_push(&q, node(&n[2], EQ_WRITE, 2, "{c}"));
	eq_push(&q, node(&n[3], EQ_READ, 1, NULL));
	eq_push(&q, node(&n[4], EQ_WRITE, 2, "{d}"));
	assert_int_equal(eq_take(&q, batch), 1);
	assert_ptr_equal(batch[0], &n[3]);
	assert_int_equal(eq_take(&q, batch), 0);
	eq_batch_end(&q, EQ_WRITE);
	assert_int_equal(eq_take(&q, batch), 2);
	assert_ptr_equal(batch[0], &n[2]);
	assert_ptr_equal(batch[1], &n[4]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lone_when_nothing_of_its_kind),
		cmocka_unit_test(test_batch_is_one_kind_in_order),
		cmocka_unit_test(test_same_key_waits_for_the_next_batch),
		cmocka_unit_test(test_one_statement_per_batch),
		cmocka_unit_test(test_batch_sizes),
		cmocka_unit_test(test_two_batches_per_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

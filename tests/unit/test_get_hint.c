/*
 * test_get_hint.c - the version hints of lone gets (secretd/get_hint.c):
 * a path gets back only its own version, never another path's, and a
 * path that lost its slot gets no guess at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secretd/get_hint.h"

static void
test_store_lookup(void **state)
{
	(void)state;
	get_hint_clear();
	assert_int_equal(get_hint_lookup("{db,password}"), 0);
	get_hint_store("{db,password}", 3);
	assert_int_equal(get_hint_lookup("{db,password}"), 3);
	get_hint_store("{db,password}", 4);
	assert_int_equal(get_hint_lookup("{db,password}"), 4);
	assert_int_equal(get_hint_lookup("{db,passwor}"), 0);
	assert_int_equal(get_hint_lookup("{db}"), 0);
	get_hint_clear();
	assert_int_equal(get_hint_lookup("{db,password}"), 0);
}

/* Fill slots until "{a}" is evicted: the path that took its slot has
 * its own version, and "{a}" none. */
static void
test_eviction(void **state)
{
	char path[32];
	int i, evicted = 0;

	(void)state;
	get_hint_clear();
	get_hint_store("{a}", 7);
	for (i = 1; i <= 100000 && !evicted; i++) {
		snprintf(path, sizeof(path), "{p,%d}", i);
		get_hint_store(path, i);
		evicted = get_hint_lookup("{a}") == 0;
		if (!evicted)
			assert_int_equal(get_hint_lookup("{a}"), 7);
	}
	assert_true(evicted);
	assert_int_equal(get_hint_lookup(path), i - 1);
	get_hint_clear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_lookup),
		cmocka_unit_test(test_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

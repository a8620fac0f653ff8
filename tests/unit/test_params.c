/*
 * test_params.c - typed statement parameters (secretd/params.c):
 * integers in decimal, text copied (the caller's buffer may change or
 * go), NULL as SQL NULL, owned strings taken, bytea with its length and
 * the binary format, and a builder empty again after params_free.
 * (More than PARAMS_MAX parameters is fatal: not tested here.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secretd/params.h"

static void
test_ints(void **state)
{
	struct params p;

	(void)state;
	params_init(&p);
	params_int(&p, 0);
	params_int(&p, 42);
	params_int(&p, -7);
	params_int(&p, LLONG_MAX);
	params_int(&p, LLONG_MIN);
	assert_int_equal(p.n, 5);
	assert_string_equal(params_v(&p)[0], "0");
	assert_string_equal(params_v(&p)[1], "42");
	assert_string_equal(params_v(&p)[2], "-7");
	assert_string_equal(params_v(&p)[3], "9223372036854775807");
	assert_string_equal(params_v(&p)[4], "-9223372036854775808");
	/* all text: db_exec gets no lengths nor formats */
	assert_null(params_lengths(&p));
	assert_null(params_formats(&p));
	params_free(&p);
}

static void
test_text_copied(void **state)
{
	struct params p;
	char buf[16];

	(void)state;
	snprintf(buf, sizeof(buf), "%s", "prod/db");
	params_init(&p);
	params_text(&p, buf);
	params_text(&p, "");
	assert_ptr_not_equal(params_v(&p)[0], buf);
	memset(buf, 'x', sizeof(buf) - 1);
	assert_string_equal(params_v(&p)[0], "prod/db");
	assert_string_equal(params_v(&p)[1], "");
	params_free(&p);
}

static void
test_null(void **state)
{
	struct params p;

	(void)state;
	params_init(&p);
	params_null(&p);
	params_text(&p, NULL);		/* NULL text is SQL NULL too */
	params_int(&p, 1);
	assert_int_equal(p.n, 3);
	assert_null(params_v(&p)[0]);
	assert_null(params_v(&p)[1]);
	assert_string_equal(params_v(&p)[2], "1");
	params_free(&p);
}

static void
test_take(void **state)
{
	struct params p;
	char *s = strdup("{3,7}");

	(void)state;
	assert_non_null(s);
	params_init(&p);
	params_take(&p, s);
	params_take(&p, NULL);
	/* the very string, freed by params_free (ASan: no leak, no double
	 * free) */
	assert_ptr_equal(params_v(&p)[0], s);
	assert_null(params_v(&p)[1]);
	params_free(&p);
}

static void
test_bytea(void **state)
{
	static const unsigned char b[] = { 0x00, 0xff, 'a', 0x00 };
	struct params p;

	(void)state;
	params_init(&p);
	params_int(&p, 5);
	params_bytea(&p, b, sizeof(b));
	params_bytea(&p, b, 0);
	assert_int_equal(p.n, 3);
	assert_non_null(params_lengths(&p));
	assert_non_null(params_formats(&p));
	assert_int_equal(params_lengths(&p)[0], 0);
	assert_int_equal(params_formats(&p)[0], 0);
	assert_int_equal(params_lengths(&p)[1], (int)sizeof(b));
	assert_int_equal(params_formats(&p)[1], 1);
	assert_ptr_not_equal(params_v(&p)[1], (const char *)b);
	assert_memory_equal(params_v(&p)[1], b, sizeof(b));
	assert_int_equal(params_lengths(&p)[2], 0);
	assert_int_equal(params_formats(&p)[2], 1);
	assert_non_null(params_v(&p)[2]);	/* empty, not NULL */
	params_free(&p);
}

static void
test_free_resets(void **state)
{
	static const unsigned char b[] = { 1, 2, 3 };
	struct params p;
	int i;

	(void)state;
	params_init(&p);
	for (i = 0; i < PARAMS_MAX; i++)
		params_text(&p, "x");
	params_free(&p);
	assert_int_equal(p.n, 0);
	for (i = 0; i < PARAMS_MAX; i++) {
		assert_null(p.v[i]);
		assert_null(p.own[i]);
	}
	/* reusable without params_init, and all text again */
	params_bytea(&p, b, sizeof(b));
	params_free(&p);
	params_int(&p, 9);
	assert_int_equal(p.n, 1);
	assert_string_equal(params_v(&p)[0], "9");
	assert_null(params_lengths(&p));
	params_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_text_copied),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_bytea),
		cmocka_unit_test(test_free_resets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

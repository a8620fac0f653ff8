/*
 * test_pg_array.c - PostgreSQL array literals (secretd/pg_array.c):
 * every element quoted, quotes and backslashes escaped so that no value
 * can end its element or start another, bytea in hex, and the literal
 * complete after every step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secretd/pg_array.h"

static void
test_empty(void **state)
{
	struct pg_array a;
	char *s;

	(void)state;
	pg_array_init(&a);
	assert_string_equal(pg_array_str(&a), "{}");
	s = pg_array_take(&a);
	assert_string_equal(s, "{}");
	assert_null(a.buf);
	free(s);
}

static void
test_text_escaped(void **state)
{
	struct pg_array a;

	(void)state;
	pg_array_init(&a);
	pg_array_text(&a, "db");
	assert_string_equal(pg_array_str(&a), "{\"db\"}");
	pg_array_text(&a, "a\"},{\"b\\");
	pg_array_text(&a, "");
	pg_array_text(&a, "NULL");
	assert_string_equal(pg_array_str(&a),
	    "{\"db\",\"a\\\"},{\\\"b\\\\\",\"\",\"NULL\"}");
	assert_int_equal(a.n, 4);
	pg_array_free(&a);
}

static void
test_int_and_bytea(void **state)
{
	static const unsigned char b[] = { 0x00, 0x7f, 0xff, '"', '\\' };
	struct pg_array a;

	(void)state;
	pg_array_init(&a);
	pg_array_int(&a, -9223372036854775807LL - 1);
	pg_array_int(&a, 42);
	assert_string_equal(pg_array_str(&a), "{-9223372036854775808,42}");
	pg_array_free(&a);

	pg_array_init(&a);
	pg_array_bytea(&a, b, sizeof(b));
	pg_array_bytea(&a, b, 0);
	assert_string_equal(pg_array_str(&a),
	    "{\"\\\\x007fff225c\",\"\\\\x\"}");
	pg_array_free(&a);
}

/* A NULL element is the bare word; the text "NULL" stays quoted. */
static void
test_null(void **state)
{
	struct pg_array a;

	(void)state;
	pg_array_init(&a);
	pg_array_null(&a);
	pg_array_text(&a, "NULL");
	pg_array_null(&a);
	pg_array_int(&a, 7);
	assert_string_equal(pg_array_str(&a), "{NULL,\"NULL\",NULL,7}");
	assert_int_equal(a.n, 4);
	pg_array_free(&a);
}

/* Growing from the first 64 bytes keeps every element whole. */
static void
test_grows(void **state)
{
	struct pg_array a;
	char want[8192], *w = want;
	int i;

	(void)state;
	pg_array_init(&a);
	*w++ = '{';
	for (i = 0; i < 500; i++) {
		pg_array_text(&a, "x\"y");
		w += sprintf(w, "%s\"x\\\"y\"", i ? "," : "");
	}
	*w++ = '}';
	*w = '\0';
	assert_string_equal(pg_array_str(&a), want);
	assert_int_equal(a.len, strlen(want));
	pg_array_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_text_escaped),
		cmocka_unit_test(test_int_and_bytea),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

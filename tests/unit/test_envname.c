/*
 * test_envname.c - the documented rule that turns secret paths into
 * variable names, and which values an env file can hold (client/envname.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/envname.h"

static void
name_is(const char *want, int n, ...)
{
	const char *names[8];
	va_list ap;
	char *got;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		names[i] = va_arg(ap, const char *);
	va_end(ap);
	got = cli_env_name(names, n);
	assert_string_equal(got, want);
	assert_true(cli_env_name_valid(got));
	free(got);
}

static void
test_names(void **state)
{
	(void)state;
	name_is("DB_PASSWORD", 2, "db", "password");
	name_is("DB_PASSWORD", 1, "db-password");
	name_is("API_KEY", 1, "api.key");
	name_is("_1ST", 1, "1st");
	name_is("_9_LIVES", 2, "9", "lives");
	name_is("X1", 1, "x1");
	name_is("CAF_", 1, "caf\xc3\xa9");		/* one character, one '_' */
	name_is("___", 1, " \xe2\x82\xac ");	/* the euro sign: one '_' */
	name_is("A__B", 1, "a  b");
	name_is("_", 1, "-");
	name_is("A_B_C", 3, "a", "b", "c");
}

static void
test_valid(void **state)
{
	(void)state;
	assert_true(cli_env_name_valid("A"));
	assert_true(cli_env_name_valid("_1"));
	assert_true(cli_env_name_valid("lower_ok"));
	assert_false(cli_env_name_valid(""));
	assert_false(cli_env_name_valid("1A"));
	assert_false(cli_env_name_valid("A-B"));
	assert_false(cli_env_name_valid("A=B"));
	assert_false(cli_env_name_valid("\xc3\xa9"));
}

static void
test_values(void **state)
{
	(void)state;
	assert_null(cli_env_value_problem((const unsigned char *)"", 0));
	assert_null(cli_env_value_problem(
	    (const unsigned char *)"a b $X \"q\" `c` \\ ;*\t#", 21));
	assert_null(cli_env_value_problem((const unsigned char *)"h\xc3\xa9", 3));
	assert_string_equal(cli_env_value_problem(
	    (const unsigned char *)"it's", 4), "it holds a single quote");
	assert_string_equal(cli_env_value_problem(
	    (const unsigned char *)"a\nb", 3), "it holds a line break");
	assert_string_equal(cli_env_value_problem(
	    (const unsigned char *)"a\rb", 3), "it holds a line break");
	assert_string_equal(cli_env_value_problem(
	    (const unsigned char *)"a\0b", 3), "it holds a NUL byte");
	assert_string_equal(cli_env_value_problem(
	    (const unsigned char *)"a\x1b", 2), "it holds a control character");
	assert_string_equal(cli_env_value_problem(
	    (const unsigned char *)"a\x7f", 2), "it holds a control character");
	assert_string_equal(cli_env_value_problem(
	    (const unsigned char *)"\xff\xfe", 2), "it is not valid UTF-8");
	assert_string_equal(cli_env_value_problem(
	    (const unsigned char *)"\xc3", 1), "it is not valid UTF-8");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

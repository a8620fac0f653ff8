/*
 * test_schema_check.c - the applied migrations against the compiled-in
 * ones (secretd/schema_check.c): SHA-256 in lower-case hex (known
 * answers), and which state, naming which migration, for each way a
 * database can differ from the binary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "secretd/schema_check.h"

static const struct migration ms[] = {
	{ 1, "001_baseline", "CREATE TABLE a ();" },
	{ 14, "014_watch", "CREATE TABLE b ();" },
	{ 20, "020_more", "CREATE TABLE c ();" },
};
#define NMS	((int)(sizeof(ms) / sizeof(ms[0])))

static char sums[NMS][SCHEMA_CHECKSUM_LEN];

static int
setup(void **state)
{
	int i;

	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (i = 0; i < NMS; i++)
		schema_checksum(ms[i].sql, sums[i]);
	return 0;
}

static void
test_checksum_known_answers(void **state)
{
	char h[SCHEMA_CHECKSUM_LEN];

	(void)state;
	schema_checksum("", h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	schema_checksum("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(strlen(h), 64);
}

static void
test_all_applied(void **state)
{
	struct applied_migration a[] = {
		{ 20, "020_more", sums[2] },	/* any order */
		{ 1, "001_baseline", sums[0] },
		{ 14, "014_watch", sums[1] },
	};
	char why[512] = "x";

	(void)state;
	assert_int_equal(schema_compare(ms, NMS, a, 3, why, sizeof(why)),
	    SCHEMA_OK);
	assert_string_equal(why, "");
}

static void
test_pending(void **state)
{
	struct applied_migration a[] = {
		{ 1, "001_baseline", sums[0] },
		{ 20, "020_more", sums[2] },
	};
	char why[512];

	(void)state;
	assert_int_equal(schema_compare(ms, NMS, NULL, 0, why, sizeof(why)),
	    SCHEMA_PENDING);
	assert_string_equal(why, "the database schema is not up to date "
	    "(have 0, need 20)");
	assert_int_equal(schema_compare(ms, NMS, a, 1, why, sizeof(why)),
	    SCHEMA_PENDING);
	assert_string_equal(why, "the database schema is not up to date "
	    "(have 1, need 20)");
	/* the newest applied, but one before it missing */
	assert_int_equal(schema_compare(ms, NMS, a, 2, why, sizeof(why)),
	    SCHEMA_PENDING);
	assert_string_equal(why, "migration 14 (014_watch) is not applied");
}

static void
test_changed_text(void **state)
{
	char other[SCHEMA_CHECKSUM_LEN], want[1024];
	struct applied_migration a[] = {
		{ 1, "001_baseline", sums[0] },
		{ 14, "014_watch", other },
	};
	char why[512];

	(void)state;
	schema_checksum("CREATE TABLE b (x int);", other);
	assert_int_equal(schema_compare(ms, NMS, a, 2, why, sizeof(why)),
	    SCHEMA_CHANGED);
	snprintf(want, sizeof(want), "applied migration 14 (014_watch) has "
	    "changed: the database recorded checksum %s, and this secretd's "
	    "text of it has checksum %s", other, sums[1]);
	assert_string_equal(why, want);
	/* one digit off is enough */
	snprintf(other, sizeof(other), "%s", sums[1]);
	other[63] = other[63] == '0' ? '1' : '0';
	assert_int_equal(schema_compare(ms, NMS, a, 2, why, sizeof(why)),
	    SCHEMA_CHANGED);
	other[63] = sums[1][63];
	assert_int_equal(schema_compare(ms, NMS, a, 2, why, sizeof(why)),
	    SCHEMA_PENDING);
}

static void
test_changed_name_or_none(void **state)
{
	struct applied_migration a[] = {
		{ 1, "001_core", sums[0] },
	};
	struct applied_migration b[] = {
		{ 1, "001_baseline", NULL },
	};
	char why[512], want[1024];

	(void)state;
	assert_int_equal(schema_compare(ms, NMS, a, 1, why, sizeof(why)),
	    SCHEMA_CHANGED);
	snprintf(want, sizeof(want), "applied migration 1 is 001_core "
	    "(checksum %s) in the database, and 001_baseline (checksum %s) "
	    "in this secretd", sums[0], sums[0]);
	assert_string_equal(why, want);
	assert_int_equal(schema_compare(ms, NMS, b, 1, why, sizeof(why)),
	    SCHEMA_CHANGED);
	snprintf(want, sizeof(want), "applied migration 1 (001_baseline) has "
	    "changed: the database recorded checksum none, and this "
	    "secretd's text of it has checksum %s", sums[0]);
	assert_string_equal(why, want);
}

static void
test_unknown(void **state)
{
	struct applied_migration a[] = {
		{ 1, "001_baseline", sums[0] },
		{ 14, "014_watch", sums[1] },
		{ 20, "020_more", sums[2] },
		{ 21, "021_future", sums[2] },
	};
	char why[512];

	(void)state;
	assert_int_equal(schema_compare(ms, NMS, a, 4, why, sizeof(why)),
	    SCHEMA_UNKNOWN);
	assert_string_equal(why, "the database has migration 21 "
	    "(021_future), which this secretd does not know: a newer secretd "
	    "migrated it");
}

/* A changed or unknown one is named before a pending one (migrate cannot
 * fix it), and of several, the lowest version. */
static void
test_first_problem(void **state)
{
	char x[SCHEMA_CHECKSUM_LEN];
	struct applied_migration a[] = {
		{ 30, "030_future", sums[0] },
		{ 14, "014_watch", x },
	};
	char why[512];

	(void)state;
	schema_checksum("other", x);
	assert_int_equal(schema_compare(ms, NMS, a, 2, why, sizeof(why)),
	    SCHEMA_CHANGED);
	assert_non_null(strstr(why, "migration 14 (014_watch) has changed"));
	a[1].checksum = sums[1];
	assert_int_equal(schema_compare(ms, NMS, a, 2, why, sizeof(why)),
	    SCHEMA_UNKNOWN);
	assert_non_null(strstr(why, "migration 30 (030_future)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_known_answers),
		cmocka_unit_test(test_all_applied),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_changed_text),
		cmocka_unit_test(test_changed_name_or_none),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_first_problem),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

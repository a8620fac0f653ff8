/*
 * test_path.c - unit tests for lib/path.c: the name rules, the "a/b/c"
 * form, the JSON form and the conversions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "path.h"

static void
expect_parse_ok(const char *s, int n, const char *const *names)
{
	struct sd_path p;
	const char *why = NULL;
	int i;

	assert_int_equal(path_parse(s, &p, &why), 0);
	assert_int_equal(p.n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(p.name[i], names[i]);
	path_free(&p);
	assert_int_equal(p.n, 0);
}

static void
expect_parse_bad(const char *s, const char *want_why)
{
	struct sd_path p;
	const char *why = NULL;

	assert_int_equal(path_parse(s, &p, &why), SD_EBADREQ);
	assert_int_equal(p.n, 0);
	assert_non_null(why);
	if (want_why != NULL)
		assert_string_equal(why, want_why);
	path_free(&p);
}

/* Build "a/a/.../a" with n names. */
static char *
deep(int n)
{
	char *s = malloc((size_t)n * 2 + 1);
	int i;

	for (i = 0; i < n; i++) {
		s[2 * i] = 'a';
		s[2 * i + 1] = '/';
	}
	s[n > 0 ? 2 * n - 1 : 0] = '\0';
	return s;
}

static void
test_name_valid(void **state)
{
	char name[300];

	(void)state;
	assert_true(path_name_valid("a", 1));
	assert_true(path_name_valid("db password", 11));
	assert_true(path_name_valid("...", 3));
	assert_true(path_name_valid(".hidden", 7));
	assert_true(path_name_valid("a/b", 3));	/* only JSON can say it */
	assert_true(path_name_valid("caf\xc3\xa9", 5));		/* é */
	assert_true(path_name_valid("\xe2\x82\xac", 3));		/* € */
	assert_true(path_name_valid("\xf0\x9f\x94\x91", 4));	/* U+1F511 */
	assert_true(path_name_valid("\xc2\xa0", 2));		/* U+00A0 */
	assert_true(path_name_valid("\xf4\x8f\xbf\xbf", 4));	/* U+10FFFF */

	assert_false(path_name_valid("", 0));
	assert_false(path_name_valid(".", 1));
	assert_false(path_name_valid("..", 2));
	assert_false(path_name_valid("a\0b", 3));
	assert_false(path_name_valid("a\nb", 3));
	assert_false(path_name_valid("\t", 1));
	assert_false(path_name_valid("\x1f", 1));
	assert_false(path_name_valid("a\x7f", 2));
	assert_false(path_name_valid("\xc2\x80", 2));		/* U+0080 */
	assert_false(path_name_valid("x\xc2\x85y", 4));		/* NEL */
	assert_false(path_name_valid("\xc2\x9f", 2));		/* U+009F */
	assert_false(path_name_valid("\xc0\xae", 2));		/* overlong . */
	assert_false(path_name_valid("\xc0\xaf", 2));		/* overlong / */
	assert_false(path_name_valid("\xe0\x80\xaf", 3));	/* overlong / */
	assert_false(path_name_valid("\xf0\x80\x80\xaf", 4));	/* overlong / */
	assert_false(path_name_valid("\xed\xa0\x80", 3));	/* U+D800 */
	assert_false(path_name_valid("\xed\xbf\xbf", 3));	/* U+DFFF */
	assert_false(path_name_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(path_name_valid("\xf8\x88\x80\x80\x80", 5));
	assert_false(path_name_valid("\xff", 1));
	assert_false(path_name_valid("\x80", 1));		/* lone cont. */
	assert_false(path_name_valid("\xc3", 1));		/* truncated */
	assert_false(path_name_valid("\xe2\x82", 2));		/* truncated */
	assert_false(path_name_valid(NULL, 0));

	memset(name, 'x', sizeof(name));
	assert_true(path_name_valid(name, 255));
	assert_false(path_name_valid(name, 256));
	/* 255 bytes ending in a 2-byte character. */
	name[253] = '\xc3';
	name[254] = '\xa9';
	assert_true(path_name_valid(name, 255));
	/* ... cut in the middle of it. */
	assert_false(path_name_valid(name, 254));
}

static void
test_parse_basic(void **state)
{
	static const char *const abc[] = { "a", "b", "c" };
	static const char *const one[] = { "prod" };
	static const char *const sp[] = { "my db", "pass word" };

	(void)state;
	expect_parse_ok("", 0, NULL);
	expect_parse_ok("/", 0, NULL);
	expect_parse_ok("a/b/c", 3, abc);
	expect_parse_ok("/a/b/c", 3, abc);
	expect_parse_ok("a/b/c/", 3, abc);
	expect_parse_ok("/a/b/c/", 3, abc);
	expect_parse_ok("prod", 1, one);
	expect_parse_ok("/prod/", 1, one);
	expect_parse_ok("my db/pass word", 2, sp);
}

static void
test_parse_bad(void **state)
{
	char name[300];

	(void)state;
	expect_parse_bad("//", "empty name in path");
	expect_parse_bad("a//b", "empty name in path");
	expect_parse_bad("//a", "empty name in path");
	expect_parse_bad("a//", "empty name in path");
	expect_parse_bad("/a/b//", "empty name in path");
	expect_parse_bad(".", "name must not be . or ..");
	expect_parse_bad("..", "name must not be . or ..");
	expect_parse_bad("a/./b", "name must not be . or ..");
	expect_parse_bad("a/../b", "name must not be . or ..");
	expect_parse_bad("/..", "name must not be . or ..");
	expect_parse_bad("a/b\nc", "control character in name");
	expect_parse_bad("a\rb", "control character in name");
	expect_parse_bad("\x1b[31m", "control character in name");
	expect_parse_bad("a\x7f", "control character in name");
	expect_parse_bad("a/\xc2\x85", "control character in name");
	expect_parse_bad("a/\xc0\xaf", "name is not valid UTF-8");
	expect_parse_bad("\xed\xa0\x80", "name is not valid UTF-8");
	expect_parse_bad("\xf4\x90\x80\x80", "name is not valid UTF-8");
	expect_parse_bad("\xfe", "name is not valid UTF-8");
	expect_parse_bad(NULL, "missing path");

	/* 255-byte name accepted, 256 rejected. */
	memset(name, 'n', sizeof(name));
	name[255] = '\0';
	{
		struct sd_path p;
		const char *why;

		assert_int_equal(path_parse(name, &p, &why), 0);
		assert_int_equal(p.n, 1);
		assert_int_equal(strlen(p.name[0]), 255);
		path_free(&p);
	}
	name[255] = 'n';
	name[256] = '\0';
	expect_parse_bad(name, "name longer than 255 bytes");
}

static void
test_parse_depth(void **state)
{
	struct sd_path p;
	const char *why = NULL;
	char *s, buf[200];
	int i;

	(void)state;
	s = deep(32);
	assert_int_equal(path_parse(s, &p, &why), 0);
	assert_int_equal(p.n, 32);
	for (i = 0; i < 32; i++)
		assert_string_equal(p.name[i], "a");
	path_free(&p);
	/* With leading and trailing slash still 32. */
	snprintf(buf, sizeof(buf), "/%s/", s);
	assert_int_equal(path_parse(buf, &p, &why), 0);
	assert_int_equal(p.n, 32);
	path_free(&p);
	free(s);

	s = deep(33);
	expect_parse_bad(s, "path deeper than 32 levels");
	free(s);
	s = deep(1000);
	expect_parse_bad(s, "path deeper than 32 levels");
	free(s);
}

static json_t *
jpath(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

	assert_non_null(j);
	return j;
}

static void
expect_json(const char *text, int want_rc, const char *want_why, int want_n)
{
	json_t *j = jpath(text);
	struct sd_path p;
	const char *why = NULL;

	assert_int_equal(path_from_json(j, &p, &why), want_rc);
	assert_int_equal(p.n, want_n);
	if (want_why != NULL) {
		assert_non_null(why);
		assert_string_equal(why, want_why);
	}
	path_free(&p);
	json_decref(j);
}

static void
test_from_json(void **state)
{
	struct sd_path p;
	const char *why;
	json_t *arr;
	int i;

	(void)state;
	expect_json("[]", 0, NULL, 0);
	expect_json("[\"prod\",\"db\",\"password\"]", 0, NULL, 3);
	expect_json("[\"a/b\",\"c\"]", 0, NULL, 2);	/* '/' in a name */
	expect_json("[\"caf\\u00e9\"]", 0, NULL, 1);
	expect_json("\"a/b\"", SD_EBADREQ, "path must be an array of strings", 0);
	expect_json("{}", SD_EBADREQ, "path must be an array of strings", 0);
	expect_json("null", SD_EBADREQ, "path must be an array of strings", 0);
	expect_json("[\"a\",1]", SD_EBADREQ, "path must be an array of strings", 0);
	expect_json("[\"a\",[\"b\"]]", SD_EBADREQ,
	    "path must be an array of strings", 0);
	expect_json("[\"a\",\"\"]", SD_EBADREQ, "empty name in path", 0);
	expect_json("[\".\"]", SD_EBADREQ, "name must not be . or ..", 0);
	expect_json("[\"..\"]", SD_EBADREQ, "name must not be . or ..", 0);
	expect_json("[\"a\\u0000b\"]", SD_EBADREQ, "NUL in name", 0);
	expect_json("[\"a\\nb\"]", SD_EBADREQ, "control character in name", 0);
	expect_json("[\"\\u0085\"]", SD_EBADREQ, "control character in name", 0);
	expect_json("[\"\\u007f\"]", SD_EBADREQ, "control character in name", 0);
	assert_int_equal(path_from_json(NULL, &p, &why), SD_EBADREQ);

	/* 32 accepted, 33 rejected. */
	arr = json_array();
	for (i = 0; i < 32; i++)
		json_array_append_new(arr, json_string("x"));
	assert_int_equal(path_from_json(arr, &p, &why), 0);
	assert_int_equal(p.n, 32);
	path_free(&p);
	json_array_append_new(arr, json_string("x"));
	why = NULL;
	assert_int_equal(path_from_json(arr, &p, &why), SD_EBADREQ);
	assert_string_equal(why, "path deeper than 32 levels");
	assert_int_equal(p.n, 0);
	json_decref(arr);

	/* A bad element after good ones leaves nothing allocated. */
	arr = jpath("[\"a\",\"b\",\"..\"]");
	assert_int_equal(path_from_json(arr, &p, &why), SD_EBADREQ);
	assert_int_equal(p.n, 0);
	json_decref(arr);

	/* 256-byte name. */
	{
		char name[257];

		memset(name, 'y', 256);
		name[256] = '\0';
		arr = json_array();
		json_array_append_new(arr, json_string(name));
		assert_int_equal(path_from_json(arr, &p, &why), SD_EBADREQ);
		assert_string_equal(why, "name longer than 255 bytes");
		json_decref(arr);
	}
}

static void
test_conversions(void **state)
{
	struct sd_path p, q;
	const char *why;
	json_t *j;
	char *s, *dump;

	(void)state;
	assert_int_equal(path_parse("/prod/db/password", &p, &why), 0);
	s = path_to_string(&p);
	assert_string_equal(s, "prod/db/password");
	free(s);
	j = path_to_json(&p);
	dump = json_dumps(j, JSON_COMPACT);
	assert_string_equal(dump, "[\"prod\",\"db\",\"password\"]");
	free(dump);

	/* JSON round trip. */
	assert_int_equal(path_from_json(j, &q, &why), 0);
	assert_int_equal(q.n, 3);
	assert_string_equal(q.name[2], "password");
	path_free(&q);
	json_decref(j);

	/* Deep copy is independent. */
	path_copy(&q, &p);
	assert_int_equal(q.n, 3);
	assert_ptr_not_equal(q.name[0], p.name[0]);
	assert_string_equal(q.name[0], "prod");
	path_free(&p);
	assert_string_equal(q.name[1], "db");
	path_free(&q);
	path_free(&q);	/* idempotent */

	/* Root. */
	assert_int_equal(path_parse("", &p, &why), 0);
	s = path_to_string(&p);
	assert_string_equal(s, "");
	free(s);
	j = path_to_json(&p);
	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	path_free(&p);
	path_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_from_json),
		cmocka_unit_test(test_conversions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

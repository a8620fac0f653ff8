/*
 * test_proto.c - unit tests for lib/proto.c (strict parsing, compact
 * dumping, typed getters, values, UTF-8), plus the small shared modules
 * it stands on: err.c (the code table), log.c (line format, control
 * characters, truncation) and xmalloc.c (the wiping jansson allocator).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "err.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

#define S(x) (x), (sizeof(x) - 1)

static json_t *
parse_ok(const char *s)
{
	const char *why = NULL;
	json_t *o = proto_parse(s, strlen(s), &why);

	assert_non_null(o);
	assert_true(json_is_object(o));
	return o;
}

static void
expect_parse_bad(const char *s, size_t len, const char *want_why)
{
	const char *why = NULL;

	assert_null(proto_parse(s, len, &why));
	assert_non_null(why);
	assert_string_equal(why, want_why);
}

static void
test_parse(void **state)
{
	json_t *o;

	(void)state;
	o = parse_ok("{\"id\":1,\"action\":\"secret.get\",\"path\":[\"a\"]}");
	assert_int_equal(json_object_size(o), 3);
	json_decref(o);
	json_decref(parse_ok("{}"));
	json_decref(parse_ok("  {\"a\":{\"b\":[1,2,{\"c\":null}]}}  \r"));
	json_decref(parse_ok("{\"k\":\"caf\xc3\xa9 \\u20ac \xf0\x9f\x94\x91\"}"));

	expect_parse_bad(S(""), "malformed JSON");
	expect_parse_bad(S("   "), "malformed JSON");
	expect_parse_bad(S("{"), "malformed JSON");
	expect_parse_bad(S("{\"a\":}"), "malformed JSON");
	expect_parse_bad(S("{'a':1}"), "malformed JSON");
	expect_parse_bad(S("{\"a\":1,}"), "malformed JSON");
	expect_parse_bad(S("{\"a\":\"\\ud800\"}"), "malformed JSON");
	expect_parse_bad(S("[]"), "not an object");
	expect_parse_bad(S("[{\"a\":1}]"), "not an object");
	expect_parse_bad(S("1"), "not an object");
	expect_parse_bad(S("\"str\""), "not an object");
	expect_parse_bad(S("null"), "not an object");
	expect_parse_bad(S("true"), "not an object");
	expect_parse_bad(S("{\"a\":1,\"a\":2}"), "duplicate key");
	expect_parse_bad(S("{\"x\":{\"a\":1,\"a\":1}}"), "duplicate key");
	expect_parse_bad(S("{} x"), "trailing data after object");
	expect_parse_bad(S("{}{}"), "trailing data after object");
	expect_parse_bad(S("{}\n{}"), "trailing data after object");
	expect_parse_bad(S("{\"a\":\"\\u0000\"}"), "NUL in string");
	expect_parse_bad(S("{\"a\\u0000b\":1}"), "NUL in string");
	expect_parse_bad(S("{\"a\":\"x\0y\"}"), "NUL in line");
	expect_parse_bad(S("{}\0"), "NUL in line");
	expect_parse_bad(S("{\"a\":\"\xc0\xaf\"}"), "invalid UTF-8");
	expect_parse_bad(S("{\"a\":\"\xed\xa0\x80\"}"), "invalid UTF-8");
	expect_parse_bad(S("{\"a\":\"\xf4\x90\x80\x80\"}"), "invalid UTF-8");
	expect_parse_bad(S("{\"\xff\":1}"), "invalid UTF-8");
	expect_parse_bad(S("{\"a\":1e999}"), "number out of range");
	expect_parse_bad(S("{\"a\":99999999999999999999}"),
	    "number out of range");
	/* Only len bytes count. */
	{
		const char *why;
		json_t *o2 = proto_parse("{\"a\":1} trailing", 7, &why);

		assert_non_null(o2);
		json_decref(o2);
	}
	/* Nesting beyond jansson's depth limit fails cleanly. */
	{
		char *deep = malloc(20001);

		memset(deep, '[', 10000);
		deep[0] = '{';
		memset(deep + 10000, ']', 10000);
		deep[20000] = '\0';
		assert_null(proto_parse(deep, 20000, NULL));
		free(deep);
	}
	assert_null(proto_parse(NULL, 0, NULL));
}

static void
test_dump(void **state)
{
	json_t *o;
	char *s;
	size_t len;

	(void)state;
	o = json_pack("{s:i,s:b,s:s,s:[s,s]}", "id", 7, "ok", 1, "value",
	    "line1\nline2\t\"q\" caf\xc3\xa9", "path", "a", "b");
	s = proto_dump(o, &len);
	assert_non_null(s);
	assert_string_equal(s, "{\"id\":7,\"ok\":true,\"value\":"
	    "\"line1\\nline2\\t\\\"q\\\" caf\xc3\xa9\",\"path\":[\"a\",\"b\"]}\n");
	assert_int_equal(len, strlen(s));
	assert_int_equal(memchr(s, '\n', len), s + len - 1);
	freezero(s, len);
	json_decref(o);

	/* Large value: the buffer grows through many steps. */
	{
		char *big = malloc(300001);
		json_t *back;
		const char *why;

		memset(big, 'v', 300000);
		big[300000] = '\0';
		o = json_pack("{s:s}", "value", big);
		s = proto_dump(o, &len);
		assert_int_equal(len, 300000 + 12 + 1);
		back = proto_parse(s, len - 1, &why);
		assert_non_null(back);
		assert_true(json_equal(o, back));
		json_decref(back);
		freezero(s, len);
		json_decref(o);
		free(big);
	}

	o = json_array();
	assert_null(proto_dump(o, &len));
	assert_int_equal(len, 0);
	json_decref(o);
	assert_null(proto_dump(NULL, &len));
}

static void
expect_dump(json_t *o, const char *want)
{
	size_t len;
	char *s = proto_dump(o, &len);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	json_decref(o);
}

static void
test_replies(void **state)
{
	json_t *id;

	(void)state;
	id = json_integer(1);
	expect_dump(proto_error(id, SD_EPERM, "no access to prod/db"),
	    "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"permission_denied\","
	    "\"message\":\"no access to prod/db\"}}\n");
	expect_dump(proto_ok(id), "{\"id\":1,\"ok\":true}\n");
	json_decref(id);

	id = json_pack("{s:[i,s]}", "x", 1, "y");
	expect_dump(proto_ok(id), "{\"id\":{\"x\":[1,\"y\"]},\"ok\":true}\n");
	json_decref(id);
	expect_dump(proto_ok(json_null()), "{\"id\":null,\"ok\":true}\n");

	expect_dump(proto_ok(NULL), "{\"ok\":true}\n");
	expect_dump(proto_error(NULL, SD_ETOOLARGE, "line too long"),
	    "{\"ok\":false,\"error\":{\"code\":\"too_large\","
	    "\"message\":\"line too long\"}}\n");
	expect_dump(proto_error(NULL, SD_ENOTFOUND, NULL),
	    "{\"ok\":false,\"error\":{\"code\":\"not_found\","
	    "\"message\":\"not_found\"}}\n");
	expect_dump(proto_error(NULL, -99, "x"),
	    "{\"ok\":false,\"error\":{\"code\":\"internal\","
	    "\"message\":\"x\"}}\n");
	/* A message that is not UTF-8 does not break the reply. */
	expect_dump(proto_error(NULL, SD_EINTERNAL, "bad \xff"),
	    "{\"ok\":false,\"error\":{\"code\":\"internal\","
	    "\"message\":\"invalid error message\"}}\n");
}

static void
test_get_string(void **state)
{
	json_t *o = parse_ok("{\"action\":\"whoami\",\"n\":1,\"nul\":null}");
	const char *out = "untouched", *why = NULL;

	(void)state;
	assert_int_equal(proto_get_string(o, "action", 1, &out, &why), 0);
	assert_string_equal(out, "whoami");
	out = "untouched";
	assert_int_equal(proto_get_string(o, "missing", 0, &out, &why), 0);
	assert_string_equal(out, "untouched");
	assert_int_equal(proto_get_string(o, "missing", 1, &out, &why),
	    SD_EBADREQ);
	assert_string_equal(why, "field 'missing' missing");
	assert_int_equal(proto_get_string(o, "n", 1, &out, &why), SD_EBADREQ);
	assert_string_equal(why, "field 'n' must be a string");
	/* null is the wrong type, not absence. */
	assert_int_equal(proto_get_string(o, "nul", 0, &out, &why), SD_EBADREQ);
	assert_string_equal(why, "field 'nul' must be a string");
	json_decref(o);

	/* A string with NUL built by code (not by the parser). */
	o = json_object();
	json_object_set_new(o, "s", json_stringn("a\0b", 3));
	assert_int_equal(proto_get_string(o, "s", 1, &out, &why), SD_EBADREQ);
	assert_string_equal(why, "field 's' contains NUL");
	json_decref(o);

	o = json_array();
	assert_int_equal(proto_get_string(o, "s", 1, &out, &why), SD_EBADREQ);
	assert_string_equal(why, "not an object");
	json_decref(o);
}

static void
test_get_int(void **state)
{
	json_t *o = parse_ok("{\"v\":3,\"neg\":-5,\"r\":3.0,\"s\":\"3\","
	    "\"b\":true,\"big\":9223372036854775807,\"z\":0}");
	long long out = 42;
	const char *why = NULL;

	(void)state;
	assert_int_equal(proto_get_int(o, "v", 1, 0, 10, &out, &why), 0);
	assert_int_equal(out, 3);
	assert_int_equal(proto_get_int(o, "v", 1, 3, 3, &out, &why), 0);
	assert_int_equal(proto_get_int(o, "neg", 1, -5, 0, &out, &why), 0);
	assert_int_equal(out, -5);
	assert_int_equal(proto_get_int(o, "z", 1, 0, 0, &out, &why), 0);
	assert_int_equal(out, 0);
	assert_int_equal(proto_get_int(o, "big", 1, 0, INT64_MAX, &out, &why),
	    0);
	assert_true(out == INT64_MAX);

	out = 42;
	assert_int_equal(proto_get_int(o, "v", 1, 4, 10, &out, &why),
	    SD_EBADREQ);
	assert_string_equal(why, "field 'v' out of range");
	assert_int_equal(proto_get_int(o, "v", 1, 0, 2, &out, &why),
	    SD_EBADREQ);
	assert_int_equal(proto_get_int(o, "neg", 1, 0, 10, &out, &why),
	    SD_EBADREQ);
	assert_int_equal(proto_get_int(o, "big", 1, 0, INT32_MAX, &out, &why),
	    SD_EBADREQ);
	assert_int_equal(proto_get_int(o, "r", 1, 0, 10, &out, &why),
	    SD_EBADREQ);
	assert_string_equal(why, "field 'r' must be an integer");
	assert_int_equal(proto_get_int(o, "s", 1, 0, 10, &out, &why),
	    SD_EBADREQ);
	assert_int_equal(proto_get_int(o, "b", 1, 0, 10, &out, &why),
	    SD_EBADREQ);
	assert_int_equal(proto_get_int(o, "x", 1, 0, 10, &out, &why),
	    SD_EBADREQ);
	assert_string_equal(why, "field 'x' missing");
	assert_int_equal(proto_get_int(o, "x", 0, 0, 10, &out, &why), 0);
	assert_int_equal(out, 42);	/* untouched by every failure above */
	json_decref(o);
}

static void
test_get_bool(void **state)
{
	json_t *o = parse_ok("{\"t\":true,\"f\":false,\"i\":1,\"s\":\"true\"}");
	int out = 7;
	const char *why = NULL;

	(void)state;
	assert_int_equal(proto_get_bool(o, "t", 1, &out, &why), 0);
	assert_int_equal(out, 1);
	assert_int_equal(proto_get_bool(o, "f", 1, &out, &why), 0);
	assert_int_equal(out, 0);
	out = 7;
	assert_int_equal(proto_get_bool(o, "i", 1, &out, &why), SD_EBADREQ);
	assert_string_equal(why, "field 'i' must be a boolean");
	assert_int_equal(proto_get_bool(o, "s", 0, &out, &why), SD_EBADREQ);
	assert_int_equal(proto_get_bool(o, "x", 1, &out, &why), SD_EBADREQ);
	assert_string_equal(why, "field 'x' missing");
	assert_int_equal(proto_get_bool(o, "x", 0, &out, &why), 0);
	assert_int_equal(out, 7);
	json_decref(o);
}

/* proto_get_value on the given line with max; returns rc. */
static int
get_value(const char *line, size_t max, unsigned char **out, size_t *len,
    const char **why)
{
	json_t *o = parse_ok(line);
	int r = proto_get_value(o, max, out, len, why);

	json_decref(o);
	return r;
}

static void
want_value(const char *line, size_t max, const char *want, size_t wantlen)
{
	unsigned char *out = NULL;
	size_t len = 99;
	const char *why = NULL;

	assert_int_equal(get_value(line, max, &out, &len, &why), 0);
	assert_non_null(out);
	assert_int_equal(len, wantlen);
	assert_memory_equal(out, want, wantlen);
	freezero(out, len);
}

static void
want_value_bad(const char *line, size_t max, int rc, const char *want_why)
{
	unsigned char *out = (unsigned char *)"x";
	size_t len = 99;
	const char *why = NULL;

	assert_int_equal(get_value(line, max, &out, &len, &why), rc);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_non_null(why);
	assert_string_equal(why, want_why);
}

static void
test_get_value(void **state)
{
	(void)state;
	want_value("{\"value\":\"hunter2\"}", 64, "hunter2", 7);
	want_value("{\"value\":\"\"}", 64, "", 0);
	want_value("{\"value\":\"caf\\u00e9\"}", 64, "caf\xc3\xa9", 5);
	want_value("{\"value_base64\":\"aHVudGVyMg==\"}", 64, "hunter2", 7);
	want_value("{\"value_base64\":\"AAEC/w==\"}", 64, "\0\1\2\xff", 4);
	want_value("{\"value_base64\":\"AAECAw==\"}", 4, "\0\1\2\3", 4);
	want_value("{\"value_base64\":\"AAEC\"}", 3, "\0\1\2", 3);
	want_value("{\"value_base64\":\"AAE=\"}", 2, "\0\1", 2);
	want_value("{\"value_base64\":\"\"}", 0, "", 0);
	/* Exactly max bytes is fine. */
	want_value("{\"value\":\"0123456789\"}", 10, "0123456789", 10);

	want_value_bad("{\"value\":\"a\",\"value_base64\":\"YQ==\"}", 64,
	    SD_EBADREQ, "value and value_base64 are exclusive");
	want_value_bad("{\"value\":null,\"value_base64\":null}", 64,
	    SD_EBADREQ, "value and value_base64 are exclusive");
	want_value_bad("{}", 64, SD_EBADREQ, "value missing");
	want_value_bad("{\"Value\":\"x\"}", 64, SD_EBADREQ, "value missing");
	want_value_bad("{\"value\":1}", 64, SD_EBADREQ,
	    "value must be a string");
	want_value_bad("{\"value\":[\"a\"]}", 64, SD_EBADREQ,
	    "value must be a string");
	want_value_bad("{\"value_base64\":true}", 64, SD_EBADREQ,
	    "value_base64 must be a string");
	want_value_bad("{\"value\":\"01234567890\"}", 10, SD_ETOOLARGE,
	    "value larger than 10 bytes");
	/* 12 decoded bytes, max 11: refused before decoding. */
	want_value_bad("{\"value_base64\":\"AAAAAAAAAAAAAAAA\"}", 11,
	    SD_ETOOLARGE, "value larger than 11 bytes");
	want_value_bad("{\"value_base64\":\"AAECAw==\"}", 3, SD_ETOOLARGE,
	    "value larger than 3 bytes");
	want_value_bad("{\"value_base64\":\"AAEC\"}", 2, SD_ETOOLARGE,
	    "value larger than 2 bytes");
	/* Strict base64. */
	want_value_bad("{\"value_base64\":\"aHVudGVyMg\"}", 64, SD_EBADREQ,
	    "value_base64 is not valid base64");
	want_value_bad("{\"value_base64\":\"aHVu dGVyMg==\"}", 64,
	    SD_EBADREQ, "value_base64 is not valid base64");
	want_value_bad("{\"value_base64\":\"aHVudGVy\\nMg==\"}", 64,
	    SD_EBADREQ, "value_base64 is not valid base64");
	want_value_bad("{\"value_base64\":\"aHVudGVyMg=A\"}", 64, SD_EBADREQ,
	    "value_base64 is not valid base64");
	want_value_bad("{\"value_base64\":\"aHVudGVy_g==\"}", 64, SD_EBADREQ,
	    "value_base64 is not valid base64");
	want_value_bad("{\"value_base64\":\"aHVudGVyMh==\"}", 64, SD_EBADREQ,
	    "value_base64 is not valid base64");	/* trailing bits */
	want_value_bad("{\"value_base64\":\"====\"}", 64, SD_EBADREQ,
	    "value_base64 is not valid base64");
	want_value_bad("{\"value_base64\":\"A===\"}", 64, SD_EBADREQ,
	    "value_base64 is not valid base64");

	/* NUL inside a string built by code. */
	{
		json_t *o = json_object();
		unsigned char *out;
		size_t len;
		const char *why;

		json_object_set_new(o, "value", json_stringn("a\0b", 3));
		assert_int_equal(proto_get_value(o, 64, &out, &len, &why),
		    SD_EBADREQ);
		assert_null(out);
		json_decref(o);
	}
}

static void
test_set_value(void **state)
{
	json_t *o;

	(void)state;
	o = json_object();
	proto_set_value(o, (const unsigned char *)"hunter2", 7);
	expect_dump(o, "{\"value\":\"hunter2\"}\n");

	o = json_object();
	proto_set_value(o, (const unsigned char *)"", 0);
	expect_dump(o, "{\"value\":\"\"}\n");

	o = json_object();
	proto_set_value(o, (const unsigned char *)"a\0b", 3);
	expect_dump(o, "{\"value_base64\":\"YQBi\"}\n");

	o = json_object();
	proto_set_value(o, (const unsigned char *)"\xff\xfe", 2);
	expect_dump(o, "{\"value_base64\":\"//4=\"}\n");

	o = json_object();
	proto_set_value(o, (const unsigned char *)"\xc0\xaf", 2);
	expect_dump(o, "{\"value_base64\":\"wK8=\"}\n");

	/* Control characters are valid UTF-8 and stay a string. */
	o = json_object();
	proto_set_value(o, (const unsigned char *)"l1\nl2", 5);
	expect_dump(o, "{\"value\":\"l1\\nl2\"}\n");

	/* Replacing one form by the other leaves a single key. */
	o = json_object();
	proto_set_value(o, (const unsigned char *)"\x01\x80", 2);
	proto_set_value(o, (const unsigned char *)"text", 4);
	expect_dump(o, "{\"value\":\"text\"}\n");
	o = json_object();
	proto_set_value(o, (const unsigned char *)"text", 4);
	proto_set_value(o, (const unsigned char *)"\x80", 1);
	expect_dump(o, "{\"value_base64\":\"gA==\"}\n");

	/* Round trip of all 256 byte values through get_value. */
	{
		unsigned char bytes[256], *out;
		size_t len, i;
		const char *why;

		for (i = 0; i < 256; i++)
			bytes[i] = (unsigned char)i;
		o = json_object();
		proto_set_value(o, bytes, sizeof(bytes));
		assert_non_null(json_object_get(o, "value_base64"));
		assert_int_equal(proto_get_value(o, 256, &out, &len, &why), 0);
		assert_int_equal(len, 256);
		assert_memory_equal(out, bytes, 256);
		freezero(out, len);
		json_decref(o);
	}
}

#define U(x) ((const unsigned char *)(x))

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(utf8_valid_nonul(U(""), 0));
	assert_true(utf8_valid_nonul(NULL, 0));
	assert_true(utf8_valid_nonul(U("plain ascii \x7f\x01"), 14));
	assert_true(utf8_valid_nonul(U("\xc2\x80"), 2));	/* U+0080 */
	assert_true(utf8_valid_nonul(U("\xdf\xbf"), 2));	/* U+07FF */
	assert_true(utf8_valid_nonul(U("\xe0\xa0\x80"), 3));	/* U+0800 */
	assert_true(utf8_valid_nonul(U("\xed\x9f\xbf"), 3));	/* U+D7FF */
	assert_true(utf8_valid_nonul(U("\xee\x80\x80"), 3));	/* U+E000 */
	assert_true(utf8_valid_nonul(U("\xef\xbf\xbf"), 3));	/* U+FFFF */
	assert_true(utf8_valid_nonul(U("\xf0\x90\x80\x80"), 4));	/* U+10000 */
	assert_true(utf8_valid_nonul(U("\xf4\x8f\xbf\xbf"), 4));	/* U+10FFFF */

	assert_false(utf8_valid_nonul(U("\0"), 1));
	assert_false(utf8_valid_nonul(U("ab\0cd"), 5));
	assert_false(utf8_valid_nonul(U("\xc0\x80"), 2));	/* overlong NUL */
	assert_false(utf8_valid_nonul(U("\xc1\xbf"), 2));	/* overlong */
	assert_false(utf8_valid_nonul(U("\xe0\x9f\xbf"), 3));	/* overlong */
	assert_false(utf8_valid_nonul(U("\xe0\x80\x80"), 3));	/* overlong */
	assert_false(utf8_valid_nonul(U("\xf0\x8f\xbf\xbf"), 4));	/* overlong */
	assert_false(utf8_valid_nonul(U("\xed\xa0\x80"), 3));	/* U+D800 */
	assert_false(utf8_valid_nonul(U("\xed\xbf\xbf"), 3));	/* U+DFFF */
	assert_false(utf8_valid_nonul(U("\xf4\x90\x80\x80"), 4));	/* U+110000 */
	assert_false(utf8_valid_nonul(U("\xf5\x80\x80\x80"), 4));
	assert_false(utf8_valid_nonul(U("\xf8\x88\x80\x80\x80"), 5));
	assert_false(utf8_valid_nonul(U("\xfe"), 1));
	assert_false(utf8_valid_nonul(U("\xff"), 1));
	assert_false(utf8_valid_nonul(U("\x80"), 1));		/* lone cont. */
	assert_false(utf8_valid_nonul(U("a\xbf"), 2));
	assert_false(utf8_valid_nonul(U("\xc3"), 1));		/* truncated */
	assert_false(utf8_valid_nonul(U("\xe2\x82"), 2));
	assert_false(utf8_valid_nonul(U("\xf0\x9f\x94"), 3));
	assert_false(utf8_valid_nonul(U("\xc3\x28"), 2));	/* bad cont. */
	assert_false(utf8_valid_nonul(U("\xe2\x28\xa1"), 3));
	/* Length is honoured: the bad byte lies beyond it. */
	assert_true(utf8_valid_nonul(U("ok\xff"), 2));
	assert_false(utf8_valid_nonul(U("\xe2\x82\xac"), 2));
}

static void
test_err(void **state)
{
	static const struct {
		int err;
		const char *code;
		int status;
	} rows[] = {
		{ SD_EBADREQ, "bad_request", 1 },
		{ SD_EUNAUTH, "unauthenticated", 3 },
		{ SD_EPERM, "permission_denied", 4 },
		{ SD_ENOTFOUND, "not_found", 5 },
		{ SD_EEXISTS, "exists", 1 },
		{ SD_ECONFLICT, "conflict", 6 },
		{ SD_ETOOLARGE, "too_large", 1 },
		{ SD_ERATE, "rate_limited", 1 },
		{ SD_EUNAVAIL, "unavailable", 1 },
		{ SD_EINTERNAL, "internal", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_string_equal(sd_err_code(rows[i].err), rows[i].code);
		assert_int_equal(sd_err_from_code(rows[i].code), rows[i].err);
		assert_int_equal(sd_err_exit_status(rows[i].err),
		    rows[i].status);
	}
	assert_int_equal(sd_err_exit_status(SD_OK), 0);
	assert_int_equal(sd_err_exit_status(-42), 1);
	assert_string_equal(sd_err_code(-42), "internal");
	assert_string_equal(sd_err_code(1), "internal");
	assert_int_equal(sd_err_from_code("nope"), SD_EINTERNAL);
	assert_int_equal(sd_err_from_code("Bad_Request"), SD_EINTERNAL);
	assert_int_equal(sd_err_from_code(NULL), SD_EINTERNAL);
}

/* Run fn with stderr redirected into a buffer. */
static size_t
capture_stderr(void (*fn)(void), char *buf, size_t size)
{
	int fds[2], saved;
	ssize_t r;
	size_t off = 0;

	assert_int_equal(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fds[1], STDERR_FILENO), STDERR_FILENO);
	close(fds[1]);
	fn();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	while (off < size - 1 &&
	    (r = read(fds[0], buf + off, size - 1 - off)) > 0)
		off += (size_t)r;
	buf[off] = '\0';
	close(fds[0]);
	return off;
}

static int log_line_no;

static void
log_some(void)
{
	log_init("/usr/sbin/secretd", LOG_LEVEL_INFO);
	log_set_tag("c42");
	log_debug("hidden");
	log_line_no = __LINE__ + 1;
	log_info("got %s from %d", "line1\nforged: info: x\x1b[0m\x7f", 7);
	log_info("c1 \xc2\x9b[31m 8bit \x9b[0m ok caf\xc3\xa9 \xe2\x82 \xc0\xaf");
	log_set_tag(NULL);
	log_warn("no tag");
	log_set_level(LOG_LEVEL_ERROR);
	log_warn("hidden too");
}

static char long_msg[5000];

static void
log_long(void)
{
	log_init("secret-shell", LOG_LEVEL_DEBUG);
	log_debug("%s", long_msg);
}

static void
test_log(void **state)
{
	char buf[8192], want[512];
	size_t n;
	enum log_level lv;

	(void)state;
	n = capture_stderr(log_some, buf, sizeof(buf));
	snprintf(want, sizeof(want),
	    "secretd[%ld]: info: [c42] got line1?forged: info: x?[0m? from 7 "
	    "(test_proto.c:log_some:%d)\n"
	    "secretd[%ld]: info: [c42] c1 ??[31m 8bit ?[0m ok caf\xc3\xa9 ?? ?? "
	    "(test_proto.c:log_some:%d)\n"
	    "secretd[%ld]: warn: no tag (test_proto.c:log_some:%d)\n",
	    (long)getpid(), log_line_no, (long)getpid(), log_line_no + 1,
	    (long)getpid(), log_line_no + 3);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));

	memset(long_msg, 'm', sizeof(long_msg) - 1);
	n = capture_stderr(log_long, buf, sizeof(buf));
	assert_true(n > 1000 && n <= 2048);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(memchr(buf, '\n', n), buf + n - 1);
	assert_non_null(strstr(buf, "mmm... (test_proto.c:log_long:"));
	assert_int_equal(strncmp(buf, "secret-shell[", 13), 0);

	assert_int_equal(log_level_parse("debug", &lv), 0);
	assert_int_equal(lv, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("info", &lv), 0);
	assert_int_equal(lv, LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("warn", &lv), 0);
	assert_int_equal(lv, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("error", &lv), 0);
	assert_int_equal(lv, LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("fatal", &lv), -1);
	assert_int_equal(log_level_parse("", &lv), -1);
	assert_int_equal(log_level_parse(NULL, &lv), -1);
	log_init("secretd", LOG_LEVEL_INFO);
}

static void
test_xmalloc(void **state)
{
	char *s, *d;
	json_t *j;
	int *a;

	(void)state;
	s = xstrdup("abc");
	assert_string_equal(s, "abc");
	freezero_str(s);
	s = xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = xstrndup("ab", 10);
	assert_string_equal(s, "ab");
	free(s);
	s = xasprintf("%d-%s", 12, "x");
	assert_string_equal(s, "12-x");
	free(s);
	a = xcalloc(10, sizeof(*a));
	assert_int_equal(a[9], 0);
	a = xreallocarray(a, 1000, sizeof(*a));
	a[999] = 1;
	freezero(a, 1000 * sizeof(*a));
	freezero(NULL, 10);
	freezero_str(NULL);
	free(xmalloc(0));

	/* With the wiping allocator installed (in main), jansson still works
	 * and json_dumps() results can be released with plain free(). */
	j = json_pack("{s:s,s:[i,i]}", "value", "secret", "n", 1, 2);
	d = json_dumps(j, JSON_COMPACT);
	assert_string_equal(d, "{\"value\":\"secret\",\"n\":[1,2]}");
	free(d);
	json_decref(j);
}

/* Overflow in xcalloc/xreallocarray is fatal: run it in a child. */
static void
test_xmalloc_overflow(void **state)
{
	(void)state;
	for (int which = 0; which < 2; which++) {
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, STDERR_FILENO);
			if (which == 0)
				(void)xcalloc(SIZE_MAX / 2, 4);
			else
				(void)xreallocarray(NULL, SIZE_MAX / 2, 4);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_get_string),
		cmocka_unit_test(test_get_int),
		cmocka_unit_test(test_get_bool),
		cmocka_unit_test(test_get_value),
		cmocka_unit_test(test_set_value),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_err),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_xmalloc),
		cmocka_unit_test(test_xmalloc_overflow),
	};

	/* As the programs do: before any json_* call. */
	xmalloc_json_wipe_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_utf8.c - unit tests for lib/utf8.c, the one UTF-8 decoder: known
 * sequences at every length and boundary, and every kind of invalid
 * input (overlong forms, surrogates, beyond U+10FFFF, stray and missing
 * continuation bytes, sequences cut short); validation without NUL; the
 * character counts that align table columns.  Also its users' views:
 * cli_printable() and the log sanitiser replace what it rejects.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

#include "client/output.h"

#define U(s)	((const unsigned char *)(s))

/* The decoder on the first sequence of s (length n). */
static void
expect_seq(const char *s, size_t n, size_t want_len, uint32_t want_cp)
{
	uint32_t cp = 0xdeadbeef;

	assert_int_equal(utf8_decode(U(s), n, &cp), want_len);
	if (want_len > 0)
		assert_int_equal(cp, want_cp);
}

static void
test_decode_valid(void **state)
{
	(void)state;
	expect_seq("A", 1, 1, 0x41);
	expect_seq("", 1, 1, 0);			/* NUL is ASCII */
	expect_seq("\x7f", 1, 1, 0x7f);
	expect_seq("\xc2\x80", 2, 2, 0x80);		/* first of 2 */
	expect_seq("\xc3\xa9", 2, 2, 0xe9);		/* é */
	expect_seq("\xdf\xbf", 2, 2, 0x7ff);		/* last of 2 */
	expect_seq("\xe0\xa0\x80", 3, 3, 0x800);	/* first of 3 */
	expect_seq("\xe2\x82\xac", 3, 3, 0x20ac);	/* € */
	expect_seq("\xed\x9f\xbf", 3, 3, 0xd7ff);	/* before surrogates */
	expect_seq("\xee\x80\x80", 3, 3, 0xe000);	/* after them */
	expect_seq("\xef\xbf\xbf", 3, 3, 0xffff);
	expect_seq("\xf0\x90\x80\x80", 4, 4, 0x10000);	/* first of 4 */
	expect_seq("\xf0\x9f\x94\x91", 4, 4, 0x1f511);	/* 🔑 */
	expect_seq("\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff);	/* last */
	/* Only the first sequence counts; what follows is not looked at. */
	expect_seq("\xc3\xa9\xff", 3, 2, 0xe9);
	assert_int_equal(utf8_decode(U("\xc3\xa9"), 2, NULL), 2);
}

static void
test_decode_invalid(void **state)
{
	(void)state;
	expect_seq("A", 0, 0, 0);			/* nothing left */
	/* Overlong forms of '/', NUL and U+07FF, U+FFFF. */
	expect_seq("\xc0\xaf", 2, 0, 0);
	expect_seq("\xc0\x80", 2, 0, 0);
	expect_seq("\xc1\xbf", 2, 0, 0);
	expect_seq("\xe0\x80\xaf", 3, 0, 0);
	expect_seq("\xe0\x9f\xbf", 3, 0, 0);
	expect_seq("\xf0\x80\x80\xaf", 4, 0, 0);
	expect_seq("\xf0\x8f\xbf\xbf", 4, 0, 0);
	/* Surrogates, and beyond U+10FFFF. */
	expect_seq("\xed\xa0\x80", 3, 0, 0);		/* U+D800 */
	expect_seq("\xed\xbf\xbf", 3, 0, 0);		/* U+DFFF */
	expect_seq("\xf4\x90\x80\x80", 4, 0, 0);	/* U+110000 */
	expect_seq("\xf5\x80\x80\x80", 4, 0, 0);
	expect_seq("\xf8\x88\x80\x80\x80", 5, 0, 0);	/* old 5-byte form */
	expect_seq("\xfe", 1, 0, 0);
	expect_seq("\xff", 1, 0, 0);
	/* A continuation byte alone; a lead without enough of them. */
	expect_seq("\x80", 1, 0, 0);
	expect_seq("\xbf", 1, 0, 0);
	expect_seq("\xc3", 1, 0, 0);
	expect_seq("\xc3" "A", 2, 0, 0);
	expect_seq("\xe2\x82", 2, 0, 0);		/* cut short */
	expect_seq("\xe2\x82\xac", 2, 0, 0);		/* n says cut short */
	expect_seq("\xe2" "A" "\xac", 3, 0, 0);
	expect_seq("\xf0\x9f\x94", 3, 0, 0);
	expect_seq("\xf0\x9f\x94\xc0", 4, 0, 0);
}

static void
test_valid_nonul(void **state)
{
	(void)state;
	assert_true(utf8_valid_nonul(U(""), 0));
	assert_true(utf8_valid_nonul(NULL, 0));
	assert_false(utf8_valid_nonul(NULL, 1));
	assert_true(utf8_valid_nonul(U("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"), 14));
	assert_false(utf8_valid_nonul(U("a\0b"), 3));
	assert_false(utf8_valid_nonul(U("\xc0\x80"), 2));	/* overlong NUL */
	assert_false(utf8_valid_nonul(U("ok\xed\xa0\x80"), 5));
	assert_false(utf8_valid_nonul(U("ok\xe2\x82"), 4));	/* cut at end */
	assert_false(utf8_valid_nonul(U("\xa9ok"), 3));
}

static void
test_width(void **state)
{
	(void)state;
	assert_int_equal(utf8_width(""), 0);
	assert_int_equal(utf8_width("abc"), 3);
	assert_int_equal(utf8_width("d\xc3\xa5ve"), 4);		/* dåve */
	assert_int_equal(utf8_width("\xe2\x82\xac\xf0\x9f\x94\x91"), 2);
	/* An invalid lead byte counts as one; a stray continuation as none. */
	assert_int_equal(utf8_width("\xff" "a"), 2);
	assert_int_equal(utf8_width("\x80" "a"), 1);

	assert_int_equal(utf8_prefix("abc", 0), 0);
	assert_int_equal(utf8_prefix("abc", 2), 2);
	assert_int_equal(utf8_prefix("abc", 3), 3);
	assert_int_equal(utf8_prefix("abc", 9), 3);
	assert_int_equal(utf8_prefix("\xc3\xa5\xe2\x82\xac" "x", 1), 2);
	assert_int_equal(utf8_prefix("\xc3\xa5\xe2\x82\xac" "x", 2), 5);
	assert_int_equal(utf8_prefix("\xc3\xa5\xe2\x82\xac" "x", 3), 6);
}

/* cli_printable(): whatever the decoder rejects, and controls, are '?'. */
static void
expect_printable(const char *in, const char *want)
{
	char *out = cli_printable(in);

	assert_string_equal(out, want);
	free(out);
}

static void
test_printable(void **state)
{
	(void)state;
	expect_printable("plain", "plain");
	expect_printable("caf\xc3\xa9", "caf\xc3\xa9");
	expect_printable("\xf0\x9f\x94\x91", "\xf0\x9f\x94\x91");
	expect_printable("a\tb\x1b[2Jc\x7f", "a?b?[2Jc?");
	expect_printable("\xc2\x9b" "31m", "?31m");		/* C1 CSI */
	expect_printable("\xc2\xa0", "\xc2\xa0");		/* NBSP stays */
	expect_printable("\xc0\xaf", "??");			/* overlong */
	expect_printable("\xed\xa0\x80", "???");		/* surrogate */
	expect_printable("\xf4\x90\x80\x80", "????");
	expect_printable("x\xe2\x82", "x??");			/* cut short */
	expect_printable("\x80\xbf", "??");
	expect_printable(NULL, "-");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid),
		cmocka_unit_test(test_decode_invalid),
		cmocka_unit_test(test_valid_nonul),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_table.c - unit tests for lib/table.c, the one table renderer:
 * column widths in characters (not bytes), two spaces between columns,
 * right-aligned columns, the indent, no trailing blanks (empty trailing
 * cells and a left-aligned last column are not padded).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "table.h"
#include "xmalloc.h"

/* Print t to a string (which frees t). */
static char *
render(struct table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	table_print(t, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
add(struct table *t, const char *a, const char *b, const char *c)
{
	const char *row[3] = { a, b, c };

	table_add_copy(t, row);
}

static void
test_left(void **state)
{
	struct table *t = table_new(3, NULL, 0);
	char *out;

	(void)state;
	add(t, "NAME", "N", "NOTE");
	add(t, "d\xc3\xa5ve", "12", "x");		/* 4 characters, 5 bytes */
	add(t, "a", "", "");				/* trailing empties */
	add(t, "", "3", "");
	assert_int_equal(table_rows(t), 4);
	out = render(t);
	assert_string_equal(out,
	    "NAME  N   NOTE\n"
	    "d\xc3\xa5ve  12  x\n"
	    "a\n"
	    "      3\n");
	free(out);
}

static void
test_right_indent(void **state)
{
	struct table *t = table_new(3, "lrr", 2);
	char **row;
	char *out;

	(void)state;
	add(t, "WHO", "READS", "N");
	row = xcalloc(3, sizeof(char *));
	row[0] = xstrdup("\xe2\x82\xac");		/* one character */
	row[1] = xstrdup("1234567");
	row[2] = xstrdup("5");
	table_add(t, row);				/* takes the cells */
	free(row);
	add(t, "bob", "0", "10");
	out = render(t);
	assert_string_equal(out,
	    "  WHO    READS   N\n"
	    "  \xe2\x82\xac    1234567   5\n"
	    "  bob        0  10\n");
	free(out);
}

static void
test_empty(void **state)
{
	struct table *t = table_new(2, NULL, 4);
	char *out;

	(void)state;
	assert_int_equal(table_rows(t), 0);
	out = render(t);
	assert_string_equal(out, "");
	free(out);
	table_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_left),
		cmocka_unit_test(test_right_indent),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

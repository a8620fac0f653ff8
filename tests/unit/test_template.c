/*
 * test_template.c - `secret template` parsing and rendering
 * (client/template.c): the one recognised form, literal strings, exact
 * copying of everything else, and LINE:COL of every kind of mistake.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xmalloc.h"

#include "client/template.h"

/* Render text with the value "<path>" for each path; compare to want. */
static void
renders(const char *text, const char *want, size_t npaths)
{
	struct cli_tmpl *t = NULL;
	unsigned char *vals[8], *out;
	size_t lens[8], i, outlen;
	char err[256] = "";

	assert_int_equal(cli_tmpl_parse((const unsigned char *)text,
	    strlen(text), &t, err, sizeof(err)), 0);
	assert_int_equal(cli_tmpl_npaths(t), npaths);
	for (i = 0; i < npaths; i++) {
		vals[i] = (unsigned char *)xasprintf("<%s>",
		    cli_tmpl_path(t, i));
		lens[i] = strlen((char *)vals[i]);
	}
	out = cli_tmpl_render(t, vals, lens, &outlen);
	assert_int_equal(outlen, strlen(want));
	assert_memory_equal(out, want, outlen);
	for (i = 0; i < npaths; i++)
		free(vals[i]);
	free(out);
	cli_tmpl_free(t);
}

static void
fails(const char *text, const char *want_err)
{
	struct cli_tmpl *t = NULL;
	char err[256] = "";

	assert_int_equal(cli_tmpl_parse((const unsigned char *)text,
	    strlen(text), &t, err, sizeof(err)), -1);
	assert_null(t);
	assert_string_equal(err, want_err);
}

static void
test_render(void **state)
{
	(void)state;
	renders("", "", 0);
	renders("plain } { }} text\n", "plain } { }} text\n", 0);
	renders("a{{ secret \"x/y\" }}b", "a<x/y>b", 1);
	renders("{{secret \"x\"}}", "<x>", 1);
	renders("{{\n\tsecret\r\n \"/x/y/\"  \n}}", "<x/y>", 1);
	renders("{{ secret \"a\" }}{{ secret \"b\" }}{{ secret \"a\" }}",
	    "<a><b><a>", 2);
	renders("{{ \"{{\" }} {{ \"q\\\"\\\\\" }}", "{{ q\"\\", 0);
	renders("{{ secret \"we\\\"ird\" }}", "<we\"ird>", 1);
	renders("x\xc3\xa9{{ secret \"\xc3\xa9\" }}", "x\xc3\xa9<\xc3\xa9>", 1);
}

static void
test_errors(void **state)
{
	(void)state;
	fails("{{", "1:1: unterminated {{ (no closing }})");
	fails("ab\ncd {{ x }}", "2:7: expected secret \"PATH\" or a quoted "
	    "string inside {{ }}");
	fails("{{ secret x }}", "1:11: expected a quoted path after \"secret\"");
	fails("{{ secret \"a\" extra }}", "1:15: expected }}");
	fails("{{ secret \"a\" }", "1:15: expected }}");
	fails("{{ secret \"a }}", "1:11: unterminated string");
	fails("{{ secret \"a\\n\" }}", "1:13: invalid escape in a string "
	    "(only \\\" and \\\\)");
	fails("{{ secret \"a\tb\" }}", "1:13: control character in a string");
	fails("{{ secret \"\" }}", "1:11: empty path");
	fails("{{ secret \"/\" }}", "1:11: empty path");	/* fuzz_template */
	fails("{{ secret \"a//b\" }}", "1:11: invalid path \"a//b\": empty "
	    "name in path");
	fails("\xc3\xa9\xc3\xa9 {{ secretx \"a\" }}", "1:7: expected secret "
	    "\"PATH\" or a quoted string inside {{ }}");
	fails("{{ Secret \"a\" }}", "1:4: expected secret \"PATH\" or a quoted "
	    "string inside {{ }}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

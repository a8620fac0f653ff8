/*
 * test_onchange.c - how `secret fetch --watch --on-change CMD` splits
 * CMD into words without a shell (client/onchange.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/onchange.h"

static void
words_are(const char *cmd, int n, ...)
{
	const char *why = NULL;
	char **argv = cli_onchange_parse(cmd, &why);
	va_list ap;
	int i;

	assert_non_null(argv);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(argv[i], va_arg(ap, const char *));
	va_end(ap);
	assert_null(argv[n]);
	cli_onchange_free(argv);
}

static void
refused(const char *cmd)
{
	const char *why = NULL;

	assert_null(cli_onchange_parse(cmd, &why));
	assert_non_null(why);
}

static void
test_split(void **state)
{
	(void)state;
	words_are("systemctl reload nginx", 3, "systemctl", "reload", "nginx");
	words_are("  a\tb  ", 2, "a", "b");
	words_are("sh -c 'echo $HOME > /x'", 3, "sh", "-c", "echo $HOME > /x");
	words_are("a\"b c\"d", 1, "ab cd");
	words_are("x \"q\\\"q\\\\\"", 2, "x", "q\"q\\");
	words_are("'it''s' ''", 2, "its", "");
	words_are("a\\b", 1, "a\\b");		/* no escapes outside "" */
	words_are("*.conf ~ $X;", 3, "*.conf", "~", "$X;");
}

static void
test_refused(void **state)
{
	(void)state;
	refused("");
	refused("   ");
	refused("echo 'open");
	refused("echo \"open");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

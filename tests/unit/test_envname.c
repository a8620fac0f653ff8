/*
 * test_envname.c - the documented rule that turns secret paths into
 * variable names, the deny-list of names a secret never sets, what an
 * --env-prefix may be, and which values an env file can hold
 * (client/envname.c).
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
denied_by(const char *name, const char *pattern)
{
	const struct cli_env_deny *d = cli_env_name_denied(name);

	if (d == NULL)
		fail_msg("%s is not denied (want %s)", name, pattern);
	assert_string_equal(d->pattern, pattern);
	assert_non_null(d->why);
}

static void
test_denied(void **state)
{
	const struct cli_env_deny *d;

	(void)state;
	/* The names of issue 21 case 6, as fetch derives them. */
	denied_by("LD_PRELOAD", "LD_*");
	denied_by("PATH", "PATH");
	denied_by("BASH_ENV", "BASH_*");
	denied_by("NODE_OPTIONS", "NODE_*");
	/* The loader and glibc's unsecvars.h. */
	denied_by("LD_LIBRARY_PATH", "LD_*");
	denied_by("LD_AUDIT", "LD_*");
	denied_by("LD_", "LD_*");
	denied_by("GCONV_PATH", "GCONV_PATH");
	denied_by("GETCONF_DIR", "GETCONF_DIR");
	denied_by("GLIBC_TUNABLES", "GLIBC_TUNABLES");
	denied_by("MALLOC_TRACE", "MALLOC_*");
	denied_by("MALLOC_CHECK_", "MALLOC_*");
	denied_by("HOSTALIASES", "HOSTALIASES");
	denied_by("LOCALDOMAIN", "LOCALDOMAIN");
	denied_by("RES_OPTIONS", "RES_OPTIONS");
	denied_by("RESOLV_HOST_CONF", "RESOLV_HOST_CONF");
	denied_by("NIS_PATH", "NIS_PATH");
	denied_by("LOCPATH", "LOCPATH");
	denied_by("NLSPATH", "NLSPATH");
	denied_by("TMPDIR", "TMPDIR");
	denied_by("TZDIR", "TZDIR");
	denied_by("LANG", "LANG");
	denied_by("LANGUAGE", "LANGUAGE");
	denied_by("LC_ALL", "LC_*");
	/* Shells. */
	denied_by("ENV", "ENV");
	denied_by("IFS", "IFS");
	denied_by("SHELLOPTS", "SHELLOPTS");
	denied_by("BASHOPTS", "BASHOPTS");
	denied_by("PS4", "PS4");
	denied_by("HOME", "HOME");
	denied_by("SHELL", "SHELL");
	denied_by("CDPATH", "CDPATH");
	denied_by("GLOBIGNORE", "GLOBIGNORE");
	denied_by("PROMPT_COMMAND", "PROMPT_COMMAND");
	denied_by("XDG_CONFIG_HOME", "XDG_*");
	denied_by("GIT_SSH_COMMAND", "GIT_*");
	denied_by("EDITOR", "EDITOR");
	/* Interpreters. */
	denied_by("PYTHONPATH", "PYTHON*");
	denied_by("PYTHONSTARTUP", "PYTHON*");
	denied_by("PERL5OPT", "PERL*");
	denied_by("PERL5LIB", "PERL*");
	denied_by("PERLLIB", "PERL*");
	denied_by("NODE_PATH", "NODE_*");
	denied_by("RUBYOPT", "RUBY*");
	denied_by("RUBYLIB", "RUBY*");
	denied_by("JAVA_TOOL_OPTIONS", "JAVA_*");
	denied_by("_JAVA_OPTIONS", "_JAVA_OPTIONS");
	denied_by("JDK_JAVA_OPTIONS", "JDK_JAVA_OPTIONS");
	denied_by("OPENSSL_CONF", "OPENSSL_*");
	denied_by("SSL_CERT_FILE", "SSL_CERT_*");
	/* Whatever the case (an --env-prefix may be lower case). */
	denied_by("ld_preload", "LD_*");
	denied_by("Path", "PATH");
	/* Names near the list that a secret may set. */
	assert_null(cli_env_name_denied("DB_PASSWORD"));
	assert_null(cli_env_name_denied("API_KEY"));
	assert_null(cli_env_name_denied("PATH_"));	/* "path-" */
	assert_null(cli_env_name_denied("PATHS"));
	assert_null(cli_env_name_denied("XPATH"));
	assert_null(cli_env_name_denied("LD"));
	assert_null(cli_env_name_denied("OLD_PRELOAD"));
	assert_null(cli_env_name_denied("APP_LD_PRELOAD"));
	assert_null(cli_env_name_denied("APP_PATH"));
	assert_null(cli_env_name_denied("HOMEPAGE"));
	assert_null(cli_env_name_denied("ENVIRONMENT"));
	assert_null(cli_env_name_denied("LANGS"));
	assert_null(cli_env_name_denied("PS5"));
	assert_null(cli_env_name_denied("_1ST"));
	/* Every entry: a pattern a name can match, with its reason. */
	for (d = cli_env_deny_list; d->pattern != NULL; d++) {
		char stem[64];
		size_t l = strlen(d->pattern);

		assert_true(l > 0 && l < sizeof(stem));
		memcpy(stem, d->pattern, l + 1);
		if (stem[l - 1] == '*')
			stem[l - 1] = '\0';
		assert_ptr_equal(cli_env_name_denied(stem), d);
		assert_true(strlen(d->why) > 10);
	}
}

static void
test_prefix(void **state)
{
	const struct cli_env_deny *d;

	(void)state;
	assert_null(cli_env_prefix_problem("APP_", &d));
	assert_null(d);
	assert_null(cli_env_prefix_problem("app_", NULL));
	assert_null(cli_env_prefix_problem("_", NULL));
	assert_null(cli_env_prefix_problem("X", NULL));
	assert_null(cli_env_prefix_problem("L", NULL));
	assert_null(cli_env_prefix_problem("PAT", NULL));
	assert_null(cli_env_prefix_problem("LD", NULL));
	assert_string_equal(cli_env_prefix_problem("", &d),
	    "it is not the start of a variable name ([A-Za-z_][A-Za-z0-9_]*)");
	assert_null(d);
	assert_non_null(cli_env_prefix_problem("1APP_", NULL));
	assert_non_null(cli_env_prefix_problem("APP-", NULL));
	assert_non_null(cli_env_prefix_problem("A=B", NULL));
	/* Stems of the list: every name under them would be refused. */
	assert_string_equal(cli_env_prefix_problem("LD_", &d),
	    "every name under it is on the deny-list");
	assert_string_equal(d->pattern, "LD_*");
	assert_non_null(cli_env_prefix_problem("ld_x_", &d));
	assert_string_equal(d->pattern, "LD_*");
	assert_non_null(cli_env_prefix_problem("PYTHON", &d));
	assert_string_equal(d->pattern, "PYTHON*");
	assert_non_null(cli_env_prefix_problem("NODE_", &d));
	assert_string_equal(d->pattern, "NODE_*");
	/* An exact entry does not cover PATH + more: PATHDB is fine. */
	assert_null(cli_env_prefix_problem("PATH", NULL));
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
		cmocka_unit_test(test_denied),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

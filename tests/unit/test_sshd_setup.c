/*
 * test_sshd_setup.c - the sshd snippet setup installs (the template in
 * contrib/, four lines rewritten for the host, nothing unsafe let
 * through) and the reading of an AuthorizedKeysCommand that doctor
 * checks (secretd/sshd_setup.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secretd/sshd_setup.h"

static void
test_render(void **state)
{
	const char *why = NULL;
	char *s;

	(void)state;
	s = sshd_snippet_render("vault", "/opt/sd/libexec/secret-shell",
	    "/run/sd/s.sock", &why);
	assert_non_null(s);
	assert_non_null(strstr(s, "\nMatch User vault\n"));
	assert_non_null(strstr(s, "\n\tAuthorizedKeysCommand "
	    "/opt/sd/libexec/secret-shell -S /run/sd/s.sock authorized-keys "
	    "%u %t %k\n"));
	assert_non_null(strstr(s, "\n\tAuthorizedKeysCommandUser vault\n"));
	assert_non_null(strstr(s, "\n\tSetEnv SECRETD_SOCKET=/run/sd/s.sock\n"));
	/* the rest of the template as it is */
	assert_non_null(strstr(s, "\n\tExposeAuthInfo yes\n"));
	assert_non_null(strstr(s, "\n\tAuthorizedKeysFile none\n"));
	assert_non_null(strstr(s, "\n\tPermitTTY no\n"));
	assert_null(strstr(s, "Match User secret\n"));
	assert_null(strstr(s, "AuthorizedKeysCommandUser secret\n"));
	assert_int_equal(strlen(s) > strlen(sshd_snippet_template) - 200, 1);
	free(s);
}

static void
test_render_refuses(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_null(sshd_snippet_render("secret", "/a b/secret-shell",
	    "/run/s.sock", &why));
	assert_non_null(why);
	assert_null(sshd_snippet_render("secret", "/x/secret-shell",
	    "/run/%u.sock", &why));
	assert_null(sshd_snippet_render("secret\nMatch all", "/x/s",
	    "/run/s.sock", &why));
	assert_null(sshd_snippet_render("", "/x/s", "/run/s.sock", &why));
	assert_null(sshd_snippet_render("secret", "/x/\"s", "/run/s.sock",
	    &why));
}

static void
test_akc_split(void **state)
{
	char prog[256], sock[256];
	int ok;

	(void)state;
	assert_int_equal(sshd_akc_split("/usr/libexec/secretd/secret-shell "
	    "-S /run/secretd/secretd.sock authorized-keys %u %t %k", prog,
	    sizeof(prog), sock, sizeof(sock), &ok), 0);
	assert_string_equal(prog, "/usr/libexec/secretd/secret-shell");
	assert_string_equal(sock, "/run/secretd/secretd.sock");
	assert_int_equal(ok, 1);

	assert_int_equal(sshd_akc_split("/usr/bin/env A=1 B=2 /r/secret-shell "
	    "authorized-keys %u %t %k", prog, sizeof(prog), sock,
	    sizeof(sock), &ok), 0);
	assert_string_equal(prog, "/r/secret-shell");
	assert_string_equal(sock, "");
	assert_int_equal(ok, 1);

	assert_int_equal(sshd_akc_split("/r/secret-shell authorized-keys %u",
	    prog, sizeof(prog), sock, sizeof(sock), &ok), 0);
	assert_int_equal(ok, 0);
	assert_int_equal(sshd_akc_split("  ", prog, sizeof(prog), sock,
	    sizeof(sock), &ok), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_refuses),
		cmocka_unit_test(test_akc_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

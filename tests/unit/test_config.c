/*
 * test_config.c - secretd.conf parsing: defaults, every key, and the
 * exact "file:line: reason" of each kind of mistake; and that
 * secretd.conf(5), RELOADING, puts each setting where the table's
 * CONFIG_RESTART flag does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secretd/config.h"

static int
parse(struct config *c, const char *text, char *err, size_t errlen)
{
	config_defaults(c);
	return config_parse(c, "t.conf", text, err, errlen);
}

static void
test_defaults(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(&c, "shell_users = 0\n", err, sizeof(err)), 0);
	assert_string_equal(c.socket, "/run/secretd/secretd.sock");
	assert_string_equal(c.keyring, "/etc/secretd/keyring");
	assert_int_equal(c.pool_size, 8);
	assert_int_equal(c.max_value_size, 65536);
	assert_int_equal(c.max_request_size, 1048576);
	assert_int_equal(c.max_versions, 20);
	assert_int_equal(c.max_connections, 256);
	assert_int_equal(c.idle_timeout, 30);
	assert_int_equal(c.enrol_unknown_keys, 0);
	assert_int_equal(c.max_enrol_sessions, 16);
	assert_int_equal(c.enrol_session_lifetime, 30);
	assert_int_equal(c.enrol_max_request_size, 8192);
	assert_int_equal(c.max_sessions_per_principal, 128);
	assert_int_equal(c.audit_syslog, 0);
	assert_null(c.admin_database);
	assert_null(c.socket_group);
	assert_int_equal(c.n_shell_uids, 1);
	assert_int_equal(c.shell_uids[0], 0);
	config_free(&c);
}

static void
test_all_keys(void **state)
{
	struct config c;
	char err[256] = "";
	const char *text =
	    "# comment\n"
	    "\n"
	    "socket = /tmp/s.sock\n"
	    "  socket_group = root  \n"
	    "shell_users = root, 65534\n"
	    "database = host=/tmp dbname=x user=y\n"
	    "admin_database = dbname=x user=z\n"
	    "pool_size = 4\n"
	    "keyring = /tmp/kr\n"
	    "max_value_size = 1024\n"
	    "max_request_size = 2048\n"
	    "max_versions = 5\n"
	    "max_connections = 10\n"
	    "idle_timeout = 7\n"
	    "enrol_unknown_keys = yes\n"
	    "max_enrol_sessions = 3\n"
	    "enrol_session_lifetime = 9\n"
	    "enrol_max_request_size = 4096\n"
	    "max_sessions_per_principal = 2\n"
	    "audit_syslog = no\n"
	    "log_level = debug\r\n";

	(void)state;
	assert_int_equal(parse(&c, text, err, sizeof(err)), 0);
	assert_string_equal(c.socket, "/tmp/s.sock");
	assert_string_equal(c.socket_group, "root");
	assert_int_equal(c.n_shell_uids, 2);
	assert_int_equal(c.shell_uids[0], 0);
	assert_int_equal(c.shell_uids[1], 65534);
	assert_string_equal(c.database, "host=/tmp dbname=x user=y");
	assert_string_equal(c.admin_database, "dbname=x user=z");
	assert_int_equal(c.pool_size, 4);
	assert_string_equal(c.keyring, "/tmp/kr");
	assert_int_equal(c.max_value_size, 1024);
	assert_int_equal(c.max_request_size, 2048);
	assert_int_equal(c.max_versions, 5);
	assert_int_equal(c.max_connections, 10);
	assert_int_equal(c.idle_timeout, 7);
	assert_int_equal(c.enrol_unknown_keys, 1);
	assert_int_equal(c.max_enrol_sessions, 3);
	assert_int_equal(c.enrol_session_lifetime, 9);
	assert_int_equal(c.enrol_max_request_size, 4096);
	assert_int_equal(c.max_sessions_per_principal, 2);
	assert_int_equal(c.audit_syslog, 0);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	config_free(&c);
}

/* Unset, the per-principal cap is half of max_connections (at least 1). */
static void
test_per_principal_default(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(&c, "shell_users = 0\nmax_connections = 10\n",
	    err, sizeof(err)), 0);
	assert_int_equal(c.max_sessions_per_principal, 5);
	config_free(&c);
	assert_int_equal(parse(&c, "shell_users = 0\nmax_connections = 1\n",
	    err, sizeof(err)), 0);
	assert_int_equal(c.max_sessions_per_principal, 1);
	config_free(&c);
}

struct bad {
	const char *text;
	const char *err;
};

static void
test_errors(void **state)
{
	static const struct bad cases[] = {
		{ "shell_users = 0\nfrobnicate = 1\n",
		    "t.conf:2: unknown key \"frobnicate\"" },
		{ "shell_users = 0\npool_size = 0\n",
		    "t.conf:2: pool_size must be an integer from 1 to 64" },
		{ "pool_size = 65\n",
		    "t.conf:1: pool_size must be an integer from 1 to 64" },
		{ "pool_size = 8x\n",
		    "t.conf:1: pool_size must be an integer from 1 to 64" },
		{ "pool_size = -1\n",
		    "t.conf:1: pool_size must be an integer from 1 to 64" },
		{ "max_value_size = 1048577\n", "t.conf:1: max_value_size must "
		    "be an integer from 1 to 1048576" },
		{ "enrol_unknown_keys = maybe\n",
		    "t.conf:1: enrol_unknown_keys must be yes or no" },
		{ "log_level = loud\n", "t.conf:1: log_level must be debug, "
		    "info, warn or error" },
		{ "max_enrol_sessions = 0\n", "t.conf:1: max_enrol_sessions "
		    "must be an integer from 1 to 1024" },
		{ "enrol_session_lifetime = 3601\n", "t.conf:1: "
		    "enrol_session_lifetime must be an integer from 1 to 3600" },
		{ "enrol_max_request_size = 1023\n", "t.conf:1: "
		    "enrol_max_request_size must be an integer from 1024 to "
		    "1048576" },
		{ "max_sessions_per_principal = 0\n", "t.conf:1: "
		    "max_sessions_per_principal must be an integer from 1 to "
		    "4096" },
		{ "max_sessions_per_principal = 2\nmax_sessions_per_principal "
		    "= 3\n", "t.conf:2: max_sessions_per_principal set twice" },
		{ "socket\n", "t.conf:1: expected \"key = value\"" },
		{ "socket =\n", "t.conf:1: socket needs a value" },
		{ "socket = a\nsocket = b\n", "t.conf:2: socket set twice" },
		{ "shell_users = no-such-user-here\n",
		    "t.conf:1: unknown user \"no-such-user-here\"" },
		{ "socket_group = no-such-group-here\n",
		    "t.conf:1: unknown group \"no-such-group-here\"" },
		{ "socket = a\x01\n", "t.conf:1: control character in line" },
	};
	struct config c;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(&c, cases[i].text, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].err);
		config_free(&c);
	}
}

static void
test_missing_file(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(&c, "/nonexistent/secretd.conf", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/secretd.conf: No such file or "
	    "directory");
	config_free(&c);
}

/*
 * secretd.conf(5) says, in RELOADING, which settings SIGHUP applies
 * (before "These are fixed at start") and which need a restart (after
 * it), each as a .B or .BR word.  Each setting of the table must stand
 * once, on the side its CONFIG_RESTART flag says.  Run from the top of
 * the source tree (make unit).
 */
#define MAN_PAGE	"docs/secretd.conf.5"
#define FIXED_MARK	"These are fixed at start"

static void
test_reload_doc(void **state)
{
	static char text[64 * 1024];
	unsigned char where[64] = { 0 };	/* 1 reload, 2 restart, 3 both */
	char line[512], word[128];
	FILE *f;
	size_t i;
	int in = 0, side = 1;

	(void)state;
	assert_true(config_nkeys <= sizeof(where));
	f = fopen(MAN_PAGE, "r");
	if (f == NULL)
		fail_msg("cannot open %s (run from the top of the tree)",
		    MAN_PAGE);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ".SH", 3) == 0) {
			in = strncmp(line, ".SH RELOADING", 13) == 0;
			continue;
		}
		if (!in)
			continue;
		strncat(text, line, sizeof(text) - strlen(text) - 1);
		if (strstr(line, FIXED_MARK) != NULL)
			side = 2;
		if (sscanf(line, ".B %127[a-z_]", word) != 1 &&
		    sscanf(line, ".BR %127[a-z_]", word) != 1)
			continue;
		for (i = 0; i < config_nkeys; i++)
			if (strcmp(config_keys[i].name, word) == 0)
				where[i] |= (unsigned char)side;
	}
	fclose(f);
	assert_non_null(strstr(text, FIXED_MARK));
	for (i = 0; i < config_nkeys; i++) {
		int want = (config_keys[i].flags & CONFIG_RESTART) ? 2 : 1;

		if (where[i] != want)
			fail_msg("%s, RELOADING: %s is %s, but config.c's table "
			    "says it %s", MAN_PAGE, config_keys[i].name,
			    where[i] == 0 ? "not listed" : where[i] == 3 ?
			    "listed on both sides" : where[i] == 1 ?
			    "listed as reloaded" : "listed as fixed at start",
			    want == 2 ? "needs a restart" :
			    "is reloaded by SIGHUP");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_per_principal_default),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_reload_doc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_dispatch.c - the action table (secretd/dispatch.c) and how the
 * executor routes each row: every action DESIGN names is there with the
 * global permission, flags and route it must have, and nothing else is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "secretd/acl.h"
#include "secretd/dispatch.h"

/* name, global permission, audited, in a transaction, enrol-only ok,
 * has a plan (batched) */
static const struct {
	const char	*name;
	int		 gperm, audit, txn, enrol, plan;
} want[] = {
	{ "whoami", 0, 0, 0, 1, 0 },
	{ "secret.get", 0, 1, 0, 0, 1 },
	{ "secret.put", 0, 1, 1, 0, 1 },
	{ "secret.list", 0, 1, 0, 0, 0 },
	{ "secret.history", 0, 1, 0, 0, 0 },
	{ "secret.delete", 0, 1, 1, 0, 0 },
	{ "secret.get_many", 0, 1, 0, 0, 0 },
	{ "secret.undelete", 0, 1, 1, 0, 0 },
	{ "secret.rollback", 0, 1, 1, 0, 0 },
	{ "secret.destroy", 0, 1, 1, 0, 0 },
	{ "secret.watch", 0, 1, 0, 0, 0 },
	{ "acl.get", 0, 1, 0, 0, 0 },
	{ "acl.set", 0, 1, 1, 0, 0 },
	{ "acl.who", 0, 1, 0, 0, 0 },
	{ "group.create", GPERM_GROUP_MANAGE, 1, 1, 0, 0 },
	{ "group.delete", GPERM_GROUP_MANAGE, 1, 1, 0, 0 },
	{ "group.list", GPERM_GROUP_MANAGE, 1, 0, 0, 0 },
	{ "group.member_add", GPERM_GROUP_MANAGE, 1, 1, 0, 0 },
	{ "group.member_remove", GPERM_GROUP_MANAGE, 1, 1, 0, 0 },
	{ "group.member_list", GPERM_GROUP_MANAGE, 1, 0, 0, 0 },
	{ "principal.create", GPERM_PRINCIPAL_MANAGE, 1, 1, 0, 0 },
	{ "principal.delete", GPERM_PRINCIPAL_MANAGE, 1, 1, 0, 0 },
	{ "principal.list", GPERM_PRINCIPAL_MANAGE, 1, 0, 0, 0 },
	{ "principal.show", GPERM_PRINCIPAL_MANAGE, 1, 0, 0, 0 },
	{ "principal.key_add", GPERM_PRINCIPAL_MANAGE, 1, 1, 0, 0 },
	{ "principal.key_remove", GPERM_PRINCIPAL_MANAGE, 1, 1, 0, 0 },
	{ "enrol.token_create", GPERM_ENROL, 1, 1, 0, 0 },
	{ "enrol.token_list", GPERM_ENROL, 1, 0, 0, 0 },
	{ "enrol.token_revoke", GPERM_ENROL, 1, 1, 0, 0 },
	{ "enrol", 0, 1, 1, 1, 0 },
	{ "audit.query", GPERM_AUDIT, 1, 0, 0, 0 },
	{ "audit.verify", GPERM_AUDIT, 1, 0, 0, 0 },
	{ "audit.hash", GPERM_AUDIT, 1, 0, 0, 0 },
	{ "audit.report", GPERM_AUDIT, 1, 0, 0, 0 },
	{ "server.stats", GPERM_AUDIT, 1, 0, 0, 0 },
};
#define N_WANT	((int)(sizeof(want) / sizeof(want[0])))

static void
test_every_action_as_designed(void **state)
{
	const struct action *a;
	int i;

	(void)state;
	for (i = 0; i < N_WANT; i++) {
		a = dispatch_find(want[i].name);
		if (a == NULL)
			fail_msg("%s missing", want[i].name);
		assert_string_equal(a->name, want[i].name);
		assert_int_equal(a->gperm, want[i].gperm);
		assert_int_equal(!!(a->flags & A_AUDIT), want[i].audit);
		assert_int_equal(!!(a->flags & A_TXN), want[i].txn);
		assert_int_equal(!!(a->flags & A_ENROL_OK), want[i].enrol);
		assert_int_equal(a->plan != NULL, want[i].plan);
		/* a row runs whole by its handler, or by its plan as a
		 * batch of one: never neither */
		assert_true(a->handler != NULL || a->plan != NULL);
		/* a change that can be handed back by a batch (DEFER_ALONE)
		 * must have a handler to run it whole */
		if (a->plan != NULL && (a->flags & A_TXN))
			assert_non_null(a->handler);
		/* only the plain actions batch: an enrol-only session or a
		 * global grant goes whole (exec.c) */
		if (a->plan != NULL)
			assert_int_equal(a->gperm, 0);
	}
}

static void
test_nothing_else(void **state)
{
	const char *name;
	int slot, i, found;

	(void)state;
	for (slot = 0; (name = dispatch_name(slot)) != NULL; slot++) {
		for (i = 0, found = 0; i < N_WANT && !found; i++)
			found = strcmp(want[i].name, name) == 0;
		if (!found)
			fail_msg("%s is not a designed action", name);
		assert_int_equal(dispatch_slot(dispatch_find(name)), slot);
	}
	assert_int_equal(slot, N_WANT);
	assert_null(dispatch_name(-1));
	assert_null(dispatch_find("secret.GET"));
	assert_null(dispatch_find(""));
	assert_null(dispatch_find("hello"));
	assert_null(dispatch_find("key.lookup"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_action_as_designed),
		cmocka_unit_test(test_nothing_else),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

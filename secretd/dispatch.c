/*
 * dispatch.c - the action table.  Each row names the handler, the global
 * permission checked before it runs (node permissions are checked by the
 * handler at the path it acts on), and its flags.  The table is the one
 * place to see what every action needs.
 */
#include <string.h>

#include "acl.h"
#include "actions.h"
#include "dispatch.h"
#include "stats.h"

#define RD	(A_AUDIT)
#define WR	(A_AUDIT | A_TXN)

static const struct action actions[] = {
	{ "whoami",		act_whoami, 0, A_ENROL_OK, NULL },

	{ "secret.get",		NULL, 0, RD, act_secret_get_plan },
	{ "secret.put",		act_secret_put, 0, WR, act_secret_put_plan },
	{ "secret.list",	act_secret_list, 0, RD, NULL },
	{ "secret.history",	act_secret_history, 0, RD, NULL },
	{ "secret.delete",	act_secret_delete, 0, WR, NULL },
	{ "secret.get_many",	act_secret_get_many, 0, RD, NULL },
	{ "secret.undelete",	act_secret_undelete, 0, WR, NULL },
	{ "secret.rollback",	act_secret_rollback, 0, WR, NULL },
	{ "secret.destroy",	act_secret_destroy, 0, WR, NULL },
	{ "secret.watch",	act_secret_watch, 0, RD, NULL },

	{ "acl.get",		act_acl_get, 0, RD, NULL },
	{ "acl.set",		act_acl_set, 0, WR, NULL },
	{ "acl.who",		act_acl_who, 0, RD, NULL },

	{ "group.create",	act_group_create, GPERM_GROUP_MANAGE, WR,
				NULL },
	{ "group.delete",	act_group_delete, GPERM_GROUP_MANAGE, WR,
				NULL },
	{ "group.list",		act_group_list, GPERM_GROUP_MANAGE, RD, NULL },
	{ "group.member_add",	act_group_member_add, GPERM_GROUP_MANAGE, WR,
				NULL },
	{ "group.member_remove", act_group_member_remove, GPERM_GROUP_MANAGE,
				WR, NULL },
	{ "group.member_list",	act_group_member_list, GPERM_GROUP_MANAGE, RD,
				NULL },

	{ "principal.create",	act_principal_create, GPERM_PRINCIPAL_MANAGE,
				WR, NULL },
	{ "principal.delete",	act_principal_delete, GPERM_PRINCIPAL_MANAGE,
				WR, NULL },
	{ "principal.list",	act_principal_list, GPERM_PRINCIPAL_MANAGE, RD,
				NULL },
	{ "principal.show",	act_principal_show, GPERM_PRINCIPAL_MANAGE, RD,
				NULL },
	{ "principal.key_add",	act_principal_key_add, GPERM_PRINCIPAL_MANAGE,
				WR, NULL },
	{ "principal.key_remove", act_principal_key_remove,
				GPERM_PRINCIPAL_MANAGE, WR, NULL },

	{ "enrol.token_create",	act_enrol_token_create, GPERM_ENROL, WR, NULL },
	{ "enrol.token_list",	act_enrol_token_list, GPERM_ENROL, RD, NULL },
	{ "enrol.token_revoke",	act_enrol_token_revoke, GPERM_ENROL, WR, NULL },
	{ "enrol",		act_enrol, 0, WR | A_ENROL_OK, NULL },

	{ "audit.query",	act_audit_query, GPERM_AUDIT, RD, NULL },
	{ "audit.verify",	act_audit_verify, GPERM_AUDIT, RD, NULL },
	{ "audit.hash",		act_audit_hash, GPERM_AUDIT, RD, NULL },
	{ "audit.report",	act_audit_report, GPERM_AUDIT, RD, NULL },

	{ "server.stats",	act_server_stats, GPERM_AUDIT, RD, NULL },
};

#define N_ACTIONS	((int)(sizeof(actions) / sizeof(actions[0])))
/* every row has its counters (stats.h) */
_Static_assert(sizeof(actions) / sizeof(actions[0]) <= STATS_MAX_ACTIONS,
    "raise STATS_MAX_ACTIONS");

const struct action *
dispatch_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

int
dispatch_slot(const struct action *a)
{
	return (int)(a - actions);
}

const char *
dispatch_name(int slot)
{
	return slot >= 0 && slot < N_ACTIONS ? actions[slot].name : NULL;
}

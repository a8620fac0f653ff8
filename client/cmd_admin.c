/*
 * cmd_admin.c - identity and administration commands of `secret`:
 * whoami, acl get/set/who, group *, principal *.
 *
 * Public keys are read from files (or stdin) and validated locally with
 * lib/sshkey before they are sent, as "type base64" without the comment.
 * Names and messages from the server are printed through cli_printable().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sshkey.h"
#include "table.h"
#include "xmalloc.h"

#include "client/cmd_admin.h"
#include "client/input.h"
#include "client/output.h"

/* Send req; print nothing on success but the raw response with --json. */
static int
call_quiet(struct cli_ctx *ctx, json_t *req)
{
	json_t *resp;
	int st;

	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	json_decref(resp);
	return 0;
}

/* Print the response's "fingerprint" (the result of adding a key). */
static int
call_fingerprint(struct cli_ctx *ctx, json_t *req)
{
	json_t *resp;
	char *fp;
	int st;

	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	fp = cli_printable_field(resp, "fingerprint");
	printf("%s\n", fp);
	free(fp);
	json_decref(resp);
	return cli_flush_stdout();
}

static void
row2(struct table *t, const char *k, char *v)
{
	char *row[2];

	row[0] = xstrdup(k);
	row[1] = v;
	table_add(t, row);
}

int
cli_whoami(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *resp;
	struct table *t;
	int st;

	if ((st = cli_rpc_call(ctx->rpc, json_pack("{s:s}", "action",
	    "whoami"), &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	t = table_new(2, NULL, 0);
	row2(t, "principal", cli_printable_field(resp, "principal"));
	row2(t, "groups", cli_printable_list(json_object_get(resp, "groups"),
	    ",", "-"));
	row2(t, "global", cli_printable_list(json_object_get(resp, "global"),
	    ",", "-"));
	row2(t, "enrol_only", xstrdup(json_is_true(json_object_get(resp,
	    "enrol_only")) ? "yes" : "no"));
	table_print(t, stdout);
	json_decref(resp);
	return cli_flush_stdout();
}

/* ------------------------------------------------------------------ acl */

int
cli_acl_get(struct cli_ctx *ctx, const struct cli_args *a)
{
	int global = cli_arg_count(a, OPT_GLOBAL) > 0, st;
	json_t *req, *resp, *path, *g;
	struct table *t;
	char *row[4];
	size_t i;

	if (global && a->npos != 0)
		return cli_usage(ctx->cmd, "--global takes no PATH");
	if (!global && a->npos != 1)
		return cli_usage(ctx->cmd, "give a PATH or --global");
	if (global)
		req = json_pack("{s:s, s:b}", "action", "acl.get", "global", 1);
	else {
		if ((st = cli_arg_path(a->pos[0], &path)) != 0)
			return st;
		req = json_pack("{s:s, s:o}", "action", "acl.get", "path",
		    path);
	}
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	t = table_new(global ? 2 : 4, NULL, 0);
	json_array_foreach(json_object_get(resp, "grants"), i, g) {
		int c = 0;

		if (!global)
			row[c++] = cli_printable_path(json_object_get(g, "path"),
			    "/");
		row[c++] = cli_printable_field(g, "group");
		row[c++] = cli_printable_list(json_object_get(g,
		    "permissions"), ",", "-");
		if (!global)
			row[c++] = xstrdup(json_is_true(json_object_get(g,
			    "inherited")) ? "(inherited)" : "");
		table_add(t, row);
	}
	table_print(t, stdout);
	json_decref(resp);
	return cli_flush_stdout();
}

int
cli_acl_who(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *path, *resp, *e;
	struct table *t;
	char *row[3], *group, *at;
	size_t i;
	int st;

	if ((st = cli_arg_path(a->pos[0], &path)) != 0)
		return st;
	if ((st = cli_rpc_call(ctx->rpc, json_pack("{s:s, s:o}", "action",
	    "acl.who", "path", path), &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	t = table_new(3, NULL, 0);
	json_array_foreach(json_object_get(resp, "who"), i, e) {
		row[0] = cli_printable_field(e, "permission");
		row[1] = cli_printable_field(e, "principal");
		group = cli_printable_field(e, "group");
		at = cli_printable_path(json_object_get(e, "path"), "/");
		row[2] = xasprintf("via %s at %s", group, at);
		free(group);
		free(at);
		table_add(t, row);
	}
	table_print(t, stdout);
	json_decref(resp);
	return cli_flush_stdout();
}

/*
 * "read,write" into a JSON array of unique names; "-" is the empty list.
 * Names are checked for form only: the server knows which exist.
 */
static int
parse_perms(struct cli_ctx *ctx, const char *s, json_t **out)
{
	json_t *arr = json_array(), *v;
	const char *p = s, *end;
	size_t len, i, k;
	int dup;

	*out = NULL;
	if (strcmp(s, "-") == 0) {
		*out = arr;
		return 0;
	}
	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len > 64) {
			json_decref(arr);
			return cli_usage(ctx->cmd, "bad PERMS \"%s\": a comma-"
			    "separated list like read,write, or -", s);
		}
		for (k = 0; k < len; k++)
			if ((p[k] < 'a' || p[k] > 'z') && p[k] != '_') {
				json_decref(arr);
				return cli_usage(ctx->cmd, "bad permission "
				    "\"%.*s\" in \"%s\"", (int)len, p, s);
			}
		dup = 0;
		json_array_foreach(arr, i, v)
			if (json_string_length(v) == len &&
			    memcmp(json_string_value(v), p, len) == 0)
				dup = 1;
		if (!dup)
			json_array_append_new(arr, json_stringn(p, len));
		if (end == NULL)
			break;
		p = end + 1;
	}
	*out = arr;
	return 0;
}

int
cli_acl_set(struct cli_ctx *ctx, const struct cli_args *a)
{
	int global = cli_arg_count(a, OPT_GLOBAL) > 0, st;
	json_t *req, *path = NULL, *perms;
	int gi = global ? 0 : 1;

	if (global && a->npos != 2)
		return cli_usage(ctx->cmd, "with --global: GROUP PERMS|-");
	if (!global && a->npos != 3)
		return cli_usage(ctx->cmd, "want PATH GROUP PERMS|- "
		    "(or --global GROUP PERMS|-)");
	if ((st = parse_perms(ctx, a->pos[gi + 1], &perms)) != 0)
		return st;
	if (!global && (st = cli_arg_path(a->pos[0], &path)) != 0) {
		json_decref(perms);
		return st;
	}
	if (global)
		req = json_pack("{s:s, s:b, s:s, s:o}", "action", "acl.set",
		    "global", 1, "group", a->pos[gi], "permissions", perms);
	else
		req = json_pack("{s:s, s:o, s:s, s:o}", "action", "acl.set",
		    "path", path, "group", a->pos[gi], "permissions", perms);
	return call_quiet(ctx, req);
}

/* ---------------------------------------------------------------- group */

static int
group_simple(struct cli_ctx *ctx, const struct cli_args *a,
    const char *action)
{
	return call_quiet(ctx, json_pack("{s:s, s:s}", "action", action,
	    "group", a->pos[0]));
}

int
cli_group_create(struct cli_ctx *ctx, const struct cli_args *a)
{
	return group_simple(ctx, a, "group.create");
}

int
cli_group_delete(struct cli_ctx *ctx, const struct cli_args *a)
{
	return group_simple(ctx, a, "group.delete");
}

static int
member_change(struct cli_ctx *ctx, const struct cli_args *a,
    const char *action)
{
	return call_quiet(ctx, json_pack("{s:s, s:s, s:s}", "action", action,
	    "group", a->pos[0], "member", a->pos[1]));
}

int
cli_group_add(struct cli_ctx *ctx, const struct cli_args *a)
{
	return member_change(ctx, a, "group.member_add");
}

int
cli_group_remove(struct cli_ctx *ctx, const struct cli_args *a)
{
	return member_change(ctx, a, "group.member_remove");
}

/* name/count pairs, one per line (group list, principal list). */
static int
list_counts(struct cli_ctx *ctx, const char *action, const char *field,
    const char *count)
{
	json_t *resp, *e;
	struct table *t;
	char *row[2];
	size_t i;
	int st;

	if ((st = cli_rpc_call(ctx->rpc, json_pack("{s:s}", "action", action),
	    &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	t = table_new(2, NULL, 0);
	json_array_foreach(json_object_get(resp, field), i, e) {
		row[0] = cli_printable_field(e, "name");
		row[1] = cli_printable_field(e, count);
		table_add(t, row);
	}
	table_print(t, stdout);
	json_decref(resp);
	return cli_flush_stdout();
}

int
cli_group_list(struct cli_ctx *ctx, const struct cli_args *a)
{
	return list_counts(ctx, "group.list", "groups", "members");
}

int
cli_group_members(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *resp, *m;
	size_t i;
	char *s;
	int st;

	if ((st = cli_rpc_call(ctx->rpc, json_pack("{s:s, s:s}", "action",
	    "group.member_list", "group", a->pos[0]), &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	json_array_foreach(json_object_get(resp, "members"), i, m) {
		s = cli_printable(json_is_string(m) ? json_string_value(m) :
		    NULL);
		printf("%s\n", s);
		free(s);
	}
	json_decref(resp);
	return cli_flush_stdout();
}

/* ------------------------------------------------------------ principal */

/* --key FILE|-: the validated key as "type base64", or an exit status. */
static int
key_arg(struct cli_ctx *ctx, const struct cli_args *a, char **out)
{
	const char *file = cli_arg_last(a, OPT_KEY);
	struct sshkey_pub k;
	int st;

	*out = NULL;
	if (file == NULL)
		return cli_usage(ctx->cmd, "--key FILE|- is required");
	if ((st = cli_read_pubkey(file, &k)) != 0)
		return st;
	*out = xasprintf("%s %s", k.type, k.b64);
	sshkey_pub_free(&k);
	return 0;
}

int
cli_principal_create(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *req, *groups;
	char *key;
	int st, i, n = cli_arg_count(a, OPT_GROUP);

	if ((st = key_arg(ctx, a, &key)) != 0)
		return st;
	req = json_pack("{s:s, s:s, s:s}", "action", "principal.create",
	    "principal", a->pos[0], "key", key);
	free(key);
	if (req != NULL && n > 0) {
		groups = json_array();
		for (i = 0; i < n; i++)
			if (json_array_append_new(groups, json_string(
			    cli_arg_nth(a, OPT_GROUP, i))) != 0) {
				json_decref(groups);
				json_decref(req);
				return cli_err(SD_EBADREQ, "--group \"%s\" is "
				    "not valid UTF-8",
				    cli_arg_nth(a, OPT_GROUP, i));
			}
		json_object_set_new(req, "groups", groups);
	}
	return call_fingerprint(ctx, req);
}

int
cli_principal_delete(struct cli_ctx *ctx, const struct cli_args *a)
{
	return call_quiet(ctx, json_pack("{s:s, s:s}", "action",
	    "principal.delete", "principal", a->pos[0]));
}

int
cli_principal_show(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *resp, *k;
	struct table *t;
	size_t i;
	char *type, *fp;
	int st;

	if ((st = cli_rpc_call(ctx->rpc, json_pack("{s:s, s:s}", "action",
	    "principal.show", "principal", a->pos[0]), &resp)) != 0)
		return st;
	if (ctx->cfg->json)
		return cli_emit_json(resp);
	t = table_new(2, NULL, 0);
	row2(t, "principal", cli_printable_field(resp, "principal"));
	row2(t, "created", cli_printable_field(resp, "created_at"));
	row2(t, "groups", cli_printable_list(json_object_get(resp, "groups"),
	    ",", "-"));
	json_array_foreach(json_object_get(resp, "keys"), i, k) {
		type = cli_printable_field(k, "type");
		fp = cli_printable_field(k, "fingerprint");
		row2(t, "key", xasprintf("%s %s", type, fp));
		free(type);
		free(fp);
	}
	table_print(t, stdout);
	json_decref(resp);
	return cli_flush_stdout();
}

int
cli_principal_list(struct cli_ctx *ctx, const struct cli_args *a)
{
	return list_counts(ctx, "principal.list", "principals", "keys");
}

int
cli_principal_key_add(struct cli_ctx *ctx, const struct cli_args *a)
{
	json_t *req;
	char *key;
	int st;

	if ((st = key_arg(ctx, a, &key)) != 0)
		return st;
	req = json_pack("{s:s, s:s, s:s}", "action", "principal.key_add",
	    "principal", a->pos[0], "key", key);
	free(key);
	return call_fingerprint(ctx, req);
}

int
cli_principal_key_remove(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *arg = cli_arg_last(a, OPT_KEY);
	json_t *req;
	char *key;
	int st;

	if (arg != NULL && strncmp(arg, "SHA256:", 7) == 0) {
		if (!sshkey_fp_valid(arg))
			return cli_usage(ctx->cmd, "bad fingerprint \"%s\": "
			    "SHA256: and 43 base64 characters", arg);
		return call_quiet(ctx, json_pack("{s:s, s:s, s:s}", "action",
		    "principal.key_remove", "principal", a->pos[0],
		    "fingerprint", arg));
	}
	if ((st = key_arg(ctx, a, &key)) != 0)
		return st;
	req = json_pack("{s:s, s:s, s:s}", "action", "principal.key_remove",
	    "principal", a->pos[0], "key", key);
	free(key);
	return call_quiet(ctx, req);
}

/*
 * delegate.c - the delegation rule, in one place (delegate.h says which
 * action asks what).  What a caller holds is read in the request's own
 * transaction, the statement that compares it with what a group holds is
 * ST_DELEG_MISSING (store.c): bounded, one walk up the tree per node
 * grant of the groups concerned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "delegate.h"
#include "store.h"
#include "xmalloc.h"

/* "read,write" for bits; names as in acl.c. */
static void
perm_names(int bits, int global, char *buf, size_t size)
{
	json_t *a = acl_perms_to_json(bits, global), *v;
	size_t i, off = 0;

	buf[0] = '\0';
	json_array_foreach(a, i, v) {
		int n = snprintf(buf + off, size - off, "%s%s", i ? "," : "",
		    json_string_value(v));
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
	json_decref(a);
}

/* Note in the audit row what the rule found missing. */
static void
note(struct request *r, const char *group, const struct sd_path *at,
    int bits, int global)
{
	json_t *d = json_object();

	if (group != NULL)
		json_object_set_new(d, "group", json_string(group));
	json_object_set_new(d, "global", json_boolean(global));
	if (at != NULL)
		json_object_set_new(d, "path", path_to_json(at));
	json_object_set_new(d, "permissions", acl_perms_to_json(bits, global));
	if (r->detail == NULL)
		r->detail = json_object();
	json_object_set_new(r->detail, "delegation", d);
}

/* What is missing, as found by ST_DELEG_MISSING. */
struct lack {
	char	 group[65];
	int	 global;
	int	 bits;
	char	*where;		/* node grants: "prod/db", "/" for the root */
	struct sd_path at;
};

static void
lack_free(struct lack *l)
{
	free(l->where);
	path_free(&l->at);
}

/*
 * Does principal caller (id) hold everything the groups gids, and those
 * of principal pid (0: none), hold?  0: yes; 1: no, *l says what is
 * missing (one thing: the first global grant, else the first node
 * grant by path); or a database error.
 */
static int
lacks(struct request *r, long long caller, const char *gids,
    long long pid, struct lack *l)
{
	struct params p;
	PGresult *res;
	int e;

	memset(l, 0, sizeof(*l));
	params_init(&p);
	params_int(&p, caller);
	params_text(&p, gids);
	if (pid != 0)
		params_int(&p, pid);
	else
		params_null(&p);
	if ((e = db_exec_params(r->db, ST_DELEG_MISSING, &p, &res)) != 0)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	snprintf(l->group, sizeof(l->group), "%s", PQgetvalue(res, 0, 0));
	l->global = PQgetisnull(res, 0, 1);
	l->bits = atoi(PQgetvalue(res, 0, 2));
	if (!l->global) {
		if ((e = store_path_from_pg(PQgetvalue(res, 0, 1),
		    &l->at)) != 0) {
			PQclear(res);
			return e;
		}
		l->where = l->at.n == 0 ? xstrdup("/") :
		    path_to_string(&l->at);
	}
	PQclear(res);
	note(r, l->group, l->global ? NULL : &l->at, l->bits, l->global);
	return 1;
}

int
delegate_groups(struct request *r, const char *gids)
{
	char names[64];
	struct lack l;
	int e;

	if ((e = lacks(r, r->sess->principal_id, gids, 0, &l)) <= 0)
		return e;
	perm_names(l.bits, l.global, names, sizeof(names));
	if (l.global)
		e = req_fail(r, SD_EPERM, "group %s holds global %s, which "
		    "you do not hold", l.group, names);
	else
		e = req_fail(r, SD_EPERM, "group %s holds %s at %s, which "
		    "you do not hold there", l.group, names, l.where);
	lack_free(&l);
	return e;
}

int
delegate_principal(struct request *r, long long pid, const char *name)
{
	char names[64];
	struct lack l;
	int e;

	if ((e = lacks(r, r->sess->principal_id, "{}", pid, &l)) <= 0)
		return e;
	perm_names(l.bits, l.global, names, sizeof(names));
	if (l.global)
		e = req_fail(r, SD_EPERM, "principal %s holds global %s "
		    "(group %s), which you do not hold", name, names, l.group);
	else
		e = req_fail(r, SD_EPERM, "principal %s holds %s at %s "
		    "(group %s), which you do not hold there", name, names,
		    l.where, l.group);
	lack_free(&l);
	return e;
}

int
delegate_node_grant(struct request *r, int held, int old, int want,
    const char *group)
{
	int newly = want & ~old, lack = newly & ~held;
	char names[64], *where;

	if (lack == 0)
		return 0;
	note(r, group, &r->path, lack, 0);
	perm_names(lack, 0, names, sizeof(names));
	where = r->path.n == 0 ? xstrdup("/") : path_to_string(&r->path);
	req_fail(r, SD_EPERM, "granting %s at %s needs %s there, which you "
	    "do not hold", names, where, names);
	free(where);
	return SD_EPERM;
}

int
delegate_global_grant(struct request *r, int held, int old, int want)
{
	int lack = (old ^ want) & ~held;
	char names[64];

	if (held == 0) {
		note(r, NULL, NULL, want, 1);
		return req_fail(r, SD_EPERM, "changing global grants needs a "
		    "global permission; you hold none");
	}
	if (lack == 0)
		return 0;
	note(r, NULL, NULL, lack, 1);
	perm_names(lack, 1, names, sizeof(names));
	return req_fail(r, SD_EPERM, "granting or removing global %s needs "
	    "it, which you do not hold", names);
}

int
delegate_token_create(struct request *r, int allow_rekey,
    const char *pattern)
{
	/* "*", "?*", "**": a pattern of wildcards alone names everyone */
	if (allow_rekey && pattern[strspn(pattern, "*?")] == '\0')
		return req_fail(r, SD_EBADREQ, "allow_rekey needs a "
		    "name_pattern that names the hosts it may re-key (not "
		    "only * and ?)");
	return 0;
}

int
delegate_token_use(struct request *r, const char *creator,
    const char *gids)
{
	const char *v[1] = { creator };
	char names[64];
	long long cid;
	struct lack l;
	PGresult *res;
	int e;

	if ((e = db_exec(r->db, ST_PRINCIPAL_ID, 1, v, NULL, NULL,
	    &res)) != 0)
		return e;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return req_fail(r, SD_EPERM, "enrolment refused: the token's "
		    "creator %s no longer exists", creator);
	}
	cid = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if ((e = lacks(r, cid, gids, 0, &l)) <= 0)
		return e;
	perm_names(l.bits, l.global, names, sizeof(names));
	if (l.global)
		e = req_fail(r, SD_EPERM, "enrolment refused: group %s holds "
		    "global %s, which the token's creator %s no longer holds",
		    l.group, names, creator);
	else
		e = req_fail(r, SD_EPERM, "enrolment refused: group %s holds "
		    "%s at %s, which the token's creator %s no longer holds "
		    "there", l.group, names, l.where, creator);
	lack_free(&l);
	return e;
}

int
delegate_rekey_target(struct request *r, long long pid, const char *name,
    const char *gids)
{
	struct params p;
	char names[64], other[65];
	PGresult *res;
	int e, global;

	params_init(&p);
	params_int(&p, pid);
	params_text(&p, gids);
	if ((e = db_exec_params(r->db, ST_DELEG_REKEY, &p, &res)) != 0)
		return e;
	global = atoi(PQgetvalue(res, 0, 0));
	snprintf(other, sizeof(other), "%s", PQgetisnull(res, 0, 1) ? "" :
	    PQgetvalue(res, 0, 1));
	PQclear(res);
	if (global != 0) {
		note(r, NULL, NULL, global, 1);
		perm_names(global, 1, names, sizeof(names));
		return req_fail(r, SD_EPERM, "enrolment refused: principal %s "
		    "holds global %s; a rekey token takes over only a "
		    "principal that holds nothing beyond the token's groups",
		    name, names);
	}
	if (other[0] != '\0') {
		note(r, other, NULL, 0, 0);
		return req_fail(r, SD_EPERM, "enrolment refused: principal %s "
		    "is in group %s, which the token does not give; a rekey "
		    "token takes over only a principal that holds nothing "
		    "beyond the token's groups", name, other);
	}
	return 0;
}

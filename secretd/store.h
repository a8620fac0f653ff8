/*
 * store.h - every SQL statement secretd runs, by number.
 *
 * The statements are prepared on each pooled connection (db.c) and run
 * with parameters only.  Paths travel as text[] literals built by
 * store_path_param(), which quotes every element.
 */
#ifndef SECRETD_STORE_H
#define SECRETD_STORE_H

#include "db.h"
#include "path.h"

enum stmt {
	ST_KEY_LOOKUP,		/* fp -> principal id, name */
	ST_GLOBAL_PERMS,	/* principal id, key fp -> bits */
	ST_PRINCIPAL_GROUPS,	/* principal id -> group names */
	ST_KEY_VALID,		/* principal id, key fp -> still its key? */
	ST_NODE_PERMS,		/* principal id, path, NULL, key fp -> bits,
				   node id */
	ST_GET_MANY,		/* principal id, path, version?, key fp, as
				   arrays -> a row per read */
	ST_GET_ONE,		/* the same for one read, scalars */
	ST_GET_AUDITED,		/* audit row (15, arrays of one), get_one's 4,
				   expected version, READ -> get_one's row,
				   row id or NULL */
	ST_NODE_LOCK,		/* node id -> node id, current, live, stale
				   (locks) */
	ST_PUT_VERSION,		/* node, version, key, nonce, ct, by, max */
	ST_TOMBSTONE,		/* node, version, by, max */
	ST_DELETE_TREE,		/* node id, by, max -> rows deleted */
	ST_LIST,		/* node id, limit */
	ST_LIST_TREE,		/* node id, limit */
	ST_HISTORY,		/* node id */
	ST_ENSURE_PATH,		/* path -> node id */
	ST_PUT_LOCK_ONE,	/* ST_PUT_LOCK for one put, scalars */
	ST_PUT_LOCK,		/* principal, path, needed, key fp -> perms, found,
				   node, current, live, stale (locks) */
	ST_ACL_GET,		/* path -> depth, group, perms */
	ST_ACL_GLOBAL_GET,	/* -> group, perms */
	ST_GROUP_ID,		/* name -> id */
	ST_GRANT_SET,		/* node, group, perms */
	ST_GRANT_DELETE,	/* node, group */
	ST_GLOBAL_GRANT_SET,	/* group, perms */
	ST_GLOBAL_GRANT_DELETE,	/* group */
	ST_GROUP_CREATE,	/* name */
	ST_GROUP_DELETE,	/* name */
	ST_GROUP_LIST,
	ST_MEMBER_ADD,		/* principal id, group id */
	ST_MEMBER_REMOVE,	/* principal id, group id */
	ST_MEMBER_LIST,		/* group id */
	ST_PRINCIPAL_ID,	/* name -> id, created_at */
	ST_PRINCIPAL_CREATE,	/* name -> id */
	ST_PRINCIPAL_DELETE,	/* name */
	ST_PRINCIPAL_LIST,
	ST_PRINCIPAL_KEYS,	/* principal id */
	ST_KEY_ADD,		/* fp, principal id, type, b64 */
	ST_KEY_REMOVE,		/* principal id, fp */
	ST_AUDIT_INSERT,	/* the columns (audit_row.h) -> id, mac per
				   row */
	ST_SEAL_HEAD,		/* -> seq, hash of the last seal */
	ST_SEAL_INSERT,		/* seqs[], ids[], hashes[] */
	ST_UNSEALED,		/* -> recent rows with no seal, as
				   ST_AUDIT_ROWS */
	ST_SEAL_LOCK,		/* transaction lock on the chain */
	ST_SEALED_AMONG,	/* ids[] -> those already sealed */
	ST_VERSION_GET,		/* node, version -> deleted, key, nonce, ct */
	ST_DESTROY,		/* node, versions[] -> versions destroyed */
	ST_VERSIONS_COUNT,	/* node, versions[] -> how many exist */
	ST_GET_TREE,		/* principal, node, perms at node, recursive,
				   limit, READ, bytes, key fp */
	ST_ACL_WHO,		/* path -> perms, principal, group, depth */
	ST_TOKEN_CREATE,	/* hash, pattern, groups, uses, rekey, cidrs, ttl s, by */
	ST_TOKEN_LIST,
	ST_TOKEN_REVOKE,	/* id */
	ST_TOKEN_FIND,		/* hash -> token row (locked) */
	ST_TOKEN_USE,		/* id */
	ST_PRINCIPAL_KEYS_DELETE, /* principal id */
	ST_MEMBER_ADD_IDS,	/* principal id, group ids[] */
	ST_GROUP_IDS,		/* names[] -> ids[] of those that exist */
	ST_DELEG_MISSING,	/* caller, group ids[], principal? -> group,
				   path (NULL: global), bits the caller lacks
				   (delegate.c) */
	ST_DELEG_REKEY,		/* principal, group ids[] -> its global perms,
				   a group of it not among the ids */
	ST_GRANT_OLD,		/* node id (0: none), group name -> group id,
				   its grant there */
	ST_GLOBAL_GRANT_OLD,	/* group name -> group id, its global grant */
	ST_AUDIT_QUERY,		/* since, until, principal, prefix, action,
				   result, before id, limit */
	ST_AUDIT_ROWS,		/* after id, limit: rows, canonical fields */
	ST_AUDIT_SEALS,		/* after seq, limit: seals, their row's MAC */
	ST_AUDIT_UNSEALED,	/* (none) */
	ST_AUDIT_SEALED,	/* audit id */
	ST_SEAL_AT,		/* seq -> hash */
	ST_AUDIT_HASH_ROWS,	/* value hash, path prefix, limit */
	ST_REPORT_PRINCIPALS,	/* since */
	ST_REPORT_PATHS,	/* since */
	ST_REPORT_DAYS,		/* since */
	ST_REPORT_DENIED,	/* since */
	ST_REPORT_STALE,	/* older than seconds */
	ST_REPORT_ACCESS,
	ST_ENROL_BLOCKED,	/* bucket, failures, window s -> 0 or 1 */
	ST_ENROL_FAIL,		/* bucket, window s (counts one failure) */
	ST__COUNT
};

extern const struct db_stmt store_stmts[ST__COUNT];

/* Postgres text[] literal for a path: {"a","b\"c"}.  Caller frees. */
char	*store_path_param(const struct sd_path *p);

/* Parse a text[] value (as returned by libpq in text form) into p. */
int	store_path_from_pg(const char *s, struct sd_path *p) SD_MUST_CHECK;

#endif

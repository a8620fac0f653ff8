/*
 * store.c - the SQL of secretd, in one place.
 *
 * Each statement is a bounded number of index lookups: paths resolve
 * level by level through node(parent_id, name), never by scanning the
 * tree.  The caller's permission at a path is computed one way, by
 * PATHS_WALK, for one request or a batch alike (node_perms, get_many,
 * get_audited, put_lock).  Two other walks are not the caller's
 * permission: sd_resolve (sql/001_baseline.sql) finds a path's nodes
 * for acl.get and acl.who, which list every group's grants; get_tree
 * carries the caller's permission, found by node_perms, down a subtree.
 * Statements that change
 * versions lock the node row first, so concurrent writers to one secret
 * are serialised and none is lost.  A lock that waited behind a writer
 * returns that writer's node row but not its version row (the snapshot
 * predates it): those statements say so ("stale"), and the caller reads
 * again, lock in hand.
 */
#include <stdlib.h>
#include <string.h>

#include "audit_row.h"
#include "pg_array.h"
#include "store.h"
#include "xmalloc.h"

#define LIVE_VALUE \
	"coalesce(v.version IS NOT NULL AND NOT v.deleted, false)"

/*
 * The caller of a request, from its session's key: principal pr while
 * key fp (the fingerprint the session authenticated with) still belongs
 * to it, else NULL, which no group_member row matches.  Every statement
 * that reads the caller's grants names the caller this way, so removing
 * the key, the principal, a membership or a grant takes effect on the
 * next statement of every open session, on every secretd of the
 * database (docs/security.md, "Revocation"): one more index lookup in a
 * statement the request runs anyway, not one more round trip.
 */
#define WHO(pr, fp) \
	    "(SELECT k.principal_id FROM principal_key k " \
	    "WHERE k.fingerprint = " fp "::text " \
	    "AND k.principal_id = " pr "::bigint)"

/*
 * The walk of the caller's permission, the one for every statement that
 * checks it, for a batch of requests: principal, path, a third column
 * (named col) and the session's key (WHO) per request, from src, one of:
 *
 *   REQS_MANY   $1..$4 as arrays, an element per request (a batch);
 *   REQS_ONE    $1..$4 as scalars: a batch of one.  PostgreSQL plans an
 *               array statement anew on every call (its generic plan,
 *               made for arrays of unknown length, costs more than a
 *               custom one for one element; the planning takes ~1 ms),
 *               while the scalar form is planned once per connection.
 *
 * "res" has a row per request: ord (its place), col, perms p (the union
 * of its grants on the way) and the target node (NULL when the path
 * does not exist).  Each level is one index lookup, a scalar subquery,
 * so that no plan can scan node instead (a plan made while the table
 * was small would: node is small until the secrets come); a step that
 * finds nothing has a NULL id and ends the walk.
 */
#define REQS_MANY \
	    "unnest($1::bigint[], $2::text[], $3::integer[], $4::text[]) " \
	    "WITH ORDINALITY"
#define REQS_ONE	REQS_ONE_AT("$1", "$2", "$3", "$4")
#define REQS_ONE_AT(pr, path, c3, fp) \
	    "(VALUES (" pr "::bigint, " path "::text, " c3 "::integer, " \
	    fp "::text, 1::bigint))"
#define PATHS_WALK(col, src) \
	    "WITH RECURSIVE req AS MATERIALIZED (SELECT u.ord, " \
	    WHO("u.who", "u.fp") " AS who, " \
	    "u.path::text[] AS path, u." col " FROM " src " " \
	    "AS u(who, path, " col ", fp, ord)), " \
	    "walk(ord, who, path, depth, id) AS (SELECT ord, who, path, 0, " \
	    "1::bigint FROM req UNION ALL SELECT w.ord, w.who, w.path, " \
	    "w.depth + 1, (SELECT n.id FROM node n WHERE n.parent_id = w.id " \
	    "AND n.name = w.path[w.depth + 1]) FROM walk w " \
	    "WHERE w.id IS NOT NULL AND w.depth < cardinality(w.path)), " \
	    "perms AS (SELECT w.ord, bit_or(g.perms) AS p FROM walk w " \
	    "JOIN node_grant g ON g.node_id = w.id " \
	    "JOIN group_member m ON m.group_id = g.group_id " \
	    "AND m.principal_id = w.who GROUP BY w.ord), " \
	    "res AS MATERIALIZED (SELECT r.ord, r." col ", " \
	    "coalesce(perms.p, 0) AS p, w.id AS target FROM req r " \
	    "LEFT JOIN perms ON perms.ord = r.ord " \
	    "LEFT JOIN walk w ON w.ord = r.ord " \
	    "AND w.depth = cardinality(w.path)) "

/* get_many's query (ST_GET_MANY, ST_GET_ONE, ST_GET_AUDITED): a row per
 * read, in their order */
#define GET_READ(src) \
	    PATHS_WALK("want", src) \
	    "SELECT res.p, x.id, x.version, x.deleted, x.key_id, x.nonce, " \
	    "x.ciphertext, x.ts, x.created_by FROM res LEFT JOIN LATERAL " \
	    "(SELECT n.id, v.version, v.deleted, v.key_id, v.nonce, " \
	    "v.ciphertext, sd_ts(v.created_at) AS ts, v.created_by " \
	    "FROM node n LEFT JOIN secret_version v ON v.node_id = n.id " \
	    "AND v.version = coalesce(res.want, n.current_version) " \
	    "WHERE n.id = res.target) x ON true ORDER BY res.ord"

/* put_lock's query (ST_PUT_LOCK, ST_PUT_LOCK_ONE) */
#define PUT_LOCK(src) \
	    PATHS_WALK("need", src) ", " \
	    "locked AS MATERIALIZED (SELECT n.id, n.current_version " \
	    "FROM node n WHERE n.id IN (SELECT target FROM res " \
	    "WHERE need <> 0 AND p & need = need) ORDER BY n.id " \
	    "FOR UPDATE OF n) " \
	    "SELECT res.p, res.target, n.id, n.current_version, " \
	    LIVE_VALUE ", n.current_version IS DISTINCT FROM " \
	    "(SELECT current_version FROM node WHERE id = n.id) " \
	    "FROM res LEFT JOIN locked n ON n.id = res.target " \
	    "LEFT JOIN secret_version v ON v.node_id = n.id " \
	    "AND v.version = n.current_version ORDER BY res.ord"

const struct db_stmt store_stmts[ST__COUNT] = {
	[ST_KEY_LOOKUP] = { "key_lookup",
	    "SELECT p.id, p.name FROM principal_key k "
	    "JOIN principal p ON p.id = k.principal_id "
	    "WHERE k.fingerprint = $1" },
	[ST_GLOBAL_PERMS] = { "global_perms",
	    "SELECT sd_global_perms(" WHO("$1", "$2") ")" },
	[ST_PRINCIPAL_GROUPS] = { "principal_groups",
	    "SELECT g.name FROM group_member m JOIN grp g ON g.id = m.group_id "
	    "WHERE m.principal_id = $1 ORDER BY g.name" },
	/* off the fast path: after a refusal, is the session's key gone? */
	[ST_KEY_VALID] = { "key_valid",
	    "SELECT EXISTS " WHO("$1", "$2") },
	/* one walk down the path serves the permission check and the node
	 * ($3, an array of one NULL, is unused) */
	[ST_NODE_PERMS] = { "node_perms",
	    PATHS_WALK("need", REQS_ONE)
	    "SELECT res.p, res.target FROM res" },
	/* get for a batch of reads: $3 the version asked, NULL for the
	 * latest; a row per read, in their order */
	[ST_GET_MANY] = { "get_many",
	    GET_READ(REQS_MANY) },
	[ST_GET_ONE] = { "get_one",
	    GET_READ(REQS_ONE) },
	/*
	 * get_many and its audit row in one statement, for a lone get that
	 * expects version $20 (struct plan's guess): the row ($1..$15, as
	 * audit_insert's, built for a success at version $20) is inserted
	 * only if the read succeeds at that version with permission $21,
	 * and commits with the statement; else nothing is written.  Then
	 * get_many's parameters, $16..$19.
	 */
	[ST_GET_AUDITED] = { "get_audited",
	    "WITH g AS MATERIALIZED ("
	    GET_READ(REQS_ONE_AT("$16", "$17", "$18", "$19"))
	    "), a AS (" AUDIT_INSERT_SQL_FROM("(SELECT 1 FROM g "
	    "WHERE g.p & $21::integer = $21::integer AND $21::integer <> 0 "
	    "AND g.version = $20::integer AND NOT g.deleted "
	    "AND g.ciphertext IS NOT NULL) AS ok, ") "RETURNING id) "
	    "SELECT g.*, (SELECT id FROM a) FROM g" },
	/* "stale" as in put_lock: read it again, lock in hand */
	[ST_NODE_LOCK] = { "node_lock",
	    "SELECT n.id, n.current_version, " LIVE_VALUE ", "
	    "n.current_version IS DISTINCT FROM "
	    "(SELECT current_version FROM node WHERE id = n.id) "
	    "FROM node n LEFT JOIN secret_version v ON v.node_id = n.id "
	    "AND v.version = n.current_version WHERE n.id = $1 "
	    "FOR UPDATE OF n" },
	/*
	 * New versions, a row per node (put_rows.h): $1..$6 are the
	 * columns as arrays, $7 the versions kept.  "old" has each node's
	 * pruned_to before this statement moves it.
	 */
	[ST_PUT_VERSION] = { "put_version",
	    "WITH d AS MATERIALIZED (SELECT * FROM unnest($1::bigint[], "
	    "$2::integer[], $3::integer[], $4::bytea[], $5::bytea[], "
	    "$6::text[]) AS d(node_id, version, key_id, nonce, ciphertext, "
	    "created_by)), "
	    "old AS MATERIALIZED (SELECT d.node_id, d.version, "
	    "(SELECT n.pruned_to FROM node n WHERE n.id = d.node_id) "
	    "AS pruned_to FROM d), "
	    "ins AS (INSERT INTO secret_version "
	    "(node_id, version, key_id, nonce, ciphertext, created_by) "
	    "SELECT node_id, version, key_id, nonce, ciphertext, created_by "
	    "FROM d), "
	    "upd AS (UPDATE node n SET current_version = d.version, "
	    "pruned_to = greatest(n.pruned_to, d.version - $7::integer) "
	    "FROM d WHERE n.id = d.node_id AND n.id = ANY($1::bigint[])) "
	    /* both bounds from one row of old: one index range per node */
	    "DELETE FROM secret_version s USING old "
	    "WHERE s.node_id = old.node_id "
	    "AND s.version <= old.version - $7::integer "
	    "AND s.version > old.pruned_to" },
	[ST_TOMBSTONE] = { "tombstone",
	    "WITH ins AS (INSERT INTO secret_version "
	    "(node_id, version, deleted, created_by) "
	    "VALUES ($1, $2, true, $3)), "
	    "old AS (SELECT pruned_to FROM node WHERE id = $1), "
	    "upd AS (UPDATE node SET current_version = $2, pruned_to = "
	    "greatest(pruned_to, $2::integer - $4::integer) WHERE id = $1) "
	    "DELETE FROM secret_version WHERE node_id = $1 "
	    "AND version <= $2::integer - $4::integer "
	    "AND version > (SELECT pruned_to FROM old)" },
	[ST_DELETE_TREE] = { "delete_tree",
	    "WITH RECURSIVE sub(id) AS (SELECT $1::bigint UNION ALL "
	    "SELECT n.id FROM node n JOIN sub ON n.parent_id = sub.id), "
	    "live AS (SELECT n.id, n.current_version + 1 AS version, "
	    "n.pruned_to FROM node n JOIN sub ON sub.id = n.id "
	    "JOIN secret_version v ON v.node_id = n.id "
	    "AND v.version = n.current_version AND NOT v.deleted "
	    "FOR UPDATE OF n), "
	    "ins AS (INSERT INTO secret_version "
	    "(node_id, version, deleted, created_by) "
	    "SELECT id, version, true, $2 FROM live RETURNING node_id, version), "
	    "pruned AS (DELETE FROM secret_version s USING live "
	    "WHERE s.node_id = live.id "
	    "AND s.version <= live.version - $3::integer "
	    "AND s.version > live.pruned_to) "
	    "UPDATE node SET current_version = ins.version, pruned_to = "
	    "greatest(node.pruned_to, ins.version - $3::integer) FROM ins "
	    "WHERE node.id = ins.node_id RETURNING node.id" },
	[ST_LIST] = { "list",
	    "SELECT ARRAY[c.name], " LIVE_VALUE ", "
	    "nullif(c.current_version, 0), sd_ts(v.created_at), "
	    "(SELECT count(*) FROM node g WHERE g.parent_id = c.id) "
	    "FROM node c LEFT JOIN secret_version v ON v.node_id = c.id "
	    "AND v.version = c.current_version "
	    "WHERE c.parent_id = $1 ORDER BY c.name COLLATE \"C\" LIMIT $2" },
	[ST_LIST_TREE] = { "list_tree",
	    "WITH RECURSIVE t(id, rel) AS ("
	    "SELECT id, ARRAY[name] FROM node WHERE parent_id = $1 "
	    "UNION ALL SELECT n.id, t.rel || n.name "
	    "FROM t JOIN node n ON n.parent_id = t.id) "
	    "SELECT t.rel, " LIVE_VALUE ", "
	    "nullif(c.current_version, 0), sd_ts(v.created_at), "
	    "(SELECT count(*) FROM node g WHERE g.parent_id = c.id) "
	    "FROM t JOIN node c ON c.id = t.id "
	    "LEFT JOIN secret_version v ON v.node_id = c.id "
	    "AND v.version = c.current_version "
	    "ORDER BY t.rel COLLATE \"C\" LIMIT $2" },
	[ST_HISTORY] = { "history",
	    "SELECT s.version, s.deleted, s.ciphertext IS NULL, "
	    "sd_ts(s.created_at), s.created_by, n.current_version "
	    "FROM secret_version s JOIN node n ON n.id = s.node_id "
	    "WHERE s.node_id = $1 ORDER BY s.version DESC" },
	[ST_ENSURE_PATH] = { "ensure_path",
	    "SELECT sd_ensure_path($1::text[])" },
	/*
	 * The walk, the permission check and the lock of the node, for a
	 * put or a batch of puts (one statement: each parameter an array,
	 * an element per put, struct plan): principal $1, path $2,
	 * the permission bits $3 ("need") needed, the session's key $4.  Nothing is locked for a put
	 * unless its principal holds every bit of its $3; nodes are locked
	 * in id order, so that two batches cannot deadlock.  A row per put,
	 * in their order: "found" is the node at the path before the lock
	 * (NULL: the path does not exist yet, or the lock found it
	 * removed).  A writer that committed while we waited for the lock
	 * hands us its node row but not its version row (our snapshot
	 * predates it), so "stale" says that current and live must be read
	 * again.
	 */
	[ST_PUT_LOCK] = { "put_lock",
	    PUT_LOCK(REQS_MANY) },
	[ST_PUT_LOCK_ONE] = { "put_lock_one",
	    PUT_LOCK(REQS_ONE) },
	[ST_ACL_GET] = { "acl_get",
	    "SELECT r.depth, g.name, ng.perms FROM sd_resolve($1::text[]) r "
	    "JOIN node_grant ng ON ng.node_id = r.id "
	    "JOIN grp g ON g.id = ng.group_id ORDER BY r.depth, g.name" },
	[ST_ACL_GLOBAL_GET] = { "acl_global_get",
	    "SELECT g.name, gg.perms FROM global_grant gg "
	    "JOIN grp g ON g.id = gg.group_id ORDER BY g.name" },
	[ST_GROUP_ID] = { "group_id",
	    "SELECT id FROM grp WHERE name = $1" },
	[ST_GRANT_SET] = { "grant_set",
	    "INSERT INTO node_grant (node_id, group_id, perms) "
	    "VALUES ($1, $2, $3) ON CONFLICT (node_id, group_id) "
	    "DO UPDATE SET perms = EXCLUDED.perms" },
	[ST_GRANT_DELETE] = { "grant_delete",
	    "DELETE FROM node_grant WHERE node_id = $1 AND group_id = $2" },
	[ST_GLOBAL_GRANT_SET] = { "global_grant_set",
	    "INSERT INTO global_grant (group_id, perms) VALUES ($1, $2) "
	    "ON CONFLICT (group_id) DO UPDATE SET perms = EXCLUDED.perms" },
	[ST_GLOBAL_GRANT_DELETE] = { "global_grant_delete",
	    "DELETE FROM global_grant WHERE group_id = $1" },
	[ST_GROUP_CREATE] = { "group_create",
	    "INSERT INTO grp (name) VALUES ($1)" },
	[ST_GROUP_DELETE] = { "group_delete",
	    "DELETE FROM grp WHERE name = $1" },
	[ST_GROUP_LIST] = { "group_list",
	    "SELECT g.name, count(m.principal_id) FROM grp g "
	    "LEFT JOIN group_member m ON m.group_id = g.id "
	    "GROUP BY g.name ORDER BY g.name" },
	[ST_MEMBER_ADD] = { "member_add",
	    "INSERT INTO group_member (principal_id, group_id) "
	    "VALUES ($1, $2)" },
	[ST_MEMBER_REMOVE] = { "member_remove",
	    "DELETE FROM group_member WHERE principal_id = $1 "
	    "AND group_id = $2" },
	[ST_MEMBER_LIST] = { "member_list",
	    "SELECT p.name FROM group_member m "
	    "JOIN principal p ON p.id = m.principal_id "
	    "WHERE m.group_id = $1 ORDER BY p.name" },
	[ST_PRINCIPAL_ID] = { "principal_id",
	    "SELECT id, sd_ts(created_at) FROM principal WHERE name = $1" },
	[ST_PRINCIPAL_CREATE] = { "principal_create",
	    "INSERT INTO principal (name) VALUES ($1) RETURNING id" },
	[ST_PRINCIPAL_DELETE] = { "principal_delete",
	    "DELETE FROM principal WHERE name = $1" },
	[ST_PRINCIPAL_LIST] = { "principal_list",
	    "SELECT p.name, count(k.fingerprint) FROM principal p "
	    "LEFT JOIN principal_key k ON k.principal_id = p.id "
	    "GROUP BY p.name ORDER BY p.name" },
	[ST_PRINCIPAL_KEYS] = { "principal_keys",
	    "SELECT key_type, fingerprint, key_b64 FROM principal_key "
	    "WHERE principal_id = $1 ORDER BY created_at, fingerprint" },
	[ST_KEY_ADD] = { "key_add",
	    "INSERT INTO principal_key "
	    "(fingerprint, principal_id, key_type, key_b64) "
	    "VALUES ($1, $2, $3, $4)" },
	[ST_KEY_REMOVE] = { "key_remove",
	    "DELETE FROM principal_key WHERE principal_id = $1 "
	    "AND fingerprint = $2" },
	/*
	 * Audit rows, any number: $1..$15 are the columns as arrays
	 * (audit_row.h), returned in the order given (ORDER BY ord), each with
	 * its MAC so that the caller can check which id is whose.
	 */
	[ST_AUDIT_INSERT] = { "audit_insert",
	    AUDIT_INSERT_SQL "RETURNING id, encode(mac, 'hex')" },
	[ST_SEAL_HEAD] = { "seal_head",
	    "SELECT seq, hash FROM audit_seal ORDER BY seq DESC LIMIT 1" },
	[ST_SEAL_INSERT] = { "seal_insert",
	    "INSERT INTO audit_seal (seq, audit_id, hash) "
	    "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])" },
	[ST_SEAL_LOCK] = { "seal_lock",
	    "SELECT pg_advisory_xact_lock(7303711126)" },
	[ST_SEALED_AMONG] = { "sealed_among",
	    "SELECT audit_id FROM audit_seal WHERE audit_id = ANY($1::bigint[])" },
	[ST_UNSEALED] = { "unsealed",
	    "SELECT " AUDIT_SELECT_COLUMNS " FROM audit_log a WHERE a.id > "
	    "coalesce((SELECT max(audit_id) FROM audit_seal), 0) - 10000 "
	    "AND a.mac IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_seal s "
	    "WHERE s.audit_id = a.id) ORDER BY a.id" },
	[ST_VERSION_GET] = { "version_get",
	    "SELECT deleted, key_id, nonce, ciphertext FROM secret_version "
	    "WHERE node_id = $1 AND version = $2" },
	[ST_DESTROY] = { "destroy",
	    "UPDATE secret_version SET key_id = NULL, nonce = NULL, "
	    "ciphertext = NULL, destroyed_at = now() "
	    "WHERE node_id = $1 AND version = ANY($2::integer[]) "
	    "AND ciphertext IS NOT NULL RETURNING version" },
	[ST_VERSIONS_COUNT] = { "versions_count",
	    "SELECT count(*) FROM secret_version "
	    "WHERE node_id = $1 AND version = ANY($2::integer[])" },
	/*
	 * The readable values below a node for principal $1 with key $8
	 * (WHO): permissions accumulate down the
	 * tree from those held at the node ($3), one grant lookup per node;
	 * a value is returned only where they hold $6 (read).  The answer is
	 * bounded in bytes as well as rows: "upto" runs the ciphertext and
	 * path bytes of the values in path order, and a row is returned only
	 * if those before it come to less than $7.  Each row's bytes are
	 * fewer than its item takes in the JSON answer, so secretd, which
	 * stops at $7 bytes of JSON, never misses a row it would have sent;
	 * "total" counts every readable value, so it can tell the caller the
	 * answer was cut short.
	 */
	[ST_GET_TREE] = { "get_tree",
	    "WITH RECURSIVE g AS (SELECT ng.node_id, ng.perms "
	    "FROM node_grant ng JOIN group_member m "
	    "ON m.group_id = ng.group_id AND m.principal_id = "
	    WHO("$1", "$8") "), "
	    "t(id, rel, perms) AS ("
	    "SELECT n.id, ARRAY[n.name], $3::integer | coalesce((SELECT "
	    "bit_or(g.perms) FROM g WHERE g.node_id = n.id), 0) "
	    "FROM node n WHERE n.parent_id = $2 "
	    "UNION ALL SELECT n.id, t.rel || n.name, t.perms | coalesce(("
	    "SELECT bit_or(g.perms) FROM g WHERE g.node_id = n.id), 0) "
	    "FROM t JOIN node n ON n.parent_id = t.id WHERE $4::boolean), "
	    "s AS (SELECT t.rel, t.perms, v.version, v.key_id, v.nonce, "
	    "v.ciphertext, sd_ts(v.created_at) AS at, v.created_by, "
	    "t.id, octet_length(v.ciphertext) + octet_length(t.rel::text) AS sz, "
	    "count(*) OVER () AS total "
	    "FROM t JOIN node c ON c.id = t.id "
	    "JOIN secret_version v ON v.node_id = c.id "
	    "AND v.version = c.current_version AND NOT v.deleted "
	    "AND v.ciphertext IS NOT NULL "
	    "WHERE t.perms & $6::integer = $6::integer), "
	    "u AS (SELECT s.*, sum(s.sz) OVER (ORDER BY s.rel COLLATE \"C\" "
	    "ROWS UNBOUNDED PRECEDING) AS upto FROM s) "
	    "SELECT rel, perms, version, key_id, nonce, ciphertext, at, "
	    "created_by, id, total FROM u WHERE upto - sz < $7::bigint "
	    "ORDER BY rel COLLATE \"C\" LIMIT $5" },
	[ST_ACL_WHO] = { "acl_who",
	    "SELECT ng.perms, p.name, g.name, r.depth "
	    "FROM sd_resolve($1::text[]) r "
	    "JOIN node_grant ng ON ng.node_id = r.id "
	    "JOIN grp g ON g.id = ng.group_id "
	    "JOIN group_member m ON m.group_id = g.id "
	    "JOIN principal p ON p.id = m.principal_id "
	    "ORDER BY p.name COLLATE \"C\", r.depth, g.name" },
	/* the token and its groups in one statement; the count of groups
	 * found tells the caller whether one named in $3 is missing */
	[ST_TOKEN_CREATE] = { "token_create",
	    "WITH t AS (INSERT INTO enrol_token (token_hash, name_pattern, "
	    "uses_left, allow_rekey, cidrs, expires_at, created_by) "
	    "VALUES ($1, $2, $4, $5, $6::text[], "
	    "now() + make_interval(secs => $7::integer), $8) "
	    "RETURNING id, expires_at), "
	    "tg AS (INSERT INTO enrol_token_group (token_id, group_id) "
	    "SELECT t.id, g.id FROM t JOIN grp g ON g.name = ANY($3::text[]) "
	    "RETURNING group_id) "
	    "SELECT t.id, sd_ts(t.expires_at), (SELECT count(*) FROM tg) "
	    "FROM t" },
	[ST_TOKEN_LIST] = { "token_list",
	    "SELECT t.id, t.name_pattern, array(SELECT g.name "
	    "FROM enrol_token_group tg JOIN grp g ON g.id = tg.group_id "
	    "WHERE tg.token_id = t.id ORDER BY g.name), t.uses_left, "
	    "t.uses, t.allow_rekey, t.cidrs, sd_ts(t.expires_at), t.created_by, "
	    "sd_ts(t.created_at), CASE WHEN t.revoked_at IS NOT NULL THEN "
	    "'revoked' WHEN t.expires_at <= now() THEN 'expired' "
	    "WHEN t.uses_left = 0 THEN 'used' ELSE 'active' END "
	    "FROM enrol_token t ORDER BY t.id" },
	[ST_TOKEN_REVOKE] = { "token_revoke",
	    "UPDATE enrol_token SET revoked_at = coalesce(revoked_at, now()) "
	    "WHERE id = $1 RETURNING id" },
	[ST_TOKEN_FIND] = { "token_find",
	    "SELECT t.id, t.token_hash, t.name_pattern, array(SELECT tg.group_id "
	    "FROM enrol_token_group tg WHERE tg.token_id = t.id "
	    "ORDER BY tg.group_id), t.allow_rekey, t.cidrs, "
	    "(t.revoked_at IS NULL AND t.expires_at > now() AND "
	    "t.uses_left > 0), t.created_by "
	    "FROM enrol_token t WHERE t.token_hash = $1 FOR UPDATE OF t" },
	[ST_TOKEN_USE] = { "token_use",
	    "UPDATE enrol_token SET uses_left = uses_left - 1, uses = uses + 1 "
	    "WHERE id = $1" },
	[ST_PRINCIPAL_KEYS_DELETE] = { "principal_keys_delete",
	    "DELETE FROM principal_key WHERE principal_id = $1" },
	/* a token's groups that were deleted since are skipped: their ids
	 * are never reused (a group made again has a new one) */
	[ST_MEMBER_ADD_IDS] = { "member_add_ids",
	    "INSERT INTO group_member (principal_id, group_id) "
	    "SELECT $1, g.id FROM grp g WHERE g.id = ANY($2::bigint[]) "
	    "ON CONFLICT DO NOTHING" },
	[ST_GROUP_IDS] = { "group_ids",
	    "SELECT coalesce(array_agg(id ORDER BY id), '{}'), count(*) "
	    "FROM grp WHERE name = ANY($1::text[])" },
	/*
	 * The delegation rule (delegate.c): what the groups $2 (and those
	 * of principal $3, when not NULL) hold that caller $1 does not.
	 * Global: each group's global grant less the caller's.  Node: for
	 * each node grant of those groups, the walk "up" climbs from its
	 * node to the root by parent_id (one index lookup a level), and
	 * the caller's grants on that chain are what it holds there.  A
	 * row per group and grant node with something missing, at most
	 * one returned: global first.  "names" of the root row is the
	 * grant's path.
	 */
	[ST_DELEG_MISSING] = { "deleg_missing",
	    "WITH RECURSIVE gs AS MATERIALIZED ("
	    "SELECT unnest($2::bigint[]) AS id UNION "
	    "SELECT group_id FROM group_member WHERE principal_id = $3::bigint), "
	    "mine AS MATERIALIZED (SELECT group_id FROM group_member "
	    "WHERE principal_id = $1::bigint), "
	    "glob AS (SELECT gg.group_id, gg.perms & ~(SELECT "
	    "coalesce(bit_or(c.perms), 0) FROM global_grant c "
	    "WHERE c.group_id IN (SELECT group_id FROM mine)) AS miss "
	    "FROM global_grant gg WHERE gg.group_id IN (SELECT id FROM gs)), "
	    "up(group_id, start, perms, id, names) AS ("
	    "SELECT ng.group_id, ng.node_id, ng.perms, ng.node_id, "
	    "'{}'::text[] FROM node_grant ng "
	    "WHERE ng.group_id IN (SELECT id FROM gs) UNION ALL "
	    "SELECT up.group_id, up.start, up.perms, n.parent_id, "
	    "ARRAY[n.name] || up.names FROM up JOIN node n ON n.id = up.id "
	    "WHERE n.parent_id IS NOT NULL), "
	    "lack AS (SELECT up.group_id, up.start, "
	    "up.perms & ~coalesce(bit_or(cg.perms), 0) AS miss FROM up "
	    "LEFT JOIN node_grant cg ON cg.node_id = up.id "
	    "AND cg.group_id IN (SELECT group_id FROM mine) "
	    "GROUP BY up.group_id, up.start, up.perms) "
	    "SELECT g.name, NULL::text[], glob.miss FROM glob "
	    "JOIN grp g ON g.id = glob.group_id WHERE glob.miss <> 0 "
	    "UNION ALL SELECT g.name, p.names, lack.miss FROM lack "
	    "JOIN up p ON p.group_id = lack.group_id "
	    "AND p.start = lack.start AND p.id = 1 "
	    "JOIN grp g ON g.id = lack.group_id WHERE lack.miss <> 0 "
	    "ORDER BY 2 NULLS FIRST, 1 LIMIT 1" },
	[ST_DELEG_REKEY] = { "deleg_rekey",
	    "SELECT sd_global_perms($1::bigint), (SELECT g.name "
	    "FROM group_member m JOIN grp g ON g.id = m.group_id "
	    "WHERE m.principal_id = $1::bigint "
	    "AND NOT m.group_id = ANY($2::bigint[]) ORDER BY g.name LIMIT 1)" },
	[ST_GRANT_OLD] = { "grant_old",
	    "SELECT g.id, coalesce((SELECT ng.perms FROM node_grant ng "
	    "WHERE ng.node_id = $1::bigint AND ng.group_id = g.id), 0) "
	    "FROM (SELECT 1) one LEFT JOIN grp g ON g.name = $2" },
	[ST_GLOBAL_GRANT_OLD] = { "global_grant_old",
	    "SELECT g.id, coalesce((SELECT gg.perms FROM global_grant gg "
	    "WHERE gg.group_id = g.id), 0) "
	    "FROM (SELECT 1) one LEFT JOIN grp g ON g.name = $1" },
	[ST_AUDIT_QUERY] = { "audit_query",
	    "SELECT id, to_char(at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), principal, fingerprint, "
	    "action, path, version, result, error_code, client_addr, "
	    "client_port, session_id, request_id, encode(value_hash, 'hex'), "
	    "detail::text FROM audit_log "
	    "WHERE ($1::timestamptz IS NULL OR at >= $1) "
	    "AND ($2::timestamptz IS NULL OR at < $2) "
	    "AND ($3::text IS NULL OR principal = $3) "
	    "AND ($4::text[] IS NULL OR path[1:cardinality($4::text[])] = $4) "
	    "AND ($5::text IS NULL OR action = $5) "
	    "AND ($6::text IS NULL OR result = $6) "
	    "AND ($7::bigint IS NULL OR id < $7) "
	    "ORDER BY id DESC LIMIT $8" },
	/* audit.verify reads the trail a page at a time, in key order */
	[ST_AUDIT_ROWS] = { "audit_rows",
	    "SELECT " AUDIT_SELECT_COLUMNS " "
	    "FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2" },
	[ST_AUDIT_SEALS] = { "audit_seals",
	    "SELECT s.seq, s.audit_id, s.hash, a.mac FROM audit_seal s "
	    "LEFT JOIN audit_log a ON a.id = s.audit_id "
	    "WHERE s.seq > $1 ORDER BY s.seq LIMIT $2" },
	/* the first row older than a minute that no seal covers */
	[ST_AUDIT_UNSEALED] = { "audit_unsealed",
	    "SELECT min(a.id) FROM audit_log a "
	    "WHERE a.at < now() - interval '1 minute' AND NOT EXISTS "
	    "(SELECT 1 FROM audit_seal s WHERE s.audit_id = a.id)" },
	[ST_AUDIT_SEALED] = { "audit_sealed",
	    "SELECT EXISTS (SELECT 1 FROM audit_seal WHERE audit_id = $1)" },
	[ST_SEAL_AT] = { "seal_at",
	    "SELECT hash FROM audit_seal WHERE seq = $1" },
	/* audit.hash: the rows at or below a path whose value hash is $1
	 * (the partial index audit_log_value_hash, sql/009) */
	[ST_AUDIT_HASH_ROWS] = { "audit_hash_rows",
	    "SELECT id, to_char(at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), principal, fingerprint, "
	    "action, path, version, result, error_code, client_addr, "
	    "client_port, session_id, request_id FROM audit_log "
	    "WHERE value_hash = $1 "
	    "AND path[1:cardinality($2::text[])] = $2::text[] "
	    "ORDER BY id DESC LIMIT $3" },
	[ST_REPORT_PRINCIPALS] = { "report_principals",
	    "SELECT coalesce(principal, fingerprint, '?'), "
	    "count(*) FILTER (WHERE result = 'ok' AND action IN ('secret.get', 'secret.get_many')), "
	    "count(*) FILTER (WHERE result = 'ok' AND action IN ('secret.put', 'secret.delete', 'secret.undelete', 'secret.rollback', 'secret.destroy')), "
	    "count(*) FILTER (WHERE result = 'denied'), "
	    "count(*) FILTER (WHERE result = 'error') "
	    "FROM audit_log WHERE at >= $1 GROUP BY 1 ORDER BY 1" },
	[ST_REPORT_PATHS] = { "report_paths",
	    "SELECT path[1], "
	    "count(*) FILTER (WHERE result = 'ok' AND action IN ('secret.get', 'secret.get_many')), "
	    "count(*) FILTER (WHERE result = 'ok' AND action IN ('secret.put', 'secret.delete', 'secret.undelete', 'secret.rollback', 'secret.destroy')), "
	    "count(*) FILTER (WHERE result = 'denied') "
	    "FROM audit_log WHERE at >= $1 AND cardinality(path) > 0 "
	    "GROUP BY 1 ORDER BY 1" },
	[ST_REPORT_DAYS] = { "report_days",
	    "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), "
	    "count(*) FILTER (WHERE result = 'ok'), "
	    "count(*) FILTER (WHERE result = 'denied'), "
	    "count(*) FILTER (WHERE result = 'error') "
	    "FROM audit_log WHERE at >= $1 GROUP BY 1 ORDER BY 1" },
	[ST_REPORT_DENIED] = { "report_denied",
	    "SELECT principal, fingerprint, client_addr, action, path, "
	    "count(*), sd_ts(max(at)) FROM audit_log "
	    "WHERE at >= $1 AND result = 'denied' GROUP BY 1, 2, 3, 4, 5 "
	    "ORDER BY 6 DESC, 7 DESC LIMIT 1000" },
	[ST_REPORT_STALE] = { "report_stale",
	    "WITH RECURSIVE t(id, path) AS (SELECT 1::bigint, '{}'::text[] "
	    "UNION ALL SELECT n.id, t.path || n.name FROM t "
	    "JOIN node n ON n.parent_id = t.id) "
	    "SELECT t.path, v.version, sd_ts(v.created_at), "
	    "floor(extract(epoch FROM now() - v.created_at) / 86400)::integer "
	    "FROM t JOIN node c ON c.id = t.id "
	    "JOIN secret_version v ON v.node_id = c.id "
	    "AND v.version = c.current_version AND NOT v.deleted "
	    "WHERE v.created_at < now() - make_interval(secs => $1::integer) "
	    "ORDER BY v.created_at LIMIT 1000" },
	[ST_REPORT_ACCESS] = { "report_access",
	    "WITH RECURSIVE up(start, id, names) AS ("
	    "SELECT DISTINCT node_id, node_id, '{}'::text[] FROM node_grant "
	    "UNION ALL SELECT up.start, n.parent_id, ARRAY[n.name] || up.names "
	    "FROM up JOIN node n ON n.id = up.id WHERE n.parent_id IS NOT NULL) "
	    "SELECT p.name, u.names, ng.perms, g.name FROM up u "
	    "JOIN node root ON root.id = u.id AND root.parent_id IS NULL "
	    "JOIN node_grant ng ON ng.node_id = u.start "
	    "JOIN grp g ON g.id = ng.group_id "
	    "JOIN group_member m ON m.group_id = g.id "
	    "JOIN principal p ON p.id = m.principal_id "
	    "ORDER BY p.name COLLATE \"C\", u.names COLLATE \"C\", g.name" },
	/* enrolment rate limit (ratelimit.c): is the bucket's window still
	 * open and full? */
	[ST_ENROL_BLOCKED] = { "enrol_blocked",
	    "SELECT count(*) FROM enrol_attempt WHERE bucket = $1 "
	    "AND failures >= $2::integer "
	    "AND window_start > now() - make_interval(secs => $3::integer)" },
	/* one failure: a new window if the old one passed, else one more;
	 * and away with other buckets' passed windows (never this one's
	 * row, which the INSERT may update) */
	[ST_ENROL_FAIL] = { "enrol_fail",
	    "WITH gone AS (DELETE FROM enrol_attempt WHERE bucket <> $1 "
	    "AND window_start <= now() - make_interval(secs => $2::integer)) "
	    "INSERT INTO enrol_attempt AS a (bucket, window_start, failures) "
	    "VALUES ($1, now(), 1) ON CONFLICT (bucket) DO UPDATE SET "
	    "window_start = CASE WHEN a.window_start <= now() - "
	    "make_interval(secs => $2::integer) THEN now() "
	    "ELSE a.window_start END, "
	    "failures = CASE WHEN a.window_start <= now() - "
	    "make_interval(secs => $2::integer) THEN 1 "
	    "ELSE a.failures + 1 END" },
};

char *
store_path_param(const struct sd_path *p)
{
	struct pg_array a;
	int k;

	pg_array_init(&a);
	for (k = 0; k < p->n; k++)
		pg_array_text(&a, p->name[k]);
	return pg_array_take(&a);
}

/*
 * Parse libpq's text form of a text[]: {a,"b c","d\"e"}.  Elements are
 * quoted when they need it; NULL elements cannot occur in our paths.
 */
int
store_path_from_pg(const char *s, struct sd_path *p)
{
	char *buf;
	size_t len = strlen(s), bl;

	memset(p, 0, sizeof(*p));
	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return SD_EINTERNAL;
	s++;
	buf = xmalloc(len);
	while (*s != '}') {
		bl = 0;
		if (p->n >= PATH_MAX_DEPTH)
			goto bad;
		if (*s == '"') {
			for (s++; *s != '"'; s++) {
				if (*s == '\0')
					goto bad;
				if (*s == '\\' && s[1] != '\0')
					s++;
				buf[bl++] = *s;
			}
			s++;
		} else {
			while (*s != ',' && *s != '}' && *s != '\0')
				buf[bl++] = *s++;
		}
		buf[bl] = '\0';
		p->name[p->n++] = xstrdup(buf);
		if (*s == ',')
			s++;
		else if (*s != '}')
			goto bad;
	}
	free(buf);
	return 0;
bad:
	free(buf);
	path_free(p);
	return SD_EINTERNAL;
}

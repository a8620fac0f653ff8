-- 010_enrol_limit_harden: enrolment rate limits in the database, and a
-- schema that another role cannot plant objects in.

-- Failed enrolments per client address (the /64 for IPv6), one row per
-- bucket: the window starts at its first failure and lasts
-- RATELIMIT_WINDOW_S (secretd/ratelimit.h).  In the database, a restart
-- forgets nothing and every secretd on the database counts together.
-- Rows whose window has passed are deleted by the next failure anywhere,
-- so the table holds at most the buckets that failed within one window.
CREATE TABLE enrol_attempt (
	bucket		text PRIMARY KEY,
	window_start	timestamptz NOT NULL,
	failures	integer NOT NULL CHECK (failures > 0)
);
CREATE INDEX enrol_attempt_window ON enrol_attempt (window_start);
GRANT SELECT, INSERT, UPDATE, DELETE ON enrol_attempt TO secretd_runtime;

-- Nobody but the schema's owner creates objects in public: no role can
-- shadow a table, function or operator that secretd's statements and
-- functions name without a schema.  (PostgreSQL 15 creates new databases
-- this way; older ones and upgraded clusters still grant CREATE to
-- PUBLIC.)  Run by a role that neither owns the schema nor is a
-- superuser, this REVOKE changes nothing and PostgreSQL warns: the
-- check below says what to run instead.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$
BEGIN
	IF pg_catalog.has_schema_privilege('public', 'public', 'CREATE') THEN
		RAISE WARNING 'every role may still create objects in schema '
		    'public; as its owner run: REVOKE CREATE ON SCHEMA public '
		    'FROM PUBLIC';
	END IF;
END
$$;

-- A fixed search_path on every function, so that what a name in its
-- body means does not depend on the caller's search_path.  pg_temp is
-- named last so that a temporary table cannot come first either.
--
-- Not on the two SQL functions that the planner inlines into the
-- statements that call them: a function with a SET clause is never
-- inlined, and sd_ts is inlined into every get (005), sd_resolve into the
-- ACL statements and the permission functions.  Their bodies name every
-- table, function and operator with its schema instead, which protects
-- them the same way wherever they are expanded.
CREATE OR REPLACE FUNCTION sd_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT pg_catalog.to_char(t AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE OR REPLACE FUNCTION sd_resolve(p text[])
RETURNS TABLE (depth integer, id bigint)
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE walk(depth, id) AS (
		SELECT 0, 1::bigint
		UNION ALL
		SELECT w.depth OPERATOR(pg_catalog.+) 1, n.id
		FROM walk w JOIN public.node n
		  ON n.parent_id OPERATOR(pg_catalog.=) w.id
		 AND n.name OPERATOR(pg_catalog.=)
		     p[w.depth OPERATOR(pg_catalog.+) 1]
		WHERE w.depth OPERATOR(pg_catalog.<) pg_catalog.cardinality(p)
	)
	SELECT depth, id FROM walk
$$;

-- Every other function of ours in public (PL/pgSQL: never inlined, and
-- their statement plans are cached per search_path, which is now always
-- the same), including any that an earlier migration of this release
-- added.  Functions that belong to an extension are left to it.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure
		FROM pg_catalog.pg_proc p
		JOIN pg_catalog.pg_namespace s ON s.oid = p.pronamespace
		JOIN pg_catalog.pg_language l ON l.oid = p.prolang
		WHERE s.nspname = 'public'
		  AND l.lanname <> 'sql'
		  AND p.prokind IN ('f', 'p')
		  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
				  WHERE d.classid = 'pg_catalog.pg_proc'::regclass
				    AND d.objid = p.oid AND d.deptype = 'e')
	LOOP
		EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path '
		    '= pg_catalog, public, pg_temp', f);
	END LOOP;
END
$$;

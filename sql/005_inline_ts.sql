-- 005_inline_ts: sd_ts as STABLE, so that the planner inlines it.
-- 001 declared it IMMUTABLE, but its body is only STABLE (to_char reads
-- settings), and PostgreSQL inlines a SQL function only when the body is
-- no more volatile than the declaration.  Not inlined, its body was
-- parsed and planned again in every statement that formats a time:
-- about 15 % of PostgreSQL's CPU during a get (docs/performance.md).

CREATE OR REPLACE FUNCTION sd_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

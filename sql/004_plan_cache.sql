-- 004_plan_cache: the permission functions as PL/pgSQL, whose statement
-- plans are cached per session.  As LANGUAGE sql functions that the
-- planner cannot inline, PostgreSQL parsed and planned their bodies on
-- every call: 60 % of the CPU of a get (docs/performance.md).

CREATE OR REPLACE FUNCTION sd_node_id(p text[]) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT r.id FROM sd_resolve(p) r WHERE r.depth = cardinality(p));
END
$$;

CREATE OR REPLACE FUNCTION sd_node_perms(pr bigint, p text[]) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(bit_or(g.perms), 0)
		FROM sd_resolve(p) r
		JOIN node_grant g ON g.node_id = r.id
		JOIN group_member m ON m.group_id = g.group_id
		  AND m.principal_id = pr);
END
$$;

CREATE OR REPLACE FUNCTION sd_global_perms(pr bigint) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(bit_or(g.perms), 0)
		FROM global_grant g
		JOIN group_member m ON m.group_id = g.group_id
		  AND m.principal_id = pr);
END
$$;

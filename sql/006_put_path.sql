-- 006_put_path: a put in fewer round trips and constant time.
--
-- What a put does before it writes, in one statement.
-- The permission check, creating the missing nodes of the path and
-- locking the node were three round trips (node_perms, ensure_path,
-- node_lock); as one function they are one, the walk that checks the
-- permissions also finds the node (so an existing path is not looked up
-- again), and nothing is created or locked unless the caller holds every
-- bit of `needed` (the rule of acl_allows in secretd/acl.h, which
-- secretd applies again to the returned `held` before it answers).
-- target is NULL when refused.

CREATE FUNCTION sd_put_prepare(pr bigint, p text[], needed integer,
	OUT held integer, OUT target bigint, OUT cur_version integer,
	OUT is_live boolean)
LANGUAGE plpgsql AS $$
BEGIN
	-- one walk down the path: the permissions and the node, if it exists
	WITH walk AS MATERIALIZED (SELECT depth, id FROM sd_resolve(p))
	SELECT coalesce((SELECT bit_or(g.perms) FROM walk
			 JOIN node_grant g ON g.node_id = walk.id
			 JOIN group_member m ON m.group_id = g.group_id
			   AND m.principal_id = pr), 0),
	       (SELECT id FROM walk WHERE depth = cardinality(p))
	INTO held, target;
	IF needed = 0 OR held & needed <> needed THEN
		target := NULL;
		RETURN;
	END IF;
	IF target IS NULL THEN
		target := sd_ensure_path(p);
	END IF;
	SELECT n.current_version,
	       coalesce(v.version IS NOT NULL AND NOT v.deleted, false)
	INTO cur_version, is_live
	FROM node n LEFT JOIN secret_version v
	  ON v.node_id = n.id AND v.version = n.current_version
	WHERE n.id = target
	FOR UPDATE OF n;
	IF NOT FOUND THEN	-- removed since the walk
		target := NULL;
	END IF;
END
$$;

GRANT EXECUTE ON FUNCTION sd_put_prepare(bigint, text[], integer)
	TO secretd_runtime;

-- Pruning old versions ("version <= current - max_versions") walked the
-- node's index entries from its first version up, including every
-- version already pruned and not yet vacuumed: a put to a busy key cost
-- more the more it had been written.  pruned_to records that every
-- version up to it is gone, so a prune deletes only the range above it:
-- (pruned_to, current - max_versions], usually one version.
ALTER TABLE node ADD COLUMN pruned_to integer NOT NULL DEFAULT 0;

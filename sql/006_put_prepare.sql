-- 006_put_prepare: what a put does before it writes, in one statement.
-- The permission check, creating the missing nodes of the path and
-- locking the node were three round trips (node_perms, ensure_path,
-- node_lock); as one function they are one, and nothing is created or
-- locked unless the caller holds every bit of `needed` (the rule of
-- acl_allows in secretd/acl.h, which secretd applies again to the
-- returned `held` before it answers).

CREATE FUNCTION sd_put_prepare(pr bigint, p text[], needed integer,
	OUT held integer, OUT target bigint, OUT cur_version integer,
	OUT is_live boolean)
LANGUAGE plpgsql AS $$
BEGIN
	held := sd_node_perms(pr, p);
	IF needed = 0 OR held & needed <> needed THEN
		RETURN;
	END IF;
	target := sd_ensure_path(p);
	SELECT n.current_version,
	       coalesce(v.version IS NOT NULL AND NOT v.deleted, false)
	INTO cur_version, is_live
	FROM node n LEFT JOIN secret_version v
	  ON v.node_id = n.id AND v.version = n.current_version
	WHERE n.id = target
	FOR UPDATE OF n;
END
$$;

GRANT EXECUTE ON FUNCTION sd_put_prepare(bigint, text[], integer)
	TO secretd_runtime;

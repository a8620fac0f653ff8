-- 014_watch: change notices for secret.watch (docs/protocol.md, "Watch").
--
-- Every change a watcher may need to hear of sends a NOTIFY on channel
-- secretd_watch from the transaction that makes it: PostgreSQL delivers
-- it when, and only if, that transaction commits, to every secretd of
-- the database (each LISTENs on one connection, secretd/watch.c).  The
-- payload names ids only, never a name or a value; each secretd turns it
-- into events and checks read for each watcher itself.
--
--   v NODE VERSION DELETED   a new version of a secret (put, delete,
--                            undelete, rollback); DELETED is t or f
--   g NODE GROUP             a grant of GROUP at NODE was set or removed
--   m PRINCIPAL              a membership of PRINCIPAL was added or removed
--   k PRINCIPAL              a key of PRINCIPAL was removed
--
-- Row triggers: a write batch of many puts sends one notice per version;
-- PostgreSQL folds identical notices of one transaction into one.

CREATE FUNCTION sd_watch_version() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	PERFORM pg_catalog.pg_notify('secretd_watch', pg_catalog.format(
	    'v %s %s %s', NEW.node_id, NEW.version,
	    CASE WHEN NEW.deleted THEN 't' ELSE 'f' END));
	RETURN NULL;
END
$$;
CREATE TRIGGER secret_version_watch AFTER INSERT ON secret_version
	FOR EACH ROW EXECUTE FUNCTION sd_watch_version();

CREATE FUNCTION sd_watch_grant() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_catalog.pg_notify('secretd_watch', pg_catalog.format(
		    'g %s %s', OLD.node_id, OLD.group_id));
	ELSE
		PERFORM pg_catalog.pg_notify('secretd_watch', pg_catalog.format(
		    'g %s %s', NEW.node_id, NEW.group_id));
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER node_grant_watch AFTER INSERT OR UPDATE OR DELETE
	ON node_grant FOR EACH ROW EXECUTE FUNCTION sd_watch_grant();

CREATE FUNCTION sd_watch_member() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_catalog.pg_notify('secretd_watch', pg_catalog.format(
		    'm %s', OLD.principal_id));
	ELSE
		PERFORM pg_catalog.pg_notify('secretd_watch', pg_catalog.format(
		    'm %s', NEW.principal_id));
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER group_member_watch AFTER INSERT OR UPDATE OR DELETE
	ON group_member FOR EACH ROW EXECUTE FUNCTION sd_watch_member();

CREATE FUNCTION sd_watch_key() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	PERFORM pg_catalog.pg_notify('secretd_watch', pg_catalog.format(
	    'k %s', OLD.principal_id));
	RETURN NULL;
END
$$;
CREATE TRIGGER principal_key_watch AFTER DELETE OR UPDATE
	ON principal_key FOR EACH ROW EXECUTE FUNCTION sd_watch_key();

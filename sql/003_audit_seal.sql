-- 003_audit_seal: tamper evidence for the audit trail.
--
-- Each audit row carries a MAC (keyed BLAKE2b over its canonical content,
-- computed by secretd, which alone holds the key), and audit_seal chains
-- the rows in the order secretd committed them: each seal's hash covers
-- the previous seal's hash, the row id and the row's MAC.  detail becomes
-- json (not jsonb) so that its text is kept exactly as it was MACed.

ALTER TABLE audit_log ALTER COLUMN detail TYPE json USING detail::text::json;
ALTER TABLE audit_log ADD COLUMN mac bytea;

CREATE TABLE audit_seal (
	seq		bigint PRIMARY KEY,
	audit_id	bigint NOT NULL UNIQUE,
	hash		bytea NOT NULL CHECK (octet_length(hash) = 32)
);
CREATE TRIGGER audit_seal_no_change BEFORE UPDATE OR DELETE ON audit_seal
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE INDEX audit_log_principal_at ON audit_log (principal, at);

GRANT SELECT, INSERT ON audit_seal TO secretd_runtime;

-- 009_audit_hash_index: audit.hash looks audit rows up by value hash.
--
-- audit.hash answers the rows whose keyed value hash matches a candidate
-- (secretd/act_audit.c); without an index each call would read the whole
-- trail.  Only writes carry a hash, so the index is partial and costs
-- nothing to reads.
CREATE INDEX audit_log_value_hash ON audit_log (value_hash)
	WHERE value_hash IS NOT NULL;

-- 002_enrol: enrolment tokens.  Only a BLAKE2b-256 hash of each token is
-- stored; the token itself is shown once, to its creator.

CREATE TABLE enrol_token (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token_hash	bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
	name_pattern	text NOT NULL,
	group_ids	bigint[] NOT NULL DEFAULT '{}',
	uses_left	integer NOT NULL CHECK (uses_left >= 0),
	uses		integer NOT NULL DEFAULT 0,
	allow_rekey	boolean NOT NULL DEFAULT false,
	cidrs		text[] NOT NULL DEFAULT '{}',
	expires_at	timestamptz NOT NULL,
	created_by	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	revoked_at	timestamptz
);

GRANT SELECT, INSERT, UPDATE ON enrol_token TO secretd_runtime;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO secretd_runtime;

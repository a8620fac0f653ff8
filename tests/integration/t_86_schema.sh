#!/bin/bash
# t_86_schema.sh - schema hardening (sql/001_baseline.sql, issue 21): nobody but
# the owner creates objects in schema public, and no function of ours
# changes meaning with the caller's search_path - PL/pgSQL ones by a
# fixed search_path, the two SQL ones the planner inlines (sd_ts,
# sd_resolve) by naming everything with its schema, and they stay
# inlined.  Everything that plants objects does it in a transaction that
# is rolled back.
. "$(dirname "$0")/lib.sh"
test_init

describe "PUBLIC may not create in schema public; the runtime role cannot"
expect_eq "$(sql "SELECT has_schema_privilege('public', 'public', 'CREATE')")" f "PUBLIC CREATE on public"
run sql_as secretd "CREATE TABLE public.t86 (a integer)"
expect_rc 1
expect_err_contains "permission denied for schema public"

describe "every function in public but the inlined SQL ones has a fixed search_path"
expect_eq "$(sql "SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	WHERE p.pronamespace = 'public'::regnamespace AND l.lanname <> 'sql'
	AND NOT coalesce('search_path=pg_catalog, public, pg_temp' = ANY(p.proconfig), false)")" "" "functions without it"
expect_ne "$(sql "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proconfig IS NOT NULL")" 0 "some have it"
# A new SQL function must be checked by hand (qualified body, or a SET
# clause if it is not meant to be inlined), then added here.
expect_eq "$(sql "SELECT string_agg(p.proname, ' ' ORDER BY p.proname) FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	WHERE p.pronamespace = 'public'::regnamespace AND l.lanname = 'sql' AND p.proconfig IS NULL")" "sd_resolve sd_ts" "SQL functions without SET"

describe "sd_ts and sd_resolve are still inlined"
run sql "EXPLAIN (VERBOSE, COSTS OFF) SELECT sd_ts(created_at) FROM principal"
expect_out_contains "to_char"
expect_out_lacks "sd_ts"
run sql "EXPLAIN (COSTS OFF) SELECT r.id FROM sd_resolve('{a,b}') r JOIN node_grant g ON g.node_id = r.id"
expect_out_contains "Recursive Union"
expect_out_lacks "Function Scan"

describe "a caller's search_path cannot redirect what the functions name"
printf 'x' | secret put schema86/a/b >/dev/null || fail "put"
want_id=$(sql "SELECT sd_node_id('{schema86,a,b}')")
expect_ne "$want_id" "" "node id"
run sql "BEGIN;
CREATE SCHEMA evil86;
CREATE TABLE evil86.node (id bigint, parent_id bigint, name text);
INSERT INTO evil86.node VALUES (999, 1, 'schema86');
CREATE FUNCTION evil86.to_char(timestamp, text) RETURNS text LANGUAGE sql AS \$\$ SELECT 'evil'::text \$\$;
CREATE FUNCTION evil86.sd_resolve(p text[]) RETURNS TABLE (depth integer, id bigint) LANGUAGE sql AS \$\$ SELECT 3, 42::bigint \$\$;
SET LOCAL search_path = evil86, pg_catalog, public;
SELECT public.sd_ts('2020-01-02 03:04:05+00');
SELECT string_agg(r.id::text, ',' ORDER BY r.depth) FROM public.sd_resolve('{schema86}') r;
SELECT public.sd_node_id('{schema86,a,b}');
ROLLBACK;"
expect_rc 0
expect_out "$(printf '%s\n' 2020-01-02T03:04:05Z "1,$(sql "SELECT sd_node_id('{schema86}')")" "$want_id")"
expect_eq "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'evil86'")" 0 "rolled back"

done_testing

#!/bin/bash
# t_87_commit_unknown.sh - a write whose COMMIT outcome is unknown (issue
# 23): the connection to PostgreSQL dies after COMMIT was sent and before
# its answer came back.  secretd answers `unavailable` saying that the
# outcome is unknown, never success nor a clean failure, and never runs
# the change again by itself (a put without cas would make a second
# version): neither a lone put on its own connection nor the puts of a
# write batch.
#
# Deterministic: a deferred constraint trigger on secret_version sleeps
# at COMMIT for this file's nodes only, and the test terminates the
# backends sleeping there (pg_terminate_backend).  An immediate trigger
# counts the rows inserted (a sequence: not rolled back), so the test
# knows when every put has reached its COMMIT, and that none ran twice.
. "$(dirname "$0")/lib.sh"
test_init

MSG='the connection to the database was lost while committing: the write may or may not have been committed; read it back before retrying'
N=4
unhook() {
	sql "DROP TRIGGER IF EXISTS t87_sleep ON secret_version;
	     DROP TRIGGER IF EXISTS t87_count ON secret_version;
	     DROP FUNCTION IF EXISTS t87_sleep(); DROP FUNCTION IF EXISTS t87_count();
	     DROP SEQUENCE IF EXISTS t87_rows;" >/dev/null 2>&1
}
at_exit unhook

run secret rm -r t87
for i in $(seq 1 $N); do
	printf 'v1' | secret put "t87/k$i" >/dev/null || die "put t87/k$i"
done
ids=$(sql "SELECT string_agg(n.id::text, ',') FROM node n JOIN node p ON p.id = n.parent_id
	WHERE p.name = 't87' AND p.parent_id = 1") || die "node ids"
expect_eq "$(tr ',' '\n' <<<"$ids" | wc -l)" "$N" "the test's nodes"

sql "CREATE SEQUENCE t87_rows;
CREATE FUNCTION t87_count() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$
BEGIN
	IF NEW.node_id IN ($ids) THEN PERFORM nextval('t87_rows'); END IF;
	RETURN NULL;
END \$\$;
CREATE FUNCTION t87_sleep() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$
BEGIN
	IF NEW.node_id IN ($ids) THEN PERFORM pg_sleep(6); END IF;
	RETURN NULL;
END \$\$;
CREATE TRIGGER t87_count AFTER INSERT ON secret_version
	FOR EACH ROW EXECUTE FUNCTION t87_count();
CREATE CONSTRAINT TRIGGER t87_sleep AFTER INSERT ON secret_version
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION t87_sleep();" ||
	die "cannot install the triggers"

rows() { sql "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM t87_rows"; }
sleepers() {
	sql "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep'
		AND pid <> pg_backend_pid() AND usename = 'secretd'"
}

describe "puts whose COMMIT dies: unavailable, outcome unknown, not run again"
secretd_log_mark
pids=()
for i in $(seq 1 $N); do
	( printf 'v2' | secret put "t87/k$i" >"$T/p$i.out" 2>"$T/p$i.err"; echo $? >"$T/p$i.rc" ) &
	pids+=("$!")
done
# every COMMIT that reaches the trigger's sleep is cut off, until every
# put has answered (two batchers and a lone put take three at a time)
finished=0
for ((t = 0; t < 600 && finished < N; t++)); do
	for p in $(sleepers); do
		sql "SELECT pg_terminate_backend($p)" >/dev/null
	done
	finished=0
	for i in $(seq 1 $N); do [ -s "$T/p$i.rc" ] && finished=$((finished + 1)); done
	sleep 0.1
done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
for i in $(seq 1 $N); do
	expect_eq "$(cat "$T/p$i.rc")" 1 "put t87/k$i exit status"
	expect_eq "$(cat "$T/p$i.err")" "secret: unavailable: $MSG" "put t87/k$i message"
	expect_eq "$(cat "$T/p$i.out")" "" "put t87/k$i prints no version"
done
expect_eq "$(rows)" "$N" "every put reached its COMMIT once: none ran a second time"
expect_eq "$(sql "SELECT count(*) FROM secret_version WHERE node_id IN ($ids) AND version > 1")" 0 \
	"nothing committed (the terminated COMMITs rolled back)"
expect_contains "$(secretd_log_since)" "database connection lost during"
expect_lacks "$(secretd_log_since)" "running them one by one"

describe "the daemon carries on: the next put succeeds"
unhook
expect_exit 0 run_in "v3" secret put t87/k1
expect_exit 0 secret get t87/k1
expect_out_exact v3
expect_exit 0 secret audit verify

done_testing

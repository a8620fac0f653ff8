#!/bin/bash
# t_60_audit.sh - the audit trail fails closed and is append-only: with the
# runtime role unable to insert audit rows no value leaves the daemon and
# no change lands; the runtime role cannot update or delete rows, and a
# trigger stops even the owner.
. "$(dirname "$0")/lib.sh"
test_init

expect_exit 0 run_in "audited" secret put audit/k
before=$(sql "SELECT current_version FROM node WHERE id = sd_node_id('{audit,k}')")

describe "fail closed: without INSERT on audit_log, get returns an error and no value"
sql "REVOKE INSERT ON audit_log FROM secretd_runtime" || die "revoke failed"
expect_fail 1 internal secret get audit/k
expect_out ""
expect_err "secret: internal: the audit trail cannot be written"
run plain_ssh "$W/admin" get audit/k
expect_rc 1
expect_out ""
describe "fail closed: a put is rolled back with its missing audit row"
expect_fail 1 internal run_in "lost" secret put audit/k
expect_eq "$(sql "SELECT current_version FROM node WHERE id = sd_node_id('{audit,k}')")" "$before" "version unchanged"
expect_fail 1 internal run_in "lost" secret put audit/new
expect_eq "$(sql "SELECT count(*) FROM secret_version WHERE node_id = sd_node_id('{audit,new}')")" 0 "nothing stored"
sql "GRANT INSERT ON audit_log TO secretd_runtime" || die "grant failed"
expect_exit 0 secret get audit/k
expect_out_exact audited

describe "append-only: the runtime role cannot update, delete or truncate"
run sql_as secretd "UPDATE audit_log SET result = 'ok' WHERE result = 'denied'"
expect_rc 1
expect_err_contains "permission denied for table audit_log"
run sql_as secretd "DELETE FROM audit_log"
expect_rc 1
expect_err_contains "permission denied for table audit_log"
run sql_as secretd "TRUNCATE audit_log"
expect_rc 1
describe "append-only: a trigger refuses even the owner"
run sql "UPDATE audit_log SET result = 'ok' WHERE id = 1"
expect_rc 1
expect_err_contains "audit_log is append-only"
run sql "DELETE FROM audit_log WHERE id = 1"
expect_rc 1
expect_err_contains "audit_log is append-only"

describe "the runtime role is no superuser and owns nothing"
expect_eq "$(sql "SELECT rolsuper FROM pg_roles WHERE rolname = 'secretd'")" f "not superuser"
expect_eq "$(sql "SELECT count(*) FROM pg_tables WHERE tableowner = 'secretd'")" 0 "owns no table"
run sql_as secretd "CREATE TABLE x (a int)"
expect_rc 1

describe "concurrent reads are all audited, each with its own row"
n0=$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '{audit,k}' AND result = 'ok'")
for i in $(seq 10); do secret get audit/k >/dev/null 2>&1 & done
wait
n1=$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '{audit,k}' AND result = 'ok'")
expect_eq "$((n1 - n0))" 10 "ten rows for ten gets"

done_testing

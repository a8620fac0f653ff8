#!/bin/bash
# t_60_audit.sh - the audit trail fails closed and is append-only: with the
# runtime role unable to insert audit rows no value leaves the daemon and
# no change lands; the runtime role cannot update or delete rows, and a
# trigger stops even the owner.  get_many's denied paths share one row and
# a per-principal budget.
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

describe "a lone get that guesses its version commits its row with its read"
# After a get of a path, the next lone get of it sends its row of success
# with its read (one statement), written only if the read is the success
# that row records; a wrong guess (a newer version, a deleted value, a
# reader without read) writes the row of what did happen, once.
hrows() { sql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '{audit,h}' AND $1"; }
expect_exit 0 run_in "h1" secret put audit/h
for i in 1 2 3; do expect_exit 0 secret get audit/h; expect_out_exact h1; done
expect_eq "$(hrows "result = 'ok' AND version = 1")" 3 "a row per get, version 1"
expect_exit 0 run_in "h2" secret put audit/h
for i in 1 2; do expect_exit 0 secret get audit/h; expect_out_exact h2; done
expect_eq "$(hrows "result = 'ok' AND version = 2")" 2 "a newer version: its rows say 2"
expect_eq "$(hrows "result = 'ok' AND version = 1")" 3 "and none says 1"
expect_exit 0 secret get audit/h --version 1
expect_out_exact h1
expect_eq "$(hrows "result = 'ok' AND version = 1")" 4 "a version asked for"
hk=$(new_key hint-reader) || die "ssh-keygen"
expect_exit 0 secret principal create hint-reader --key "$hk.pub"
expect_fail 4 permission_denied secret_as "$hk" get audit/h
expect_eq "$(hrows "principal = 'hint-reader' AND result = 'denied'")" 1 "a reader without read: denied"
expect_eq "$(hrows "principal = 'hint-reader' AND result <> 'denied'")" 0 "and nothing else"
expect_exit 0 secret rm audit/h
expect_fail 5 not_found secret get audit/h
expect_eq "$(hrows "result = 'error' AND error_code = 'not_found' AND version = 3")" 1 "a deleted value: not_found at 3"
expect_eq "$(hrows "result = 'ok'")" 6 "no row of success more"
describe "fail closed with a guess: no value without its row"
sql "REVOKE INSERT ON audit_log FROM secretd_runtime" || die "revoke failed"
expect_fail 1 internal secret get audit/k
expect_out ""
expect_err "secret: internal: the audit trail cannot be written"
sql "GRANT INSERT ON audit_log TO secretd_runtime" || die "grant failed"

describe "concurrent reads are all audited, each with its own row"
n0=$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '{audit,k}' AND result = 'ok'")
for i in $(seq 10); do secret get audit/k >/dev/null 2>&1 & done
wait
n1=$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '{audit,k}' AND result = 'ok'")
expect_eq "$((n1 - n0))" 10 "ten rows for ten gets"

describe "gets under load: read, answered and audited in the writer's batch"
# While audit_log is locked, the first get to arrive commits its row on
# its own connection (the lone path) and waits for the lock, holding that
# path; every get arriving meanwhile goes to the audit writer, which runs
# their reads together, finishes each and waits for the lock with their
# rows.  The answers and rows must be those of gets run one by one.
expect_exit 0 run_in "one" secret put audit/b
expect_exit 0 run_in "two" secret put audit/b
rows() { sql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '$1' AND $2"; }
ok2=$(rows '{audit,b}' "result = 'ok' AND version = 2")
ok1=$(rows '{audit,b}' "result = 'ok' AND version = 1")
nf=$(rows '{audit,nope}' "result = 'error' AND error_code = 'not_found'")
hold_audit_lock() {
	psql -X -q -c "BEGIN; LOCK TABLE audit_log IN EXCLUSIVE MODE; SELECT pg_sleep($1); COMMIT;" >/dev/null 2>&1 &
	sleep 0.5
}
get_bg() { # get_bg NAME ARGS...: run secret get in the background into $W/tmp/NAME.{out,rc}
	local name=$1
	shift
	{ secret get "$@" >"$W/tmp/$name.out" 2>&1; echo $? >"$W/tmp/$name.rc"; } &
}
kg=$(new_key get-reader) || die "ssh-keygen"
expect_exit 0 secret principal create get-reader --key "$kg.pub"
den=$(rows '{audit,b}' "result = 'denied' AND principal = 'get-reader'")
hold_audit_lock 4
get_bg lone audit/b
sleep 0.5
for i in 1 2 3 4 5 6; do get_bg cur$i audit/b; done
for i in 1 2 3; do get_bg old$i audit/b --version 1; done
for i in 1 2; do get_bg none$i audit/nope; done
{ secret_as "$kg" get audit/b >"$W/tmp/denied.out" 2>&1; echo $? >"$W/tmp/denied.rc"; } &
wait
expect_eq "$(cat "$W/tmp/denied.rc")" 4 "a get without read, in the batch: exit 4"
expect_contains "$(cat "$W/tmp/denied.out")" "secret: permission_denied:" "permission_denied, no value"
expect_eq "$(rows '{audit,b}' "result = 'denied' AND principal = 'get-reader'")" "$((den + 1))" "the denied get's row"
for f in lone cur1 cur2 cur3 cur4 cur5 cur6; do
	expect_eq "$(cat "$W/tmp/$f.rc") $(cat "$W/tmp/$f.out")" "0 two" "$f: the current value"
done
for f in old1 old2 old3; do
	expect_eq "$(cat "$W/tmp/$f.rc") $(cat "$W/tmp/$f.out")" "0 one" "$f: version 1"
done
for f in none1 none2; do
	expect_eq "$(cat "$W/tmp/$f.rc")" 5 "$f: exit 5"
	expect_contains "$(cat "$W/tmp/$f.out")" "secret: not_found:" "$f: not_found"
done
expect_eq "$(rows '{audit,b}' "result = 'ok' AND version = 2")" "$((ok2 + 7))" "a row per get of the current version"
expect_eq "$(rows '{audit,b}' "result = 'ok' AND version = 1")" "$((ok1 + 3))" "a row per get of version 1"
expect_eq "$(rows '{audit,nope}' "result = 'error' AND error_code = 'not_found'")" "$((nf + 2))" "a row per get of a missing path"

describe "gets under load fail closed: no value leaves without its row"
sql "REVOKE INSERT ON audit_log FROM secretd_runtime" || die "revoke failed"
hold_audit_lock 3
get_bg lone audit/b
sleep 0.5
for i in 1 2 3 4; do get_bg cur$i audit/b; done
wait
sql "GRANT INSERT ON audit_log TO secretd_runtime" || die "grant failed"
for f in lone cur1 cur2 cur3 cur4; do
	expect_eq "$(cat "$W/tmp/$f.rc")" 1 "$f: exit 1"
	expect_eq "$(cat "$W/tmp/$f.out")" "secret: internal: the audit trail cannot be written" "$f: no value, the reason"
done
expect_eq "$(rows '{audit,b}' "result = 'ok' AND version = 2")" "$((ok2 + 7))" "no row for them"
expect_exit 0 secret get audit/b
expect_out_exact two

describe "puts under load: changed, answered and audited in a shared transaction"
# As for gets: while audit_log is locked the first put holds the lone
# path, and the puts arriving meanwhile go to the write batcher, which
# locks their nodes together and commits their versions and rows in one
# transaction.  Each must answer, change and be recorded as alone.
for i in 1 2 3 4 5 6; do expect_exit 0 run_in "v0" secret put "audit/w/$i"; done
expect_exit 0 run_in "s1" secret put audit/same
put_bg() { # put_bg NAME VALUE ARGS...: secret put in the background
	local name=$1 val=$2
	shift 2
	{ printf '%s' "$val" | secret put "$@" >"$W/tmp/$name.out" 2>&1; echo $? >"$W/tmp/$name.rc"; } &
}
prows() { sql "SELECT count(*) FROM audit_log WHERE action = 'secret.put' AND path = '$1' AND $2"; }
kr=$(new_key batch-reader) || die "ssh-keygen"
expect_exit 0 secret principal create batch-reader --key "$kr.pub"
hold_audit_lock 4
put_bg lone lone audit/w/1
sleep 0.5
for i in 2 3 4 5 6; do put_bg w$i "v1-$i" "audit/w/$i"; done
{ printf 'x' | secret_as "$kr" put audit/w/6 >"$W/tmp/denied.out" 2>&1; echo $? >"$W/tmp/denied.rc"; } &
for i in 1 2 3; do put_bg same$i "s-$i" audit/same; done
put_bg new new audit/w/new/x
put_bg cas cas audit/w/2 --cas 7
wait
for f in lone w2 w3 w4 w5 w6 same1 same2 same3 new; do
	expect_eq "$(cat "$W/tmp/$f.rc")" 0 "$f: exit 0"
done
expect_eq "$(cat "$W/tmp/denied.rc")" 4 "a put without write: exit 4"
expect_contains "$(cat "$W/tmp/denied.out")" "secret: permission_denied:" "permission_denied"
expect_eq "$(prows '{audit,w,6}' "result = 'denied' AND principal = 'batch-reader'")" 1 "the denied put's row"
expect_eq "$(cat "$W/tmp/cas.rc")" 6 "a failed check-and-set: exit 6"
expect_contains "$(cat "$W/tmp/cas.out")" "secret: conflict: check-and-set failed" "conflict"
expect_exit 0 secret get audit/w/1
expect_out_exact lone
for i in 3 4 5 6; do
	expect_exit 0 secret get "audit/w/$i"
	expect_out_exact "v1-$i"
	expect_eq "$(prows "{audit,w,$i}" "result = 'ok' AND version = 2")" 1 "w$i: one row, version 2"
done
expect_eq "$(prows '{audit,same}' "result = 'ok'")" 4 "a row per put of one path"
expect_eq "$(sql "SELECT string_agg(version::text, ',' ORDER BY version) FROM audit_log WHERE action = 'secret.put' AND path = '{audit,same}'")" "1,2,3,4" "each took the next version"
expect_eq "$(sql "SELECT max(current_version) FROM node WHERE name = 'same'")" 4 "the node is at version 4"
expect_eq "$(prows '{audit,w,new,x}' "result = 'ok' AND version = 1")" 1 "a put creating its path"
expect_eq "$(prows '{audit,w,2}' "result = 'error' AND error_code = 'conflict'")" 1 "the conflict's row"
expect_eq "$(prows '{audit,w,2}' "result = 'ok'")" 2 "w2: v0 and v1 only"
# the rows of batched puts were committed together: they share xmin
expect_eq "$(sql "SELECT count(DISTINCT xmin::text) < count(*) FROM audit_log WHERE action = 'secret.put' AND version = 2 AND path[2] = 'w'")" t "puts shared a transaction"

describe "puts under load fail closed: nothing changes without its row"
sql "REVOKE INSERT ON audit_log FROM secretd_runtime" || die "revoke failed"
hold_audit_lock 3
put_bg lone x audit/w/3
sleep 0.5
for i in 4 5 6; do put_bg w$i x "audit/w/$i"; done
put_bg same x audit/same
wait
sql "GRANT INSERT ON audit_log TO secretd_runtime" || die "grant failed"
for f in lone w4 w5 w6 same; do
	expect_eq "$(cat "$W/tmp/$f.rc")" 1 "$f: exit 1"
	expect_eq "$(cat "$W/tmp/$f.out")" "secret: internal: the audit trail cannot be written" "$f: the reason"
done
for i in 3 4 5 6; do
	expect_exit 0 secret get "audit/w/$i"
	expect_out_exact "v1-$i"
done
expect_eq "$(sql "SELECT max(current_version) FROM node WHERE name = 'same'")" 4 "no new version"

describe "get_many by list: 1 000 forbidden paths write one denial row (the count and the first paths)"
kf=$(new_key a60-flood) || die "ssh-keygen"
expect_exit 0 secret principal create a60-flood --key "$kf.pub" || die "create a60-flood"
expect_exit 0 run_in "kept" secret put audit/flood/p0
python3 -c 'import json; print(json.dumps({"id": 1, "action": "secret.get_many", "paths": [["audit", "flood", "p%d" % i] for i in range(1000)]}))' >"$T/flood"
run_in_file "$T/flood" plain_ssh "$kf" json
expect_rc 0
expect_eq "$(jq -r '[.results[] | select(.error.code == "permission_denied")] | length' <"$OUT_FILE")" 1000 "each path answered permission_denied"
frows() { sql "SELECT count(*) FROM audit_log WHERE principal = 'a60-flood' AND action = 'secret.get_many' AND $1"; }
expect_eq "$(frows "true")" 2 "two rows: the request's and its denials'"
expect_eq "$(frows "result = 'denied'")" 1 "one denial row"
expect_eq "$(sql "SELECT error_code || ' ' || array_to_string(path, '/') || ' ' || (detail->>'denied') || ' ' || (detail->'paths')::text FROM audit_log WHERE principal = 'a60-flood' AND result = 'denied'")" \
	'permission_denied audit/flood/p0 1000 [["audit","flood","p0"],["audit","flood","p1"],["audit","flood","p2"],["audit","flood","p3"],["audit","flood","p4"]]' \
	"the row: the first path, the count, the first five paths"
expect_eq "$(frows "result = 'ok'")" 1 "and the request's row"

describe "get_many: denials count toward a per-principal budget; past it, rate_limited"
run_in '{"id":2,"action":"secret.get_many","paths":[["audit","flood","p1"]]}'$'\n' plain_ssh "$kf" json
expect_rc 0
expect_eq "$(jq -r '"\(.ok) \(.error.code)"' <"$OUT_FILE")" "false rate_limited" "the next get_many is refused"
expect_contains "$(jq -r .error.message <"$OUT_FILE")" "too many denied paths" "and says why"
expect_eq "$(frows "result = 'error' AND error_code = 'rate_limited'")" 1 "the refusal is audited, one row"
run_in '{"id":3,"action":"secret.get_many","prefix":["audit","flood"]}'$'\n' plain_ssh "$kf" json
expect_eq "$(jq -r .error.code <"$OUT_FILE")" rate_limited "by prefix as well"
run plain_ssh "$W/admin" get audit/flood/p0
expect_eq "$RC $OUT" "0 kept" "other principals are not limited"

describe "get_many: past the budget within one list, the rest is not read (rate_limited each), counted in the same row"
kg=$(new_key a60-flood2) || die "ssh-keygen"
expect_exit 0 secret principal create a60-flood2 --key "$kg.pub" || die "create a60-flood2"
python3 -c 'import json; print(json.dumps({"id": 1, "action": "secret.get_many", "paths": [["audit", "flood", "q%d" % i] for i in range(1500)]}))' >"$T/flood2"
run_in_file "$T/flood2" plain_ssh "$kg" json
expect_rc 0
expect_eq "$(jq -r '[.results[].error.code] | group_by(.) | map("\(.[0])=\(length)") | join(" ")' <"$OUT_FILE")" "permission_denied=1000 rate_limited=500" "1000 denied, then 500 not checked"
expect_eq "$(jq -r '.results[1000].path | join("/")' <"$OUT_FILE")" "audit/flood/q1000" "in order"
expect_eq "$(sql "SELECT count(*) || ' ' || string_agg((detail->>'denied') || '/' || (detail->>'unchecked'), ',') FROM audit_log WHERE principal = 'a60-flood2' AND result = 'denied'")" "1 1000/500" "one row: 1000 denied, 500 unchecked"
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE principal = 'a60-flood2'")" 2 "and the request's row: two in all"

done_testing

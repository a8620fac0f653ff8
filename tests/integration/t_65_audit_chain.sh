#!/bin/bash
# t_65_audit_chain.sh - tamper evidence and the syslog mirror, on a
# database of its own (so the tampering here cannot disturb other files):
# every row has a MAC and a seal; altering, deleting or inserting a row as
# the database superuser is each found by audit.verify, naming the row;
# putting the row back makes the trail whole again; audit_syslog = yes
# mirrors each record, never a value.  Cutting the newest rows and seals
# off the end is reported as truncated (the sealer records the gap), also
# after a restart, until an auditor acknowledges it; the head goes to
# syslog after each seal whatever audit_syslog says, and a head recorded
# earlier ("head") catches a truncation made while secretd was stopped;
# a row left unsealed with a bad MAC is not sealed at start-up.
. "$(dirname "$0")/lib.sh"
test_init

SOCKPY=$SD_LIB_DIR/sock.py
DB=secretd_tamper
TS=$RUNDIR/tamper.sock
sql "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
sql "CREATE DATABASE $DB OWNER secretd_admin" || die "createdb"
tsql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
sed -e "s|^socket = .*|socket = $TS|" -e "s|dbname=secretd|dbname=$DB|g" \
	-e "s|^keyring = .*|keyring = $T/keyring|" "$W/secretd.conf" >"$T/t.conf"
cp "$T/t.conf" "$T/t-nosyslog.conf"	# for a restart without the mirror
echo "audit_syslog = yes" >>"$T/t.conf"
expect_exit 0 "$BIN/secretd" -c "$T/t.conf" init --admin admin --key "$W/admin.pub"

# A syslog socket to listen on, unless the machine has a real one.  Two
# suites at once (make check) would share /dev/log: one file at a time
# here (the lock goes when this file's shell exits, after cleanup).
exec 8>/run/lock/secretd-syslog-catch.lock
flock 8
CATCH=
if [ ! -e /dev/log ]; then
	"$SD_LIB_DIR/syslog_catch.py" /dev/log "$T/syslog" &
	CATCH=$!
	sd_starttime "$CATCH"
	CATCH_START=$SD_START
	for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
fi
helper_start t "$BIN/secretd" -c "$T/t.conf" serve	# (log: $T/t.log)
TPID=$HELPER_PID
TD_PIDS=$TPID	# every daemon of this file, for its lines in syslog
for _ in $(seq 100); do [ -S "$TS" ] && break; sleep 0.1; done
[ -S "$TS" ] || { cat "$T/t.log"; die "second secretd did not start"; }
cleanup() {
	helper_stop t	# (before the database goes)
	if [ -n "$CATCH" ]; then sd_kill_same TERM "$CATCH" "$CATCH_START"; rm -f /dev/log; fi
	sql "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
}
at_exit cleanup
req() { run_in "$1" "$SOCKPY" "$TS" --hello "$W/admin.pub"; }
verify() { req $'{"action":"audit.verify"}\n'; tail -n 1 "$OUT_FILE" >"$T/verify.json"; }
vj() { jq -r "$1" <"$T/verify.json"; }

describe "a history of puts and gets; every row gets a MAC and a seal"
req $'{"action":"secret.put","path":["t","a"],"value":"marker-one"}\n{"action":"secret.put","path":["t","b"],"value":"two"}\n{"action":"secret.get","path":["t","a"]}\n{"action":"secret.get","path":["t","nope"]}\n{"action":"secret.get","path":["t","b"]}\n{"action":"secret.get","path":["t","b"]}\n{"action":"secret.get","path":["t","b"],"version":1}\n'
expect_rc 0
# the second and third gets of t/b commit their rows with their reads
expect_eq "$(tsql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '{t,b}' AND result = 'ok' AND version = 1")" 3 "a row per get of t/b"
sleep 0.5
expect_eq "$(tsql "SELECT count(*) FROM audit_log WHERE mac IS NULL OR octet_length(mac) <> 32")" 0 "every row has a MAC"
verify
expect_eq "$(vj .intact)" true "intact"
expect_eq "$(vj '.rows == .sealed')" true "every row sealed"
expect_eq "$(vj .first_bad)" null "no problem"

describe "altering a row as superuser is found, naming it; undoing it heals"
id=$(tsql "SELECT id FROM audit_log WHERE action = 'secret.get' AND path = '{t,a}'")
tsql "SET session_replication_role = replica; UPDATE audit_log SET principal = 'mallory' WHERE id = $id"
verify
expect_eq "$(vj .intact)" false "not intact"
expect_eq "$(vj .first_bad.id)" "$id" "names the altered row"
expect_eq "$(vj .first_bad.problem)" altered "problem"
tsql "SET session_replication_role = replica; UPDATE audit_log SET principal = 'admin' WHERE id = $id"
verify
expect_eq "$(vj .intact)" true "intact again"

describe "deleting a row is found; putting it back heals"
id=$(tsql "SELECT id FROM audit_log WHERE action = 'secret.put' AND path = '{t,b}'")
tsql "CREATE TABLE saved AS SELECT * FROM audit_log WHERE id = $id"
tsql "SET session_replication_role = replica; DELETE FROM audit_log WHERE id = $id"
verify
expect_eq "$(vj .first_bad.id)" "$id" "names the deleted row"
expect_eq "$(vj .first_bad.problem)" missing "problem"
tsql "INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT * FROM saved; DROP TABLE saved"
verify
expect_eq "$(vj .intact)" true "intact again"

describe "inserting a row without the key is found as forged"
tsql "INSERT INTO audit_log (principal, action, path, result, mac) VALUES ('admin', 'secret.get', '{t,a}', 'ok', '\\x$(printf '00%.0s' $(seq 32))')"
fid=$(tsql "SELECT max(id) FROM audit_log")
verify
expect_eq "$(vj .first_bad.id)" "$fid" "names the forged row"
expect_eq "$(vj .first_bad.problem)" forged "problem"
tsql "SET session_replication_role = replica; DELETE FROM audit_log WHERE id = $fid"

describe "a trail of several pages (verify reads 1000 rows at a time): rows and seals on late pages are checked"
for _ in $(seq 2500); do printf '{"action":"secret.get","path":["t","a"]}\n'; done >"$T/gets.ndjson"
run_in_file "$T/gets.ndjson" "$SOCKPY" "$TS" --hello "$W/admin.pub"
expect_rc 0
total=$(tsql "SELECT count(*) FROM audit_log")
for _ in $(seq 100); do
	[ "$(tsql "SELECT count(*) FROM audit_seal")" = "$total" ] && break
	sleep 0.1
done
verify
expect_eq "$(vj .intact)" true "intact"
expect_eq "$(vj .rows)" "$total" "every row counted"
expect_eq "$(vj .sealed)" "$total" "every seal counted"
id=$(tsql "SELECT id FROM audit_log ORDER BY id OFFSET 2300 LIMIT 1")
tsql "SET session_replication_role = replica; UPDATE audit_log SET result = 'denied' WHERE id = $id"
verify
expect_eq "$(vj .first_bad.id)" "$id" "names the altered row on the third page"
expect_eq "$(vj .first_bad.problem)" altered "problem"
tsql "SET session_replication_role = replica; UPDATE audit_log SET result = 'ok' WHERE id = $id"
seq=$(tsql "SELECT seq FROM audit_seal ORDER BY seq OFFSET 1700 LIMIT 1")
sid=$(tsql "SELECT audit_id FROM audit_seal WHERE seq = $seq")
tsql "CREATE TABLE saved_seal AS SELECT * FROM audit_seal WHERE seq = $seq"
tsql "SET session_replication_role = replica; UPDATE audit_seal SET hash = '\\x$(printf '22%.0s' $(seq 32))' WHERE seq = $seq"
verify
expect_eq "$(vj .first_bad.id)" "$sid" "names the row of the broken seal on the second page"
expect_eq "$(vj .first_bad.problem)" chain "problem"
tsql "SET session_replication_role = replica; UPDATE audit_seal SET hash = (SELECT hash FROM saved_seal) WHERE seq = $seq; DROP TABLE saved_seal"
verify
expect_eq "$(vj .intact)" true "intact again"

describe "changing a row's MAC along with it breaks the chain"
id=$(tsql "SELECT id FROM audit_log WHERE action = 'secret.get' AND path = '{t,nope}'")
oldmac=$(tsql "SELECT encode(mac, 'hex') FROM audit_log WHERE id = $id")
tsql "SET session_replication_role = replica; UPDATE audit_log SET mac = '\\x$(printf '11%.0s' $(seq 32))' WHERE id = $id"
verify
expect_eq "$(vj .first_bad.id)" "$id" "names the row"
expect_eq "$(vj .intact)" false "not intact"
tsql "SET session_replication_role = replica; UPDATE audit_log SET mac = '\\x$oldmac' WHERE id = $id"
verify
expect_eq "$(vj .intact)" true "its MAC put back: intact again"

describe "audit_syslog = yes mirrors records as JSON, without values"
if [ -n "$CATCH" ]; then
	sleep 0.3
	expect_contains "$(cat "$T/syslog")" '"action":"secret.put"' "put mirrored"
	expect_contains "$(cat "$T/syslog")" '"path":["t","a"]' "path mirrored"
	expect_lacks "$(cat "$T/syslog")" 'marker-one' "no value"
else
	skip_case "a system syslog is present; mirror not captured here"
fi

describe "no value anywhere in the rows"
expect_eq "$(tsql "SELECT count(*) FROM audit_log WHERE coalesce(detail::text, '') LIKE '%marker-one%'")" 0 "no value in rows"

describe "verify of a long trail holds one page at a time, not the trail"
# 200 000 more rows (written straight into the table: their MACs are
# wrong, which verify reads through all the same); what secretd's peak
# memory grows by while it verifies them must not grow with them
# (holding them all took ~100 MiB).  ASan keeps freed memory in
# quarantine (up to 256 MiB), so its peak says nothing of this.
tsql "SET session_replication_role = replica; INSERT INTO audit_log (principal, action, path, result, mac) SELECT 'admin', 'secret.get', '{t,a}', 'ok', '\\x$(printf '33%.0s' $(seq 32))' FROM generate_series(1, 200000)"
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$TPID/status"; }
total=$(tsql "SELECT count(*) FROM audit_log")
before=$(hwm)
verify
expect_eq "$(vj .rows)" "$total" "every row read"
expect_eq "$(vj .intact)" false "not intact"
grew=$(( $(hwm) - before ))
if sd_is_san "$BIN/secretd"; then
	skip_case "peak memory grew by $grew KiB under ASan (not checked: quarantine)"
elif [ "$grew" -lt 32768 ]; then
	ok "peak memory grew by $grew KiB"
else
	fail "peak memory grew by $grew KiB while verifying 200 000 rows"
fi
tsql "SET session_replication_role = replica; DELETE FROM audit_log WHERE mac = '\\x$(printf '33%.0s' $(seq 32))'"

# ---- truncation: the newest rows and their seals cut off the end ------
wait_for() {	# wait_for SECS CMD...: poll CMD every 0.1 s
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
vreq() {	# vreq ',"head":"..."': audit.verify with more fields
	req "{\"action\":\"audit.verify\"$1}"$'\n'
	tail -n 1 "$OUT_FILE" >"$T/verify.json"
}
all_sealed_but() { [ "$(tsql "SELECT count(*) FROM audit_log a WHERE a.id <> $1 AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.audit_id = a.id)")" = 0 ]; }
all_sealed() { all_sealed_but 0; }
puts() {	# puts N [ID]: N puts, then wait until every row (but ID) is sealed
	local i
	for i in $(seq "$1"); do printf '{"action":"secret.put","path":["t","trunc"],"value":"v%d"}\n' "$i"; done >"$T/puts.ndjson"
	run_in_file "$T/puts.ndjson" "$SOCKPY" "$TS" --hello "$W/admin.pub"
	expect_rc 0
	expect_true wait_for 10 all_sealed_but "${2:-0}"
}
cut_tail() {	# as the database superuser: the newest 4 rows and their seals
	tsql "SET session_replication_role = replica;
	      CREATE TEMP TABLE cut AS SELECT id FROM audit_log ORDER BY id DESC LIMIT 4;
	      DELETE FROM audit_seal WHERE audit_id IN (SELECT id FROM cut);
	      DELETE FROM audit_log WHERE id IN (SELECT id FROM cut)"
}
start_td() {	# start_td CONF
	rm -f "$TS"
	helper_start t "$BIN/secretd" -c "$1" serve
	TPID=$HELPER_PID
	TD_PIDS="$TD_PIDS $TPID"
	for _ in $(seq 100); do [ -S "$TS" ] && break; sleep 0.1; done
	[ -S "$TS" ] || { cat "$T/t.log"; die "secretd did not restart"; }
}
stop_td() {
	helper_stop t TERM
	expect_eq "$HELPER_RC" 0 "secretd stopped cleanly"
	TPID=
}
# The heads this file's daemons logged (other daemons log to the same
# /dev/log: the test environment's, and another suite's beside it).
heads() {
	local p re=
	for p in $TD_PIDS; do re="$re${re:+|}secretd\[$p\]"; done
	grep -E "($re): " "$T/syslog" | grep -o 'audit head [0-9]*:[0-9a-f]*' | cut -d' ' -f3
}
db_head() { tsql "SELECT seq || ':' || encode(hash, 'hex') FROM audit_seal ORDER BY seq DESC LIMIT 1"; }

describe "truncation: deleting the newest rows and seals is reported as truncated, not healed by later seals"
puts 3
verify
expect_eq "$(vj .intact)" true "intact before"
expect_true wait_for 10 all_sealed
cut_tail
verify
expect_eq "$(vj .intact)" false "not intact"
expect_eq "$(vj .first_bad.problem)" truncated "problem: truncated"
puts 5
verify
expect_eq "$(vj .first_bad.problem)" truncated "still truncated after more requests and seals"
gap=$(tsql "SELECT id FROM audit_log WHERE action = 'audit.truncated'")
expect_match "$gap" '^[0-9]+$' "the sealer recorded one gap row"
expect_eq "$(vj .first_bad.id)" "$gap" "verify names the gap row"
expect_eq "$(vj '.gaps | map("\(.id):\(.acknowledged)") | join(",")')" "$gap:false" "listed, not acknowledged"
expect_eq "$(tsql "SELECT result || ' ' || error_code || ' ' || (detail->>'known_seq')::bigint - (detail->>'found_seq')::bigint FROM audit_log WHERE id = $gap")" "error truncated 4" "the gap row: 4 seals cut"
expect_eq "$(tsql "SELECT count(*) FROM audit_seal WHERE audit_id = $gap")" 1 "the gap row is sealed"
expect_contains "$(cat "$T/t.log")" "ALARM: audit chain truncated" "the daemon's log raises the alarm"
if [ -n "$CATCH" ]; then
	expect_contains "$(cat "$T/syslog")" "audit alarm: chain truncated" "alarm in syslog"
	expect_true wait_for 10 all_sealed
	sleep 0.2
	expect_eq "$(heads | tail -n 1)" "$(db_head)" "the last head in syslog is the chain's head"
fi

describe "truncation: still reported after a restart (here without audit_syslog); the head still goes to syslog"
stop_td
start_td "$T/t-nosyslog.conf"
nheads=0
[ -n "$CATCH" ] && nheads=$(heads | wc -l)
puts 2
verify
expect_eq "$(vj .first_bad.problem)" truncated "truncated after the restart"
expect_eq "$(vj .first_bad.id)" "$gap" "the same gap"
if [ -n "$CATCH" ]; then
	expect_true [ "$(heads | wc -l)" -gt "$nheads" ]
	expect_true wait_for 10 all_sealed
	sleep 0.2
	expect_eq "$(heads | tail -n 1)" "$(db_head)" "the witness is the head, audit_syslog = no"
	expect_lacks "$(tail -n 3 "$T/syslog")" '"action"' "no row mirrored with audit_syslog = no"
else
	skip_case "a system syslog is present; the witness is not captured here"
fi

describe "acknowledging the gap: only a recorded gap; then intact, and the row says who"
vreq ',"acknowledge":1'
expect_eq "$(jq -r .error.code <"$T/verify.json")" not_found "row 1 is no gap"
vreq ",\"acknowledge\":$gap"
expect_eq "$(vj .intact)" true "intact once acknowledged"
expect_eq "$(vj '.gaps | map("\(.id):\(.acknowledged)") | join(",")')" "$gap:true" "listed as acknowledged"
expect_eq "$(tsql "SELECT principal || ' ' || result || ' ' || detail::text FROM audit_log WHERE action = 'audit.verify' ORDER BY id DESC LIMIT 1")" "admin ok {\"acknowledge\":$gap}" "the acknowledgement is an audit row"
verify
expect_eq "$(vj .intact)" true "intact on the next verify"
vreq ',"head":"12:zz"'
expect_eq "$(jq -r .error.code <"$T/verify.json")" bad_request "a malformed head"

describe "--head: a truncation while secretd was stopped is caught against a head recorded earlier"
puts 3
verify
expect_eq "$(vj .intact)" true "intact"
H=$(vj '"\(.head_seq):\(.head)"')
vreq ",\"head\":\"$H\""
expect_eq "$(vj '"\(.intact) \(.head_extends)"')" "true true" "the trail extends the head just recorded"
if [ -n "$CATCH" ]; then
	expect_eq "$(heads | grep -c "^$H\$")" 1 "that head was witnessed in syslog"
fi
expect_true wait_for 10 all_sealed
stop_td
cut_tail
start_td "$T/t-nosyslog.conf"
puts 2
verify
expect_eq "$(vj .intact)" true "without the head the restarted daemon cannot tell"
vreq ",\"head\":\"$H\""
expect_eq "$(vj '"\(.intact) \(.head_extends) \(.first_bad.problem)"')" "false false truncated" "with it: truncated"
vreq ",\"head\":\"${H%%:*}:$(printf '00%.0s' $(seq 32))\""
expect_eq "$(vj .head_extends)" false "a head with another hash is not extended"

describe "start-up: a row left unsealed is sealed only if its MAC holds"
stop_td
tsql "INSERT INTO audit_log (principal, action, path, result, mac) VALUES ('admin', 'secret.get', '{t,a}', 'ok', '\\x$(printf '44%.0s' $(seq 32))')"
fid=$(tsql "SELECT max(id) FROM audit_log")
start_td "$T/t-nosyslog.conf"
puts 1 "$fid"
expect_eq "$(tsql "SELECT count(*) FROM audit_seal WHERE audit_id = $fid")" 0 "the forged row is not sealed"
expect_contains "$(cat "$T/t.log")" "ALARM: audit row $fid, left unsealed, has no valid MAC" "alarm"
verify
expect_eq "$(vj '"\(.first_bad.id) \(.first_bad.problem)"')" "$fid forged" "verify names it forged"
tsql "SET session_replication_role = replica; DELETE FROM audit_log WHERE id = $fid"

done_testing

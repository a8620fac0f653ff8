#!/bin/bash
# t_83_watch.sh - live delivery: secret.watch sends an event line (no
# value) for each put, delete, undelete and rollback below a watched
# prefix that the watcher may read, none for what it may not read, a
# rescan when a grant or a membership changes; every secretd of the
# database sees every change (LISTEN/NOTIFY); a revoked key ends the
# watch.  `secret fetch --watch` switches in what changed, runs
# --on-change once per switch, and reconnects after its session is lost.
. "$(dirname "$0")/lib.sh"
test_init

SOCK=$RUNDIR/secretd.sock
WATCHPY=$SD_LIB_DIR/watch.py

# A second secretd on the same database.
ALT=$RUNDIR/wa-alt.sock
# (idle_timeout 2 s: a watching session outlives it)
sed -e "s|^socket = .*|socket = $ALT|" -e "s|^idle_timeout = .*|idle_timeout = 2|" \
	"$W/secretd.conf" >"$T/alt.conf"
helper_start alt "$BIN/secretd" -c "$T/alt.conf" serve
for _ in $(seq 100); do [ -S "$ALT" ] && break; sleep 0.1; done
[ -S "$ALT" ] || { cat "$T/alt.log"; die "second secretd did not start"; }

# until_match FILE ERE: wait (10 s at most) for a line of FILE to match
until_match() {
	local i
	for i in $(seq 200); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# events FILE: the event lines of FILE, compact, one per line
events() { jq -c 'select(.event != null)' <"$1"; }
fp_of() { ssh-keygen -lf "$1.pub" | awk '{print $2}'; }

# start_watch NAME SOCKET KEY JSON: a raw watcher, output in $T/NAME.out,
# fed from the FIFO $T/NAME.in (held open on fd FD_NAME), pid PID_NAME
start_watch() {
	local n=$1 fd
	rm -f "$T/$n.in"
	mkfifo "$T/$n.in"
	: >"$T/$n.out"
	"$WATCHPY" "$2" --hello "$3.pub" "$4" <"$T/$n.in" >"$T/$n.out" 2>"$T/$n.err" &
	bg_note "$!"
	printf -v "PID_$n" %s "$!"
	exec {fd}>"$T/$n.in"
	printf -v "FD_$n" %s "$fd"
	WATCHES="${WATCHES:-} $n"
	until_match "$T/$n.out" '"watching"'
}
# stop_watch NAME [SIG]: close its input, signal it (when SIG is given)
# and wait for it; RC its status
stop_watch() {
	local fdv="FD_$1" pidv="PID_$1"
	[ -n "${!fdv}" ] && eval "exec ${!fdv}>&-"
	printf -v "FD_$1" %s ""
	[ -n "${2:-}" ] && bg_kill "$2" "${!pidv}"
	[ -n "${!pidv}" ] && { wait "${!pidv}"; RC=$?; }
	printf -v "PID_$1" %s ""
}
cleanup() {
	local n pidv
	for n in ${WATCHES:-}; do
		pidv="PID_$n"
		[ -n "${!pidv}" ] && stop_watch "$n" TERM
	done
}
at_exit cleanup

k=$(new_key wa) || die "key"
secret group create wa >/dev/null && secret principal create wa \
	--key "$k.pub" --group wa >/dev/null || die "principal"
printf one | secret put wt/app/a >/dev/null || die "put"
printf hidden | secret put wt/hidden/x >/dev/null || die "put"
secret acl set wt/app wa read >/dev/null || die "acl"

describe "secret.watch is answered once with ok, and audited"
start_watch w1 "$SOCK" "$k" '{"id":1,"action":"secret.watch","prefixes":[["wt"]]}' || die "no answer to the watch"
expect_eq "$(sed -n 2p "$T/w1.out")" '{"id":1,"ok":true,"watching":1}' "the answer"
expect_eq "$(sql "SELECT action || ' ' || result || ' ' || array_to_string(path, '/') FROM audit_log WHERE principal = 'wa' AND action = 'secret.watch' ORDER BY id DESC LIMIT 1")" \
	"secret.watch ok wt" "audit row"

describe "a put, a delete, an undelete and a rollback each give an event; an unreadable path none"
printf two | secret put wt/app/a >/dev/null
printf nope | secret put wt/hidden/x >/dev/null
secret rm wt/app/a >/dev/null
secret undelete wt/app/a 2 >/dev/null
secret rollback wt/app/a 1 >/dev/null
printf b | secret put wt/app/b >/dev/null
until_match "$T/w1.out" '"path":\["wt","app","b"\]' || fail "no event for wt/app/b"
expect_eq "$(events "$T/w1.out")" '{"event":"changed","path":["wt","app","a"],"version":2,"deleted":false}
{"event":"changed","path":["wt","app","a"],"version":3,"deleted":true}
{"event":"changed","path":["wt","app","a"],"version":4,"deleted":false}
{"event":"changed","path":["wt","app","a"],"version":5,"deleted":false}
{"event":"changed","path":["wt","app","b"],"version":1,"deleted":false}' "events"
expect_lacks "$(cat "$T/w1.out")" "hidden" "nothing of wt/hidden"
expect_lacks "$(cat "$T/w1.out")" "one" "no value"
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE principal = 'wa' AND action <> 'secret.watch' AND action <> 'hello'")" 0 "events are not audited"

describe "a request in a watching session is answered as usual"
printf '%s\n' '{"id":2,"action":"secret.get","path":["wt","app","b"]}' >&"$FD_w1"
until_match "$T/w1.out" '"id":2' || fail "no answer"
expect_eq "$(grep '"id":2' "$T/w1.out" | jq -r .value)" b "value"

describe "a grant that lets the watcher read more: a rescan of its prefix"
secret acl set wt/hidden wa read >/dev/null
until_match "$T/w1.out" '"rescan"' || fail "no rescan"
expect_eq "$(events "$T/w1.out" | grep rescan)" '{"event":"rescan","prefix":["wt"]}' "rescan event"
printf again | secret put wt/hidden/x >/dev/null
until_match "$T/w1.out" '"path":\["wt","hidden","x"\]' || fail "no event once readable"

describe "a put made through one secretd reaches a watcher on the other"
start_watch w2 "$ALT" "$k" '{"id":1,"action":"secret.watch","prefixes":[["wt","app"],["other"]]}' || die "no answer on the second secretd"
sleep 3	# idle past the second secretd's idle_timeout
printf c | secret put wt/app/c >/dev/null
until_match "$T/w2.out" '"path":\["wt","app","c"\]' || fail "no event on the second secretd"
expect_eq "$(events "$T/w2.out")" '{"event":"changed","path":["wt","app","c"],"version":1,"deleted":false}' "event on the other secretd"

describe "a failed change sends nothing"
expect_fail 6 conflict run_in x secret put --cas 0 wt/app/c
printf d | secret put wt/app/d >/dev/null
until_match "$T/w2.out" '"path":\["wt","app","d"\]' || fail "no event"
expect_eq "$(events "$T/w2.out" | grep -c '"c"')" 1 "one event for wt/app/c"

describe "limits: prefixes must be paths, at most 16"
run_in '{"action":"secret.watch","prefixes":[]}'$'\n' "$SD_LIB_DIR/sock.py" "$SOCK" --hello "$k.pub"
expect_eq "$(sed -n 2p <<<"$OUT" | jq -r .error.code)" bad_request "empty"
many=$(jq -nc '{action:"secret.watch",prefixes:[range(17)|["p\(.)"]]}')
run_in "$many"$'\n' "$SD_LIB_DIR/sock.py" "$SOCK" --hello "$k.pub"
expect_eq "$(sed -n 2p <<<"$OUT" | jq -r .error.code)" too_large "17 prefixes"

describe "removing the watcher's key ends the watch, on both secretd"
k2=$(new_key wa2) || die "key"
secret principal key-add wa --key "$k2.pub" >/dev/null || die "key-add"
start_watch w3 "$ALT" "$k2" '{"id":1,"action":"secret.watch","prefixes":[["wt"]]}' || die "no answer"
secret principal key-remove wa --key "$(fp_of "$k2")" >/dev/null
until_match "$T/w3.err" CLOSED || fail "the watch did not end"
expect_eq "$(events "$T/w3.out" | tail -n 1)" "{\"event\":\"closed\",\"error\":{\"code\":\"unauthenticated\",\"message\":\"key $(fp_of "$k2") was revoked\"}}" "closing event"
stop_watch w3
expect_eq "$RC" 3 "watcher saw the close"
# the others still watch
printf e | secret put wt/app/e >/dev/null
until_match "$T/w1.out" '"path":\["wt","app","e"\]' || fail "w1 stopped"
# (a later watcher holds the FIFO of an earlier one open too: signal)
stop_watch w1 TERM
stop_watch w2 TERM

# ---------------------------------------------------------------- the client
describe "fetch --watch writes, then switches in each change and runs --on-change once per switch"
D=$T/dest
helper_start fw env SECRET_IDENTITY="$k" "$BIN/secret" fetch wt/app --dest "$D" --prune --watch \
	--on-change "sh -c 'echo run >>$T/count'"
until_match "$D/b" '^b$' || { cat "$T/fw.log"; die "first fetch"; }
until_match "$T/count" run || fail "on-change after the first switch"
expect_eq "$(wc -l <"$T/count")" 1 "one run"
printf B | secret put wt/app/b >/dev/null
until_match "$D/b" '^B$' || fail "change not switched in"
for _ in $(seq 40); do [ "$(wc -l <"$T/count")" -ge 2 ] && break; sleep 0.05; done
expect_eq "$(wc -l <"$T/count")" 2 "one run per switch"
secret rm wt/app/b >/dev/null
for _ in $(seq 100); do [ ! -e "$D/b" ] && break; sleep 0.05; done
expect_true test ! -e "$D/b"
sleep 0.5
expect_eq "$(wc -l <"$T/count")" 3 "three switches, three runs"

describe "after its SSH session is killed, fetch --watch connects again and catches up"
# the relay of this watch: the one secret-shell of this run's RUNDIR
relay=
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe" 2>/dev/null)" = "$RUNDIR/secret-shell" ] && relay=${p#/proc/}
done
[ -n "$relay" ] || die "no relay found"
sess=$(ps -o ppid= -p "$relay" | tr -d ' ')
sd_starttime "$sess" && sd_kill_same KILL "$sess" "$SD_START"
printf F | secret put wt/app/f >/dev/null
until_match "$D/f" '^F$' || { cat "$T/fw.log"; fail "not current after the reconnect"; }
expect_contains "$(cat "$T/fw.log")" "session lost; connecting again" "reconnect logged"

describe "revoking the key of fetch --watch ends it"
helper_stop fw
k3=$(new_key wa3) || die "key"
secret principal key-add wa --key "$k3.pub" >/dev/null || die "key-add"
SECRET_IDENTITY="$k3" "$BIN/secret" fetch wt/app --dest "$T/dest3" --watch >"$T/fw3.log" 2>&1 &
fw3=$!
bg_note "$fw3"
until_match "$T/dest3/a" . || die "first fetch"
secret principal key-remove wa --key "$(fp_of "$k3")" >/dev/null
for _ in $(seq 200); do alive "$fw3" || break; sleep 0.05; done
wait "$fw3"
expect_eq "$?" 3 "exit status"
expect_contains "$(cat "$T/fw3.log")" "was revoked" "message"

describe "1000 idle watchers cost the daemon little memory"
# a third secretd with room for them
MEM=$RUNDIR/wa-mem.sock
sed -e "s|^socket = .*|socket = $MEM|" "$W/secretd.conf" >"$T/mem.conf"
printf 'max_connections = 1100\nmax_sessions_per_principal = 1100\n' >>"$T/mem.conf"
helper_start mem "$BIN/secretd" -c "$T/mem.conf" serve
mempid=$HELPER_PID
for _ in $(seq 100); do [ -S "$MEM" ] && break; sleep 0.1; done
[ -S "$MEM" ] || { cat "$T/mem.log"; die "third secretd did not start"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$mempid/status"; }
# one watch first: the listener and its connection are there
start_watch m1 "$MEM" "$k" '{"action":"secret.watch","prefixes":[["wt","app"]]}' || die "first watch"
rss0=$(rss)
mkfifo "$T/many.in"
"$WATCHPY" "$MEM" --hello "$k.pub" --count 1000 \
	'{"action":"secret.watch","prefixes":[["wt","app"],["wt","hidden"]]}' \
	<"$T/many.in" >"$T/many.out" 2>"$T/many.err" &
manypid=$!
bg_note "$manypid"
exec {manyfd}>"$T/many.in"
for _ in $(seq 1200); do grep -q ready "$T/many.out" && break; alive "$manypid" || break; sleep 0.1; done
expect_eq "$(cat "$T/many.out")" "ready 1000" "1000 watches answered"
rss1=$(rss)
echo "# RSS of secretd: $rss0 KiB with 1 watch, $rss1 KiB with 1001 ($(( (rss1 - rss0) / 1000 )) KiB each)"
case $BIN in
*/asan/*) ;;	# the sanitizer's shadow memory and quarantine: not measured
*) expect_true test "$rss1" -le $((64 * 1024)) ;;
esac
printf x | secret put wt/app/mem >/dev/null
until_match "$T/m1.out" '"path":\["wt","app","mem"\]' || fail "no event with 1000 more watchers"
exec {manyfd}>&-
wait "$manypid"
expect_eq "$?" 0 "the 1000 watchers ran to the end"
stop_watch m1 TERM
helper_stop mem

describe "no sanitizer report from the other secretd, once stopped"
helper_stop alt
expect_eq "$HELPER_RC" 0 "the second secretd stopped cleanly"
expect_eq "$(grep -cE "$SD_SAN_RE" "$T/alt.log")" 0 "alt.log"
expect_eq "$(grep -cE "$SD_SAN_RE" "$T/mem.log")" 0 "mem.log"
done_testing

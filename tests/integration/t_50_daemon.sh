#!/bin/bash
# t_50_daemon.sh - secretd as a daemon: the socket peer check, hello
# first, unknown keys with enrol_unknown_keys = no, the AuthorizedKeysCommand
# answer, idle timeout, strict config and keyring checks at start, the
# database going away and coming back, concurrent clients, SIGTERM.
. "$(dirname "$0")/lib.sh"
test_init

SOCK=$RUNDIR/secretd.sock
SOCKPY=$SD_LIB_DIR/sock.py
SECRET_GID=$(getent group secret | cut -d: -f3)
stranger=$(new_key stranger) || die "ssh-keygen"
read -r ktype kb64 _ <"$W/admin.pub"
read -r stype sb64 _ <"$stranger.pub"

# A second secretd on the same database: no enrolment, 2 s idle timeout.
ALT=$RUNDIR/alt.sock
sed -e "s|^socket = .*|socket = $ALT|" -e 's|^enrol_unknown_keys = .*|enrol_unknown_keys = no|' \
	-e 's|^idle_timeout = .*|idle_timeout = 2|' "$W/secretd.conf" >"$T/alt.conf"
echo "max_connections = 2" >>"$T/alt.conf"
# (both of them admin's: beyond its default of half, t_56 tests that cap)
echo "max_sessions_per_principal = 2" >>"$T/alt.conf"
helper_start alt "$BIN/secretd" -c "$T/alt.conf" serve
for _ in $(seq 100); do [ -S "$ALT" ] && break; sleep 0.1; done
[ -S "$ALT" ] || { cat "$T/alt.log"; die "alt secretd did not start"; }

describe "a socket peer whose uid is not in shell_users is closed unread"
secretd_log_mark
run "$SOCKPY" "$SOCK" --as "65534:$SECRET_GID" --hello "$W/admin.pub"
expect_rc 3
expect_out ""
expect_err_contains CLOSED
sleep 0.2
expect_contains "$(secretd_log_since)" "refused socket peer with uid 65534"

describe "the socket is 0660 and belongs to group secret"
expect_mode 660 "$SOCK"
expect_eq "$(stat -c %G "$SOCK")" secret "socket group"

describe "the first line must be hello"
run_in $'{"action":"whoami"}\n{"action":"whoami"}\n' "$SOCKPY" "$SOCK"
expect_rc 3
expect_json '.error.code' unauthenticated

describe "enrol_unknown_keys = no: an unknown key's hello is refused and audited"
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$ALT" --hello "$stranger.pub"
expect_rc 3
expect_eq "$(head -n 1 "$OUT_FILE" | jq -r .error.code)" unauthenticated "hello refused"
fp=$(ssh-keygen -lf "$stranger.pub" | awk '{print $2}')
expect_eq "$(sql "SELECT action, result, error_code, client_addr, client_port FROM audit_log WHERE fingerprint = '$fp' AND action = 'hello'")" \
	"hello|denied|unauthenticated|192.0.2.7|40000" "refusal audited with the client address"

describe "authorized-keys: a line for a known key, built only from validated parts"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys secret "$ktype" "$kb64"
expect_rc 0
expect_out "restrict,command=\"$RUNDIR/secret-shell\" $ktype $kb64"
describe "authorized-keys: unknown key with enrolment on gets a line, with it off none"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys secret "$stype" "$sb64"
expect_out "restrict,command=\"$RUNDIR/secret-shell\" $stype $sb64"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$ALT" authorized-keys secret "$stype" "$sb64"
expect_out ""
describe "authorized-keys: another user name or a bad key print nothing"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys root "$ktype" "$kb64"
expect_out ""
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys secret ssh-rsa "$kb64"
expect_out ""
describe "authorized-keys: no daemon admits the key to the outage session only (t_85_outage.sh)"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$RUNDIR/none.sock" authorized-keys secret "$ktype" "$kb64"
expect_out "restrict,command=\"$RUNDIR/secret-shell unavailable\" $ktype $kb64"

describe "an idle connection is closed after idle_timeout"
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$ALT" --hello "$W/admin.pub" --idle 4
expect_rc 3
expect_eq "$(wc -l <"$OUT_FILE")" 2 "answered before the timeout"

describe "beyond max_connections a connection gets unavailable, and the others are served"
( printf '{"action":"whoami"}\n' | "$SOCKPY" "$ALT" --hello "$W/admin.pub" --idle 1.5 >/dev/null 2>&1 & )
( printf '{"action":"whoami"}\n' | "$SOCKPY" "$ALT" --hello "$W/admin.pub" --idle 1.5 >/dev/null 2>&1 & )
sleep 0.5
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$ALT" --hello "$W/admin.pub"
expect_eq "$(head -n 1 "$OUT_FILE" | jq -r .error.code)" unavailable "third connection refused"
expect_eq "$(head -n 1 "$OUT_FILE" | jq -r .error.message)" "too many connections" "message"
sleep 3
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$ALT" --hello "$W/admin.pub"
expect_rc 0
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .principal)" admin "served once the others left"

describe "start-up refuses a bad config with file:line: reason"
printf 'socket = /tmp/x.sock\n# ok\ncolour = blue\n' >"$T/bad.conf"
expect_exit 1 "$BIN/secretd" -c "$T/bad.conf" serve
expect_err "secretd: $T/bad.conf:3: unknown key \"colour\""
printf 'pool_size = 1000\n' >"$T/bad2.conf"
expect_exit 1 "$BIN/secretd" -c "$T/bad2.conf" serve
expect_err "secretd: $T/bad2.conf:1: pool_size must be an integer from 1 to 64"

describe "start-up refuses a group/world-readable or missing keyring, saying how to fix it"
install -m 0644 "$W/keyring" "$T/kr644"
sed -e "s|^keyring = .*|keyring = $T/kr644|" -e "s|^socket = .*|socket = $T/x.sock|" "$W/secretd.conf" >"$T/kr.conf"
expect_exit 1 "$BIN/secretd" -c "$T/kr.conf" serve
expect_err_contains "mode 0644 is readable or writable by group or others; fix with \"chmod 0400 $T/kr644\""
sed -e "s|^keyring = .*|keyring = $T/none|" -e "s|^socket = .*|socket = $T/x.sock|" "$W/secretd.conf" >"$T/kr2.conf"
expect_exit 1 "$BIN/secretd" -c "$T/kr2.conf" serve
expect_err_contains "No such file or directory (create it with \"secretd init\")"

describe "start-up refuses a keyring that lacks a key stored values need, naming the count"
expect_exit 0 run_in "needs key 1" secret put daemon/k
printf '7 %s\n' "$(head -c 32 /dev/urandom | base64)" >"$T/kr7"
chmod 0400 "$T/kr7"
sed -e "s|^keyring = .*|keyring = $T/kr7|" -e "s|^socket = .*|socket = $T/x.sock|" "$W/secretd.conf" >"$T/kr7.conf"
expect_exit 1 "$BIN/secretd" -c "$T/kr7.conf" serve
n=$(sql "SELECT count(*) FROM secret_version WHERE key_id = 1 AND ciphertext IS NOT NULL")
expect_err_contains "$n stored versions are sealed with key 1, which the keyring $T/kr7 lacks"

describe "concurrent clients are served concurrently, while another connection sits idle"
( printf '{"action":"whoami"}\n'; sleep 8 ) | "$SOCKPY" "$SOCK" --hello "$W/admin.pub" >/dev/null 2>&1 &
idle_pid=$!
sd_starttime "$idle_pid"
idle_start=$SD_START
for i in $(seq 12); do
	( secret get daemon/k >"$T/c$i.out" 2>"$T/c$i.err"; echo $? >"$T/c$i.rc" ) &
done
wait_start=$SECONDS
for i in $(seq 12); do while [ ! -s "$T/c$i.rc" ] && [ $((SECONDS - wait_start)) -lt 60 ]; do sleep 0.1; done; done
ok_count=0
for i in $(seq 12); do [ "$(cat "$T/c$i.rc")" = 0 ] && [ "$(cat "$T/c$i.out")" = "needs key 1" ] && ok_count=$((ok_count + 1)); done
expect_eq "$ok_count" 12 "12 parallel gets"
sd_kill_same TERM "$idle_pid" "$idle_start"	# (it may have ended: 8 s)

describe "database down: a login gets unavailable (not a refused key); an open session gets unavailable and recovers"
mkfifo "$T/fifo"
"$SOCKPY" "$SOCK" --hello "$W/admin.pub" <"$T/fifo" >"$T/dbdown.out" 2>&1 &
sess_pid=$!
sd_starttime "$sess_pid"
sess_start=$SD_START
exec 7>"$T/fifo"
lines() { wc -l <"$T/dbdown.out"; }
await() { for _ in $(seq 100); do [ "$(lines)" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }
printf '{"id":1,"action":"secret.get","path":["daemon","k"]}\n' >&7
expect_true await 2
env_load "$W"
pg_down 7>&-
printf '{"id":2,"action":"secret.get","path":["daemon","k"]}\n' >&7
expect_true await 3
expect_eq "$(sed -n 3p "$T/dbdown.out" | jq -r .error.code)" unavailable "get while the database is down"
expect_fail 1 unavailable secret get daemon/k
expect_true kill -0 "$(cat "$W/secretd.pid")"
pg_up >/dev/null 2>&1 7>&- || die "PostgreSQL did not come back"
n=3
for i in $(seq 30); do
	printf '{"id":%d,"action":"secret.get","path":["daemon","k"]}\n' $((i + 2)) >&7
	n=$((n + 1))
	await "$n" || break
	[ "$(tail -n 1 "$T/dbdown.out" | jq -r .ok)" = true ] && break
	sleep 0.3
done
expect_eq "$(tail -n 1 "$T/dbdown.out" | jq -r .value)" "needs key 1" "the same session is served again"
exec 7>&-
sd_kill_same TERM "$sess_pid" "$sess_start"
wait "$sess_pid" 2>/dev/null
expect_exit 0 secret get daemon/k
expect_out_exact "needs key 1"

describe "a database restart between requests costs no request: dead idle connections are replaced before use"
pids=()
for i in $(seq 6); do	# open several pool connections
	printf '{"id":%d,"action":"secret.get","path":["daemon","k"]}\n' "$i" >"$T/warm$i"
	"$SOCKPY" "$SOCK" --hello "$W/admin.pub" <"$T/warm$i" >"$T/warm$i.out" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
expect_eq "$(tail -qn 1 "$T"/warm?.out | jq -r .value | sort | uniq -c | tr -s ' ')" " 6 needs key 1" "six parallel gets before the restart"
env_load "$W"
secretd_log_mark
pg_down
pg_up >/dev/null 2>&1 || die "PostgreSQL did not come back"
for i in $(seq 10); do printf '{"id":%d,"action":"secret.get","path":["daemon","k"]}\n' "$i"; done >"$T/after"
run_in_file "$T/after" "$SOCKPY" "$SOCK" --hello "$W/admin.pub"
expect_rc 0
expect_eq "$(tail -n 10 "$OUT_FILE" | jq -r 'if .ok then .value else .error.code end' | sort | uniq -c | tr -s ' ')" " 10 needs key 1" "every get after the restart served, the first included"
expect_contains "$(secretd_log_since)" "database connection closed by the server while idle; reconnecting"

describe "SIGTERM: the daemon exits 0 and removes its socket"
helper_stop alt TERM
expect_eq "$HELPER_RC" 0 "exit status"
expect_true test ! -e "$ALT"

done_testing

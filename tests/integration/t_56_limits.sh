#!/bin/bash
# t_56_limits.sh - fair limits on sessions, on a secretd of its own with
# small limits: enrol-only sessions have their own cap, lifetime and line
# limit and never take a known principal's place; no principal holds more
# than max_sessions_per_principal sessions; a client that pipelines
# requests and never reads its answers is dropped within idle_timeout
# while the others are served; a line of a million tiny JSON values is
# refused before it is parsed, and costs the daemon little memory.
. "$(dirname "$0")/lib.sh"
test_init

SOCKPY=$SD_LIB_DIR/sock.py
LS=$RUNDIR/limits.sock
IDLE=6
sed -e "s|^socket = .*|socket = $LS|" -e "s|^idle_timeout = .*|idle_timeout = $IDLE|" \
	-e 's|^enrol_unknown_keys = .*|enrol_unknown_keys = yes|' "$W/secretd.conf" >"$T/l.conf"
cat >>"$T/l.conf" <<EOF
max_connections = 4
max_enrol_sessions = 2
max_sessions_per_principal = 2
enrol_session_lifetime = 8
enrol_max_request_size = 1024
EOF
helper_start l "$BIN/secretd" -c "$T/l.conf" serve	# (log: $T/l.log)
LPID=$HELPER_PID
cleanup() {
	local p
	for p in ${HOLD:-}; do bg_kill TERM "$p"; done
}
at_exit cleanup
for _ in $(seq 100); do [ -S "$LS" ] && break; sleep 0.1; done
[ -S "$LS" ] || { cat "$T/l.log"; die "secretd with small limits did not start"; }

# hold NAME KEY: a session of KEY on $LS, held open (a whoami every
# 0.5 s) until release NAME; its answers in $T/NAME.out.  Waits for the
# hello's answer.
hold() {
	local n=$1 key=$2 i
	: >"$T/$n.out"
	( for i in $(seq 40); do printf '{"action":"whoami"}\n'; sleep 0.5; done ) |
		"$SOCKPY" "$LS" --hello "$key" >"$T/$n.out" 2>/dev/null &
	bg_note "$!"
	printf -v "HOLD_$n" %s "$!"
	HOLD="${HOLD:-} $!"
	for i in $(seq 100); do [ -s "$T/$n.out" ] && return 0; sleep 0.05; done
	return 1
}
release() {
	local v="HOLD_$1"
	bg_kill TERM "${!v}"
	wait "${!v}" 2>/dev/null
}
first() { head -n 1 "$T/$1.out" | jq -r "$2"; }
hello_code() { head -n 1 "$OUT_FILE" | jq -r 'if .ok then "ok" else .error.code end'; }

describe "a line of a million tiny JSON values is refused unparsed, and costs little memory"
python3 -c 'import sys; sys.stdout.write("{\"action\":\"whoami\",\"x\":[" + ",".join(["0"] * 524000) + "]}\n")' >"$T/tiny.json"
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$LPID/status"; }
before=$(hwm)
run_in_file "$T/tiny.json" "$SOCKPY" "$LS" --hello "$W/admin.pub"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .error.code)" too_large "refused"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .error.message)" "more than 65536 JSON values in one request" "message"
grew=$(( $(hwm) - before ))
if sd_is_san "$BIN/secretd"; then
	ok "peak memory grew by $grew KiB under ASan (not checked: quarantine)"
elif [ "$grew" -lt 4096 ]; then
	ok "peak memory grew by $grew KiB for a $(wc -c <"$T/tiny.json")-byte line"
else
	fail "peak memory grew by $grew KiB for a $(wc -c <"$T/tiny.json")-byte line"
fi

describe "enrol-only sessions beyond max_enrol_sessions are refused; known principals still get in"
e1=$(new_key lim_e1) && e2=$(new_key lim_e2) && e3=$(new_key lim_e3) || die "ssh-keygen"
k2=$(new_key lim_p2) || die "ssh-keygen"
p3=$(new_key lim_p3) || die "ssh-keygen"
# both principals before the enrol-only sessions open: from then on
# every step must fit in their enrol_session_lifetime (8 s)
expect_exit 0 secret principal create limp2 --key "$k2.pub"
expect_exit 0 secret principal create limp3 --key "$p3.pub"
hold e1 "$e1.pub" || die "enrol-only session 1"
hold e2 "$e2.pub" || die "enrol-only session 2"
expect_eq "$(first e1 .enrol_only)" true "session 1 is enrol-only"
expect_eq "$(first e2 .enrol_only)" true "session 2 is enrol-only"
secretd_log_mark
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$LS" --hello "$e3.pub"
expect_eq "$(hello_code)" rate_limited "third enrol-only session"
expect_eq "$(head -n 1 "$OUT_FILE" | jq -r .error.message)" \
	"too many enrol-only sessions (max_enrol_sessions = 2), retry later" "message"
expect_contains "$(cat "$T/l.log")" "session for (enrol-only) ($(ssh-keygen -lf "$e3.pub" | awk '{print $2}')) from 192.0.2.7 refused: too many enrol-only sessions"
describe "... while both are open, known principals fill every one of max_connections"
hold a1 "$W/admin.pub" || die "admin session 1"
hold a2 "$W/admin.pub" || die "admin session 2"
hold p1 "$k2.pub" || die "limp2 session 1"
hold p2 "$k2.pub" || die "limp2 session 2"
for n in a1 a2 p1 p2; do
	expect_eq "$(first "$n" .ok)" true "known session $n"
done
expect_true alive "$HOLD_e1"
expect_true alive "$HOLD_e2"
describe "... and a fifth known session finds the daemon full"
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$LS" --hello "$p3.pub"
expect_eq "$(hello_code)" unavailable "fifth known session"
expect_eq "$(head -n 1 "$OUT_FILE" | jq -r .error.message)" "too many connections" "message"
expect_true alive "$HOLD_e1"
expect_true alive "$HOLD_e2"

describe "max_sessions_per_principal: a third session of one principal is refused, another principal's is not"
release p1
release p2
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$LS" --hello "$W/admin.pub"
expect_eq "$(hello_code)" rate_limited "third admin session"
expect_eq "$(head -n 1 "$OUT_FILE" | jq -r .error.message)" \
	"this principal has 2 sessions open (max_sessions_per_principal), retry later" "message"
expect_contains "$(cat "$T/l.log")" "refused: this principal has 2 sessions open"
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$LS" --hello "$k2.pub"
expect_eq "$(hello_code)" ok "limp2 gets in"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .principal)" limp2 "whoami"
release a1
release a2
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$LS" --hello "$W/admin.pub"
expect_eq "$(hello_code)" ok "an admin session once the others closed"

describe "an enrol-only session ends after enrol_session_lifetime, busy or not"
release e1
release e2
t0=$SECONDS
run bash -c "( for i in \$(seq 40); do printf '{\"action\":\"whoami\"}\n'; sleep 0.5; done ) | '$SOCKPY' '$LS' --hello '$e3.pub'"
expect_eq "$RC" 3 "closed by the daemon"
expect_err_contains CLOSED
expect_true [ $((SECONDS - t0)) -le 11 ]
expect_true [ "$(grep -c '"enrol_only":true' "$OUT_FILE")" -ge 10 ]
expect_contains "$(cat "$T/l.log")" "enrol-only session closed after 8 s (enrol_session_lifetime)"

describe "an enrol-only session's lines are bounded by enrol_max_request_size; a known one's are not"
long=$(head -c 1500 /dev/zero | tr '\0' a)
run_in "{\"action\":\"enrol\",\"token\":\"$long\",\"principal\":\"x\"}"$'\n{"action":"whoami"}\n' "$SOCKPY" "$LS" --hello "$e3.pub"
expect_eq "$(sed -n 2p "$OUT_FILE" | jq -r .error.code)" too_large "1.5 KiB line, enrol-only"
expect_eq "$(sed -n 3p "$OUT_FILE" | jq -r .enrol_only)" true "the session goes on"
run_in "{\"action\":\"secret.put\",\"path\":[\"lim\",\"long\"],\"value\":\"$long\"}"$'\n' "$SOCKPY" "$LS" --hello "$W/admin.pub"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .ok)" true "1.5 KiB line, known principal"

describe "a client that pipelines requests and never reads is dropped within idle_timeout"
head -c 60000 /dev/urandom | base64 -w0 | head -c 60000 >"$T/big"
expect_exit 0 run_in_file "$T/big" secret put lim/big
cat >"$T/noread.py" <<'PY'
import json, socket, sys, time
path, key, idle = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
k = open(key).read().split()
s.sendall(json.dumps({"action": "hello", "key": k[0] + " " + k[1]}).encode() + b"\n")
req = b'{"action":"secret.get","path":["lim","big"]}\n'
s.settimeout(1)
sent = 0
try:
    for _ in range(2000):
        s.sendall(req)
        sent += 1
except OSError:
    pass
time.sleep(idle + 4)       # read nothing past the daemon's deadline
s.settimeout(10)
got = b""
try:
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += d
except OSError:
    pass
print(sent, got.count(b"\n") - 1)   # less the hello's answer
PY
secretd_log_mark
python3 "$T/noread.py" "$LS" "$W/admin.pub" "$IDLE" >"$T/noread.out" &
NR=$!
sleep 2
describe "... while it is stuck, the daemon serves others"
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$LS" --hello "$k2.pub"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .principal)" limp2 "another session"
wait "$NR"
NR=
read -r sent answered <"$T/noread.out"
expect_true [ "$sent" -gt 10 ]
expect_true [ "$answered" -lt "$sent" ]
expect_contains "$(cat "$T/l.log")" "the client read no answer for $IDLE s: dropped"
run_in $'{"action":"whoami"}\n' "$SOCKPY" "$LS" --hello "$W/admin.pub"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .principal)" admin "the daemon is healthy afterwards"

helper_stop l
LPID=
expect_eq "$(grep -cE "$SD_SAN_RE" "$T/l.log")" 0 "no sanitizer report"
done_testing

#!/bin/bash
# t_55_revocation.sh - revocation is live: removing a key, deleting a
# principal, removing a member from a group, removing a grant or a global
# grant takes effect on the very next request of a session already open
# (over the socket, and through sshd), busy or idle, on every secretd
# that shares the database.  A session whose key is gone is answered
# unauthenticated ("key SHA256:... was revoked") and closed; one that
# only lost a grant is refused that grant and stays open.
. "$(dirname "$0")/lib.sh"
test_init

SOCK=$RUNDIR/secretd.sock
SOCKPY=$SD_LIB_DIR/sock.py

# A second secretd on the same database.
ALT=$RUNDIR/rv-alt.sock
sed -e "s|^socket = .*|socket = $ALT|" "$W/secretd.conf" >"$T/alt.conf"
helper_start alt "$BIN/secretd" -c "$T/alt.conf" serve	# (log: $T/alt.log)
cleanup() {
	local n fdv
	for n in ${SESSIONS:-}; do
		fdv="FD_$n"
		[ -n "${!fdv}" ] && eval "exec ${!fdv}>&-"
	done
}
at_exit cleanup
for _ in $(seq 100); do [ -S "$ALT" ] && break; sleep 0.1; done
[ -S "$ALT" ] || { cat "$T/alt.log"; die "second secretd did not start"; }

# open NAME CMD...: run CMD (a client reading requests on stdin) in the
# background, fed through the FIFO $T/NAME.in (held open on fd FD_NAME),
# its answers in $T/NAME.out; PID_NAME is its pid.
open_session() {
	local n=$1 fd
	shift
	rm -f "$T/$n.in"
	mkfifo "$T/$n.in"
	: >"$T/$n.out"
	"$@" <"$T/$n.in" >"$T/$n.out" 2>"$T/$n.err" &
	bg_note "$!"
	printf -v "PID_$n" %s "$!"
	exec {fd}>"$T/$n.in"
	printf -v "FD_$n" %s "$fd"
	SESSIONS="${SESSIONS:-} $n"
}
# lines NAME: how many answers so far
lines() { wc -l <"$T/$1.out"; }
# wait_lines NAME N: until NAME has N answers (10 s at most)
wait_lines() {
	local i
	for i in $(seq 200); do
		[ "$(lines "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# ask NAME JSON: send one request on session NAME, wait for its answer,
# which is then in ANS
ask() {
	local n=$1 fdv="FD_$1" before
	before=$(lines "$n")
	printf '%s\n' "$2" >&"${!fdv}"
	wait_lines "$n" $((before + 1)) || { ANS=; return 1; }
	ANS=$(sed -n "$((before + 1))p" "$T/$n.out")
}
# end NAME: close its stdin and wait for it; RC is its exit status
end_session() {
	local fdv="FD_$1" pidv="PID_$1"
	[ -n "${!fdv}" ] && eval "exec ${!fdv}>&-"
	printf -v "FD_$1" %s ""
	wait "${!pidv}"
	RC=$?
	printf -v "PID_$1" %s ""
}
code() { jq -r 'if .ok then "ok" else .error.code end' <<<"$ANS"; }
msg() { jq -r '.error.message // ""' <<<"$ANS"; }
fp_of() { ssh-keygen -lf "$1.pub" | awk '{print $2}'; }

# A principal NAME with a fresh key, in group NAME, which may read rv/NAME.
mk() {
	local k
	k=$(new_key "$1") || return 1
	secret group create "$1" >/dev/null &&
		secret principal create "$1" --key "$k.pub" --group "$1" >/dev/null &&
		printf v | secret put "rv/$1" >/dev/null &&
		secret acl set "rv/$1" "$1" read >/dev/null || return 1
	echo "$k"
}
get_req() { printf '{"action":"secret.get","path":["rv","%s"]}' "$1"; }

describe "key removed: the next request of an open session is unauthenticated, and it closes"
k=$(mk rvkey) || die "setup"
open_session s1 "$SOCKPY" "$SOCK" --hello "$k.pub"
wait_lines s1 1 || die "no hello answer"
ask s1 "$(get_req rvkey)"; expect_eq "$(code)" ok "get before"
ask s1 '{"action":"whoami"}'; expect_eq "$(code)" ok "whoami before"
expect_exit 0 secret principal key-remove rvkey --key "$(fp_of "$k")"
ask s1 "$(get_req rvkey)"
expect_eq "$(code)" unauthenticated "get after the key was removed"
expect_eq "$(msg)" "key $(fp_of "$k") was revoked" "message"
printf '%s\n' "$(get_req rvkey)" >&"$FD_s1"
end_session s1
expect_eq "$RC" 3 "the session was closed"
expect_contains "$(cat "$T/s1.err")" CLOSED
expect_eq "$(sql "SELECT result, error_code FROM audit_log WHERE fingerprint = '$(fp_of "$k")' ORDER BY id DESC LIMIT 1")" \
	"denied|permission_denied" "the refused get is audited"
expect_contains "$(cat "$W/secretd.log")" "key $(fp_of "$k") of rvkey was revoked: session closed"

describe "key removed: whoami on an open session is unauthenticated too"
k=$(mk rvwho) || die "setup"
open_session s2 "$SOCKPY" "$SOCK" --hello "$k.pub"
ask s2 '{"action":"whoami"}'; expect_eq "$(code)" ok "whoami before"
expect_exit 0 secret principal key-remove rvwho --key "$k.pub"
ask s2 '{"action":"whoami"}'
expect_eq "$(code)" unauthenticated "whoami after"
end_session s2

describe "principal deleted: the next request is unauthenticated (puts and global actions too)"
k=$(mk rvdel) || die "setup"
expect_exit 0 secret acl set rv/rvdel rvdel read,write
open_session s3 "$SOCKPY" "$SOCK" --hello "$k.pub"
ask s3 '{"action":"secret.put","path":["rv","rvdel"],"value":"w"}'; expect_eq "$(code)" ok "put before"
expect_exit 0 secret principal delete rvdel
ask s3 '{"action":"secret.put","path":["rv","rvdel"],"value":"x"}'
expect_eq "$(code)" unauthenticated "put after the principal was deleted"
end_session s3
expect_eq "$(secret get rv/rvdel)" w "the refused put wrote nothing"

describe "the key given to another principal: the old session is unauthenticated"
k=$(mk rvmove) || die "setup"
k2=$(mk rvmove2) || die "setup"
open_session s4 "$SOCKPY" "$SOCK" --hello "$k.pub"
ask s4 "$(get_req rvmove)"; expect_eq "$(code)" ok "get before"
expect_exit 0 secret principal key-remove rvmove --key "$k.pub"
expect_exit 0 secret principal key-add rvmove2 --key "$k.pub"
ask s4 "$(get_req rvmove2)"
expect_eq "$(code)" unauthenticated "the session of rvmove cannot use rvmove2's grants"
end_session s4

describe "a rekey enrolment replaced the key: the old key's open session is unauthenticated"
k=$(mk rvrekey) || die "setup"
open_session s13 "$SOCKPY" "$SOCK" --hello "$k.pub"
ask s13 "$(get_req rvrekey)"; expect_eq "$(code)" ok "get before"
tok=$(secret enrol-token create --name-pattern rvrekey --group rvrekey --ttl 1h --allow-rekey) || fail "token"
knew=$(new_key rvrekey-new) || die "ssh-keygen"
run_in "{\"action\":\"enrol\",\"token\":\"$tok\",\"principal\":\"rvrekey\"}"$'\n' "$SOCKPY" "$SOCK" --hello "$knew.pub"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .ok)" true "rekey enrolment"
ask s13 "$(get_req rvrekey)"
expect_eq "$(code)" unauthenticated "the old key's session after the rekey"
end_session s13

describe "membership removed: the next request is refused, the session stays open"
k=$(mk rvmem) || die "setup"
open_session s5 "$SOCKPY" "$SOCK" --hello "$k.pub"
ask s5 "$(get_req rvmem)"; expect_eq "$(code)" ok "get before"
expect_exit 0 secret group remove rvmem rvmem
ask s5 "$(get_req rvmem)"
expect_eq "$(code)" permission_denied "get after the membership was removed"
ask s5 '{"action":"secret.get_many","paths":[["rv","rvmem"]]}'
expect_eq "$(jq -r '.results[0].error.code' <<<"$ANS")" permission_denied "get_many item after"
ask s5 '{"action":"whoami"}'
expect_eq "$(jq -r '.groups | length' <<<"$ANS")" 0 "whoami: no group"
expect_exit 0 secret group add rvmem rvmem
ask s5 "$(get_req rvmem)"
expect_eq "$(code)" ok "member again: get"
end_session s5

describe "grant removed: the next request is refused"
k=$(mk rvgr) || die "setup"
open_session s6 "$SOCKPY" "$SOCK" --hello "$k.pub"
ask s6 "$(get_req rvgr)"; expect_eq "$(code)" ok "get before"
expect_exit 0 secret acl set rv/rvgr rvgr -
ask s6 "$(get_req rvgr)"
expect_eq "$(code)" permission_denied "get after the grant was removed"
end_session s6

describe "global grant removed: the next global action is refused"
k=$(mk rvglob) || die "setup"
expect_exit 0 secret acl set --global rvglob group_manage
open_session s7 "$SOCKPY" "$SOCK" --hello "$k.pub"
ask s7 '{"action":"group.list"}'; expect_eq "$(code)" ok "group.list before"
expect_exit 0 secret acl set --global rvglob -
ask s7 '{"action":"group.list"}'
expect_eq "$(code)" permission_denied "group.list after the global grant was removed"
end_session s7

describe "a busy session (a request every 20 ms, never idle) is cut on its next request"
k=$(mk rvbusy) || die "setup"
open_session s8 "$SOCKPY" "$SOCK" --hello "$k.pub"
wait_lines s8 1 || die "no hello answer"
req=$(get_req rvbusy)
( while printf '%s\n' "$req" 2>/dev/null; do sleep 0.02; done ) >&"$FD_s8" &
FEED=$!
bg_note "$FEED"
sleep 1
expect_true [ "$(lines s8)" -gt 10 ]
expect_exit 0 secret principal key-remove rvbusy --key "$k.pub"
t0=$SECONDS
for _ in $(seq 100); do alive "$PID_s8" || break; sleep 0.1; done
bg_kill TERM "$PID_s8"
wait "$PID_s8"
RC=$?
PID_s8=
bg_kill TERM "$FEED"; wait "$FEED" 2>/dev/null
expect_eq "$RC" 3 "closed by the daemon"
expect_true [ $((SECONDS - t0)) -lt 5 ]
expect_eq "$(tail -n 1 "$T/s8.out" | jq -r .error.code)" unauthenticated "its last answer"
expect_eq "$(tail -n +2 "$T/s8.out" | head -n -1 | jq -r 'if .ok then "ok" else .error.code end' | sort -u)" ok "every answer before it ok"

describe "through sshd: an open json session is unauthenticated after its key is removed"
k=$(mk rvssh) || die "setup"
open_session s9 plain_ssh "$k" json
ask s9 "$(get_req rvssh)"; expect_eq "$(code)" ok "get before"
expect_exit 0 secret principal key-remove rvssh --key "$k.pub"
ask s9 "$(get_req rvssh)"
expect_eq "$(code)" unauthenticated "get after"
expect_eq "$(msg)" "key $(fp_of "$k") was revoked" "message"
end_session s9

describe "two secretd on one database: revoked through one, refused on the other"
k=$(mk rvalt) || die "setup"
open_session s10 "$SOCKPY" "$ALT" --hello "$k.pub"
ask s10 "$(get_req rvalt)"; expect_eq "$(code)" ok "get on the second secretd"
expect_exit 0 secret principal key-remove rvalt --key "$k.pub"
ask s10 "$(get_req rvalt)"
expect_eq "$(code)" unauthenticated "get on the second secretd after"
end_session s10
k=$(mk rvalt2) || die "setup"
open_session s11 "$SOCKPY" "$ALT" --hello "$k.pub"
ask s11 "$(get_req rvalt2)"; expect_eq "$(code)" ok "get on the second secretd"
expect_exit 0 secret acl set rv/rvalt2 rvalt2 -
ask s11 "$(get_req rvalt2)"
expect_eq "$(code)" permission_denied "grant removed through the first: refused on the second"
end_session s11

describe "enrol-only sessions are unaffected"
stranger=$(new_key rvstranger) || die "ssh-keygen"
open_session s12 "$SOCKPY" "$SOCK" --hello "$stranger.pub"
ask s12 '{"action":"whoami"}'
expect_eq "$(jq -r .enrol_only <<<"$ANS")" true "enrol-only whoami"
ask s12 '{"action":"secret.get","path":["rv","rvalt2"]}'
expect_eq "$(code)" unauthenticated "enrol-only: only enrol"
ask s12 '{"action":"whoami"}'
expect_eq "$(code)" ok "and the session goes on"
end_session s12

helper_stop alt
expect_eq "$(grep -cE "$SD_SAN_RE" "$T/alt.log")" 0 "no sanitizer report from the second secretd"
done_testing

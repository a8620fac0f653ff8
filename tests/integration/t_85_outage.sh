#!/bin/bash
# t_85_outage.sh - an outage looks like an outage to a booting host
# (issue 23): while PostgreSQL or secretd is down, sshd's key lookup
# cannot answer, and every key (known or not) gets a session that
# answers `unavailable` and nothing else.  The client reports
# `unavailable` (exit 1, not `unauthenticated`), `--wait` retries it
# until the server is back (fetch, exec, template), and gives up at its
# deadline with one error line.
#
# This file stops PostgreSQL and secretd: its at_exit hook starts both again
# (same ports, same socket), whatever happens, because the files after
# this one share the environment.
. "$(dirname "$0")/lib.sh"
test_init

SOCK=$RUNDIR/secretd.sock
BG_PIDS=()
restore() {
	local p
	for p in "${BG_PIDS[@]}"; do sd_kill_same TERM "${p%%:*}" "${p#*:}"; done
	env_load "$W"
	pg_up >/dev/null 2>&1 || echo "t_85: cannot restart PostgreSQL" >&2
	secretd_up >/dev/null 2>&1 || echo "t_85: cannot restart secretd" >&2
}
at_exit restore

# The message of an outage session (secret-shell/outage.c).
MSG='secretd is unreachable (the daemon or its database is down, so no key can be checked); retry later'

stranger=$(new_key outage-stranger) || die "ssh-keygen"
read -r ktype kb64 _ <"$W/admin.pub"
read -r stype sb64 _ <"$stranger.pub"
run secret rm -r outage
printf 'v1' | secret put outage/a >/dev/null || die "put"
printf 'v2' | secret put outage/b >/dev/null || die "put"
printf 'a={{ secret "outage/a" }}\n' >"$T/in.tmpl"

# bg NAME CMD...: run CMD in the background, its exit status in $T/NAME.rc
bg() {
	local name=$1
	shift
	( "$@" >"$T/$name.out" 2>"$T/$name.err"; echo $? >"$T/$name.rc" ) </dev/null &
	sd_starttime "$!"
	BG_PIDS+=("$!:$SD_START")	# (it may have ended by the time restore runs)
}
# await_rc NAME SECS: wait for bg NAME to end
await_rc() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$T/$1.rc" ] && return 0
		sleep 0.1
	done
	return 1
}

describe "all up: the key lookup admits a known key to a normal session"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys secret "$ktype" "$kb64"
expect_out "restrict,command=\"$RUNDIR/secret-shell\" $ktype $kb64"

describe "the outage session never talks to secretd, even when it is up"
# Everything is up and the admin's key is in SSH_USER_AUTH: a session
# that relayed would be served.  This one answers unavailable only.
printf 'publickey %s %s\n' "$ktype" "$kb64" >"$T/authinfo"
chmod 0644 "$T/authinfo"
chmod 0755 "$T"
run_in $'{"id":1,"action":"whoami"}\n{"id":"x","action":"secret.get","path":["outage","a"]}\n' \
	runuser -u secret -- env SECRETD_SOCKET="$SOCK" SSH_USER_AUTH="$T/authinfo" \
	SSH_ORIGINAL_COMMAND=json "$RUNDIR/secret-shell" unavailable
expect_rc 3
expect_eq "$(jq -c . "$OUT_FILE")" \
	"$(printf '%s\n' "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"unavailable\",\"message\":\"$MSG\"}}" \
	"{\"id\":\"x\",\"ok\":false,\"error\":{\"code\":\"unavailable\",\"message\":\"$MSG\"}}")" "one unavailable answer per request, ids echoed"
expect_err "secret-shell: unavailable: $MSG"
expect_out_lacks v1
run_in "v9" runuser -u secret -- env SECRETD_SOCKET="$SOCK" SSH_USER_AUTH="$T/authinfo" \
	SSH_ORIGINAL_COMMAND="put outage/a" "$RUNDIR/secret-shell" unavailable
expect_rc 3
expect_out ""
expect_err "secret-shell: unavailable: $MSG"
expect_exit 0 secret get outage/a
expect_out_exact v1

# ------------------------------------------------------------ database down

env_load "$W"
pg_down || die "cannot stop PostgreSQL"

describe "database down: the key lookup admits any key to the outage session only"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys secret "$ktype" "$kb64"
expect_rc 0
expect_out "restrict,command=\"$RUNDIR/secret-shell unavailable\" $ktype $kb64"
expect_err_contains "key.lookup failed: unavailable"
expect_err_contains "outage session only"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys secret "$stype" "$sb64"
expect_out "restrict,command=\"$RUNDIR/secret-shell unavailable\" $stype $sb64"
describe "database down: a bad key or another user still gets nothing"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys root "$ktype" "$kb64"
expect_out ""
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys secret ssh-rsa "$kb64"
expect_out ""

describe "database down, no --wait: unavailable at once, not unauthenticated"
t0=$SECONDS
expect_fail 1 unavailable secret fetch outage --env-file "$T/e0.env"
expect_err "secret: unavailable: outage: $MSG"
expect_true test $((SECONDS - t0)) -lt 10
expect_true test ! -e "$T/e0.env"
expect_fail 1 unavailable secret get outage/a
expect_err "secret: unavailable: $MSG"

describe "database down: an unknown key gets nothing but unavailable"
expect_fail 1 unavailable secret_as "$stranger" whoami
expect_fail 1 unavailable secret_as "$stranger" --json get outage/a
expect_json .error.code unavailable
expect_exit 3 plain_ssh "$stranger" help
expect_out ""
expect_err "secret-shell: unavailable: $MSG"
expect_exit 3 plain_ssh "$stranger" get outage/a
expect_out ""
expect_err "secret-shell: unavailable: $MSG"
run_in $'{"id":7,"action":"whoami"}\n{"id":8,"action":"hello","key":"x"}\nnot json\n' plain_ssh "$stranger" json
expect_eq "$(jq -r '[.id, .ok, .error.code] | map(tostring) | join(" ")' "$OUT_FILE")" \
	"$(printf '7 false unavailable\n8 false unavailable\nnull false unavailable')" "three lines, three unavailable answers"

describe "database down: --wait retries until PostgreSQL is back"
t0=$SECONDS
bg dbwait secret fetch outage --env-file "$T/e1.env" --wait 60s
sleep 4
expect_true test ! -s "$T/dbwait.rc"
pg_up >/dev/null 2>&1 || die "PostgreSQL did not come back"
await_rc dbwait 60 || fail "fetch --wait did not end"
expect_eq "$(cat "$T/dbwait.rc")" 0 "fetch --wait exit status"
expect_eq "$(cat "$T/e1.env" 2>/dev/null)" "$(printf "A='v1'\nB='v2'")" "env file written"
expect_match "$(head -n 1 "$T/dbwait.err")" "^secret: warning: outage: secretd is unreachable .*; retrying in [0-9.]+ s" "retries are warnings"
expect_eq "$(grep -vc '^secret: warning: ' "$T/dbwait.err")" 0 "nothing but warnings on stderr"
expect_true test $((SECONDS - t0)) -ge 4

# ------------------------------------------------------------- secretd down

secretd_down

describe "secretd down: the key lookup admits the key to the outage session only"
run runuser -u secret -- "$RUNDIR/secret-shell" -S "$SOCK" authorized-keys secret "$ktype" "$kb64"
expect_rc 0
expect_out "restrict,command=\"$RUNDIR/secret-shell unavailable\" $ktype $kb64"
expect_err_contains "cannot connect to secretd"

describe "secretd down, no --wait: unavailable at once"
t0=$SECONDS
expect_fail 1 unavailable secret template "$T/in.tmpl"
expect_out ""
expect_true test $((SECONDS - t0)) -lt 10
expect_fail 1 unavailable secret_as "$stranger" whoami

describe "secretd down: --wait gives up at the deadline with one error line"
t0=$SECONDS
expect_exit 1 secret fetch outage --dest "$T/d0" --wait 3s
expect_eq "$(tail -n 1 "$ERR_FILE")" "secret: unavailable: outage: $MSG" "the last line is the error"
expect_eq "$(grep -c '^secret: unavailable' "$ERR_FILE")" 1 "one error line"
expect_match "$(head -n 1 "$ERR_FILE")" '^secret: warning: .*; retrying in' "the others are warnings"
expect_true test ! -e "$T/d0"
expect_true test $((SECONDS - t0)) -ge 3
expect_true test $((SECONDS - t0)) -lt 20

describe "secretd down: fetch, exec and template --wait succeed once it is back"
bg fw secret fetch outage --dest "$T/d1" --wait 60s
bg ew secret exec --env A=outage/a --wait 60s -- sh -c 'printf %s "$A" >"$0"' "$T/exec.out"
bg tw secret template "$T/in.tmpl" "$T/tmpl.out" --wait 60s
sleep 3
secretd_up >/dev/null 2>&1 || die "secretd did not come back"
for n in fw ew tw; do
	await_rc "$n" 60 || fail "$n did not end"
	expect_eq "$(cat "$T/$n.rc")" 0 "$n exit status"
	expect_contains "$(cat "$T/$n.err")" "secretd is unreachable" "$n saw the outage"
	expect_contains "$(cat "$T/$n.err")" "retrying in" "$n retried"
done
expect_eq "$(cat "$T/d1/a" "$T/d1/b" 2>/dev/null)" "v1v2" "fetch --dest wrote the files"
expect_eq "$(cat "$T/exec.out" 2>/dev/null)" "v1" "exec ran with the value"
expect_eq "$(cat "$T/tmpl.out" 2>/dev/null)" "a=v1" "template rendered"

describe "back up: known keys are served again, unknown ones are what they were"
expect_exit 0 secret get outage/a
expect_out_exact v1
expect_exit 0 secret_as "$stranger" --json whoami
expect_json .enrol_only true

done_testing

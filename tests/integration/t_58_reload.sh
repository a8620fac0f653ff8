#!/bin/bash
# t_58_reload.sh - SIGHUP reloads secretd.conf (issue 24), on a secretd of
# its own: enrol_unknown_keys turned on without a restart (an unknown key
# is refused, then after SIGHUP gets an enrol-only session); a changed
# limit applies at once; every changed key gets a log line; a changed
# socket is reported as needing a restart and the daemon stays on the old
# one; a file that does not parse changes nothing; the daemon is the same
# process throughout.
. "$(dirname "$0")/lib.sh"
test_init

SOCKPY=$SD_LIB_DIR/sock.py
RS=$RUNDIR/reload.sock
RS2=$RUNDIR/reload-new.sock
sed -e "s|^socket = .*|socket = $RS|" -e 's|^enrol_unknown_keys = .*|enrol_unknown_keys = no|' \
	"$W/secretd.conf" >"$T/r.conf"
echo "max_versions = 20" >>"$T/r.conf"
helper_start r "$BIN/secretd" -c "$T/r.conf" serve	# (log: $T/r.log)
RPID=$HELPER_PID
for _ in $(seq 100); do [ -S "$RS" ] && break; sleep 0.1; done
[ -S "$RS" ] || { cat "$T/r.log"; die "secretd for reload did not start"; }
START=$(awk '{ print $22 }' "/proc/$RPID/stat")

# hup PATTERN: SIGHUP the daemon and wait (10 s) for PATTERN in its log
# after this point; the log since then in $T/hup.log
hup() {
	local mark i
	mark=$(stat -c %s "$T/r.log")
	kill -HUP "$RPID"
	for i in $(seq 100); do
		tail -c +"$((mark + 1))" "$T/r.log" >"$T/hup.log"
		grep -q -- "$1" "$T/hup.log" && return 0
		sleep 0.1
	done
	cat "$T/hup.log" >&2
	return 1
}
hello_of() { head -n 1 "$OUT_FILE" | jq -r 'if .ok then "ok \(.enrol_only)" else .error.code end'; }
unk=$(new_key reload_unknown) || die "ssh-keygen"

describe "before: an unknown key is refused (enrol_unknown_keys = no)"
run "$SOCKPY" "$RS" --hello "$unk.pub"
expect_eq "$(hello_of)" unauthenticated "refused"

describe "SIGHUP turns enrol_unknown_keys on, without a restart"
sed -i -e 's|^enrol_unknown_keys = .*|enrol_unknown_keys = yes|' -e 's|^max_versions = .*|max_versions = 2|' "$T/r.conf"
expect_true hup "configuration reloaded"
expect_contains "$(cat "$T/hup.log")" "reloaded enrol_unknown_keys = yes"
expect_contains "$(cat "$T/hup.log")" "reloaded max_versions = 2"
expect_contains "$(cat "$T/hup.log")" "configuration reloaded: 2 settings changed"
expect_lacks "$(cat "$T/hup.log")" "needs a restart"
run "$SOCKPY" "$RS" --hello "$unk.pub"
expect_eq "$(hello_of)" "ok true" "the unknown key now gets an enrol-only session"
expect_eq "$(awk '{ print $22 }' "/proc/$RPID/stat")" "$START" "the same process"

describe "a reloaded limit applies at once: max_versions = 2"
for v in 1 2 3; do printf '{"action":"secret.put","path":["reload","v"],"value":"v%s"}\n' "$v"; done >"$T/puts"
printf '{"action":"secret.history","path":["reload","v"]}\n' >>"$T/puts"
run_in_file "$T/puts" "$SOCKPY" "$RS" --hello "$W/admin.pub"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -c '[.versions[].version]')" "[3,2]" "two versions kept"

describe "a changed socket needs a restart: logged, and the old socket still serves"
sed -i -e "s|^socket = .*|socket = $RS2|" -e 's|^log_level = .*|log_level = info|' "$T/r.conf"
expect_true hup "configuration reloaded"
expect_contains "$(cat "$T/hup.log")" "socket changed: needs a restart"
expect_contains "$(cat "$T/hup.log")" "reloaded log_level = info"
expect_true test -S "$RS"
expect_true test ! -e "$RS2"
run_in '{"action":"whoami"}'$'\n' "$SOCKPY" "$RS" --hello "$W/admin.pub"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .principal)" admin "served on the old socket"

describe "a changed database: needs a restart, and its conninfo is never logged"
sed -i -e 's|^database = \(.*\)$|database = \1 password=hunter2-reload|' "$T/r.conf"
expect_true hup "configuration reloaded"
expect_contains "$(cat "$T/hup.log")" "database changed: needs a restart"
expect_lacks "$(cat "$T/r.log")" "hunter2-reload"

describe "a file that does not parse changes nothing"
cp "$T/r.conf" "$T/r.conf.good"
echo "enrol_unknown_keys = maybe" >>"$T/r.conf"
expect_true hup "configuration not reloaded"
expect_contains "$(cat "$T/hup.log")" "enrol_unknown_keys set twice"
run "$SOCKPY" "$RS" --hello "$unk.pub"
expect_eq "$(hello_of)" "ok true" "enrol_unknown_keys still yes"

describe "turned off again: the unknown key is refused"
sed -e 's|^enrol_unknown_keys = .*|enrol_unknown_keys = no|' "$T/r.conf.good" >"$T/r.conf"
expect_true hup "reloaded enrol_unknown_keys = no"
run "$SOCKPY" "$RS" --hello "$unk.pub"
expect_eq "$(hello_of)" unauthenticated "refused again"
expect_eq "$(awk '{ print $22 }' "/proc/$RPID/stat")" "$START" "still the same process"

describe "the daemon stops cleanly: exit 0, no sanitizer report"
helper_stop r
expect_eq "$HELPER_RC" 0 "exit status"
if grep -qE "$SD_SAN_RE" "$T/r.log"; then
	grep -E -A 30 "$SD_SAN_RE" "$T/r.log" | head -n 60
	fail "sanitizer report in $T/r.log"
else
	ok "no sanitizer report"
fi

done_testing

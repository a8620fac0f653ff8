#!/bin/bash
# t_84_credentials.sh - secret credential-server: systemd's
# LoadCredential=ID:SOCKET asks from an abstract address naming the unit
# and the credential; the mapped secret is sent, an unmapped credential
# or a peer other than root gets nothing (and a log line).
. "$(dirname "$0")/lib.sh"
test_init

command -v systemd-socket-activate >/dev/null || skip "no systemd-socket-activate"
CREDPY=$SD_LIB_DIR/cred.py
CS=$RUNDIR/cred-$$.sock

# the transient unit of the systemd-run case below
RUNUNIT=secretd-t84-$$.service
printf 'pa$$ word\n' | secret put cr/app/db >/dev/null || die "put"
cat >"$T/cred.conf" <<CONF
# UNIT        ID      = secret path
app.service   dbpass  = cr/app/db
app.service   gone    = cr/app/none
$RUNUNIT dbpass = cr/app/db
CONF
# (systemd-socket-activate passes only the variables named with -E)
helper_start cs systemd-socket-activate -l "$CS" -E SECRET_SERVER \
	-E SECRET_IDENTITY -E SECRET_KNOWN_HOSTS -E HOME -E ASAN_OPTIONS \
	-E UBSAN_OPTIONS -E LSAN_OPTIONS "$BIN/secret" credential-server --config "$T/cred.conf"
for _ in $(seq 100); do [ -S "$CS" ] && break; sleep 0.1; done
[ -S "$CS" ] || { cat "$T/cs.log"; die "no socket"; }
chmod 0666 "$CS"

describe "a mapped credential gets the secret's exact bytes"
expect_exit 0 "$CREDPY" "$CS" app.service dbpass
expect_out_exact 'pa$$ word
'
expect_contains "$(cat "$T/cs.log")" "credential-server: app.service dbpass: sent cr/app/db" "logged"
expect_lacks "$(cat "$T/cs.log")" 'pa$$' "no value in the log"

describe "an unmapped credential or unit gets nothing, and a log line"
expect_exit 0 "$CREDPY" "$CS" app.service other
expect_out ""
expect_contains "$(cat "$T/cs.log")" "app.service other is not in the map: nothing sent" "logged"
expect_exit 0 "$CREDPY" "$CS" evil.service dbpass
expect_out ""
describe "a missing secret gets nothing"
expect_exit 0 "$CREDPY" "$CS" app.service gone
expect_out ""
expect_contains "$(cat "$T/cs.log")" "app.service gone: cannot fetch cr/app/none" "logged"

describe "a peer that is not root, or no unit address, gets nothing"
expect_exit 0 "$CREDPY" "$CS" app.service dbpass --as 65534:65534
expect_out ""
expect_contains "$(cat "$T/cs.log")" "refused a peer with uid 65534" "logged"
expect_exit 0 "$CREDPY" "$CS" x x --raw "random/nounit/app.service/dbpass"
expect_out ""

describe "still serving after all that"
expect_exit 0 "$CREDPY" "$CS" app.service dbpass
expect_out_exact 'pa$$ word
'

describe "systemd itself: systemd-run -p LoadCredential=ID:SOCKET gets the mapped secret"
# Only where systemd is the machine's init (a container without it has
# no manager to ask); systemd connects as root from @RANDOM/unit/UNIT/ID.
# Not `ps -p 1`: run.sh runs the tests in a PID namespace of their own,
# where PID 1 is run.sh; /run/systemd/system is sd_booted(3)'s own test,
# and the manager is reached through /run/systemd/private.
if [ ! -d /run/systemd/system ]; then
	skip_case "systemd is not this machine's init (no /run/systemd/system): no real LoadCredential= to test"
elif ! command -v systemd-run >/dev/null; then
	skip_case "no systemd-run"
elif ! timeout 10 systemctl show -p Version --value >/dev/null 2>&1; then
	skip_case "systemd's manager does not answer systemctl here"
else
	# (single quotes: systemd expands ${CREDENTIALS_DIRECTORY} itself)
	# shellcheck disable=SC2016
	run timeout 60 systemd-run --quiet --wait --pipe --collect --unit="$RUNUNIT" \
		-p LoadCredential="dbpass:$CS" cat '${CREDENTIALS_DIRECTORY}/dbpass'
	expect_rc 0
	expect_out_exact 'pa$$ word
'
	expect_contains "$(cat "$T/cs.log")" "credential-server: $RUNUNIT dbpass: sent cr/app/db" "logged with the unit's name"
	describe "systemd-run: an unmapped credential gets nothing"
	# shellcheck disable=SC2016
	run timeout 60 systemd-run --quiet --wait --pipe --collect --unit="${RUNUNIT%.service}-other.service" \
		-p LoadCredential="other:$CS" cat '${CREDENTIALS_DIRECTORY}/other'
	expect_out ""
	expect_contains "$(cat "$T/cs.log")" "${RUNUNIT%.service}-other.service other is not in the map: nothing sent" "logged"
fi

expect_eq "$(grep -cE "$SD_SAN_RE" "$T/cs.log")" 0 "no sanitizer report"
done_testing

#!/bin/bash
# t_35_client.sh - the secret client's side of the trust: the server's
# host key checked against known_hosts or a pinned fingerprint, unknown
# and changed keys refused, --accept-new-host-key; options and exit codes.
. "$(dirname "$0")/lib.sh"
test_init

hostfp=$(ssh-keygen -lf "$W/ssh_host_ed25519_key.pub" | awk '{print $2}')
: >"$T/empty_known_hosts"

describe "an unknown host key is refused (exit 3) and nothing is sent"
run env SECRET_KNOWN_HOSTS="$T/empty_known_hosts" secret whoami
expect_rc 3
expect_err_match '^secret: unauthenticated: .*host key'

describe "a pinned fingerprint replaces known_hosts; a wrong pin is refused"
run env SECRET_KNOWN_HOSTS="$T/empty_known_hosts" secret --host-key "$hostfp" --json whoami
expect_rc 0
expect_json '.principal' admin
run env SECRET_KNOWN_HOSTS="$T/empty_known_hosts" secret --host-key "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" whoami
expect_rc 3
expect_out ""

describe "--accept-new-host-key records the key, then it is known"
: >"$T/new_known_hosts"
run secret --known-hosts "$T/new_known_hosts" --accept-new-host-key whoami
expect_rc 0
expect_contains "$(cat "$T/new_known_hosts")" "$(awk '{print $2}' "$W/ssh_host_ed25519_key.pub")" "key written"
run secret --known-hosts "$T/new_known_hosts" whoami
expect_rc 0

describe "a changed host key is refused even with --accept-new-host-key"
ssh-keygen -q -t ed25519 -N '' -f "$T/other_hostkey" </dev/null
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$T/other_hostkey.pub")" >"$T/changed_known_hosts"
run secret --known-hosts "$T/changed_known_hosts" --accept-new-host-key whoami
expect_rc 3
expect_out ""

describe "unreachable server: exit 3 with one error line"
port=$(free_port)
run env SECRET_SERVER="secret@127.0.0.1:$port" secret whoami
expect_rc 3
expect_err_match '^secret: unavailable: '
expect_eq "$(wc -l <"$ERR_FILE")" 1 "one line on stderr"

describe "identity: -i wins over SECRET_IDENTITY; a missing key file is exit 3"
k=$(new_key someone) || die "ssh-keygen"
run env SECRET_IDENTITY="$k" secret -i "$W/admin" --json whoami
expect_json '.principal' admin
run secret -i "$T/no-such-key" whoami
expect_rc 3

describe "global options before or after the command; usage errors are exit 2"
run secret whoami --json
expect_rc 0
expect_json '.principal' admin
run secret get
expect_rc 2
expect_err_match '^secret: usage: '
run secret frobnicate
expect_rc 2
run secret --help
expect_rc 0
expect_out_contains "Exit status"

describe "a value is never taken from argv"
run secret put client/x hunter2
expect_rc 2

done_testing

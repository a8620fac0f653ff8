#!/bin/bash
# t_00_smoke.sh - the environment works end to end: the secret client and a
# bare OpenSSH client both reach secretd through sshd and secret-shell, the
# admin key made by `secretd init` maps to principal admin, and an unknown
# key gets an enrol-only session (the test configuration sets
# enrol_unknown_keys = yes).
. "$(dirname "$0")/lib.sh"
test_init

describe "secret --json whoami: the admin key maps to principal admin"
expect_exit 0 secret --json whoami
expect_json '.ok' true
expect_json '.principal' admin
expect_json '.groups | join(",")' admins
expect_json '.enrol_only' false
expect_err ""

describe "secret whoami (human form) names admin"
expect_exit 0 secret whoami
expect_out_match '^principal +admin$'
expect_err ""

describe "plain ssh: ssh secret@host whoami names admin"
expect_exit 0 plain_ssh "$W/admin" whoami
expect_out_match '^principal +admin$'
expect_out_match '^enrol_only +no$'

describe "plain ssh: an unknown key gets an enrol-only session"
stranger=$(new_key stranger) || die "ssh-keygen failed"
expect_exit 0 plain_ssh "$stranger" whoami
expect_out_match '^principal +-$'
expect_out_match '^enrol_only +yes$'
expect_out_lacks admin

describe "the private sshd admits no other login user"
expect_exit 255 env SSH_AUTH_SOCK= ssh -F /dev/null -T -p "$SSH_PORT" -i "$W/admin" \
	-o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile="$W/known_hosts" \
	-o StrictHostKeyChecking=yes -o LogLevel=ERROR root@127.0.0.1 true
expect_err_contains "Permission denied (publickey)"

done_testing

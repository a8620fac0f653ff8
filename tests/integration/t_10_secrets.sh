#!/bin/bash
# t_10_secrets.sh - secret.get/put/list/history/delete round trips through
# sshd with the secret client and with a bare ssh, exact bytes both ways,
# versions and check-and-set, and the audit row each one leaves.
. "$(dirname "$0")/lib.sh"
test_init

describe "put from stdin, get returns the exact bytes (no newline off a TTY)"
expect_exit 0 run_in "hunter2" secret put app/db/password
expect_exit 0 secret get app/db/password
expect_out_exact "hunter2"

describe "put -f FILE with binary bytes round-trips byte for byte"
head -c 4096 /dev/urandom >"$T/bin"
printf '\0\1\2\377' >>"$T/bin"
expect_exit 0 secret put app/blob -f "$T/bin"
expect_exit 0 secret get app/blob
expect_out_file "$T/bin"
expect_exit 0 secret get app/blob -o "$T/out"
expect_true cmp -s "$T/bin" "$T/out"
expect_mode 600 "$T/out"

describe "get --json carries value_base64 for binary, value for text"
expect_exit 0 secret --json get app/blob
expect_json '.value_base64 | length > 0' true
expect_json 'has("value")' false
expect_exit 0 secret --json get app/db/password
expect_json '.value' hunter2
expect_json '.version' 1
expect_json '.updated_by' admin
expect_json '.path | join("/")' app/db/password

describe "every put makes a new version; old versions stay readable"
expect_exit 0 run_in "second" secret put app/db/password
expect_exit 0 secret --json put app/db/password -f "$T/bin"
expect_json '.version' 3
expect_exit 0 secret get app/db/password --version 1
expect_out_exact "hunter2"
expect_exit 0 secret get app/db/password --version 2
expect_out_exact "second"
expect_fail 5 not_found secret get app/db/password --version 9

describe "check-and-set: a stale cas is a conflict (exit 6), a fresh one wins"
expect_fail 6 conflict run_in "x" secret put app/db/password --cas 2
expect_exit 0 run_in "fourth" secret put app/db/password --cas 3
expect_fail 6 conflict run_in "x" secret put app/new --cas 1
expect_exit 0 run_in "created" secret put app/new --cas 0
expect_fail 6 conflict run_in "again" secret put app/new --cas 0

describe "a create-only put that waited for another writer's lock sees that writer's value"
# Another transaction locks the node, commits a version 3 over the
# tombstone 2 (not deleted: a value, destroyed so that no ciphertext is
# made up), then lets go: the put, which waited for the lock, must see
# version 3 as a value and refuse, not overwrite it.
expect_exit 0 run_in "first" secret put race/k
expect_exit 0 secret rm race/k
node=$(sql "SELECT n.id FROM node n JOIN node p ON p.id = n.parent_id WHERE p.parent_id = 1 AND p.name = 'race' AND n.name = 'k'")
psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN; SELECT 1 FROM node WHERE id = $node FOR UPDATE; INSERT INTO secret_version (node_id, version, destroyed_at, created_by) VALUES ($node, 3, now(), 'other'); UPDATE node SET current_version = 3 WHERE id = $node; SELECT pg_sleep(2); COMMIT;" >/dev/null 2>&1 &
sleep 0.5
expect_fail 6 conflict run_in "mine" secret put race/k --cas 0
expect_err_contains "the current version is 3"
wait
expect_eq "$(sql "SELECT current_version FROM node WHERE id = $node")" 3 "nothing overwritten"

describe "an rm that waited for another writer's lock deletes that writer's value"
psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN; SELECT 1 FROM node WHERE id = $node FOR UPDATE; INSERT INTO secret_version (node_id, version, deleted, created_by) VALUES ($node, 4, true, 'other'); INSERT INTO secret_version (node_id, version, destroyed_at, created_by) VALUES ($node, 5, now(), 'other'); UPDATE node SET current_version = 5 WHERE id = $node; SELECT pg_sleep(2); COMMIT;" >/dev/null 2>&1 &
sleep 0.5
expect_exit 0 secret rm race/k
wait
expect_eq "$(sql "SELECT current_version || ' ' || (SELECT deleted FROM secret_version WHERE node_id = $node AND version = 6) FROM node WHERE id = $node")" "6 true" "version 6 is the tombstone"

describe "history lists versions newest first with state and author"
expect_exit 0 secret --json history app/db/password
expect_json '[.versions[].version] | join(",")' "4,3,2,1"
expect_json '[.versions[].state] | join(",")' "current,previous,previous,previous"
expect_json '.versions[0].created_by' admin
expect_json '.versions[0].created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' true

describe "ls lists children; -r lists the subtree in name order"
expect_exit 0 secret --json ls app
expect_json '[.entries[].path | join("/")] | join(" ")' "app/blob app/db app/new"
expect_json '[.entries[] | select(.path[-1]=="db") | .children][0]' 1
expect_exit 0 secret --json ls app -r
expect_json '[.entries[].path | join("/")] | join(" ")' "app/blob app/db app/db/password app/new"
expect_exit 0 secret ls
expect_out_contains "app"

describe "rm soft-deletes: get is not_found, history shows the deletion, old versions readable"
expect_exit 0 secret rm app/new
expect_fail 5 not_found secret get app/new
expect_exit 0 secret --json history app/new
expect_json '[.versions[].state] | join(",")' "deleted,previous"
expect_exit 0 secret get app/new --version 1
expect_out_exact "created"
expect_fail 5 not_found secret rm app/new

describe "rm -r deletes every value below"
expect_exit 0 run_in "a" secret put tree/a
expect_exit 0 run_in "b" secret put tree/sub/b
expect_exit 0 secret --json rm tree -r
expect_json '.deleted' 2
expect_fail 5 not_found secret get tree/sub/b

describe "a put after a delete makes the value live again"
expect_exit 0 run_in "back" secret put tree/a
expect_exit 0 secret get tree/a
expect_out_exact "back"

describe "plain ssh: get, put (stdin), ls, history"
expect_exit 0 plain_ssh "$W/admin" get app/db/password
expect_out_exact "fourth"
expect_exit 0 run_in "via-ssh" plain_ssh "$W/admin" put ssh/value
expect_exit 0 secret get ssh/value
expect_out_exact "via-ssh"
expect_exit 0 plain_ssh "$W/admin" ls app
expect_out_contains "db/"
expect_exit 0 plain_ssh "$W/admin" history app/db/password
expect_out_match '^4 current '

describe "plain ssh json: NDJSON in, NDJSON out, in order, ids echoed"
printf '%s\n' '{"id":1,"action":"secret.get","path":["app","db","password"]}' \
	'{"id":"two","action":"whoami"}' >"$T/req"
run_in_file "$T/req" plain_ssh "$W/admin" json
expect_rc 0
expect_eq "$(jq -r '.id' <"$OUT_FILE" | tr '\n' ' ')" "1 two " "ids in order"
expect_eq "$(head -n 1 "$OUT_FILE" | jq -r .value)" fourth "value over json"

describe "missing values and paths are not_found for a reader with access"
expect_fail 5 not_found secret get app/nothing/here
expect_fail 5 not_found secret history app/nothing
expect_fail 5 not_found secret ls app/nothing

describe "each read and write left an audit row with principal, path and version"
row=$(sql "SELECT principal, action, array_to_string(path,'/'), version, result, client_addr FROM audit_log WHERE action = 'secret.put' AND path = '{app,db,password}' AND version = 1")
expect_eq "$row" "admin|secret.put|app/db/password|1|ok|127.0.0.1" "put audit row"
row=$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.put' AND value_hash IS NOT NULL AND octet_length(value_hash) = 32 AND path = '{app,db,password}'")
expect_eq "$row" 4 "put rows carry a 32-byte value hash"
row=$(sql "SELECT result, error_code FROM audit_log WHERE action = 'secret.put' AND path = '{app,new}' AND error_code = 'conflict' LIMIT 1")
expect_eq "$row" "error|conflict" "failed put audited"
row=$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '{app,db,password}' AND version = 2 AND result = 'ok'")
expect_eq "$row" 1 "get of version 2 audited"

describe "no audit row and no table holds a value in clear"
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE detail::text LIKE '%hunter2%' OR request_id LIKE '%hunter2%'")" 0 "audit rows"
expect_eq "$(sql "SELECT count(*) FROM secret_version WHERE position('hunter2'::bytea in ciphertext) > 0")" 0 "ciphertexts"

done_testing

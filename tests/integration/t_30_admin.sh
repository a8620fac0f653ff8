#!/bin/bash
# t_30_admin.sh - group.* and principal.* through the client: create, list,
# show, membership, key add/remove (a key belongs to one principal), and
# what an unknown or removed key can do, and RSA keys below 2048 bits.
. "$(dirname "$0")/lib.sh"
test_init

describe "principal create with a key file and a group; show and list"
expect_exit 0 secret group create web
k1=$(new_key web1) || die "ssh-keygen"
expect_exit 0 secret --json principal create web1 --key "$k1.pub" --group web
fp1=$(ssh-keygen -lf "$k1.pub" | awk '{print $2}')
expect_json '.fingerprint' "$fp1"
expect_exit 0 secret --json principal show web1
expect_json '.principal' web1
expect_json '.groups | join(",")' web
expect_json '.keys[0].fingerprint' "$fp1"
expect_json '.keys[0].key' "$(awk '{print $1" "$2}' "$k1.pub")"
expect_exit 0 secret --json principal list
expect_json '[.principals[].name | select(. == "admin" or . == "web1")] | join(",")' "admin,web1"
expect_exit 0 secret principal list
expect_out_contains web1

describe "the new principal logs in and is who it says"
expect_exit 0 secret_as "$k1" --json whoami
expect_json '.principal' web1
expect_json '.groups | join(",")' web

describe "principal create from stdin (--key -)"
k2=$(new_key web2) || die "ssh-keygen"
expect_exit 0 run_in_file "$k2.pub" secret principal create web2 --key -
expect_exit 0 secret_as "$k2" --json whoami
expect_json '.principal' web2

describe "duplicates and bad input"
expect_fail 1 exists secret principal create web1 --key "$(new_key other).pub"
expect_fail 1 exists secret principal create web3 --key "$k1.pub"
expect_fail 1 exists secret group create web
expect_fail 1 bad_request secret group create "Bad Name"
expect_fail 1 bad_request secret principal create UPPER --key "$k2.pub"
printf 'ssh-ed25519 not-base64!!\n' >"$T/bad.pub"
expect_fail 1 bad_request secret principal create web9 --key "$T/bad.pub"
expect_fail 5 not_found secret principal show ghost
expect_fail 5 not_found secret group add web ghost
expect_fail 5 not_found secret group add ghosts web1

describe "group members, add, remove, list"
expect_exit 0 secret group add web web2
expect_exit 0 secret --json group members web
expect_json '.members | join(",")' "web1,web2"
expect_fail 1 exists secret group add web web2
expect_exit 0 secret group remove web web2
expect_fail 5 not_found secret group remove web web2
expect_exit 0 secret --json group list
expect_json '[.groups[] | select(.name == "web") | "\(.name):\(.members)"] | join(",")' "web:1"

describe "key rotation: add a second key, remove the first"
k1b=$(new_key web1b) || die "ssh-keygen"
expect_exit 0 secret principal key-add web1 --key "$k1b.pub"
expect_exit 0 secret_as "$k1b" --json whoami
expect_json '.principal' web1
expect_exit 0 secret principal key-remove web1 --key "$k1.pub"
expect_exit 0 secret_as "$k1" --json whoami
expect_json '.enrol_only' true
expect_fail 3 unauthenticated secret_as "$k1" get app/x
describe "key-remove by fingerprint"
expect_exit 0 secret principal key-add web1 --key "$k1.pub"
expect_exit 0 secret principal key-remove web1 --key "$fp1"
expect_fail 5 not_found secret principal key-remove web1 --key "$fp1"

describe "an unknown key gets an enrol-only session: whoami only"
stranger=$(new_key stranger) || die "ssh-keygen"
expect_exit 0 secret_as "$stranger" --json whoami
expect_json '.principal' null
expect_json '.enrol_only' true
expect_fail 3 unauthenticated secret_as "$stranger" get app/db/password
expect_fail 3 unauthenticated secret_as "$stranger" ls
run plain_ssh "$stranger" get app/db/password
expect_rc 3
expect_err "secret-shell: unauthenticated: enrol-only session: only enrol is allowed"
row=$(sql "SELECT result, error_code, principal IS NULL, fingerprint FROM audit_log WHERE action = 'secret.get' AND fingerprint = '$(ssh-keygen -lf "$stranger.pub" | awk '{print $2}')' LIMIT 1")
expect_eq "$row" "denied|unauthenticated|t|$(ssh-keygen -lf "$stranger.pub" | awk '{print $2}')" "enrol-only attempt audited"

describe "deleting a principal removes its keys and memberships"
expect_exit 0 secret principal delete web2
expect_fail 5 not_found secret principal delete web2
expect_eq "$(sql "SELECT count(*) FROM principal_key k LEFT JOIN principal p ON p.id = k.principal_id WHERE p.id IS NULL")" 0 "no orphan keys"
expect_exit 0 secret_as "$k2" --json whoami
expect_json '.enrol_only' true

describe "deleting a group removes its grants"
expect_exit 0 secret acl set app web read
expect_exit 0 secret group delete web
expect_fail 5 not_found secret group delete web
expect_eq "$(sql "SELECT count(*) FROM node_grant g LEFT JOIN grp ON grp.id = g.group_id WHERE grp.id IS NULL")" 0 "no orphan grants"

describe "admin changes are audited with their target"
row=$(sql "SELECT result, detail->>'principal', detail->>'key_fingerprint' FROM audit_log WHERE action = 'principal.create' AND detail->>'principal' = 'web1' AND result = 'ok'")
expect_eq "$row" "ok|web1|$fp1" "principal.create row"
row=$(sql "SELECT result, detail->>'group', detail->>'member' FROM audit_log WHERE action = 'group.member_remove' AND result = 'ok' AND detail->>'group' = 'web'")
expect_eq "$row" "ok|web|web2" "group.member_remove row"

describe "RSA keys below 2048 bits are refused by the client, the daemon and hello; 2048 bits work"
RS=$(printf '%04x' $RANDOM)
rm -f "$T"/rsa1024* "$T"/rsa2048*
ssh-keygen -q -t rsa -b 1024 -N '' -C rsa1024 -f "$T/rsa1024" </dev/null || die "ssh-keygen -b 1024"
ssh-keygen -q -t rsa -b 2048 -N '' -C rsa2048 -f "$T/rsa2048" </dev/null || die "ssh-keygen -b 2048"
expect_fail 1 bad_request secret principal create "old-rsa-$RS" --key "$T/rsa1024.pub"
expect_err_contains "RSA keys below 2048 bits are refused"
# the daemon's own check, without the client's
run_in "{\"id\":1,\"action\":\"principal.create\",\"principal\":\"old-rsa-$RS\",\"key\":\"$(cut -d' ' -f1,2 "$T/rsa1024.pub")\"}
" "$SD_LIB_DIR/sock.py" "$RUNDIR/secretd.sock" --hello "$W/admin.pub"
expect_rc 0
expect_eq "$(sed -n 2p "$OUT_FILE" | jq -r '.error.code + ": " + .error.message')" "bad_request: RSA keys below 2048 bits are refused" "principal.create answer"
expect_eq "$(sql "SELECT count(*) FROM principal WHERE name = 'old-rsa-$RS'")" 0 "no principal made"
run_in $'{"id":1,"action":"whoami"}\n' "$SD_LIB_DIR/sock.py" "$RUNDIR/secretd.sock" --hello "$T/rsa1024.pub"
expect_eq "$(head -n 1 "$OUT_FILE" | jq -r '.error.code + ": " + .error.message')" "bad_request: RSA keys below 2048 bits are refused" "hello answer"
expect_fail 1 bad_request secret principal key-add web1 --key "$T/rsa1024.pub"
expect_exit 0 secret principal create "new-rsa-$RS" --key "$T/rsa2048.pub"
expect_exit 0 secret_as "$T/rsa2048" --json whoami
expect_json .principal "new-rsa-$RS"

done_testing

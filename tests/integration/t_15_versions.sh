#!/bin/bash
# t_15_versions.sh - versions and their tools: undelete, rollback,
# destroy (and its permission), get_many over a bare ssh json session,
# acl who, put --generate --charset, and `secret edit`: the editor round
# trip with check-and-set, the private directory it uses and removes on
# every way out (editor failure, unchanged, conflict, signals).
# Everything lives under versions/; principals and groups are ver-*.
. "$(dirname "$0")/lib.sh"
test_init
unset VISUAL EDITOR

mk() {	# mk NAME GROUP... : principal with a fresh key, in the groups
	local name=$1 k g
	shift
	k=$(new_key "$name") || die "ssh-keygen"
	expect_exit 0 secret principal create "$name" --key "$k.pub" || die "create $name"
	for g in "$@"; do expect_exit 0 secret group add "$g" "$name"; done
	eval "K_${name//-/_}=\$k"
}
as() { local k="K_${1//-/_}"; shift; secret_as "${!k}" "$@"; }
states() { jq -r '[.versions[] | "\(.version):\(.state)"] | join(",")' <"$OUT_FILE"; }
node_sql() {	# node_sql NAME CONDITION: count secret_version rows of versions/NAME
	sql "SELECT count(*) FROM secret_version WHERE node_id = sd_node_id('{versions,$1}') AND $2"
}
wait_for() {	# wait_for FILE: up to 20 s
	local i
	for ((i = 0; i < 200; i++)); do [ -e "$1" ] && return 0; sleep 0.1; done
	return 1
}

head -c 3000 /dev/urandom >"$T/bin"
printf '\0\n\377tail' >>"$T/bin"

describe "put --generate LEN --charset SET: LEN characters of SET, nothing printed"
for cs in hex:'^[0-9a-f]{40}$' alpha:'^[A-Za-z]{40}$' alnum:'^[A-Za-z0-9]{40}$' \
	base64url:'^[A-Za-z0-9_-]{40}$' print:'^[!-~]{40}$'; do
	expect_exit 0 secret put "versions/gen/${cs%%:*}" --generate 40 --charset "${cs%%:*}"
	expect_out ""
	expect_exit 0 secret get "versions/gen/${cs%%:*}"
	expect_true env LC_ALL=C grep -qE "${cs#*:}" "$OUT_FILE"
	expect_eq "$(wc -c <"$OUT_FILE")" 40 "${cs%%:*}: 40 bytes"
done
expect_exit 0 secret put versions/gen/default --generate 12
expect_exit 0 secret get versions/gen/default
expect_true env LC_ALL=C grep -qE '^[A-Za-z0-9]{12}$' "$OUT_FILE"
expect_fail 2 usage secret put versions/gen/x --charset hex
expect_fail 2 usage secret put versions/gen/x --generate 8 --charset nope
expect_fail 2 usage secret put versions/gen/x --generate 0
expect_fail 2 usage secret put versions/gen/x --generate 8 -f "$T/bin"

# ------------------------------------------------------------- undelete
describe "undelete after rm: the value is back as a new version"
expect_exit 0 run_in "u-one" secret put versions/u
expect_exit 0 run_in "u-two" secret put versions/u
expect_exit 0 secret rm versions/u
expect_fail 5 not_found secret get versions/u
expect_exit 0 secret undelete versions/u 2
expect_out ""
expect_exit 0 secret get versions/u
expect_out_exact "u-two"
expect_exit 0 secret --json history versions/u
expect_eq "$(states)" "4:current,3:deleted,2:previous,1:previous" "history after undelete"
expect_exit 0 secret --json get versions/u
expect_json '.version' 4

describe "undelete of a value that is not deleted is a conflict (exit 6), nothing written"
expect_fail 6 conflict secret undelete versions/u 1
expect_eq "$(node_sql u true)" 4 "no version added"

describe "undelete from a deletion or a missing version is not_found (exit 5)"
expect_exit 0 secret rm versions/u
expect_fail 5 not_found secret undelete versions/u 3
expect_fail 5 not_found secret undelete versions/u 99
expect_exit 0 secret --json undelete versions/u 1
expect_json '.version' 6
expect_exit 0 secret get versions/u
expect_out_exact "u-one"
expect_fail 5 not_found secret undelete versions/nothing-here 1

describe "undelete/rollback usage: VERSION is a number >= 1"
expect_fail 2 usage secret undelete versions/u 0
expect_fail 2 usage secret undelete versions/u x
expect_fail 2 usage secret rollback versions/u
expect_fail 2 usage secret rollback versions/u 1 2

# ------------------------------------------------------------- rollback
describe "rollback to version 1 of 3 makes version 4 with version 1's exact bytes (binary)"
expect_exit 0 secret put versions/rb -f "$T/bin"
expect_exit 0 run_in "rb-two" secret put versions/rb
expect_exit 0 run_in "rb-three" secret put versions/rb
expect_exit 0 secret --json rollback versions/rb 1
expect_json '.version' 4
expect_exit 0 secret get versions/rb
expect_out_file "$T/bin"
expect_exit 0 secret get versions/rb --version 3
expect_out_exact "rb-three"
expect_exit 0 secret --json history versions/rb
expect_eq "$(states)" "4:current,3:previous,2:previous,1:previous" "history after rollback"
expect_eq "$(node_sql rb 'version = 4 AND ciphertext IS NOT NULL AND NOT deleted')" 1 "version 4 stored sealed"
row=$(sql "SELECT version, detail->>'from_version', result FROM audit_log WHERE action = 'secret.rollback' AND path = '{versions,rb}' ORDER BY id LIMIT 1")
expect_eq "$row" "4|1|ok" "rollback audited with its source version"

describe "rollback of a deleted secret brings it back; to a deletion or destroyed version: not_found"
expect_exit 0 secret rm versions/rb
expect_fail 5 not_found secret rollback versions/rb 5
expect_exit 0 secret --json rollback versions/rb 2
expect_json '.version' 6
expect_exit 0 secret get versions/rb
expect_out_exact "rb-two"
expect_exit 0 secret destroy versions/rb 3
expect_fail 5 not_found secret rollback versions/rb 3
expect_fail 5 not_found secret rollback versions/rb 99
expect_eq "$(node_sql rb true)" 6 "failed rollbacks wrote nothing"

# -------------------------------------------------------------- destroy
describe "destroy 1 2: history says destroyed, get --version is not_found, ciphertexts gone"
for v in a b c; do expect_exit 0 run_in "x-$v" secret put versions/x; done
expect_exit 0 secret --json destroy versions/x 1 2
expect_json '.destroyed' 2
expect_exit 0 secret --json history versions/x
expect_eq "$(states)" "3:current,2:destroyed,1:destroyed" "history after destroy"
expect_fail 5 not_found secret get versions/x --version 1
expect_fail 5 not_found secret get versions/x --version 2
expect_exit 0 secret get versions/x
expect_out_exact "x-c"
expect_eq "$(sql "SELECT count(*) FROM secret_version WHERE node_id = sd_node_id('{versions,x}') AND version IN (1,2) AND ciphertext IS NOT NULL")" 0 "no ciphertext left"
expect_eq "$(node_sql x 'version IN (1,2) AND (nonce IS NOT NULL OR key_id IS NOT NULL)')" 0 "no nonce or key left"
expect_eq "$(node_sql x 'version = 3 AND ciphertext IS NOT NULL')" 1 "version 3 untouched"
row=$(sql "SELECT result, detail::jsonb->'versions' FROM audit_log WHERE action = 'secret.destroy' AND path = '{versions,x}' ORDER BY id LIMIT 1")
expect_eq "$row" "ok|[1, 2]" "destroy audited with its versions"

describe "destroy again is a no-op; a missing version is not_found and destroys nothing"
expect_exit 0 secret --json destroy versions/x 1
expect_json '.destroyed' 0
expect_fail 5 not_found secret destroy versions/x 3 99
expect_exit 0 secret get versions/x
expect_out_exact "x-c"
expect_eq "$(node_sql x 'version = 3 AND ciphertext IS NOT NULL')" 1 "version 3 survived the failed destroy"
expect_fail 2 usage secret destroy versions/x
expect_fail 2 usage secret destroy versions/x 1 zero

describe "destroying the current version (given twice) leaves no readable value"
expect_exit 0 secret --json destroy versions/x 3 3
expect_json '.destroyed' 1
expect_fail 5 not_found secret get versions/x
expect_exit 0 secret --json history versions/x
expect_eq "$(states)" "3:destroyed,2:destroyed,1:destroyed" "all destroyed"

describe "destroy needs write and manage: write alone or manage alone is exit 4"
for g in ver-w ver-m ver-wm; do expect_exit 0 secret group create "$g"; done
expect_exit 0 secret acl set versions/perm ver-w write,read,discover
expect_exit 0 secret acl set versions/perm ver-m manage,read,discover
expect_exit 0 secret acl set versions/perm ver-wm write,manage
mk ver-writer ver-w
mk ver-manager ver-m
mk ver-wmer ver-wm
for v in 1 2 3; do expect_exit 0 run_in "p$v" secret put versions/perm/s; done
expect_fail 4 permission_denied as ver-writer destroy versions/perm/s 1
expect_fail 4 permission_denied as ver-manager destroy versions/perm/s 1
expect_eq "$(sql "SELECT count(*) FROM secret_version WHERE node_id = sd_node_id('{versions,perm,s}') AND ciphertext IS NULL")" 0 "nothing destroyed by the denied ones"
expect_exit 0 as ver-wmer --json destroy versions/perm/s 1
expect_json '.destroyed' 1
row=$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.destroy' AND path = '{versions,perm,s}' AND result = 'denied'")
expect_eq "$row" 2 "denied destroys audited"
describe "undelete and rollback need read and write"
expect_exit 0 as ver-writer rollback versions/perm/s 2
expect_fail 4 permission_denied as ver-wmer rollback versions/perm/s 2
expect_fail 4 permission_denied as ver-manager rollback versions/perm/s 2

# ------------------------------------------------------------- get_many
describe "get_many over ssh json: per-path results, forbidden and missing-outside both permission_denied"
expect_exit 0 secret group create ver-readers
expect_exit 0 secret acl set versions/allowed ver-readers read
mk ver-reader ver-readers
expect_exit 0 run_in "A" secret put versions/allowed/a
expect_exit 0 secret put versions/allowed/b -f "$T/bin"
expect_exit 0 run_in "gone" secret put versions/allowed/deleted
expect_exit 0 secret rm versions/allowed/deleted
expect_exit 0 run_in "S" secret put versions/secret/s
printf '%s\n' '{"id":1,"action":"secret.get_many","paths":[["versions","allowed","a"],["versions","secret","s"],["versions","nothing","here"],["versions","allowed","missing"],["versions","allowed","b"],["versions","allowed","deleted"]]}' \
	'{"id":2,"action":"secret.get_many","prefix":["versions","allowed"]}' \
	'{"id":3,"action":"secret.get_many","prefix":["versions"]}' >"$T/many"
run_in_file "$T/many" plain_ssh "$K_ver_reader" json
expect_rc 0
head -n 1 "$OUT_FILE" >"$T/many1"
sed -n 2p "$OUT_FILE" >"$T/many2"
sed -n 3p "$OUT_FILE" >"$T/many3"
expect_eq "$(jq -r '"\(.id) \(.ok) \(.results | length)"' <"$T/many1")" "1 true 6" "batch ok, one result per path"
expect_eq "$(jq -r '[.results[] | "\(.path | join("/"))=\(.ok):\(.error.code // .version)"] | join(" ")' <"$T/many1")" \
	"versions/allowed/a=true:1 versions/secret/s=false:permission_denied versions/nothing/here=false:permission_denied versions/allowed/missing=false:not_found versions/allowed/b=true:1 versions/allowed/deleted=false:not_found" \
	"per-path results in request order"
expect_eq "$(jq -r '.results[0].value' <"$T/many1")" "A" "text value"
jq -r '.results[4].value_base64' <"$T/many1" | base64 -d >"$T/many-b"
expect_true cmp -s "$T/bin" "$T/many-b"
expect_eq "$(jq -r '.results[1].error.message == .results[2].error.message' <"$T/many1")" true "same message: existing forbidden vs missing"
expect_eq "$(jq -r '[.results[1,2] | has("value") or has("value_base64") or has("version")] | any' <"$T/many1")" false "nothing of a forbidden path"
expect_eq "$(jq -r '"\(.id) \(.ok)"' <"$T/many2")" "2 true" "prefix at the grant"
expect_eq "$(jq -r '[.results[] | "\(.path | join("/"))"] | join(" ")' <"$T/many2")" "versions/allowed/a versions/allowed/b" "prefix: the live values"
expect_eq "$(jq -r '"\(.id) \(.ok) \(.error.code)"' <"$T/many3")" "3 false permission_denied" "prefix above the grant"

describe "get_many stops at 8 MiB: by prefix truncated, by list too_large past it, and only what was sent audited as read"
BIG=140
for ((i = 1; i <= BIG; i++)); do
	printf '{"id":%d,"action":"secret.put","path":["versions","big","k%03d"],"value_base64":"%s"}\n' \
		"$i" "$i" "$(head -c 60000 /dev/urandom | base64 -w 0)"
done >"$T/big-put"
run_in_file "$T/big-put" plain_ssh "$SECRETD_WORK/admin" json
expect_eq "$(jq -r 'select(.ok) | .id' <"$OUT_FILE" | wc -l)" "$BIG" "$BIG puts of 60 000 bytes"
jq -c -n --argjson n "$BIG" '{id: 1, action: "secret.get_many", paths: [range(1; $n + 1) | ["versions", "big", "k\(. | tostring | ("00" + .)[-3:])"]]}' >"$T/big-get"
printf '%s\n' '{"id":2,"action":"secret.get_many","prefix":["versions","big"]}' >>"$T/big-get"
before=$(sql "SELECT coalesce(max(id), 0) FROM audit_log")
run_in_file "$T/big-get" plain_ssh "$SECRETD_WORK/admin" json
expect_rc 0
head -n 1 "$OUT_FILE" >"$T/big1"
sed -n 2p "$OUT_FILE" >"$T/big2"
sent=$(jq -r '.results | length' <"$T/big2")
expect_eq "$(jq -r '"\(.id) \(.ok) \(.truncated) \([.results[] | .ok] | all)"' <"$T/big2")" "2 true true true" "prefix: ok, truncated, every result a value"
expect_true test "$sent" -ge 100 -a "$sent" -lt "$BIG"
expect_true test "$(wc -c <"$T/big2")" -le $((8 * 1024 * 1024 + 4096))
expect_eq "$(jq -r '[.results[] | .path[2]] | join(",")' <"$T/big2")" \
	"$(seq -f 'k%03g' 1 "$sent" | paste -sd,)" "prefix: the first values in path order"
expect_eq "$(jq -r '"\(.id) \(.ok) \(.results | length)"' <"$T/big1")" "1 true $BIG" "list: one result per path"
expect_eq "$(jq -r '[.results[] | if .ok then "ok" else .error.code end] | group_by(.) | map("\(.[0])=\(length)") | join(" ")' <"$T/big1")" \
	"ok=$sent too_large=$((BIG - sent))" "list: the same values fit, too_large for every path after"
expect_eq "$(jq -r '.results[-1].error.message' <"$T/big1")" "the answer is full; ask for this path again" "too_large says what to do"
expect_true test "$(wc -c <"$T/big1")" -le $((8 * 1024 * 1024 + 4096 + (BIG - sent) * 200))
expect_eq "$(sql "SELECT k || '=' || count(*) FROM (SELECT result || '/' || coalesce(error_code, '') || '/' || (version IS NULL) AS k FROM audit_log WHERE id > $before AND action = 'secret.get_many' AND path[2] = 'big' AND cardinality(path) = 3) x GROUP BY k ORDER BY k" | paste -sd' ')" \
	"error/too_large/true=$((BIG - sent)) ok//false=$((2 * sent))" "audit: a read row per value sent, too_large (no version) for the rest, none for values held back"
expect_fail 1 too_large secret fetch versions/big --dest "$T/big-dir"
expect_true test ! -e "$T/big-dir"

# ------------------------------------------------------------- acl who
describe "acl who: every holder with group and grant, nested grants, root as /"
for g in ver-who-top ver-who-mid ver-who-deep; do expect_exit 0 secret group create "$g"; done
expect_exit 0 secret acl set versions/who ver-who-top discover,read
expect_exit 0 secret acl set versions/who/mid ver-who-mid read,write
expect_exit 0 secret acl set versions/who/mid/deep ver-who-deep manage
mk ver-alice ver-who-top ver-who-mid
mk ver-bob ver-who-deep
mk ver-carol ver-who-top
expect_exit 0 run_in "w" secret put versions/who/mid/deep/s
expect_exit 0 secret --json acl who versions/who/mid/deep
expect_json '[.who[] | select(.principal | startswith("ver-")) | "\(.permission) \(.principal) \(.group) \(.path | join("/"))"] | join(",")' \
	"discover ver-alice ver-who-top versions/who,discover ver-carol ver-who-top versions/who,read ver-alice ver-who-top versions/who,read ver-alice ver-who-mid versions/who/mid,read ver-carol ver-who-top versions/who,write ver-alice ver-who-mid versions/who/mid,manage ver-bob ver-who-deep versions/who/mid/deep"
expect_json '[.who[] | select(.principal == "admin") | "\(.permission) \(.group) \(.path | length)"] | join(",")' \
	"discover admins 0,read admins 0,write admins 0,manage admins 0"
expect_json '[.who[] | keys | join(" ")] | unique | join(",")' "group path permission principal"
expect_exit 0 secret acl who versions/who/mid/deep
expect_eq "$(grep -E ' (ver-|admin )' "$OUT_FILE" | tr -s ' ')" "discover admin via admins at /
discover ver-alice via ver-who-top at versions/who
discover ver-carol via ver-who-top at versions/who
read admin via admins at /
read ver-alice via ver-who-top at versions/who
read ver-alice via ver-who-mid at versions/who/mid
read ver-carol via ver-who-top at versions/who
write admin via admins at /
write ver-alice via ver-who-mid at versions/who/mid
manage admin via admins at /
manage ver-bob via ver-who-deep at versions/who/mid/deep" "human form"
expect_out_match '^manage +ver-bob +via ver-who-deep at versions/who/mid/deep$'
expect_exit 0 as ver-bob --json acl who versions/who/mid/deep
expect_json '[.who[] | select(.principal == "ver-bob") | .permission] | join(",")' manage
expect_fail 4 permission_denied as ver-carol acl who versions/who/mid/deep
expect_fail 4 permission_denied as ver-bob acl who versions/who/mid

# ----------------------------------------------------------------- edit
X=$T/xdg
mkdir -m 0700 "$X"
export XDG_RUNTIME_DIR=$X
xdg_empty() { [ -z "$(ls -A "$X")" ]; }

# Editors.  Each records the file it was given, its mode and its
# directory's mode, and the bytes it found.
cat >"$T/ed_record.sh" <<'EOF'
#!/bin/sh
printf '%s\n' "$1" >"$T/ed.path"
stat -c %a "$1" >"$T/ed.fmode"
stat -c %a "$(dirname "$1")" >"$T/ed.dmode"
cp "$1" "$T/ed.seen"
EOF
cat >"$T/ed_append.sh" <<'EOF'
#!/bin/sh
. "$T/ed_record.sh"
printf 'appended line\n' >>"$1"
EOF
cat >"$T/ed_write.sh" <<'EOF'
#!/bin/sh
. "$T/ed_record.sh"
printf '%s' "$ED_TEXT" >"$1"
EOF
cat >"$T/ed_fail.sh" <<'EOF'
#!/bin/sh
. "$T/ed_record.sh"
printf 'not stored\n' >>"$1"
exit 1
EOF
cat >"$T/ed_noop.sh" <<'EOF'
#!/bin/sh
. "$T/ed_record.sh"
# rewrite the same bytes through a new file (as vim does), leave a swap file
cp "$1" "$1.new" && mv "$1.new" "$1"
printf 'swap' >"$(dirname "$1")/.swp"
EOF
cat >"$T/ed_args.sh" <<'EOF'
#!/bin/sh
printf '%s\n' "$@" >"$T/ed.args"
eval "last=\${$#}"
printf 'with args' >"$last"
EOF
cat >"$T/ed_race.sh" <<'EOF'
#!/bin/sh
# someone else writes while we edit
. "$T/ed_record.sh"
printf 'theirs' | secret put "$RACE_PATH" || exit 9
printf 'mine' >"$1"
EOF
cat >"$T/ed_slow.sh" <<'EOF'
#!/bin/sh
printf ' slow' >>"$1"
: >"$T/slow.started"
i=0
while [ ! -e "$T/slow.go" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
EOF
cat >"$T/ed_sleep.sh" <<'EOF'
#!/bin/sh
. "$T/ed_record.sh"
printf 'not stored\n' >>"$1"
echo $$ >"$T/ed.pid"
: >"$T/sleep.started"
exec sleep 30
EOF
chmod +x "$T"/ed_*.sh
edit_with() { local ed=$1; shift; EDITOR=$ed secret edit "$@"; }

describe "edit: the editor's change is stored as a new version; private 0700 dir, 0600 file"
expect_exit 0 run_in "first" secret put versions/ed/conf
expect_exit 0 edit_with "$T/ed_append.sh" versions/ed/conf
expect_out ""
expect_err ""
expect_exit 0 secret get versions/ed/conf
expect_out_exact "firstappended line
"
expect_exit 0 secret --json history versions/ed/conf
expect_eq "$(states)" "2:current,1:previous" "one new version"
expect_eq "$(cat "$T/ed.seen")" "first" "the editor saw the current value"
expect_match "$(cat "$T/ed.path")" "^$X/secret-edit\.[A-Za-z0-9]{6}/conf$" "file in a private directory under XDG_RUNTIME_DIR"
expect_eq "$(cat "$T/ed.fmode") $(cat "$T/ed.dmode")" "600 700" "modes"
expect_true xdg_empty
row=$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.put' AND path = '{versions,ed,conf}' AND version = 2 AND result = 'ok'")
expect_eq "$row" 1 "the put is audited"

describe "edit --json prints the put response"
expect_exit 0 edit_with "$T/ed_append.sh" --json versions/ed/conf
expect_json '.version' 3

describe "edit keeps binary bytes exact both ways"
expect_exit 0 secret put versions/ed/bin -f "$T/bin"
expect_exit 0 edit_with "$T/ed_append.sh" versions/ed/bin
expect_true cmp -s "$T/bin" "$T/ed.seen"
cat "$T/bin" >"$T/bin.appended"
printf 'appended line\n' >>"$T/bin.appended"
expect_exit 0 secret get versions/ed/bin
expect_out_file "$T/bin.appended"
expect_true xdg_empty

describe "edit of a new secret starts empty and creates it (cas 0); of a deleted one too"
expect_exit 0 env ED_TEXT=created EDITOR="$T/ed_write.sh" secret edit versions/ed/new
expect_eq "$(wc -c <"$T/ed.seen")" 0 "started from an empty file"
expect_exit 0 secret --json get versions/ed/new
expect_json '.value' created
expect_json '.version' 1
expect_exit 0 secret rm versions/ed/new
expect_exit 0 env ED_TEXT=again EDITOR="$T/ed_write.sh" secret edit versions/ed/new
expect_eq "$(wc -c <"$T/ed.seen")" 0 "a deleted value starts empty"
expect_exit 0 secret --json get versions/ed/new
expect_json '.value' again
expect_json '.version' 3
expect_true xdg_empty

describe "edit: an editor that fails (exit 1) stores nothing and leaves no file"
expect_fail 1 internal edit_with "$T/ed_fail.sh" versions/ed/conf
expect_err_contains "exited with status 1; nothing stored"
expect_exit 0 secret --json history versions/ed/conf
expect_eq "$(states)" "3:current,2:previous,1:previous" "no version added"
expect_true xdg_empty
expect_exit 1 edit_with /nonexistent/editor versions/ed/conf
expect_err_contains "secret: internal: the editor (/nonexistent/editor) exited with status 127; nothing stored"
expect_true xdg_empty

describe "edit: a file left unchanged (even rewritten, with a swap file beside) stores nothing"
expect_exit 0 edit_with "$T/ed_noop.sh" versions/ed/conf
expect_out ""
expect_err ""
expect_exit 0 secret --json history versions/ed/conf
expect_eq "$(states)" "3:current,2:previous,1:previous" "no version added"
expect_true xdg_empty
expect_exit 0 edit_with "$T/ed_noop.sh" versions/ed/never
expect_fail 5 not_found secret history versions/ed/never

describe "edit: VISUAL wins over EDITOR; EDITOR may carry arguments"
expect_exit 0 env VISUAL="$T/ed_append.sh" EDITOR="$T/ed_fail.sh" secret edit versions/ed/conf
expect_exit 0 secret --json get versions/ed/conf
expect_json '.version' 4
expect_exit 0 env EDITOR="$T/ed_args.sh --flag two" secret edit versions/ed/args
expect_eq "$(head -n 2 "$T/ed.args")" "--flag
two" "arguments split"
expect_match "$(sed -n 3p "$T/ed.args")" "^$X/secret-edit\.[A-Za-z0-9]{6}/args$" "the file last"
expect_exit 0 secret get versions/ed/args
expect_out_exact "with args"
expect_true xdg_empty

describe "edit uses check-and-set: a write meanwhile is a conflict (exit 6), nothing of ours stored"
expect_fail 6 conflict env RACE_PATH=versions/ed/conf EDITOR="$T/ed_race.sh" secret edit versions/ed/conf
expect_err_contains "your edit was not stored"
expect_exit 0 secret --json get versions/ed/conf
expect_json '.value' theirs
expect_json '.version' 5
expect_true xdg_empty
expect_fail 6 conflict env RACE_PATH=versions/ed/race-new EDITOR="$T/ed_race.sh" secret edit versions/ed/race-new
expect_exit 0 secret get versions/ed/race-new
expect_out_exact "theirs"
expect_true xdg_empty

describe "two concurrent edits: the slower one gets conflict (exit 6); no SSH session while editing"
expect_exit 0 run_in "base" secret put versions/ed/conc
rm -f "$T"/slow.*
(EDITOR=$T/ed_slow.sh exec secret edit versions/ed/conc) >"$T/slow.out" 2>"$T/slow.err" &
slow=$!
wait_for "$T/slow.started" || fail "the slow editor did not start"
expect_eq "$(find "/proc/$slow/fd" -lname 'socket:*' 2>/dev/null | wc -l)" 0 "no socket open while the editor runs"
expect_exit 0 edit_with "$T/ed_append.sh" versions/ed/conc
: >"$T/slow.go"
{ wait "$slow"; } 2>/dev/null
expect_eq "$?" 6 "the slow edit's exit status"
expect_match "$(head -n 1 "$T/slow.err")" '^secret: conflict: ' "conflict reported"
expect_exit 0 secret get versions/ed/conc
expect_out_exact "baseappended line
"
expect_exit 0 secret --json history versions/ed/conc
expect_eq "$(states)" "2:current,1:previous" "only the first writer's version"
expect_true xdg_empty

describe "edit: SIGTERM / SIGHUP while the editor runs: editor ended, file wiped, died of the signal"
for sig in TERM HUP; do
	rm -f "$T/sleep.started" "$T/ed.pid"
	(EDITOR=$T/ed_sleep.sh exec secret edit versions/ed/conf) >"$T/sig.out" 2>"$T/sig.err" &
	p=$!
	wait_for "$T/sleep.started" || fail "the editor did not start"
	expect_true test -s "$(cat "$T/ed.path")"
	kill -"$sig" "$p"
	{ wait "$p"; } 2>/dev/null	# (no job notice)
	expect_eq "$?" "$((128 + $(kill -l "$sig")))" "died of SIG$sig"
	expect_true xdg_empty
	expect_eq "$(alive "$(cat "$T/ed.pid")" && echo alive || echo gone)" gone "the editor was ended"
done
expect_exit 0 secret --json get versions/ed/conf
expect_json '.version' 5

describe "edit: SIGINT is the editor's: ignored if it carries on, fatal if it dies of it"
rm -f "$T/slow.started" "$T/slow.go"
(EDITOR=$T/ed_slow.sh exec env --default-signal=INT secret edit versions/ed/conc) >"$T/int.out" 2>"$T/int.err" &
p=$!
wait_for "$T/slow.started" || fail "the editor did not start"
kill -INT "$p"
sleep 0.3
: >"$T/slow.go"
{ wait "$p"; } 2>/dev/null
expect_eq "$?" 0 "the edit went on"
expect_exit 0 secret get versions/ed/conc
expect_out_exact "baseappended line
 slow"
rm -f "$T/sleep.started" "$T/ed.pid"
(EDITOR=$T/ed_sleep.sh exec env --default-signal=INT secret edit versions/ed/conc) >"$T/int.out" 2>"$T/int.err" &
p=$!
wait_for "$T/sleep.started" || fail "the editor did not start"
kill -INT "$(cat "$T/ed.pid")" "$p"	# as a ^C reaches the foreground group
{ wait "$p"; } 2>/dev/null
expect_eq "$?" 130 "died of SIGINT"
expect_true xdg_empty
expect_exit 0 secret --json get versions/ed/conc
expect_json '.version' 3

describe "edit: /dev/shm when XDG_RUNTIME_DIR is unusable; refused when neither is"
expect_exit 0 env XDG_RUNTIME_DIR="$T/no-such-dir" EDITOR="$T/ed_append.sh" secret edit versions/ed/shm
expect_err_contains "not using \$XDG_RUNTIME_DIR"
expect_match "$(cat "$T/ed.path")" '^/dev/shm/secret-edit\.[A-Za-z0-9]{6}/shm$' "file under /dev/shm"
expect_true test ! -e "$(dirname "$(cat "$T/ed.path")")"
expect_exit 0 secret get versions/ed/shm
expect_out_exact "appended line
"
mkdir -p "$T/disk"
if [ "$(stat -f -c %T "$T/disk")" != tmpfs ] && unshare --mount --propagation private true 2>/dev/null; then
	# shellcheck disable=SC2016 # (expanded by that sh)
	expect_fail 1 bad_request unshare --mount --propagation private sh -c \
		'mount --bind "$1" /dev/shm && exec env -u XDG_RUNTIME_DIR EDITOR="$2" secret edit versions/ed/shm' \
		sh "$T/disk" "$T/ed_append.sh"
	expect_err_contains "not a memory file system"
	expect_eq "$(ls -A "$T/disk")" "" "nothing written to the disk directory"
	expect_exit 0 secret --json get versions/ed/shm
	expect_json '.version' 1
else
	skip_case "no mount namespace here (or the test directory is a tmpfs): refusal not tested"
fi
expect_fail 2 usage secret edit
expect_fail 2 usage secret edit a b

done_testing

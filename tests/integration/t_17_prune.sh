#!/bin/bash
# t_17_prune.sh - what a write keeps and what it leaves behind, on a
# database and daemon of its own with a small max_versions: a put, a
# delete (one node or a tree) and an undelete keep exactly the newest
# max_versions versions; lowering max_versions prunes the surplus at the
# next write; node.pruned_to records how far pruning went.  A put that
# fails after its path was checked (value too large, not a string,
# check-and-set conflict) or is refused creates no node and no version.
. "$(dirname "$0")/lib.sh"
test_init

SOCKPY=$SD_LIB_DIR/sock.py
DB=secretd_prune
PS=$RUNDIR/prune.sock
sql "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
sql "CREATE DATABASE $DB OWNER secretd_admin" || die "createdb"
psql_p() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
conf() {	# conf MAX_VERSIONS
	sed -e "s|^socket = .*|socket = $PS|" -e "s|dbname=secretd|dbname=$DB|g" \
		-e "s|^keyring = .*|keyring = $T/keyring|" -e '/^max_versions/d' \
		"$W/secretd.conf" >"$T/p.conf"
	echo "max_versions = $1" >>"$T/p.conf"
}
PPID_D=
start() {	# start MAX_VERSIONS
	conf "$1"
	"$BIN/secretd" -c "$T/p.conf" serve 2>>"$T/p.log" &
	PPID_D=$!
	sd_starttime "$PPID_D"
	PPID_START=$SD_START
	for _ in $(seq 100); do [ -S "$PS" ] && return 0; sleep 0.1; done
	cat "$T/p.log"
	die "second secretd did not start"
}
stop() {
	[ -n "$PPID_D" ] || return 0
	sd_kill_same TERM "$PPID_D" "$PPID_START"
	wait "$PPID_D" 2>/dev/null
	PPID_D=
	rm -f "$PS"
}
cleanup() { stop; sql "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1; }
at_exit cleanup

conf 3
expect_exit 0 "$BIN/secretd" -c "$T/p.conf" init --admin admin --key "$W/admin.pub"
start 3
req() { run_in "$1"$'\n' "$SOCKPY" "$PS" --hello "${2:-$W/admin.pub}"; }
code_of() { jq -r 'if .ok then "ok" else .error.code end' <"$OUT_FILE" | tail -n 1; }
versions() {	# versions NAME...: the stored versions of p/NAME..., "3,4,5"
	local arr
	arr=$(printf ',%s' "$@")
	psql_p "SELECT coalesce(string_agg(version::text, ',' ORDER BY version), '')
		FROM secret_version WHERE node_id = sd_node_id('{p${arr}}')"
}
pruned_to() {
	local arr
	arr=$(printf ',%s' "$@")
	psql_p "SELECT pruned_to FROM node WHERE id = sd_node_id('{p${arr}}')"
}
put() {	# put VALUE NAME...
	local v=$1 arr
	shift
	arr=$(printf ',"%s"' "$@")
	req "{\"action\":\"secret.put\",\"path\":[\"p\"$arr],\"value\":\"$v\"}"
}

describe "max_versions = 3: five puts keep versions 3, 4 and 5"
for i in 1 2 3 4 5; do
	put "v$i" a
	expect_eq "$(code_of)" ok "put $i"
done
expect_eq "$(versions a)" "3,4,5" "the newest three"
expect_eq "$(pruned_to a)" 2 "pruned_to"
req '{"action":"secret.get","path":["p","a"]}'
expect_eq "$(jq -r .value <"$OUT_FILE" | tail -n 1)" v5 "the current value"

describe "a delete writes a tombstone and prunes like a put"
req '{"action":"secret.delete","path":["p","a"]}'
expect_eq "$(code_of)" ok "delete"
expect_eq "$(versions a)" "4,5,6" "tombstone 6 and the two before it"
expect_eq "$(psql_p "SELECT deleted FROM secret_version WHERE node_id = sd_node_id('{p,a}') AND version = 6")" t "6 is the tombstone"
expect_eq "$(pruned_to a)" 3 "pruned_to"

describe "undelete restores version 5 as version 7 and prunes 4"
req '{"action":"secret.undelete","path":["p","a"],"version":5}'
expect_eq "$(code_of)" ok "undelete"
expect_eq "$(versions a)" "5,6,7" "versions"
req '{"action":"secret.get","path":["p","a"]}'
expect_eq "$(jq -r .value <"$OUT_FILE" | tail -n 1)" v5 "the restored value"

describe "a tree for the recursive delete: p/t/x (3 versions), p/t/y (1)"
for i in 1 2 3; do put "x$i" t x; done
put y1 t y
expect_eq "$(versions t x)" "1,2,3" "x"
expect_eq "$(versions t y)" "1" "y"

describe "lowering max_versions to 1: the next write prunes all the surplus"
stop
start 1
put v8 a
expect_eq "$(code_of)" ok "put"
expect_eq "$(versions a)" "8" "only the new version"
expect_eq "$(pruned_to a)" 7 "pruned_to"
req '{"action":"secret.delete","path":["p","t"],"recursive":true}'
expect_eq "$(code_of)" ok "recursive delete"
expect_eq "$(versions t x)" "4" "x: only its tombstone"
expect_eq "$(versions t y)" "2" "y: only its tombstone"
expect_eq "$(pruned_to t x)" 3 "x pruned_to"
expect_eq "$(psql_p "SELECT count(*) FROM secret_version WHERE node_id IN (sd_node_id('{p,t,x}'), sd_node_id('{p,t,y}')) AND NOT deleted")" 0 "no value left in the tree"

describe "a put that fails after the check creates nothing"
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
nodes_before=$(psql_p "SELECT count(*) FROM node")
req "{\"action\":\"secret.put\",\"path\":[\"q\",\"big\",\"leaf\"],\"value\":\"$big\"}"
expect_eq "$(code_of)" too_large "a value over max_value_size"
req '{"action":"secret.put","path":["q","num","leaf"],"value":42}'
expect_eq "$(code_of)" bad_request "a value that is not a string"
req '{"action":"secret.put","path":["q","cas","leaf"],"value":"x","cas":3}'
expect_eq "$(code_of)" conflict "cas on a path that does not exist"
expect_eq "$(psql_p "SELECT count(*) FROM node")" "$nodes_before" "no node created"
expect_eq "$(psql_p "SELECT count(*) FROM node WHERE name IN ('q', 'big', 'num', 'cas')")" 0 "none of the path"

describe "a refused put creates nothing and is audited as denied"
k=$(new_key prune-weak) || die "ssh-keygen"
req "{\"action\":\"principal.create\",\"principal\":\"weak\",\"key\":\"$(cat "$k.pub")\"}"
expect_eq "$(code_of)" ok "principal created (in no group)"
req '{"action":"secret.put","path":["q","weak","leaf"],"value":"x"}' "$k.pub"
expect_eq "$(code_of)" permission_denied "put refused"
req '{"action":"secret.put","path":["p","a"],"value":"x"}' "$k.pub"
expect_eq "$(code_of)" permission_denied "put over an existing secret refused"
expect_eq "$(psql_p "SELECT count(*) FROM node")" "$nodes_before" "no node created"
expect_eq "$(versions a)" "8" "p/a untouched"
sleep 0.3
expect_eq "$(psql_p "SELECT count(*) FROM audit_log WHERE principal = 'weak' AND action = 'secret.put' AND result = 'denied'")" 2 "both refusals audited"

done_testing

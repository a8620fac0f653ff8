#!/bin/bash
# t_70_crypto.sh - encryption at rest (issue 4): a dump or the table files
# reveal no value; tampered rows (swapped, flipped, re-keyed, re-versioned)
# fail cleanly while the daemon keeps serving; keygen + SIGHUP + rekey under
# a concurrent writer keeps every version byte-identical and retires the
# old key; a rekey killed with -9 completes when run again; start-up refuses
# bad keyrings; the audit value hash is keyed and survives key retirement.
#
# Everything lives under crypto/.  This file adds keys to the shared
# keyring ($W/keyring) and re-seals the whole store: the shared daemon is
# sent SIGHUP, so it keeps serving every value.  Starting without the old
# key is tried on a second secretd with a copied config and keyring.
. "$(dirname "$0")/lib.sh"
test_init

SOCK=$RUNDIR/secretd.sock
SOCKPY=$SD_LIB_DIR/sock.py
ALT=$RUNDIR/crypto.sock
WRITER_START=
WRITER_PID=
SHARED_PID=$(cat "$W/secretd.pid") || die "no secretd pid"
PG_DUMP=$PG_BINDIR/pg_dump
[ -x "$PG_DUMP" ] || PG_DUMP=$(command -v pg_dump) || die "no pg_dump"

cleanup() {
	[ -n "$WRITER_PID" ] && sd_kill_same TERM "$WRITER_PID" "$WRITER_START"
	sql "DROP TRIGGER IF EXISTS crypto_t70_slow ON secret_version;
	     DROP FUNCTION IF EXISTS crypto_t70_slow()" >/dev/null 2>&1
}
at_exit cleanup

hex() { od -An -v -tx1 | tr -d ' \n'; }
# pgpath a/b/c -> {a,b,c}
pgpath() { printf '{%s}' "${1//\//,}"; }
node_of() { sql "SELECT sd_node_id('$(pgpath "$1")')"; }
# wait_for SECS CMD...: poll CMD every 0.1 s
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
log_has() { secretd_log_since | grep -qF -- "$1"; }
newest_key() { grep -E '^[0-9]+ ' "$W/keyring" | tail -n 1 | cut -d' ' -f1; }
# A config for a second secretd on $ALT with keyring $1.
alt_conf() {
	sed -e "s|^socket = .*|socket = $ALT|" -e "s|^keyring = .*|keyring = $1|" \
		"$W/secretd.conf" >"$T/alt.conf"
	printf '%s\n' "$T/alt.conf"
}
alt_start() {
	rm -f "$ALT"
	helper_start alt "$BIN/secretd" -c "$(alt_conf "$1")" serve
	wait_for 30 test -S "$ALT"
}
alt_stop() {
	helper_stop alt TERM
	return "$HELPER_RC"
}
# Every stored (sealed) version of the whole store as secret.get lines.
all_gets() {
	sql "WITH RECURSIVE p(id, path) AS (
		SELECT 1::bigint, ARRAY[]::text[]
		UNION ALL SELECT n.id, p.path || n.name FROM node n JOIN p ON n.parent_id = p.id)
	     SELECT json_build_object('id', s.node_id || '/' || s.version, 'action', 'secret.get',
		'path', p.path, 'version', s.version)
	     FROM secret_version s JOIN p ON p.id = s.node_id
	     WHERE s.ciphertext IS NOT NULL ORDER BY s.node_id, s.version"
}
# The parts of get answers that must not differ between two daemons.
answers() { jq -c '[.id, .ok, .value, .value_base64, .version, .error.code]' "$1"; }

# ------------------------------------------------------------- dump and disk
describe "a database dump and the raw table files never hold a value"
marker="crypto-marker-$(head -c 12 /dev/urandom | hex)"
dname="crypto-dumpname-$(head -c 6 /dev/urandom | hex)"
expect_exit 0 run_in "$marker" secret put "crypto/dump/$dname"
expect_exit 0 secret get "crypto/dump/$dname"
expect_out_exact "$marker"
dnode=$(node_of "crypto/dump/$dname")
row=$(sql "SELECT key_id, octet_length(nonce), octet_length(ciphertext), encode(ciphertext, 'hex')
	FROM secret_version WHERE node_id = $dnode AND version = 1")
IFS='|' read -r dkey nlen clen ct_hex <<<"$row"
expect_eq "$dkey" "$(newest_key)" "sealed under the newest key"
expect_eq "$nlen" 24 "24-byte nonce"
expect_eq "$clen" $((${#marker} + 16)) "ciphertext = value + 16-byte tag"
run "$PG_DUMP" --no-password secretd
expect_rc 0
cp "$OUT_FILE" "$T/dump.sql"
expect_true grep -qF "$ct_hex" "$T/dump.sql"    # the dump does hold the row
expect_true grep -qF "$dname" "$T/dump.sql"     # names are not encrypted
expect_true test "$(grep -caF "$marker" "$T/dump.sql")" = 0
mhex=$(printf '%s' "$marker" | hex)
expect_true test "$(grep -caiF "$mhex" "$T/dump.sql")" = 0
mb64=$(printf '%s' "$marker" | base64 -w0)
expect_true test "$(grep -caF "${mb64:0:24}" "$T/dump.sql")" = 0
sql "CHECKPOINT" || die "checkpoint"
# The path name is stored in the clear: finding it proves the grep reads
# the table files; the value must be nowhere in the cluster (heap, WAL).
expect_true test -n "$(grep -rlaF "$dname" "$PGDATA_DIR/base")"
expect_eq "$(grep -rlaF "$marker" "$PGDATA_DIR" 2>/dev/null)" "" "marker in the data directory"
expect_eq "$(grep -rlaiF "$mhex" "$PGDATA_DIR" 2>/dev/null)" "" "hex marker in the data directory"
expect_eq "$(grep -caF "$marker" "$PG_LOG")" 0 "marker in the PostgreSQL log"
expect_eq "$(grep -caF "$marker" "$W/secretd.log")" 0 "marker in the secretd log (log_level debug)"
expect_exit 0 secret get "crypto/dump/$dname"
expect_out_exact "$marker"

# ------------------------------------------------------------ bulk rows
describe "3000 versions for the rekeys to chew on"
salt=$(head -c 4 /dev/urandom | hex)
# 150 secrets x 20 versions (= max_versions: none pruned) in one session.
for v in $(seq 20); do
	for s in $(seq 150); do
		printf '{"id":"b%d/%d","action":"secret.put","path":["crypto","bulk","b%d"],"value":"bulk-%s-%d-%d"}\n' \
			"$s" "$v" "$s" "$salt" "$s" "$v"
	done
done >"$T/bulk.req"
RUN_TIMEOUT=300 run_in_file "$T/bulk.req" plain_ssh "$W/admin" json
expect_rc 0
expect_eq "$(jq -r .ok "$OUT_FILE" | sort | uniq -c | tr -s ' ')" " 3000 true" "3000 puts"
# While present, every re-sealed row costs 1 ms: rekeys last long enough
# for the writer to overlap and for a kill to land inside a batch.
slow_on() {
	sql "CREATE FUNCTION crypto_t70_slow() RETURNS trigger LANGUAGE plpgsql AS
	     \$\$ BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END \$\$;
	     CREATE TRIGGER crypto_t70_slow BEFORE UPDATE ON secret_version
	     FOR EACH ROW EXECUTE FUNCTION crypto_t70_slow()" || die "trigger"
}
slow_off() {
	sql "DROP TRIGGER crypto_t70_slow ON secret_version; DROP FUNCTION crypto_t70_slow()" || die "drop trigger"
}

# ------------------------------------------------------------ keyring checks
describe "start-up refuses a keyring readable or writable by group or others (0640, 0604, 0620)"
for m in 0640 0604 0620; do
	install -m "$m" "$W/keyring" "$T/kr$m"
	expect_exit 1 "$BIN/secretd" -c "$(alt_conf "$T/kr$m")" serve
	expect_err_match "^secretd\[[0-9]+\]: error: keyring $T/kr$m: mode $m is readable or writable by group or others; fix with \"chmod 0400 $T/kr$m\""
	expect_eq "$(wc -l <"$ERR_FILE")" 1 "one line"
	expect_true test ! -e "$ALT"
done
describe "start-up refuses a keyring owned by another user, naming the chown"
install -m 0400 -o 65534 "$W/keyring" "$T/krnobody"
expect_exit 1 "$BIN/secretd" -c "$(alt_conf "$T/krnobody")" serve
expect_err_contains "keyring $T/krnobody: owned by uid 65534, not by uid 0 that secretd runs as; run secretd (also keygen and rekey) as the keyring's owner, or fix with \"chown 0 $T/krnobody\""
describe "keygen refuses a keyring owned by another user and leaves it as it is"
cp -p "$T/krnobody" "$T/krnobody.before"
expect_exit 1 "$BIN/secretd" -c "$(alt_conf "$T/krnobody")" keygen
expect_err_contains "owned by uid 65534, not by uid 0"
expect_true cmp -s "$T/krnobody" "$T/krnobody.before"
expect_true test ! -e "$T/krnobody.new"
describe "start-up refuses a symbolic link as the keyring"
ln -s "$W/keyring" "$T/krlink"
expect_exit 1 "$BIN/secretd" -c "$(alt_conf "$T/krlink")" serve
expect_err_contains "keyring $T/krlink: is a symbolic link; set keyring to the file itself"
describe "start-up refuses malformed keyrings with the line"
k32() { head -c 32 /dev/urandom | base64 -w0; }
bad_ring() { # NAME CONTENT MESSAGE
	printf '%s' "$2" >"$T/$1"
	chmod 0400 "$T/$1"
	expect_exit 1 "$BIN/secretd" -c "$(alt_conf "$T/$1")" serve
	expect_err_contains "keyring $T/$1: $3"
}
bad_ring krorder "2 $(k32)"$'\n'"1 $(k32)"$'\n' "line 2: key ids must ascend"
bad_ring krshort "# c"$'\n'"1 $(head -c 16 /dev/urandom | base64 -w0)"$'\n' "line 2: key is not 32 bytes of base64"
bad_ring krzero "0 $(k32)"$'\n' "line 1: bad key id"
bad_ring krbig "2147483648 $(k32)"$'\n' "line 1: bad key id"
bad_ring krnone "# nothing"$'\n'"kdf $(k32)"$'\n' "no keys"
bad_ring krkdf2 "kdf $(k32)"$'\n'"kdf $(k32)"$'\n'"1 $(k32)"$'\n' "line 2: a second kdf line"
expect_true test ! -e "$ALT"

describe "init made the keyring 0400 with a kdf root and key 1"
expect_mode 400 "$W/keyring"
expect_eq "$(grep -c '^kdf ' "$W/keyring")" 1 "one kdf line"
expect_eq "$(grep -E '^[0-9]+ ' "$W/keyring" | head -n 1 | cut -d' ' -f1)" 1 "first key id"

# ------------------------------------------------------------ audit hashes
describe "the audit value hash: equal values hash equal, others differ, and it is keyed"
expect_exit 0 run_in "same-value" secret put crypto/audit/a
expect_exit 0 run_in "same-value" secret put crypto/audit/a
expect_exit 0 run_in "same-value" secret put crypto/audit/b
expect_exit 0 run_in "other-value" secret put crypto/audit/c
ahash() { # PATH [VERSION]
	sql "SELECT encode(value_hash, 'hex') FROM audit_log WHERE action = 'secret.put' AND result = 'ok'
	     AND path = '$(pgpath "$1")' AND version = ${2:-1} ORDER BY id DESC LIMIT 1"
}
ha1=$(ahash crypto/audit/a 1)
expect_match "$ha1" '^[0-9a-f]{64}$' "32-byte hash"
expect_eq "$(ahash crypto/audit/a 2)" "$ha1" "same value, next version"
expect_eq "$(ahash crypto/audit/b)" "$ha1" "same value, another path"
expect_ne "$(ahash crypto/audit/c)" "$ha1" "another value"
plain=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(b"same-value", digest_size=32).hexdigest(), hashlib.sha256(b"same-value").hexdigest())')
expect_lacks "$plain" "$ha1" "not an unkeyed BLAKE2b-256 or SHA-256"
expect_exit 0 secret get crypto/audit/a
get_rows() { [ "$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '{crypto,audit,a}'")" -ge 1 ]; }
expect_true wait_for 10 get_rows
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE action = 'secret.get' AND path = '{crypto,audit,a}' AND value_hash IS NOT NULL")" 0 "reads carry no hash"

# ------------------------------------------- keygen + SIGHUP + rekey under load
describe "keygen + SIGHUP + rekey while a client keeps writing and reading"
old_key=$(newest_key)
mkdir -p "$T/rot"
: >"$T/rot/log"
: >"$T/rot/errors"
# Sequential puts of random binary values to 10 secrets (at most 19 versions
# each: below max_versions, so every version stays), each read back at once.
# $T/rot/log gets "I PATH VERSION" per completed write; values in $T/rot/vI.
rot_writer() {
	local i=0 k out ver
	while [ ! -e "$T/rot/stop" ] && [ "$i" -lt 190 ]; do
		i=$((i + 1))
		k=crypto/rot/k$((i % 10))
		head -c $((RANDOM % 48 + 1)) /dev/urandom >"$T/rot/v$i"
		if ! out=$(timeout 30 secret --json put "$k" <"$T/rot/v$i" 2>&1); then
			printf 'put %s %s: %s\n' "$i" "$k" "$out" >>"$T/rot/errors"
			continue
		fi
		ver=$(jq -r .version <<<"$out")
		if ! timeout 30 secret get "$k" >"$T/rot/g$i" 2>>"$T/rot/errors" ||
			! cmp -s "$T/rot/g$i" "$T/rot/v$i"; then
			printf 'get %s %s differs\n' "$i" "$k" >>"$T/rot/errors"
		fi
		printf '%s %s %s\n' "$i" "$k" "$ver" >>"$T/rot/log"
	done
}
nlog() { wc -l <"$T/rot/log"; }
at_least() { [ "$(nlog)" -ge "$1" ]; }
rot_writer &
WRITER_PID=$!
sd_starttime "$WRITER_PID"
WRITER_START=$SD_START
expect_true wait_for 60 at_least 5
kdf_before=$(grep '^kdf ' "$W/keyring")
k1_before=$(grep "^$old_key " "$W/keyring")
run "$BIN/secretd" -c "$W/secretd.conf" keygen
expect_rc 0
new_key=$((old_key + 1))
expect_err "secretd: added key $new_key to $W/keyring; send secretd SIGHUP (or restart it) to seal new values with it, then run \"secretd rekey\""
expect_eq "$(newest_key)" "$new_key" "newest key"
expect_mode 400 "$W/keyring"
expect_eq "$(grep '^kdf ' "$W/keyring")" "$kdf_before" "kdf root unchanged"
expect_eq "$(grep "^$old_key " "$W/keyring")" "$k1_before" "old key unchanged"
n=$(nlog)
expect_true wait_for 60 at_least $((n + 3))
# Before SIGHUP the daemon still seals with the old key.
n_hup=$(nlog)
secretd_log_mark
kill -HUP "$SHARED_PID"
expect_true wait_for 10 log_has "keyring reloaded; sealing with key $new_key"
n_reload=$(nlog)
expect_true wait_for 60 at_least $((n_reload + 5))
n_check=$(nlog)
wrong=
while read -r i k ver; do
	kid=$(sql "SELECT key_id FROM secret_version WHERE node_id = sd_node_id('$(pgpath "$k")') AND version = $ver")
	if [ "$i" -le "$n_hup" ]; then
		[ "$kid" = "$old_key" ] || wrong+=" $i:$kid(before)"
	elif [ "$i" -ge $((n_reload + 2)) ]; then
		# (write n_reload + 1 may have been sealed just before the reload)
		[ "$kid" = "$new_key" ] || wrong+=" $i:$kid(after)"
	fi
done < <(head -n "$n_check" "$T/rot/log")
expect_eq "$wrong" "" "writes before SIGHUP under key $old_key, after it under key $new_key"

describe "retiring the old key too early is refused, naming the count"
grep -v "^$old_key " "$W/keyring" >"$T/kr-early"
chmod 0400 "$T/kr-early"
n_old=$(sql "SELECT count(*) FROM secret_version WHERE ciphertext IS NOT NULL AND key_id = $old_key")
expect_true test "$n_old" -gt 0
expect_exit 1 "$BIN/secretd" -c "$(alt_conf "$T/kr-early")" serve
expect_err_contains "$n_old stored versions are sealed with key $old_key, which the keyring $T/kr-early lacks: restore that key"
printf '# only an unrelated key\n%s %s\n' 99 "$(k32)" >"$T/kr-none"
chmod 0400 "$T/kr-none"
expect_exit 1 "$BIN/secretd" -c "$(alt_conf "$T/kr-none")" serve
expect_err_contains "$n_old stored versions are sealed with key $old_key, which the keyring $T/kr-none lacks"
expect_err_match "[0-9]+ stored versions are sealed with key $new_key, which the keyring $T/kr-none lacks"
expect_true test ! -e "$ALT"

describe "rekey re-seals everything under the new key while the writer goes on"
n=$(nlog)
slow_on
run "$BIN/secretd" -c "$W/secretd.conf" rekey
expect_rc 0
slow_off
expect_err_match "^secretd: rekey: [0-9]+ stored versions to re-seal under key $new_key$"
expect_err_match "^secretd: rekey: [0-9]+ re-sealed under key $new_key, [0-9]+ to go, [0-9]+/s$"
expect_err_match "^secretd: rekey: done: [0-9]+ re-sealed under key $new_key in [0-9.]+ s; no stored version is sealed under another key$"
expect_true test "$(nlog)" -gt "$n"    # the writer did write during the rekey
n=$(nlog)
expect_true wait_for 60 at_least $((n + 3))
touch "$T/rot/stop"
wait "$WRITER_PID"
WRITER_PID=
expect_eq "$(cat "$T/rot/errors")" "" "writer: every put and read-back succeeded"
expect_eq "$(sql "SELECT count(*) FROM secret_version WHERE ciphertext IS NOT NULL AND key_id <> $new_key")" 0 \
	"nothing sealed under another key (writes after the rekey used key $new_key)"
nw=$(nlog)
expect_true test "$nw" -ge 20
bad=0
while read -r i k ver; do
	run secret get "$k" --version "$ver"
	if [ "$RC" != 0 ] || ! cmp -s "$OUT_FILE" "$T/rot/v$i"; then
		fail "write $i ($k version $ver) does not read back byte-identical" --run
		bad=$((bad + 1))
	fi
done <"$T/rot/log"
expect_eq "$bad" 0 "all $nw versions read back byte-identical"

describe "with the old key removed from the keyring, a fresh secretd serves every stored value"
grep -v "^$old_key " "$W/keyring" >"$T/kr-retired"
chmod 0400 "$T/kr-retired"
expect_eq "$(grep -c "^$old_key " "$T/kr-retired")" 0 "old key gone"
all_gets >"$T/all.req" || die "cannot list the stored versions"
nall=$(wc -l <"$T/all.req")
expect_true test "$nall" -gt "$nw"
alt_start "$T/kr-retired" || { cat "$T/alt.log"; die "second secretd did not start"; }
run_in_file "$T/all.req" "$SOCKPY" "$ALT" --hello "$W/admin.pub"
expect_rc 0
answers "$OUT_FILE" | tail -n +2 >"$T/all.alt"
run_in_file "$T/all.req" "$SOCKPY" "$SOCK" --hello "$W/admin.pub"
expect_rc 0
answers "$OUT_FILE" | tail -n +2 >"$T/all.shared"
expect_eq "$(wc -l <"$T/all.alt")" "$nall" "an answer per stored version"
expect_eq "$(grep -vc '^\[[^,]*,true,' "$T/all.alt")" 0 "every get ok"
expect_true cmp -s "$T/all.alt" "$T/all.shared"
describe "after retiring the old key the audit hash of a value is unchanged"
run_in '{"action":"secret.put","path":["crypto","audit","d"],"value":"same-value"}'$'\n' \
	"$SOCKPY" "$ALT" --hello "$W/admin.pub"
expect_rc 0
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .ok)" true "put through the second secretd"
expect_eq "$(ahash crypto/audit/d)" "$ha1" "same hash as before the retirement"
expect_eq "$(sql "SELECT key_id FROM secret_version WHERE node_id = sd_node_id('{crypto,audit,d}')")" "$new_key" "sealed under the new key"
alt_stop
expect_eq "$?" 0 "second secretd exit status"
expect_eq "$(grep -cE "$SD_SAN_RE" "$T/alt.log")" 0 "no sanitizer report from the second secretd"

# ------------------------------------------------------------ tampering
describe "tampered rows fail cleanly, are logged by node and version, and the daemon goes on"
expect_exit 0 run_in "value-a1" secret put crypto/tamper/a
expect_exit 0 run_in "value-a2" secret put crypto/tamper/a
expect_exit 0 run_in "value-b1" secret put crypto/tamper/b
expect_exit 0 run_in "still-fine" secret put crypto/tamper/ok
na=$(node_of crypto/tamper/a)
nb=$(node_of crypto/tamper/b)
kid=$(newest_key)
saved=$(sql "SELECT node_id, version, key_id, encode(nonce, 'hex'), encode(ciphertext, 'hex')
	FROM secret_version WHERE node_id IN ($na, $nb) ORDER BY node_id, version")
expect_eq "$(wc -l <<<"$saved")" 3 "three rows saved"
restore() {
	local n v k no ct q="BEGIN; DELETE FROM secret_version WHERE node_id IN ($na, $nb);"
	while IFS='|' read -r n v k no ct; do
		q+=" INSERT INTO secret_version (node_id, version, key_id, nonce, ciphertext, created_by)
		     VALUES ($n, $v, $k, decode('$no', 'hex'), decode('$ct', 'hex'), 'admin');"
	done <<<"$saved"
	sql "$q COMMIT;" || die "cannot restore the tampered rows"
}
# tampered WHAT NODE VERSION KEY GET-ARGS...: the get fails with internal,
# the log names the row and no value, the same session and the daemon go on.
tampered() {
	local what=$1 node=$2 ver=$3 key=$4 path=$5 args
	shift 4
	describe "tampering ($what): get fails, log names node $node version $ver"
	secretd_log_mark
	expect_fail 1 internal secret get "$@"
	expect_out ""
	expect_err "secret: internal: stored value cannot be decrypted (see the server log)"
	expect_contains "$(secretd_log_since)" "cannot open the value of node $node version $ver (key $key)"
	expect_lacks "$(secretd_log_since)" "value-" "log without values"
	args=$(jq -cn --arg p "$path" '{action: "secret.get", path: ($p | split("/"))}')
	[ "${2:-}" = --version ] && args=$(jq -c --argjson v "$3" '. + {version: $v}' <<<"$args")
	run_in "$args"$'\n{"action":"secret.get","path":["crypto","tamper","ok"]}\n' plain_ssh "$W/admin" json
	expect_rc 0
	expect_eq "$(jq -r '.error.code // .value' "$OUT_FILE" | tr '\n' ' ')" "internal still-fine " "same session serves the next get"
	expect_true kill -0 "$SHARED_PID"
	expect_exit 0 secret get crypto/tamper/ok
	expect_out_exact still-fine
}
# swap ciphertext and nonce of two secrets' rows
sql "UPDATE secret_version s SET nonce = o.nonce, ciphertext = o.ciphertext FROM secret_version o
     WHERE (s.node_id, s.version, o.node_id, o.version) IN (($na, 1, $nb, 1), ($nb, 1, $na, 1))" || die "swap"
tampered "swapped rows" "$na" 1 "$kid" crypto/tamper/a --version 1
tampered "swapped rows" "$nb" 1 "$kid" crypto/tamper/b
restore
describe "restored rows read back"
expect_exit 0 secret get crypto/tamper/a --version 1
expect_out_exact value-a1
expect_exit 0 secret get crypto/tamper/b
expect_out_exact value-b1
# one bit of the ciphertext, then one bit of the nonce
sql "UPDATE secret_version SET ciphertext = set_bit(ciphertext, 3, 1 - get_bit(ciphertext, 3))
     WHERE node_id = $na AND version = 2" || die "flip"
tampered "one ciphertext bit flipped" "$na" 2 "$kid" crypto/tamper/a
restore
sql "UPDATE secret_version SET nonce = set_bit(nonce, 77, 1 - get_bit(nonce, 77))
     WHERE node_id = $na AND version = 2" || die "flip"
tampered "one nonce bit flipped" "$na" 2 "$kid" crypto/tamper/a
restore
# key id: to the old key (still in the daemon's keyring) and to a missing one
sql "UPDATE secret_version SET key_id = $old_key WHERE node_id = $nb AND version = 1" || die "key id"
tampered "key id changed to another loaded key" "$nb" 1 "$old_key" crypto/tamper/b
restore
sql "UPDATE secret_version SET key_id = 9999 WHERE node_id = $nb AND version = 1" || die "key id"
tampered "key id changed to a missing key" "$nb" 1 9999 crypto/tamper/b
restore
# version numbers swapped: the old value must not come back as the current one
sql "BEGIN; UPDATE secret_version SET version = 1000 WHERE node_id = $na AND version = 1;
     UPDATE secret_version SET version = 1 WHERE node_id = $na AND version = 2;
     UPDATE secret_version SET version = 2 WHERE node_id = $na AND version = 1000; COMMIT" || die "version"
tampered "version numbers swapped" "$na" 2 "$kid" crypto/tamper/a
tampered "version numbers swapped" "$na" 1 "$kid" crypto/tamper/a --version 1
restore
describe "after restoring, every tampered secret reads back"
expect_exit 0 secret get crypto/tamper/a
expect_out_exact value-a2
expect_exit 0 secret get crypto/tamper/a --version 1
expect_out_exact value-a1
expect_exit 0 secret get crypto/tamper/b
expect_out_exact value-b1

# ------------------------------------------------------------ kill -9 rekey
describe "a rekey killed with -9 mid-way completes when run again"
run "$BIN/secretd" -c "$W/secretd.conf" keygen
expect_rc 0
k3=$(newest_key)
expect_eq "$k3" $((kid + 1)) "another key"
secretd_log_mark
kill -HUP "$SHARED_PID"
expect_true wait_for 10 log_has "keyring reloaded; sealing with key $k3"
total=$(sql "SELECT count(*) FROM secret_version WHERE ciphertext IS NOT NULL")
expect_true test "$total" -ge 3000
slow_on
"$BIN/secretd" -c "$W/secretd.conf" rekey 2>"$T/rekey1.err" &
rk=$!
expect_true wait_for 60 grep -q "re-sealed under key $k3" "$T/rekey1.err"
kill -KILL "$rk"
{ wait "$rk"; } 2>/dev/null    # (no "Killed" job notice)
expect_eq "$?" 137 "rekey killed"
slow_off
n3=$(sql "SELECT count(*) FROM secret_version WHERE ciphertext IS NOT NULL AND key_id = $k3")
expect_true test "$n3" -gt 0
expect_true test "$n3" -lt "$total"
expect_eq "$((n3 % 500))" 0 "only whole batches of 500 committed ($n3 re-sealed)"
describe "values stay readable between the two runs"
expect_exit 0 secret get crypto/bulk/b1 --version 1
expect_out_exact "bulk-$salt-1-1"
expect_exit 0 secret get crypto/bulk/b150 --version 20
expect_out_exact "bulk-$salt-150-20"
describe "the second rekey completes"
run "$BIN/secretd" -c "$W/secretd.conf" rekey
expect_rc 0
expect_err_match "^secretd: rekey: $((total - n3)) stored versions to re-seal under key $k3$"
expect_err_match "^secretd: rekey: done: $((total - n3)) re-sealed under key $k3 in "
expect_eq "$(sql "SELECT count(*) FROM secret_version WHERE ciphertext IS NOT NULL AND key_id <> $k3")" 0 "nothing under an old key"
describe "all 3000 bulk versions intact"
sed -e 's/"action":"secret.put"/"action":"secret.get"/' -e 's/,"value":"[^"]*"}$/}/' \
	"$T/bulk.req" |
	jq -c '. + {version: (.id | split("/")[1] | tonumber)}' >"$T/bulk.get"
RUN_TIMEOUT=300 run_in_file "$T/bulk.get" plain_ssh "$W/admin" json
expect_rc 0
jq -r '"\(.id) \(.value)"' "$OUT_FILE" >"$T/bulk.got"
jq -r '"\(.id) \(.value)"' "$T/bulk.req" >"$T/bulk.want"
expect_eq "$(wc -l <"$T/bulk.got")" 3000 "3000 answers"
expect_true cmp -s "$T/bulk.got" "$T/bulk.want"
describe "and every stored version still reads the same as before"
all_gets >"$T/all2.req"
run_in_file "$T/all.req" "$SOCKPY" "$SOCK" --hello "$W/admin.pub"
answers "$OUT_FILE" | tail -n +2 >"$T/all.after"
expect_true cmp -s "$T/all.after" "$T/all.shared"

done_testing

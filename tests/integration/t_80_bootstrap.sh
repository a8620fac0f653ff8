#!/bin/bash
# t_80_bootstrap.sh - the machine bootstrap journey (DESIGN §1, issue 6):
# enrolment tokens (happy path, reuse, expiry, revocation, name pattern,
# source CIDR, rate limit, re-install with and without allow_rekey), the
# enrol-only session, then what an enrolled host does at every boot:
# fetch into a directory (exact bytes, modes, owner, prune, an atomic
# switch watched by a concurrent reader), into an env file read back by
# sh, exec, template, and --wait for a server that comes up late.
#
# Everything lives below boot/ and in groups boot-*.  Enrolments go
# through tcpfwd.py from 127.x.y.1 and .2, so the CIDR checks are real and the
# failed attempts here have a rate-limit bucket of their own.
. "$(dirname "$0")/lib.sh"
test_init

cleanup() {
	[ -n "${RPID:-}" ] && : >"$T/stop"	# the switch test's reader ends of it
	[ -n "${MNT:-}" ] && umount "$MNT" 2>/dev/null
	[ -n "${SHM:-}" ] && rm -rf "$SHM"
	# the files after this one need secretd (restarted below)
	if [ -n "${RESTARTING:-}" ]; then
		env_load "$W"
		secretd_up >/dev/null 2>&1
	fi
}
at_exit cleanup

# start_fwd SOURCE: a forwarder to sshd from SOURCE (a helper: if it ends
# while the file runs, that is a failure naming it); its port in FWD_PORT.
start_fwd() {
	FWD_PORT=$(free_port) || return 1
	helper_start "fwd.$FWD_PORT" python3 "$SD_LIB_DIR/tcpfwd.py" --source "$1" "$FWD_PORT" "$SSH_PORT"
	printf '[127.0.0.1]:%s %s\n' "$FWD_PORT" "$(cut -d' ' -f1,2 "$W/ssh_host_ed25519_key.pub")" >>"$KH"
}
wait_listening() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ss -Hltn "sport = :$1")" ] && return 0
		sleep 0.05
	done
	return 1
}

# Names and client addresses of this run (the file can run again on the
# same environment: principals are new, rate-limit buckets fresh).
R=$(printf '%04x' $RANDOM)
N7=web7-$R N8=web8-$R N9=web9-$R NF=webf-$R NS=webs-$R NX=webx-$R
NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
SRC1=$NET.1 SRC2=$NET.2

KH=$T/known_hosts
cp "$W/known_hosts" "$KH"
export SECRET_KNOWN_HOSTS=$KH
start_fwd "$SRC1" || die "no forwarder"
P1=$FWD_PORT
wait_listening "$P1" || die "forwarder on $P1 did not start"
S1=secret@127.0.0.1:$P1

# as KEY ARGS...: the client with KEY, through the 127.0.80.1 forwarder
as() {
	local key=$1
	shift
	SECRET_SERVER=$S1 SECRET_IDENTITY=$key secret "$@"
}
fp_of() { ssh-keygen -lf "$1.pub" | awk '{print $2}'; }
# put PATH VALUE-FILE as admin
put_file() { secret put "$1" -f "$2" >/dev/null; }

run secret rm -r boot
run secret group create boot-web
run secret group create boot-db
printf 'hunter2' | secret put boot/web/env/db/password >/dev/null
printf 'db secret' | secret put boot/db/password >/dev/null
expect_exit 0 secret acl set boot/web boot-web read,discover
expect_exit 0 secret acl set boot/db boot-db read

# ----------------------------------------------------------------- tokens

describe "enrol-token create prints the token alone on stdout"
expect_exit 0 secret enrol-token create --group boot-web --name-pattern 'web*' --ttl 1h
expect_out_match '^se1_[A-Za-z0-9_-]{43}$'
expect_eq "$(wc -l <"$OUT_FILE")" 1 "one line"
TOK1=${OUT%$'\n'}
expect_exit 0 secret --json enrol-token list
expect_json '[.tokens[] | select(.name_pattern == "web*" and .state == "active")] | length > 0' true
expect_lacks "$OUT" "$TOK1" "token_list never shows a token"

describe "--json create answers token, token_id and expires_at"
expect_exit 0 secret --json enrol-token create --group boot-web --ttl 10m --uses 3
expect_json '.token | test("^se1_")' true
expect_json '.token_id | type' number
TOK3=$(jq -r .token "$OUT_FILE")

describe "enrol-token usage errors"
expect_exit 2 secret enrol-token create --ttl 1x
expect_exit 2 secret enrol-token create --uses 0
expect_exit 2 secret enrol-token revoke seven
expect_fail 1 bad_request secret enrol-token create --ttl 31d

# ---------------------------------------------------------------- enrol

describe "happy path: a new host key enrols with the token on stdin"
HK7=$(new_key web7-host) || die "ssh-keygen"
expect_exit 0 as "$HK7" --json whoami
expect_json .enrol_only true
expect_exit 0 run_in "$TOK1"$'\n' as "$HK7" enrol --name "$N7"
expect_out "enrolled $N7 ($(fp_of "$HK7"))"
expect_exit 0 as "$HK7" --json whoami
expect_json .principal "$N7"
expect_json '.groups | join(",")' boot-web
expect_exit 0 as "$HK7" get boot/web/env/db/password
expect_out_exact hunter2
expect_fail 4 permission_denied as "$HK7" get boot/db/password
row=$(sql "SELECT result FROM audit_log WHERE action = 'enrol' AND fingerprint = '$(fp_of "$HK7")' ORDER BY id LIMIT 1")
expect_eq "$row" ok "the enrolment is audited"
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE detail::text LIKE '%se1_%'")" 0 "no token in the audit trail"

describe "enrolling again with a key that already is NAME spends nothing"
FP7=$(fp_of "$HK7")
enrol_rows() { sql "SELECT action, result, error_code, principal FROM audit_log WHERE action = 'enrol' AND fingerprint = '$FP7' ORDER BY id"; }
expect_exit 0 run_in "$TOK1"$'\n' as "$HK7" enrol --name "$N7"
expect_out "already enrolled as $N7"
# every attempt is an audit row, the repeated one too: the code the
# server answers an enrol from a known key with
expect_eq "$(enrol_rows)" "enrol|ok||
enrol|error|bad_request|$N7" "the repeated enrolment is audited (bad_request, as $N7)"
expect_fail 1 bad_request run_in "$TOK3"$'\n' as "$HK7" enrol --name webz-$R
expect_err_contains "already belongs to principal $N7"
expect_eq "$(enrol_rows | sed -n 3p)" "enrol|error|bad_request|$N7" "so is an enrolment under another name"

describe "token from --token-file and from \$SECRET_ENROL_TOKEN"
HK8=$(new_key web8-host) || die "ssh-keygen"
printf '  %s  \n' "$TOK3" >"$T/token"
expect_exit 0 as "$HK8" enrol --name "$N8" --token-file "$T/token"
expect_out "enrolled $N8 ($(fp_of "$HK8"))"
HKF=$(new_key webf-host) || die "ssh-keygen"
expect_exit 0 env SECRET_ENROL_TOKEN="$TOK3" SECRET_SERVER="$S1" SECRET_IDENTITY="$HKF" secret enrol --name "$NF"
expect_out "enrolled $NF ($(fp_of "$HKF"))"

describe "a token is never taken from anywhere but file, env or stdin; bad input is refused locally"
HKX=$(new_key webx-host) || die "ssh-keygen"
expect_fail 1 bad_request as "$HKX" enrol --name "$NX"
expect_err_contains "no enrolment token in stdin"
expect_fail 1 bad_request run_in "not-a-token"$'\n' as "$HKX" enrol --name "$NX"
expect_err_lacks "not-a-token"
expect_fail 1 bad_request run_in "$TOK3"$'\n'"$TOK3"$'\n' as "$HKX" enrol --name "$NX"
expect_exit 2 run_in "$TOK3" as "$HKX" enrol
expect_exit 2 run_in "$TOK3" as "$HKX" enrol --name Web_X
expect_exit 2 as "$HKX" enrol --name "$NX" --token "$TOK3"

describe "reuse beyond the count: permission_denied"
expect_fail 4 permission_denied run_in "$TOK1"$'\n' as "$HKX" enrol --name "$N9"
expect_exit 0 as "$HKX" --json whoami
expect_json .enrol_only true

describe "an expired token: permission_denied"
TOKE=$(secret enrol-token create --group boot-web --ttl 1s) || fail "create"
sleep 2
expect_fail 4 permission_denied run_in "$TOKE"$'\n' as "$HKX" enrol --name "$N9"
expect_exit 0 secret --json enrol-token list
expect_json '[.tokens[] | select(.state == "expired")] | length > 0' true

describe "a revoked token: permission_denied"
expect_exit 0 secret --json enrol-token create --group boot-web --ttl 1h
TOKR=$(jq -r .token "$OUT_FILE")
TOKR_ID=$(jq -r .token_id "$OUT_FILE")
expect_exit 0 secret enrol-token revoke "$TOKR_ID"
expect_exit 0 secret --json enrol-token list
expect_json ".tokens[] | select(.token_id == $TOKR_ID) | .state" revoked
expect_fail 4 permission_denied run_in "$TOKR"$'\n' as "$HKX" enrol --name "$N9"

describe "a name outside the pattern: permission_denied, the token stays usable"
expect_exit 0 secret --json enrol-token create --group boot-web --name-pattern 'web*' --ttl 1h
TOKP=$(jq -r .token "$OUT_FILE")
TOKP_ID=$(jq -r .token_id "$OUT_FILE")
expect_fail 4 permission_denied run_in "$TOKP"$'\n' as "$HKX" enrol --name "db1-$R"
expect_exit 0 secret --json enrol-token list
expect_json ".tokens[] | select(.token_id == $TOKP_ID) | .uses_left" 1

describe "source CIDRs: the client address seen through sshd counts"
expect_exit 0 secret --json enrol-token create --group boot-web --ttl 1h --cidr 192.0.2.0/24 --cidr 10.0.0.0/8
TOKC=$(jq -r .token "$OUT_FILE")
expect_fail 4 permission_denied run_in "$TOKC"$'\n' as "$HKX" enrol --name "$N9"
TOKC2=$(secret enrol-token create --group boot-web --ttl 1h --cidr "$NET.0/24") || fail "create"
HK9=$(new_key web9-host) || die "ssh-keygen"
expect_exit 0 run_in "$TOKC2"$'\n' as "$HK9" enrol --name "$N9"
expect_out "enrolled $N9 ($(fp_of "$HK9"))"

describe "a token's groups: a group deleted since is left out of the list and of the enrolment"
expect_exit 0 secret group create "boot-gone-$R"
expect_exit 0 secret --json enrol-token create --group boot-web --group "boot-gone-$R" --ttl 1h
TOKG=$(jq -r .token "$OUT_FILE")
TOKG_ID=$(jq -r .token_id "$OUT_FILE")
expect_exit 0 secret --json enrol-token list
expect_json ".tokens[] | select(.token_id == $TOKG_ID) | .groups | join(\",\")" "boot-gone-$R,boot-web"
expect_exit 0 secret group delete "boot-gone-$R"
expect_exit 0 secret --json enrol-token list
expect_json ".tokens[] | select(.token_id == $TOKG_ID) | .groups | join(\",\")" boot-web
HKG=$(new_key webg-host) || die "ssh-keygen"
expect_exit 0 run_in "$TOKG"$'\n' as "$HKG" enrol --name "webg-$R"
expect_exit 0 as "$HKG" --json whoami
expect_json '.groups | join(",")' boot-web

describe "an enrol-only session can run nothing but whoami and enrol (exit 3)"
expect_fail 3 unauthenticated as "$HKX" get boot/web/env/db/password
expect_fail 3 unauthenticated as "$HKX" fetch boot/web/env --env-file "$T/never.env"
expect_true test ! -e "$T/never.env"
expect_fail 3 unauthenticated as "$HKX" exec --env X=boot/web/env/db/password -- true
expect_fail 3 unauthenticated as "$HKX" enrol-token create --ttl 1h
expect_fail 3 unauthenticated as "$HKX" enrol-token list

describe "re-install without allow_rekey: the name is taken"
HK7B=$(new_key web7-reinstall) || die "ssh-keygen"
TOKN=$(secret enrol-token create --group boot-web --name-pattern 'web*' --ttl 1h) || fail "create"
expect_fail 1 exists run_in "$TOKN"$'\n' as "$HK7B" enrol --name "$N7"
expect_exit 0 as "$HK7" --json whoami
expect_json .principal "$N7"

describe "re-install with allow_rekey: the new key takes over, the old one stops working"
TOKK=$(secret enrol-token create --group boot-web --name-pattern 'web*' --ttl 1h --allow-rekey) || fail "create"
expect_exit 0 run_in "$TOKK"$'\n' as "$HK7B" enrol --name "$N7"
expect_out "enrolled $N7 ($(fp_of "$HK7B")), replacing its previous keys"
expect_exit 0 as "$HK7B" --json whoami
expect_json .principal "$N7"
expect_exit 0 as "$HK7B" get boot/web/env/db/password
expect_out_exact hunter2
expect_exit 0 as "$HK7" --json whoami
expect_json .enrol_only true
expect_fail 3 unauthenticated as "$HK7" get boot/web/env/db/password
expect_exit 0 secret --json principal show "$N7"
expect_json '[.keys[].fingerprint] | join(",")' "$(fp_of "$HK7B")"

describe "failed attempts from one address are rate limited"
start_fwd "$SRC2" || die "no forwarder"
P2=$FWD_PORT
wait_listening "$P2" || die "forwarder on $P2 did not start"
BOGUS=se1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
HKR=$(new_key rate-host) || die "ssh-keygen"
for i in 1 2 3 4 5 6 7 8 9 10; do
	run_in "$BOGUS"$'\n' env SECRET_SERVER=secret@127.0.0.1:$P2 SECRET_IDENTITY="$HKR" secret enrol --name rate1
done
expect_rc 4
expect_fail 1 rate_limited run_in "$BOGUS"$'\n' env SECRET_SERVER=secret@127.0.0.1:$P2 SECRET_IDENTITY="$HKR" secret enrol --name rate1

describe "the rate limit is kept in the database: a secretd restart does not reset it"
expect_eq "$(sql "SELECT failures FROM enrol_attempt WHERE bucket = '$SRC2'")" 10 "failures counted for $SRC2 (a refused attempt is not one)"
RESTARTING=1
env_load "$W"
secretd_down
secretd_up >/dev/null 2>&1 || die "secretd did not come back"
RESTARTING=
expect_fail 1 rate_limited run_in "$BOGUS"$'\n' env SECRET_SERVER=secret@127.0.0.1:$P2 SECRET_IDENTITY="$HKR" secret enrol --name rate1
expect_eq "$(sql "SELECT failures FROM enrol_attempt WHERE bucket = '$SRC2'")" 10 "still 10"

describe "enrol through plain ssh: ssh ... enrol NAME, token on stdin"
HKS=$(new_key webs-host) || die "ssh-keygen"
TOKS=$(secret enrol-token create --group boot-web --ttl 1h) || fail "create"
expect_exit 0 run_in "$TOKS"$'\n' plain_ssh "$HKS" enrol "$NS"
expect_exit 0 secret_as "$HKS" --json whoami
expect_json .principal "$NS"

# ------------------------------------------------------------ fetch --dest

# The host that fetches from here on: webf (group boot-web).
F() { SECRET_IDENTITY=$HKF secret "$@"; }

printf 'one' >"$T/v1"
printf 'two\n' >"$T/v2"
printf 'three' >"$T/v3"
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 3)' >"$T/blob"
put_file boot/web/files/one "$T/v1"
put_file boot/web/files/two "$T/v2"
put_file boot/web/files/sub/three "$T/v3"
put_file boot/web/files/blob "$T/blob"
printf 'not a file' | secret put boot/web/files >/dev/null   # a value AT the prefix

describe "fetch --dest: one file per secret below the prefix, exact bytes, 0400/0700"
D=$T/out
expect_exit 0 F fetch boot/web/files --dest "$D"
expect_err_contains "is not on tmpfs or ramfs"
expect_eq "$(cd "$D" && find . | LC_ALL=C sort | tr '\n' ' ')" ". ./blob ./one ./sub ./sub/three ./two " "the tree"
expect_true cmp -s "$D/blob" "$T/blob"
expect_true cmp -s "$D/one" "$T/v1"
expect_true cmp -s "$D/two" "$T/v2"
expect_true cmp -s "$D/sub/three" "$T/v3"
expect_mode 400 "$D/one"
expect_mode 400 "$D/sub/three"
expect_mode 700 "$D"
expect_mode 700 "$D/sub"
expect_eq "$(ls -a "$T" | grep -c 'out\.new-')" 0 "no temporary directory left"

describe "fetch --mode and --owner"
expect_exit 0 F fetch boot/web/files --dest "$T/out2" --mode 0440 --owner nobody:nogroup
expect_mode 440 "$T/out2/one"
expect_mode 750 "$T/out2"
expect_mode 750 "$T/out2/sub"
expect_eq "$(stat -c %U:%G "$T/out2/one" "$T/out2/sub" "$T/out2" | sort -u)" nobody:nogroup "owner"
expect_exit 0 F fetch boot/web/files --dest "$T/out3" --mode 644
expect_mode 644 "$T/out3/one"
expect_mode 755 "$T/out3/sub"
expect_exit 2 F fetch boot/web/files --dest "$T/out4" --mode 4755
expect_exit 2 F fetch boot/web/files --dest "$T/out4" --owner no-such-user-here
expect_exit 2 F fetch boot/web/files
expect_exit 2 F fetch boot/web/files --dest "$T/out4" --env-file "$T/x.env"
expect_exit 2 F fetch boot/web/files --env-file "$T/x.env" --prune

describe "without --prune, files of secrets that are gone (and local files) stay"
secret rm boot/web/files/two >/dev/null
printf 'local' >"$D/local.txt"
printf 'changed' | secret put boot/web/files/one >/dev/null
expect_exit 0 F fetch boot/web/files --dest "$D"
expect_eq "$(cat "$D/one")" changed "updated file"
expect_true cmp -s "$D/two" "$T/v2"
expect_eq "$(cat "$D/local.txt")" local "local file kept"

describe "with --prune, they are dropped"
expect_exit 0 F fetch boot/web/files --dest "$D" --prune
expect_eq "$(cd "$D" && find . | LC_ALL=C sort | tr '\n' ' ')" ". ./blob ./one ./sub ./sub/three " "the tree after --prune"

describe "a forbidden prefix: permission_denied, nothing changes"
before=$(cd "$D" && find . -type f -exec md5sum {} + | sort)
expect_fail 4 permission_denied F fetch boot/db --dest "$D"
expect_err_contains "boot/db"
expect_eq "$(cd "$D" && find . -type f -exec md5sum {} + | sort)" "$before" "DIR unchanged"

describe "names that cannot be file names, and a secret that is a file and a directory"
printf '{"action":"secret.put","path":["boot","web","odd","a/b"],"value":"x"}\n' | plain_ssh "$W/admin" json >/dev/null
expect_fail 1 bad_request F fetch boot/web/odd --dest "$T/odd"
expect_err_contains '"a/b"'
expect_true test ! -e "$T/odd"
printf 'x' | secret put boot/web/conf/x >/dev/null
printf 'y' | secret put boot/web/conf/x/y >/dev/null
expect_fail 1 bad_request F fetch boot/web/conf --dest "$T/conf"
expect_err_contains "boot/web/conf/x holds a value and has secrets below it"
expect_true test ! -e "$T/conf"
expect_exit 1 F fetch boot/web/files boot/web/files --dest "$T/twice"
expect_err_contains "would both be the file"

describe "DIR must not be a symbolic link"
ln -s "$D" "$T/link"
expect_fail 1 bad_request F fetch boot/web/files --dest "$T/link"
expect_true test -L "$T/link"

describe "a signal while the new set is written waits for the switch: no copy is left beside DIR"
# strace holds the fetch in its first fsync (the new tree's first file,
# once all are written) for 3 s; SIGTERM arrives then.
rm -rf "$T/sig"
F fetch boot/web/files --dest "$T/sig" --prune 2>/dev/null || fail "first fetch into $T/sig"
printf 'after the signal' | secret put boot/web/files/one >/dev/null
strace -f -qq -o /dev/null -e trace=fsync -e inject=fsync:delay_enter=3000000:when=1 \
	env SECRET_IDENTITY="$HKF" secret fetch boot/web/files --dest "$T/sig" --prune 2>"$T/sig.err" &
tracer=$!
for ((i = 0; i < 200; i++)); do
	compgen -G "$T/sig.new-*" >/dev/null && break
	sleep 0.05
done
expect_ne "$(compgen -G "$T/sig.new-*" || true)" "" "the new tree is being written"
victim=$(pgrep -P "$tracer" -x secret || true)
expect_true test -n "$victim"
kill -TERM "$victim"
st=0
wait "$tracer" || st=$?
expect_eq "$st" 143 "fetch ended of SIGTERM (128 + 15)"
expect_eq "$(compgen -G "$T/sig.new-*" || true)" "" "no temporary directory left"
expect_eq "$(cat "$T/sig/one")" "after the signal" "the new set was switched in whole"
expect_eq "$(cd "$T/sig" && find . | LC_ALL=C sort | tr '\n' ' ')" ". ./blob ./one ./sub ./sub/three " "the whole new set"

describe "every file of a new set is synced before the switch, beyond the 64 held open at once"
for i in $(seq -w 0 69); do
	printf '{"action":"secret.put","path":["boot","web","many","f%s"],"value":"v%s"}\n' "$i" "$i"
done >"$T/many.ndjson"
expect_exit 0 run_in_file "$T/many.ndjson" "$SD_LIB_DIR/sock.py" "$RUNDIR/secretd.sock" --hello "$W/admin.pub"
# (LeakSanitizer cannot run under ptrace: a sanitizer build skips it here.)
expect_exit 0 strace -f -qq -y -o "$T/many.trace" -e trace=fsync,rename,renameat,renameat2 \
	env SECRET_IDENTITY="$HKF" ASAN_OPTIONS=detect_leaks=0 secret fetch boot/web/many --dest "$T/many"
expect_eq "$(cat "$T/many/f00")$(cat "$T/many/f69")" "v00v69" "the new set is in place"
# The files synced before the first rename (the switch), each once.
synced=$(awk '/^[0-9]+ +rename/ { exit } match($0, /fsync\([0-9]+<[^>]*\/many\.new-[^/>]*\/f[0-9]+>/) {
	f = substr($0, RSTART, RLENGTH); sub(/.*\//, "", f); sub(/>$/, "", f); print f }' "$T/many.trace" | LC_ALL=C sort -u | wc -l)
expect_eq "$synced" 70 "all 70 files fsynced before the switch"
expect_true grep -q 'rename.*many\.new-' "$T/many.trace"

describe "a failed fsync leaves the previous set whole and nothing beside it"
printf 'changed' | secret put boot/web/many/f00 >/dev/null
expect_fail 1 bad_request strace -f -qq -o /dev/null -e trace=fsync -e inject=fsync:error=EIO:when=3 \
	env SECRET_IDENTITY="$HKF" ASAN_OPTIONS=detect_leaks=0 secret fetch boot/web/many --dest "$T/many"
expect_err_contains "cannot write $T/many/f02: Input/output error; $T/many is unchanged"
expect_eq "$(cat "$T/many/f00")" v00 "the previous set stays"
expect_eq "$(compgen -G "$T/many.new-*" || true)" "" "no temporary directory left"
expect_exit 0 F fetch boot/web/many --dest "$T/many"
expect_eq "$(cat "$T/many/f00")" changed "the next fetch switches"

describe "temporaries a killed fetch left are removed by the next one; fresh, locked and others stay"
mkdir -m 700 "$D.new-abc123" "$D.old-zz9zz9" "$D.new-fresh1" "$D.new-lock01" "$D.new-ab" "$T/other.new-abc123"
printf 'an old copy' >"$D.new-abc123/one"
ln -s "$D" "$D.new-link01"
touch -d '2 minutes ago' "$D.new-abc123" "$D.old-zz9zz9" "$D.new-lock01" "$D.new-ab" "$T/other.new-abc123"
touch -h -d '2 minutes ago' "$D.new-link01"
helper_start holder bash -c 'exec 9<"$1" && flock -x 9 && : >"$2" && exec sleep 60' holder "$D.new-lock01" "$T/locked"
for ((i = 0; i < 100; i++)); do [ -e "$T/locked" ] && break; sleep 0.05; done
expect_true test -e "$T/locked"
expect_exit 0 F fetch boot/web/files --dest "$D"
expect_err_contains "removed out.new-abc123, left by an interrupted write"
expect_err_contains "removed out.old-zz9zz9, left by an interrupted write"
expect_true test ! -e "$D.new-abc123"
expect_true test ! -e "$D.old-zz9zz9"
expect_true test -d "$D.new-fresh1"		# changed within the minute
expect_true test -d "$D.new-lock01"		# a writer holds it
expect_true test -d "$D.new-ab"		# not a name fetch makes
expect_true test -d "$T/other.new-abc123"	# another DIR's
expect_true test -L "$D.new-link01"		# not a directory
expect_true test -d "$D"
helper_stop holder
rm -rf "$D.new-fresh1" "$D.new-lock01" "$D.new-ab" "$D.new-link01" "$T/other.new-abc123" "$T/locked"

describe "an empty prefix gives an empty directory, with a warning"
expect_exit 0 F fetch boot/web/nothing-here --dest "$T/empty"
expect_err_contains "no secret you may read below boot/web/nothing-here"
expect_eq "$(ls -A "$T/empty" | wc -l)" 0 "empty"

describe "on tmpfs: no warning"
SHM=$(mktemp -d /dev/shm/secretd-t80.XXXXXX)
expect_exit 0 F fetch boot/web/files --dest "$SHM/files"
expect_err ""

describe "DIR a tmpfs is mounted on: refused up front, saying to mount the parent; nothing written"
MNT=$T/mnt
mkdir -p "$MNT"
if mount -t tmpfs -o size=1m,mode=0700 secretd-t80 "$MNT" 2>"$T/mount.err"; then
	: >"$MNT/kept"
	expect_fail 1 bad_request F fetch boot/web/files --dest "$MNT"
	expect_err_contains "$MNT is a mount point"
	expect_err_contains "mount the tmpfs on its parent (e.g. /run/secrets) and fetch into a directory below it"
	expect_eq "$(ls -A "$MNT")" "kept" "DIR unchanged"
	expect_eq "$(ls -A "$T" | grep -c '^mnt\.')" 0 "nothing built beside DIR"
	# a bind mount of a directory of the same file system too
	mkdir -p "$MNT/src" "$MNT/bound"
	if mount --bind "$MNT/src" "$MNT/bound" 2>>"$T/mount.err"; then
		expect_fail 1 bad_request F fetch boot/web/files --dest "$MNT/bound"
		expect_err_contains "$MNT/bound is a mount point"
		umount "$MNT/bound"
	else
		skip_case "no bind mount here: $(cat "$T/mount.err")"
	fi
	expect_exit 0 F fetch boot/web/files --dest "$MNT/files"
	expect_true cmp -s "$MNT/files/sub/three" "$T/v3"
	umount "$MNT" && MNT=
else
	skip_case "cannot mount a tmpfs here: $(cat "$T/mount.err")"
	MNT=
fi

describe "the switch is atomic: a concurrent reader sees one whole set at a time"
n=20
pad=$(head -c 6000 /dev/zero | tr '\0' x)
{
	for set in A B; do
		for ((i = 1; i <= n; i++)); do
			printf '{"action":"secret.put","path":["boot","web","swap%s","f%02d"],"value":"%s:%02d:%s"}\n' \
				"$set" "$i" "$set" "$i" "$pad"
		done
	done
} | plain_ssh "$W/admin" json >"$T/swap.put"
expect_eq "$(grep -c '"ok":true' "$T/swap.put")" $((2 * n)) "40 puts"
cat >"$T/reader.py" <<'EOF'
import os, sys
d, stop, n, pad = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
want = {s: {"f%02d" % i: ("%s:%02d:%s" % (s, i, pad)).encode() for i in range(1, n + 1)} for s in "AB"}
st = dict(whole_A=0, whole_B=0, vanishing=0, missing_dir=0, mixed=0, bad=0)
while not os.path.exists(stop):
    try:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        st["missing_dir"] += 1
        continue
    labels, gone = set(), False
    try:
        names = os.listdir(fd)
        for name in names:
            try:
                f = os.open(name, os.O_RDONLY, dir_fd=fd)
            except FileNotFoundError:
                gone = True      # the old set being removed under a reader
                continue
            data = b""
            while True:
                c = os.read(f, 65536)
                if not c:
                    break
                data += c
            os.close(f)
            lab = [s for s in "AB" if want[s].get(name) == data]
            if not lab:
                st["bad"] += 1
                print("BAD %s: %r" % (name, data[:40]), file=sys.stderr)
            labels.update(lab)
    finally:
        os.close(fd)
    if len(labels) > 1:
        st["mixed"] += 1
        print("MIXED %s" % sorted(labels), file=sys.stderr)
    elif gone or len(names) != n:
        st["vanishing"] += 1
    elif labels:
        st["whole_" + labels.pop()] += 1
print(" ".join("%s=%d" % kv for kv in sorted(st.items())))
EOF
SW=$SHM/swap
expect_exit 0 F fetch boot/web/swapA --dest "$SW" --prune
python3 "$T/reader.py" "$SW" "$T/stop" "$n" "$pad" >"$T/reader.out" 2>"$T/reader.err" &
RPID=$!
for ((k = 0; k < 6; k++)); do
	F fetch boot/web/swapB --dest "$SW" --prune 2>>"$T/writer.err" || fail "fetch B"
	F fetch boot/web/swapA --dest "$SW" --prune 2>>"$T/writer.err" || fail "fetch A"
done
touch "$T/stop"
wait "$RPID"
RPID=
r=$(cat "$T/reader.out")
[ -n "${VERBOSE:-}" ] && echo "    reader: $r"
expect_match "$r" 'mixed=0' "no reader saw a mix of sets"
expect_match "$r" 'bad=0' "no reader saw a partial or unknown file"
expect_match "$r" 'missing_dir=0' "DIR was never missing"
expect_match "$r" 'whole_A=[1-9]' "whole old sets seen"
expect_match "$r" 'whole_B=[1-9]' "whole new sets seen"
expect_eq "$(ls -A "$SHM" | grep -c 'swap\.')" 0 "no temporary directories left"

# ---------------------------------------------------------- fetch --env-file

printf 'a b $HOME "dq" `date` back\\slash ;&|<>*?[x] ~ #no\tTAB' | secret put boot/web/env/api-key >/dev/null
printf 'héllo wörld' | secret put boot/web/env/utf8 >/dev/null
printf '1' | secret put boot/web/env/1st >/dev/null
printf '' | secret put boot/web/env/empty >/dev/null
printf 'x' | secret put boot/web/env/sub.dir/my-var >/dev/null

describe "fetch --env-file: NAME='value' lines that sh reads back exactly"
EF=$T/app.env
# a temporary a killed write left: removed; a fresh one: kept
printf 'API_KEY=old\n' >"$T/.app.env.tmp-abc123"
printf 'API_KEY=old\n' >"$T/.app.env.tmp-fresh1"
touch -d '2 minutes ago' "$T/.app.env.tmp-abc123"
expect_exit 0 F fetch boot/web/env --env-file "$EF"
expect_mode 600 "$EF"
expect_true test ! -e "$T/.app.env.tmp-abc123"
expect_true test -e "$T/.app.env.tmp-fresh1"
rm -f "$T/.app.env.tmp-fresh1"
cat >"$T/show.sh" <<'EOF'
set -a
. "$1"
printf '%s|' "$API_KEY" "$DB_PASSWORD" "$UTF8" "$_1ST" "$EMPTY" "$SUB_DIR_MY_VAR"
EOF
run env -i PATH=/usr/bin:/bin HOME=/nonexistent sh "$T/show.sh" "$EF"
expect_rc 0
expect_out_exact "$(printf 'a b $HOME "dq" `date` back\\slash ;&|<>*?[x] ~ #no\tTAB|hunter2|héllo wörld|1||x|')"
expect_eq "$(cut -d= -f1 "$EF" | tr '\n' ' ')" "API_KEY DB_PASSWORD EMPTY SUB_DIR_MY_VAR UTF8 _1ST " "names, sorted"
expect_exit 0 F fetch boot/web/env --env-file "$T/app2.env" --mode 0640
expect_mode 640 "$T/app2.env"

describe "a value an env file cannot hold: error naming it, nothing written"
printf "it's" | secret put boot/web/bad/quote >/dev/null
expect_fail 1 bad_request F fetch boot/web/bad --env-file "$T/bad.env"
expect_err_contains "boot/web/bad/quote"
expect_true test ! -e "$T/bad.env"
secret rm boot/web/bad/quote >/dev/null
printf 'line1\nline2' | secret put boot/web/bad/newline >/dev/null
cp "$EF" "$T/bad.env"
expect_fail 1 bad_request F fetch boot/web/bad --env-file "$T/bad.env"
expect_err_contains "boot/web/bad/newline"
expect_true cmp -s "$EF" "$T/bad.env"
expect_fail 1 bad_request F fetch boot/web/files --env-file "$T/bin.env"
expect_err_contains "boot/web/files/blob"
expect_true test ! -e "$T/bin.env"

describe "two secrets with one variable name: error naming both"
printf 'a' | secret put boot/web/clash/db-pw >/dev/null
printf 'b' | secret put boot/web/clash/db_pw >/dev/null
expect_fail 1 bad_request F fetch boot/web/clash --env-file "$T/clash.env"
expect_err_contains "boot/web/clash/db-pw and boot/web/clash/db_pw would both be the variable DB_PW"
expect_true test ! -e "$T/clash.env"

# -------------------------------------------------------------------- exec

describe "exec: the command sees exactly the variables asked for"
# (the same environment but for the variables asked for; "_" is bash's)
SECRET_IDENTITY=$HKF env | grep -v '^_=' | LC_ALL=C sort >"$T/env.before"
run F exec --env DBPW=boot/web/env/db/password --prefix boot/web/env -- env
expect_rc 0
grep -v '^_=' "$OUT_FILE" | LC_ALL=C sort >"$T/env.after"
LC_ALL=C comm -13 "$T/env.before" "$T/env.after" >"$T/env.added"
expect_eq "$(cut -d= -f1 "$T/env.added" | tr '\n' ' ')" "API_KEY DBPW DB_PASSWORD EMPTY SUB_DIR_MY_VAR UTF8 _1ST " "added variables"
expect_eq "$(grep '^DBPW=' "$T/env.added")" "DBPW=hunter2" "DBPW"
expect_eq "$(grep '^DB_PASSWORD=' "$T/env.added")" "DB_PASSWORD=hunter2" "DB_PASSWORD"
expect_eq "$(LC_ALL=C comm -23 "$T/env.before" "$T/env.after" | wc -l)" 0 "nothing else changed"

describe "exec: exact bytes (newlines too), explicit --env wins, umask restored"
printf 'line1\nline2\n' | secret put boot/web/multi/text >/dev/null
run F exec --env V=boot/web/multi/text -- sh -c 'printf %s "$V"'
expect_out_exact $'line1\nline2\n'
run F exec --prefix boot/web/env --env DB_PASSWORD=boot/web/multi/text -- sh -c 'printf %s "$DB_PASSWORD"'
expect_out_exact $'line1\nline2\n'
run sh -c 'umask 022; SECRET_IDENTITY=$1 secret exec --env V=boot/web/env/db/password -- sh -c umask' sh "$HKF"
expect_out 0022

describe "exec: a missing or forbidden path, or a NUL byte: CMD does not run"
expect_fail 5 not_found F exec --env V=boot/web/env/nope -- touch "$T/ran"
expect_err_contains "boot/web/env/nope"
expect_fail 4 permission_denied F exec --env V=boot/db/password -- touch "$T/ran"
expect_fail 1 bad_request F exec --env V=boot/web/files/blob -- touch "$T/ran"
expect_err_contains "boot/web/files/blob"
expect_true test ! -e "$T/ran"
expect_exit 2 F exec -- true
expect_exit 2 F exec --env 1X=boot/web/env/db/password -- true
expect_exit 2 F exec --env NOEQUALS -- true
expect_exit 127 F exec --env V=boot/web/env/db/password -- /nonexistent/cmd

# ---------------------------------------------------------------- template

describe "template: {{ secret \"PATH\" }} replaced by the exact value"
printf 'db = {{ secret "boot/web/env/db/password" }}\nkey={{secret   "boot/web/env/api-key"}};again={{\n  secret "boot/web/env/db/password"\n}}\nlit={{ "{{" }} }} {not}\n' >"$T/in.tmpl"
expect_exit 0 F template "$T/in.tmpl" "$T/out.conf"
expect_mode 600 "$T/out.conf"
printf 'db = hunter2\nkey=a b $HOME "dq" `date` back\\slash ;&|<>*?[x] ~ #no\tTAB;again=hunter2\nlit={{ }} {not}\n' >"$T/want.conf"
expect_true cmp -s "$T/out.conf" "$T/want.conf"
run F template "$T/in.tmpl"
expect_out_file "$T/want.conf"
run_in_file "$T/in.tmpl" F template - -
expect_out_file "$T/want.conf"
expect_exit 0 F template "$T/in.tmpl" "$T/out2.conf" --mode 0640
expect_mode 640 "$T/out2.conf"
printf 'bin:{{ secret "boot/web/files/blob" }}:end' >"$T/bin.tmpl"
expect_exit 0 F template "$T/bin.tmpl" "$T/bin.out"
{ printf 'bin:'; cat "$T/blob"; printf ':end'; } >"$T/bin.want"
expect_true cmp -s "$T/bin.out" "$T/bin.want"

describe "template: anything else inside {{ }} is an error at its line and column"
printf 'ok\nx {{ sekret "a" }}\n' >"$T/bad.tmpl"
expect_fail 1 bad_request F template "$T/bad.tmpl" "$T/bad.out"
expect_err_contains "$T/bad.tmpl:2:6:"
expect_true test ! -e "$T/bad.out"
printf 'a {{ secret "boot/web/env/db/password" ' >"$T/bad2.tmpl"
expect_fail 1 bad_request F template "$T/bad2.tmpl"
expect_err_contains "bad2.tmpl:1:"
expect_out ""

describe "template: a missing or forbidden path names it; nothing is written"
printf 'keep me' >"$T/keep.out"
printf '{{ secret "boot/web/env/db/password" }} {{ secret "boot/web/env/nope" }}' >"$T/miss.tmpl"
expect_fail 5 not_found F template "$T/miss.tmpl" "$T/keep.out"
expect_err_contains "boot/web/env/nope"
expect_eq "$(cat "$T/keep.out")" "keep me" "OUT unchanged"
printf '{{ secret "boot/db/password" }}' >"$T/forb.tmpl"
expect_fail 4 permission_denied F template "$T/forb.tmpl"
expect_out ""

# -------------------------------------------------------------------- --wait

describe "without --wait an unreachable server fails at once"
PW=$(free_port) || die "no port"
printf '[127.0.0.1]:%s %s\n' "$PW" "$(cut -d' ' -f1,2 "$W/ssh_host_ed25519_key.pub")" >>"$KH"
expect_fail 3 unavailable env SECRET_SERVER=secret@127.0.0.1:$PW SECRET_IDENTITY="$HKF" secret fetch boot/web/env --env-file "$T/w0.env"

describe "--wait: retries until the server comes up"
helper_start fwd.wait python3 "$SD_LIB_DIR/tcpfwd.py" --delay 2 "$PW" "$SSH_PORT"
t0=$SECONDS
expect_exit 0 env SECRET_SERVER=secret@127.0.0.1:$PW SECRET_IDENTITY="$HKF" secret fetch boot/web/env --env-file "$T/w1.env" --wait 30s
expect_err_contains "retrying in"
expect_true test -s "$T/w1.env"
expect_true test $((SECONDS - t0)) -ge 1

describe "--wait gives up after DURATION with one error"
PX=$(free_port) || die "no port"
t0=$SECONDS
expect_exit 3 env SECRET_SERVER=secret@127.0.0.1:$PX SECRET_IDENTITY="$HKF" secret template "$T/in.tmpl" --wait 2s
expect_match "$(tail -n 1 "$ERR_FILE")" '^secret: unavailable: cannot connect to' "the last line is the error"
expect_eq "$(grep -c '^secret: unavailable' "$ERR_FILE")" 1 "one error line"
expect_match "$(head -n 1 "$ERR_FILE")" '^secret: warning: .*; retrying in' "the others are warnings"
expect_out ""
expect_true test $((SECONDS - t0)) -ge 2
expect_true test $((SECONDS - t0)) -lt 15

describe "--wait does not retry an answer"
t0=$SECONDS
expect_fail 4 permission_denied F fetch boot/db --dest "$T/w2" --wait 30s
expect_err_lacks "retrying"
expect_true test $((SECONDS - t0)) -lt 10
expect_fail 3 unauthenticated as "$HKX" exec --env X=boot/web/env/db/password --wait 30s -- true
expect_err_lacks "retrying"
expect_exit 2 F fetch boot/web/env --env-file "$T/w3.env" --wait soon

done_testing

#!/bin/bash
# tests/bench/run.sh LOADGEN - the benchmarks of DESIGN §11 (make bench).
#
# Starts its own PostgreSQL, secretd and sshd with tests/integration/lib.sh
# (work dir build/bench/work, made anew on every run and removed at the end
# but for its logs, kept in build/bench/work.logs), an etcd
# on free loopback ports, seeds data, runs every measurement against the
# same database server in this one invocation, prints a table and writes
# bench/results.json.  See docs/performance.md for the method.
#
# Environment:
#   BENCH_SECS    measured seconds per throughput/latency run (6)
#   BENCH_WARM    warm-up seconds before each run, not counted (1)
#   BENCH_REPS    repetitions of each measurement pair, interleaved; the
#                 best of each side is kept: highest ops/s for throughput,
#                 lowest p50 for latency (3)
#   BENCH_CONC    concurrency of the throughput runs (32)
#   BENCH_SSH_REPS  repetitions of each ssh session measurement (15)
#   BENCH_PG_FSYNC  on|off: fsync of the benchmark's PostgreSQL (on; the
#                 test harness itself runs with fsync = off)
#   BENCH_SCALE   0 skips the 1 000 000-node scale run (1)
#   BENCH_KEEP    1 leaves the environment running at the end (0)
#   BENCH_BIN     directory of secretd, secret-shell, secret (<repo>/bin)
#   BENCH_OUT     results file (<repo>/bench/results.json)
#   BENCH_HA      1 also runs the high-availability test (tests/ha/run.sh,
#                 about 2 minutes, needs `tests/deps.sh ha`) for the keys
#                 failover_gap_s, lost_acknowledged_writes and
#                 frontends2_get_ratio; 0 skips it (default: 1 when
#                 pg_autoctl is installed)
#   BENCH_LIVE    1 runs the live-delivery measurements of issue 25
#                 (watch_latency_ms, boot_storm_ratio,
#                 watchers_idle_rss_mib; one to two minutes); 0 skips
#                 them (1)
#   BENCH_WATCH_PUTS  puts timed for watch_latency_ms (100; 30 when
#                 BENCH_REPS is below 3)
#   BENCH_STORM_REPS  boot storms and baseline storms, interleaved; the
#                 median of each side is kept (BENCH_REPS)
set -uo pipefail

LOADGEN=${1:?usage: run.sh LOADGEN}
LOADGEN=$(cd "$(dirname "$LOADGEN")" && pwd)/$(basename "$LOADGEN")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/../integration/lib.sh"
REPO=$SD_REPO
BENCH_BIN=${BENCH_BIN:-$REPO/bin}
BW=${BENCH_WORK:-$REPO/build/bench/work}
OUT=${BENCH_OUT:-$REPO/bench/results.json}
SECS=${BENCH_SECS:-6}
WARM=${BENCH_WARM:-1}
REPS=${BENCH_REPS:-3}
CONC=${BENCH_CONC:-32}
SSH_REPS=${BENCH_SSH_REPS:-15}
PG_FSYNC=${BENCH_PG_FSYNC:-on}
SCALE=${BENCH_SCALE:-1}
VALUE_SIZE=64
IDLE_CONNS=256
T_BEGIN=$SECONDS

say() { printf '[bench %3ds] %s\n' $((SECONDS - T_BEGIN)) "$*" >&2; }
fatal() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fatal "must run as root (starts PostgreSQL, secretd, sshd)"
[ -x "$LOADGEN" ] || fatal "no load generator at $LOADGEN"

# ------------------------------------------------------------------ etcd
# The peer: Debian's etcd-server.  The bench installs what it uses.
mkdir -p "$REPO/build"
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	say "etcd not installed: apt-get install -y etcd-server etcd-client"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server etcd-client >"$REPO/build/bench-apt.log" 2>&1; then
		say "apt-get install failed; trying apt-get update first"
		apt-get update -q >>"$REPO/build/bench-apt.log" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server etcd-client >>"$REPO/build/bench-apt.log" 2>&1 ||
			say "could not install etcd (see build/bench-apt.log): the etcd run is skipped"
	fi
	# The package may start the system's own etcd (on 2379); ours uses
	# ports of its own and never touches that one.
fi

# ------------------------------------------------------------ environment
ETCD_PID=
IDLE_PID=
WATCHER_PID=
STOCK_PID=
cleanup() {
	[ -n "$STOCK_PID" ] && stop_pid "$STOCK_PID" sshd 10
	[ -n "$IDLE_PID" ] && kill "$IDLE_PID" 2>/dev/null
	[ -n "$WATCHER_PID" ] && stop_pid "$WATCHER_PID" "secret fetch --watch" 5
	case ${FETCH_TMPFS:-} in /dev/shm/secretd-bench.?*) rm -rf "$FETCH_TMPFS" ;; esac
	case ${LIVE_TMPFS:-} in /dev/shm/secretd-bench.?*) rm -rf "$LIVE_TMPFS" ;; esac
	[ -n "$ETCD_PID" ] && stop_pid "$ETCD_PID" etcd 10
	if [ "${BENCH_KEEP:-0}" != 1 ]; then
		env_down "$BW" >/dev/null 2>&1
		# keep the logs, drop the database (1.5 GB after the scale run)
		mkdir -p "$BW.logs"
		cp "$BW"/*.log "$BW.logs/" 2>/dev/null
		env_remove "$BW"
	else
		say "environment left running: . $BW/env"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -d "$BW" ]; then
	env_down "$BW" >/dev/null 2>&1
	env_remove "$BW"
fi
mkdir -p "$(dirname "$BW")"
# the idle-memory run opens IDLE_CONNS sessions, all of them admin's
export SD_CONF_EXTRA="max_sessions_per_principal = $IDLE_CONNS"
say "starting PostgreSQL, secretd and sshd in $BW"
env_up "$BW" "$BENCH_BIN" secretd-bench || fatal "env_up failed"
# shellcheck disable=SC1091
. "$BW/env"
env_load "$BW"
SOCK=$RUNDIR/secretd.sock
LOADAVG_START=$(cut -d' ' -f1 /proc/loadavg)
GIT_HEAD=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
SECRETD_PID=$(cat "$W/secretd.pid")
PGCONN="host=$PGHOST port=$PGPORT dbname=secretd user=secretd_admin"
psqlq() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }

# A durable cluster, as in production (the test harness turns fsync off).
psqlq -c "ALTER SYSTEM SET fsync = $PG_FSYNC" -c "SELECT pg_reload_conf()" >/dev/null ||
	fatal "cannot set fsync"
sleep 0.5
say "PostgreSQL $(psqlq -c 'SHOW server_version'), fsync = $(psqlq -c 'SHOW fsync'), synchronous_commit = $(psqlq -c 'SHOW synchronous_commit')"

# sock_run FILE: send each NDJSON line of FILE to secretd as admin; fail
# unless every answer is ok:true.
sock_run() {
	local out=$W/tmp/sock.out
	"$SD_LIB_DIR/sock.py" "$SOCK" --hello "${2:-$W/admin.pub}" <"$1" >"$out" || { cat "$out" >&2; return 1; }
	if [ "$(jq -r 'select(.ok != true)' <"$out" | head -c 1)" != "" ]; then
		jq -c 'select(.ok != true)' <"$out" | head -n 3 >&2
		return 1
	fi
}

VALUE=$(head -c 200 /dev/urandom | base64 -w0 | tr -d '/+=' | head -c "$VALUE_SIZE")
[ "${#VALUE}" = "$VALUE_SIZE" ] || fatal "value generation"
say "seeding: bench/get/k (a $VALUE_SIZE-byte value), boot/s000..s099, baseline tables"
{
	printf '{"action":"secret.put","path":["bench","get","k"],"value":"%s"}\n' "$VALUE"
	for i in $(seq -w 0 99); do
		printf '{"action":"secret.put","path":["boot","s0%s"],"value":"%s"}\n' "$i" "$VALUE"
	done
} >"$W/tmp/seed.ndjson"
sock_run "$W/tmp/seed.ndjson" || fatal "seeding secretd failed"

# The raw baseline's tables: the shape of secretd's, in the same database.
psqlq <<-SQL >/dev/null || fatal "creating the baseline tables failed"
	CREATE TABLE bench_kv (id bigint PRIMARY KEY, value bytea NOT NULL);
	INSERT INTO bench_kv SELECT i, decode(repeat('ab', $VALUE_SIZE + 16), 'hex')
	  FROM generate_series(1, 1000) i;
	CREATE TABLE bench_audit (LIKE audit_log INCLUDING ALL);
	CREATE TABLE bench_version (LIKE secret_version INCLUDING ALL);
	VACUUM ANALYZE bench_kv;
SQL

# ------------------------------------------------------------ measuring
# lg NAME MODE ARGS...: run the load generator, keep its JSON in R[NAME].
declare -A R
lg() {
	local name=$1 out err
	shift
	err=$W/tmp/lg-$name.err
	if ! out=$("$LOADGEN" "$@" -w "$WARM" 2>"$err") || [ -z "$out" ]; then
		cat "$err" >&2
		fatal "loadgen $* failed"
	fi
	[ -s "$err" ] && cat "$err" >&2
	R[$name]=$out
	LAST=$out
	say "$(printf '%-22s %10.0f ops/s  p50 %8.1f us  p99 %8.1f us' "$name" \
		"$(jq -r .ops_per_s <<<"$out")" "$(jq -r .p50_us <<<"$out")" "$(jq -r .p99_us <<<"$out")")"
}
# keep the better of two runs (by ops/s) under NAME
lg_best() {
	local name=$1 prev=${R[$1]:-}
	shift
	lg "$name" "$@"
	if [ -n "$prev" ] && [ "$(jq -n "$prev.ops_per_s > ${R[$name]}.ops_per_s")" = true ]; then
		R[$name]=$prev
	fi
}
# keep the run with the lower p50 under NAME
lg_best_lat() {
	local name=$1 prev=${R[$1]:-}
	shift
	lg "$name" "$@"
	if [ -n "$prev" ] && [ "$(jq -n "$prev.p50_us < ${R[$name]}.p50_us")" = true ]; then
		R[$name]=$prev
	fi
}
f() { jq -r ".$2" <<<"${R[$1]}"; }   # f NAME FIELD
# settle WHAT: before each scale measurement, a 2 s run of the raw
# baseline at one connection.  Writing the million-node store leaves the
# machine slow for a minute or two after its CHECKPOINT (every get commits
# an audit row, so its fsync), and the small and the large store cannot be
# measured interleaved: they are one database, before and after.  So
# before the large store, wait (at most SETTLE_MAX s) until the baseline's
# p50 is within 15 % of what it was before the small store.  It may not
# come back: the large store slows the baseline's own SELECT and INSERT
# too, so scale_p50_ratio_vs_baseline divides each store's p50 by the
# baseline's just before it.
SETTLE_MAX=${BENCH_SETTLE_MAX:-30}
SETTLED=()
declare -A SETTLE_P50
SETTLE_REF=
settle() {
	local what=$1 t0=$SECONDS now
	while :; do
		lg settle pg-select-audit -D "$PGCONN" -c 1 -d 2
		now=$(jq -r .p50_us <<<"$LAST")
		[ -z "$SETTLE_REF" ] && SETTLE_REF=$now
		[ "$(jq -n "$now <= $SETTLE_REF * 1.15")" = true ] && break
		[ $((SECONDS - t0)) -ge "$SETTLE_MAX" ] && { say "scale: $what: not settled after ${SETTLE_MAX}s, measuring anyway"; break; }
	done
	SETTLED+=("\"$what\": {\"waited_s\": $((SECONDS - t0)), \"baseline_p50_us\": $now}")
	SETTLE_P50[$what]=$now
}
ratio() { jq -n "if $2 == 0 then null else ($1 / $2 * 1000 | round / 1000) end"; }

SD=(-S "$SOCK" -k "$W/admin.pub" -v "$VALUE_SIZE")
say "throughput: $CONC connections, $SECS s each, best of $REPS"
for ((rep = 1; rep <= REPS; rep++)); do
	lg_best get32 secretd-get "${SD[@]}" -c "$CONC" -d "$SECS" -p bench/get/k
	lg_best pgsa32 pg-select-audit -D "$PGCONN" -c "$CONC" -d "$SECS"
	lg_best pgsel32 pg-select -D "$PGCONN" -c "$CONC" -d "$SECS"
	lg_best put32 secretd-put "${SD[@]}" -c "$CONC" -d "$SECS" -p bench/put
	lg_best pgins32 pg-insert -D "$PGCONN" -c "$CONC" -d "$SECS"
done

say "latency: one connection, $SECS s each, best p50 of $REPS"
# Also each run's p50 over the baseline's in the run right after it: the
# commit's fsync latency drifts over minutes on a virtual disk, and two
# best-of-N figures may come from different moments (get_p50_ratio_paired
# is the median of these ratios).
# Two more secretd on the same database, each built without one of the
# lone request's shortcuts (make bench builds them): without get_hint.c's
# guess (-DSECRETD_NO_GET_HINT) and without the busy-wait
# (-DSECRETD_NO_SPIN).  Each runs right after each get1 run, and
# get_hint_p50_ratio / spin_p50_ratio are the medians of the pairs' p50
# ratios (with the shortcut / without): below 1, it pays for its code.
declare -A AB_SOCK AB_PAIRS
for ab in nohint nospin; do
	var=BENCH_${ab^^}_BIN
	bin=${!var:-}
	case $bin in ""|/*) ;; *) bin=$REPO/$bin ;; esac
	[ -x "$bin/secretd" ] || continue
	AB_SOCK[$ab]=$RUNDIR/$ab.sock
	sed -e "s|^socket = .*|socket = ${AB_SOCK[$ab]}|" "$W/secretd.conf" >"$W/tmp/$ab.conf"
	spawn "$W/tmp/$ab.pid" "$W/$ab.log" "$bin/secretd" -c "$W/tmp/$ab.conf" serve ||
		fatal "cannot start the secretd built $ab"
	for _ in $(seq 100); do [ -S "${AB_SOCK[$ab]}" ] && break; sleep 0.1; done
	[ -S "${AB_SOCK[$ab]}" ] || fatal "the secretd built $ab did not start (see $W/$ab.log)"
	AB_PAIRS[$ab]=
done
P50_PAIRS=()
for ((rep = 1; rep <= REPS; rep++)); do
	lg_best_lat get1 secretd-get "${SD[@]}" -c 1 -d "$SECS" -p bench/get/k
	pair_get=$(jq -r .p50_us <<<"$LAST")
	for ab in "${!AB_SOCK[@]}"; do
		lg_best_lat "get1$ab" secretd-get -S "${AB_SOCK[$ab]}" -k "$W/admin.pub" \
			-v "$VALUE_SIZE" -c 1 -d "$SECS" -p bench/get/k
		AB_PAIRS[$ab]+="$(ratio "$pair_get" "$(jq -r .p50_us <<<"$LAST")") "
	done
	lg_best_lat pgsa1 pg-select-audit -D "$PGCONN" -c 1 -d "$SECS"
	P50_PAIRS+=("$(ratio "$pair_get" "$(jq -r .p50_us <<<"$LAST")")")
done
median() { jq -s 'if length == 0 then null else sort | if length % 2 == 1 then .[length / 2 | floor] else ((.[length / 2 - 1] + .[length / 2]) / 2 * 1000 | round / 1000) end end'; }
P50_PAIRED=$(printf '%s\n' "${P50_PAIRS[@]}" | median)
ab_ratio() { printf '%s\n' ${AB_PAIRS[$1]:-} | median; }
ab_pairs() { printf '%s\n' ${AB_PAIRS[$1]:-} | jq -s .; }
HINT_RATIO=$(ab_ratio nohint)
SPIN_RATIO=$(ab_ratio nospin)
for ab in "${!AB_SOCK[@]}"; do
	stop_pid "$(cat "$W/tmp/$ab.pid")" secretd 10
done

# ------------------------------------------------------------------ etcd
ETCD_OK=0
if command -v etcd >/dev/null && command -v etcdctl >/dev/null; then
	say "etcd: starting $(etcd --version | head -n 1) on free loopback ports"
	EC=$(free_port) || fatal "no free port"
	EP=$(free_port) || fatal "no free port"
	while [ "$EP" = "$EC" ]; do EP=$(free_port); done
	rm -rf "$W/etcd"
	mkdir -p "$W/etcd"
	chmod 0700 "$W/etcd"
	spawn "$W/etcd.pid" "$W/etcd.log" env -u ETCDCTL_API etcd --name bench --data-dir "$W/etcd/data" \
		--listen-client-urls "http://127.0.0.1:$EC" --advertise-client-urls "http://127.0.0.1:$EC" \
		--listen-peer-urls "http://127.0.0.1:$EP" --initial-advertise-peer-urls "http://127.0.0.1:$EP" \
		--initial-cluster "bench=http://127.0.0.1:$EP" --initial-cluster-state new \
		--log-level warn --logger zap || fatal "cannot start etcd"
	ETCD_PID=$(cat "$W/etcd.pid")
	ETCDCTL=(env ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$EC" --dial-timeout 5s)
	for _ in $(seq 100); do
		"${ETCDCTL[@]}" endpoint health >/dev/null 2>&1 && break
		alive "$ETCD_PID" || break
		sleep 0.1
	done
	EPW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	if "${ETCDCTL[@]}" endpoint health >/dev/null 2>&1 &&
		"${ETCDCTL[@]}" put /bench/k "$VALUE" >/dev/null &&
		"${ETCDCTL[@]}" role add root >/dev/null &&
		"${ETCDCTL[@]}" user add root --new-user-password="$EPW" >/dev/null &&
		"${ETCDCTL[@]}" user grant-role root root >/dev/null &&
		"${ETCDCTL[@]}" role add reader >/dev/null &&
		"${ETCDCTL[@]}" role grant-permission reader --prefix=true read /bench/ >/dev/null &&
		"${ETCDCTL[@]}" user add bench --new-user-password="$EPW" >/dev/null &&
		"${ETCDCTL[@]}" user grant-role bench reader >/dev/null &&
		"${ETCDCTL[@]}" auth enable >/dev/null 2>&1; then
		say "etcd: auth enabled; user bench has role reader (read on prefix /bench/)"
		for ((rep = 1; rep <= REPS; rep++)); do
			lg_best etcd32 etcd-get -E "127.0.0.1:$EC" -U "bench:$EPW" -K /bench/k -v "$VALUE_SIZE" -c "$CONC" -d "$SECS"
		done
		lg etcd32s etcd-get -E "127.0.0.1:$EC" -U "bench:$EPW" -K /bench/k -v "$VALUE_SIZE" -c "$CONC" -d "$SECS" -s
		ETCD_OK=1
	else
		sd_dump "$W/etcd.log" 30
		say "etcd set-up failed: etcd run skipped"
	fi
	stop_pid "$ETCD_PID" etcd 10
	ETCD_PID=
else
	say "etcd not available: etcd run skipped"
fi

# ---------------------------------------------------------------- ssh
# One ssh session: the plain OpenSSH client, the admin's ed25519 key.
ssh_session() {
	SSH_AUTH_SOCK="" ssh -F /dev/null -T -p "$SSH_PORT" -i "$W/admin" -o IdentitiesOnly=yes \
		-o IdentityAgent=none -o BatchMode=yes -o UserKnownHostsFile="$W/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o LogLevel=ERROR \
		-o ControlMaster=no -o ControlPath=none secret@127.0.0.1 "$@"
}
for i in $(seq -w 0 99); do
	printf '{"id":%d,"action":"secret.get","path":["boot","s0%s"]}\n' "$((10#$i))" "$i"
done >"$W/tmp/fetch100.ndjson"
{
	printf '{"id":1,"action":"secret.get_many","paths":['
	for i in $(seq -w 0 99); do
		[ "$i" = 00 ] || printf ','
		printf '["boot","s0%s"]' "$i"
	done
	printf ']}\n'
} >"$W/tmp/fetchmany.ndjson"
# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# The kinds of session, timed in turn (interleaved, so that background
# noise falls on all of them alike); the median of each is kept.
#   empty      ssh -T, empty command (OpenSSH's default key exchange,
#              sntrup761x25519-sha512 in OpenSSH 9.2)
#   empty_c25519  the same with KexAlgorithms=curve25519-sha256, the key
#              exchange libssh 0.10 (the secret client) negotiates
#   json100    ssh -T ... json, 100 secret.get lines on stdin
#   many100    ssh -T ... json, one secret.get_many of the 100 paths
#   fetch      secret fetch boot --dest DIR (when the client has fetch),
#              DIR on tmpfs (/dev/shm), where machine bootstrap writes
#              credentials (DESIGN, issue 6): fsync costs nothing there
#   fetch_disk the same with DIR on the work dir's disk file system
HAVE_FETCH=0
FETCH_TMPFS=
if secret help 2>/dev/null | grep -qw fetch; then
	HAVE_FETCH=1
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
		FETCH_TMPFS=$(mktemp -d /dev/shm/secretd-bench.XXXXXX)
	else
		say "no tmpfs at /dev/shm: secret fetch writes to disk only"
		FETCH_TMPFS=$W/tmp/fetchtmp
		mkdir -p "$FETCH_TMPFS"
	fi
fi
ssh_kind() {
	case $1 in
	empty) ssh_session </dev/null ;;
	empty_c25519) ssh_session -o KexAlgorithms=curve25519-sha256 </dev/null ;;
	json100) ssh_session json <"$W/tmp/fetch100.ndjson" ;;
	many100) ssh_session json <"$W/tmp/fetchmany.ndjson" ;;
	fetch) rm -rf "$FETCH_TMPFS/dest" && secret fetch boot --dest "$FETCH_TMPFS/dest" </dev/null ;;
	fetch_disk) rm -rf "$W/tmp/fetchdest" && secret fetch boot --dest "$W/tmp/fetchdest" </dev/null ;;
	esac
}
KINDS=(empty empty_c25519 json100 many100)
[ "$HAVE_FETCH" = 1 ] && KINDS+=(fetch fetch_disk)
say "ssh: $SSH_REPS sessions of each kind (${KINDS[*]}), interleaved (median)"
for k in "${KINDS[@]}"; do : >"$W/tmp/ssh_$k.t"; done
ssh_session </dev/null >/dev/null 2>&1    # warm up (page cache, sshd)
for ((rep = 0; rep < SSH_REPS; rep++)); do
	for k in "${KINDS[@]}"; do
		[ -n "$k" ] || continue
		t0=$EPOCHREALTIME
		if ! ssh_kind "$k" >"$W/tmp/ssh_$k.out" 2>&1; then
			if [ "$k" = fetch ] || [ "$k" = fetch_disk ]; then
				say "secret fetch failed; not measured: $(head -c 300 "$W/tmp/ssh_$k.out")"
				HAVE_FETCH=0
				KINDS=(empty empty_c25519 json100 many100)
				continue 2
			fi
			cat "$W/tmp/ssh_$k.out" >&2
			fatal "ssh session ($k) failed"
		fi
		t1=$EPOCHREALTIME
		echo "$t0 $t1" | awk '{printf "%.3f\n", ($2-$1)*1000}' >>"$W/tmp/ssh_$k.t"
	done
done
[ "$(jq -r 'select(.ok == true) | .value' <"$W/tmp/ssh_json100.out" | grep -c -x -F "$VALUE")" = 100 ] ||
	fatal "the 100-get ssh session did not return 100 values: $(head -c 300 "$W/tmp/ssh_json100.out")"
[ "$(jq -r '.results[] | select(.ok == true) | .value' <"$W/tmp/ssh_many100.out" | grep -c -x -F "$VALUE")" = 100 ] ||
	fatal "the get_many ssh session did not return 100 values: $(head -c 300 "$W/tmp/ssh_many100.out")"
FETCH_MS=null
FETCH_DISK_MS=null
if [ "$HAVE_FETCH" = 1 ]; then
	ok=1
	for d in "$FETCH_TMPFS/dest" "$W/tmp/fetchdest"; do
		n=$(find "$d" -type f | wc -l)
		v=$(find "$d" -type f -name s050 -exec cat {} \;)
		if [ "$n" != 100 ] || [ "$v" != "$VALUE" ]; then
			say "secret fetch wrote $n files in $d, not the 100 values expected: not used"
			ok=0
		fi
	done
	if [ "$ok" = 1 ]; then
		FETCH_MS=$(median <"$W/tmp/ssh_fetch.t")
		FETCH_DISK_MS=$(median <"$W/tmp/ssh_fetch_disk.t")
	fi
fi
rm -rf "$W/tmp/fetchdest"
case ${FETCH_TMPFS:-} in /dev/shm/secretd-bench.?*) rm -rf "$FETCH_TMPFS" ;; esac
SSH_EMPTY_MS=$(median <"$W/tmp/ssh_empty.t")
SSH_EMPTY_C_MS=$(median <"$W/tmp/ssh_empty_c25519.t")
SSH_F100_MS=$(median <"$W/tmp/ssh_json100.t")
SSH_MANY_MS=$(median <"$W/tmp/ssh_many100.t")
say "ssh -T (empty command): $SSH_EMPTY_MS ms (curve25519: $SSH_EMPTY_C_MS ms); json with 100 secret.get: $SSH_F100_MS ms; json with one get_many of 100: $SSH_MANY_MS ms; secret fetch of 100: $FETCH_MS ms (to disk: $FETCH_DISK_MS ms)"

# ---------------------------------------------------------- idle memory
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SECRETD_PID/status"; }
idle_rss() {
	local fifo=$W/tmp/idle.fifo line
	rm -f "$fifo"
	mkfifo "$fifo"
	"$LOADGEN" idle-conns -S "$SOCK" -k "$W/admin.pub" -c "$IDLE_CONNS" -H 25 <"$fifo" >"$W/tmp/idle.out" 2>"$W/tmp/idle.err" &
	IDLE_PID=$!
	exec 8>"$fifo"
	for _ in $(seq 200); do
		read -r line <"$W/tmp/idle.out" 2>/dev/null
		[ -n "${line:-}" ] && break
		sleep 0.1
	done
	[ "${line:-}" = "ready $IDLE_CONNS" ] || { cat "$W/tmp/idle.err" >&2; exec 8>&-; fatal "idle-conns: '${line:-}'"; }
	sleep 1    # let every thread settle
	RSS_IDLE_KIB=$(rss_kib)
	THREADS=$(awk '/^Threads:/ {print $2}' "/proc/$SECRETD_PID/status")
	exec 8>&-
	wait "$IDLE_PID"
	IDLE_PID=
	rm -f "$fifo"
}
RSS_BEFORE_KIB=$(rss_kib)
idle_rss
say "secretd VmRSS: $RSS_BEFORE_KIB KiB with no connection (after the load runs), $RSS_IDLE_KIB KiB with $IDLE_CONNS idle connections ($THREADS threads)"

# ------------------------------------------------------- live delivery
# (issue 25, DESIGN §11) watch_latency_ms, boot_storm_ratio and
# watchers_idle_rss_mib; BENCH_LIVE=0 skips them.  Before the scale run:
# the million-node store would slow them.
LIVE=${BENCH_LIVE:-1}
LIVE_OK=0
WATCH_PUTS=${BENCH_WATCH_PUTS:-$((REPS >= 3 ? 100 : 30))}
STORM_HOSTS=64
STORM_SECRETS=20
STORM_REPS=${BENCH_STORM_REPS:-$REPS}
STORM_WAIT=120
IDLE_WATCHES=1000
LIVE_TMPFS=
if [ "$LIVE" = 1 ] && [ "$HAVE_FETCH" = 0 ] && ! secret help 2>/dev/null | grep -qw fetch; then
	say "live delivery: no secret fetch in this tree: skipped"
	LIVE=0
fi
if [ "$LIVE" = 1 ]; then
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
		LIVE_TMPFS=$(mktemp -d /dev/shm/secretd-bench.XXXXXX)
	else
		LIVE_TMPFS=$W/tmp/livetmp
		mkdir -p "$LIVE_TMPFS"
	fi

	# --- watch_latency_ms: a put through the socket, acknowledged; then
	# the time until `secret fetch --watch` (real sshd, secret-shell)
	# has switched the changed file in.  The watched prefix holds 20
	# secrets, as a host's would; the watcher re-fetches all of them.
	for i in $(seq -w 0 19); do
		printf '{"action":"secret.put","path":["bench","watch","k%s"],"value":"%s"}\n' "$i" "$VALUE"
	done >"$W/tmp/watchseed.ndjson"
	sock_run "$W/tmp/watchseed.ndjson" || fatal "seeding bench/watch failed"
	WDEST=$LIVE_TMPFS/watch/dest
	mkdir -p "$LIVE_TMPFS/watch"
	spawn "$W/tmp/watcher.pid" "$W/watcher.log" secret fetch bench/watch --dest "$WDEST" --watch ||
		fatal "cannot start secret fetch --watch"
	WATCHER_PID=$(cat "$W/tmp/watcher.pid")
	for _ in $(seq 300); do
		[ "$(cat "$WDEST/k07" 2>/dev/null)" = "$VALUE" ] && break
		alive "$WATCHER_PID" || break
		sleep 0.05
	done
	[ "$(cat "$WDEST/k07" 2>/dev/null)" = "$VALUE" ] || { sd_dump "$W/watcher.log" 20; fatal "secret fetch --watch did not write $WDEST"; }
	sleep 0.5
	say "watch latency: $WATCH_PUTS puts of bench/watch/k07, each timed from its answer to the file switched in by secret fetch --watch"
	if ! R[watch]=$("$LOADGEN" watch-latency -S "$SOCK" -k "$W/admin.pub" -v "$VALUE_SIZE" -p bench/watch/k07 \
		-F "$WDEST/k07" -n "$WATCH_PUTS" -g 100 2>"$W/tmp/lg-watch.err") || [ -z "${R[watch]}" ]; then
		cat "$W/tmp/lg-watch.err" >&2
		sd_dump "$W/watcher.log" 20
		fatal "loadgen watch-latency failed"
	fi
	stop_pid "$WATCHER_PID" "secret fetch --watch" 10
	WATCHER_PID=
	WATCH_SWITCHES=$(grep -c "switched in" "$W/watcher.log")
	say "$(printf 'watch latency: p50 %.1f ms, p99 %.1f ms (min %.1f, max %.1f) over %s puts; the watcher switched in %s times' \
		"$(jq -n "$(f watch p50_us) / 1000")" "$(jq -n "$(f watch p99_us) / 1000")" \
		"$(jq -n "$(f watch min_us) / 1000")" "$(jq -n "$(f watch max_us) / 1000")" "$(f watch ops)" "$WATCH_SWITCHES")"

	# --- boot_storm_ratio: 64 hosts, each its own principal and key,
	# group and grant, fetch their 20 secrets at one moment; against 64
	# `ssh -T` no-ops with the same keys to the same sshd at one moment.
	say "boot storm: $STORM_HOSTS principals with a key, a group and a grant each, $STORM_SECRETS secrets each"
	mkdir -p "$W/keys/storm"
	{
		for ((h = 0; h < STORM_HOSTS; h++)); do
			hn=$(printf 'h%02d' "$h")
			rm -f "$W/keys/storm/$hn" "$W/keys/storm/$hn.pub"
			ssh-keygen -q -t ed25519 -N '' -C "storm-$hn" -f "$W/keys/storm/$hn" </dev/null || fatal ssh-keygen
			read -r ktype kb64 _ <"$W/keys/storm/$hn.pub"
			printf '{"action":"group.create","group":"storm-%s"}\n' "$hn"
			printf '{"action":"principal.create","principal":"storm-%s","key":"%s %s","groups":["storm-%s"]}\n' "$hn" "$ktype" "$kb64" "$hn"
			for ((i = 0; i < STORM_SECRETS; i++)); do
				printf '{"action":"secret.put","path":["storm","%s","s%02d"],"value":"%s"}\n' "$hn" "$i" "$VALUE"
			done
			printf '{"action":"acl.set","path":["storm","%s"],"group":"storm-%s","permissions":["read"]}\n' "$hn" "$hn"
		done
	} >"$W/tmp/storm.ndjson"
	sock_run "$W/tmp/storm.ndjson" || fatal "setting up the storm's hosts failed"
	# One host's session: kind fetch or ssh.
	storm_one() {
		local key=$W/keys/storm/$2
		case $1 in
		fetch)
			SECRET_IDENTITY=$key secret fetch "storm/$2" --dest "$LIVE_TMPFS/storm/$2" --wait "$STORM_WAIT" </dev/null ;;
		fetch_stock)
			SECRET_IDENTITY=$key SECRET_SERVER=secret@127.0.0.1:$STOCK_PORT SECRET_KNOWN_HOSTS=$W/tmp/known_hosts.stock \
				secret fetch "storm/$2" --dest "$LIVE_TMPFS/storm/$2" --wait "$STORM_WAIT" </dev/null ;;
		ssh)
			SSH_AUTH_SOCK="" ssh -F /dev/null -T -p "$SSH_PORT" -i "$key" -o IdentitiesOnly=yes \
				-o IdentityAgent=none -o BatchMode=yes -o UserKnownHostsFile="$W/known_hosts" \
				-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o LogLevel=ERROR \
				-o ControlMaster=no -o ControlPath=none -o KexAlgorithms=curve25519-sha256 \
				secret@127.0.0.1 </dev/null ;;
		esac
	}
	# storm KIND: every host at once: each process sleeps until one
	# instant 3 s ahead (the forks are done by then: STORM_READY_MS, the
	# last one ready, is below 0), then runs.  Sets STORM_MS (the instant
	# to the last one's end), STORM_FAIL (hosts that failed or, for
	# fetch, did not get their 20 exact values), STORM_RETRIES (--wait
	# retries) and STORM_LATE_MS (the last one to get the CPU after the
	# instant: 64 processes woken at once on this machine's cores).
	storm() {
		local kind=$1 dir=$W/tmp/storm-$1 start_us h hn pids=() last=0 late=0 ready=-9999999 st r s e n v
		rm -rf "$dir" "$LIVE_TMPFS/storm"
		mkdir -p "$dir" "$LIVE_TMPFS/storm"
		start_us=$((${EPOCHREALTIME/./} + 3000000))
		for ((h = 0; h < STORM_HOSTS; h++)); do
			printf -v hn 'h%02d' "$h"
			(
				r=${EPOCHREALTIME/./}
				d=$((start_us - r))
				if [ "$d" -gt 0 ]; then
					printf -v frac '%06d' $((d % 1000000))
					sleep "$((d / 1000000)).$frac"
				fi
				s=${EPOCHREALTIME/./}
				storm_one "$kind" "$hn" >"$dir/$hn.out" 2>"$dir/$hn.err"
				st=$?
				echo "$st $r $s ${EPOCHREALTIME/./}" >"$dir/$hn.end"
			) &
			pids+=("$!")
		done
		wait "${pids[@]}"
		STORM_FAIL=0
		STORM_RETRIES=0
		for ((h = 0; h < STORM_HOSTS; h++)); do
			printf -v hn 'h%02d' "$h"
			read -r st r s e <"$dir/$hn.end" || { STORM_FAIL=$((STORM_FAIL + 1)); continue; }
			[ "$e" -gt "$last" ] && last=$e
			[ $((s - start_us)) -gt "$late" ] && late=$((s - start_us))
			[ $((r - start_us)) -gt "$ready" ] && ready=$((r - start_us))
			if [ "$kind" != ssh ]; then
				n=$(find "$LIVE_TMPFS/storm/$hn" -type f 2>/dev/null | wc -l)
				v=$(cat "$LIVE_TMPFS/storm/$hn/s13" 2>/dev/null)
				if [ "$st" = 0 ] && { [ "$n" != "$STORM_SECRETS" ] || [ "$v" != "$VALUE" ]; }; then
					echo "wrote $n files, not the $STORM_SECRETS values expected" >>"$dir/$hn.err"
					st=wrong
				fi
				STORM_RETRIES=$((STORM_RETRIES + $(grep -c "retrying in" "$dir/$hn.err")))
			fi
			if [ "$st" != 0 ]; then
				STORM_FAIL=$((STORM_FAIL + 1))
				[ "$STORM_FAIL" = 1 ] && say "boot storm ($kind): $hn failed ($st): $(head -c 300 "$dir/$hn.err")"
			fi
		done
		STORM_MS=$(jq -n "($last - $start_us) / 1000 | . * 10 | round / 10")
		STORM_LATE_MS=$(jq -n "$late / 1000 | . * 10 | round / 10")
		STORM_READY_MS=$(jq -n "$ready / 1000 | . * 10 | round / 10")
		[ "$ready" -lt 0 ] || say "boot storm ($kind): the last host was ready only $STORM_READY_MS ms after the instant: this storm started spread out"
	}
	# A second sshd, the same but for MaxStartups, left at OpenSSH's
	# default (10:30:100) as on a machine where nothing raised it: the
	# storm against it (fetch_stock, info) shows what that limit does.
	STOCK_PORT=$(free_port) || fatal "no free port"
	while [ "$STOCK_PORT" = "$SSH_PORT" ]; do STOCK_PORT=$(free_port); done
	sed -e "s/^Port .*/Port $STOCK_PORT/" -e "s|^PidFile .*|PidFile $W/sshd-stock.pid|" -e '/^MaxStartups /d' \
		"$W/sshd_config" >"$W/sshd-stock_config"
	/usr/sbin/sshd -t -f "$W/sshd-stock_config" 2>"$W/sshd-stock.log" || { cat "$W/sshd-stock.log" >&2; fatal "sshd -t: sshd-stock_config"; }
	spawn "$W/tmp/sshd-stock.pid" "$W/sshd-stock.log" /usr/sbin/sshd -D -e -f "$W/sshd-stock_config" || fatal "cannot start the second sshd"
	STOCK_PID=$(cat "$W/tmp/sshd-stock.pid")
	{ cat "$W/known_hosts"; printf '[127.0.0.1]:%s %s\n' "$STOCK_PORT" "$(cut -d' ' -f1,2 "$W/ssh_host_ed25519_key.pub")"; } >"$W/tmp/known_hosts.stock"
	for _ in $(seq 100); do
		ss -Hltn "sport = :$STOCK_PORT" | grep -q . && break
		alive "$STOCK_PID" || break
		sleep 0.05
	done
	ss -Hltn "sport = :$STOCK_PORT" | grep -q . || { cat "$W/sshd-stock.log" >&2; fatal "the second sshd does not listen"; }
	: >"$W/tmp/storm_ssh.t"
	: >"$W/tmp/storm_fetch.t"
	: >"$W/tmp/storm_fetch_stock.t"
	STORM_STOCK_FAILURES=0
	STORM_STOCK_RETRIES=0
	STORM_FAILURES=0
	STORM_SSH_FAILURES=0
	STORM_RETRIES_ALL=0
	STORM_LATE_MAX=0
	say "boot storm: $STORM_REPS x ($STORM_HOSTS ssh -T no-ops at once, then $STORM_HOSTS secret fetch --wait $STORM_WAIT at once)"
	for ((rep = 1; rep <= STORM_REPS; rep++)); do
		for k in ssh fetch fetch_stock; do
			sleep 1    # the last storm's sessions have ended
			storm "$k"
			echo "$STORM_MS" >>"$W/tmp/storm_$k.t"
			case $k in
			fetch)
				STORM_FAILURES=$((STORM_FAILURES + STORM_FAIL))
				STORM_RETRIES_ALL=$((STORM_RETRIES_ALL + STORM_RETRIES)) ;;
			fetch_stock)
				STORM_STOCK_FAILURES=$((STORM_STOCK_FAILURES + STORM_FAIL))
				STORM_STOCK_RETRIES=$((STORM_STOCK_RETRIES + STORM_RETRIES)) ;;
			ssh)
				STORM_SSH_FAILURES=$((STORM_SSH_FAILURES + STORM_FAIL)) ;;
			esac
			STORM_LATE_MAX=$(jq -n "[$STORM_LATE_MAX, $STORM_LATE_MS] | max")
			say "boot storm: $STORM_HOSTS x $k: $STORM_MS ms, $STORM_FAIL failed, $STORM_RETRIES retries (the last host ready at $STORM_READY_MS ms from the instant, the last running at +$STORM_LATE_MS ms)"
		done
	done
	STORM_SSH_MS=$(median <"$W/tmp/storm_ssh.t")
	STORM_FETCH_MS=$(median <"$W/tmp/storm_fetch.t")
	STORM_STOCK_MS=$(median <"$W/tmp/storm_fetch_stock.t")
	stop_pid "$STOCK_PID" sshd 10
	STOCK_PID=
	rm -rf "$LIVE_TMPFS/storm"

	# --- watchers_idle_rss_mib: 1 000 sessions, each watching a prefix,
	# idle; the limits raised for them by a reload (max_connections is
	# read at once), not at the start: the storm ran with the defaults.
	secretd_log_n=$(wc -l <"$W/secretd.log")
	sed -i -e '/^max_connections[ =]/d' -e '/^max_sessions_per_principal[ =]/d' "$W/secretd.conf"
	printf 'max_connections = 1100\nmax_sessions_per_principal = 1100\n' >>"$W/secretd.conf"
	kill -HUP "$SECRETD_PID"
	for _ in $(seq 100); do
		tail -n +"$((secretd_log_n + 1))" "$W/secretd.log" | grep -q "configuration reloaded\|configuration not reloaded" && break
		sleep 0.1
	done
	tail -n +"$((secretd_log_n + 1))" "$W/secretd.log" | grep -q "reloaded max_connections = 1100" ||
		fatal "secretd did not reload max_connections = 1100"
	RSS_W0_KIB=$(rss_kib)
	fifo=$W/tmp/idlew.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	"$LOADGEN" idle-watches -S "$SOCK" -k "$W/admin.pub" -c "$IDLE_WATCHES" -p bench/idle -H 120 <"$fifo" >"$W/tmp/idlew.out" 2>"$W/tmp/idlew.err" &
	IDLE_PID=$!
	exec 8>"$fifo"
	line=
	for _ in $(seq 600); do
		read -r line <"$W/tmp/idlew.out" 2>/dev/null
		[ -n "${line:-}" ] && break
		sleep 0.1
	done
	[ "${line:-}" = "ready $IDLE_WATCHES" ] || { cat "$W/tmp/idlew.err" >&2; exec 8>&-; fatal "idle-watches: '${line:-}'"; }
	sleep 1    # let every thread settle
	RSS_W_KIB=$(rss_kib)
	THREADS_W=$(awk '/^Threads:/ {print $2}' "/proc/$SECRETD_PID/status")
	exec 8>&-
	wait "$IDLE_PID"
	IDLE_PID=
	rm -f "$fifo"
	say "secretd VmRSS: $RSS_W0_KIB KiB before, $RSS_W_KIB KiB with $IDLE_WATCHES idle watches ($THREADS_W threads)"
	case ${LIVE_TMPFS:-} in /dev/shm/secretd-bench.?*) rm -rf "$LIVE_TMPFS" ;; esac
	LIVE_OK=1
fi

# --------------------------------------------------------------- scale
# The same principal, path shape and ACL in a ~1 000-node store and then
# in one of 1 000 000 nodes, 10 000 principals, 1 000 groups, 100 000
# grants.  The reader is not an admin: its read comes from a group grant.
SCALE_OK=0
if [ "$SCALE" = 1 ]; then
	say "scale: the small store (fleet/: 10 x 10 x 10 nodes) and principal reader"
	ssh-keygen -q -t ed25519 -N '' -C reader -f "$W/keys/reader" </dev/null || fatal ssh-keygen
	read -r rtype rb64 _ <"$W/keys/reader.pub"
	rfp=$(ssh-keygen -lf "$W/keys/reader.pub" | awk '{print $2}')
	psqlq <<-SQL >/dev/null || fatal "small store"
		SET session_replication_role = replica;  -- bulk load: rows consistent by construction
		DO \$\$
		DECLARE base bigint := (SELECT max(id) FROM node) + 10;
		BEGIN
		  INSERT INTO node (id, parent_id, name) VALUES (base, 1, 'fleet');
		  INSERT INTO node (id, parent_id, name)
		    SELECT base + 1 + i, base, 'a' || lpad(i::text, 2, '0') FROM generate_series(0, 9) i;
		  INSERT INTO node (id, parent_id, name)
		    SELECT base + 11 + i * 10 + j, base + 1 + i, 'b' || lpad(j::text, 2, '0')
		    FROM generate_series(0, 9) i, generate_series(0, 9) j;
		  INSERT INTO node (id, parent_id, name, current_version)
		    SELECT base + 111 + (i * 10 + j) * 10 + k, base + 11 + i * 10 + j, 'c' || lpad(k::text, 2, '0'), 1
		    FROM generate_series(0, 9) i, generate_series(0, 9) j, generate_series(0, 9) k;
		  INSERT INTO secret_version (node_id, version, key_id, nonce, ciphertext, created_by)
		    SELECT id, 1, 1, decode(repeat('cd', 24), 'hex'), decode(repeat('ef', $VALUE_SIZE + 16), 'hex'), 'admin'
		    FROM generate_series(base + 111, base + 1110) id;
		  PERFORM setval(pg_get_serial_sequence('node', 'id'), (SELECT max(id) FROM node));
		END \$\$;
		INSERT INTO principal (name) VALUES ('reader');
		INSERT INTO principal_key (fingerprint, principal_id, key_type, key_b64)
		  SELECT '$rfp', id, '$rtype', '$rb64' FROM principal WHERE name = 'reader';
		INSERT INTO grp (name) VALUES ('readers');
		INSERT INTO group_member SELECT p.id, g.id FROM principal p, grp g WHERE p.name = 'reader' AND g.name = 'readers';
		INSERT INTO node_grant SELECT sd_node_id('{fleet,a03}'), id, 3 FROM grp WHERE name = 'readers';
		VACUUM ANALYZE node;
		VACUUM ANALYZE secret_version;
	SQL
	printf '{"action":"secret.put","path":["fleet","a03","b04","db-password"],"value":"%s"}\n' "$VALUE" >"$W/tmp/scale.ndjson"
	sock_run "$W/tmp/scale.ndjson" || fatal "scale: put"
	NODES_SMALL=$(psqlq -c "SELECT count(*) FROM node")
	psqlq -c "CHECKPOINT" >/dev/null
	RD=(-S "$SOCK" -k "$W/keys/reader.pub" -v "$VALUE_SIZE" -p fleet/a03/b04/db-password)
	settle small
	for ((rep = 1; rep <= REPS; rep++)); do
		lg_best_lat small1 secretd-get "${RD[@]}" -c 1 -d "$SECS"
	done

	say "scale: populating 1 000 000 nodes, 10 000 principals, 1 000 groups, 100 000 grants"
	t0=$SECONDS
	psqlq <<-'SQL' >/dev/null || fatal "populating the large store failed"
		SET session_replication_role = replica;  -- bulk load: rows consistent by construction
		SET maintenance_work_mem = '256MB';
		DO $$
		DECLARE base bigint := (SELECT max(id) FROM node) + 10;
		BEGIN
		  -- bulk/dNN/hNN/sNN: 1 + 100 + 10 000 + 989 899 nodes = 1 000 000
		  INSERT INTO node (id, parent_id, name) VALUES (base, 1, 'bulk');
		  INSERT INTO node (id, parent_id, name)
		    SELECT base + 1 + i, base, 'd' || i FROM generate_series(0, 99) i;
		  INSERT INTO node (id, parent_id, name)
		    SELECT base + 101 + i * 100 + j, base + 1 + i, 'h' || j
		    FROM generate_series(0, 99) i, generate_series(0, 99) j;
		  INSERT INTO node (id, parent_id, name, current_version)
		    SELECT base + 10101 + n, base + 101 + n / 99, 's' || (n % 99), 1
		    FROM generate_series(0, 989898) n;
		  INSERT INTO secret_version (node_id, version, key_id, nonce, ciphertext, created_by)
		    SELECT base + 10101 + n, 1, 1, decode(repeat('cd', 24), 'hex'),
		           decode(repeat('ef', 80), 'hex'), 'admin'
		    FROM generate_series(0, 989898) n;
		  PERFORM setval(pg_get_serial_sequence('node', 'id'), (SELECT max(id) FROM node));
		  -- 10 000 principals (one key each, the reader and admin included)
		  INSERT INTO principal (name)
		    SELECT 'p' || lpad(i::text, 5, '0') FROM generate_series(1, 10000 - (SELECT count(*) FROM principal)) i;
		  INSERT INTO principal_key (fingerprint, principal_id, key_type, key_b64)
		    SELECT 'SHA256:' || rtrim(encode(sha256(p.id::text::bytea), 'base64'), '='), p.id,
		           'ssh-ed25519', 'AAAAC3NzaC1lZDI1NTE5AAAAI' || md5(p.id::text)
		    FROM principal p WHERE p.name LIKE 'p%';
		  -- 1 000 groups; every principal in 5 of them
		  INSERT INTO grp (name)
		    SELECT 'g' || lpad(i::text, 4, '0') FROM generate_series(1, 1000 - (SELECT count(*) FROM grp)) i;
		  INSERT INTO group_member (principal_id, group_id)
		    SELECT p.id, g.id
		    FROM (SELECT id, row_number() OVER (ORDER BY id) AS r FROM principal WHERE name LIKE 'p%') p
		    CROSS JOIN generate_series(0, 4) k
		    JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS r FROM grp WHERE name LIKE 'g%') g
		      ON g.r = (p.r + k * 199) % (SELECT count(*) FROM grp WHERE name LIKE 'g%')
		    ON CONFLICT DO NOTHING;
		  -- 50 groups (none of the reader's) also hold a grant on fleet/,
		  -- the top of the measured path, so the ACL check there has rows
		  -- of other groups to reject
		  INSERT INTO node_grant (node_id, group_id, perms)
		    SELECT sd_node_id('{fleet}'), id, 1 FROM grp WHERE name LIKE 'g%' ORDER BY id OFFSET 100 LIMIT 50;
		  -- 100 000 grants in all: about 100 per group on bulk nodes (a stride
		  -- coprime with the node count keeps (node, group) distinct)
		  INSERT INTO node_grant (node_id, group_id, perms)
		    SELECT base + ((g.r * 100 + k) * 9973) % 1000000, g.id, 3
		    FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS r FROM grp WHERE name LIKE 'g%') g
		    CROSS JOIN generate_series(0, 100) k
		    LIMIT 100000 - (SELECT count(*) FROM node_grant)
		    ON CONFLICT DO NOTHING;
		  -- the reader is in 9 more groups, like any host
		  INSERT INTO group_member (principal_id, group_id)
		    SELECT p.id, g.id FROM principal p,
		      (SELECT id FROM grp WHERE name LIKE 'g%' ORDER BY id LIMIT 9) g
		    WHERE p.name = 'reader';
		END $$;
		VACUUM ANALYZE node;
		VACUUM ANALYZE secret_version;
		VACUUM ANALYZE principal;
		VACUUM ANALYZE principal_key;
		VACUUM ANALYZE grp;
		VACUUM ANALYZE group_member;
		VACUUM ANALYZE node_grant;
	SQL
	# write the new rows out now, so that the measurement does not share
	# the disk with their write-back (the small store had a checkpoint too)
	psqlq -c "CHECKPOINT" >/dev/null
	POP_SECS=$((SECONDS - t0))
	read -r NODES_BIG PRINCIPALS_BIG GROUPS_BIG GRANTS_BIG MEMBERS_BIG VERSIONS_BIG < <(psqlq -F ' ' -c "SELECT
		(SELECT count(*) FROM node), (SELECT count(*) FROM principal), (SELECT count(*) FROM grp),
		(SELECT count(*) FROM node_grant), (SELECT count(*) FROM group_member), (SELECT count(*) FROM secret_version)")
	say "scale: $NODES_BIG nodes, $PRINCIPALS_BIG principals, $GROUPS_BIG groups, $GRANTS_BIG grants, $MEMBERS_BIG memberships, $VERSIONS_BIG versions in ${POP_SECS}s"
	settle large
	for ((rep = 1; rep <= REPS; rep++)); do
		lg_best_lat big1 secretd-get "${RD[@]}" -c 1 -d "$SECS"
	done
	SCALE_OK=1
fi

# --------------------------------------------------------------- results
mkdir -p "$(dirname "$OUT")"
num() { [ -n "${1:-}" ] && echo "$1" || echo null; }
ETCD_OPS=null
ETCD_OPS_S=null
ETCD_P50=null
ETCD_RATIO=null
if [ "$ETCD_OK" = 1 ]; then
	ETCD_OPS=$(f etcd32 ops_per_s)
	ETCD_OPS_S=$(f etcd32s ops_per_s)
	ETCD_P50=$(f etcd32 p50_us)
	ETCD_RATIO=$(ratio "$(f get32 ops_per_s)" "$ETCD_OPS")
fi
SMALL_P50=null BIG_P50=null SMALL_P99=null BIG_P99=null SCALE_RATIO=null SCALE_RATIO_VS_BASE=null
if [ "$SCALE_OK" = 1 ]; then
	SMALL_P50=$(f small1 p50_us)
	BIG_P50=$(f big1 p50_us)
	SMALL_P99=$(f small1 p99_us)
	BIG_P99=$(f big1 p99_us)
	SCALE_RATIO=$(ratio "$BIG_P50" "$SMALL_P50")
	SCALE_RATIO_VS_BASE=$(jq -n "($BIG_P50 / ${SETTLE_P50[large]}) / ($SMALL_P50 / ${SETTLE_P50[small]}) * 1000 | round / 1000")
fi
# the live-delivery keys (null when BENCH_LIVE=0)
WATCH_P50_MS=null WATCH_P99_MS=null WATCH_MIN_MS=null WATCH_MAX_MS=null WATCH_N=null
STORM_RATIO=null STORM_FAILS=null STORM_SSH_FAILS=null STORM_RETR=null STORM_F_MS=null STORM_S_MS=null
STORM_F_RUNS=null STORM_S_RUNS=null STORM_LATE=null STOCK_RATIO=null STOCK_FAILS=null STOCK_RETR=null STOCK_MS=null STOCK_RUNS=null RSS_W_MIB=null RSS_W=null RSS_W0=null THR_W=null
if [ "$LIVE_OK" = 1 ]; then
	WATCH_P50_MS=$(jq -n "$(f watch p50_us) / 1000 | . * 10 | round / 10")
	WATCH_P99_MS=$(jq -n "$(f watch p99_us) / 1000 | . * 10 | round / 10")
	WATCH_MIN_MS=$(jq -n "$(f watch min_us) / 1000 | . * 10 | round / 10")
	WATCH_MAX_MS=$(jq -n "$(f watch max_us) / 1000 | . * 10 | round / 10")
	WATCH_N=$(f watch ops)
	STORM_RATIO=$(ratio "$STORM_FETCH_MS" "$STORM_SSH_MS")
	STORM_FAILS=$STORM_FAILURES STORM_SSH_FAILS=$STORM_SSH_FAILURES STORM_RETR=$STORM_RETRIES_ALL
	STORM_F_MS=$STORM_FETCH_MS STORM_S_MS=$STORM_SSH_MS STORM_LATE=$STORM_LATE_MAX
	STORM_F_RUNS=$(jq -s . "$W/tmp/storm_fetch.t")
	STORM_S_RUNS=$(jq -s . "$W/tmp/storm_ssh.t")
	STOCK_RATIO=$(ratio "$STORM_STOCK_MS" "$STORM_SSH_MS")
	STOCK_FAILS=$STORM_STOCK_FAILURES STOCK_RETR=$STORM_STOCK_RETRIES STOCK_MS=$STORM_STOCK_MS
	STOCK_RUNS=$(jq -s . "$W/tmp/storm_fetch_stock.t")
	RSS_W_MIB=$(jq -n "$RSS_W_KIB / 1024 * 10 | round / 10")
	RSS_W=$RSS_W_KIB RSS_W0=$RSS_W0_KIB THR_W=$THREADS_W
fi
jq -n \
	--argjson nproc "$(nproc)" \
	--argjson get_throughput_ratio "$(ratio "$(f get32 ops_per_s)" "$(f pgsa32 ops_per_s)")" \
	--argjson get_vs_select_ratio "$(ratio "$(f get32 ops_per_s)" "$(f pgsel32 ops_per_s)")" \
	--argjson get_p50_ratio "$(ratio "$(f get1 p50_us)" "$(f pgsa1 p50_us)")" \
	--argjson get_p99_ratio "$(ratio "$(f get1 p99_us)" "$(f pgsa1 p99_us)")" \
	--argjson get_p50_ratio_paired "$P50_PAIRED" \
	--argjson get_hint_p50_ratio "$HINT_RATIO" \
	--argjson hint_pairs "$(ab_pairs nohint)" \
	--argjson spin_p50_ratio "$SPIN_RATIO" \
	--argjson spin_pairs "$(ab_pairs nospin)" \
	--argjson p50_pairs "$(printf '%s\n' "${P50_PAIRS[@]}" | jq -s .)" \
	--argjson put_throughput_ratio "$(ratio "$(f put32 ops_per_s)" "$(f pgins32 ops_per_s)")" \
	--argjson scale_p50_ratio "$SCALE_RATIO" \
	--argjson scale_p50_ratio_vs_baseline "$SCALE_RATIO_VS_BASE" \
	--argjson ssh_fetch100_ratio "$(if [ "$FETCH_MS" != null ]; then ratio "$FETCH_MS" "$SSH_EMPTY_C_MS"; else ratio "$SSH_F100_MS" "$SSH_EMPTY_MS"; fi)" \
	--argjson ssh_empty_c_ms "$SSH_EMPTY_C_MS" \
	--argjson secret_fetch_ms "$FETCH_MS" --argjson secret_fetch_disk_ms "$FETCH_DISK_MS" \
	--argjson etcd_get_ratio "$ETCD_RATIO" \
	--argjson rss_idle_256_mib "$(jq -n "$RSS_IDLE_KIB / 1024 * 10 | round / 10")" \
	--argjson watch_p50 "$WATCH_P50_MS" --argjson watch_p99 "$WATCH_P99_MS" \
	--argjson watch_min "$WATCH_MIN_MS" --argjson watch_max "$WATCH_MAX_MS" --argjson watch_n "$WATCH_N" \
	--argjson storm_ratio "$STORM_RATIO" --argjson storm_failures "$STORM_FAILS" \
	--argjson storm_ssh_failures "$STORM_SSH_FAILS" --argjson storm_retries "$STORM_RETR" \
	--argjson storm_fetch_ms "$STORM_F_MS" --argjson storm_ssh_ms "$STORM_S_MS" \
	--argjson storm_fetch_runs "$STORM_F_RUNS" --argjson storm_ssh_runs "$STORM_S_RUNS" \
	--argjson storm_late "$STORM_LATE" --argjson storm_hosts "$STORM_HOSTS" \
	--argjson storm_secrets "$STORM_SECRETS" --argjson storm_wait "$STORM_WAIT" \
	--argjson watchers_rss_mib "$RSS_W_MIB" --argjson watchers_rss_kib "$RSS_W" \
	--argjson watchers_rss_before_kib "$RSS_W0" --argjson watchers_threads "$THR_W" \
	--argjson idle_watches "$IDLE_WATCHES" \
	--argjson stock_ratio "$STOCK_RATIO" --argjson stock_failures "$STOCK_FAILS" \
	--argjson stock_retries "$STOCK_RETR" --argjson stock_ms "$STOCK_MS" --argjson stock_runs "$STOCK_RUNS" \
	--argjson get32 "${R[get32]}" --argjson pgsa32 "${R[pgsa32]}" --argjson pgsel32 "${R[pgsel32]}" \
	--argjson put32 "${R[put32]}" --argjson pgins32 "${R[pgins32]}" \
	--argjson get1 "${R[get1]}" --argjson pgsa1 "${R[pgsa1]}" \
	--argjson etcd_ops "$ETCD_OPS" --argjson etcd_ops_s "$ETCD_OPS_S" --argjson etcd_p50 "$ETCD_P50" \
	--argjson small_p50 "$SMALL_P50" --argjson big_p50 "$BIG_P50" \
	--argjson scale_settle "{$(IFS=,; echo "${SETTLED[*]}")}" \
	--argjson small_p99 "$SMALL_P99" --argjson big_p99 "$BIG_P99" \
	--argjson nodes_small "$(num "${NODES_SMALL:-}")" --argjson nodes_big "$(num "${NODES_BIG:-}")" \
	--argjson principals_big "$(num "${PRINCIPALS_BIG:-}")" --argjson groups_big "$(num "${GROUPS_BIG:-}")" \
	--argjson grants_big "$(num "${GRANTS_BIG:-}")" --argjson populate_s "$(num "${POP_SECS:-}")" \
	--argjson ssh_empty_ms "$SSH_EMPTY_MS" --argjson ssh_f100_ms "$SSH_F100_MS" --argjson ssh_many_ms "$SSH_MANY_MS" \
	--argjson rss_idle_kib "$RSS_IDLE_KIB" --argjson rss_before_kib "$RSS_BEFORE_KIB" \
	--argjson threads "$THREADS" \
	--argjson conc "$CONC" --argjson secs "$SECS" --argjson reps "$REPS" --argjson value_size "$VALUE_SIZE" \
	--argjson ssh_reps "$SSH_REPS" --argjson idle_conns "$IDLE_CONNS" \
	--arg fsync "$PG_FSYNC" --arg pgver "$(psqlq -c 'SHOW server_version')" \
	--arg etcdver "$(command -v etcd >/dev/null && etcd --version | head -n 1 | awk '{print $3}')" \
	--argjson load_start "$LOADAVG_START" --argjson load_end "$(cut -d' ' -f1 /proc/loadavg)" \
	--arg git_head "$GIT_HEAD" --argjson git_dirty "$GIT_DIRTY" \
	--argjson elapsed "$((SECONDS - T_BEGIN))" '
{
  nproc: $nproc,
  get_throughput_ratio: $get_throughput_ratio,
  get_vs_select_ratio: $get_vs_select_ratio,
  get_p50_ratio: $get_p50_ratio,
  get_p99_ratio: $get_p99_ratio,
  get_p50_ratio_paired: $get_p50_ratio_paired,
  get_p50_ratios_of_pairs: $p50_pairs,
  get_hint_p50_ratio: $get_hint_p50_ratio,
  get_hint_p50_ratios_of_pairs: $hint_pairs,
  spin_p50_ratio: $spin_p50_ratio,
  spin_p50_ratios_of_pairs: $spin_pairs,
  put_throughput_ratio: $put_throughput_ratio,
  scale_p50_ratio: $scale_p50_ratio,
  scale_p50_ratio_vs_baseline: $scale_p50_ratio_vs_baseline,
  ssh_fetch100_ratio: $ssh_fetch100_ratio,
  etcd_get_ratio: $etcd_get_ratio,
  rss_idle_256_mib: $rss_idle_256_mib,
  watch_latency_ms: (if $watch_p50 == null then null else {p50: $watch_p50, p99: $watch_p99} end),
  boot_storm_ratio: $storm_ratio,
  boot_storm_failures: $storm_failures,
  watchers_idle_rss_mib: $watchers_rss_mib,

  secretd_get_32_ops_per_s: $get32.ops_per_s,
  secretd_get_32_p50_us: $get32.p50_us,
  secretd_get_32_p99_us: $get32.p99_us,
  pg_select_audit_32_ops_per_s: $pgsa32.ops_per_s,
  pg_select_audit_32_p50_us: $pgsa32.p50_us,
  pg_select_32_ops_per_s: $pgsel32.ops_per_s,
  secretd_put_32_ops_per_s: $put32.ops_per_s,
  secretd_put_32_p50_us: $put32.p50_us,
  pg_insert_32_ops_per_s: $pgins32.ops_per_s,
  secretd_get_1_p50_us: $get1.p50_us,
  secretd_get_1_p99_us: $get1.p99_us,
  secretd_get_1_ops_per_s: $get1.ops_per_s,
  pg_select_audit_1_p50_us: $pgsa1.p50_us,
  pg_select_audit_1_p99_us: $pgsa1.p99_us,
  pg_select_audit_1_ops_per_s: $pgsa1.ops_per_s,
  scale_small_get_p50_us: $small_p50,
  scale_small_get_p99_us: $small_p99,
  scale_large_get_p50_us: $big_p50,
  scale_large_get_p99_us: $big_p99,
  scale_small_nodes: $nodes_small,
  scale_large_nodes: $nodes_big,
  scale_large_principals: $principals_big,
  scale_large_groups: $groups_big,
  scale_large_grants: $grants_big,
  scale_populate_s: $populate_s,
  scale_settle: $scale_settle,
  secret_fetch100_ms: $secret_fetch_ms,
  secret_fetch100_disk_ms: $secret_fetch_disk_ms,
  secret_fetch100_vs_default_kex_ratio: (if $secret_fetch_ms != null and $ssh_empty_ms > 0 then ($secret_fetch_ms / $ssh_empty_ms * 1000 | round / 1000) else null end),
  ssh_empty_curve25519_ms: $ssh_empty_c_ms,
  ssh_json_get100_ms: $ssh_f100_ms,
  ssh_json_get100_ratio: (if $ssh_empty_ms > 0 then ($ssh_f100_ms / $ssh_empty_ms * 1000 | round / 1000) else null end),
  ssh_empty_ms: $ssh_empty_ms,
  ssh_get_many100_ms: $ssh_many_ms,
  ssh_get_many100_ratio: (if $ssh_empty_ms > 0 then ($ssh_many_ms / $ssh_empty_ms * 1000 | round / 1000) else null end),
  etcd_get_32_ops_per_s: $etcd_ops,
  etcd_get_32_p50_us: $etcd_p50,
  etcd_get_32_serializable_ops_per_s: $etcd_ops_s,
  rss_idle_256_kib: $rss_idle_kib,
  rss_no_conn_after_load_kib: $rss_before_kib,
  watch_latency_p50_ms: $watch_p50,
  watch_latency_p99_ms: $watch_p99,
  watch_latency_min_ms: $watch_min,
  watch_latency_max_ms: $watch_max,
  watch_latency_puts: $watch_n,
  boot_storm_fetch_ms: $storm_fetch_ms,
  boot_storm_ssh_noop_ms: $storm_ssh_ms,
  boot_storm_fetch_runs_ms: $storm_fetch_runs,
  boot_storm_ssh_noop_runs_ms: $storm_ssh_runs,
  boot_storm_ssh_noop_failures: $storm_ssh_failures,
  boot_storm_wait_retries: $storm_retries,
  boot_storm_latest_start_ms: $storm_late,
  boot_storm_stock_maxstartups_ratio: $stock_ratio,
  boot_storm_stock_maxstartups_failures: $stock_failures,
  boot_storm_stock_maxstartups_wait_retries: $stock_retries,
  boot_storm_stock_maxstartups_fetch_ms: $stock_ms,
  boot_storm_stock_maxstartups_fetch_runs_ms: $stock_runs,
  boot_storm_hosts: $storm_hosts,
  boot_storm_secrets_per_host: $storm_secrets,
  boot_storm_wait_s: $storm_wait,
  watchers_idle_rss_kib: $watchers_rss_kib,
  rss_before_watchers_kib: $watchers_rss_before_kib,
  secretd_threads_with_idle_watches: $watchers_threads,
  idle_watches: $idle_watches,
  secretd_threads_with_256_idle: $threads,
  concurrency: $conc,
  measured_secs: $secs,
  throughput_reps: $reps,
  ssh_reps: $ssh_reps,
  value_bytes: $value_size,
  idle_conns: $idle_conns,
  bench_elapsed_s: $elapsed,
  loadavg_1min_start: $load_start,
  loadavg_1min_end: $load_end,
  git_modified_files: $git_dirty,

  labels: {
    ssh_fetch100_ratio: (if $secret_fetch_ms != null then "`secret fetch boot --dest DIR` of 100 secrets, DIR on tmpfs as at machine bootstrap (the secret client, libssh 0.10, which negotiates curve25519-sha256; median ms) / `ssh -T -o KexAlgorithms=curve25519-sha256 secret@127.0.0.1` with an empty command and stdin from /dev/null (plain OpenSSH client; median ms): same sshd, same ed25519 key, same key exchange. the default OpenSSH key exchange (sntrup761x25519) costs more; that ratio is secret_fetch100_vs_default_kex_ratio. With the forced command, the empty-command session still runs secret-shell in json mode: it connects to secretd and says hello, then sees end of input." else "`secret fetch` is not in this tree: measured ONE ssh session `ssh -T secret@127.0.0.1 json` sending 100 secret.get NDJSON lines on stdin (median ms) / `ssh -T secret@127.0.0.1` with an empty command and stdin from /dev/null (median ms); same sshd, same ed25519 key, plain OpenSSH client. With the forced command, the empty-command session still runs secret-shell in json mode: it connects to secretd and says hello, then sees end of input." end),
    ssh_json_get100_ratio: "one OpenSSH session `ssh -T secret@127.0.0.1 json` with 100 secret.get NDJSON lines on stdin / `ssh -T` with an empty command",
    ssh_get_many100_ratio: "the same with one secret.get_many request of 100 paths instead of 100 secret.get lines",
    etcd_get_ratio: "secretd get ops/s at the concurrency below / etcd range ops/s (linearizable, the default) through etcd 3.4 grpc-gateway HTTP/JSON on keep-alive HTTP/1.1, auth enabled, user with a read-only role on prefix /bench/",
    get_throughput_ratio: "secretd audited secret.get ops/s / libpq SELECT by primary key + INSERT of an audit_log-shaped row (autocommit, prepared), both at the concurrency below",
    put_throughput_ratio: "secretd secret.put (new versions of one key per connection) ops/s / libpq INSERT of a secret_version-shaped row (autocommit, prepared)",
    spin_p50_ratio: "median over the latency runs of (the single-connection get p50 of a run / the p50 of the same run against a secretd on the same database built without the lone request busy-waiting for its results, -DSECRETD_NO_SPIN, right after it); below 1: the busy-wait pays",
    get_hint_p50_ratio: "median over the latency runs of (the single-connection get p50 of a run / the p50 of the same run against a second secretd on the same database built without get_hint.c guessing, -DSECRETD_NO_GET_HINT, right after it); below 1: guessing pays",
    get_p50_ratio_paired: "median over the latency runs of (the single-connection get p50 of a run / the p50 of the baseline run right after it); get_p50_ratio divides the best p50 of each side instead, which may come from moments minutes apart",
    scale_p50_ratio_vs_baseline: "scale_p50_ratio with the p50 of each store first divided by the single-connection p50 of the raw baseline in a 2 s run just before it (scale_settle): what the size of the store costs secretd, without what it costs the machine",
    scale_p50_ratio: "single-connection secret.get p50 by a non-admin principal (read via a group grant) in the large store / the same in the small store",
    rss_idle_256_mib: "VmRSS of secretd with 256 idle hello-ed socket connections, after the load runs",
    watch_latency_ms: "p50 and p99, ms, over the puts (watch_latency_puts): from the answer to a secret.put of a new 64-byte value of bench/watch/k07 on secretd'"'"'s socket to the file k07 holding that value in the directory of `secret fetch bench/watch --dest DIR --watch` (the secret client over the real sshd and secret-shell, DIR on tmpfs, 20 secrets under the prefix); the file seen by inotify and a read every 2 ms; a pause of 100 to 200 ms between puts",
    boot_storm_ratio: "64 distinct principals (a key, a group and a read grant each) running `secret fetch storm/hNN --dest DIR --wait 120` (20 secrets each) at one instant: ms from that instant to the last one done / 64 `ssh -T -o KexAlgorithms=curve25519-sha256 secret@127.0.0.1` with the same keys, an empty command and stdin from /dev/null, at one instant (each through the forced secret-shell: hello, then end of input); same sshd (MaxStartups 100:30:300, as the shipped sshd snippet), secretd with max_connections at its default (256); the median of boot_storm_*_runs_ms of each side",
    boot_storm_failures: "hosts of the boot storms that did not get their 20 exact values within --wait (exit status not 0, or the files wrong), over every storm run; must be 0",
    boot_storm_stock_maxstartups_ratio: "the boot storm of boot_storm_ratio against a second sshd, the same but for MaxStartups left at OpenSSH'"'"'s default (10:30:100) / the same no-op baseline: what a data-centre power-on meets where MaxStartups was not raised (refused connections are retried by --wait)",
    watchers_idle_rss_mib: "VmRSS of secretd with 1000 idle socket sessions each watching a prefix (secret.watch answered), after the load runs and the storms",
    postgresql: ("PostgreSQL " + $pgver + ", fsync = " + $fsync + ", synchronous_commit = on, one server for every measurement"),
    etcd: ("etcd " + $etcdver),
    source: ("git " + $git_head + (if $git_dirty > 0 then " with \($git_dirty) modified tracked files" else "" end)),
    loadavg: "1-minute load average of the machine when the run started and ended: other work on the machine inflates every figure, and the ratios only partly cancel it"
  }
}' >"$OUT.tmp" || fatal "writing $OUT"
mv "$OUT.tmp" "$OUT"

# ----------------------------------------------------------------- table
row() { printf '%-22s %-10s %-9s  %s\n' "$@"; }
echo
echo "secretd benchmark ($(nproc) cores, $CONC connections, ${SECS}s runs, PostgreSQL fsync=$PG_FSYNC) -> $OUT"
row key value target "raw figures"
row ---------------------- ---------- --------- -----------------------------------------------
j() { jq -r ".$1" "$OUT"; }
row get_throughput_ratio "$(j get_throughput_ratio)" ">= 1.0" "get $(j secretd_get_32_ops_per_s)/s vs SELECT+audit INSERT $(j pg_select_audit_32_ops_per_s)/s"
row get_vs_select_ratio "$(j get_vs_select_ratio)" "(info)" "vs SELECT alone $(j pg_select_32_ops_per_s)/s"
row get_p50_ratio "$(j get_p50_ratio)" "<= 1.5" "1 conn: get p50 $(j secretd_get_1_p50_us) us vs baseline $(j pg_select_audit_1_p50_us) us"
row "  paired" "$(j get_p50_ratio_paired)" "(info)" "median of each run's p50 over the next baseline run's: $(jq -c .get_p50_ratios_of_pairs "$OUT")"
row get_hint_p50_ratio "$(j get_hint_p50_ratio)" "< 1 keeps it" "1 conn: get p50 with get_hint.c's guess / without (a second secretd built without it), median of pairs: $(jq -c .get_hint_p50_ratios_of_pairs "$OUT")"
row spin_p50_ratio "$(j spin_p50_ratio)" "< 1 keeps it" "1 conn: get p50 with the lone request's busy-wait / without (a secretd built without it), median of pairs: $(jq -c .spin_p50_ratios_of_pairs "$OUT")"
row get_p99_ratio "$(j get_p99_ratio)" "(lower)" "1 conn: get p99 $(j secretd_get_1_p99_us) us vs baseline $(j pg_select_audit_1_p99_us) us"
row put_throughput_ratio "$(j put_throughput_ratio)" ">= 0.8" "put $(j secretd_put_32_ops_per_s)/s vs INSERT $(j pg_insert_32_ops_per_s)/s"
row scale_p50_ratio "$(j scale_p50_ratio)" "<= 1.25" "p50 $(j scale_large_get_p50_us) us ($(j scale_large_nodes) nodes) vs $(j scale_small_get_p50_us) us ($(j scale_small_nodes) nodes)"
row "  vs baseline" "$(j scale_p50_ratio_vs_baseline)" "(info)" "each over the raw baseline's p50 just before it: $(jq -c '[.scale_settle.small.baseline_p50_us, .scale_settle.large.baseline_p50_us]' "$OUT") us"
if [ "$FETCH_MS" != null ]; then
	row ssh_fetch100_ratio "$(j ssh_fetch100_ratio)" "<= 1.3" "secret fetch of 100: $(j secret_fetch100_ms) ms vs ssh -T (empty, curve25519) $(j ssh_empty_curve25519_ms) ms (default kex $(j ssh_empty_ms) ms)"
	row ssh_json_get100_ratio "$(j ssh_json_get100_ratio)" "(info)" "ssh json, 100 secret.get lines: $(j ssh_json_get100_ms) ms"
	row "  fetch to disk" "$(jq -r 'if .secret_fetch100_disk_ms == null then "null" else (.secret_fetch100_disk_ms / .ssh_empty_curve25519_ms * 1000 | round / 1000) end' "$OUT")" "(info)" "secret fetch of 100 into a directory on disk: $(j secret_fetch100_disk_ms) ms"
else
	row ssh_fetch100_ratio "$(j ssh_fetch100_ratio)" "<= 1.3" "NO secret fetch yet: ssh json, 100 secret.get: $(j ssh_json_get100_ms) ms vs ssh -T (empty) $(j ssh_empty_ms) ms"
fi
row ssh_get_many100_ratio "$(j ssh_get_many100_ratio)" "(info)" "one get_many of 100: $(j ssh_get_many100_ms) ms"
row etcd_get_ratio "$(j etcd_get_ratio)" ">= 1.0" "get $(j secretd_get_32_ops_per_s)/s vs etcd $(j etcd_get_32_ops_per_s)/s (serializable $(j etcd_get_32_serializable_ops_per_s)/s)"
row rss_idle_256_mib "$(j rss_idle_256_mib)" "<= 64" "$(j rss_idle_256_kib) KiB, $(j secretd_threads_with_256_idle) threads"
if [ "$LIVE_OK" = 1 ]; then
	row watch_latency_ms "$(jq -r '.watch_latency_ms.p50' "$OUT")" "<= 500" "put acknowledged to the file switched in by fetch --watch: p50 $(jq -r '.watch_latency_ms.p50' "$OUT") ms, p99 $(jq -r '.watch_latency_ms.p99' "$OUT") ms ($(j watch_latency_puts) puts)"
	row boot_storm_ratio "$(j boot_storm_ratio)" "<= 1.5" "64 hosts x secret fetch of 20: $(j boot_storm_fetch_ms) ms vs 64 x ssh -T no-op $(j boot_storm_ssh_noop_ms) ms (runs $(jq -c .boot_storm_fetch_runs_ms "$OUT") / $(jq -c .boot_storm_ssh_noop_runs_ms "$OUT"))"
	row boot_storm_failures "$(j boot_storm_failures)" "0" "hosts without their secrets within --wait $(j boot_storm_wait_s); $(j boot_storm_wait_retries) --wait retries; no-op failures $(j boot_storm_ssh_noop_failures)"
	row "  stock MaxStartups" "$(j boot_storm_stock_maxstartups_ratio)" "(info)" "the same storm to an sshd with MaxStartups 10:30:100: $(j boot_storm_stock_maxstartups_fetch_ms) ms, $(j boot_storm_stock_maxstartups_failures) failed, $(j boot_storm_stock_maxstartups_wait_retries) --wait retries"
	row watchers_idle_rss_mib "$(j watchers_idle_rss_mib)" "<= 64" "$(j watchers_idle_rss_kib) KiB with $(j idle_watches) idle watches ($(j rss_before_watchers_kib) KiB before), $(j secretd_threads_with_idle_watches) threads"
fi

# ------------------------------------------------- high availability
# (DESIGN §11) tests/ha/run.sh in its own namespaces, after the rest:
# its keys are merged into the results file.
BENCH_HA=${BENCH_HA:-$(command -v pg_autoctl >/dev/null && echo 1 || echo 0)}
if [ "$BENCH_HA" = 1 ]; then
	say "high availability: tests/ha/run.sh (about 2 minutes)"
	if HA_BENCH=1 HA_RESULTS="$OUT.ha" "$REPO/tests/ha/run.sh" "$BENCH_BIN" >"$OUT.ha.log" 2>&1 &&
		jq -s '.[0] * .[1] | .labels.failover_gap_s = "tests/ha: kill -9 of the primary (postmaster and keeper) under the load of 16 clients to the first successful put through each front-end, s (promotion by pg_auto_failover with health checks of 1 s)" | .labels.lost_acknowledged_writes = "tests/ha: acknowledged puts and cas increments without their value or their audit row after the failover" | .labels.frontends2_get_ratio = "tests/ha: secret get (one SSH session each) ops/s by 8 clients split over two front-ends / all 8 on one; both on this one machine"' \
		"$OUT" "$OUT.ha" >"$OUT.tmp"; then
		mv "$OUT.tmp" "$OUT"
		row failover_gap_s "$(jq -c .failover_gap_s "$OUT")" "(lower)" "kill -9 of the primary to the first put through each front-end"
		row lost_acknowledged_writes "$(j lost_acknowledged_writes)" "0" "after the failover"
		row frontends2_get_ratio "$(j frontends2_get_ratio)" "(info)" "gets over two front-ends / one, same total concurrency"
	else
		say "tests/ha/run.sh failed: see $OUT.ha.log"
	fi
	rm -f "$OUT.ha" "$OUT.tmp"
fi
echo "nproc $(j nproc); finished in $((SECONDS - T_BEGIN)) s"

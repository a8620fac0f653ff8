#!/bin/bash
# tests/ha/run.sh - the high-availability test (make check-ha; README.md).
#
#   tests/ha/run.sh [BIN_DIR]        (default: bin/ of this repository)
#
# Real processes on loopback: a pg_auto_failover monitor, two PostgreSQL
# nodes (primary and synchronous standby), two front-ends (each its own
# secretd and sshd, both secretd on the formation's multi-host URI) and 16
# `secret` clients over SSH doing cas increments and plain puts.  Under
# that load the primary is killed with kill -9 (its keeper too, so that
# pg_auto_failover promotes the standby rather than the keeper restarting
# PostgreSQL in place), then one secretd is killed with kill -9 and
# started again.  Then every acknowledged write is checked.
#
# Everything runs in network, PID and mount namespaces of its own: only
# this run's loopback exists there (nothing it starts can be reached from
# outside, whatever address a program binds), and every process it
# started ends with it.  Work directory: /var/tmp/secretd-ha.XXXXXX,
# removed on success unless KEEP=1.  HA_BENCH=1 and HA_RESULTS=FILE are
# for make bench (README.md).
set -uo pipefail

if [ -z "${SD_HA_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "$0: must run as root (starts sshd and PostgreSQL)" >&2; exit 1; }
	SD_HA_NS=1 exec unshare --net --pid --fork --mount-proc --kill-child=TERM "$0" "$@"
fi
ip link set lo up || exit 1
# nothing of a caller's environment (make bench runs this with its own
# PostgreSQL's PG* variables exported) reaches pg_autoctl, psql or secret
unset PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGDATA PGOPTIONS \
	SECRET_SERVER SECRET_IDENTITY SECRET_KNOWN_HOSTS SECRETD_WORK

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN_ARG=${1:-$REPO/bin}
# shellcheck source=../integration/lib.sh
. "$REPO/tests/integration/lib.sh"
BIN_ABS=$(cd "$BIN_ARG" 2>/dev/null && pwd) || { echo "$0: no such directory: $BIN_ARG" >&2; exit 2; }
command -v pg_autoctl >/dev/null ||
	{ echo "$0: pg_autoctl not found: run tests/deps.sh ha" >&2; exit 1; }

CLIENTS=${HA_CLIENTS:-16}
COUNTERS=4
LOAD_BEFORE=${HA_LOAD_BEFORE:-6}	# seconds of load before the failover
T0=$(date +%s.%N)
HA=$(mktemp -d /var/tmp/secretd-ha.XXXXXX) || exit 1
chmod 0711 "$HA"
mkdir -p "$HA/pg" "$HA/res"
chown postgres:postgres "$HA/pg"
PGP=$PG_BINDIR:/usr/bin:/bin

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[ha %5.1fs] %s\n' "$(since "$T0" "$(now)")" "$*" >&2; }

# pgac ARGS...: pg_autoctl as postgres, its state under $HA/pg
pgac() {
	as_postgres env HOME="$HA/pg" PATH="$PGP" pg_autoctl "$@"
}
# keeper NAME PGDATA: `pg_autoctl run` in the background (pid in $HA/NAME.pid)
keeper() {
	spawn "$HA/$1.pid" "$HA/$1.log" setpriv --reuid=postgres --regid=postgres \
		--init-groups -- env HOME="$HA/pg" PATH="$PGP" pg_autoctl run --pgdata "$2"
}
# A cluster made by initdb, for pg_autoctl to take over: small, loopback.
# (postgresql.auto.conf wins over the tuning pg_autoctl writes into
# postgresql.conf; pg_basebackup copies it to the standby.)
pg_init() {
	as_postgres env PATH="$PGP" initdb -D "$1" -A trust -U postgres >/dev/null || return 1
	cat >>"$1/postgresql.auto.conf" <<-EOF
	listen_addresses = '127.0.0.1'
	shared_buffers = '64MB'
	max_connections = 100
	fsync = off
	EOF
}
psql_at() { # psql_at PORT SQL: as postgres, database secretd
	psql -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d secretd -c "$2"
}
# state: "name:port:role" per node, from the monitor
node_states() {
	pgac show state --pgdata "$HA/pg/mon" --json 2>/dev/null |
		jq -r '.[] | "\(.nodename):\(.nodeport):\(.current_group_state // .reported_state):\(.assigned_group_state // .assigned_state)"'
}
wait_states() { # wait_states SECS PATTERN...: every pattern matches a node line
	local secs=$1 i p st ok
	shift
	for ((i = 0; i < secs * 2; i++)); do
		st=$(node_states)
		ok=1
		for p in "$@"; do grep -Eq "$p" <<<"$st" || ok=0; done
		[ $ok = 1 ] && return 0
		sleep 0.5
	done
	log "formation state: $(tr '\n' ' ' <<<"$st")"
	pgac show state --pgdata "$HA/pg/mon" >&2
	return 1
}

cleanup() {
	local w
	for w in "$HA"/fe1 "$HA"/fe2; do
		[ -d "$w" ] || continue
		(env_load "$w" && sshd_down && secretd_down) 2>/dev/null
		[ -n "$(cat "$w/rundir" 2>/dev/null)" ] && rm -rf "$(cat "$w/rundir")"
	done
	for w in mon node1 node2; do	# each stops its PostgreSQL
		p=$(sd_pidfile_alive "$HA/$w.pid" pg_autoctl) && stop_pid "$p" "$w" 20
	done
	if [ "${TEST_FAIL:-1}" = 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$HA"
	else
		echo "work directory kept: $HA" >&2
	fi
}

# ------------------------------------------------------------- formation

PM=$(free_port) && P1=$(free_port) && P2=$(free_port) || exit 1
while [ "$P2" = "$P1" ] || [ "$P1" = "$PM" ] || [ "$P2" = "$PM" ]; do P2=$(free_port); P1=$(free_port); done
MON_URI="postgres://autoctl_node@127.0.0.1:$PM/pg_auto_failover?sslmode=disable"

log "monitor on 127.0.0.1:$PM"
pg_init "$HA/pg/mon" || exit 1
pgac create monitor --pgdata "$HA/pg/mon" --pgport "$PM" --hostname 127.0.0.1 \
	--auth trust --no-ssl >"$HA/mon.create.log" 2>&1 || { sd_dump "$HA/mon.create.log"; exit 1; }
pgac config set --pgdata "$HA/pg/mon" postgresql.listen_addresses 127.0.0.1 >/dev/null || exit 1
# notice a dead node within seconds, and do not wait for a primary that
# cannot be reached to demote itself (defaults: 5 s checks, a 20 s
# timeout, 30 s for the demotion)
cat >>"$HA/pg/mon/postgresql.auto.conf" <<-EOF
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 4000
pgautofailover.primary_demote_timeout = 4000
EOF
keeper mon "$HA/pg/mon" || exit 1

node_create() { # node_create NAME PORT
	pgac create postgres --pgdata "$HA/pg/$1" --pgport "$2" --listen 127.0.0.1 \
		--hostname 127.0.0.1 --name "$1" --dbname secretd --monitor "$MON_URI" \
		--auth trust --no-ssl --replication-quorum true --candidate-priority 50 \
		>"$HA/$1.create.log" 2>&1 || { sd_dump "$HA/$1.create.log"; return 1; }
}
for ((i = 0; i < 60; i++)); do
	pgac show state --pgdata "$HA/pg/mon" >/dev/null 2>&1 && break
	sleep 0.5
done
log "node1 on 127.0.0.1:$P1"
pg_init "$HA/pg/node1" || exit 1
node_create node1 "$P1" || exit 1
keeper node1 "$HA/pg/node1" || exit 1
wait_states 60 "^node1:$P1:single:single" || { sd_dump "$HA/node1.log"; exit 1; }
log "node2 on 127.0.0.1:$P2"
node_create node2 "$P2" || exit 1
keeper node2 "$HA/pg/node2" || exit 1
wait_states 120 "^node1:$P1:primary:primary" "^node2:$P2:secondary:secondary" ||
	{ sd_dump "$HA/node2.log"; exit 1; }
pgac set formation number-sync-standbys 1 --pgdata "$HA/pg/node1" >"$HA/sync.log" 2>&1 ||
	{ log "number-sync-standbys 1 refused; the formation's default applies:"; sed 's/^/    /' "$HA/sync.log" >&2; }
log "formation up ($(since "$T0" "$(now)") s): $(node_states | tr '\n' ' ')"

psql_at "$P1" "CREATE ROLE secretd_admin LOGIN SUPERUSER; CREATE ROLE secretd LOGIN;
	ALTER DATABASE secretd OWNER TO secretd_admin;" >/dev/null || exit 1
SYNC_NAMES=$(psql_at "$P1" "SHOW synchronous_standby_names")
URI=$(pgac show uri --pgdata "$HA/pg/mon" --formation default) || exit 1
log "formation URI: $URI (synchronous_standby_names: $SYNC_NAMES)"
# the URI as pg_autoctl prints it, with our role and a connect timeout
DB_URI="$URI&user=secretd&connect_timeout=2"
ADMIN_URI="$URI&user=secretd_admin&connect_timeout=2"

# ------------------------------------------------------------ front-ends

ensure_secret_user || exit 1
# fe_up N: front-end N (its own secretd and sshd), W=$HA/feN
fe_up() {
	W=$HA/fe$1
	mkdir -p "$W"
	env_load "$W"
	chmod 0711 "$W"
	mkdir -p "$W/home" "$W/keys" "$W/tmp" "$W/results" "$W/san"
	BIN=$BIN_ABS
	printf '%s\n' "$BIN" >"$W/bin"
	if [ "$1" != 1 ]; then
		# one keyring, one admin, one SSH host key for every front-end
		cp -p "$HA/fe1/keyring" "$HA/fe1/admin" "$HA/fe1/admin.pub" \
			"$HA/fe1/ssh_host_ed25519_key" "$HA/fe1/ssh_host_ed25519_key.pub" "$W/" || return 1
		touch "$W/initialized"
	fi
	PG_SOCK=/nonexistent SD_PGPORT=0
	rundir_up secretd-ha || return 1
	secretd_conf || return 1
	sed -i -e "s|^database = .*|database = ${DB_URI//&/\\&}|" \
		-e "s|^admin_database = .*|admin_database = ${ADMIN_URI//&/\\&}|" \
		-e "s|^log_level = .*|log_level = info|" "$W/secretd.conf"
	secretd_init && secretd_up && sshd_up && write_env
}
(fe_up 1) || { echo "front-end 1 did not start" >&2; exit 1; }
(fe_up 2) || { echo "front-end 2 did not start" >&2; exit 1; }
log "front-ends up: sshd $(cat "$HA/fe1/port") and $(cat "$HA/fe2/port")"

export SECRETD_WORK=$HA/fe1
test_init
at_exit cleanup
TEST_NAME=check-ha
describe "the formation"
expect_ne "$SYNC_NAMES" "" "the primary has a synchronous standby"

# client N ARGS...: the secret client through front-end N
client() {
	local n=$1
	shift
	SECRET_SERVER="secret@127.0.0.1:$(cat "$HA/fe$n/port")" \
		SECRET_KNOWN_HOSTS="$HA/fe$n/known_hosts" SECRET_IDENTITY="$HA/fe1/admin" \
		"$BIN_ABS/secret" "$@"
}
secretd_pid() { cat "$HA/fe$1/secretd.pid"; }

describe "both front-ends serve"
for n in 1 2; do
	expect_exit 0 run_in "0" client "$n" put "ha/probe$n"
done
for ((c = 0; c < COUNTERS; c++)); do
	printf '0' | client 1 put "ha/counter/c$c" >/dev/null || die "counter c$c"
done

# get_rate SECS FE...: gets per second by one client loop per FE given
get_rate() {
	local secs=$1 end k total=0 pids=()
	shift
	end=$(( $(date +%s) + secs ))
	k=0
	for fe in "$@"; do
		k=$((k + 1))
		( n=0; while [ "$(date +%s)" -lt "$end" ]; do
			client "$fe" get ha/probe1 >/dev/null 2>&1 && n=$((n + 1))
		done; echo "$n" >"$HA/res/rate$k" ) &
		pids+=("$!")
	done
	for p in "${pids[@]}"; do wait "$p"; done
	for ((; k > 0; k--)); do total=$((total + $(cat "$HA/res/rate$k"))); done
	awk -v n="$total" -v s="$secs" 'BEGIN { printf "%.1f", n / s }'
}
FE2_RATIO=null
if [ -n "${HA_BENCH:-}" ]; then
	# make bench: the same total concurrency on one front-end, then two
	ONE=$(get_rate 6 1 1 1 1 1 1 1 1)
	TWO=$(get_rate 6 1 1 1 1 2 2 2 2)
	FE2_RATIO=$(awk -v a="$TWO" -v b="$ONE" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }')
	log "gets/s, 8 clients: one front-end $ONE, two $TWO (ratio $FE2_RATIO)"
fi

# ------------------------------------------------------------------ load

# worker I: until $HA/stop exists, alternate a cas increment of counter
# I % COUNTERS and a plain put of a unique value; one line per outcome in
# res/wI: inc C VERSION | incunknown C | incconflict C | incfail C CODE |
#          put PATH VERSION | putunknown PATH | putfail PATH CODE
worker() {
	local i=$1 fe=$(( $1 % 2 + 1 )) c=$(( $1 % COUNTERS )) n=0 out val ver err rc
	local f=$HA/res/w$i
	: >"$f"
	while [ ! -e "$HA/stop" ]; do
		n=$((n + 1))
		# a plain put, never retried
		p="ha/u/w$i-$n"
		err=$(printf '%s' "w$i-$n" | client "$fe" --json put "$p" 2>&1 >"$HA/res/w$i.out")
		rc=$?
		if [ $rc = 0 ]; then
			echo "put $p $(jq -r .version "$HA/res/w$i.out")" >>"$f"
		elif grep -q 'may or may not have been committed' <<<"$err" ||
			grep -q 'connection closed before a response' <<<"$err"; then
			echo "putunknown $p $(now)" >>"$f"
		else
			echo "putfail $p $(now) $(head -n 1 <<<"$err")" >>"$f"
			sleep 0.2
		fi
		# cas increment: read, then put value+1 --cas version
		if out=$(client "$fe" --json get "ha/counter/c$c" --wait 60s 2>/dev/null); then
			val=$(jq -r .value <<<"$out")
			ver=$(jq -r .version <<<"$out")
			[[ $val =~ ^[0-9]+$ && $ver =~ ^[0-9]+$ ]] || continue
			err=$(printf '%s' "$((val + 1))" | client "$fe" --json put "ha/counter/c$c" --cas "$ver" --wait 60s 2>&1 >"$HA/res/w$i.out")
			rc=$?
			if [ $rc = 0 ]; then
				echo "inc c$c $(jq -r .version "$HA/res/w$i.out")" >>"$f"
			elif [ $rc = 6 ]; then
				echo "incconflict c$c" >>"$f"
			elif grep -q 'may or may not have been committed' <<<"$err" ||
				grep -q 'connection closed before a response' <<<"$err"; then
				echo "incunknown c$c $(now)" >>"$f"
			else
				echo "incfail c$c $(now) $(head -n 1 <<<"$err")" >>"$f"
			fi
		fi
	done
}
# prober N: the first put through front-end N that succeeds, after now
prober() {
	local n=$1
	until printf 'x' | client "$n" put "ha/gap/fe$n" >/dev/null 2>&1; do
		sleep 0.1
	done
	now >"$HA/res/gap$n"
}

SD1_PID=$(secretd_pid 1) SD2_FIRST=$(secretd_pid 2)
WPIDS=()
for ((i = 0; i < CLIENTS; i++)); do
	worker "$i" &
	WPIDS+=("$!")
done
log "$CLIENTS clients running"
sleep "$LOAD_BEFORE"

# -------------------------------------------------------------- failover

describe "kill -9 of the primary: the standby is promoted"
PRIMARY_PID=$(head -n 1 "$HA/pg/node1/postmaster.pid")
KEEPER_PID=$(cat "$HA/node1.pid")
kpids=("$KEEPER_PID" $(sd_descendants "$KEEPER_PID"))
TKILL=$(now)
kill -KILL "${kpids[@]}" "$PRIMARY_PID" 2>/dev/null
log "killed node1: postmaster $PRIMARY_PID and its keeper (kill -9)"
prober 1 &
PR1=$!
prober 2 &
PR2=$!
wait_states 120 "^node2:$P2:(wait_primary|primary):" ||
	fail "node2 was not promoted"
log "node2 promoted ($(since "$TKILL" "$(now)") s after the kill)"
for ((i = 0; i < 600; i++)); do
	[ -s "$HA/res/gap1" ] && [ -s "$HA/res/gap2" ] && break
	sleep 0.1
done
for p in $PR1 $PR2; do
	alive "$p" && kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
PR1= PR2=
GAP1=$([ -s "$HA/res/gap1" ] && since "$TKILL" "$(cat "$HA/res/gap1")" || echo none)
GAP2=$([ -s "$HA/res/gap2" ] && since "$TKILL" "$(cat "$HA/res/gap2")" || echo none)
expect_ne "$GAP1" none "a put through front-end 1 succeeded after the failover"
expect_ne "$GAP2" none "a put through front-end 2 succeeded after the failover"
log "failover gap: front-end 1 $GAP1 s, front-end 2 $GAP2 s"
sleep 3

describe "kill -9 of one secretd, then a restart"
SD2_PID=$(secretd_pid 2)
kill -KILL "$SD2_PID"
log "killed secretd of front-end 2 (pid $SD2_PID)"
sleep 1
(W=$HA/fe2; env_load "$W"; secretd_up) || fail "secretd of front-end 2 did not start again"
SD2_RESTARTED=$(secretd_pid 2)
log "secretd of front-end 2 restarted (pid $SD2_RESTARTED)"
sleep 5

touch "$HA/stop"
for p in "${WPIDS[@]}"; do wait "$p"; done
WPIDS=()
log "load stopped"

# ----------------------------------------------------------------- checks

cat "$HA"/res/w* >"$HA/res/all"
count() { grep -c "^$1 " "$HA/res/all"; }
N_INC=$(count inc) N_INCU=$(count incunknown) N_CONF=$(count incconflict) N_INCF=$(count incfail)
N_PUT=$(count put) N_PUTU=$(count putunknown) N_PUTF=$(count putfail)
PRIMARY_PORT=$P2

describe "every acknowledged put is readable with its value and version"
# one session, one secret.get per acknowledged put
grep '^put ' "$HA/res/all" | while read -r _ p v; do
	jq -cn --arg p "$p" --argjson v "$v" '{action:"secret.get", path:($p | split("/")), version:$v}'
done >"$HA/res/gets"
plain_ssh_fe1() {
	ssh -T -p "$(cat "$HA/fe1/port")" -i "$HA/fe1/admin" -o IdentitiesOnly=yes \
		-o UserKnownHostsFile="$HA/fe1/known_hosts" -o StrictHostKeyChecking=yes \
		-o BatchMode=yes -F /dev/null secret@127.0.0.1 json
}
plain_ssh_fe1 <"$HA/res/gets" >"$HA/res/got" 2>"$HA/res/got.err"
expect_eq "$(wc -l <"$HA/res/got")" "$N_PUT" "one answer per acknowledged put"
expect_eq "$(jq -r 'select(.ok != true) | .error.code' "$HA/res/got" | sort | uniq -c | tr -s ' ')" "" "no failed read"
bad=$(paste -d ' ' <(grep '^put ' "$HA/res/all" | awk '{ print $2, $3 }') \
	<(jq -r '"\(.path | join("/")) \(.version) \(.value)"' "$HA/res/got") |
	awk '{ split($1, a, "/"); if ($1 != $3 || $2 != $4 || $5 != a[3]) print }')
expect_eq "$bad" "" "values and versions as acknowledged"

describe "a write that failed, failed as unavailable (never retried without cas)"
expect_eq "$(grep -E '^(putfail|incfail) ' "$HA/res/all" | grep -vc 'secret: unavailable: ')" 0 \
	"failures other than unavailable"

describe "counters: acknowledged increments, plus at most the unknown ones"
for ((c = 0; c < COUNTERS; c++)); do
	acked=$(grep -c "^inc c$c " "$HA/res/all")
	unknown=$(grep -c "^incunknown c$c " "$HA/res/all")
	out=$(client 1 --json get "ha/counter/c$c") || { fail "get c$c"; continue; }
	val=$(jq -r .value <<<"$out")
	ver=$(jq -r .version <<<"$out")
	expect_eq "$val" "$((ver - 1))" "c$c: one increment per version"
	expect_true test "$val" -ge "$acked" -a "$val" -le "$((acked + unknown))"
	log "counter c$c = $val: $acked acknowledged, $unknown unknown"
done
dups=$(grep '^inc ' "$HA/res/all" | awk '{ print $2, $3 }' | sort | uniq -d)
expect_eq "$dups" "" "no counter version acknowledged twice"
dups=$(grep '^put ' "$HA/res/all" | awk '{ print $2 }' | sort | uniq -d)
expect_eq "$dups" "" "no unique path acknowledged twice"

describe "every acknowledged write has its audit row; the chain is intact"
psql_at "$PRIMARY_PORT" "SELECT array_to_string(path, '/') || ' ' || version FROM audit_log
	WHERE action = 'secret.put' AND result = 'ok' AND path[1] = 'ha'" | sort >"$HA/res/audited"
missing=$( { grep '^put ' "$HA/res/all" | awk '{ print $2, $3 }';
	grep '^inc ' "$HA/res/all" | awk '{ print "ha/counter/" $2, $3 }'; } | sort | comm -23 - "$HA/res/audited")
expect_eq "$missing" "" "acknowledged writes without an audit row"
expect_exit 0 client 1 audit verify
expect_out_lacks truncated
log "audit verify: $(head -n 3 "$OUT_FILE" | tr '\n' ' ')"

describe "no secretd exited but the one killed"
expect_true alive "$SD1_PID"
expect_true alive "$SD2_RESTARTED"
expect_eq "$(secretd_pid 1)" "$SD1_PID" "front-end 1's secretd is the one started first"
expect_eq "$SD2_PID" "$SD2_FIRST" "front-end 2's secretd ran until killed"

describe "the results"
LOST=$(grep -c . <<<"$missing")
TOTAL=$(since "$T0" "$(now)")
cat <<EOF
check-ha results
  clients                     $CLIENTS over two front-ends
  increments acknowledged     $N_INC (conflicts $N_CONF, outcome unknown $N_INCU, failed $N_INCF)
  unique puts acknowledged    $N_PUT (outcome unknown $N_PUTU, failed $N_PUTF)
  failover gap                front-end 1: $GAP1 s, front-end 2: $GAP2 s (kill -9 to first put)
  lost acknowledged writes    $LOST
  whole run                   $TOTAL s
EOF
jq -n --argjson g1 "${GAP1/none/null}" --argjson g2 "${GAP2/none/null}" --argjson lost "$LOST" \
	--argjson ratio "$FE2_RATIO" --argjson unknown "$((N_INCU + N_PUTU))" \
	'{failover_gap_s: (if $g1 == null or $g2 == null then null else ([$g1, $g2] | max) end),
	  failover_gap_per_frontend_s: [$g1, $g2], lost_acknowledged_writes: $lost,
	  frontends2_get_ratio: $ratio, ha_outcome_unknown_writes: $unknown}' >"$HA/results.json"
[ -n "${HA_RESULTS:-}" ] && cp "$HA/results.json" "$HA_RESULTS"
ok "printed"
done_testing

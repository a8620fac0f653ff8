#!/bin/bash
# t_12_executor.sh - the request executor (secretd/exec.c) under
# concurrency: gets and puts of many sessions at once run in batches
# (server.stats says so), and every member of a batch gets its own
# outcome and its own audit row, whatever the others' were.  A denied
# put, a check-and-set conflict and a put that must create its path
# (handed back by the batch and run whole) sit beside puts and gets that
# succeed; each ok put's audit row names the version that committed with
# it.
. "$(dirname "$0")/lib.sh"
test_init

SOCKPY=$SD_LIB_DIR/sock.py
SOCK=$RUNDIR/secretd.sock
T=$W/tmp/t12
mkdir -p "$T"
N=24		# sessions at once
K=18		# requests each

describe "setup: bob may write ex/w, and may not touch ex/ro"
bob=$(new_key exbob) || die "ssh-keygen"
expect_exit 0 secret principal create exbob --key "$bob.pub"
expect_exit 0 secret group create exw
expect_exit 0 secret group add exw exbob
expect_exit 0 secret acl set ex/w exw read,write
{
	for k in $(seq 0 $((K - 1))); do
		printf '{"action":"secret.put","path":["ex","w","p%d"],"value":"seed"}\n' "$k"
		printf '{"action":"secret.put","path":["ex","ro","p%d"],"value":"seed"}\n' "$k"
	done
} >"$T/seed"
run_in_file "$T/seed" "$SOCKPY" "$SOCK" --hello "$W/admin.pub"
expect_rc 0
expect_eq "$(jq -r 'select(.ok != true)' "$OUT_FILE" | head -c 1)" "" "every seed put ok"
MARK=$(sql "SELECT coalesce(max(id), 0) FROM audit_log")
read -r A0 B0 C0 < <(run_in $'{"action":"server.stats"}\n' "$SOCKPY" "$SOCK" --hello "$W/admin.pub" >/dev/null;
	jq -r '.executor | "\(.alone) \(.batches) \(.batched)"' "$OUT_FILE" | tail -n 1)

# Session s, request k: what it sends and what it must get (ok or the
# error code), one line each in $T/want.s
describe "$N sessions x $K requests at once: puts, gets, a denial, a conflict, new paths"
for s in $(seq 0 $((N - 1))); do
	: >"$T/req.$s"
	: >"$T/want.$s"
	for k in $(seq 0 $((K - 1))); do
		id="s$s-$k"
		case $(((s + k) % 6)) in
		0) printf '{"id":"%s","action":"secret.put","path":["ex","w","p%d"],"value":"v%s"}\n' "$id" "$k" "$id"; w=ok ;;
		1) printf '{"id":"%s","action":"secret.get","path":["ex","w","p%d"]}\n' "$id" "$k"; w=ok ;;
		2) printf '{"id":"%s","action":"secret.put","path":["ex","ro","p%d"],"value":"x"}\n' "$id" "$k"; w=BOB ;;
		3) printf '{"id":"%s","action":"secret.put","path":["ex","w","p%d"],"value":"x","cas":999}\n' "$id" "$k"; w=conflict ;;
		4) printf '{"id":"%s","action":"secret.put","path":["ex","new","s%d","i%d"],"value":"n"}\n' "$id" "$s" "$k"; w=BOB ;;
		5) printf '{"id":"%s","action":"secret.get","path":["ex","ro","p%d"]}\n' "$id" "$k"; w=BOB ;;
		esac >>"$T/req.$s"
		printf '%s %s\n' "$id" "$w" >>"$T/want.$s"
	done
done
pids=()
for s in $(seq 0 $((N - 1))); do
	# odd sessions are bob's: his denials are the failed members
	key=$W/admin.pub
	[ $((s % 2)) = 1 ] && key=$bob.pub
	"$SOCKPY" "$SOCK" --hello "$key" <"$T/req.$s" >"$T/out.$s" 2>"$T/err.$s" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
bad=0
okputs=0
for s in $(seq 0 $((N - 1))); do
	tail -n +2 "$T/out.$s" | jq -r '"\(.id) \(if .ok then "ok" else .error.code end)"' >"$T/got.$s"
	# bob's: a write at ex/ro or ex/new is denied, a read at ex/ro too;
	# admin's succeed
	if [ $((s % 2)) = 1 ]; then
		sed 's/ BOB$/ permission_denied/' "$T/want.$s" >"$T/w.$s"
	else
		sed 's/ BOB$/ ok/' "$T/want.$s" >"$T/w.$s"
	fi
	if ! diff -u "$T/w.$s" "$T/got.$s" >"$T/diff.$s"; then
		bad=$((bad + 1))
		head -n 20 "$T/diff.$s" >&2
	fi
	okputs=$((okputs + $(jq -r 'select(.ok == true and .version != null and .value == null) | .id' <(tail -n +2 "$T/out.$s") | wc -l)))
done
expect_eq "$bad" 0 "sessions whose answers differ from what each request must get"

describe "the executor ran batches, and some held more than one request"
run_in $'{"action":"server.stats"}\n' "$SOCKPY" "$SOCK" --hello "$W/admin.pub"
read -r A1 B1 C1 < <(jq -r '.executor | "\(.alone) \(.batches) \(.batched)"' "$OUT_FILE" | tail -n 1)
expect_true test $((B1 - B0)) -gt 0
expect_true test $((C1 - C0)) -gt $((B1 - B0))

describe "every request has its own audit row, with its own outcome"
rows() { sql "SELECT count(*) FROM audit_log WHERE id > $MARK AND action = '$1' AND result = '$2' AND coalesce(error_code, '') = '$3'"; }
want() { cat "$T"/w.* | awk -v o="$2" '$2 == o' | while read -r id _; do grep -h "\"id\":\"$id\"" "$T"/req.* ; done | grep -c "\"action\":\"$1\""; }
expect_eq "$(rows secret.put ok '')" "$(want secret.put ok)" "ok put rows"
expect_eq "$(rows secret.get ok '')" "$(want secret.get ok)" "ok get rows"
expect_eq "$(rows secret.put denied permission_denied)" "$(want secret.put permission_denied)" "denied put rows"
expect_eq "$(rows secret.get denied permission_denied)" "$(want secret.get permission_denied)" "denied get rows"
expect_eq "$(rows secret.put error conflict)" "$(want secret.put conflict)" "conflict rows"
expect_eq "$(sql "SELECT count(DISTINCT request_id) FROM audit_log WHERE id > $MARK AND action LIKE 'secret.%'")" \
	"$((N * K))" "one row per request id"

describe "each ok put's row names the version that committed with it"
expect_eq "$(sql "SELECT count(*) FROM audit_log a JOIN node n ON n.id = sd_node_id(a.path)
	JOIN secret_version v ON v.node_id = n.id AND v.version = a.version
	WHERE a.id > $MARK AND a.action = 'secret.put' AND a.result = 'ok'")" \
	"$(rows secret.put ok '')" "ok put rows with their version"
expect_eq "$(sql "SELECT count(*) FROM secret_version WHERE created_by = 'exbob'
	AND node_id NOT IN (SELECT id FROM node WHERE parent_id = sd_node_id(ARRAY['ex','w']))")" \
	0 "no denied put made a version"
expect_eq "$(sql "SELECT count(*) FROM node WHERE parent_id = sd_node_id(ARRAY['ex','new'])")" \
	"$((N / 2))" "new paths: admin's sessions' only"

describe "alone, a get that guesses its version sends its row with its read, and the statement is valid"
# the first get of a path learns its version (get_hint.c), the next ones
# guess it, and a get of a given version guesses that one; a statement
# that PostgreSQL refuses would fall back to two round trips, answering
# right, so the log is what shows it
secretd_log_mark
req=$'{"id":"g1","action":"secret.get","path":["ex","w","p1"]}\n{"id":"g2","action":"secret.get","path":["ex","w","p1"]}\n{"id":"g3","action":"secret.get","path":["ex","w","p1"],"version":1}\n{"id":"g4","action":"secret.put","path":["ex","w","p1"],"value":"z"}\n'
run_in "$req" "$SOCKPY" "$SOCK" --hello "$W/admin.pub"
expect_eq "$(tail -n +2 "$OUT_FILE" | jq -r '"\(.id) \(.ok)"' | tr '\n' ' ')" "g1 true g2 true g3 true g4 true " "answers"
expect_lacks "$(secretd_log_since)" "error" "no database error in the daemon's log"
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE id > $MARK AND request_id IN ('\"g1\"', '\"g2\"', '\"g3\"') AND result = 'ok'")" 3 "a row each"

describe "the trail still verifies"
expect_exit 0 secret audit verify

done_testing

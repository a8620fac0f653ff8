#!/bin/bash
# t_57_stats.sh - server.stats and `secretd stats` (issue 24), on a
# secretd of its own: the Prometheus output parses (promtool when it is
# installed, and always a strict parser of the format); its counters move
# with requests (N gets: the counter rises by N, and so does the
# histogram's count); sessions are counted, enrol-only ones apart;
# server.stats needs the global audit permission and is audited, granted
# or denied, over the socket and through the real sshd and secret-shell
# (the NDJSON relay); --output writes the file whole, 0644.
. "$(dirname "$0")/lib.sh"
test_init

SOCKPY=$SD_LIB_DIR/sock.py
PROMCHECK=$SD_LIB_DIR/promcheck.py
SS=$RUNDIR/stats.sock
sed -e "s|^socket = .*|socket = $SS|" "$W/secretd.conf" >"$T/s.conf"
helper_start s "$BIN/secretd" -c "$T/s.conf" serve	# (log: $T/s.log)
for _ in $(seq 100); do [ -S "$SS" ] && break; sleep 0.1; done
[ -S "$SS" ] || { cat "$T/s.log"; die "secretd for stats did not start"; }

stats() { "$BIN/secretd" -c "$T/s.conf" stats --socket "$SS" "$@"; }
# the audit rows of this file only: other files share the database
MARK=$(sql "SELECT coalesce(max(id), 0) FROM audit_log")
# metric SERIES FILE: the value of one series (exact text before the
# value) in a Prometheus file, or "none"
metric() { awk -v s="$1" 'index($0, s " ") == 1 { print $2; f = 1 } END { if (!f) print "none" }' "$2"; }
GET_OK='secretd_requests_total{action="secret.get",result="ok"}'
GET_COUNT='secretd_request_duration_seconds_count{action="secret.get"}'

describe "secretd stats --prometheus: the exposition format, strictly"
expect_exit 0 secret put stats/a <<<"v"
run_in '{"action":"secret.get","path":["stats","a"]}'$'\n' "$SOCKPY" "$SS" --hello "$W/admin.pub"
expect_exit 0 stats --key "$W/admin.pub" --prometheus
cp "$OUT_FILE" "$T/1.prom"
expect_exit 0 "$PROMCHECK" "$T/1.prom"
if command -v promtool >/dev/null; then
	run_in_file "$T/1.prom" promtool check metrics
	expect_rc 0
	expect_out ""
else
	ok "promtool not installed: checked by promcheck.py only"
fi
for fam in "secretd_info gauge" "secretd_uptime_seconds gauge" "secretd_requests_total counter" \
	"secretd_request_duration_seconds histogram" "secretd_sessions gauge" \
	"secretd_pool_connections gauge" "secretd_pool_connections_in_use gauge" "secretd_pool_waiting gauge" \
	"secretd_audit_queue_rows gauge" "secretd_audit_unsealed_rows gauge" "secretd_audit_seal_lag_seconds gauge"; do
	expect_true grep -qx "# TYPE $fam" "$T/1.prom"
done
expect_eq "$(metric 'secretd_info{version="'"$(cat "$SD_REPO/VERSION")"'"}' "$T/1.prom")" 1 "version"
expect_eq "$(metric "$GET_OK" "$T/1.prom")" 1 "one get so far"
expect_eq "$(metric 'secretd_request_duration_seconds_bucket{action="secret.get",le="+Inf"}' "$T/1.prom")" 1 "+Inf bucket"
expect_eq "$(metric secretd_pool_connections "$T/1.prom")" 8 "pool_size"
expect_eq "$(metric secretd_pool_connections_in_use "$T/1.prom")" 1 "its own connection in use"

describe "the promcheck parser fails a broken file (so it can fail)"
sed 's/^secretd_pool_waiting 0$/secretd_pool_waiting{a="\\q"} 0/' "$T/1.prom" >"$T/bad.prom"
expect_exit 1 "$PROMCHECK" "$T/bad.prom"
grep -v '_count{action="secret.get"}' "$T/1.prom" >"$T/bad2.prom"
expect_exit 1 "$PROMCHECK" "$T/bad2.prom"

describe "the counters move with requests: 25 gets, +25"
N=25
for i in $(seq $N); do printf '{"id":%d,"action":"secret.get","path":["stats","a"]}\n' "$i"; done >"$T/gets"
run_in_file "$T/gets" "$SOCKPY" "$SS" --hello "$W/admin.pub"
expect_rc 0
expect_eq "$(jq -r .ok "$OUT_FILE" | sort | uniq -c | tr -s ' ')" " 26 true" "hello and 25 gets answered"
printf '{"action":"secret.get","path":["stats","none"]}\n' >"$T/miss"
run_in_file "$T/miss" "$SOCKPY" "$SS" --hello "$W/admin.pub"
expect_exit 0 stats --key "$W/admin.pub" --prometheus
cp "$OUT_FILE" "$T/2.prom"
expect_exit 0 "$PROMCHECK" "$T/2.prom"
expect_eq "$(metric "$GET_OK" "$T/2.prom")" $((1 + N)) "secret.get ok: 1 + $N"
expect_eq "$(metric "$GET_COUNT" "$T/2.prom")" $((2 + N)) "histogram count: every get, the miss too"
expect_eq "$(metric 'secretd_requests_total{action="secret.get",result="not_found"}' "$T/2.prom")" 1 "the miss, by its code"
expect_eq "$(metric 'secretd_requests_total{action="server.stats",result="ok"}' "$T/2.prom")" 1 "the first stats call counted"
expect_eq "$(metric secretd_sessions'{kind="principal"}' "$T/2.prom")" 1 "this stats session"
expect_eq "$(metric secretd_sessions'{kind="enrol_only"}' "$T/2.prom")" 0 "no enrol-only session"

describe "enrol-only sessions are counted apart"
unk=$(new_key stats_unknown) || die "ssh-keygen"
mkfifo "$T/hold"
"$SOCKPY" "$SS" --hello "$unk.pub" <"$T/hold" >"$T/hold.out" 2>/dev/null &
HOLD=$!
bg_note "$HOLD"
exec 7>"$T/hold"
for _ in $(seq 100); do [ -s "$T/hold.out" ] && break; sleep 0.05; done
expect_eq "$(jq -r .enrol_only "$T/hold.out")" true "an enrol-only session"
expect_exit 0 stats --key "$W/admin.pub" --json
expect_json '.sessions.enrol_only' 1
expect_json '.sessions.principal' 1
expect_json '.pool | "\(.size) \(.in_use) \(.waiting)"' "8 1 0"
expect_json '.audit | (.queued_rows >= 0 and .unsealed_rows >= 0 and .seal_lag_s >= 0)' true
exec 7>&-
wait "$HOLD"
HOLD=

describe "the table for people"
expect_exit 0 stats --key "$W/admin.pub"
expect_out_match "^secretd $(cat "$SD_REPO/VERSION"), up "
expect_out_match $'\n''secret\.get +'$((N + 2))' +1 '
expect_out_contains "  secret.get: not_found 1"
expect_out_contains "sessions: 1 of principals, 0 enrol-only"

describe "server.stats without the audit permission: permission_denied, audited"
bob=$(new_key stats_bob) || die "ssh-keygen"
expect_exit 0 secret principal create stats-bob --key "$bob.pub"
run_in '{"id":"s1","action":"server.stats"}'$'\n' "$SOCKPY" "$SS" --hello "$bob.pub"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .error.code)" permission_denied "denied"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r 'has("requests")')" false "no counters in the answer"
expect_eq "$(sql "SELECT result || ' ' || error_code FROM audit_log WHERE action = 'server.stats' AND principal = 'stats-bob' AND request_id = '\"s1\"'")" "denied permission_denied" "the denial is audited"
run stats --key "$bob.pub"
expect_rc 1
expect_err_contains "server.stats: permission_denied"
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE id > $MARK AND action = 'server.stats' AND principal = 'admin' AND result = 'ok'")" 4 "each granted call audited"

describe "through sshd and secret-shell: an auditor reads server.stats, others are denied"
# The environment's own sshd, relay and secretd (not the private one
# above): ssh -T with the command "json" is the NDJSON relay.
aud=$(new_key stats_auditor) || die "ssh-keygen"
expect_exit 0 secret principal create stats-aud --key "$aud.pub"
expect_exit 0 secret group create stats-auditors
expect_exit 0 secret group add stats-auditors stats-aud
expect_exit 0 secret acl set --global stats-auditors audit
run_in '{"id":"p1","action":"server.stats"}'$'\n' plain_ssh "$aud" json
expect_rc 0
expect_eq "$(jq -r .ok "$OUT_FILE")" true "granted"
expect_eq "$(jq -r .version "$OUT_FILE")" "$(cat "$SD_REPO/VERSION")" "the running version"
expect_eq "$(jq -r '(.sessions.principal >= 1) and (.requests | type == "array") and (.pool.size > 0) and (.audit.seal_lag_s >= 0)' "$OUT_FILE")" true "the counters"
expect_eq "$(sql "SELECT result || ' ' || coalesce(error_code, '-') || ' ' || client_addr FROM audit_log WHERE action = 'server.stats' AND principal = 'stats-aud' AND request_id = '\"p1\"'")" "ok - 127.0.0.1" "audited, from sshd's client address"
run_in '{"id":"p2","action":"server.stats"}'$'\n' plain_ssh "$bob" json
expect_rc 0
expect_eq "$(jq -r '"\(.ok) \(.error.code)"' "$OUT_FILE")" "false permission_denied" "a principal without audit is denied"
expect_eq "$(jq -r .error.message "$OUT_FILE")" "this needs a global grant the caller does not hold" "the exact message"
expect_eq "$(jq -r 'has("requests")' "$OUT_FILE")" false "no counters in the answer"
expect_eq "$(sql "SELECT result || ' ' || error_code || ' ' || client_addr FROM audit_log WHERE action = 'server.stats' AND principal = 'stats-bob' AND request_id = '\"p2\"'")" "denied permission_denied 127.0.0.1" "the denial is audited"

describe "--output writes the file whole, mode 0644, and replaces it"
expect_exit 0 stats --key "$W/admin.pub" --prometheus --output "$T/secretd.prom"
expect_out ""
expect_mode 644 "$T/secretd.prom"
expect_exit 0 "$PROMCHECK" "$T/secretd.prom"
expect_exit 0 stats --key "$W/admin.pub" --prometheus --output "$T/secretd.prom"
expect_eq "$(metric 'secretd_requests_total{action="server.stats",result="ok"}' "$T/secretd.prom")" 5 "rewritten"
expect_eq "$(find "$T" -name 'secretd.prom.tmp*' | wc -l)" 0 "no temporary file left"

describe "a user not in shell_users is told so"
cp "$W/admin.pub" "$RUNDIR/stats-admin.pub" && chmod 644 "$RUNDIR/stats-admin.pub"
at_exit rm -f "$RUNDIR/stats-admin.pub"
run setpriv --reuid=65534 --regid="$(getent group secret | cut -d: -f3)" --clear-groups \
	"$BIN/secretd" stats --socket "$SS" --key "$RUNDIR/stats-admin.pub"
expect_rc 1
expect_err_contains "secretd closed the connection (is this user in shell_users?)"

describe "usage errors and an unreachable socket"
expect_exit 2 "$BIN/secretd" stats
run "$BIN/secretd" stats --socket "$RUNDIR/none.sock" --key "$W/admin.pub"
expect_rc 1
expect_err_contains "none.sock"

describe "the daemon stops cleanly: exit 0, no sanitizer report"
helper_stop s
expect_eq "$HELPER_RC" 0 "exit status"
if grep -qE "$SD_SAN_RE" "$T/s.log"; then
	grep -E -A 30 "$SD_SAN_RE" "$T/s.log" | head -n 60
	fail "sanitizer report in $T/s.log"
else
	ok "no sanitizer report"
fi

done_testing

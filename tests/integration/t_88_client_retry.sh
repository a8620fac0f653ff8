#!/bin/bash
# t_88_client_retry.sh - `get --wait` and `put --wait` across a database
# outage (issue 23): a read is retried; a put carrying --cas is retried
# and applies exactly once; a put without --cas is never sent twice, so
# during an outage it fails with unavailable at once.
#
# This file stops PostgreSQL: its at_exit hook starts it again (same
# socket), whatever happens, because the files after this one share the
# environment.
. "$(dirname "$0")/lib.sh"
test_init

BG_PIDS=()
restore() {
	local p
	for p in "${BG_PIDS[@]}"; do sd_kill_same TERM "${p%%:*}" "${p#*:}"; done
	env_load "$W"
	pg_up >/dev/null 2>&1 || echo "t_88: cannot restart PostgreSQL" >&2
}
at_exit restore

# bg NAME CMD...: run CMD in the background, its exit status in $T/NAME.rc
bg() {
	local name=$1
	shift
	( "$@" >"$T/$name.out" 2>"$T/$name.err"; echo $? >"$T/$name.rc" ) <"$T/value" &
	sd_starttime "$!"
	BG_PIDS+=("$!:$SD_START")
}
await_rc() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$T/$1.rc" ] && return 0
		sleep 0.1
	done
	return 1
}
versions() { secret --json history "$1" | jq '.versions | length'; }

run secret rm -r t88
printf 'c0' | secret put t88/counter >/dev/null || die "put"
printf 'r0' | secret put t88/read >/dev/null || die "put"

describe "bad --wait is a usage error"
expect_exit 2 secret get t88/read --wait soon
expect_exit 2 run_in "x" secret put t88/counter --wait -1

describe "database up: get --wait and put --cas --wait work at once"
expect_exit 0 secret get t88/read --wait 10s
expect_out_exact r0
expect_exit 0 run_in "c1" secret --json put t88/counter --cas 1 --wait 10s
expect_json .version 2

env_load "$W"
pg_down || die "cannot stop PostgreSQL"

describe "database down: a put without --cas fails at once, never retried"
t0=$SECONDS
printf 'nocas' >"$T/value"
bg nocas secret put t88/counter --wait 60s
await_rc nocas 20 || fail "put --wait without --cas did not end"
expect_eq "$(cat "$T/nocas.rc")" 1 "exit status"
expect_match "$(cat "$T/nocas.err")" "^secret: unavailable: " "one unavailable error"
expect_eq "$(grep -c 'retrying' "$T/nocas.err")" 0 "no retry"
expect_true test $((SECONDS - t0)) -lt 15

describe "database down: get --wait and put --cas --wait wait for it"
printf 'c2' >"$T/value"
bg cas secret --json put t88/counter --cas 2 --wait 60s
bg get secret get t88/read --wait 60s
sleep 4
expect_true test ! -s "$T/cas.rc"
expect_true test ! -s "$T/get.rc"
pg_up >/dev/null 2>&1 || die "PostgreSQL did not come back"
await_rc cas 60 || fail "put --cas --wait did not end"
await_rc get 60 || fail "get --wait did not end"
expect_eq "$(cat "$T/cas.rc")" 0 "put --cas --wait exit status"
expect_eq "$(jq -r .version "$T/cas.out")" 3 "the version put"
expect_match "$(head -n 1 "$T/cas.err")" "^secret: warning: .*; retrying in [0-9.]+ s" "retries are warnings"
expect_eq "$(grep -vc '^secret: warning: ' "$T/cas.err")" 0 "nothing but warnings on stderr"
expect_eq "$(cat "$T/get.rc")" 0 "get --wait exit status"
expect_eq "$(cat "$T/get.out")" r0 "get --wait value"

describe "the put with --cas applied exactly once; the one without, never"
expect_eq "$(versions t88/counter)" 3 "versions of the counter"
expect_exit 0 secret get t88/counter
expect_out_exact c2

done_testing

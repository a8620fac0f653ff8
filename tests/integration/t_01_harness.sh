#!/bin/bash
# t_01_harness.sh - the harness's own guards against pid reuse (lib.sh).
#
# make check runs two suites side by side, and each spawns tens of
# thousands of short-lived processes, so pids are reused within a run.  A
# kill of a pid read earlier must reach the process that was read or
# nothing; a helper process a test relies on (a forwarder, a second
# secretd) that ends while needed must be a failure that names it.
. "$(dirname "$0")/lib.sh"
test_init

describe "sd_starttime names one process: its own start time, none for a missing pid"
sleep 30 &
p=$!
expect_true sd_starttime "$p"
start=$SD_START
expect_match "$start" '^[0-9]+$' "a start time in clock ticks"
sd_starttime "$$"
expect_ne "$SD_START" "" "this shell has one too"
expect_true test "$start" -ge "$SD_START"	# (started after this shell)
expect_true sd_pid_same "$p" "$start"

describe "sd_kill_same leaves alone a live pid whose start time differs (a reused pid)"
sd_kill_same TERM "$p" "$((start - 1))"
sleep 0.2
expect_true sd_pid_same "$p" "$start"
expect_true alive "$p"

describe "sd_kill_same signals the process it names"
expect_true sd_kill_same TERM "$p" "$start"
wait "$p" 2>/dev/null
expect_eq "$?" 143 "ended of SIGTERM"

describe "after the process was reaped, sd_kill_same signals nothing"
expect_true test "$(sd_kill_same TERM "$p" "$start"; echo $?)" != 0

describe "stop_pid ends a process tree, and only it"
bash -c 'sleep 30 & sleep 30 & wait' &
tree=$!
for _ in $(seq 50); do [ "$(sd_descendants "$tree" | wc -l)" = 2 ] && break; sleep 0.05; done
kids=$(sd_descendants "$tree")
expect_eq "$(wc -w <<<"$kids")" 2 "two children"
sleep 30 &
bystander=$!
stop_pid "$tree" tree 5
wait "$tree" 2>/dev/null
gone() { local k; for k in $kids; do alive "$k" && return 1; done; return 0; }
for _ in $(seq 40); do gone && break; sleep 0.05; done	# (SIGKILL lands soon after)
expect_true gone
expect_true alive "$bystander"
kill "$bystander"	# (alive, unreaped: our own child)
wait "$bystander" 2>/dev/null

describe "a helper that ends while registered is a failure naming it, once"
helper_start victim sleep 30
victim=$HELPER_PID
expect_true alive "$victim"
kill -TERM "$victim"	# (alive: as something else might do)
for _ in $(seq 50); do alive "$victim" || break; sleep 0.05; done
before=$TEST_FAIL
helper_check 2>"$T/check.err"
expect_eq "$((TEST_FAIL - before))" 1 "helper_check counted one failure"
TEST_FAIL=$before	# (that failure was the point)
expect_match "$(cat "$T/check.err")" "helper victim \\(pid $victim\\) ended while still needed \\(killed by SIGTERM\\)" \
	"the failure names the helper and its signal"
helper_check 2>"$T/check2.err"
expect_eq "$TEST_FAIL" "$before" "reported once"

describe "helper_stop ends a running helper and gives its exit status; a stopped one is not a failure"
helper_start fine sleep 30
helper_stop fine
expect_eq "$HELPER_RC" 143 "exit status of SIGTERM"
before=$TEST_FAIL
helper_check
expect_eq "$TEST_FAIL" "$before" "no failure"

describe "at_exit hooks run in the test file's own shell only, never in a forked subshell"
# (A subshell that a signal reaches before it has reset the traps it
# inherited runs the EXIT trap: sd_exit is that trap, called here as such
# a subshell would.)
at_exit ': >"$T/hook.$BASHPID"'
( sd_exit )
probe() { sd_exit; }
run probe
expect_eq "$(ls "$T" | grep -c '^hook\.')" 0 "no hook ran in a subshell"
SD_EXIT_HOOKS=()

describe "a file that sets its own EXIT trap fails, naming at_exit"
cat >"$T/t_fake.sh" <<EOF
. "$SD_LIB_DIR/lib.sh"
test_init
ok "one expectation"
trap 'echo cleanup' EXIT
done_testing
EOF
expect_exit 1 env -u SECRETD_RESULTS bash "$T/t_fake.sh"
expect_err_contains "this file set an EXIT trap of its own: use at_exit"

describe "skip_case: a SKIP line naming the place and the case, and nothing counted"
cat >"$T/t_skip.sh" <<EOF
. "$SD_LIB_DIR/lib.sh"
test_init
describe "a case this machine cannot arrange"
skip_case "nothing to check here"
done_testing
EOF
expect_exit 1 env -u SECRETD_RESULTS bash "$T/t_skip.sh"
expect_out_match '^SKIP t_skip\.sh:4 \[a case this machine cannot arrange\] nothing to check here$'
expect_out_match '^t_skip: 0 passed, 1 failed$'
expect_err_contains "no expectation was checked"

describe "the suite runs in a PID namespace of its own (where the kernel allows one)"
if [ -n "${SD_PIDNS:-}" ]; then
	expect_match "$(tr '\0' ' ' </proc/1/cmdline)" "run\\.sh" "PID 1 is the suite's run.sh"
else
	skip_case "no PID namespace here (unshare refused): lib.sh's start-time checks still hold"
fi

done_testing

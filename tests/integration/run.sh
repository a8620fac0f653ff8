#!/bin/bash
# tests/integration/run.sh - the integration suite (make check / make integration).
#
#   tests/integration/run.sh BIN_DIR [t_file.sh ...]
#
# Starts one private environment (tests/integration/lib.sh: PostgreSQL,
# secretd, sshd) with the binaries of BIN_DIR, then runs every
# tests/integration/t_*.sh in name order (or only the files named), each as
# its own `bash FILE` process with the environment of W/env exported, and
# prints a summary.  Exits 1 if any file failed, if a daemon died, or if a
# sanitizer reported anything (ASan/UBSan builds).
#
# Environment: KEEP=1 keeps the work directory even on success (it is always
# kept on failure, and its path printed); VERBOSE=1 prints every passing
# expectation; FILE_TIMEOUT (default 600) bounds one test file, RUN_TIMEOUT
# (default 60) one command under test.
set -uo pipefail

usage() { echo "usage: $0 BIN_DIR [t_name.sh ...]" >&2; exit 2; }

# Each run in a PID namespace of its own, where the kernel allows one: then
# no run (make check runs two side by side; a developer may run more) can
# signal another's processes, even through a pid that was reaped and
# reused, and nothing a run started outlives it.  (lib.sh's kills check
# start times as well; this is the wall between runs.)  The run is PID 1
# there: it reaps orphans, and SIGTERM reaches it through --kill-child.
if [ -z "${SD_PIDNS:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare --pid --fork --mount-proc true 2>/dev/null; then
	SD_PIDNS=1 exec unshare --pid --fork --mount-proc --kill-child=TERM "$0" "$@"
fi
[ $# -ge 1 ] || usage
BIN_ARG=$1
shift

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

[ "$(id -u)" = 0 ] || { echo "$0: must run as root (starts sshd and PostgreSQL)" >&2; exit 1; }
# BIN_DIR: absolute, or relative to the current directory, else to the repo.
BIN_DIR=$(cd "$BIN_ARG" 2>/dev/null && pwd) || BIN_DIR=$(cd "$SD_REPO" && cd "$BIN_ARG" 2>/dev/null && pwd) ||
	{ echo "$0: no such directory: $BIN_ARG" >&2; exit 2; }

# The test files.
FILES=()
if [ $# -eq 0 ]; then
	while IFS= read -r f; do FILES+=("$f"); done < <(ls "$HERE"/t_*.sh 2>/dev/null | LC_ALL=C sort)
else
	for a in "$@"; do
		for f in "$a" "$HERE/$a" "$HERE/$a.sh" "$HERE/t_$a.sh"; do
			if [ -f "$f" ]; then FILES+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); continue 2; fi
		done
		echo "$0: no such test file: $a" >&2
		exit 2
	done
fi
[ ${#FILES[@]} -gt 0 ] || { echo "$0: no test files" >&2; exit 1; }

WORK=$(mktemp -d /tmp/secretd-it.XXXXXX)
FAILED=0
FINISHED=0

# (Only in this shell: a subshell it forks runs an inherited EXIT trap if
# a signal reaches it before it has reset its traps; lib.sh, at_exit.)
RUN_PID=$BASHPID
finish() {
	local rc=$?
	[ "$BASHPID" = "$RUN_PID" ] || return 0
	[ "$FINISHED" = 1 ] && return
	FINISHED=1
	trap '' INT TERM HUP
	env_down "$WORK"
	[ "$rc" = 0 ] || FAILED=1
	if [ "$FAILED" = 0 ] && [ "${KEEP:-0}" != 1 ]; then
		env_remove "$WORK"
	else
		echo "work directory kept: $WORK (logs: secretd.log sshd.log pg.log; remove with: rm -rf $WORK)"
	fi
}
trap finish EXIT
TEST_PID=
stop_test() { [ -n "$TEST_PID" ] && kill -TERM "$TEST_PID" 2>/dev/null && wait "$TEST_PID"; }
trap 'echo "interrupted" >&2; FAILED=1; stop_test; exit 130' INT
trap 'FAILED=1; stop_test; exit 143' TERM HUP

echo "== integration: binaries $BIN_DIR, work directory $WORK"
if ! env_up "$WORK" "$BIN_DIR" secretd-test; then
	echo "FAIL: could not start the test environment" >&2
	exit 1
fi
# shellcheck disable=SC1091
. "$WORK/env"
export HOME=$WORK/home SSH_AUTH_SOCK='' SECRETD_RESULTS=''
unset SSH_AGENT_PID

declare -a PASSED_FILES=() FAILED_FILES=() SKIPPED_FILES=()
TOTAL_PASS=0
TOTAL_FAIL=0
for f in "${FILES[@]}"; do
	name=$(basename "$f" .sh)
	echo "== $name"
	export SECRETD_RESULTS=$WORK/results/$name
	rm -f "$SECRETD_RESULTS"
	start=$SECONDS
	# In the background so that ^C (trapped) interrupts `wait` at once.
	timeout -k 10 "${FILE_TIMEOUT:-600}" bash "$f" </dev/null &
	TEST_PID=$!
	wait "$TEST_PID"
	rc=$?
	TEST_PID=
	res=$(cat "$SECRETD_RESULTS" 2>/dev/null || true)
	read -r verdict np nf <<<"${res:-none 0 0}"
	TOTAL_PASS=$((TOTAL_PASS + np))
	TOTAL_FAIL=$((TOTAL_FAIL + nf))
	if [ "$rc" = 124 ]; then
		echo "FAIL $name: timed out after ${FILE_TIMEOUT:-600}s" >&2
		verdict=fail
	elif [ "$verdict" = none ]; then
		echo "FAIL $name: ended (exit $rc) without done_testing" >&2
		verdict=fail
	elif [ "$rc" != 0 ]; then
		verdict=fail
	fi
	# A daemon that died is a failure of this file; restart it for the next.
	if ! sd_pidfile_alive "$WORK/secretd.pid" secretd >/dev/null; then
		echo "FAIL $name: secretd died" >&2
		sd_dump "$WORK/secretd.log" 80
		verdict=fail
		secretd_up || { FAILED_FILES+=("$name"); FAILED=1; break; }
	fi
	if ! sd_pidfile_alive "$WORK/sshd.pid" sshd >/dev/null; then
		echo "FAIL $name: sshd died" >&2
		sd_dump "$WORK/sshd.log" 40
		verdict=fail
		sshd_up && write_env || { FAILED_FILES+=("$name"); FAILED=1; break; }
		# shellcheck disable=SC1091
		. "$WORK/env"
	fi
	case $verdict in
	pass) PASSED_FILES+=("$name") ;;
	skip) SKIPPED_FILES+=("$name") ;;
	*) FAILED_FILES+=("$name"); FAILED=1 ;;
	esac
	echo "   ($((SECONDS - start))s)"
done

# Stop the daemons first: leak reports are written when they exit.
env_down "$WORK"
SAN=0
if ! env_san_reports "$WORK" >"$WORK/sanitizer.txt"; then
	SAN=1
	FAILED=1
	cat "$WORK/sanitizer.txt" >&2
fi

echo
echo "== integration summary ($BIN_DIR)"
echo "   files: ${#PASSED_FILES[@]} passed, ${#FAILED_FILES[@]} failed, ${#SKIPPED_FILES[@]} skipped"
echo "   expectations: $TOTAL_PASS passed, $TOTAL_FAIL failed"
[ ${#FAILED_FILES[@]} -eq 0 ] || echo "   failed: ${FAILED_FILES[*]}"
[ ${#SKIPPED_FILES[@]} -eq 0 ] || echo "   skipped: ${SKIPPED_FILES[*]}"
[ "$SAN" = 0 ] || echo "   sanitizer reports: see above and $WORK/sanitizer.txt"
[ "$FAILED" = 0 ] && exit 0
exit 1

#!/bin/bash
# tests/check.sh - the integration suite twice at once (make check):
# against the release binaries in bin/, and against an ASan+UBSan build,
# each in an environment of its own (PostgreSQL, secretd, sshd on free
# ports).  The two spend most of their time waiting on processes, disks
# and sockets rather than on the CPU, so running them side by side takes
# about the time of the longer one (the sanitizer build and run).
#
# The release run prints into a log, shown whole when it ends; the
# sanitizer build and run print as they go.  Exits 1 if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."

MAKE=${MAKE:-make}
LOG=$(mktemp /tmp/secretd-check.XXXXXX)
trap 'rm -f "$LOG"' EXIT

tests/integration/run.sh bin >"$LOG" 2>&1 &
release=$!
trap 'kill -TERM "$release" 2>/dev/null; wait "$release"; rm -f "$LOG"; exit 130' INT TERM HUP
echo "== the release suite runs in the background; its output follows the sanitizer run"

san=0
"$MAKE" SAN=1 all unit && tests/integration/run.sh build/asan/bin || san=1

rel=0
wait "$release" || rel=1
echo
echo "== the release suite (bin/)"
cat "$LOG"
echo
[ "$rel" = 0 ] && echo "== release suite: passed" || echo "== release suite: FAILED"
[ "$san" = 0 ] && echo "== sanitizer build and suite: passed" || echo "== sanitizer build and suite: FAILED"
[ "$rel" = 0 ] && [ "$san" = 0 ]

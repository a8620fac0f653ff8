#!/bin/bash
# tests/manlint.sh - mandoc -Tlint on every man page in docs/ (make check,
# make lint): fails on any message, warnings included.
set -uo pipefail
cd "$(dirname "$0")/.."

command -v mandoc >/dev/null || { echo "manlint: no mandoc (make deps)" >&2; exit 1; }
pages=(docs/*.[1-8])
out=$(mandoc -Tlint -Wwarning "${pages[@]}" 2>&1)
rc=$?
if [ "$rc" != 0 ] || [ -n "$out" ]; then
	printf '%s\n' "$out"
	echo "FAIL mandoc -Tlint: fix the messages above (exit $rc)"
	exit 1
fi
echo "ok   mandoc -Tlint: ${pages[*]}"

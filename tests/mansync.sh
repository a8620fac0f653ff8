#!/bin/bash
# tests/mansync.sh - the committed docs/secret.1 is the page client/help.sh
# makes from docs/secret.1.in and client/help.txt, the one source of the
# help of `secret` and of the page's synopsis lines (make lint, make
# check): fails, with the difference, when someone edited one without
# the other or forgot to commit what `make` regenerated.
set -uo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
if ! client/help.sh man client/help.txt docs/secret.1.in >"$tmp"; then
	echo "FAIL help.sh could not make docs/secret.1 (messages above)"
	exit 1
fi
if ! diff -u docs/secret.1 "$tmp"; then
	echo "FAIL docs/secret.1 differs from what client/help.sh makes of"
	echo "     docs/secret.1.in and client/help.txt: edit those, run make,"
	echo "     and commit docs/secret.1"
	exit 1
fi
echo "ok   docs/secret.1 is made from client/help.txt and docs/secret.1.in"

#!/bin/bash
# tests/units.sh - check every systemd unit in contrib/ (make check, make
# lint):
#
#   systemd-analyze verify     must print nothing (it exits 0 on unknown
#                              keys and bad values, so its output counts)
#   systemd-analyze security --offline=yes   (services) must rate the
#                              unit at or below its limit: 2.0 for
#                              secretd.service, 2.5 for the others
#
# The units name /usr/local paths (make install rewrites them to PREFIX's);
# verify checks that ExecStart= names an executable, so it checks copies
# naming the binaries built in bin/ (build them first: make).
set -uo pipefail
cd "$(dirname "$0")/.."

limit_of() {
	case $1 in
	secretd.service) echo 2.0 ;;
	*) echo 2.5 ;;
	esac
}

command -v systemd-analyze >/dev/null || { echo "units: no systemd-analyze (make deps)" >&2; exit 1; }
for b in secretd secret; do
	[ -x "bin/$b" ] || { echo "units: bin/$b missing: run make first" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/secretd-units.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail=0 n=0
for u in contrib/*.service contrib/*.socket contrib/*.timer contrib/*.path; do
	[ -e "$u" ] || continue
	name=${u#contrib/}
	n=$((n + 1))
	sed -e "s|/usr/local/sbin/|$PWD/bin/|g" -e "s|/usr/local/bin/|$PWD/bin/|g" \
		-e "s|/usr/local/libexec/secretd/|$PWD/bin/|g" "$u" >"$TMP/$name"
	out=$(systemd-analyze verify --man=no "$TMP/$name" 2>&1)
	rc=$?
	if [ "$rc" != 0 ] || [ -n "$out" ]; then
		echo "FAIL $name: systemd-analyze verify (exit $rc):"
		printf '%s\n' "$out" | sed "s|$TMP/|contrib/|g; s/^/    /"
		fail=1
	else
		echo "ok   $name: systemd-analyze verify"
	fi
	[[ $name == *.service ]] || continue
	out=$(systemd-analyze security --offline=yes --no-pager "$u" 2>&1)
	level=$(printf '%s\n' "$out" | sed -n 's/^.*Overall exposure level for .*: \([0-9.]*\) .*$/\1/p')
	limit=$(limit_of "$name")
	if [ -z "$level" ]; then
		echo "FAIL $name: systemd-analyze security gave no rating:"
		printf '%s\n' "$out" | tail -5 | sed 's/^/    /'
		fail=1
	elif awk -v l="$level" -v m="$limit" 'BEGIN { exit !(l > m) }'; then
		echo "FAIL $name: systemd-analyze security rates it $level, above $limit:"
		printf '%s\n' "$out" | grep '✗' | sed 's/^/    /'
		fail=1
	else
		echo "ok   $name: systemd-analyze security $level (limit $limit)"
	fi
done
[ "$n" -gt 0 ] || { echo "units: no unit in contrib/" >&2; exit 1; }
exit "$fail"

#!/bin/bash
# tests/deb/check.sh - make check-deb (DESIGN §10): install the packages
# that make deb built into a fresh Debian 12 tree that has PostgreSQL,
# and follow docs/operations.md there: every shell block the guide marks
# to run (tests/deb/guide.py extracts them), in its order, with checks
# between them (tests/deb/inside.sh): install, `secretd setup`, secretd
# and sshd under their units, the three journeys with the installed
# `secret`, the key rotation, metrics, `secretd doctor`, upgrade, purge.
#
# The tree: debootstrap --variant=minbase bookworm from the machine's
# Debian mirror (its apt sources), plus PostgreSQL, OpenSSH and the
# packages' run-time libraries.  Made once and kept as a tarball under
# build/deb-chroot/ (about a minute and a half the first time); every run
# unpacks a fresh copy of it (seconds), so nothing of a run survives into
# the next.  The tarball's name carries a hash of its recipe: changing
# the recipe below makes a new one.
#
# Each run's tree is booted with systemd-nspawn (systemd-container): its
# systemd is PID 1, so PostgreSQL and sshd start as services, and secretd
# runs under the real, hardened secretd.service (Type=notify, read-only
# /etc/secretd, the system call filter...).  Where nspawn cannot boot it
# (or with SECRETD_CHECK_DEB_CHROOT=1) the tree is a plain chroot in
# namespaces of its own (unshare), and inside.sh starts the daemons
# itself, with shell functions for systemctl and journalctl.  Either way
# it has a network of its own with loopback only (no port clash with the
# machine's sshd or PostgreSQL, and no network at all, so the check
# installs only what the tarball holds), its hostname is web7 (the fleet
# host of the guide), and whatever it started ends with it.
#
# Root only.  Environment: CHECK_DEB_KEEP=1 keeps the run's tree (its
# path is printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
start=$(date +%s)

[ "$(id -u)" = 0 ] || { echo "check-deb: run as root (debootstrap, chroot, namespaces)" >&2; exit 1; }
tests/deps.sh check-deb

version=$(cat VERSION)
arch=$(dpkg --print-architecture)
DEBS=("build/deb/secretd_${version}_$arch.deb" "build/deb/secret-client_${version}_$arch.deb")
for d in "${DEBS[@]}"; do
	[ -f "$d" ] || { echo "check-deb: $d missing: run make deb first" >&2; exit 1; }
done

# The machine's Debian mirror, from its apt sources (deb822 or one-line).
mirror() {
	local m
	m=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
	echo "${m:-http://deb.debian.org/debian}"
}
MIRROR=$(mirror)
SUITE=bookworm
# What the chroot holds besides minbase: the server side's PostgreSQL and
# sshd, the client's ssh-keygen, systemd-tmpfiles and systemd-analyze, and
# the packages' dependencies (so that
# dpkg -i needs no network).
EXTRA=(adduser passwd postgresql openssh-server openssh-client procps systemd
	libjansson4 libpq5 libsodium23 libssh-4 libsystemd0)
RECIPE="v1 $SUITE $MIRROR ${EXTRA[*]}"
KEY=$(printf '%s' "$RECIPE" | sha256sum | cut -c1-12)
CACHE=$ROOT/build/deb-chroot
TARBALL=$CACHE/$SUITE-$KEY.tar.gz

# no_mounts DIR: nothing is mounted at or below DIR (so rm -rf is safe).
no_mounts() {
	! awk -v d="$1" '$2 == d || index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mounts
}

# remove_tree DIR: rm -rf, refused while anything is mounted below it.
remove_tree() {
	[ -e "$1" ] || return 0
	if ! no_mounts "$1"; then
		echo "check-deb: something is still mounted below $1; not removing it" >&2
		return 1
	fi
	rm -rf --one-file-system "$1"
}

build_tarball() {
	local t0 dir
	t0=$(date +%s)
	dir=$CACHE/make.$$
	remove_tree "$dir"
	mkdir -p "$dir"
	echo "== debootstrap $SUITE from $MIRROR (made once; kept as $TARBALL)"
	debootstrap --variant=minbase "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
		tail -20 "$CACHE/debootstrap.log"
		echo "check-deb: debootstrap failed (log: $CACHE/debootstrap.log)" >&2
		remove_tree "$dir"
		return 1
	}
	# The same suites as the machine's own sources: bookworm-updates and
	# the security archive too, when it has them.
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		rm -f "$dir/etc/apt/sources.list"
		cp /etc/apt/sources.list.d/debian.sources "$dir/etc/apt/sources.list.d/"
	fi
	# Services never start by themselves in the chroot: the check starts
	# what it needs.
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod 0755 "$dir/usr/sbin/policy-rc.d"
	echo "== installing ${EXTRA[*]}"
	unshare --mount --pid --fork --propagation private bash -c '
		set -e
		mount -t proc proc "$1/proc"
		mount --rbind /dev "$1/dev"
		mount -t tmpfs tmpfs "$1/run"
		cp /etc/resolv.conf "$1/etc/resolv.conf" 2>/dev/null || true
		shift
		chroot "$0" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
			sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends $* && apt-get clean"
	' "$dir" "$dir" "${EXTRA[@]}" >>"$CACHE/debootstrap.log" 2>&1 || {
		tail -20 "$CACHE/debootstrap.log"
		echo "check-deb: installing into the chroot failed (log: $CACHE/debootstrap.log)" >&2
		remove_tree "$dir"
		return 1
	}
	tar -C "$dir" --numeric-owner -czf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
	remove_tree "$dir"
	echo "== chroot tarball made in $(($(date +%s) - t0)) s ($(du -h "$TARBALL" | cut -f1))"
}

mkdir -p "$CACHE"
if [ ! -f "$TARBALL" ]; then
	build_tarball
else
	echo "== chroot from $TARBALL"
fi

CH=$CACHE/run.$$
cleanup() {
	if [ "${CHECK_DEB_KEEP:-}" = 1 ]; then
		echo "check-deb: kept the tree $CH"
	else
		remove_tree "$CH"
	fi
}
trap cleanup EXIT

# unpack: a fresh tree from the tarball, with the packages and inside.sh
# in /check.
unpack() {
	remove_tree "$CH"
	mkdir -p "$CH"
	tar -C "$CH" --numeric-owner -xzf "$TARBALL"
	mkdir -p "$CH/check"
	cp "${DEBS[@]}" tests/deb/inside.sh "$CH/check/"
	# the guide's blocks to run, in order (make lint checks the markers)
	python3 tests/deb/guide.py extract docs/operations.md "$CH/check/guide"
	echo web7 >"$CH/etc/hostname"
}

# boot_and_run: boot the tree with systemd-nspawn (loopback only), run
# inside.sh in it once systemd is up, power it off.  Returns inside.sh's
# status, or 125 when the container did not boot.
boot_and_run() {
	local nspid leader state rc=0 i
	systemd-nspawn -q -D "$CH" --private-network --register=no --keep-unit \
		-M "secretd-check-$$" --hostname=web7 -b </dev/null >"$CACHE/boot.log" 2>&1 &
	nspid=$!
	leader=
	for ((i = 0; i < 600; i++)); do
		kill -0 "$nspid" 2>/dev/null || break
		[ -n "$leader" ] || leader=$(pgrep -P "$nspid" -x systemd | head -1)
		if [ -n "$leader" ]; then
			state=$(nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null)
			case $state in running | degraded) break ;; esac
		fi
		sleep 0.1
	done
	case ${state:-} in
	running | degraded) ;;
	*)
		echo "check-deb: the container did not boot (state '${state:-}'); its console:" >&2
		tail -15 "$CACHE/boot.log" >&2
		kill -TERM "$nspid" 2>/dev/null
		wait "$nspid"
		return 125 ;;
	esac
	echo "== booted with systemd-nspawn (systemd is PID 1; loopback only)"
	nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 TERM=dumb \
		bash /check/inside.sh "$(basename "${DEBS[0]}")" "$(basename "${DEBS[1]}")" || rc=$?
	nsenter -t "$leader" -a systemctl poweroff >/dev/null 2>&1
	for ((i = 0; i < 300; i++)); do kill -0 "$nspid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$nspid" 2>/dev/null && kill -TERM "$nspid"
	wait "$nspid"
	return "$rc"
}

# chroot_and_run: run inside.sh in the tree as a chroot, in network
# (loopback only), mount and pid namespaces of its own.
chroot_and_run() {
	echo "== in a chroot (own network, mount, pid and uts namespaces)"
	unshare --net --mount --pid --uts --fork --propagation private bash -c '
		set -e
		mount -t proc proc "$0/proc"
		mount --rbind /dev "$0/dev"
		mount -t tmpfs -o mode=0755 tmpfs "$0/run"
		mount -t tmpfs -o mode=1777 tmpfs "$0/tmp"
		ip link set lo up
		hostname web7
		exec chroot "$0" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C.UTF-8 TERM=dumb \
			bash /check/inside.sh "$1" "$2"
	' "$CH" "$(basename "${DEBS[0]}")" "$(basename "${DEBS[1]}")"
}

rc=125
unpack
if [ "${SECRETD_CHECK_DEB_CHROOT:-}" != 1 ] && command -v systemd-nspawn >/dev/null; then
	rm -f "$CH/usr/sbin/policy-rc.d"    # services start at boot, as on a real host
	rc=0
	boot_and_run || rc=$?
	if [ "$rc" = 125 ]; then
		echo "check-deb: falling back to a plain chroot"
		unpack
	fi
fi
if [ "$rc" = 125 ]; then
	rc=0
	chroot_and_run || rc=$?
fi

echo "== make check-deb took $(($(date +%s) - start)) s"
exit "$rc"

#!/bin/bash
# tests/deps.sh - install the packages secretd needs to build and test (make deps).
#
# Debian 12 (bookworm).  Installs with apt-get only what dpkg says is
# missing: when everything is present it runs no apt command at all and
# takes a fraction of a second.  As root it installs directly; otherwise
# through sudo if there is one; else it lists what is missing and fails.
set -euo pipefail

PACKAGES=(
	# build
	build-essential         # gcc, make, libc headers
	clang                   # SAN=1 builds and libFuzzer
	libclang-rt-dev         # clang's ASan/UBSan/libFuzzer runtimes (libclang-rt-14-dev
	                        # on bookworm): only *recommended* by clang, so absent
	                        # with --no-install-recommends, and -fsanitize fails to link
	pkg-config
	libpq-dev libssh-dev libjansson-dev libsodium-dev
	libsystemd-dev          # sd_notify: secretd.service is Type=notify
	libcmocka-dev           # unit tests
	# integration tests and the dev environment
	postgresql              # server (/usr/lib/postgresql/15/bin), creates OS user postgres
	postgresql-client       # psql
	openssh-server          # sshd (the harness runs its own, on a free port)
	openssh-client          # ssh, ssh-keygen
	procps                  # ps, pgrep
	iproute2                # ss
	util-linux              # setpriv, setsid, flock, runuser
	passwd                  # useradd, usermod
	coreutils               # timeout, install, mktemp
	jq                      # JSON assertions in tests
	strace                  # delays a syscall so a test can signal a fetch mid-write
	python3                 # raw-socket protocol tests
	chromium                # renders the HTML audit report (t_90_audit_report)
	fonts-dejavu-core       # fonts for that rendering
	# packaging checks (tests/manlint.sh, tests/units.sh)
	mandoc                  # mandoc -Tlint on every man page
	systemd                 # systemd-analyze verify / security on contrib/ units
)

# `tests/deps.sh ha`: what make check-ha (tests/ha/) needs besides the
# default set: pg_auto_failover's pg_autoctl and its PostgreSQL extension.
# `tests/deps.sh deb` / `tests/deps.sh check-deb`: what make deb (the
# build dependencies in debian/control, the packaging tools) and make
# check-deb (also debootstrap for the Debian 12 chroot) need instead.
case ${1:-} in
deb | check-deb)
	PACKAGES=(build-essential debhelper dpkg-dev fakeroot lintian pkg-config
		libpq-dev libssh-dev libjansson-dev libsodium-dev libsystemd-dev)
	[ "$1" = check-deb ] && PACKAGES+=(debootstrap debian-archive-keyring systemd-container) ;;
ha)
	PACKAGES+=(pg-auto-failover-cli postgresql-15-auto-failover) ;;
"") ;;
*) echo "usage: tests/deps.sh [deb|check-deb|ha]" >&2; exit 2 ;;
esac

# missing PKG...: print those of PKG... that are not installed (one dpkg-query).
missing_of() {
	local installed p
	installed=" $(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null |
		awk '$2 == "installed" { printf "%s ", $1 }' || true)"
	for p in "$@"; do
		[[ $installed == *" $p "* ]] || printf '%s\n' "$p"
	done
}

mapfile -t missing < <(missing_of "${PACKAGES[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: missing packages: ${missing[*]}"
SUDO=()
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "deps: not root and no sudo; as root, run:" >&2
		echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

mapfile -t still < <(missing_of "${missing[@]}")
if [ ${#still[@]} -gt 0 ]; then
	echo "deps: still missing after apt-get: ${still[*]}" >&2
	exit 1
fi
echo "deps: installed ${missing[*]}"

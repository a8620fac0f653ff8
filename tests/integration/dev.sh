#!/bin/bash
# tests/integration/dev.sh - the development environment (make dev-up / dev-down).
#
#   tests/integration/dev.sh up       start (or resume) it; print .dev/env
#   tests/integration/dev.sh down     stop it and delete .dev/ (all its data)
#   tests/integration/dev.sh status   exit 0 if everything runs
#   tests/integration/dev.sh env      print .dev/env
#
# The same environment as the integration suite (tests/integration/lib.sh),
# with W = <repo>/.dev and the binaries of <repo>/bin: a private PostgreSQL
# cluster (Unix socket in .dev/pgsock), secretd (socket and secret-shell
# copy in the directory under /run named in .dev/rundir) and sshd on a free
# 127.0.0.1 port (.dev/port), principal "admin" with key .dev/admin, and
# enrol_unknown_keys = yes.  The daemons run in sessions of their own and
# outlive `make`.
#
# `up` is idempotent: when everything runs it only prints the environment
# (restarting secretd if bin/secretd was rebuilt, re-copying secret-shell if
# it changed).  After a reboot it resumes with the data kept in .dev/ (new
# /run directory, same port when free).  `down` removes .dev/ entirely: the
# next `up` starts from an empty store.
#
# Use:  make dev-up && . .dev/env && secret whoami
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
DEV=$SD_REPO/.dev

need_root() {
	[ "$(id -u)" = 0 ] || { echo "dev.sh: must run as root (starts sshd and PostgreSQL)" >&2; exit 1; }
}

show_env() {
	echo "secretd dev environment is up ($DEV): ssh port $(cat "$DEV/port"), logs in $DEV/*.log"
	echo "use it with:  . $DEV/env && secret whoami"
	echo "-----"
	env_print "$DEV"
}

case ${1:-} in
up)
	need_root
	if env_status "$DEV" && [ "$(cat "$DEV/secretd.stamp" 2>/dev/null)" = "$(sd_stamp "$SD_REPO/bin/secretd")" ] &&
		cmp -s "$SD_REPO/bin/secret-shell" "$RUNDIR/secret-shell"; then
		show_env
		exit 0
	fi
	if ! env_up "$DEV" "$SD_REPO/bin" secretd-dev; then
		# Leave what runs alone (and the data): fix and `make dev-up` again,
		# or `make dev-down` to stop everything and delete .dev/.
		echo "dev.sh: start-up failed (see above and $DEV/*.log); 'make dev-up' retries, 'make dev-down' stops and deletes it" >&2
		exit 1
	fi
	show_env
	;;
down)
	need_root
	if [ -d "$DEV" ]; then
		env_down "$DEV"
		env_remove "$DEV"
		echo "secretd dev environment stopped; $DEV removed"
	else
		echo "secretd dev environment is not set up ($DEV does not exist)"
	fi
	;;
status)
	if env_status "$DEV"; then
		echo "up: ssh port $(cat "$DEV/port"), socket $(cat "$DEV/rundir")/secretd.sock"
	else
		echo "down"
		exit 1
	fi
	;;
env)
	[ -s "$DEV/env" ] || { echo "dev.sh: no $DEV/env (run make dev-up)" >&2; exit 1; }
	env_print "$DEV"
	;;
*)
	echo "usage: $0 up|down|status|env" >&2
	exit 2
	;;
esac

#!/bin/bash
# tests/deb/inside.sh - the part of make check-deb that runs inside the
# Debian 12 tree (tests/deb/check.sh sets it up: its own network
# namespace with only loopback, its own /run and /tmp; /check holds the
# two packages, this script and guide/, the blocks of docs/operations.md
# that tests/deb/guide.py extracted).
#
# The guide is the script: `guide NAME` runs its next shell block, which
# must be NAME (so the blocks run in the guide's order, each once, and a
# block added to the guide and not here fails the check).  Between the
# blocks this script checks what they did: what installing the packages
# did (users, /etc/secretd, units) and did not do (no database, sshd
# unchanged), that a second `secretd setup` changes nothing and the
# configuration it wrote is secretd.conf(5)'s example, the daemon's
# confinement under its unit, each journey's results (an admin puts and
# gets; a host enrols with a token and fetches through its unit; an
# auditor verifies and reports), the reload and the key rotation, doctor,
# and what purge leaves.  Prints one line per check and "N passed, N
# failed".
#
# Booted (systemd-nspawn: systemd is PID 1) PostgreSQL and sshd run as
# services and secretd under secretd.service.  In a plain chroot,
# systemctl and journalctl are shell functions (shims, below).
set -uo pipefail
cd /check || exit 1
SECRETD_DEB=$1 CLIENT_DEB=$2
GUIDE=/check/guide

pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   $*"; }
bad()  { fail=$((fail + 1)); echo "FAIL $*"; }
step() { echo; echo "== $*"; }
# check DESC CMD...: run CMD, pass when it exits 0 (its output is shown
# on failure).
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$desc"; else bad "$desc (exit $?)"; printf '%s\n' "$out" | tail -15 | sed 's/^/    /'; fi
}
# expect_eq GOT WANT DESC
expect_eq() {
	if [ "$1" = "$2" ]; then ok "$3"; else bad "$3: got '$1', expected '$2'"; fi
}
finish() {
	if [ "$fail" != 0 ]; then
		echo; echo "== the end of secretd's log"; journalctl -u secretd --no-pager -o cat 2>/dev/null | tail -30
	fi
	echo
	echo "check-deb: $pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}
# stop DESC: the check cannot go on.
stop() {
	bad "$*"
	finish
}

PGVER=$(ls /usr/lib/postgresql | sort -n | tail -1)
BOOTED=0
[ -d /run/systemd/system ] && BOOTED=1

# -------------------------------------------------------------- shims
# Without systemd as PID 1, systemctl and journalctl do what the units
# would for the guide's commands: secretd (started as secretd.service
# starts it, as user secretd; its log in /var/log/secretd-check.log),
# ssh (reload: SIGHUP) and secretd-fetch@NAME (its ExecStart, with its
# environment files).  Anything else fails, naming itself.
if [ "$BOOTED" = 0 ]; then
	cat >"$GUIDE/shims.sh" <<'EOF'
SECRETD_PIDFILE=/run/secretd-check.pid
secretd_start() {
	local pid
	install -d -o secretd -g secretd -m 0755 /run/secretd
	# setpriv execs (runuser would fork and keep the pid): $! is secretd.
	setsid setpriv --reuid=secretd --regid=secretd --init-groups \
		/usr/sbin/secretd -c /etc/secretd/secretd.conf serve \
		</dev/null >>/var/log/secretd-check.log 2>&1 &
	pid=$!
	echo "$pid" >"$SECRETD_PIDFILE"
	for _ in $(seq 100); do
		[ -S /run/secretd/secretd.sock ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 /var/log/secretd-check.log
	return 1
}
secretd_stop() {
	local pid
	pid=$(cat "$SECRETD_PIDFILE" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$SECRETD_PIDFILE"
}
systemctl() {
	local verb=$1 unit inst
	shift
	if [ "$verb" = enable ]; then
		[ "${1:-}" = --now ] || return 0
		shift
		verb=start
	fi
	unit=${1%.service}
	case "$verb $unit" in
	"start secretd") secretd_start ;;
	"stop secretd") secretd_stop ;;
	"restart secretd") secretd_stop; secretd_start ;;
	"reload secretd") kill -HUP "$(cat "$SECRETD_PIDFILE")" ;;
	"reload ssh") kill -HUP "$(cat /run/sshd.pid)" ;;
	"start secretd-fetch@"*)
		inst=${unit#secretd-fetch@}
		(
			set -a
			SECRET_IDENTITY=/etc/ssh/ssh_host_ed25519_key
			SECRET_KNOWN_HOSTS=/etc/secretd/known_hosts
			SECRET_FETCH_OPTS=
			[ ! -f /etc/secretd/fetch.conf ] || . /etc/secretd/fetch.conf
			. "/etc/secretd/fetch/$inst.conf"
			install -d -m 0711 /run/secrets
			umask 077
			# shellcheck disable=SC2086
			exec secret fetch $SECRET_PREFIXES --dest "/run/secrets/$inst" --prune $SECRET_FETCH_OPTS
		) ;;
	"is-active secretd") [ -S /run/secretd/secretd.sock ] ;;
	*) echo "check-deb: no systemd here, and its shim cannot: systemctl $verb $*" >&2; return 1 ;;
	esac
}
journalctl() { cat /var/log/secretd-check.log 2>/dev/null; }
EOF
	. "$GUIDE/shims.sh"
fi

# ------------------------------------------------------ substitutions
# What one machine cannot be literally (docs/operations.md, "How make
# check-deb runs this guide"): made true here, before the first block;
# the blocks themselves run as written.
substitutions() {
	# one machine is the server, alice's machine and the host web7
	# (check.sh names it web7); vault.example is the server
	echo "127.0.0.1 vault.example" >>/etc/hosts
	# alice's key, without a passphrase
	mkdir -p -m 0700 /root/.ssh
	ssh-keygen -q -t ed25519 -N '' -C alice -f /root/.ssh/id_ed25519 &&
		cp /root/.ssh/id_ed25519.pub /root/alice.pub || return 1
	# apt answers yes (the packages come from /check, offline)
	echo 'APT::Get::Assume-Yes "true";' >/etc/apt/apt.conf.d/90check-deb
}

# guide NAME: run the guide's next block, which must be NAME, from
# /check with bash -e, in the environment the blocks before it left
# (exported variables and functions: one shell session, as an operator's).
GUIDE_ORDER=()
while read -r name line; do GUIDE_ORDER+=("$name"); done <"$GUIDE/order"
GUIDE_NEXT=0
: >"$GUIDE/env"
guide() {
	local want=${GUIDE_ORDER[$GUIDE_NEXT]:-} out rc=0
	[ "$1" = "$want" ] || stop "the guide's next block is '${want:-(none)}', not '$1': docs/operations.md and tests/deb/inside.sh disagree"
	GUIDE_NEXT=$((GUIDE_NEXT + 1))
	step "docs/operations.md, block $1 ($(sed -n '1s/^# //p' "$GUIDE/$1.sh"))"
	sed '1d; s/^/    $ /' "$GUIDE/$1.sh"
	out=$(cd /check && timeout 300 bash -c '
		set -eo pipefail
		[ ! -f "$3" ] || . "$3"
		. "$1"
		. "$2"
		{ export -p | grep -Ev "^declare -x (PWD|OLDPWD|SHLVL|_)="; declare -f; } >"$1.new"
	' _ "$GUIDE/env" "$GUIDE/$1.sh" "$GUIDE/shims.sh" 2>&1) || rc=$?
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    | /'
	if [ "$rc" = 0 ]; then
		mv "$GUIDE/env.new" "$GUIDE/env"
		ok "block $1 ran"
	else
		stop "block $1 failed (exit $rc)"
	fi
}
# log_has TEXT: TEXT shows in secretd's log within 10 s.
log_has() {
	for _ in $(seq 100); do
		journalctl -u secretd -o cat 2>/dev/null | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# the environment the blocks left (SECRET_SERVER...), for the checks
guide_env() { eval "$(sed 's/^declare -x /declare -gx /' "$GUIDE/env")"; }

# -------------------------------------------------------- before install
step "PostgreSQL $PGVER and sshd, as on a fresh host"
if [ "$BOOTED" = 1 ]; then
	check "PostgreSQL runs (started at boot)" systemctl is-active --quiet "postgresql@$PGVER-main"
	check "sshd runs (started at boot)" systemctl is-active --quiet ssh
else
	check "PostgreSQL starts" pg_ctlcluster "$PGVER" main start
	mkdir -p /run/sshd && chmod 0755 /run/sshd
	check "sshd starts" /usr/sbin/sshd
fi
sshd_before=$(/usr/sbin/sshd -T -C user=secret,host=h,addr=127.0.0.1 2>&1 | sort)


check "the substitutions (hostname web7, vault.example, alice's key, apt -y)" substitutions
expect_eq "$(hostname -s)" web7 "the machine is web7"

# ---------------------------------------------------------------- install
guide install
for f in /usr/sbin/secretd /usr/libexec/secretd/secret-shell /usr/bin/secret; do
	expect_eq "$(stat -c '%U:%G %a' "$f" 2>&1)" "root:root 755" "$f: root's, 0755"
done
# sshd refuses an AuthorizedKeysCommand below a directory others may write.
expect_eq "$(stat -c '%U %a' /usr/libexec/secretd)" "root 755" "/usr/libexec/secretd: root's, 0755"
expect_eq "$(getent passwd secret | cut -d: -f7)" /bin/sh "user secret: shell /bin/sh"
expect_eq "$(getent shadow secret | cut -d: -f2)" '*' "user secret: password field '*' (not locked)"
expect_eq "$(getent passwd secretd | cut -d: -f7)" /usr/sbin/nologin "user secretd: no login"
check "user secretd is in group secret (socket_group)" sh -c 'id -nG secretd | grep -qw secret'
expect_eq "$(stat -c '%U:%G %a' /etc/secretd)" "secretd:secretd 700" "/etc/secretd: secretd's, 0700"
check "the units are where systemd looks" test -f /lib/systemd/system/secretd.service -a -f /lib/systemd/system/secretd-fetch@.service
check "systemd-analyze verify: the installed units" systemd-analyze verify --man=no /lib/systemd/system/secretd.service
if [ "$BOOTED" = 1 ]; then
	expect_eq "$(systemctl is-enabled secretd 2>&1)" enabled "secretd.service is enabled"
	expect_eq "$(systemctl show -p ConditionResult --value secretd)" no \
		"secretd.service was started and skipped: no secretd.conf yet"
fi
check "the sshd snippet is shipped, naming /usr/libexec" grep -q '^[[:space:]]*AuthorizedKeysCommand /usr/libexec/secretd/secret-shell ' /usr/share/secretd/sshd_config.d-secretd.conf
check "bash completion for secret" test -f /usr/share/bash-completion/completions/secret
check "man pages" test -f /usr/share/man/man8/secretd.8.gz -a -f /usr/share/man/man1/secret.1.gz -a -f /usr/share/man/man5/secretd.conf.5.gz -a -f /usr/share/man/man8/secret-shell.8.gz
step "what installing did not touch"
check "no sshd snippet installed in sshd_config.d" test ! -e /etc/ssh/sshd_config.d/secretd.conf
expect_eq "$(/usr/sbin/sshd -T -C user=secret,host=h,addr=127.0.0.1 2>&1 | sort)" "$sshd_before" "sshd's configuration for user secret is unchanged"
expect_eq "$(runuser -u postgres -- psql -XAtc "SELECT count(*) FROM pg_database WHERE datname = 'secretd'" 2>&1)" 0 "no database secretd"
check "no secretd.conf" test ! -e /etc/secretd/secretd.conf


# ------------------------------------------------------------------ setup
guide setup
out=$(secretd setup --admin-key /root/alice.pub --admin alice 2>&1)
rc=$?
expect_eq "$rc" 0 "secretd setup again (idempotent)"
case $out in
*"nothing changed"*) ok "the second setup changed nothing" ;;
*) bad "the second setup changed something:"; printf '%s\n' "$out" | sed 's/^/    /' ;;
esac
# secretd.conf(5)'s EXAMPLE is what setup writes
zcat /usr/share/man/man5/secretd.conf.5.gz |
	awk '/^\.SH EXAMPLE/ { ex = 1 } ex && /^\.fi/ { exit } ex && on { print } ex && /^\.nf/ { on = 1 }' >/tmp/example.conf
expect_eq "$(cat /etc/secretd/secretd.conf)" "$(cat /tmp/example.conf)" "secretd.conf(5)'s example is the file secretd setup wrote"
check "sshd's snippet for user secret is in place" test -f /etc/ssh/sshd_config.d/secretd.conf
check "sshd -t" /usr/sbin/sshd -t
check "systemd-tmpfiles --create (as at boot)" systemd-tmpfiles --create /usr/lib/tmpfiles.d/secretd.conf
expect_eq "$(stat -c '%U:%G %a' /etc/secretd)" "secretd:secretd 700" "/etc/secretd after the boot-time tmpfiles pass"
check "secretd listens on /run/secretd/secretd.sock" test -S /run/secretd/secretd.sock
if [ "$BOOTED" = 1 ]; then
	SECRETD_PID=$(systemctl show -p MainPID --value secretd)
	# Type=notify: "started" means READY=1 came, once the socket listened.
	expect_eq "$(systemctl show -p StatusText --value secretd)" listening "systemctl start returned on READY=1 (status: listening)"
	# Even root, in the daemon's mount namespace, cannot write there.
	out=$(nsenter -t "$SECRETD_PID" -m touch /etc/secretd/.probe 2>&1)
	case $out in
	*"Read-only file system"*) ok "the running daemon sees /etc/secretd read-only" ;;
	*) bad "/etc/secretd is writable in the daemon's namespace: ${out:-touch succeeded}"; rm -f /etc/secretd/.probe ;;
	esac
	out=$(nsenter -t "$SECRETD_PID" -m touch /usr/.probe 2>&1)
	case $out in
	*"Read-only file system"*) ok "...and /usr too (ProtectSystem=strict)" ;;
	*) bad "/usr is writable in the daemon's namespace: ${out:-touch succeeded}"; rm -f /usr/.probe ;;
	esac
	expect_eq "$(awk '/^CapEff/ { print $2 }' /proc/$SECRETD_PID/status)" 0000000000000000 "no capabilities"
	expect_eq "$(awk '/^Seccomp:/ { print $2 }' /proc/$SECRETD_PID/status)" 2 "a system call filter"
fi
expect_eq "$(stat -c '%G %a' /run/secretd/secretd.sock)" "secret 660" "the socket: group secret, 0660"

# ---------------------------------------------------------------- journeys
guide pin-server
guide admin
guide_env
v=$(secret get prod/db/password 2>&1)
expect_eq "${#v}" 32 "secret get: the generated value, 32 characters"
check "secret put --cas 1" sh -c "printf 'hunter3' | secret put prod/db/password --cas 1"
secret put prod/db/password --cas 1 </dev/null >/dev/null 2>&1
expect_eq "$?" 6 "a stale --cas is a conflict (exit 6)"
expect_eq "$(ssh -q -o BatchMode=yes -i /root/.ssh/id_ed25519 secret@vault.example get prod/db/password 2>&1)" hunter3 \
	"plain ssh get, with the pinned host key"

guide enrol-on
check "SIGHUP applied enrol_unknown_keys (the log)" log_has "reloaded enrol_unknown_keys = yes"
guide enrol-token
guide enrol-host
HOSTKEY=(-i /etc/ssh/ssh_host_ed25519_key)
out=$(secret "${HOSTKEY[@]}" whoami 2>&1)
case $out in *web7*) ok "the host key is principal web7" ;; *) bad "secret whoami with the host key: $out" ;; esac
check "the token file is gone (shred -u)" test ! -e /run/provision/token
guide fetch
if [ "$BOOTED" = 1 ]; then
	expect_eq "$(systemctl is-active secretd-fetch@web)" active "secretd-fetch@web.service ran"
fi
expect_eq "$(cat /run/secrets/web/db 2>&1)" "$(secret get prod/web/db 2>&1)" "/run/secrets/web/db holds the value"
secret "${HOSTKEY[@]}" get prod/db/password >/dev/null 2>&1
expect_eq "$?" 4 "the host cannot read outside its grant (exit 4)"

guide audit
out=$(secret audit verify 2>&1)
case $out in intact:*) ok "secret audit verify: $out" ;; *) bad "secret audit verify: $out" ;; esac
out=$(secret audit query --action enrol 2>&1)
if printf '%s\n' "$out" | grep -Eq ' enrol +- +- +ok '; then ok "secret audit query --action enrol: the enrolment is a row"; else bad "audit query: $out"; fi
check "the report names web7" grep -q web7 /root/audit.html

# -------------------------------------------------------------- rotation
guide rotate-keygen
check "reload (SIGHUP): secretd reloads the keyring" log_has "keyring reloaded; sealing with key 2"
guide rotate-rekey
expect_eq "$(runuser -u postgres -- psql -XAt -d secretd -c 'SELECT DISTINCT key_id FROM secret_version WHERE ciphertext IS NOT NULL' 2>&1)" 2 \
	"every stored version is sealed under key 2"
expect_eq "$(secret get prod/db/password 2>&1)" hunter3 "the value reads after the rotation"
guide retire
check "key 1 is gone from the keyring" sh -c '! grep -q "^1 " /etc/secretd/keyring'
expect_eq "$(stat -c '%U:%G %a' /etc/secretd/keyring)" "secretd:secretd 400" "the keyring: secretd's, 0400"
expect_eq "$(secret get prod/db/password 2>&1)" hunter3 "the value reads after the restart without key 1"

# ---------------------------------------------------------------- stats
guide stats
out=$(runuser -u secret -- secretd stats --key /etc/secretd-stats.pub --prometheus 2>&1)
case $out in *'secretd_requests_total{action="principal.create",result="ok"} 1'*) ok "secretd stats --prometheus: counts the block's principal create" ;;
*) bad "secretd stats --prometheus: $out" ;; esac

step "secretd doctor, after all that"
check "secretd doctor: healthy" secretd doctor

# ------------------------------------------------------- upgrade, purge
guide upgrade
expect_eq "$(secret get prod/db/password 2>&1)" hunter3 "the value reads after the upgrade's restart"
if [ "$BOOTED" = 1 ]; then
	guide purge
	check "secretd stopped and its runtime directory is gone" test ! -e /run/secretd/secretd.sock
else
	systemctl stop secretd
	guide purge
	kill -TERM "$(cat /run/sshd.pid)" 2>/dev/null
	pg_ctlcluster "$PGVER" main stop >/dev/null 2>&1
fi
check "the programs are gone" test ! -e /usr/sbin/secretd -a ! -e /usr/bin/secret -a ! -e /usr/libexec/secretd
check "the units are gone" test ! -e /lib/systemd/system/secretd.service -a ! -e /lib/systemd/system/secretd-fetch@.service
check "the keyring is kept (purge never destroys it)" test -f /etc/secretd/keyring
expect_eq "$GUIDE_NEXT" "${#GUIDE_ORDER[@]}" "every block of the guide ran"
finish

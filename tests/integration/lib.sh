# shellcheck shell=bash
# tests/integration/lib.sh - test and development harness for secretd.
#
# Sourced (never executed) by run.sh (the integration suite), dev.sh
# (make dev-up / dev-down) and every tests/integration/t_*.sh file.  It
# starts a complete, private installation under one work directory W:
# PostgreSQL (Unix socket only), secretd (as root) and sshd (as root, on a
# free 127.0.0.1 port, login user "secret"), and gives tests exact
# assertions.  It must never touch the machine's own PostgreSQL, sshd or
# /etc: everything it starts lives in W and in one directory under /run.
#
# Layout of W (the same for the test suite and for .dev/):
#   pg/ pgsock/ pg.log          PostgreSQL cluster, its socket directory, log
#   pgroot                      (only when W is not reachable by the OS user
#                               postgres, e.g. a clone under /root, or too
#                               long for a socket path): the directory under
#                               /var/tmp that holds pg/ pgsock/ pg.log; the
#                               names in W are symlinks to them
#   rundir                      path of RUNDIR (see below)
#   secretd.conf keyring secretd.log secretd.pid secretd.stamp initialized
#   admin admin.pub             the first admin's key (principal "admin")
#   ssh_host_ed25519_key[.pub] sshd_config sshd.log sshd.pid port known_hosts
#   env                         sourceable environment for clients and tests
#   home/ keys/ tmp/ results/ san/   test HOME, test keys, per-file scratch,
#                               per-file counters, sanitizer reports
# RUNDIR = /run/secretd-test.XXXXXX (root-owned, 0755) holds secretd.sock, a
# copy of secret-shell (sshd refuses an AuthorizedKeysCommand below a
# group/world-writable directory such as /tmp) and san/ (1777, sanitizer
# logs of secret-shell, which runs as "secret").
#
# PostgreSQL: initdb -A trust (any local user may connect as any role: a
# throw-away cluster), listen_addresses = '' (no TCP), PGPORT 5432 (only the
# socket name), fsync = off (a power loss may corrupt the test/dev cluster;
# nothing else changes: synchronous_commit etc. keep their defaults).
# Roles: postgres (bootstrap superuser), secretd_admin (superuser, owns
# database "secretd", used by secretd's admin_database for init/migrate)
# and secretd (LOGIN NOSUPERUSER, the runtime role of "database").
#
# ---------------------------------------------------------------- environment
#   env_up W BIN [RUNDIR_PREFIX]  start (or resume) everything in W with the
#                         binaries in BIN; idempotent: what runs is kept, a
#                         changed bin/secretd is restarted, a changed
#                         secret-shell re-copied.  Writes W/env.
#   env_down W            stop sshd, secretd, PostgreSQL (TERM, then KILL),
#                         move sanitizer logs to W/san, remove RUNDIR. W stays.
#   env_status W          0 if PostgreSQL, secretd (+socket) and sshd all run
#   env_load W            set W RUNDIR BIN SSH_PORT ... from W's state files
#   env_print W           print W/env
#   env_san_reports W     print sanitizer reports found in W (0 if none)
#   free_port             print a random free 127.0.0.1 TCP port (10000..
#                         below the ephemeral range), checked with ss
#   pg_up / pg_down       the cluster ($W/pg); roles and database
#   ensure_secret_user    OS user "secret" (system, /bin/sh, password "*")
#   rundir_up             RUNDIR + secret-shell copy
#   secretd_conf / secretd_init / secretd_migrate / secretd_up / secretd_down
#                         (SD_CONF_EXTRA: one more line for secretd.conf)
#                         (secretd_up runs `secretd migrate` before a restart)
#   sshd_up / sshd_down   (retries with a new port if the bind fails)
#   write_env             W/env (see DESIGN §10 for the required variables)
#   spawn PIDFILE LOG CMD...  start CMD in its own session (survives the
#                         caller), stdout+stderr appended to LOG, pid in
#                         PIDFILE
#   stop_pid PID NAME [SECS]  SIGTERM the process and its descendants, wait,
#                         then SIGKILL
#   alive PID             0 if PID runs (zombies count as dead)
#   sd_starttime PID      SD_START = PID's start time (pid + start time name
#                         one process for good: pids are reused within a run)
#   sd_kill_same SIG PID START  signal PID only if it is still that process
#
# --------------------------------------------------------------------- tests
# Each t_*.sh runs as its own bash process with W/env exported (run.sh),
# sources this file and calls test_init.  Variables: W (work dir), T
# (scratch dir of this file), RUNDIR, BIN, SSH_PORT.  Expectations count
# one pass or one failure each, print the details of a failure and return
# 1 on failure (so `expect_exit 0 ... || die "cannot continue"` works).
#
#   test_init             start a test file (call once, after sourcing)
#   describe TEXT         label for the following expectations
#   run CMD...            run CMD (a program or a shell function; stdin
#                         /dev/null; killed after $RUN_TIMEOUT s: RC 124),
#                         set RC, OUT, ERR (exact, trailing newlines kept,
#                         NUL bytes dropped), OUT_FILE, ERR_FILE (exact bytes)
#   run_in STRING CMD...  the same with STRING on stdin (exactly; a bash
#                         string cannot hold NUL: use run_in_file for that)
#   run_in_file FILE CMD...  the same with FILE on stdin
#   expect_exit N CMD...  run CMD, expect exit status N
#   expect_fail N CODE CMD...  run CMD, expect status N and the first line
#                         of stderr to start with "secret: CODE: "
#   expect_rc N           exit status of the last run is N
#   expect_out STR        stdout of the last run is exactly STR + "\n"
#                         ("" means empty output)
#   expect_out_exact STR  stdout is exactly STR (no newline added)
#   expect_out_file FILE  stdout equals FILE byte for byte
#   expect_err STR / expect_err_exact STR   same for stderr
#   expect_out_contains S / expect_out_lacks S / expect_out_match ERE
#   expect_err_contains S / expect_err_lacks S / expect_err_match ERE
#   expect_json FILTER VALUE   `jq -r FILTER` over stdout prints exactly
#                         VALUE (all lines joined by "\n")
#   expect_eq GOT WANT [MSG] / expect_ne A B [MSG]
#   expect_contains HAY NEEDLE [MSG] / expect_lacks HAY NEEDLE [MSG]
#   expect_match STR ERE [MSG]
#   expect_mode MODE FILE  octal mode (e.g. 600) of FILE
#   expect_true CMD...    CMD (a test, not a program under test) succeeds
#   ok MSG / fail MSG     count a pass / a failure by hand
#   die MSG               count a failure and end this test file
#   skip MSG              end this file, counting it as skipped (exit 0)
#   skip_case MSG         a case this machine cannot arrange: print
#                         "SKIP file:line [describe] MSG", count nothing
#                         (never `ok` for a check that did not run)
#   helper_start NAME CMD...  a background process the test relies on (a
#                         forwarder, a second secretd), output to T/NAME.log
#                         (appended),
#                         pid in HELPER_PID; one that ends while registered
#                         is a failure, named, at the next describe or at
#                         done_testing
#   helper_stop NAME [SIG]  signal it (TERM) if it still runs, wait, forget
#                         it; exit status in HELPER_RC
#   bg_note PID / bg_kill SIG PID   a background process that may end by
#                         itself: signal it only while it is still the same
#   helper_stop_all / helper_check   (by hand; at the end, helpers are
#                         stopped for you)
#   at_exit CMD           run CMD when the file ends (never `trap ... EXIT`:
#                         a forked subshell can run such a trap; see
#                         "leaving a test file" below)
#   done_testing          print this file's counts; exit 1 on any failure
#                         or when nothing was asserted
#   plain_ssh KEY CMD...  OpenSSH client as "secret" with KEY only, no
#                         agent, no ssh_config, strict host key check
#   secret_as KEY ARGS... the secret client with identity KEY
#   new_key NAME [TYPE]   make W/keys/NAME(.pub) (default ed25519), print
#                         the private key path
#   sql QUERY             psql as secretd_admin (superuser); -XAtq, stops on
#                         error; rows one per line, columns "|"-separated
#   sql_as ROLE QUERY     the same as ROLE (e.g. secretd, the runtime role)
#   secretd_log_mark / secretd_log_since   remember / print secretd.log
#                         written since the mark
#
# Example (tests/integration/t_10_secrets.sh):
#   . "$(dirname "$0")/lib.sh"; test_init
#   describe "put then get returns the exact bytes"
#   expect_exit 0 run_in "s3cret" secret put app/db   # (or: run_in ... ; expect_rc 0)
#   expect_exit 0 secret get app/db;  expect_out_exact "s3cret"
#   describe "a stranger is denied"
#   k=$(new_key bob)
#   expect_fail 3 unauthenticated secret_as "$k" get app/db
#   done_testing

SD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SD_REPO=$(cd "$SD_LIB_DIR/../.." && pwd)
PG_BINDIR=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
SD_PGPORT=5432
SD_TIMEOUT=${SD_TIMEOUT:-30}    # seconds to wait for a daemon to come up
RUN_TIMEOUT=${RUN_TIMEOUT:-60}  # seconds before a command under test is killed
SD_SAN_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|ThreadSanitizer|MemorySanitizer'

sd_log() { printf '[env] %s\n' "$*" >&2; }
sd_err() { printf '[env] error: %s\n' "$*" >&2; }

# Print the last lines of a log file, framed, to stderr.
sd_dump() {
	local f=$1 n=${2:-60}
	[ -e "$f" ] || return 0
	printf '[env] ---- last %s lines of %s ----\n' "$n" "$f" >&2
	tail -n "$n" "$f" >&2
	printf '[env] ---- end of %s ----\n' "$f" >&2
}

# ----------------------------------------------------------------- processes

alive() {
	local st
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${st##*) }			# the state, past "pid (comm) "
	st=${st:0:1}
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# PID runs the program NAME (guards against a stale pid file whose pid was
# reused, e.g. after a reboot of a dev machine).
sd_pid_is() {
	local exe a0 a1
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	exe=${exe% (deleted)}
	[ "${exe##*/}" = "$2" ] && return 0
	# a script (#!): its path is argv[1] or argv[0]
	{ IFS= read -r -d '' a0; IFS= read -r -d '' a1; } <"/proc/$1/cmdline" 2>/dev/null
	[ "${a0##*/}" = "$2" ] || { [ -n "${a1:-}" ] && [ "${a1##*/}" = "$2" ]; }
}

# sd_pidfile_alive FILE NAME: print the pid in FILE if it is alive and NAME.
sd_pidfile_alive() {
	local f=$1 pid
	[ -s "$f" ] || return 1
	pid=$(head -n 1 "$f")
	alive "$pid" && sd_pid_is "$pid" "$2" && printf '%s\n' "$pid"
}

# sd_starttime PID: set SD_START to when PID started (clock ticks since
# boot, field 22 of /proc/PID/stat); 1 if PID does not exist.  A pid and
# its start time name one process for good: a pid that was reaped and
# given to another process has a later start time.  (No subshell, no
# fork: sd_run calls it for every command under test.)
sd_starttime() {
	local st
	SD_START=
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${st##*) }			# past "pid (comm) ": comm may hold spaces
	read -r -a st <<<"$st"
	[ ${#st[@]} -ge 20 ] || return 1
	SD_START=${st[19]}
}

# sd_pid_same PID START: PID is alive and is still the process that had
# start time START.
sd_pid_same() {
	[ -n "$2" ] && alive "$1" && sd_starttime "$1" && [ "$SD_START" = "$2" ]
}

# sd_kill_same SIG PID START: signal PID only if it is still that process.
# Every kill of a pid read earlier goes through here: the suites of make
# check spawn tens of thousands of processes, so pids are reused within
# a run, and a stale pid may name another test's process.
sd_kill_same() {
	sd_pid_same "$2" "$3" && kill "-$1" "$2" 2>/dev/null
}

# Descendants of a pid, deepest first.
sd_descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		sd_descendants "$c"
		printf '%s\n' "$c"
	done
}

# Close every file descriptor above 2 in the current (sub)shell: a daemon
# must not inherit a test's descriptors (say, the write end of a FIFO whose
# reader then never sees end-of-file).  255 is bash's own, close-on-exec.
sd_close_fds() {
	local fd
	for fd in "/proc/$BASHPID/fd"/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && [ "$fd" != 255 ] && eval "exec $fd>&-"
	done 2>/dev/null
	return 0
}

spawn() {
	local pidfile=$1 log=$2 i
	shift 2
	rm -f "$pidfile"
	# setsid: own session, so a ^C or the end of `make` does not reach it;
	# the inner bash writes its own pid and execs, so the pid is CMD's
	# whether or not setsid had to fork.
	(sd_close_fds && cd / && exec setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
		"$pidfile" "$@" </dev/null >>"$log" 2>&1) &
	disown $! 2>/dev/null    # not a job of ours: no "Killed" notice, no waiting for it
	for ((i = 0; i < 100; i++)); do
		[ -s "$pidfile" ] && return 0
		sleep 0.05
	done
	sd_err "could not start: $*"
	return 1
}

stop_pid() {
	local pid=$1 name=$2 secs=${3:-15} i p start kids=()
	alive "$pid" && sd_starttime "$pid" || return 0
	start=$SD_START
	for p in $(sd_descendants "$pid"); do
		sd_starttime "$p" && kids+=("$p:$SD_START")
	done
	sd_kill_same TERM "$pid" "$start"
	for ((i = 0; i < secs * 10; i++)); do
		sd_pid_same "$pid" "$start" || break
		sleep 0.1
	done
	if sd_pid_same "$pid" "$start"; then
		sd_err "$name (pid $pid) ignored SIGTERM for ${secs}s; killing it"
		sd_kill_same KILL "$pid" "$start"
	fi
	for p in "${kids[@]}"; do
		sd_kill_same KILL "${p%%:*}" "${p#*:}"
	done
	for ((i = 0; i < 50; i++)); do
		sd_pid_same "$pid" "$start" || return 0
		sleep 0.1
	done
	sd_err "$name (pid $pid) is still alive"
	return 1
}

# --------------------------------------------------------------------- ports

free_port() {
	local lo=10000 hi i p range
	range=$(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) || range="32768 60999"
	hi=$(( ${range%%[[:space:]]*} - 1 ))
	[ "$hi" -gt 20000 ] || hi=32767
	for ((i = 0; i < 200; i++)); do
		p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1) ))
		if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	sd_err "no free TCP port found"
	return 1
}

# ---------------------------------------------------------------- state

# env_load W: the state of a (possibly running) environment.
env_load() {
	W=$(cd "$1" && pwd) || return 1
	RUNDIR=$(cat "$W/rundir" 2>/dev/null || true)
	SSH_PORT=$(cat "$W/port" 2>/dev/null || true)
	BIN=$(cat "$W/bin" 2>/dev/null || true)
	PGROOT=$W
	[ -s "$W/pgroot" ] && PGROOT=$(cat "$W/pgroot")
	PGDATA_DIR=$PGROOT/pg
	PG_SOCK=$PGROOT/pgsock
	PG_LOG=$PGROOT/pg.log
	SECRETD_CONF=$W/secretd.conf
	SECRETD_SOCKET=${RUNDIR:+$RUNDIR/secretd.sock}
}

# ---------------------------------------------------------------- PostgreSQL

# Run a command as the OS user postgres (initdb and the server refuse root).
as_postgres() {
	(sd_close_fds && cd / && HOME=/var/lib/postgresql setpriv --reuid=postgres --regid=postgres \
		--init-groups -- "$@")
}

sd_pg_running() {
	sd_pidfile_alive "$PGDATA_DIR/postmaster.pid" postgres >/dev/null
}

sd_psql() { # sd_psql ROLE DB SQL
	psql -X -A -t -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$SD_PGPORT" -U "$1" -d "$2" -c "$3"
}

pg_up() {
	local root sockpath
	if [ -z "$PG_BINDIR" ] || [ ! -x "$PG_BINDIR/initdb" ]; then
		sd_err "PostgreSQL server binaries not found (run make deps)"
		return 1
	fi
	getent passwd postgres >/dev/null || { sd_err "no OS user postgres (run make deps)"; return 1; }
	if [ -L "$W/pg" ] && [ ! -e "$W/pg" ]; then
		# the cluster outside W is gone (/var/tmp cleaned): start afresh
		rm -f "$W/pg" "$W/pgsock" "$W/pg.log" "$W/pgroot"
		env_load "$W"
	fi
	if [ ! -e "$W/pg" ]; then
		# The cluster lives in W when postgres can reach it and the socket
		# path fits (107 bytes); else (e.g. a clone under /root, mode 0700)
		# in /var/tmp, linked from W.
		sockpath="$W/pgsock/.s.PGSQL.$SD_PGPORT"
		if [ "${#sockpath}" -le 100 ] && as_postgres test -x "$W/."; then
			mkdir -p "$W/pg" "$W/pgsock"
		else
			root=$(mktemp -d /var/tmp/secretd-pg.XXXXXX) || return 1
			chmod 0755 "$root"
			mkdir -p "$root/pg" "$root/pgsock"
			printf '%s\n' "$root" >"$W/pgroot"
			ln -s "$root/pg" "$W/pg"
			ln -s "$root/pgsock" "$W/pgsock"
			ln -s "$root/pg.log" "$W/pg.log"
			sd_log "postgres cannot reach $W; cluster in $root"
		fi
		env_load "$W"
		chown postgres:postgres "$PGDATA_DIR" "$PG_SOCK"
		chmod 0700 "$PGDATA_DIR"
		chmod 0755 "$PG_SOCK"
	fi
	if [ ! -s "$PGDATA_DIR/PG_VERSION" ]; then
		sd_log "initdb $PGDATA_DIR"
		rm -f "$W/initialized"    # a new, empty database needs secretd init
		if ! as_postgres "$PG_BINDIR/initdb" -D "$PGDATA_DIR" -U postgres -A trust \
			-E UTF8 --locale=C --no-sync --no-instructions >"$W/initdb.log" 2>&1; then
			sd_dump "$W/initdb.log"
			return 1
		fi
		cat >>"$PGDATA_DIR/postgresql.conf" <<-EOF

		# --- secretd test harness (tests/integration/lib.sh) ---
		listen_addresses = ''
		port = $SD_PGPORT
		unix_socket_directories = '$PG_SOCK'
		# A throw-away cluster: fsync off for speed.  A crash of the machine
		# may corrupt it; nothing else differs from the defaults.
		fsync = off
		max_connections = 200
		log_line_prefix = '%m [%p] %q%u@%d '
		EOF
	fi
	if ! sd_pg_running; then
		sd_log "starting PostgreSQL (socket $PG_SOCK)"
		touch "$PG_LOG"
		chown postgres "$PG_LOG"
		if ! as_postgres setsid -w "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" \
			-w -t "$SD_TIMEOUT" start >/dev/null; then
			sd_dump "$PG_LOG"
			return 1
		fi
	fi
	# Roles and database (idempotent).
	if ! sd_psql postgres postgres "
		DO \$\$ BEGIN
		  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'secretd_admin') THEN
		    CREATE ROLE secretd_admin LOGIN SUPERUSER;
		  END IF;
		  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'secretd') THEN
		    CREATE ROLE secretd LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
		  END IF;
		END \$\$;"; then
		sd_err "creating roles failed"
		return 1
	fi
	if [ -z "$(sd_psql postgres postgres "SELECT 1 FROM pg_database WHERE datname = 'secretd'")" ]; then
		sd_psql postgres postgres "CREATE DATABASE secretd OWNER secretd_admin" || return 1
	fi
}

pg_down() {
	[ -n "${PGDATA_DIR:-}" ] && [ -d "$PGDATA_DIR" ] || return 0
	sd_pg_running || return 0
	local pid
	pid=$(head -n 1 "$PGDATA_DIR/postmaster.pid")
	if ! as_postgres "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1; then
		sd_err "pg_ctl stop failed"
		stop_pid "$pid" postgres 5
	fi
}

# ------------------------------------------------------------- OS user secret

ensure_secret_user() {
	local pw shell
	(
		flock 9
		if ! getent passwd secret >/dev/null; then
			sd_log "creating OS user secret"
			useradd --system --user-group --create-home --home-dir /var/lib/secret \
				--shell /bin/sh --comment "secretd login" secret || exit 1
			usermod -p '*' secret || exit 1
		fi
	) 9>/run/lock/secretd-harness.lock || { sd_err "cannot create user secret"; return 1; }
	pw=$(getent shadow secret | cut -d: -f2)
	case $pw in
	'*') ;;
	'!' | '!!' | '!*' | '')
		# Locked (or empty) with no password hash: sshd refuses "!".
		usermod -p '*' secret || return 1 ;;
	*)
		sd_err "user secret has password field '${pw:0:1}...'; sshd needs '*' (usermod -p '*' secret)"
		return 1 ;;
	esac
	shell=$(getent passwd secret | cut -d: -f7)
	case $shell in
	*/nologin | */false | '')
		sd_err "user secret has shell '$shell'; sshd runs the forced command through it (usermod -s /bin/sh secret)"
		return 1 ;;
	esac
	getent group secret >/dev/null || { sd_err "no group secret"; return 1; }
}

# ----------------------------------------------------------------- RUNDIR

# sshd runs an AuthorizedKeysCommand only if it and every directory above
# it is root-owned and not group/world writable: check that up front rather
# than fail every login later.
sd_safe_path() {
	local d=$1 st
	while :; do
		st=$(stat -L -c '%u %a' "$d") || return 1
		if [ "${st%% *}" != 0 ] || [ $((8#${st#* } & 8#022)) != 0 ]; then
			sd_err "$d is not root-owned or is group/world writable (stat: uid/mode $st); sshd would refuse an AuthorizedKeysCommand below it"
			return 1
		fi
		[ "$d" = / ] && return 0
		d=$(dirname "$d")
	done
}

rundir_up() {
	local prefix=${1:-secretd-test}
	if [ -z "${RUNDIR:-}" ] || [ ! -d "$RUNDIR" ]; then
		RUNDIR=$(mktemp -d "/run/$prefix.XXXXXX") || return 1
		printf '%s\n' "$RUNDIR" >"$W/rundir"
	fi
	chown root:root "$RUNDIR"
	chmod 0755 "$RUNDIR"
	sd_safe_path "$RUNDIR" || return 1
	mkdir -p "$RUNDIR/san"
	chmod 1777 "$RUNDIR/san"
	if ! cmp -s "$BIN/secret-shell" "$RUNDIR/secret-shell"; then
		# install writes a new file and renames it: sshd never sees half a binary
		install -o root -g root -m 0755 "$BIN/secret-shell" "$RUNDIR/secret-shell" || return 1
	fi
	SECRETD_SOCKET=$RUNDIR/secretd.sock
}

# Are these ASan/UBSan builds?  Then sanitizer reports of secret-shell go to
# files in RUNDIR/san (its stderr goes to sshd in authorized-keys mode, to
# the ssh client in a session: no test would see them), and env_san_reports
# fails the run on any.
sd_is_san() { grep -qa -m 1 -e __asan_init -e __ubsan_handle "$1" 2>/dev/null; }

# ------------------------------------------------------------------- secretd

secretd_conf() {
	cat >"$W/secretd.conf.tmp" <<-EOF
	# generated by tests/integration/lib.sh
	socket = $RUNDIR/secretd.sock
	socket_group = secret
	shell_users = secret,root
	database = host=$PG_SOCK port=$SD_PGPORT dbname=secretd user=secretd
	admin_database = host=$PG_SOCK port=$SD_PGPORT dbname=secretd user=secretd_admin
	keyring = $W/keyring
	enrol_unknown_keys = yes
	log_level = debug
	idle_timeout = 30
	${SD_CONF_EXTRA:-}
	EOF
	mv "$W/secretd.conf.tmp" "$W/secretd.conf"
	SECRETD_CONF=$W/secretd.conf
}

# secretd reads only its configuration: no PG* variable may fill in a
# conninfo field it forgot.
SD_SECRETD_ENV=(env -u PGHOST -u PGPORT -u PGDATABASE -u PGUSER -u PGPASSWORD -u PGSERVICE)

secretd_init() {
	SD_MIGRATED=
	[ -e "$W/initialized" ] && return 0
	if [ ! -s "$W/admin" ]; then
		ssh-keygen -q -t ed25519 -N '' -C admin -f "$W/admin" || return 1
	fi
	sd_log "secretd init --admin admin"
	if ! "${SD_SECRETD_ENV[@]}" timeout -k 5 120 "$BIN/secretd" -c "$W/secretd.conf" init \
		--admin admin --key "$W/admin.pub" >"$W/init.log" 2>&1; then
		sd_err "secretd init failed"
		sd_dump "$W/init.log"
		return 1
	fi
	touch "$W/initialized"
	SD_MIGRATED=1    # init applied every migration
}

# Apply pending migrations (a rebuilt secretd may bring new ones; it refuses
# to serve an old schema).  Idempotent.
secretd_migrate() {
	[ -n "${SD_MIGRATED:-}" ] && return 0
	if ! "${SD_SECRETD_ENV[@]}" timeout -k 5 120 "$BIN/secretd" -c "$W/secretd.conf" migrate \
		>"$W/migrate.log" 2>&1; then
		sd_err "secretd migrate failed"
		sd_dump "$W/migrate.log"
		return 1
	fi
	SD_MIGRATED=1
}

# Identity of a binary, to restart secretd when bin/secretd was rebuilt.
sd_stamp() { stat -L -c '%d:%i:%s:%Y' "$1" 2>/dev/null; }

secretd_up() {
	local pid i
	if pid=$(sd_pidfile_alive "$W/secretd.pid" secretd) && [ -S "$RUNDIR/secretd.sock" ]; then
		if [ "$(cat "$W/secretd.stamp" 2>/dev/null)" = "$(sd_stamp "$BIN/secretd")" ]; then
			return 0
		fi
		sd_log "$BIN/secretd changed; restarting secretd"
		secretd_down
	elif [ -n "${pid:-}" ]; then
		secretd_down
	fi
	secretd_migrate || return 1
	rm -f "$RUNDIR/secretd.sock"
	sd_stamp "$BIN/secretd" >"$W/secretd.stamp"
	sd_log "starting secretd (socket $RUNDIR/secretd.sock)"
	spawn "$W/secretd.pid" "$W/secretd.log" "${SD_SECRETD_ENV[@]}" "$BIN/secretd" -c "$W/secretd.conf" serve || return 1
	pid=$(cat "$W/secretd.pid")
	for ((i = 0; i < SD_TIMEOUT * 20; i++)); do
		[ -S "$RUNDIR/secretd.sock" ] && return 0
		alive "$pid" || break
		sleep 0.05
	done
	if alive "$pid"; then
		sd_err "secretd did not create $RUNDIR/secretd.sock within ${SD_TIMEOUT}s"
		stop_pid "$pid" secretd 5
	else
		sd_err "secretd exited during start-up"
	fi
	sd_dump "$W/secretd.log"
	return 1
}
secretd_down() {
	local pid
	if pid=$(sd_pidfile_alive "$W/secretd.pid" secretd); then
		stop_pid "$pid" secretd 20
	fi
	rm -f "$W/secretd.pid"
}

# ---------------------------------------------------------------------- sshd

sd_sshd_config() {
	local port=$1 akc
	akc="$RUNDIR/secret-shell -S $RUNDIR/secretd.sock authorized-keys %u %t %k"
	if sd_is_san "$RUNDIR/secret-shell"; then
		akc="/usr/bin/env ASAN_OPTIONS=log_path=$RUNDIR/san/secret-shell UBSAN_OPTIONS=print_stacktrace=1:log_path=$RUNDIR/san/secret-shell $akc"
	fi
	cat <<-EOF
	# generated by tests/integration/lib.sh: a private sshd for secretd tests
	Port $port
	ListenAddress 127.0.0.1
	AddressFamily inet
	HostKey $W/ssh_host_ed25519_key
	PidFile $W/sshd.pid
	UsePAM no
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	AuthenticationMethods publickey
	PermitRootLogin no
	AllowUsers secret
	AuthorizedKeysFile none
	LogLevel VERBOSE
	PrintMotd no
	PrintLastLog no
	UseDNS no
	LoginGraceTime 30
	MaxStartups 100:30:300
	MaxSessions 64
	EOF
	if [ -n "${SD_SSHD_PENALTIES:-}" ]; then
		echo "PerSourcePenalties no"
	fi
	cat <<-EOF
	Match User secret
	    AuthorizedKeysCommand $akc
	    AuthorizedKeysCommandUser secret
	    ExposeAuthInfo yes
	    SetEnv SECRETD_SOCKET=$RUNDIR/secretd.sock${SD_SAN_SETENV:-}
	    DisableForwarding yes
	    PermitTTY no
	EOF
}

sshd_up() {
	local pid port i
	mkdir -p /run/sshd
	chmod 0755 /run/sshd
	if [ ! -s "$W/ssh_host_ed25519_key" ]; then
		ssh-keygen -q -t ed25519 -N '' -C "secretd-test-host" -f "$W/ssh_host_ed25519_key" || return 1
	fi
	SD_SAN_SETENV=
	if sd_is_san "$RUNDIR/secret-shell"; then
		SD_SAN_SETENV=" ASAN_OPTIONS=log_path=$RUNDIR/san/secret-shell UBSAN_OPTIONS=print_stacktrace=1:log_path=$RUNDIR/san/secret-shell"
	fi
	# OpenSSH >= 9.8 penalises sources that fail to authenticate, and the
	# tests fail to authenticate on purpose from 127.0.0.1.
	SD_SSHD_PENALTIES=
	if printf 'HostKey %s\nPerSourcePenalties no\n' "$W/ssh_host_ed25519_key" >"$W/sshd_probe" &&
		/usr/sbin/sshd -t -f "$W/sshd_probe" 2>/dev/null; then
		SD_SSHD_PENALTIES=1
	fi
	rm -f "$W/sshd_probe"

	port=$(cat "$W/port" 2>/dev/null || true)
	if pid=$(sd_pidfile_alive "$W/sshd.pid" sshd); then
		if [ -n "$port" ] && sd_sshd_config "$port" | cmp -s - "$W/sshd_config"; then
			sd_write_known_hosts "$port"
			SSH_PORT=$port
			return 0
		fi
		sshd_down
	fi
	for _ in 1 2 3 4 5; do
		if [ -z "$port" ] || [ -n "$(ss -Hltn "sport = :$port")" ]; then
			port=$(free_port) || return 1
		fi
		sd_sshd_config "$port" >"$W/sshd_config"
		if ! /usr/sbin/sshd -t -f "$W/sshd_config" 2>"$W/sshd.log"; then
			sd_err "sshd -t rejected $W/sshd_config"
			sd_dump "$W/sshd.log"
			return 1
		fi
		sd_log "starting sshd on 127.0.0.1:$port"
		: >"$W/sshd.log"
		spawn "$W/sshd.spawn.pid" "$W/sshd.log" /usr/sbin/sshd -D -e -f "$W/sshd_config" || return 1
		pid=$(cat "$W/sshd.spawn.pid")
		rm -f "$W/sshd.spawn.pid"
		for ((i = 0; i < SD_TIMEOUT * 20; i++)); do
			alive "$pid" || break
			# sshd writes its PidFile once its sockets are bound
			if [ "$(cat "$W/sshd.pid" 2>/dev/null)" = "$pid" ] &&
				ss -Hltnp "sport = :$port" | grep -q "pid=$pid,"; then
				printf '%s\n' "$port" >"$W/port"
				SSH_PORT=$port
				sd_write_known_hosts "$port"
				return 0
			fi
			sleep 0.05
		done
		if alive "$pid"; then
			sd_err "sshd did not listen on $port within ${SD_TIMEOUT}s"
			stop_pid "$pid" sshd 5
			sd_dump "$W/sshd.log"
			return 1
		fi
		if grep -q 'Address already in use' "$W/sshd.log"; then
			sd_log "port $port was taken; retrying"
			port=
			continue
		fi
		sd_err "sshd exited during start-up"
		sd_dump "$W/sshd.log"
		return 1
	done
	sd_err "sshd could not bind a port"
	return 1
}

sd_write_known_hosts() {
	printf '[127.0.0.1]:%s %s\n' "$1" "$(cut -d' ' -f1,2 "$W/ssh_host_ed25519_key.pub")" >"$W/known_hosts"
}

sshd_down() {
	local pid
	# stop_pid also ends the per-connection sshd processes (they run in
	# sessions of their own) and the secret-shells below them.
	if pid=$(sd_pidfile_alive "$W/sshd.pid" sshd); then
		stop_pid "$pid" sshd 10
	fi
	rm -f "$W/sshd.pid"
}

# ----------------------------------------------------------------- env file

write_env() {
	q() { printf '%q' "$1"; }
	cat >"$W/env.tmp" <<-EOF
	# secretd environment, generated by tests/integration/lib.sh.  Source it:
	#   . $(q "$W/env")
	export SECRET_SERVER=$(q "secret@127.0.0.1:$SSH_PORT")
	export SECRET_IDENTITY=$(q "$W/admin")
	export SECRET_KNOWN_HOSTS=$(q "$W/known_hosts")
	export SECRETD_CONF=$(q "$W/secretd.conf")
	export SECRETD_SOCKET=$(q "$RUNDIR/secretd.sock")
	export PGHOST=$(q "$PG_SOCK")
	export PGPORT=$SD_PGPORT
	export PGDATABASE=secretd
	export PGUSER=secretd_admin
	export SECRETD_WORK=$(q "$W")
	export SECRETD_RUNDIR=$(q "$RUNDIR")
	export SECRETD_BIN=$(q "$BIN")
	export SECRETD_SSH_PORT=$SSH_PORT
	case "\$PATH" in
	$(q "$BIN"):*) ;;
	*) PATH=$(q "$BIN"):\$PATH ;;
	esac
	export PATH
	EOF
	mv "$W/env.tmp" "$W/env"
	unset -f q
}

env_print() { cat "$1/env"; }

# ------------------------------------------------------------ whole env

env_up() {
	local w=$1 bin=$2 prefix=${3:-secretd-test} p
	[ "$(id -u)" = 0 ] || { sd_err "the harness must run as root (it starts sshd and PostgreSQL)"; return 1; }
	bin=$(cd "$bin" 2>/dev/null && pwd) || { sd_err "no such directory: $2"; return 1; }
	for p in secretd secret-shell secret; do
		[ -x "$bin/$p" ] || { sd_err "missing $bin/$p (build first: make)"; return 1; }
	done
	mkdir -p "$w" || return 1
	env_load "$w" || return 1
	chmod 0711 "$W"    # postgres must reach W/pg; nothing in W is world-readable
	mkdir -p "$W/home" "$W/keys" "$W/tmp" "$W/results" "$W/san"
	chmod 0700 "$W/home" "$W/keys"
	BIN=$bin
	printf '%s\n' "$BIN" >"$W/bin"
	pg_up &&
		ensure_secret_user &&
		rundir_up "$prefix" &&
		secretd_conf &&
		secretd_init &&
		secretd_up &&
		sshd_up &&
		write_env
}

env_status() {
	env_load "$1" 2>/dev/null || return 1
	sd_pg_running || return 1
	sd_pidfile_alive "$W/secretd.pid" secretd >/dev/null || return 1
	[ -n "$RUNDIR" ] && [ -S "$RUNDIR/secretd.sock" ] || return 1
	sd_pidfile_alive "$W/sshd.pid" sshd >/dev/null || return 1
	[ -s "$W/env" ]
}

env_down() {
	local w=$1 pid start
	[ -d "$w" ] || return 0
	env_load "$w" || return 0
	sshd_down
	secretd_down
	pg_down
	if [ -n "$RUNDIR" ] && [ -d "$RUNDIR" ]; then
		if [ -n "$(ls -A "$RUNDIR/san" 2>/dev/null)" ]; then
			mkdir -p "$W/san"
			cp -p "$RUNDIR"/san/* "$W/san/" 2>/dev/null
		fi
		case $RUNDIR in
		/run/?*) rm -rf "$RUNDIR" ;;
		esac
	fi
	# A daemon of ours still running with W or RUNDIR on its command line is
	# a harness bug: say so and end it (by pid; other programs, such as a
	# `less W/secretd.log`, are left alone).
	for pid in $(grep -lsF -e "$W/" ${RUNDIR:+-e "$RUNDIR/"} /proc/[0-9]*/cmdline 2>/dev/null |
		cut -d/ -f3); do
		alive "$pid" && sd_starttime "$pid" || continue
		start=$SD_START
		sd_pid_is "$pid" secretd || sd_pid_is "$pid" secret-shell || sd_pid_is "$pid" sshd ||
			sd_pid_is "$pid" postgres || continue
		sd_err "left-over process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
		sd_kill_same KILL "$pid" "$start"
	done
	return 0
}

# Remove W (and the PostgreSQL directory outside it, if any).
env_remove() {
	local w=$1 root
	[ -d "$w" ] || return 0
	root=$(cat "$w/pgroot" 2>/dev/null || true)
	case $root in /var/tmp/secretd-pg.?*) rm -rf "$root" ;; esac
	rm -rf "$w"
}

# Sanitizer reports in W: secretd.log and W/san (secret-shell).  Prints
# them; returns 1 if there are any.
env_san_reports() {
	local w=$1 f found=0
	if [ -f "$w/secretd.log" ] && grep -qE "$SD_SAN_RE" "$w/secretd.log"; then
		printf '==== sanitizer report in %s:\n' "$w/secretd.log"
		grep -E -A 30 "$SD_SAN_RE" "$w/secretd.log" | head -n 200
		found=1
	fi
	for f in "$w"/san/*; do
		[ -s "$f" ] || continue
		found=$((found + 1))
		[ "$found" -le 3 ] || continue
		printf '==== sanitizer report %s:\n' "$f"
		head -n 100 "$f"
	done
	[ "$found" -le 3 ] || printf '==== ... and %d more reports in %s/san\n' $((found - 3)) "$w"
	[ "$found" = 0 ]
}

# ====================================================================== tests

TEST_PASS=0
TEST_FAIL=0
TEST_DESC=
RUN_N=0

test_init() {
	if [ -z "${SECRETD_WORK:-}" ] || [ ! -s "$SECRETD_WORK/env" ]; then
		echo "no test environment: run through tests/integration/run.sh, or source .dev/env" >&2
		exit 1
	fi
	# shellcheck disable=SC1091
	. "$SECRETD_WORK/env"
	env_load "$SECRETD_WORK"
	export W RUNDIR BIN SSH_PORT
	TEST_NAME=$(basename "$0" .sh)
	T=$W/tmp/$TEST_NAME
	rm -rf "$T"
	mkdir -p "$T"
	export T
	TEST_PASS=0
	TEST_FAIL=0
	SD_MAIN_PID=$BASHPID
	trap sd_exit EXIT
	set -o pipefail
	cd "$SD_REPO" || exit 1
}

describe() {
	helper_check
	TEST_DESC=$*
	[ -n "${VERBOSE:-}" ] && printf '  - %s\n' "$TEST_DESC"
	return 0
}

# Where the expectation was written: file:line of the first caller outside lib.sh.
sd_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [ "${BASH_SOURCE[$i]}" != "${BASH_SOURCE[0]}" ]; then
			printf '%s:%s' "$(basename "${BASH_SOURCE[$i]}")" "${BASH_LINENO[$((i - 1))]}"
			return
		fi
	done
	printf '?'
}

# Show a captured stream, made visible and truncated.
sd_show() {
	local label=$1 f=$2 n
	n=$(wc -c <"$f" 2>/dev/null || echo 0)
	if [ "$n" -eq 0 ]; then
		printf '    %s: (empty)\n' "$label"
	else
		printf '    %s (%s bytes):\n' "$label" "$n"
		head -c 4000 "$f" | cat -v | sed 's/^/      | /'
		[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || printf '\n      (no newline at end)\n'
		[ "$n" -gt 4000 ] && printf '      ... (truncated)\n'
	fi
}

ok() {
	TEST_PASS=$((TEST_PASS + 1))
	[ -n "${VERBOSE:-}" ] && printf '    ok: %s\n' "$*"
	return 0
}

# fail MSG [--run]: count a failure; with --run, show the last command.
fail() {
	local msg=$1
	TEST_FAIL=$((TEST_FAIL + 1))
	{
		printf 'FAIL %s [%s] %s\n' "$(sd_where)" "${TEST_DESC:-}" "$msg"
		if [ "${2:-}" = --run ] && [ -n "${RUN_CMD:-}" ]; then
			printf '    command: %s\n' "$RUN_CMD"
			printf '    exit status: %s%s\n' "$RC" "$([ "$RC" = 124 ] && echo ' (timed out)')"
			sd_show stdout "$OUT_FILE"
			sd_show stderr "$ERR_FILE"
		fi
	} >&2
	return 1
}

die() {
	fail "aborting $TEST_NAME: $*"
	done_testing
}

skip() {
	printf 'SKIP %s: %s\n' "$TEST_NAME" "$*"
	[ -n "${SECRETD_RESULTS:-}" ] && printf 'skip %s %s\n' "$TEST_PASS" "$TEST_FAIL" >"$SECRETD_RESULTS"
	exit 0
}

skip_case() {
	printf 'SKIP %s [%s] %s\n' "$(sd_where)" "${TEST_DESC:-}" "$*"
}

done_testing() {
	local status=0
	helper_check
	[ "$(trap -p EXIT)" = "trap -- 'sd_exit' EXIT" ] ||
		fail "this file set an EXIT trap of its own: use at_exit (see lib.sh, \"leaving a test file\")"
	if [ "$TEST_FAIL" -gt 0 ]; then
		status=1
	elif [ "$TEST_PASS" -eq 0 ]; then
		printf 'FAIL %s: no expectation was checked\n' "$TEST_NAME" >&2
		TEST_FAIL=1
		status=1
	fi
	printf '%s: %d passed, %d failed\n' "$TEST_NAME" "$TEST_PASS" "$TEST_FAIL"
	[ -n "${SECRETD_RESULTS:-}" ] && printf '%s %s %s\n' "$([ $status = 0 ] && echo pass || echo fail)" \
		"$TEST_PASS" "$TEST_FAIL" >"$SECRETD_RESULTS"
	exit $status
}

# The core of run/run_in/run_in_file: $1 is the stdin file.
sd_run() {
	local in=$1
	shift
	RUN_N=$((RUN_N + 1))
	OUT_FILE=$T/run$RUN_N.out
	ERR_FILE=$T/run$RUN_N.err
	RUN_CMD=$(printf '%q ' "$@")
	RUN_CMD=${RUN_CMD% }
	if [ "$(type -t "$1")" = function ]; then
		# A function (plain_ssh, secret_as, one of the test's own) runs in a
		# subshell, so it sees every variable; a watchdog ends its process
		# tree after RUN_TIMEOUT seconds.
		local pid dog dog_start
		("$@") <"$in" >"$OUT_FILE" 2>"$ERR_FILE" &
		pid=$!
		sd_watchdog "$pid" "$RUN_TIMEOUT" "$T/run$RUN_N.timeout" &
		dog=$!
		sd_starttime "$dog"
		dog_start=$SD_START
		{ wait "$pid"; } 2>/dev/null    # (no "Killed" job notice)
		RC=$?
		# (after a timeout the dog has ended and been reaped: its pid may
		# be another process's by now)
		sd_kill_same TERM "$dog" "$dog_start"
		wait "$dog" 2>/dev/null
		[ -e "$T/run$RUN_N.timeout" ] && RC=124
	else
		timeout -k 5 "$RUN_TIMEOUT" "$@" <"$in" >"$OUT_FILE" 2>"$ERR_FILE"
		RC=$?
	fi
	# (bash drops NUL bytes from OUT/ERR: compare binary output via OUT_FILE)
	{ OUT=$(cat "$OUT_FILE"; printf .); ERR=$(cat "$ERR_FILE"; printf .); } 2>/dev/null
	OUT=${OUT%.}
	ERR=${ERR%.}
	return 0
}

# sd_watchdog PID SECS MARK: after SECS, touch MARK and kill PID's tree.
sd_watchdog() {
	local s p start victims=()
	sd_starttime "$1" || exit 0
	start=$SD_START
	sleep "$2" &
	s=$!
	trap 'kill $s 2>/dev/null; exit 0' TERM	# (s: our child, not reaped)
	wait "$s"
	trap - TERM
	sd_pid_same "$1" "$start" || exit 0
	: >"$3"
	for p in $(sd_descendants "$1") "$1"; do
		sd_starttime "$p" && victims+=("$p:$SD_START")
	done
	for p in "${victims[@]}"; do
		sd_kill_same KILL "${p%%:*}" "${p#*:}"
	done
	exit 0
}

# ---------------------------------------------------- leaving a test file

# A test file says what to undo when it ends with at_exit, never with a
# `trap ... EXIT` of its own.  Bash hands its traps to every subshell it
# forks, until the subshell resets them, and a subshell that a signal
# reaches in that moment runs the EXIT trap itself.  sd_run's watchdog is
# such a subshell, sent SIGTERM as soon as a quick command ends: it ran
# t_80's cleanup and killed the forwarder that the rest of the file
# needed.  So the one EXIT trap, set by test_init, acts only in the test
# file's own shell, and done_testing fails a file that replaced it.
SD_EXIT_HOOKS=()

# at_exit CMD: run CMD (a shell command line) when the test file ends,
# the last registered first; then every helper still running is stopped.
at_exit() { SD_EXIT_HOOKS+=("$*"); }

sd_exit() {
	local i
	[ "$BASHPID" = "${SD_MAIN_PID:-}" ] || return 0
	for ((i = ${#SD_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${SD_EXIT_HOOKS[$i]}"
	done
	helper_stop_all
}

# ---------------------------------------------------------- helpers

# A helper is a background process a test file relies on: a forwarder, a
# second secretd, a syslog catcher.  It is held by its pid and start time,
# so that it is never signalled once it has ended (its pid may be another
# process's by then), and a helper that ends while it is still needed is
# reported as such, with its exit status and log, at the next describe
# or at done_testing, rather than as confusing failures of later checks.
declare -A SD_HELPER_PID=() SD_HELPER_START=()

# bg_note PID: remember the start time of PID, just started with `&`
# (bg_note $!); bg_kill SIG PID: signal PID only if it is still that
# process (it may have ended, and its pid be another's, by then).
declare -A SD_BG_START=()
bg_note() { sd_starttime "$1" && SD_BG_START[$1]=$SD_START; }
bg_kill() { [ -n "${2:-}" ] && sd_kill_same "$1" "$2" "${SD_BG_START[$2]:-}"; }

# helper_start NAME CMD...: CMD in the background, stdout and stderr
# appended to $T/NAME.log; its pid in HELPER_PID.
helper_start() {
	local name=$1
	shift
	"$@" >>"$T/$name.log" 2>&1 &
	HELPER_PID=$!
	sd_starttime "$HELPER_PID"
	SD_HELPER_PID[$name]=$HELPER_PID
	SD_HELPER_START[$name]=$SD_START
}

# helper_stop NAME [SIG]: send SIG (TERM) to the helper if it still runs,
# wait for it, forget it; its exit status in HELPER_RC.
helper_stop() {
	local name=$1 pid=${SD_HELPER_PID[$1]:-}
	HELPER_RC=
	[ -n "$pid" ] || return 0
	sd_kill_same "${2:-TERM}" "$pid" "${SD_HELPER_START[$name]}"
	wait "$pid" 2>/dev/null
	HELPER_RC=$?
	unset "SD_HELPER_PID[$name]" "SD_HELPER_START[$name]"
	return 0
}

# helper_stop_all: stop every helper (for a test file's EXIT trap).
helper_stop_all() {
	local name
	for name in "${!SD_HELPER_PID[@]}"; do
		helper_stop "$name"
	done
}

# helper_check: a failure for each helper that has ended (then forgotten).
helper_check() {
	local name pid rc how
	for name in "${!SD_HELPER_PID[@]}"; do
		pid=${SD_HELPER_PID[$name]}
		sd_pid_same "$pid" "${SD_HELPER_START[$name]}" && continue
		wait "$pid" 2>/dev/null
		rc=$?
		how="exit status $rc"
		[ "$rc" -gt 128 ] && how="killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
		unset "SD_HELPER_PID[$name]" "SD_HELPER_START[$name]"
		fail "helper $name (pid $pid) ended while still needed ($how); last lines of $T/$name.log: $(tail -n 5 "$T/$name.log" 2>/dev/null | tr '\n' '|')"
	done
	return 0
}

run() { sd_run /dev/null "$@"; }
run_in() {
	local f=$T/stdin.$((RUN_N + 1))
	printf '%s' "$1" >"$f"
	shift
	sd_run "$f" "$@"
}
run_in_file() {
	local f=$1
	shift
	sd_run "$f" "$@"
}

expect_rc() {
	if [ "$RC" = "$1" ]; then ok "exit $1"; else fail "expected exit status $1, got $RC" --run; fi
}

expect_exit() {
	local want=$1
	shift
	case $1 in
	run_in | run_in_file) "$@" ;;
	*) run "$@" ;;
	esac
	expect_rc "$want"
}

expect_fail() {
	local want=$1 code=$2 first
	shift 2
	case $1 in
	run_in | run_in_file) "$@" ;;
	*) run "$@" ;;
	esac
	first=${ERR%%$'\n'*}
	if [ "$RC" != "$want" ]; then
		fail "expected exit status $want ($code), got $RC" --run
	elif [[ $first != "secret: $code: "* ]]; then
		fail "expected stderr to start with 'secret: $code: '" --run
	else
		ok "exit $want $code"
	fi
}

expect_out() {
	local want=$1
	[ -n "$want" ] && want+=$'\n'
	if [ "$OUT" == "$want" ]; then ok "stdout"; else fail "stdout is not exactly: $(printf '%q' "$want")" --run; fi
}
expect_out_exact() {
	if [ "$OUT" == "$1" ]; then ok "stdout"; else fail "stdout is not exactly: $(printf '%q' "$1")" --run; fi
}
expect_out_file() {
	if cmp -s "$OUT_FILE" "$1"; then ok "stdout = $1"; else fail "stdout differs from $1" --run; fi
}
expect_err() {
	local want=$1
	[ -n "$want" ] && want+=$'\n'
	if [ "$ERR" == "$want" ]; then ok "stderr"; else fail "stderr is not exactly: $(printf '%q' "$want")" --run; fi
}
expect_err_exact() {
	if [ "$ERR" == "$1" ]; then ok "stderr"; else fail "stderr is not exactly: $(printf '%q' "$1")" --run; fi
}
expect_out_contains() {
	if [[ $OUT == *"$1"* ]]; then ok "stdout has $1"; else fail "stdout lacks: $1" --run; fi
}
expect_out_lacks() {
	if [[ $OUT != *"$1"* ]]; then ok "stdout lacks $1"; else fail "stdout contains: $1" --run; fi
}
expect_out_match() {
	if grep -qE -- "$1" "$OUT_FILE"; then ok "stdout ~ $1"; else fail "no stdout line matches /$1/" --run; fi
}
expect_err_contains() {
	if [[ $ERR == *"$1"* ]]; then ok "stderr has $1"; else fail "stderr lacks: $1" --run; fi
}
expect_err_lacks() {
	if [[ $ERR != *"$1"* ]]; then ok "stderr lacks $1"; else fail "stderr contains: $1" --run; fi
}
expect_err_match() {
	if grep -qE -- "$1" "$ERR_FILE"; then ok "stderr ~ $1"; else fail "no stderr line matches /$1/" --run; fi
}

expect_json() {
	local filter=$1 want=$2 got
	if ! got=$(jq -r "$filter" <"$OUT_FILE" 2>&1); then
		fail "stdout is not JSON (jq $filter: $got)" --run
	elif [ "$got" == "$want" ]; then
		ok "$filter = $want"
	else
		fail "jq $filter gave $(printf '%q' "$got"), expected $(printf '%q' "$want")" --run
	fi
}

expect_eq() {
	if [ "$1" == "$2" ]; then ok "${3:-equal}"; else fail "${3:+$3: }got $(printf '%q' "$1"), expected $(printf '%q' "$2")"; fi
}
expect_ne() {
	if [ "$1" != "$2" ]; then ok "${3:-differ}"; else fail "${3:+$3: }both are $(printf '%q' "$1")"; fi
}
expect_contains() {
	if [[ $1 == *"$2"* ]]; then ok "${3:-contains}"; else fail "${3:+$3: }$(printf '%q' "$1") lacks $(printf '%q' "$2")"; fi
}
expect_lacks() {
	if [[ $1 != *"$2"* ]]; then ok "${3:-lacks}"; else fail "${3:+$3: }$(printf '%q' "$1") contains $(printf '%q' "$2")"; fi
}
expect_match() {
	if [[ $1 =~ $2 ]]; then ok "${3:-matches}"; else fail "${3:+$3: }$(printf '%q' "$1") does not match /$2/"; fi
}
expect_mode() {
	local got
	got=$(stat -c '%a' "$2" 2>/dev/null) || { fail "no such file: $2"; return; }
	if [ "$got" = "$1" ]; then ok "mode $1 $2"; else fail "mode of $2 is $got, expected $1"; fi
}
expect_true() {
	if "$@"; then ok "$*"; else fail "not true: $(printf '%q ' "$@")"; fi
}

# ------------------------------------------------------------ test helpers

plain_ssh() {
	local key=$1
	shift
	SSH_AUTH_SOCK='' timeout -k 5 "${RUN_TIMEOUT:-60}" ssh -F /dev/null -T -p "$SECRETD_SSH_PORT" -i "$key" \
		-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
		-o UserKnownHostsFile="$SECRETD_WORK/known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=yes -o ConnectTimeout=10 -o LogLevel=ERROR \
		secret@127.0.0.1 "$@"
}

secret_as() {
	local key=$1
	shift
	SECRET_IDENTITY=$key secret "$@"
}

new_key() {
	local name=$1 type=${2:-ed25519} f
	f=$SECRETD_WORK/keys/$name
	rm -f "$f" "$f.pub"
	ssh-keygen -q -t "$type" -N '' -C "$name" -f "$f" </dev/null >/dev/null || return 1
	printf '%s\n' "$f"
}

sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }
sql_as() { psql -X -A -t -q -v ON_ERROR_STOP=1 -U "$1" -c "$2"; }

secretd_log_mark() { SD_LOG_MARK=$(stat -c %s "$SECRETD_WORK/secretd.log" 2>/dev/null || echo 0); }
secretd_log_since() { tail -c +"$((${SD_LOG_MARK:-0} + 1))" "$SECRETD_WORK/secretd.log"; }


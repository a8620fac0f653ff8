#!/bin/bash
# t_95_setup_doctor.sh - the command line of secretd (DESIGN §12):
# --help and --version; `secretd setup` on a new database of the test
# cluster, with every path under $T, run twice (the second run changes
# nothing and says so), then a secretd started on what it wrote knows the
# admin; setup's failures name the step and the fix and leave no file
# half-written; `secretd doctor` passes on the test environment and on
# what setup made, and names each problem of broken copies (keyring mode,
# world-writable socket directory, sshd without ExposeAuthInfo, an
# AuthorizedKeysCommand below a writable directory, locked login user,
# nologin shell, superuser or unreachable or unmigrated database) with its
# fix.  Setup never touches the machine's /etc/secretd or its sshd: the
# only sshd it signals is this environment's own (SIGHUP, which re-reads
# an unchanged configuration).
. "$(dirname "$0")/lib.sh"
test_init

SOCKPY=$SD_LIB_DIR/sock.py
V=$(cat "$SD_REPO/VERSION")
SECRET_UID=$(id -u secret)
SECRET_GID=$(id -g secret)
DB=secretd_t95
ROLE=secretd_t95
PGADMIN="host=$PGHOST port=$PGPORT dbname=postgres user=postgres"
SPID=
cleanup() {
	helper_stop setup-secretd	# (before the database goes)
	sql "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	sql "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
}
at_exit cleanup
cleanup

# ------------------------------------------------------ --help, --version

describe "secretd --version prints the version of the file VERSION"
expect_exit 0 "$BIN/secretd" --version
expect_out "secretd $V"
expect_err ""

describe "secretd --help and -h print the usage on stdout"
expect_exit 0 "$BIN/secretd" --help
expect_out_match '^usage: secretd '
expect_out_match '^ +secretd \[-c CONF\] setup --admin-key FILE'
expect_out_match '^ +secretd \[-c CONF\] doctor'
expect_err ""
expect_exit 0 "$BIN/secretd" -h
expect_out_match '^usage: secretd '

describe "secretd --bogus is a usage error that names the option"
expect_exit 2 "$BIN/secretd" --bogus
expect_out ""
expect_err_contains "'--bogus'"
expect_err_match '^usage: secretd '

describe "secret-shell --version and secret --version print the same version"
expect_exit 0 "$BIN/secret-shell" --version
expect_out "secret-shell $V"
expect_exit 0 "$BIN/secret" --version
expect_out_match "^secret $V "

describe "setup --help and doctor --help"
expect_exit 0 "$BIN/secretd" setup --help
expect_out_match '^usage: secretd \[-c CONF\] setup --admin-key FILE'
expect_exit 0 "$BIN/secretd" doctor --help
expect_out_match '^usage: secretd \[-c CONF\] doctor'
describe "setup without --admin-key is a usage error"
expect_exit 2 "$BIN/secretd" -c "$T/none.conf" setup
expect_err_contains "setup needs --admin-key FILE"

# ------------------------------------------------------------------ setup

K=$(new_key t95admin) || die "ssh-keygen failed"
S=$T/setup
mkdir -p "$S/sshd.d"
# sshd's main file for this test: it includes the directory setup writes to
sshd_main() {
	cat <<-EOF
	Include $1/*.conf
	HostKey $W/ssh_host_ed25519_key
	PidFile $T/unused-sshd.pid
	UsePAM no
	EOF
}
sshd_main "$S/sshd.d" >"$S/sshd_config"
# setup CONF SSHD_DIR SSHD_CONFIG [options...]
setup_in() {
	local conf=$1 dir=$2 main=$3
	shift 3
	"$BIN/secretd" -c "$conf" setup --admin-key "$K.pub" --admin t95admin \
		--pg-admin "$PGADMIN" --db-name "$DB" --db-role "$ROLE" --user root \
		--keyring "$(dirname "$conf")/keyring" --socket "$S/run/secretd.sock" \
		--sshd-config "$main" --sshd-config-dir "$dir" --secret-shell "$RUNDIR/secret-shell" "$@"
}
setup() { setup_in "$S/etc/secretd.conf" "$S/sshd.d" "$S/sshd_config" "$@"; }

describe "setup on a new database: one line per step, saying what it made"
expect_exit 0 setup --no-sshd-reload
expect_err ""
expect_out_contains "kept user secret (exists; shell /bin/sh, password \"*\")"
expect_out_contains "connected to PostgreSQL as postgres"
expect_out_contains "created role $ROLE (login, no other privilege)"
expect_out_contains "created database $DB (owner postgres; only $ROLE and superusers may connect)"
expect_out_contains "wrote $S/etc/secretd.conf (mode 0640"
expect_out_match '^applied [0-9]+ migrations \(schema version [0-9]+\)$'
expect_out_contains "created keyring $S/etc/keyring (owner root, mode 0400)"
expect_out_match '^created admin t95admin \(SHA256:[A-Za-z0-9+/]{43}\) in group admins$'
expect_out_contains "installed $S/sshd.d/secretd.conf (sshd snippet for user secret)"
expect_out_contains "sshd -t accepts $S/sshd_config, and user secret gets the AuthorizedKeysCommand"
expect_out_contains "skipped the sshd reload (--no-sshd-reload)"
expect_out_match '^done: '
expect_mode 400 "$S/etc/keyring"
expect_mode 640 "$S/etc/secretd.conf"
expect_mode 644 "$S/sshd.d/secretd.conf"
expect_eq "$(find "$S" -name '*tmp*' -o -name '*.new' | wc -l)" 0 "no temporary file left"

describe "setup wrote a configuration for least privilege, and the snippet for this host"
conf=$(cat "$S/etc/secretd.conf")
expect_match "$conf" $'\n'"socket = $S/run/secretd.sock"$'\n'
expect_match "$conf" $'\n'"shell_users = secret"$'\n'
expect_match "$conf" $'\n'"socket_group = secret"$'\n'
expect_match "$conf" $'\n'"database = host=[^ ]+ port=[0-9]+ dbname=$DB user=$ROLE"$'\n'
expect_match "$conf" $'\n'"admin_database = host=[^ ]+ port=[0-9]+ dbname=$DB user=postgres"$'\n'
expect_lacks "$conf" "password"
expect_eq "$(sql "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = '$ROLE'")" "f|f|f" "role $ROLE has no privilege"
expect_eq "$(sql "SELECT has_database_privilege('secretd', '$DB', 'CONNECT')")" f "other roles may not connect"
expect_eq "$(psql -X -A -t -q -d "$DB" -c "SELECT pg_has_role('$ROLE', 'secretd_runtime', 'MEMBER')")" t "$ROLE is a secretd_runtime"
snippet=$(cat "$S/sshd.d/secretd.conf")
expect_contains "$snippet" $'\nMatch User secret\n'
expect_contains "$snippet" $'\tAuthorizedKeysCommand '"$RUNDIR/secret-shell -S $S/run/secretd.sock authorized-keys %u %t %k"$'\n'
expect_contains "$snippet" $'\tSetEnv SECRETD_SOCKET='"$S/run/secretd.sock"$'\n'
expect_contains "$snippet" $'\tExposeAuthInfo yes\n'

describe "setup run again changes nothing, and says so"
sums() { md5sum "$S/etc/secretd.conf" "$S/etc/keyring" "$S/sshd.d/secretd.conf"; stat -c '%n %a %u %Y' "$S/etc"/* "$S/sshd.d"/*; }
before=$(sums)
expect_exit 0 setup --no-sshd-reload
expect_err ""
expect_out_lacks "created"
expect_out_lacks "wrote"
expect_out_lacks "installed"
expect_out_lacks "applied"
expect_out_contains "kept role $ROLE (exists)"
expect_out_contains "kept database $DB (exists)"
expect_out_contains "kept $S/etc/secretd.conf (exists; its settings are used)"
expect_out_contains "kept the schema (version"
expect_out_contains "kept keyring $S/etc/keyring (exists; owner root, mode 0400)"
expect_out_contains "kept admin t95admin (exists, with this key, in group admins)"
expect_out_contains "kept $S/sshd.d/secretd.conf (up to date)"
expect_out_contains "no sshd reload needed (its configuration is unchanged)"
expect_out_match '^nothing changed: this host was already set up$'
expect_eq "$(sums)" "$before" "no file changed"

describe "a secretd started on what setup wrote knows the admin (whoami over its socket)"
helper_start setup-secretd "${SD_SECRETD_ENV[@]}" "$BIN/secretd" -c "$S/etc/secretd.conf" serve
SPID=$HELPER_PID
for _ in $(seq 100); do [ -S "$S/run/secretd.sock" ] && break; sleep 0.1; done
[ -S "$S/run/secretd.sock" ] || { cat "$T/setup-secretd.log" >&2; die "secretd did not start on the setup configuration"; }
cp "$K.pub" "$T/t95admin.pub"    # W/keys is root's only; sock.py runs as secret
run_in $'{"action":"whoami"}\n{"action":"secret.put","path":["t95","a"],"value":"v1"}\n{"action":"secret.get","path":["t95","a"]}\n' \
	"$SOCKPY" "$S/run/secretd.sock" --as "$SECRET_UID:$SECRET_GID" --hello "$T/t95admin.pub"
expect_rc 0
expect_eq "$(sed -n 2p "$OUT_FILE" | jq -r '.principal, (.groups | join(","))' | paste -sd' ')" "t95admin admins" "whoami"
expect_eq "$(sed -n 4p "$OUT_FILE" | jq -r .value)" v1 "put then get"

describe "doctor: what setup made is healthy"
expect_exit 0 "$BIN/secretd" -c "$S/etc/secretd.conf" doctor --sshd-config "$S/sshd_config" --user root
expect_err ""
expect_eq "$(grep -cv '^ok   ' "$OUT_FILE")" 0 "every line is ok"
expect_out_match '^ok   audit chain: intact \([1-9][0-9]* rows'
expect_out_contains "ok   database: role $ROLE may INSERT and SELECT audit rows, never UPDATE or DELETE them"
helper_stop setup-secretd
SPID=
if grep -qE "$SD_SAN_RE" "$T/setup-secretd.log"; then
	fail "sanitizer report from the setup secretd: $(grep -E -m 3 "$SD_SAN_RE" "$T/setup-secretd.log")"
fi

describe "setup with --database uses an existing database (and still migrates)"
mkdir -p "$T/dbopt"
expect_exit 0 setup_in "$T/dbopt/secretd.conf" "$S/sshd.d" "$S/sshd_config" --no-sshd-reload \
	--database "host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE" \
	--admin-database "host=$PGHOST port=$PGPORT dbname=$DB user=postgres"
expect_out_contains "using the database given with --database (no role or database created)"
expect_out_lacks "created role"
expect_out_contains "wrote $T/dbopt/secretd.conf"
expect_out_contains "kept the schema (version"
expect_out_contains "created keyring $T/dbopt/keyring"
expect_out_contains "kept admin t95admin"
expect_eq "$(grep '^database = ' "$T/dbopt/secretd.conf")" "database = host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE"

# ------------------------------------------------------- setup's failures

one_line_err() { expect_eq "$(wc -l <"$ERR_FILE")" 1 "one line on stderr"; }

describe "setup: a missing admin key file stops before anything, naming the step and the fix"
expect_exit 1 setup_in "$T/f1/etc/secretd.conf" "$S/sshd.d" "$S/sshd_config" --admin-key "$T/nope.pub" --no-sshd-reload
expect_out ""
expect_err_match "^secretd setup: admin key: $T/nope.pub: cannot open: .*: fix: give --admin-key an OpenSSH public key file"
one_line_err
expect_true test ! -e "$T/f1"

describe "setup: a file that is not a public key is refused"
printf 'not a key\n' >"$T/junk.pub"
expect_exit 1 setup_in "$T/f1/etc/secretd.conf" "$S/sshd.d" "$S/sshd_config" --admin-key "$T/junk.pub" --no-sshd-reload
expect_err_match "^secretd setup: admin key: $T/junk.pub: .*: fix: "
one_line_err

describe "setup: no PostgreSQL to reach"
expect_exit 1 setup_in "$T/f2/etc/secretd.conf" "$S/sshd.d" "$S/sshd_config" --no-sshd-reload \
	--pg-admin "host=$T/no-pg dbname=postgres user=postgres"
expect_err_match '^secretd setup: PostgreSQL: cannot connect as a superuser \(.+\): fix: install and start PostgreSQL'
one_line_err
expect_true test ! -e "$T/f2"

describe "setup: an existing configuration that does not load is kept, and named"
mkdir -p "$T/f3/etc"
printf 'no_such_key = 1\n' >"$T/f3/etc/secretd.conf"
expect_exit 1 setup_in "$T/f3/etc/secretd.conf" "$S/sshd.d" "$S/sshd_config" --no-sshd-reload
expect_out_contains "kept $T/f3/etc/secretd.conf (exists; its settings are used)"
expect_err_match "^secretd setup: config: $T/f3/etc/secretd.conf:1: .*: fix: correct it, or move it away and run setup again$"
one_line_err
expect_eq "$(cat "$T/f3/etc/secretd.conf")" "no_such_key = 1" "left as it was"

describe "setup: an existing keyring open to others is not used"
mkdir -p "$T/f4/etc"
install -m 0644 "$S/etc/keyring" "$T/f4/etc/keyring"
expect_exit 1 setup_in "$T/f4/etc/secretd.conf" "$S/sshd.d" "$S/sshd_config" --no-sshd-reload
expect_err "secretd setup: keyring: $T/f4/etc/keyring has owner uid 0 and mode 0644, and secretd (user root) needs it its own, mode 0400: fix: chown root $T/f4/etc/keyring; chmod 0400 $T/f4/etc/keyring"
expect_mode 644 "$T/f4/etc/keyring"

describe "setup: no sshd"
expect_exit 1 setup --no-sshd-reload --sshd "$T/no-sshd"
expect_err "secretd setup: sshd: no sshd at $T/no-sshd: fix: apt-get install openssh-server (or give its path with --sshd)"

describe "setup: an sshd configuration sshd -t rejects: the new snippet is taken back"
mkdir -p "$T/bad/sshd.d"
{ sshd_main "$T/bad/sshd.d"; echo "NoSuchSshdOption yes"; } >"$T/bad/sshd_config"
expect_exit 1 setup_in "$S/etc/secretd.conf" "$T/bad/sshd.d" "$T/bad/sshd_config" --no-sshd-reload
expect_out_contains "installed $T/bad/sshd.d/secretd.conf"
expect_err_match "^secretd setup: sshd: sshd -t rejects $T/bad/sshd_config \(.+\); the new snippet was removed: fix: "
one_line_err
expect_eq "$(ls -A "$T/bad/sshd.d")" "" "nothing left in the snippet directory"

describe "setup: an sshd_config that does not include the snippet directory"
mkdir -p "$T/noinc/sshd.d"
sshd_main "$T/noinc/sshd.d" | grep -v '^Include' >"$T/noinc/sshd_config"
expect_exit 1 setup_in "$S/etc/secretd.conf" "$T/noinc/sshd.d" "$T/noinc/sshd_config" --no-sshd-reload
expect_err "secretd setup: sshd: sshd does not apply $T/noinc/sshd.d/secretd.conf to user secret (its AuthorizedKeysCommand is \"none\"): fix: add \"Include $T/noinc/sshd.d/*.conf\" at the top of $T/noinc/sshd_config"

describe "setup: a pid file that names something other than sshd is not signalled"
mkdir -p "$T/hup0/sshd.d"
sshd_main "$T/hup0/sshd.d" >"$T/hup0/sshd_config"
sleep 300 &
sleeper=$!
echo "$sleeper" >"$T/hup0/pid"
expect_exit 1 setup_in "$S/etc/secretd.conf" "$T/hup0/sshd.d" "$T/hup0/sshd_config" --sshd-pid-file "$T/hup0/pid"
expect_err "secretd setup: sshd reload: $T/hup0/pid names pid $sleeper, which is not sshd: fix: reload sshd yourself (kill -HUP its pid)"
expect_true alive "$sleeper"
kill "$sleeper"
wait "$sleeper" 2>/dev/null

describe "setup reloads a running sshd with SIGHUP to the pid in its pid file"
if [ -d /run/systemd/system ]; then
	ok "systemd runs here: the SIGHUP path is not tried"
else
	mkdir -p "$T/hup/sshd.d"
	sshd_main "$T/hup/sshd.d" >"$T/hup/sshd_config"
	sshd_pid=$(cat "$W/sshd.pid")
	expect_exit 0 setup_in "$S/etc/secretd.conf" "$T/hup/sshd.d" "$T/hup/sshd_config" --sshd-pid-file "$W/sshd.pid"
	expect_out_contains "reloaded sshd (SIGHUP to pid $sshd_pid from $W/sshd.pid)"
	# sshd re-executes itself on SIGHUP: wait until it serves again
	for _ in $(seq 50); do
		plain_ssh "$W/admin" whoami >/dev/null 2>&1 && break
		sleep 0.2
	done
	expect_exit 0 plain_ssh "$W/admin" whoami
	expect_out_match '^principal +admin$'
fi

# ----------------------------------------------------------------- doctor

describe "doctor: the test environment is healthy, every line ok"
expect_exit 0 run_in "v" secret put t95/doctor
expect_exit 0 "$BIN/secretd" -c "$W/secretd.conf" doctor --sshd-config "$W/sshd_config" --user root
expect_err ""
expect_eq "$(grep -cv '^ok   ' "$OUT_FILE")" 0 "every line is ok"
expect_true test "$(wc -l <"$OUT_FILE")" -ge 15
for want in "ok   config $W/secretd.conf" \
	"ok   sshd: user secret gets the AuthorizedKeysCommand $RUNDIR/secret-shell" \
	"ok   AuthorizedKeysCommand $RUNDIR/secret-shell and every directory above it are root's" \
	"ok   sshd: AuthorizedKeysCommandUser secret" \
	"ok   sshd: ExposeAuthInfo yes" \
	"ok   login user secret: password field \"*\"" \
	"ok   login user secret: shell /bin/sh" \
	"ok   socket directory $RUNDIR (mode 0755)" \
	"ok   socket $RUNDIR/secretd.sock (mode 0660): user secret may connect" \
	"ok   keyring $W/keyring (owner root, mode 0400)" \
	"ok   database: reachable; schema version" \
	"ok   database: role secretd may INSERT and SELECT audit rows, never UPDATE or DELETE them" \
	"ok   clock: the database and this host agree" \
	"ok   audit chain: intact ("; do
	expect_out_contains "$want"
done

# doctor CONF [options]: against the environment's sshd, as root
doctor() {
	local conf=$1
	shift
	"$BIN/secretd" -c "$conf" doctor --sshd-config "$W/sshd_config" --user root "$@"
}
conf_with() { sed "s|^$1 = .*|$1 = $2|" "$W/secretd.conf"; }
expect_problems() { expect_err_match '^secretd doctor: [0-9]+ problems?$'; }

describe "doctor: a keyring readable by others"
cp "$W/keyring" "$T/keyring.bad"
chmod 0644 "$T/keyring.bad"
conf_with keyring "$T/keyring.bad" >"$T/d-keyring.conf"
expect_exit 1 doctor "$T/d-keyring.conf"
expect_out_contains "FAIL keyring $T/keyring.bad has mode 0644, open to group or others: fix: chmod 0400 $T/keyring.bad"
expect_out_contains "ok   database: reachable"
expect_problems

describe "doctor: a keyring owned by another user"
conf_with keyring "$T/keyring.bad" >"$T/d-keyring.conf"
expect_exit 1 doctor "$T/d-keyring.conf" --user nobody
expect_out_contains "FAIL keyring $T/keyring.bad is owned by uid 0, not by user nobody that secretd runs as: fix: chown nobody $T/keyring.bad"

describe "doctor: a world-writable socket directory"
mkdir -p "$T/ww"
chmod 0777 "$T/ww"
conf_with socket "$T/ww/secretd.sock" >"$T/d-ww.conf"
expect_exit 1 doctor "$T/d-ww.conf"
expect_out_contains "FAIL socket directory $T/ww is writable by group or others (mode 0777), so others could put a socket of theirs in secretd's place: fix: chmod 0755 $T/ww"
expect_out_contains "FAIL socket $T/ww/secretd.sock: missing, so secretd is not running: fix: start it"
expect_out_contains "FAIL sshd: the AuthorizedKeysCommand asks the socket $RUNDIR/secretd.sock, but secretd listens on $T/ww/secretd.sock: fix: "
expect_problems

describe "doctor: an sshd configuration without ExposeAuthInfo"
grep -v 'ExposeAuthInfo' "$W/sshd_config" >"$T/sshd_noexpose"
expect_exit 1 doctor "$W/secretd.conf" --sshd-config "$T/sshd_noexpose"
expect_out_contains "FAIL sshd: ExposeAuthInfo is no for user secret, so secret-shell cannot learn which key sshd verified: fix: ExposeAuthInfo yes in the Match User secret block, and reload sshd"
expect_eq "$(grep -c '^FAIL' "$OUT_FILE")" 1 "only that fails"
expect_err "secretd doctor: 1 problem"

describe "doctor: an AuthorizedKeysCommand below a world-writable directory"
install -m 0755 "$RUNDIR/secret-shell" "$T/ww/secret-shell"
sed "s|$RUNDIR/secret-shell|$T/ww/secret-shell|" "$W/sshd_config" >"$T/sshd_ww"
expect_exit 1 doctor "$W/secretd.conf" --sshd-config "$T/sshd_ww"
expect_out_contains "FAIL AuthorizedKeysCommand: $T/ww is writable by group or others (uid 0, mode 0777), so sshd refuses the AuthorizedKeysCommand below it: fix: chown root $T/ww; chmod go-w $T/ww"

describe "doctor: a login user with a nologin shell"
expect_exit 1 doctor "$W/secretd.conf" --login-user nobody
nobody_shell=$(getent passwd nobody | cut -d: -f7)
expect_out_contains "FAIL login user nobody has shell \"$nobody_shell\", and sshd runs the forced command through it: fix: usermod -s /bin/sh nobody"
expect_out_contains "FAIL login user nobody is not in shell_users"
expect_out_contains "FAIL sshd: user nobody has no AuthorizedKeysCommand: fix: install the secretd sshd snippet"

describe "doctor: a locked login user (password field \"!\")"
locked=$(getent shadow | awk -F: '$2 ~ /^!/ && $1 != "secret" { print $1; exit }')
if [ -n "$locked" ]; then
	expect_exit 1 doctor "$W/secretd.conf" --login-user "$locked"
	expect_out_match "^FAIL login user $locked is locked \(password field \"!.*\), and sshd refuses a locked account even for keys: fix: usermod -p '\*' $locked$"
else
	ok "no locked account on this machine to point doctor at"
fi

describe "doctor: the daemon's role is a superuser"
conf_with database "host=$PGHOST port=$PGPORT dbname=secretd user=secretd_admin" >"$T/d-super.conf"
expect_exit 1 doctor "$T/d-super.conf"
expect_out_contains "FAIL database: role secretd_admin is a superuser, so it could rewrite the audit trail: fix: run secretd as a plain LOGIN role"
expect_out_contains "ok   audit chain: intact"

describe "doctor: no database to reach"
conf_with database "host=$T/no-pg port=$PGPORT dbname=secretd user=secretd" >"$T/d-nodb.conf"
expect_exit 1 doctor "$T/d-nodb.conf"
expect_out_match "^FAIL database: cannot connect as user root with database in $T/d-nodb.conf \(.+\): fix: start PostgreSQL"
expect_out_lacks "audit chain"

describe "doctor: a database without the schema"
conf_with database "host=$PGHOST port=$PGPORT dbname=postgres user=secretd" >"$T/d-noschema.conf"
expect_exit 1 doctor "$T/d-noschema.conf"
expect_out_match "^FAIL database: no schema \(.+\): fix: secretd -c $T/d-noschema.conf migrate$"

describe "doctor: a configuration that does not load"
printf 'no_such_key = 1\n' >"$T/d-broken.conf"
expect_exit 1 doctor "$T/d-broken.conf"
expect_out_match "^FAIL config: $T/d-broken.conf:1: .*: fix: correct it"

done_testing

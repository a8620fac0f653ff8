#!/bin/bash
# t_18_migrations.sh - schema migrations and their checksums (issue 22),
# on a database of its own in the test cluster: a new database refuses
# serve until migrated; migrate applies every file of sql/ and records
# each one's SHA-256 (the file's, exactly); a second migrate applies
# nothing; serve and doctor accept the result.  An applied migration
# whose recorded checksum differs from this secretd's text of it, or one
# this secretd does not know, makes serve refuse to start (exit 1, one
# error line naming the migration and both checksums), migrate refuse to
# go on (changing nothing), and doctor fail with a line naming it.
. "$(dirname "$0")/lib.sh"
test_init

DB=secretd_t18
SOCK=$RUNDIR/t18.sock
CONF=$T/t18.conf
cleanup() {
	helper_stop t18	# (before the database goes)
	sql "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
}
at_exit cleanup
cleanup
sql "CREATE DATABASE $DB OWNER secretd_admin" || die "cannot create $DB"
sed -e "s|^socket = .*|socket = $SOCK|" -e "s|dbname=secretd |dbname=$DB |g" \
	"$W/secretd.conf" >"$CONF"
expect_eq "$(grep -c "dbname=$DB " "$CONF")" 2 "both conninfos name $DB"

t18() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
# serve: refused at start-up, so it ends by itself (a wrongly started one
# is killed after 20 s: exit 124)
serve() { timeout -k 5 20 "$BIN/secretd" -c "$CONF" serve; }
# stderr of the last run without debug lines (log_level = debug), the
# log prefix and the source location
err_lines() { grep -v '^secretd\[[0-9]*\]: debug: ' "$ERR_FILE"; }
err_msg() { err_lines | sed -E 's/^secretd\[[0-9]+\]: error: //; s/ \([a-z_]+\.c:[a-z_]+:[0-9]+\)$//'; }
doctor() { "$BIN/secretd" -c "$CONF" doctor --sshd-config "$W/sshd_config" --user root; }

# The migrations of this tree, as secretd names them: version (without
# leading zeros), name, SHA-256 of the file.
WANT=$(for f in "$SD_REPO"/sql/[0-9]*.sql; do
	b=$(basename "$f" .sql)
	printf '%d|%s|%s\n' "$((10#${b%%_*}))" "$b" "$(sha256sum <"$f" | cut -d' ' -f1)"
done)
NLAST=$(tail -n 1 <<<"$WANT" | cut -d'|' -f2)
VLAST=$(tail -n 1 <<<"$WANT" | cut -d'|' -f1)
SUMLAST=$(tail -n 1 <<<"$WANT" | cut -d'|' -f3)
expect_ne "$WANT" "" "migrations in sql/"

describe "a new, empty database: serve refuses to start, naming the fix"
run serve
expect_rc 1
expect_eq "$(err_msg)" "the database has no schema (no table schema_migrations): run \"secretd migrate\": refusing to start"

describe "migrate applies every migration of sql/ and records its SHA-256"
run "$BIN/secretd" -c "$CONF" migrate
expect_rc 0
expect_eq "$(err_lines)" "$(cut -d'|' -f2 <<<"$WANT" | sed 's/^/secretd: applied migration /')" "stderr"
expect_eq "$(t18 "SELECT version, name, checksum FROM schema_migrations ORDER BY version")" "$WANT" "schema_migrations"
expect_eq "$(t18 "SELECT count(*) FROM schema_migrations WHERE checksum !~ '^[0-9a-f]{64}\$'")" 0 "64 hex digits each"
expect_eq "$(t18 "SELECT count(*) FROM information_schema.columns WHERE table_name = 'enrol_token' AND column_name = 'group_ids'")" 0 "no group_ids array"
expect_eq "$(t18 "SELECT count(*) FROM pg_proc WHERE proname IN ('sd_node_perms', 'sd_put_prepare')")" 0 "no dead functions"

describe "a second migrate applies nothing and changes no row"
before=$(t18 "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
run "$BIN/secretd" -c "$CONF" migrate
expect_rc 0
expect_eq "$(err_lines)" "secretd: schema is up to date (version $VLAST)" "stderr"
expect_eq "$(t18 "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")" "$before" "schema_migrations unchanged"

describe "the migrated database: serve starts, doctor's schema lines pass"
helper_start t18 "$BIN/secretd" -c "$CONF" serve
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
expect_true test -S "$SOCK"
helper_stop t18
run doctor
expect_out_contains "ok   database: reachable; schema version $VLAST (every migration applied)"
expect_out_contains "ok   database: every applied migration has the checksum of this secretd's text of it"

describe "an applied migration that changed: serve refuses to start, naming it and both checksums"
OTHER=$(printf 'changed' | sha256sum | cut -d' ' -f1)
t18 "UPDATE schema_migrations SET checksum = '$OTHER' WHERE version = $VLAST" || fail "update"
run serve
expect_rc 1
expect_eq "$(err_msg)" "applied migration $VLAST ($NLAST) has changed: the database recorded checksum $OTHER, and this secretd's text of it has checksum $SUMLAST: refusing to start: an applied migration must never change (a change is a new migration); run the secretd that applied it"
expect_eq "$(err_lines | wc -l)" 1 "one line"

describe "... migrate refuses to go on, and changes nothing"
before=$(t18 "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
run "$BIN/secretd" -c "$CONF" migrate
expect_rc 1
expect_eq "$(err_lines)" "secretd: applied migration $VLAST ($NLAST) has changed: the database recorded checksum $OTHER, and this secretd's text of it has checksum $SUMLAST: refusing to migrate: an applied migration must never change (a change is a new migration); run the secretd that applied it" "stderr"
expect_eq "$(t18 "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")" "$before" "schema_migrations unchanged"

describe "... doctor names it"
run doctor
expect_rc 1
expect_out_contains "FAIL database: applied migration $VLAST ($NLAST) has changed: the database recorded checksum $OTHER, and this secretd's text of it has checksum $SUMLAST: fix: run the secretd that applied it (an applied migration must never change)"

describe "an applied migration under another name: refused the same way"
t18 "UPDATE schema_migrations SET checksum = '$SUMLAST', name = '${NLAST}_old' WHERE version = $VLAST" || fail "update"
run serve
expect_rc 1
expect_eq "$(err_msg)" "applied migration $VLAST is ${NLAST}_old (checksum $SUMLAST) in the database, and $NLAST (checksum $SUMLAST) in this secretd: refusing to start: an applied migration must never change (a change is a new migration); run the secretd that applied it"
t18 "UPDATE schema_migrations SET name = '$NLAST' WHERE version = $VLAST" || fail "update"

describe "a migration this secretd does not know (a newer schema): serve and migrate refuse, doctor says so"
VNEW=$((VLAST + 1))
t18 "INSERT INTO schema_migrations (version, name, checksum) VALUES ($VNEW, 'future', '$OTHER')" || fail "insert"
run serve
expect_rc 1
expect_eq "$(err_msg)" "the database has migration $VNEW (future), which this secretd does not know: a newer secretd migrated it: refusing to start: install that secretd"
run "$BIN/secretd" -c "$CONF" migrate
expect_rc 1
expect_eq "$(err_lines)" "secretd: the database has migration $VNEW (future), which this secretd does not know: a newer secretd migrated it: refusing to migrate: install that secretd" "stderr"
run doctor
expect_rc 1
expect_out_contains "FAIL database: schema version $VNEW is newer than this secretd ($VLAST): fix: install the secretd that migrated it"
expect_out_contains "FAIL database: the database has migration $VNEW (future), which this secretd does not know: a newer secretd migrated it: fix: install that secretd"

describe "all as it was: serve starts again"
t18 "DELETE FROM schema_migrations WHERE version = $VNEW" || fail "delete"
helper_start t18 "$BIN/secretd" -c "$CONF" serve
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
expect_true test -S "$SOCK"
helper_stop t18

done_testing

#!/bin/bash
# demo.sh - `make demo`: after `make dev-up`, walk through the three
# journeys of DESIGN §1 against the dev environment, printing each command
# and what it printed.  Safe to run again: it recreates what it made.
set -uo pipefail
cd "$(dirname "$0")/../.."
. .dev/env

bold=$(tput bold 2>/dev/null || true)
dim=$(tput dim 2>/dev/null || true)
off=$(tput sgr0 2>/dev/null || true)
section() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$off"; }
say() { printf '%s# %s%s\n' "$dim" "$*" "$off"; }
# show CMD...: print the command line, run it, print its output and status
show() {
	printf '%s$ %s%s\n' "$bold" "$*" "$off"
	bash -c "$*" 2>&1 | sed 's/^/  /'
	local rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || printf '  %s(exit %d)%s\n' "$dim" "$rc" "$off"
}
hostkey=.dev/demo/web1_host_ed25519_key
mkdir -p .dev/demo
rm -rf "$hostkey" "$hostkey.pub" "$hostkey.2" "$hostkey.2.pub" .dev/demo/secrets
ssh-keygen -q -t ed25519 -N '' -C web1 -f "$hostkey"
ssh-keygen -q -t ed25519 -N '' -C web2 -f "$hostkey.2"
# start from a clean slate for what the demo creates
secret -q principal delete web1 >/dev/null 2>&1
secret -q principal delete web2 >/dev/null 2>&1
secret -q group delete web >/dev/null 2>&1
secret -q rm demo -r >/dev/null 2>&1

section "1. An admin over SSH"
say "values come from stdin or a file, never from the command line"
show "printf 'hunter2' | secret put demo/prod/db/password"
show "secret get demo/prod/db/password; echo"
show "secret put demo/prod/api/token --generate 32"
show "printf 'hunter3' | secret put demo/prod/db/password --cas 1"
say "a stale check-and-set is refused (exit 6)"
show "printf 'oops' | secret put demo/prod/db/password --cas 1"
show "secret history demo/prod/db/password"
show "secret rollback demo/prod/db/password 1"
show "secret get demo/prod/db/password; echo"
show "secret ls demo -r"
say "the same from a bare ssh client"
show "ssh -F /dev/null -p $SECRETD_SSH_PORT -i $SECRET_IDENTITY -o IdentitiesOnly=yes -o UserKnownHostsFile=$SECRET_KNOWN_HOSTS -o LogLevel=ERROR secret@127.0.0.1 get demo/prod/db/password; echo"

section "2. A machine bootstraps its credentials"
say "the admin makes a group, grants it a subtree, and issues a one-time enrolment token"
show "secret group create web"
show "secret acl set demo/prod/db web read,discover"
show "secret enrol-token create --name-pattern 'web*' --group web --ttl 1h > .dev/demo/token; echo token saved in .dev/demo/token"
say "the new host enrols its SSH host key with the token (never on the command line)"
show "secret -i $hostkey enrol --name web1 --token-file .dev/demo/token"
say "at every boot it fetches exactly what its group may read, atomically, in one session"
show "secret -i $hostkey fetch demo/prod/db --dest .dev/demo/secrets --mode 0400 -q && find .dev/demo/secrets -type f -exec sh -c 'printf \"%s: \" \"\$1\"; cat \"\$1\"; echo' sh {} \\;"
show "secret -i $hostkey fetch demo/prod/db --env-file .dev/demo/db.env && cat .dev/demo/db.env"
show "secret -i $hostkey exec --env DB_PASSWORD=demo/prod/db/password -- sh -c 'echo the service sees a password of \${#DB_PASSWORD} characters'"
say "and nothing else: no existence leak either"
show "secret -i $hostkey get demo/prod/api/token"
show "secret -i $hostkey get demo/prod/api/no-such-thing"
say "a second use of a one-time token is refused"
show "secret -i $hostkey.2 enrol --name web2 --token-file .dev/demo/token"

section "3. An auditor"
say "who can read demo/prod/db/password, and through which group"
show "secret acl who demo/prod/db/password"
say "every access is an audit row (never the value): the latest denied ones"
show "secret audit query --since 1h --result denied --limit 5"
say "the trail is chained and MACed: any edit, insertion or deletion is named"
show "secret audit verify"
say "which row wrote a value an auditor holds? (the keyed hash, never the value)"
show "printf 'hunter3' | secret audit hash demo/prod/db/password"
show "secret audit report --since 1d --format text | head -40"
show "secret audit report --since 1d --format html -o .dev/demo/report.html && echo open .dev/demo/report.html in a browser"
say "the runtime role cannot change history, and the database holds only ciphertext"
show "psql -X -U secretd -c \"DELETE FROM audit_log\""
show "psql -X -At -c \"SELECT count(*) AS rows_with_hunter2 FROM secret_version WHERE position('hunter2'::bytea IN ciphertext) > 0\""

printf '\n%sDone.%s The environment keeps running: . .dev/env, then try secret --help; make dev-down stops it.\n' "$bold" "$off"

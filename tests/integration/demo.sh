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
rm -f "$hostkey" "$hostkey.pub"
ssh-keygen -q -t ed25519 -N '' -C web1 -f "$hostkey"
# start from a clean slate for what the demo creates
secret -q principal delete web1 >/dev/null 2>&1
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
say "the admin registers the host's SSH host key as principal web1 in group web"
show "secret group create web"
show "secret principal create web1 --key $hostkey.pub --group web"
show "secret acl set demo/prod/db web read,discover"
say "at boot, the host reads exactly what its group may read, in one session"
show "secret -i $hostkey whoami"
show "printf '%s\n' '{\"action\":\"secret.get_many\",\"prefix\":[\"demo\",\"prod\",\"db\"],\"recursive\":true}' | ssh -F /dev/null -p $SECRETD_SSH_PORT -i $hostkey -o IdentitiesOnly=yes -o UserKnownHostsFile=$SECRET_KNOWN_HOSTS -o LogLevel=ERROR secret@127.0.0.1 json"
say "and nothing else: no existence leak either"
show "secret -i $hostkey get demo/prod/api/token"
show "secret -i $hostkey get demo/prod/api/no-such-thing"

section "3. An auditor"
say "who can read demo/prod/db/password, and through which group"
show "secret acl who demo/prod/db/password"
say "every access is an audit row (never the value): the latest ones"
show "psql -X -c \"SELECT at::timestamp(0), coalesce(principal, fingerprint) AS who, action, array_to_string(path, '/') AS path, version, result, error_code, client_addr FROM audit_log ORDER BY id DESC LIMIT 12\""
say "the runtime role cannot change history"
show "psql -X -U secretd -c \"DELETE FROM audit_log\""
say "and the database holds only ciphertext"
show "psql -X -At -c \"SELECT count(*) AS rows_with_hunter2 FROM secret_version WHERE position('hunter2'::bytea IN ciphertext) > 0\""

printf '\n%sDone.%s The environment keeps running: . .dev/env, then try secret --help; make dev-down stops it.\n' "$bold" "$off"

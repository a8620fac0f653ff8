#!/bin/bash
# t_90_audit_report.sh - the auditor's commands of the client, against a
# known history (principals rpt-*, paths under report/): `audit query`
# filters and pagination return exactly the expected rows, field by field,
# also as NDJSON; `audit hash` finds the writes of a value (rows, never a
# hash; audited, rate-limited); `audit report`
# in text, CSV, JSON and HTML carries the known counts (the HTML page is
# self-contained, escapes server strings and, when Chromium is installed,
# renders its charts); `audit verify` is intact, and names the row when
# one is altered, deleted or inserted by the database superuser.  The
# tampering comes last and is undone, so the trail is whole for any file
# after this one.
. "$(dirname "$0")/lib.sh"
test_init

mk() {	# mk NAME [GROUP]: principal with a fresh key, in the group
	local name=$1 k
	k=$(new_key "$name") || die "ssh-keygen"
	expect_exit 0 secret principal create "$name" --key "$k.pub" || die "create $name"
	[ $# -gt 1 ] && expect_exit 0 secret group add "$2" "$name"
	eval "K_${name//-/_}=\$k"
}
as() { local who=$1 k; shift; k="K_${who//-/_}"; secret_as "${!k}" "$@"; }
# Column N of the human rows (after the header) of the last run.
col() { awk -v c="$1" 'NR > 1 { print $c }' "$OUT_FILE" | paste -sd' '; }
TODAY=$(date -u +%Y-%m-%d)
# The page's charts show the busiest principals only: this file's own,
# not those of the files before it, are the ones it checks.
SINCE=$(date -u -d '-1 second' +%Y-%m-%dT%H:%M:%SZ)
HOSTILE="report/<i>&\"'"	# a name a page must escape

describe "setup: the known history"
for g in rpt-readers rpt-writers rpt-pagers; do expect_exit 0 secret group create "$g"; done
expect_exit 0 secret acl set report/app rpt-readers read
expect_exit 0 secret acl set report/app rpt-writers write
expect_exit 0 secret acl set report/page rpt-pagers read
mk rpt-alice rpt-readers
mk rpt-bob
mk rpt-carol rpt-writers
mk rpt-pager rpt-pagers
mk rpt-eve		# no grant at all: for the permission checks
# admin: 6 writes under report/
expect_exit 0 run_in "v1" secret put report/app/db
expect_exit 0 run_in "v2" secret put report/app/db
expect_exit 0 run_in "k1" secret put report/app/api
expect_exit 0 run_in "v1" secret put report/other/x
expect_exit 0 run_in "p" secret put report/page/x
expect_exit 0 run_in "h" secret put "$HOSTILE"
# alice: 4 reads, 1 error (not_found)
for p in db db db api; do expect_exit 0 as rpt-alice get report/app/$p; done
expect_fail 5 not_found as rpt-alice get report/app/missing
# bob (no grant): 4 denied
expect_fail 4 permission_denied as rpt-bob get report/app/db
expect_fail 4 permission_denied as rpt-bob get report/app/db
expect_fail 4 permission_denied as rpt-bob get report/other/x
expect_fail 4 permission_denied as rpt-bob get "$HOSTILE"
# carol (write only): 2 writes, 1 denied read
expect_exit 0 run_in "c1" as rpt-carol put report/app/cfg
expect_exit 0 run_in "c2" as rpt-carol put report/app/cfg
expect_fail 4 permission_denied as rpt-carol get report/app/db
# pager: 1100 reads in one session, more than one page of audit.query
for i in $(seq 1100); do printf '{"id":%d,"action":"secret.get","path":["report","page","x"]}\n' "$i"; done >"$T/gets"
run_in_file "$T/gets" plain_ssh "$K_rpt_pager" json
expect_rc 0
expect_eq "$(grep -c '"ok":true' "$OUT_FILE")" 1100 "1100 gets answered"

describe "audit query: one principal's rows, field by field, newest first"
expect_exit 0 secret audit query --principal rpt-bob
expect_eq "$(head -n 1 "$OUT_FILE" | tr -s ' ')" "ID TIME PRINCIPAL ACTION PATH VERSION RESULT CODE CLIENT" "header"
expect_eq "$(col 3)" "rpt-bob rpt-bob rpt-bob rpt-bob" "principal"
expect_eq "$(col 4)" "secret.get secret.get secret.get secret.get" "action"
expect_eq "$(col 5)" "$HOSTILE report/other/x report/app/db report/app/db" "path, newest first"
expect_eq "$(col 6)" "- - - -" "no version"
expect_eq "$(col 7)" "denied denied denied denied" "result"
expect_eq "$(col 8)" "permission_denied permission_denied permission_denied permission_denied" "error code"
expect_match "$(col 9)" '^(127\.0\.0\.1:[0-9]+ ?){4}$' "client address and port"
expect_match "$(col 2 | cut -d' ' -f1)" "^${TODAY}T[0-9:.]+Z$" "time"
ids=$(col 1)
expect_eq "$(printf '%s\n' $ids | sort -rn | paste -sd' ')" "$ids" "ids fall"

describe "audit query: filters combine"
expect_exit 0 secret audit query --principal rpt-alice --action secret.get --result ok
expect_eq "$(col 5)" "report/app/api report/app/db report/app/db report/app/db" "alice's reads"
expect_eq "$(col 6)" "1 2 2 2" "versions read"
expect_eq "$(col 8)" "- - - -" "no error code"
expect_exit 0 secret audit query --principal rpt-alice --result error
expect_eq "$(col 5) $(col 7) $(col 8)" "report/app/missing error not_found" "the not_found row"
expect_exit 0 secret audit query --path report/app/db --action secret.put
expect_eq "$(col 3) / $(col 6) / $(col 7)" "admin admin / 2 1 / ok ok" "puts of one path"
expect_exit 0 secret audit query --path report/app --result denied --principal rpt-carol
expect_eq "$(col 4) $(col 5)" "secret.get report/app/db" "carol's denied read"
expect_exit 0 secret audit query --principal rpt-bob --since 1h --until 2000-01-01T00:00:00Z
expect_out ""
expect_exit 0 secret audit query --principal rpt-bob --since 10m
expect_eq "$(col 3 | wc -w)" 4 "--since keeps today's rows"
expect_exit 0 secret audit query --principal nobody-at-all
expect_out ""

describe "audit query: --json prints each row as one JSON object per line"
expect_exit 0 secret --json audit query --principal rpt-alice
expect_eq "$(wc -l <"$OUT_FILE")" 5 "five lines"
expect_eq "$(jq -s 'map(type) | unique | join(",")' -r <"$OUT_FILE")" object "each an object"
expect_json '[.principal, .action, (.path|join("/")), .result, (.error_code // "-"), .client_addr] | join(" ")' \
"rpt-alice secret.get report/app/missing error not_found 127.0.0.1
rpt-alice secret.get report/app/api ok - 127.0.0.1
rpt-alice secret.get report/app/db ok - 127.0.0.1
rpt-alice secret.get report/app/db ok - 127.0.0.1
rpt-alice secret.get report/app/db ok - 127.0.0.1"
expect_json '(.client_port|type) + " " + (.session_id|type) + " " + (has("value_hash")|tostring)' \
"$(printf 'number string true\n%.0s' 1 2 3 4 5 | head -c -1)"
expect_lacks "$OUT" '"rows"' "rows, not raw responses"

describe "audit query: pages are followed up to the limit"
expect_exit 0 secret audit query --principal rpt-pager --action secret.get --all
expect_eq "$(($(wc -l <"$OUT_FILE") - 1))" 1100 "all 1100 rows over two pages"
expect_eq "$(col 1 | tr ' ' '\n' | sort -u | wc -l)" 1100 "no row twice"
expect_eq "$(col 1 | tr ' ' '\n' | sort -rn | paste -sd' ')" "$(col 1)" "newest first across pages"
expect_err ""
expect_exit 0 secret --json audit query --principal rpt-pager --limit 1050
expect_eq "$(wc -l <"$OUT_FILE")" 1050 "--limit 1050: 1000 + 50"
expect_err_contains "more rows match"
expect_exit 0 secret audit query --principal rpt-bob --limit 4
expect_eq "$(col 3 | wc -w)" 4 "exactly --limit rows exist"
expect_err ""
expect_exit 0 secret -q audit query --principal rpt-pager --limit 3
expect_eq "$(col 3)" "rpt-pager rpt-pager rpt-pager" "--limit 3"
expect_err ""
expect_exit 0 secret audit query --principal rpt-pager
expect_eq "$(($(wc -l <"$OUT_FILE") - 1))" 100 "100 rows by default"
expect_err_contains "--limit N or --all"

describe "audit query: usage and permission errors"
expect_fail 2 usage secret audit query --result maybe
expect_fail 2 usage secret audit query --limit 0
expect_fail 2 usage secret audit query --limit 5 --all
expect_fail 2 usage secret audit query extra
expect_fail 1 bad_request secret audit query --since yesterday
expect_fail 4 permission_denied as rpt-eve audit query
expect_out ""

describe "audit hash: the rows that recorded a candidate value; never a hash"
expect_exit 0 secret --json audit query --path report/app/db --action secret.put
h1=$(jq -r 'select(.version == 1) | .value_hash' <"$OUT_FILE")
h2=$(jq -r 'select(.version == 2) | .value_hash' <"$OUT_FILE")
id2=$(jq -r 'select(.version == 2) | .id' <"$OUT_FILE")
expect_match "$h2" '^[0-9a-f]{64}$' "puts carry a value hash"
expect_ne "$h1" "$h2" "different values, different hashes"
expect_exit 0 run_in "v2" secret audit hash report/app/db
expect_eq "$(head -n 1 "$OUT_FILE" | tr -s ' ')" "ID TIME PRINCIPAL ACTION PATH VERSION RESULT CODE CLIENT" "the rows, as audit query prints them"
expect_eq "$(tail -n +2 "$OUT_FILE" | awk '{ print $1, $3, $4, $5, $6, $7 }')" "$id2 admin secret.put report/app/db 2 ok" "the write of v2"
expect_lacks "$(cat "$OUT_FILE" "$ERR_FILE")" "$h2" "no hash printed"
expect_exit 0 run_in "v1" secret audit hash report
expect_eq "$(tail -n +2 "$OUT_FILE" | awk '{ print $5, $6 }' | paste -sd,)" "report/other/x 1,report/app/db 1" "v1 was written twice under report"
expect_exit 0 run_in "never stored" secret audit hash report
expect_out ""
expect_err ""
expect_exit 0 run_in "v2" secret --json audit hash report/app
expect_json '.version' "2"
expect_json '.id' "$id2"
expect_lacks "$(cat "$OUT_FILE" "$ERR_FILE")" '"v2"' "the value is not printed"
expect_fail 4 permission_denied run_in "v2" as rpt-eve audit hash report/app/db

describe "audit hash over the protocol: rows, no value_hash; path required; each call audited without the candidate"
run_in '{"id":1,"action":"audit.hash","path":["report"],"value":"v1"}'$'\n''{"id":2,"action":"audit.hash","value":"v1"}'$'\n' plain_ssh "$W/admin" json
expect_rc 0
expect_eq "$(head -n 1 "$OUT_FILE" | jq -r '"\(.ok) \(has("value_hash")) \(.rows | length) \(.truncated)"')" "true false 2 false" "two rows, no hash"
expect_lacks "$(cat "$OUT_FILE")" "$h1" "the hash of the candidate is nowhere in the answer"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .error.code)" bad_request "no path: bad_request"
expect_eq "$(sql "SELECT result || ' ' || array_to_string(path, '/') || ' ' || detail::text || ' ' || (value_hash IS NULL) FROM audit_log WHERE action = 'audit.hash' AND request_id = '1' ORDER BY id DESC LIMIT 1")" "ok report {\"matches\":2} true" "audited: path and matches, no hash"
run_in '{"id":"m","action":"audit.hash","path":["report"],"value":"candidate-marker-90"}'$'\n' plain_ssh "$W/admin" json
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE action = 'audit.hash' AND (value_hash IS NOT NULL OR coalesce(detail::text, '') LIKE '%candidate-marker%')")" 0 "no audit.hash row holds a candidate or its hash"

describe "audit hash: at most 30 calls per principal in 10 minutes, then rate_limited"
expect_exit 0 secret group create rpt-auditors
expect_exit 0 secret acl set --global rpt-auditors audit
mk rpt-aud rpt-auditors
for i in $(seq 31); do printf '{"id":%d,"action":"audit.hash","path":["report"],"value":"guess-%d"}\n' "$i" "$i"; done >"$T/guesses"
run_in_file "$T/guesses" plain_ssh "$K_rpt_aud" json
expect_rc 0
expect_eq "$(head -n 30 "$OUT_FILE" | jq -r .ok | sort | uniq -c | tr -s ' ')" " 30 true" "30 answered"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .error.code)" rate_limited "the 31st refused"
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE action = 'audit.hash' AND principal = 'rpt-aud'")" 31 "every call audited"
expect_fail 1 rate_limited run_in "v1" as rpt-aud audit hash report

# The counts the reports must show (admin's own rows vary with other files).
#                reads writes denied errors
WANT_ALICE="4 0 0 1"
WANT_BOB="0 0 4 0"
WANT_CAROL="0 2 1 0"
WANT_PAGER="1100 0 0 0"
WANT_PATH="1104 8 5"	# report/: reads, writes (6 admin + 2 carol), denied

describe "audit report: text"
expect_exit 0 secret audit report
for p in alice bob carol pager; do
	w=WANT_${p^^}
	expect_eq "$(awk -v p="rpt-$p" '$1 == p && NF == 5 { print $2, $3, $4, $5 }' "$OUT_FILE")" "${!w}" "rpt-$p counts"
done
expect_eq "$(awk '/^Accesses by top-level path/ { s = 1 } s && $1 == "report" { print $2, $3, $4; exit }' "$OUT_FILE")" "$WANT_PATH" "report/ counts"
expect_match "$(awk -v d="$TODAY" '$1 == d { print $2, $3, $4 }' "$OUT_FILE")" '^[0-9]+ [0-9]+ [0-9]+$' "today in the per-day table"
expect_eq "$(awk '/^Denied attempts/ { s = 1 } s && $1 == "rpt-bob" { print $2, $3, $4, $5 }' "$OUT_FILE" | sort | paste -sd,)" \
	"127.0.0.1 secret.get $HOSTILE 1,127.0.0.1 secret.get report/app/db 2,127.0.0.1 secret.get report/other/x 1" "bob's denied attempts and source"
expect_eq "$(awk '/^Access matrix/ { s = 1 } s && $1 ~ /^rpt-/ { print $1, $2, $3, $4 }' "$OUT_FILE" | paste -sd,)" \
	"rpt-alice report/app read rpt-readers,rpt-carol report/app write rpt-writers,rpt-pager report/page read rpt-pagers" "access matrix"
expect_lacks "$(awk '/^Stale/ { s = 1 } /^Access/ { s = 0 } s' "$OUT_FILE")" "report/app" "fresh secrets are not stale (90d)"
expect_exit 0 secret audit report --stale 0s
expect_eq "$(awk '/^Stale/ { s = 1 } /^Access/ { s = 0 } s && $1 ~ /^report\/app/ { print $1, $2 }' "$OUT_FILE" | sort | paste -sd,)" \
	"report/app/api 1,report/app/cfg 2,report/app/db 2" "--stale 0s: every live secret, current version"
expect_fail 2 usage secret audit report --format pdf
expect_fail 4 permission_denied as rpt-eve audit report

describe "audit report: csv, one table with a section column, RFC 4180"
expect_exit 0 secret audit report --format csv --stale 0s
tr -d '\r' <"$OUT_FILE" >"$T/r.csv"
expect_eq "$(head -n 1 "$T/r.csv" | cut -d, -f1-3)" "section,day,principal" "header"
expect_eq "$(grep -c $'\r$' "$OUT_FILE")" "$(wc -l <"$OUT_FILE")" "CRLF line ends"
# columns: 1 section 3 principal 7 path 8 reads 9 writes 10 denied 11 errors 12 ok
for p in alice bob carol pager; do
	w=WANT_${p^^}
	expect_eq "$(awk -F, -v p="rpt-$p" '$1 == "principal" && $3 == p { print $8, $9, $10, $11 }' "$T/r.csv")" "${!w}" "rpt-$p counts"
done
expect_eq "$(awk -F, '$1 == "path" && $7 == "report" { print $8, $9, $10 }' "$T/r.csv")" "$WANT_PATH" "report/ counts"
expect_match "$(awk -F, -v d="$TODAY" '$1 == "day" && $2 == d { print $12 }' "$T/r.csv")" '^[0-9]+$' "today"
expect_eq "$(awk -F, '$1 == "denied" && $3 == "rpt-bob" && $7 == "report/app/db" { print $5, $6, $13 }' "$T/r.csv")" "127.0.0.1 secret.get 2" "a denied row"
expect_contains "$(cat "$T/r.csv")" ',"report/<i>&""'\''",' "a quote in a path is quoted and doubled"
expect_eq "$(awk -F, '$1 == "access" && $3 == "rpt-alice" { print $7, $18, $19 }' "$T/r.csv")" "report/app read rpt-readers" "access row"
expect_eq "$(awk -F, '$1 == "stale" && $7 == "report/app/db" { print $15 }' "$T/r.csv")" 2 "stale row"
expect_eq "$(awk -F, '$1 == "period" { print ($20 != "" && $21 != "") }' "$T/r.csv")" 1 "period row"

describe "audit report: json is the server's report, indented"
expect_exit 0 secret audit report --format json
expect_json '[.by_principal[] | select(.principal | test("^rpt-(alice|bob|carol|pager)$")) | "\(.principal) \(.reads) \(.writes) \(.denied) \(.errors)"] | join(",")' \
	"rpt-alice $WANT_ALICE,rpt-bob $WANT_BOB,rpt-carol $WANT_CAROL,rpt-pager $WANT_PAGER"
expect_json '.by_path[] | select(.path == "report") | "\(.reads) \(.writes) \(.denied)"' "$WANT_PATH"
expect_json 'has("id") or has("ok")' false
expect_json '[.access[] | select(.principal == "rpt-carol") | (.path|join("/")) + " " + (.permissions|join(",")) + " " + (.groups|join(","))] | join(",")' "report/app write rpt-writers"
expect_true [ "$(wc -l <"$OUT_FILE")" -gt 20 ]

describe "audit report: html, one self-contained page"
expect_exit 0 secret audit report --format html --since "$SINCE" -o "$T/report.html"
expect_out ""
expect_mode 600 "$T/report.html"
# (grep -c, not expect_contains: a failure would print the whole page)
has() { grep -c -F -e "$1" "$T/report.html"; }
expect_eq "$(head -n 1 "$T/report.html")" "<!DOCTYPE html>" "a page"
expect_eq "$(grep -o '<svg' "$T/report.html" | wc -l)" 4 "four charts: days, principals, paths, denied sources"
for bad in "http://" "https://" "<script" "<link" "@import" "url(" "<img" "<iframe"; do
	expect_eq "$(has "$bad")" 0 "no $bad: nothing loaded from anywhere"
done
expect_eq "$(has "default-src 'none'")" 1 "a CSP that forbids loading"
expect_true [ "$(has 'report/&lt;i&gt;&amp;&quot;&#39;')" -gt 0 ]
expect_eq "$(has '<i>&"'"'")" 0 "server strings never raw"
expect_true [ "$(has '>rpt-carol<')" -gt 0 ]
expect_eq "$(has '<title>rpt-pager: 1,100 reads, 0 writes, 0 denied, 0 errors</title>')" 1 "per-principal counts (bar tooltip)"
expect_eq "$(has '<title>rpt-alice: 4 reads, 0 writes, 0 denied, 1 error</title>')" 1 "singular"
expect_eq "$(has '<title>report: 1,104 reads, 8 writes, 5 denied</title>')" 1 "per-path counts"
expect_eq "$(has "<title>$(date -u +%a) $TODAY: ")" 1 "today's column"
expect_eq "$(has 'title="rpt-alice at report/app: read via rpt-readers"')" 1 "access matrix cell"
echo "old" >"$T/old.html"; chmod 644 "$T/old.html"
expect_exit 0 secret audit report --format html -o "$T/old.html"
expect_mode 600 "$T/old.html"
expect_match "$(head -c 15 "$T/old.html")" '^<!DOCTYPE html>' "replaced"
expect_eq "$(ls "$T" | grep -c '^\.old\.html\.tmp')" 0 "no temporary left"
expect_fail 1 bad_request secret audit report --format html -o "$T/no/such/dir/r.html"
expect_exit 0 secret --json audit report -o "$T/raw.json"
expect_eq "$(jq -r '.ok' <"$T/raw.json") $(wc -l <"$T/raw.json")" "true 1" "--json: the raw response, one line"
expect_fail 2 usage secret --json audit report --format html

CHROMIUM=$(command -v chromium || true)
if [ -n "$CHROMIUM" ]; then
	describe "audit report: html rendered by headless Chromium"
	chrome() {
		timeout -k 5 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
			--no-first-run --disable-background-networking --disable-component-update \
			--disable-sync --user-data-dir="$T/chrome" "$@" 2>>"$T/chrome.log"
	}
	chrome --dump-dom "file://$T/report.html" >"$T/dom.html"
	expect_eq "$(grep -o '<svg' "$T/dom.html" | wc -l)" 4 "four charts in the DOM"
	expect_true [ "$(grep -o '<rect' "$T/dom.html" | wc -l)" -gt 20 ]
	expect_contains "$(cat "$T/dom.html")" "Access matrix" "sections rendered"
	chrome --screenshot="$T/report.png" --window-size=1200,2000 "file://$T/report.html" >/dev/null
	expect_true [ -s "$T/report.png" ]
else
	skip_case "chromium not installed: rendering not checked (tests/deps.sh)"
fi

# ---- tampering, last; each case undone --------------------------------

describe "audit verify: intact"
expect_exit 0 secret audit verify
expect_match "${OUT%$'\n'}" '^intact: [0-9]+ rows, [0-9]+ sealed, head [0-9]+:[0-9a-f]{64}$' "one line"
HEAD=${OUT##* }
HEAD=${HEAD%$'\n'}
expect_exit 0 secret audit verify --head "$HEAD"
expect_eq "$(sed -n 2p "$OUT_FILE")" "extends head $HEAD" "--head: extended"
expect_fail 1 tampered secret audit verify --head "${HEAD%%:*}:$(printf 'ab%.0s' $(seq 32))"
expect_err_contains "audit trail truncated: it no longer extends head ${HEAD%%:*}:abab"
expect_fail 2 usage secret audit verify --head 12
expect_fail 2 usage secret audit verify --acknowledge x
expect_fail 5 not_found secret audit verify --acknowledge 1
expect_exit 0 secret --json audit verify
expect_json .intact true
expect_fail 4 permission_denied as rpt-eve audit verify

rowid() { sql "SELECT id FROM audit_log WHERE $1 ORDER BY id LIMIT 1"; }
tamper() { sql "SET session_replication_role = replica; $1"; }
A=$(rowid "principal = 'rpt-bob' AND path = '{report,other,x}'")
B=$(rowid "principal = 'rpt-carol' AND result = 'denied'")
C=$(rowid "principal = 'rpt-carol' AND action = 'secret.put'")
F=
heal() {	# undo whatever is still tampered with
	tamper "UPDATE audit_log SET result = 'denied' WHERE id IN ($A, $B) AND result <> 'denied'" 2>/dev/null
	[ -n "$(sql "SELECT 1 FROM pg_tables WHERE tablename = 'rpt_saved'")" ] &&
		sql "INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT * FROM rpt_saved WHERE id NOT IN (SELECT id FROM audit_log); DROP TABLE rpt_saved"
	[ -n "$F" ] && tamper "DELETE FROM audit_log WHERE id = $F"
	F=
}
at_exit heal
expect_true [ "$A" -lt "$B" ]
# Rows are sealed just after they commit (off the request path).
for _ in $(seq 50); do
	[ "$(sql "SELECT count(*) FROM audit_seal WHERE audit_id IN ($A, $B, $C)")" = 3 ] && break
	sleep 0.1
done
expect_eq "$(sql "SELECT count(*) FROM audit_seal WHERE audit_id IN ($A, $B, $C)")" 3 "the rows to tamper with are sealed"

describe "audit verify: an altered row is named; the first of two; undone, intact"
tamper "UPDATE audit_log SET result = 'ok' WHERE id = $B"
expect_fail 1 tampered secret audit verify
expect_err "secret: tampered: audit trail broken at row $B: its content does not match its MAC (altered)"
expect_out ""
tamper "UPDATE audit_log SET result = 'ok' WHERE id = $A"
expect_fail 1 tampered secret audit verify
expect_err_contains "at row $A:"
expect_exit 1 secret --json audit verify
expect_json '"\(.intact) \(.first_bad.id) \(.first_bad.problem)"' "false $A altered"
tamper "UPDATE audit_log SET result = 'denied' WHERE id = $A"
expect_fail 1 tampered secret audit verify
expect_err_contains "at row $B:"
tamper "UPDATE audit_log SET result = 'denied' WHERE id = $B"
expect_exit 0 secret audit verify

describe "audit verify: a deleted row is named; put back, intact"
sql "CREATE TABLE rpt_saved AS SELECT * FROM audit_log WHERE id = $C" || die "save"
tamper "DELETE FROM audit_log WHERE id = $C"
expect_fail 1 tampered secret audit verify
expect_err "secret: tampered: audit trail broken at row $C: it is sealed but gone (deleted)"
heal
expect_exit 0 secret audit verify

describe "audit verify: an inserted row is named; removed, intact"
sql "INSERT INTO audit_log (principal, action, path, result, mac) VALUES ('rpt-bob', 'secret.get', '{report,app,db}', 'ok', '\\x$(printf '00%.0s' $(seq 32))')"
F=$(sql "SELECT max(id) FROM audit_log WHERE principal = 'rpt-bob'")
expect_fail 1 tampered secret audit verify
expect_err "secret: tampered: audit trail broken at row $F: it has no valid MAC (inserted without the key)"
heal
expect_exit 0 secret audit verify
expect_match "$OUT" '^intact: ' "whole again"

done_testing

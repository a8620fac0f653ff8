#!/bin/bash
# t_25_delegation.sh - delegation is monotone (DESIGN §3, issue 21): no
# action may leave anyone holding a permission its caller does not hold.
# One regression test per attack of the issue, through sshd and the
# client: (1) an enrol-only principal's token for admins, (2) a rekey
# token taking over the administrator, (3) group_manage / principal_manage
# alone becoming root, (7) acl.set global as a group-name oracle; and a
# manage-only holder granting itself read.  Each refusal is exit 4, names
# the missing permission, and is audited.  Names carry a random suffix so
# the file can run again on the same environment.
. "$(dirname "$0")/lib.sh"
test_init

R=$(printf '%04x' $RANDOM)
D=d25-$R

# mk NAME GROUP...: a principal with a fresh key, in the groups
mk() {
	local name=$1 k g
	shift
	k=$(new_key "$name") || die "ssh-keygen"
	expect_exit 0 secret principal create "$name" --key "$k.pub" || die "create $name"
	for g in "$@"; do expect_exit 0 secret group add "$g" "$name" || die "add $name"; done
	eval "K_${name//[-.]/_}=\$k"
}
key_of() { local v="K_${1//[-.]/_}"; printf '%s\n' "${!v}"; }
as() { local k; k=$(key_of "$1"); shift; secret_as "$k" "$@"; }
fp_of() { ssh-keygen -lf "$1.pub" | awk '{print $2}'; }
# the audit row of the last denial of ACTION by PRINCIPAL: error code and
# the group the delegation rule named
denied_row() {
	sql "SELECT result, error_code, coalesce(detail->'delegation'->>'group', '') FROM audit_log WHERE principal = '$1' AND action = '$2' ORDER BY id DESC LIMIT 1"
}

describe "setup: groups with one global permission each, a subtree, hosts"
for g in enr gm pm gpm web mgr rd; do
	expect_exit 0 secret group create "$g-$R" || die "group $g"
done
expect_exit 0 secret acl set --global "enr-$R" enrol
expect_exit 0 secret acl set --global "gm-$R" group_manage
expect_exit 0 secret acl set --global "pm-$R" principal_manage
expect_exit 0 secret acl set --global "gpm-$R" group_manage,principal_manage
expect_exit 0 secret acl set "$D/web" "web-$R" read,discover
expect_exit 0 secret acl set "$D/web" "enr-$R" read,discover
expect_exit 0 secret acl set "$D" "mgr-$R" manage
expect_exit 0 run_in "s3cret" secret put "$D/web/db"
mk "enroller-$R" "enr-$R"
mk "gman-$R" "gm-$R"
mk "pman-$R" "pm-$R"
mk "gpman-$R" "gpm-$R"
mk "mgr-$R" "mgr-$R"
mk "nobody-$R"
mk "admin2-$R" admins

# ------------------------------------------------------------------ case 1
describe "case 1: enrol alone cannot make a token for admins"
expect_fail 4 permission_denied as "enroller-$R" enrol-token create --group admins --ttl 1h
expect_err "secret: permission_denied: group admins holds global group_manage,principal_manage,audit, which you do not hold"
expect_out ""
expect_eq "$(denied_row "enroller-$R" enrol.token_create)" "denied|permission_denied|admins" "denial audited with the group"
expect_eq "$(sql "SELECT count(*) FROM enrol_token WHERE created_by = 'enroller-$R'")" 0 "no token stored"
describe "case 1: nor for a group with node grants it does not hold"
expect_exit 0 secret acl set "$D/other" "rd-$R" read
expect_fail 4 permission_denied as "enroller-$R" enrol-token create --group "rd-$R" --ttl 1h
expect_err "secret: permission_denied: group rd-$R holds read at $D/other, which you do not hold there"
describe "case 1: a token for a group whose permissions it holds works"
TOK=$(as "enroller-$R" enrol-token create --group "web-$R" --name-pattern "h1-$R" --ttl 1h) || fail "token for web"
H1=$(new_key "h1-$R") || die "ssh-keygen"
expect_exit 0 run_in "$TOK"$'\n' secret_as "$H1" enrol --name "h1-$R"
expect_exit 0 secret_as "$H1" --json whoami
expect_json '.global | length' 0
expect_exit 0 secret_as "$H1" get "$D/web/db"
expect_out_exact s3cret
describe "case 1: a missing group is not_found, after the rule"
expect_fail 5 not_found as "enroller-$R" enrol-token create --group "ghost-$R" --ttl 1h

describe "token authority is checked again at use: the group gained a grant"
TOK=$(as "enroller-$R" enrol-token create --group "web-$R" --name-pattern "h2-$R" --ttl 1h) || fail "token"
expect_exit 0 secret acl set "$D/web" "web-$R" read,discover,write
H2=$(new_key "h2-$R") || die "ssh-keygen"
expect_fail 4 permission_denied run_in "$TOK"$'\n' secret_as "$H2" enrol --name "h2-$R"
expect_err "secret: permission_denied: enrolment refused: group web-$R holds write at $D/web, which the token's creator enroller-$R no longer holds there"
expect_eq "$(sql "SELECT count(*) FROM principal WHERE name = 'h2-$R'")" 0 "no principal made"
expect_eq "$(sql "SELECT result, error_code FROM audit_log WHERE action = 'enrol' AND fingerprint = '$(fp_of "$H2")' ORDER BY id DESC LIMIT 1")" "denied|permission_denied" "refusal audited"
expect_exit 0 secret acl set "$D/web" "web-$R" read,discover
describe "token authority at use: the creator lost its grant"
expect_exit 0 secret acl set "$D/web" "enr-$R" discover
expect_fail 4 permission_denied run_in "$TOK"$'\n' secret_as "$H2" enrol --name "h2-$R"
expect_err "secret: permission_denied: enrolment refused: group web-$R holds read at $D/web, which the token's creator enroller-$R no longer holds there"
expect_exit 0 secret acl set "$D/web" "enr-$R" read,discover
expect_exit 0 run_in "$TOK"$'\n' secret_as "$H2" enrol --name "h2-$R"
describe "token authority at use: the creator is gone"
TOK=$(as "enroller-$R" enrol-token create --group "web-$R" --name-pattern "h3-$R" --ttl 1h) || fail "token"
expect_exit 0 secret principal delete "enroller-$R"
H3=$(new_key "h3-$R") || die "ssh-keygen"
expect_fail 4 permission_denied run_in "$TOK"$'\n' secret_as "$H3" enrol --name "h3-$R"
expect_err "secret: permission_denied: enrolment refused: the token's creator enroller-$R no longer exists"

# ------------------------------------------------------------------ case 2
describe "case 2: allow_rekey needs an explicit name pattern"
expect_fail 1 bad_request secret enrol-token create --group "web-$R" --ttl 1h --allow-rekey
expect_err_contains "allow_rekey needs a name_pattern"
expect_fail 1 bad_request secret enrol-token create --group "web-$R" --ttl 1h --allow-rekey --name-pattern '**'
describe "case 2: a rekey token cannot take over the administrator"
TOK=$(secret enrol-token create --group "web-$R" --name-pattern 'a*' --ttl 1h --allow-rekey) || fail "token"
EVIL=$(new_key "evil-$R") || die "ssh-keygen"
expect_fail 4 permission_denied run_in "$TOK"$'\n' secret_as "$EVIL" enrol --name admin
expect_err "secret: permission_denied: enrolment refused: principal admin holds global group_manage,principal_manage,enrol,audit; a rekey token takes over only a principal that holds nothing beyond the token's groups"
expect_exit 0 secret_as "$EVIL" --json whoami
expect_json .enrol_only true
expect_exit 0 secret --json whoami
expect_json .principal admin
expect_eq "$(sql "SELECT count(*) FROM principal_key k JOIN principal p ON p.id = k.principal_id WHERE p.name = 'admin' AND k.fingerprint = '$(fp_of "$W/admin")'")" 1 "admin keeps its key"
describe "case 2: nor a host in a group the token does not give"
mk "hx-$R" "web-$R" "rd-$R"
TOK=$(secret enrol-token create --group "web-$R" --name-pattern "hx-$R" --ttl 1h --allow-rekey) || fail "token"
expect_fail 4 permission_denied run_in "$TOK"$'\n' secret_as "$EVIL" enrol --name "hx-$R"
expect_err "secret: permission_denied: enrolment refused: principal hx-$R is in group rd-$R, which the token does not give; a rekey token takes over only a principal that holds nothing beyond the token's groups"
describe "case 2: a re-installed host in the token's groups is re-keyed"
expect_exit 0 secret group remove "rd-$R" "hx-$R"
expect_exit 0 run_in "$TOK"$'\n' secret_as "$EVIL" enrol --name "hx-$R"
expect_out "enrolled hx-$R ($(fp_of "$EVIL")), replacing its previous keys"

# ------------------------------------------------------------------ case 3
describe "case 3: group_manage alone cannot join admins"
expect_fail 4 permission_denied as "gman-$R" group add admins "gman-$R"
expect_err "secret: permission_denied: group admins holds global principal_manage,enrol,audit, which you do not hold"
expect_eq "$(denied_row "gman-$R" group.member_add)" "denied|permission_denied|admins" "denial audited with the group"
expect_exit 0 as "gman-$R" --json whoami
expect_json '.global | join(",")' group_manage
describe "case 3: ... nor a group with node grants it lacks, member existing or not"
expect_fail 4 permission_denied as "gman-$R" group add "web-$R" "gman-$R"
expect_err "secret: permission_denied: group web-$R holds discover,read at $D/web, which you do not hold there"
A=$(as "gman-$R" group add "web-$R" "ghost-$R" 2>&1)
B=$(as "gman-$R" group add "web-$R" "nobody-$R" 2>&1)
expect_eq "$A" "$B" "same answer for a missing and an existing member"
describe "case 3: ... but may add to a group that holds nothing it lacks"
expect_exit 0 as "gman-$R" group add "gm-$R" "nobody-$R"
expect_exit 0 as "gman-$R" group remove "gm-$R" "nobody-$R"
describe "case 3: principal_manage alone cannot add a key to an administrator"
PK=$(new_key "pk-$R") || die "ssh-keygen"
expect_fail 4 permission_denied as "pman-$R" principal key-add "admin2-$R" --key "$PK.pub"
expect_err "secret: permission_denied: principal admin2-$R holds global group_manage,enrol,audit (group admins), which you do not hold"
expect_fail 4 permission_denied as "pman-$R" principal key-add admin --key "$PK.pub"
expect_exit 0 secret_as "$PK" --json whoami
expect_json .enrol_only true
expect_eq "$(denied_row "pman-$R" principal.key_add)" "denied|permission_denied|admins" "denial audited with the group"
describe "case 3: ... nor to a host with node grants it lacks; a bare principal is fine"
expect_fail 4 permission_denied as "pman-$R" principal key-add "hx-$R" --key "$PK.pub"
expect_err "secret: permission_denied: principal hx-$R holds discover,read at $D/web (group web-$R), which you do not hold there"
expect_exit 0 as "pman-$R" principal key-add "nobody-$R" --key "$PK.pub"
describe "case 3: group_manage + principal_manage cannot create a principal in admins"
PK2=$(new_key "pk2-$R") || die "ssh-keygen"
expect_fail 4 permission_denied as "gpman-$R" principal create "sneak-$R" --key "$PK2.pub" --group admins
expect_err "secret: permission_denied: group admins holds global enrol,audit, which you do not hold"
expect_eq "$(sql "SELECT count(*) FROM principal WHERE name = 'sneak-$R'")" 0 "no principal made"
expect_exit 0 as "gpman-$R" principal create "sneak-$R" --key "$PK2.pub" --group "gpm-$R"
expect_fail 5 not_found as "gpman-$R" principal create "sneak2-$R" --key "$(new_key "pk3-$R").pub" --group "ghost-$R"

# ------------------------------------------------------------------ case 7
describe "case 7: acl.set global answers alike for a missing and an existing group"
A=$(as "nobody-$R" acl set --global "ghost-$R" audit 2>&1)
expect_eq "$?" 4 "exit 4"
B=$(as "nobody-$R" acl set --global admins audit 2>&1)
expect_eq "$A" "$B" "same answer"
expect_eq "$A" "secret: permission_denied: changing global grants needs a global permission; you hold none"
A=$(as "nobody-$R" acl set --global "ghost-$R" - 2>&1)
B=$(as "nobody-$R" acl set --global "web-$R" - 2>&1)
expect_eq "$A" "$B" "same answer for removal"
describe "case 7: acl.set on a node answers alike too"
A=$(as "nobody-$R" acl set "$D/web" "ghost-$R" read 2>&1)
B=$(as "nobody-$R" acl set "$D/web" "web-$R" read 2>&1)
expect_eq "$A" "$B" "same answer"
expect_contains "$A" "permission_denied"
describe "case 7: a global grant the caller lacks is refused before the group is looked up"
A=$(as "gman-$R" acl set --global "ghost-$R" audit 2>&1)
B=$(as "gman-$R" acl set --global "web-$R" audit 2>&1)
expect_eq "$A" "$B" "same answer"
expect_eq "$A" "secret: permission_denied: granting or removing global audit needs it, which you do not hold"

# ------------------------------------------------------- node acl.set
describe "acl.set on a node: manage alone cannot grant read"
expect_fail 4 permission_denied as "mgr-$R" acl set "$D/web" "mgr-$R" manage,read
expect_err "secret: permission_denied: granting read at $D/web needs read there, which you do not hold"
expect_fail 4 permission_denied as "mgr-$R" acl set "$D/new" "rd-$R" read,discover
expect_err "secret: permission_denied: granting discover,read at $D/new needs discover,read there, which you do not hold"
expect_fail 4 permission_denied as "mgr-$R" get "$D/web/db"
expect_eq "$(denied_row "mgr-$R" acl.set)" "denied|permission_denied|rd-$R" "denial audited with the group"
describe "acl.set on a node: it may grant manage, keep what is there, and remove"
expect_exit 0 as "mgr-$R" acl set "$D/new" "rd-$R" manage
expect_exit 0 as "mgr-$R" acl set "$D/web" "web-$R" read,discover,manage
expect_exit 0 as "mgr-$R" acl set "$D/web" "web-$R" discover
expect_exit 0 as "mgr-$R" acl set "$D/web" "web-$R" -
expect_fail 4 permission_denied as "mgr-$R" acl set "$D/web" "web-$R" read
expect_exit 0 secret acl set "$D/web" "web-$R" read,discover
describe "a manager that also reads may grant read"
expect_exit 0 secret acl set "$D" "rd-$R" read
expect_exit 0 secret group add "rd-$R" "mgr-$R"
expect_exit 0 as "mgr-$R" acl set "$D/web" "gm-$R" read

describe "the administrator still does everything"
expect_exit 0 secret group add admins "nobody-$R"
expect_exit 0 secret group remove admins "nobody-$R"
expect_exit 0 secret principal key-add "admin2-$R" --key "$(new_key "a2b-$R").pub"
expect_exit 0 secret enrol-token create --group admins --name-pattern "adm-$R" --ttl 1m --allow-rekey
expect_exit 0 secret acl set --global "rd-$R" audit
expect_exit 0 secret acl set --global "rd-$R" -

done_testing

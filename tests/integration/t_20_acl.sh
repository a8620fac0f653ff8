#!/bin/bash
# t_20_acl.sh - the ACL model of DESIGN §3 as a matrix: several principals
# and groups with nested grants; every node permission checked allowed and
# denied; inheritance and additivity; no existence leak; global
# permissions without escalation.  Every denial is exit 4 and audited.
. "$(dirname "$0")/lib.sh"
test_init

mk() {	# mk NAME GROUP... : principal with a fresh key, in the groups
	local name=$1 k
	shift
	k=$(new_key "$name") || die "ssh-keygen"
	expect_exit 0 secret principal create "$name" --key "$k.pub" || die "create $name"
	for g in "$@"; do expect_exit 0 secret group add "$g" "$name"; done
	eval "K_$name=\$k"
}
as() { local who=$1; shift; local k="K_$who"; secret_as "${!k}" "$@"; }

describe "setup: groups, grants and secrets"
for g in readers discoverers dbwriters managers deep auditors grpadmins; do
	expect_exit 0 secret group create "$g"
done
expect_exit 0 secret acl set acl readers read
expect_exit 0 secret acl set acl discoverers discover
expect_exit 0 secret acl set acl/db dbwriters write
expect_exit 0 secret acl set acl managers manage
expect_exit 0 secret acl set acl/db/deep deep read,discover
expect_exit 0 secret acl set --global auditors audit
expect_exit 0 secret acl set --global grpadmins group_manage
mk reader readers
mk disco discoverers
mk writer dbwriters
mk manager managers
mk deeper deep
mk both discoverers dbwriters
mk auditor auditors
mk gadmin grpadmins
mk nobody
expect_exit 0 run_in "pw" secret put acl/db/password
expect_exit 0 run_in "k" secret put acl/db/deep/key
expect_exit 0 run_in "o" secret put other/x

describe "read: allowed at and below the grant, denied elsewhere"
expect_exit 0 as reader get acl/db/password;	expect_out_exact pw
expect_exit 0 as reader get acl/db/deep/key;	expect_out_exact k
expect_fail 4 permission_denied as reader get other/x
expect_fail 4 permission_denied as reader ls acl
expect_fail 4 permission_denied as reader history acl/db/password
expect_fail 4 permission_denied run_in v as reader put acl/db/password
expect_fail 4 permission_denied as reader rm acl/db/password
expect_fail 4 permission_denied as reader acl get acl

describe "no existence leak: no grant at or above is permission_denied either way"
expect_fail 4 permission_denied as reader get other/does-not-exist
expect_fail 4 permission_denied as reader get nothing/at/all
expect_fail 4 permission_denied as nobody get acl/db/password
expect_fail 4 permission_denied as nobody get acl/db/missing
expect_fail 4 permission_denied as nobody ls acl/missing
expect_fail 4 permission_denied as nobody history acl/db/password
expect_fail 4 permission_denied as nobody history acl/missing
expect_eq "$(as nobody get acl/db/password 2>&1 >/dev/null)" "$(as nobody get acl/db/missing 2>&1 >/dev/null)" "same message for existing and missing"
describe "a reader with access is told not_found for a missing value"
expect_fail 5 not_found as reader get acl/db/missing

describe "discover: list and history, but not values"
expect_exit 0 as disco --json ls acl -r
expect_json '[.entries[].path | join("/")] | join(" ")' "acl/db acl/db/deep acl/db/deep/key acl/db/password"
expect_exit 0 as disco --json history acl/db/password
expect_json '.versions[0].version' 1
expect_fail 4 permission_denied as disco get acl/db/password
expect_fail 4 permission_denied as disco ls other
expect_fail 5 not_found as disco ls acl/missing

describe "write: put, rm under the grant only, and no read from write alone"
expect_exit 0 run_in "w1" as writer put acl/db/newkey
expect_fail 4 permission_denied as writer get acl/db/newkey
expect_fail 4 permission_denied run_in "w" as writer put acl/other
expect_fail 4 permission_denied run_in "w" as writer put other/y
expect_exit 0 as writer rm acl/db/newkey
expect_fail 4 permission_denied as writer ls acl/db

describe "additive: discover from one group plus write from another"
expect_exit 0 run_in "b1" as both put acl/db/bothkey
expect_exit 0 as both ls acl/db
expect_out_contains bothkey
expect_fail 4 permission_denied as both get acl/db/bothkey

describe "a grant deep down gives nothing above it"
expect_exit 0 as deeper get acl/db/deep/key;	expect_out_exact k
expect_exit 0 as deeper ls acl/db/deep
expect_fail 4 permission_denied as deeper get acl/db/password
expect_fail 4 permission_denied as deeper ls acl/db

describe "manage: acl get/set at or below, nothing above, no values"
expect_exit 0 as manager --json acl get acl/db/deep
expect_json '[.grants[] | "\(.path|join("/")):\(.group):\(.permissions|join(","))"] | join(" ")' \
	":admins:discover,read,write,manage acl:discoverers:discover acl:managers:manage acl:readers:read acl/db:dbwriters:write acl/db/deep:deep:discover,read"
expect_json '[.grants[] | select(.path|join("/")=="acl") | .inherited] | all' true
expect_exit 0 as manager acl set acl/db/deep readers -
expect_exit 0 as manager --json acl get acl/db/deep
expect_json '[.grants[] | select(.path|join("/")=="acl/db/deep") | .group] | join(",")' "deep"
expect_fail 4 permission_denied as manager acl get other
expect_fail 4 permission_denied as manager acl set other readers read
expect_fail 4 permission_denied as manager get acl/db/password
expect_fail 4 permission_denied as reader acl set acl readers read,write

describe "a grant change takes effect at once: removing readers' grant denies the next get"
expect_exit 0 secret acl set acl readers -
expect_fail 4 permission_denied as reader get acl/db/password
expect_exit 0 secret acl set acl readers read
expect_exit 0 as reader get acl/db/password

describe "membership change takes effect at once"
expect_exit 0 secret group remove readers reader
expect_fail 4 permission_denied as reader get acl/db/password
expect_exit 0 secret group add readers reader
expect_exit 0 as reader get acl/db/password

describe "global permissions: group_manage, principal_manage"
expect_exit 0 as gadmin group create newgroup
expect_fail 4 permission_denied as gadmin principal list
expect_fail 4 permission_denied as reader group create g2
expect_fail 4 permission_denied as reader group list
expect_fail 4 permission_denied as auditor principal create x --key "$K_nobody.pub"

describe "global grants: only what the caller holds, no escalation"
expect_fail 4 permission_denied as gadmin acl set --global newgroup audit
expect_fail 4 permission_denied as gadmin acl set --global grpadmins group_manage,principal_manage
expect_exit 0 as gadmin acl set --global newgroup group_manage
expect_fail 4 permission_denied as nobody acl set --global newgroup -
expect_fail 4 permission_denied as auditor acl set --global auditors audit,enrol
expect_exit 0 secret --json acl get --global
expect_json '[.grants[] | "\(.group):\(.permissions|join(","))"] | join(" ")' \
	"admins:group_manage,principal_manage,enrol,audit auditors:audit grpadmins:group_manage newgroup:group_manage"

describe "whoami reports groups and global permissions"
expect_exit 0 as gadmin --json whoami
expect_json '.global | join(",")' group_manage
expect_exit 0 as both --json whoami
expect_json '.groups | join(",")' "dbwriters,discoverers"

describe "denials are audited as denied with the error code"
row=$(sql "SELECT DISTINCT result, error_code FROM audit_log WHERE principal = 'nobody' AND action = 'secret.get' AND path = '{acl,db,missing}'")
expect_eq "$row" "denied|permission_denied" "denied get of a missing path"
row=$(sql "SELECT count(*) FROM audit_log WHERE principal = 'gadmin' AND action = 'principal.list' AND result = 'denied'")
expect_eq "$row" 1 "denied global action"

done_testing

#!/bin/bash
# t_82_envnames.sh - a secret's name never becomes a loader, shell or
# interpreter variable (issue 21 case 6).  Whoever may write below a
# fetched prefix once created ld_preload, path, bash_env and node_options
# there, and `fetch --env-file` / `exec --prefix` turned them into
# LD_PRELOAD=, PATH=, ... for what runs as root at boot.  Now: the whole
# fetch fails naming the secret and the variable, and nothing is written
# (the env file is not created or left as it was; exec's command does not
# run).  An explicit `exec --env LD_PRELOAD=PATH` still works (the host
# chose the name), and --env-prefix P puts every made name under P.
#
# Everything lives below envn-R/ (R random: the file can run again on the
# same environment), with its own group and host principal.
. "$(dirname "$0")/lib.sh"
test_init

R=$(printf '%04x' $RANDOM)
P=envn-$R
G=envn-$R
HN=envn-host-$R
HK=$(new_key "$HN") || die "ssh-keygen"
expect_exit 0 secret group create "$G" || die "cannot continue"
expect_exit 0 secret principal create "$HN" --key "$HK.pub" --group "$G" || die "cannot continue"
expect_exit 0 secret acl set "$P" "$G" read,discover || die "cannot continue"

# The host that fetches.
F() { SECRET_IDENTITY=$HK secret "$@"; }
put() { printf '%s' "$2" | secret put "$1" >/dev/null || die "put $1"; }

# show FILE: source an env file with sh and print the variables asked
cat >"$T/show.sh" <<'EOF'
set -a
. "$1"
shift
for v in "$@"; do eval "printf '%s|' \"\${$v-unset}\""; done
EOF

put "$P/good/db/password" 'hunter2'
put "$P/good/path-info" '/x'
put "$P/good/homepage" 'https://example.org/'

describe "names near the deny-list still work: PATH_INFO, HOMEPAGE"
expect_exit 0 F fetch "$P/good" --env-file "$T/good.env"
expect_eq "$(cut -d= -f1 "$T/good.env" | tr '\n' ' ')" "DB_PASSWORD HOMEPAGE PATH_INFO " "names"
run env -i PATH=/usr/bin:/bin sh "$T/show.sh" "$T/good.env" DB_PASSWORD PATH_INFO HOMEPAGE
expect_out_exact 'hunter2|/x|https://example.org/|'

# The names of the report, each in a prefix of its own beside a normal
# secret, and two that only become LD_PRELOAD once joined and cleaned.
declare -A VAR=(
	[ld_preload]=LD_PRELOAD [path]=PATH [bash_env]=BASH_ENV [node_options]=NODE_OPTIONS
	[ld/preload]=LD_PRELOAD [LD-Preload]=LD_PRELOAD
)
declare -A PAT=(
	[LD_PRELOAD]='LD_*' [PATH]=PATH [BASH_ENV]='BASH_*' [NODE_OPTIONS]='NODE_*'
)
i=0
for name in ld_preload path bash_env node_options ld/preload LD-Preload; do
	i=$((i + 1))
	pre=$P/evil$i
	v=${VAR[$name]}
	put "$pre/db/password" 'hunter2'
	put "$pre/$name" "$T/evil.so"

	describe "fetch --env-file: $pre/$name would be $v: refused, no env file made"
	expect_fail 1 bad_request F fetch "$pre" --env-file "$T/evil$i.env"
	expect_err_contains "$pre/$name would be the variable $v, which is never set from a secret's name (${PAT[$v]}: "
	expect_err_contains "; nothing written"
	expect_true test ! -e "$T/evil$i.env"
	expect_eq "$(ls -A "$T" | grep -c "^\.evil$i\.env\.tmp-")" 0 "no temporary left"

	describe "fetch --env-file: $pre/$name: an existing env file is left as it was"
	cp "$T/good.env" "$T/evil$i.env"
	expect_fail 1 bad_request F fetch "$pre" --env-file "$T/evil$i.env"
	expect_true cmp -s "$T/good.env" "$T/evil$i.env"

	describe "exec --prefix: $pre/$name would be $v: refused, CMD not run"
	rm -f "$T/ran"
	expect_fail 1 bad_request F exec --prefix "$pre" -- touch "$T/ran"
	expect_err_contains "$pre/$name would be the variable $v, which is never set from a secret's name (${PAT[$v]}: "
	expect_err_contains "--env VAR=PATH names one; not run"
	expect_true test ! -e "$T/ran"
done

describe "the whole message, once"
expect_fail 1 bad_request F fetch "$P/evil1" --env-file "$T/evil1.env"
expect_err "secret: bad_request: $P/evil1/ld_preload would be the variable LD_PRELOAD, which is never set from a secret's name (LD_*: the dynamic loader loads or runs the code it names); --env-prefix P puts every name under P; nothing written"

describe "a refused name among several prefixes fails the whole fetch"
expect_fail 1 bad_request F fetch "$P/good" "$P/evil2" --env-file "$T/two.env"
expect_err_contains "$P/evil2/path would be the variable PATH"
expect_true test ! -e "$T/two.env"

describe "exec --env LD_PRELOAD=PATH: an explicit name is the host's choice and works"
put "$P/explicit/preload" 'libc.so.6'
run F exec --env LD_PRELOAD="$P/explicit/preload" -- /bin/sh -c 'printf %s "$LD_PRELOAD"'
expect_rc 0
expect_out_exact 'libc.so.6'
run F exec --env LD_PRELOAD="$P/explicit/preload" --prefix "$P/good" -- /bin/sh -c 'printf "%s|%s" "$LD_PRELOAD" "$DB_PASSWORD"'
expect_rc 0
expect_out_exact 'libc.so.6|hunter2'

describe "fetch --env-file --env-prefix APP_: every name under APP_"
expect_exit 0 F fetch "$P/evil1" --env-file "$T/app.env" --env-prefix APP_
expect_eq "$(cut -d= -f1 "$T/app.env" | tr '\n' ' ')" "APP_DB_PASSWORD APP_LD_PRELOAD " "names"
run env -i PATH=/usr/bin:/bin sh "$T/show.sh" "$T/app.env" APP_DB_PASSWORD APP_LD_PRELOAD LD_PRELOAD
expect_out_exact "hunter2|$T/evil.so|unset|"
expect_exit 0 F fetch "$P/evil3" --env-file "$T/app2.env" --env-prefix app_
expect_eq "$(cut -d= -f1 "$T/app2.env" | tr '\n' ' ')" "app_BASH_ENV app_DB_PASSWORD " "a lower-case prefix, kept as given"

describe "exec --prefix --env-prefix APP_: every made name under APP_, PATH untouched"
run F exec --prefix "$P/evil2" --env-prefix APP_ -- /bin/sh -c 'printf "%s|%s|%s" "$APP_PATH" "$APP_DB_PASSWORD" "$PATH"'
expect_rc 0
expect_out_exact "$T/evil.so|hunter2|$PATH"
run F exec --prefix "$P/evil4" --env-prefix APP_ -- /bin/sh -c 'printf "%s|%s" "$APP_NODE_OPTIONS" "${NODE_OPTIONS-unset}"'
expect_out_exact "$T/evil.so|unset"

describe "a prefixed name is still checked: --env-prefix PAT with the secret h is PATH"
put "$P/short/h" 'x'
expect_fail 1 bad_request F fetch "$P/short" --env-file "$T/pat.env" --env-prefix PAT
expect_err_contains "$P/short/h would be the variable PATH, which is never set"
expect_true test ! -e "$T/pat.env"
rm -f "$T/ran"
expect_fail 1 bad_request F exec --prefix "$P/short" --env-prefix PAT -- touch "$T/ran"
expect_err_contains "$P/short/h would be the variable PATH"
expect_true test ! -e "$T/ran"

describe "--env-prefix that the deny-list covers, or that is no name start: usage error, nothing fetched"
for bad in LD_ ld_ PYTHON NODE_ LC_; do
	expect_exit 2 F fetch "$P/good" --env-file "$T/u.env" --env-prefix "$bad"
	expect_err_contains "--env-prefix \"$bad\": every name under it is on the deny-list"
	expect_exit 2 F exec --prefix "$P/good" --env-prefix "$bad" -- touch "$T/ran"
done
expect_exit 2 F fetch "$P/good" --env-file "$T/u.env" --env-prefix ''
expect_err_contains "option --env-prefix needs a non-empty argument"
for bad in 1APP_ APP- 'A=B' 'é'; do
	expect_exit 2 F fetch "$P/good" --env-file "$T/u.env" --env-prefix "$bad"
	expect_err_contains "is not the start of a variable name"
	expect_exit 2 F exec --prefix "$P/good" --env-prefix "$bad" -- touch "$T/ran"
done
expect_true test ! -e "$T/u.env"
expect_true test ! -e "$T/ran"

describe "--env-prefix goes with --env-file (fetch) and --prefix (exec)"
expect_exit 2 F fetch "$P/good" --dest "$T/d" --env-prefix APP_
expect_err_contains "--env-prefix goes with --env-file"
expect_exit 2 F exec --env X="$P/good/db/password" --env-prefix APP_ -- true
expect_err_contains "--env-prefix goes with --prefix"
expect_true test ! -e "$T/d"

done_testing

#!/bin/bash
# t_40_input.sh - hostile and malformed input, through sshd + secret-shell
# and straight at secretd's socket: each bad line gets the right error
# code, the connection stays usable where framing allows, and the daemon
# keeps serving everyone else.
. "$(dirname "$0")/lib.sh"
test_init

SOCK=$RUNDIR/secretd.sock
SOCKPY=$SD_LIB_DIR/sock.py
code_of() { jq -r 'if .ok then "ok" else .error.code end' <"$OUT_FILE" | tr '\n' ' '; }
raw() { run_in "$1" "$SOCKPY" "$SOCK" --hello "$W/admin.pub"; }
pid_before=$(cat "$W/secretd.pid")

expect_exit 0 run_in "v" secret put input/ok

describe "malformed lines get bad_request and the next line is still served"
req=$'garbage\n{"action":\n[1,2]\n"str"\n{"id":1,"action":"secret.get","path":["input","ok"]}'
raw "$req"$'\n'; expect_rc 0
expect_eq "$(code_of)" "ok bad_request bad_request bad_request bad_request ok " "codes in order"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .value)" v "served after garbage"

describe "duplicate keys, trailing data and unknown actions are bad_request"
req=$'{"action":"whoami","action":"whoami"}\n{"action":"whoami"} x\n{"action":"nope"}\n{"id":[1],"action":"whoami"}\n{}'
raw "$req"$'\n'; expect_rc 0
expect_eq "$(code_of)" "ok bad_request bad_request bad_request bad_request bad_request " "codes"

describe "wrong field types are bad_request with the field named"
req='{"action":"secret.get","path":"input/ok"}
{"action":"secret.get","path":["input",1]}
{"action":"secret.get","path":["input","ok"],"version":"1"}
{"action":"secret.get","path":["input","ok"],"version":0}
{"action":"secret.get","path":["input","ok"],"version":1.5}
{"action":"secret.put","path":["input","ok"],"value":5}
{"action":"secret.put","path":["input","ok"],"value":"a","value_base64":"YQ=="}
{"action":"secret.put","path":["input","ok"],"value_base64":"!!!"}
{"action":"secret.put","path":["input","ok"],"value":"a","cas":-1}
{"action":"secret.list","path":["input"],"recursive":"yes"}
{"action":"acl.set","path":["input"],"group":"admins","permissions":"read"}
{"action":"acl.set","path":["input"],"group":"admins","permissions":["fly"]}
{"action":"group.create","group":"A B"}'
raw "$req"$'\n'; expect_rc 0
expect_eq "$(code_of)" "ok bad_request bad_request bad_request bad_request bad_request bad_request bad_request bad_request bad_request bad_request bad_request bad_request bad_request " "codes"
expect_eq "$(sed -n 2p "$OUT_FILE" | jq -r .error.message | grep -c path)" 1 "message names the field"

describe "bad paths: . .. empty, NUL, C0/C1 control characters, 256-byte names, 33 levels"
long=$(printf 'x%.0s' $(seq 256))
p32=$(printf '"l",%.0s' $(seq 31))'"l"'
p33=$(printf '"l",%.0s' $(seq 32))'"l"'
req='{"action":"secret.get","path":["input","."]}
{"action":"secret.get","path":["input",".."]}
{"action":"secret.get","path":["input",""]}
{"action":"secret.get","path":["input","a\u0000b"]}
{"action":"secret.get","path":["input","a\u0001b"]}
{"action":"secret.get","path":["input","a\u007fb"]}
{"action":"secret.get","path":["input","a\u0085b"]}
{"action":"secret.get","path":["input","'"$long"'"]}
{"action":"secret.put","path":['"$p33"'],"value":"x"}
{"action":"secret.put","path":['"$p32"'],"value":"deep"}
{"action":"secret.get","path":['"$p32"']}'
raw "$req"$'\n'; expect_rc 0
expect_eq "$(code_of)" "ok bad_request bad_request bad_request bad_request bad_request bad_request bad_request bad_request bad_request ok ok " "codes"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .value)" deep "a 32-level path works"
expect_eq "$(sed -n 10p "$OUT_FILE" | jq -r .error.message)" "path deeper than 32 levels" "33 levels refused"

describe "a raw NUL byte in a line is bad_request; the connection goes on"
printf '{"action":"whoami","x":"a\0b"}\n{"action":"whoami"}\n' >"$T/nul"
expect_exit 0 run_in_file "$T/nul" "$SOCKPY" "$SOCK" --hello "$W/admin.pub"
expect_eq "$(code_of)" "ok bad_request ok " "codes"

describe "an oversized line (over 1 MiB) is too_large and skipped; the next is served"
{ printf '{"action":"secret.put","path":["input","big"],"value":"'; head -c 1100000 /dev/zero | tr '\0' a; printf '"}\n{"action":"whoami"}\n'; } >"$T/big"
expect_exit 0 run_in_file "$T/big" "$SOCKPY" "$SOCK" --hello "$W/admin.pub"
expect_eq "$(code_of)" "ok too_large ok " "codes (direct)"
run_in_file "$T/big" plain_ssh "$W/admin" json
expect_rc 0
expect_eq "$(code_of)" "too_large ok " "codes (through sshd)"

describe "a value over 64 KiB is too_large; exactly 64 KiB is accepted"
head -c 65537 /dev/urandom >"$T/v65537"
head -c 65536 /dev/urandom >"$T/v65536"
expect_fail 1 too_large secret put input/big -f "$T/v65537"
expect_exit 0 secret put input/big -f "$T/v65536"
expect_exit 0 secret get input/big
expect_out_file "$T/v65536"

describe "the client rejects bad paths before sending anything"
expect_fail 1 bad_request secret get 'input/../x'
expect_fail 1 bad_request secret get "input/$(printf 'a\tb')"
expect_fail 1 bad_request secret get "$(printf 'a/%.0s' $(seq 33))a"

describe "plain ssh: bad verbs and paths are refused without a shell"
run plain_ssh "$W/admin" 'get input/ok; id'
expect_rc 2
run plain_ssh "$W/admin" frobnicate
expect_rc 2
run plain_ssh "$W/admin" get 'input/$(id)'
expect_rc 5
run plain_ssh "$W/admin" get ../etc
expect_rc 2

describe "a client may not send hello itself through secret-shell"
run_in '{"id":7,"action":"hello","key":"ssh-ed25519 AAAA","client":"1.2.3.4 1 5.6.7.8 22"}
{"id":8,"action":"whoami"}
' plain_ssh "$W/admin" json
expect_eq "$(code_of)" "bad_request ok " "hello refused, session kept"
expect_eq "$(tail -n 1 "$OUT_FILE" | jq -r .principal)" admin "identity unchanged"

describe "the daemon served all of it without restarting"
expect_eq "$(cat "$W/secretd.pid")" "$pid_before" "same secretd pid"
expect_true kill -0 "$pid_before"
expect_exit 0 secret get input/ok
expect_out_exact v

done_testing

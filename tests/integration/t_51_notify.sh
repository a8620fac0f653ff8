#!/bin/bash
# t_51_notify.sh - readiness for systemd (contrib/secretd.service is
# Type=notify): secretd sends READY=1 on $NOTIFY_SOCKET once its socket
# listens, and STOPPING=1 when SIGTERM starts the drain.
. "$(dirname "$0")/lib.sh"
test_init

ALT_PID= RECV_PID=
# Both background processes end with the test, however it ends (the
# pids are checked: either may have ended, and its pid be another's).
cleanup() {
	bg_kill TERM "$ALT_PID"
	bg_kill TERM "$RECV_PID"
	return 0
}
at_exit cleanup

NSOCK=$T/notify.sock
ALT=$RUNDIR/notify-alt.sock
sed -e "s|^socket = .*|socket = $ALT|" "$W/secretd.conf" >"$T/alt.conf"

# A datagram socket standing in for systemd's: each message it receives
# becomes one line of $T/notify.log, with whether secretd's socket
# existed at that moment.
python3 - "$NSOCK" "$ALT" "$T/notify.log" <<'PY' &
import os, socket, sys
path, sock, log = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
open(path + ".up", "w").close()
s.settimeout(60)
with open(log, "w") as f:
    for _ in range(2):
        msg = s.recv(4096).decode()
        there = "socket" if os.path.exists(sock) else "nosocket"
        f.write(msg.replace("\n", " ") + " [" + there + "]\n")
        f.flush()
PY
RECV_PID=$!
bg_note "$RECV_PID"
for _ in $(seq 100); do [ -e "$NSOCK.up" ] && break; sleep 0.05; done
[ -e "$NSOCK.up" ] || die "notify receiver did not start"

NOTIFY_SOCKET=$NSOCK "$BIN/secretd" -c "$T/alt.conf" serve 2>"$T/alt.log" &
ALT_PID=$!
bg_note "$ALT_PID"
for _ in $(seq 200); do grep -q READY "$T/notify.log" 2>/dev/null && break; sleep 0.05; done

describe "READY=1 once the socket listens"
expect_contains "$(cat "$T/notify.log" 2>/dev/null)" "READY=1"
expect_contains "$(grep READY "$T/notify.log" 2>/dev/null)" "[socket]" \
	"the socket exists when READY=1 is sent"

describe "a client is served right after READY=1"
run_in $'{"action":"whoami"}\n' "$SD_LIB_DIR/sock.py" "$ALT" --hello "$W/admin.pub"
expect_rc 0
expect_contains "$OUT" '"ok":true'

describe "STOPPING=1 on SIGTERM"
kill -TERM "$ALT_PID"
wait "$ALT_PID"
expect_eq "$?" 0 "secretd exit status"
ALT_PID=
wait "$RECV_PID"
RECV_PID=
expect_contains "$(sed -n 2p "$T/notify.log")" "STOPPING=1"

describe "exactly the two messages, READY=1 first"
expect_eq "$(wc -l <"$T/notify.log")" 2 "messages received"
expect_contains "$(sed -n 1p "$T/notify.log")" "READY=1"
expect_true test ! -e "$ALT"

done_testing

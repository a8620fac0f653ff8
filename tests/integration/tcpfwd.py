#!/usr/bin/env python3
"""tcpfwd.py - a tiny TCP forwarder for the bootstrap tests (t_80).

  tcpfwd.py [--delay SECONDS] [--source ADDR] LISTEN_PORT TARGET_PORT

Listens on 127.0.0.1:LISTEN_PORT (after --delay seconds, to play a
server that comes up late: `secret --wait`) and relays every connection
to 127.0.0.1:TARGET_PORT, connecting from ADDR (default 127.0.0.1), so
that sshd, and secretd behind it, see that client address: another
127.x.y.z gives a test its own address for CIDR checks and its own rate
limit bucket.  Runs until killed, and says in its log which signal ended
it and who sent it (a forwarder that ends while its test still needs it
is a failure of that test: lib.sh, helper_check).
"""
import os, signal, socket, sys, threading, time

ENDING = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

def await_end():
    info = signal.sigwaitinfo(ENDING)
    try:
        with open("/proc/%d/cmdline" % info.si_pid, "rb") as f:
            who = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        who = "?"
    print("ended by signal %d from pid %d (%s)" % (info.si_signo, info.si_pid, who),
          flush=True)
    os._exit(128 + info.si_signo)

def pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
        try:
            s.shutdown(how)
        except OSError:
            pass

def serve(conn, target, source):
    try:
        up = socket.create_connection(("127.0.0.1", target), timeout=10,
                                      source_address=(source, 0))
        up.settimeout(None)
    except OSError:
        conn.close()
        return
    t = threading.Thread(target=pump, args=(up, conn), daemon=True)
    t.start()
    pump(conn, up)
    t.join()
    conn.close()
    up.close()

def main():
    args = sys.argv[1:]
    delay, source = 0.0, "127.0.0.1"
    while args and args[0].startswith("--"):
        a = args.pop(0)
        if a == "--delay":
            delay = float(args.pop(0))
        elif a == "--source":
            source = args.pop(0)
        else:
            sys.exit("unknown option " + a)
    if len(args) != 2:
        sys.exit(__doc__)
    listen, target = int(args[0]), int(args[1])
    # Every thread inherits the mask: the ending signals go to await_end.
    signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    threading.Thread(target=await_end, daemon=True).start()
    time.sleep(delay)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen))
    ls.listen(64)
    print("listening", flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, target, source),
                         daemon=True).start()

if __name__ == "__main__":
    main()

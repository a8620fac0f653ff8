#!/usr/bin/env python3
"""sock.py - a raw client of secretd's Unix socket, for protocol tests.

  sock.py SOCKET [--as UID:GID] [--hello PUBKEYFILE] [--client STR]
          [--idle SECONDS] < lines

Sends `hello` (when --hello is given) and then each line of stdin as it
comes, byte for byte, and prints each response line as it arrives (so a
test can feed a FIFO and act between requests).  Exits 0 when the
daemon answered every line, 3 when it closed the connection early (and
prints "CLOSED" on stderr), so a test can tell an answer from a hang-up.
--as drops to that uid:gid before connecting (to play a foreign peer);
--idle waits that long after the last line before reading on.
"""
import json, os, socket, sys, time

def main():
    args = sys.argv[1:]
    path = args.pop(0)
    hello = client = None
    as_ids = None
    idle = 0.0
    while args:
        a = args.pop(0)
        if a == "--hello": hello = args.pop(0)
        elif a == "--client": client = args.pop(0)
        elif a == "--as": as_ids = [int(x) for x in args.pop(0).split(":")]
        elif a == "--idle": idle = float(args.pop(0))
        else: sys.exit("unknown option " + a)
    if as_ids:
        os.setgroups([])
        os.setgid(as_ids[1])
        os.setuid(as_ids[0])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    f = s.makefile("rb")
    lines = []
    if hello:
        key = open(hello).read().split()
        lines.append(json.dumps({"action": "hello", "key": key[0] + " " + key[1],
                                 "client": client or "192.0.2.7 40000 127.0.0.1 22"}).encode() + b"\n")
    def all_lines():
        yield from lines
        while True:
            l = sys.stdin.buffer.readline()
            if not l.endswith(b"\n"):
                return
            yield l
    for l in all_lines():
        try:
            s.sendall(l)
        except OSError:
            # the daemon may have answered and closed before reading
            try:
                r = f.readline()
            except OSError:
                r = b""
            sys.stdout.buffer.write(r)
            print("CLOSED", file=sys.stderr); sys.exit(3)
        try:
            r = f.readline()
        except (socket.timeout, OSError):
            r = b""
        if not r:
            print("CLOSED", file=sys.stderr); sys.exit(3)
        sys.stdout.buffer.write(r); sys.stdout.flush()
    if idle:
        time.sleep(idle)
        try:
            r = f.readline()
        except OSError:
            r = b""
        if not r:
            print("CLOSED", file=sys.stderr); sys.exit(3)
        sys.stdout.buffer.write(r)
    sys.exit(0)

main()

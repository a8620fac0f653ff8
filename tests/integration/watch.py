#!/usr/bin/env python3
"""watch.py - a raw watcher on secretd's Unix socket, for t_83_watch.sh.

  watch.py SOCKET --hello PUBKEYFILE [--count N] WATCHJSON < lines

Sends hello, then the secret.watch request WATCHJSON, then each line of
stdin as it comes; prints every line the daemon sends (answers and
events), flushed as it arrives.  Exits 3 (printing CLOSED on stderr)
when the daemon closes the connection, 0 when stdin ends.

With --count N it opens N such sessions instead and prints one line,
"ready N", once each has its answer to the watch; then holds them all
until stdin ends (for measuring idle watchers).
"""
import json, os, socket, sys, threading

def session(path, hello, watch):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    key = open(hello).read().split()
    s.sendall(json.dumps({"action": "hello", "key": key[0] + " " + key[1],
                          "client": "192.0.2.7 40000 127.0.0.1 22"}).encode() + b"\n")
    s.sendall(watch.encode() + b"\n")
    return s

def main():
    args = sys.argv[1:]
    path = args.pop(0)
    hello = None
    count = 0
    while args and args[0].startswith("--"):
        a = args.pop(0)
        if a == "--hello": hello = args.pop(0)
        elif a == "--count": count = int(args.pop(0))
        else: sys.exit("unknown option " + a)
    watch = args.pop(0)
    if count:
        socks = []
        for _ in range(count):
            s = session(path, hello, watch)
            f = s.makefile("rb")
            f.readline(); f.readline()	# hello, watch
            socks.append((s, f))
        print("ready", len(socks), flush=True)
        sys.stdin.read()
        sys.exit(0)
    s = session(path, hello, watch)
    def send():
        for l in sys.stdin.buffer:
            try:
                s.sendall(l)
            except OSError:
                return
        os._exit(0)
    threading.Thread(target=send, daemon=True).start()
    f = s.makefile("rb")
    while True:
        l = f.readline()
        if not l:
            print("CLOSED", file=sys.stderr, flush=True)
            os._exit(3)
        sys.stdout.buffer.write(l)
        sys.stdout.flush()

main()

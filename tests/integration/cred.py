#!/usr/bin/env python3
"""cred.py - ask for a credential as systemd's LoadCredential= does.

  cred.py SOCKET UNIT ID [--as UID:GID] [--raw NAME]

Binds an abstract address "\\0<random>/unit/UNIT/ID" (--raw NAME: exactly
"\\0NAME"), connects to SOCKET, prints what it reads until end of stream.
"""
import os, socket, sys

def main():
    args = sys.argv[1:]
    path, unit, cid = args[:3]
    rest = args[3:]
    raw = None
    while rest:
        a = rest.pop(0)
        if a == "--as":
            uid, gid = [int(x) for x in rest.pop(0).split(":")]
            os.setgroups([]); os.setgid(gid); os.setuid(uid)
        elif a == "--raw":
            raw = rest.pop(0)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    name = raw if raw is not None else "%s/unit/%s/%s" % (os.urandom(8).hex(), unit, cid)
    s.bind(b"\0" + name.encode())
    s.settimeout(60)
    s.connect(path)
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    sys.stdout.buffer.write(out)

main()

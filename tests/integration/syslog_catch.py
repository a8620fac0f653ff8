#!/usr/bin/env python3
"""syslog_catch.py SOCKET OUTFILE - receive syslog datagrams on a Unix
socket and append each to OUTFILE, one per line, until killed.  For tests
of audit_syslog on machines without a syslog daemon."""
import os, socket, sys

path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "ab", buffering=0) as f:
    while True:
        data = s.recv(65536)
        f.write(data.rstrip(b"\n\0") + b"\n")

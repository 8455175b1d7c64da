#!/usr/bin/env python3
"""A few packets of each kind between two namespaces, bounded and self-ending.

Usage: traffic.py server ADDR PORT | traffic.py client ADDR PORT
UDP: one datagram each way. TCP: one connection carrying 'hello' and 'bye', then closed.
"""
import socket
import sys

role, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
if role == "server":
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(1)
    u.settimeout(5)
    t.settimeout(5)
    data, peer = u.recvfrom(100)
    u.sendto(b"pong " + data, peer)
    c, _ = t.accept()
    c.settimeout(5)
    c.recv(100)
    c.sendall(b"bye")
    c.close()
else:
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.settimeout(5)
    u.sendto(b"ping", (addr, port))
    u.recvfrom(100)
    t = socket.create_connection((addr, port), timeout=5)
    t.sendall(b"hello")
    t.recv(100)
    t.close()

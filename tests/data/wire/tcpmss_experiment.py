#!/usr/bin/env python3
"""Kernel experiment: the TCPMSS target's checksum update when the MSS option is not at an
even offset. Same three namespaces as defrag_experiment.py (sender, router, receiver); the
router has `-t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1200`.
Two SYNs with MSS 1460 are sent: options `MSS` (value at TCP offset 22) and `NOP MSS NOP NOP
NOP` (value at offset 23). Prints each forwarded IPv4 packet in hex and whether its TCP
checksum verifies. Usage (root): tcpmss_experiment.py > tcpmss_kernel.txt
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import defrag_experiment as E
E.A, E.R, E.B = (f"fwb-wire-mss-{os.getpid()}-{n}" for n in ("a", "r", "b"))
A, R, B = E.A, E.R, E.B

def tcp_syn(opts):
    src, dst = socket.inet_aton("10.1.0.2"), socket.inet_aton("10.2.0.2")
    doff = (20 + len(opts)) // 4
    t = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, doff << 4, 2, 65535, 0, 0) + opts
    c = E.csum(src + dst + struct.pack("!xBH", 6, len(t)) + t)
    t = t[:16] + struct.pack("!H", c) + t[18:]
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(t), 7, 0x4000, 64, 6, 0, src, dst)
    h = h[:10] + struct.pack("!H", E.csum(h)) + h[12:]
    return h + t

E.teardown()
try:
    E.setup()
    E.sh(R, "iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1200")
    rmac, amac = E.mac(R, "r0"), E.mac(A, "a0")
    rd, wr = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            E.enter(B)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)); s.bind(("b0", 0)); s.settimeout(1.0)
            w = os.fdopen(wr, "wb")
            try:
                while True:
                    f, a = s.recvfrom(65535)
                    if a[2] != socket.PACKET_OUTGOING and f[12:14] == b"\x08\x00" and f[14+9] == 6:
                        w.write(struct.pack("!I", len(f)) + f); w.flush()
            except socket.timeout:
                pass
        finally:
            os._exit(0)
    os.close(wr)
    E.enter(A)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("a0", 0)); time.sleep(0.3)
    for opts in (bytes([2, 4, 5, 0xb4]), bytes([1, 2, 4, 5, 0xb4, 1, 1, 1])):
        s.send(rmac + amac + b"\x08\x00" + tcp_syn(opts)); time.sleep(0.05)
    os.waitpid(child, 0)
    data = os.fdopen(rd, "rb").read()
    while data:
        (n,) = struct.unpack("!I", data[:4]); f = data[4:4+n]; data = data[4+n:]
        p = f[14:]; t = p[20:]
        ok = E.csum(p[12:20] + struct.pack("!xBH", 6, len(t)) + t) == 0
        print(p.hex(), "good" if ok else "bad")
finally:
    E.teardown()

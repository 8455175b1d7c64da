#!/usr/bin/env python3
"""Kernel experiment: what nf_defrag does with fragments before conntrack, and how the
forwarded datagram is fragmented again.

Topology (three throwaway namespaces, deleted at the end, also on failure):
    A (sender, a0) <--veth--> (r0) R, forwarding, conntrack on (r1) <--veth--> (b0) B (receiver)
R has one rule, `-A FORWARD -m conntrack --ctstate ... -j ACCEPT`, so conntrack and with it
nf_defrag_ipv4/ipv6 are active there. A sends hand-made Ethernet frames with an AF_PACKET
socket (so A's own stack never touches the fragments); B reads what arrives with an AF_PACKET
socket. Each case sends fragments of one datagram (unique IP id) and prints what B got:
one line per frame, `id off_bytes mf df ttl len payload-hex` (IPv6: `id off m hlim len`).

Usage: defrag_experiment.py > expected.txt   (root; needs ip, iptables, ip6tables)
The output is checked in as tests/data/wire/defrag_kernel.txt and tests/wire_defrag.rs
replays the same cases through fwbench::wire::defrag + refrag and compares.
"""

import ctypes
import os
import socket
import struct
import subprocess
import sys
import time

PID = os.getpid()
A, R, B = (f"fwb-wire-{PID}-{n}" for n in ("a", "r", "b"))


def sh(ns, cmd):
    full = ["ip", "netns", "exec", ns, "sh", "-c", cmd] if ns else ["sh", "-c", cmd]
    subprocess.run(full, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def out(ns, cmd):
    return subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", cmd], check=True,
                          stdout=subprocess.PIPE).stdout.decode()


def enter(ns):
    """Moves this process into a namespace (os.setns is Python 3.12+ only)."""
    fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), f"setns {ns}")
    os.close(fd)


def mac(ns, dev):
    return bytes.fromhex(out(ns, f"cat /sys/class/net/{dev}/address").strip().replace(":", ""))


def setup():
    for ns in (A, R, B):
        sh(None, f"ip netns add {ns}")
    sh(None, f"ip link add a0 netns {A} type veth peer name r0 netns {R}")
    sh(None, f"ip link add r1 netns {R} type veth peer name b0 netns {B}")
    for ns in (A, R, B):
        sh(ns, "ip link set lo up; sysctl -qw net.ipv6.conf.all.disable_ipv6=0")
    sh(A, "ip addr add 10.1.0.2/24 dev a0; ip -6 addr add fd01::2/64 dev a0 nodad; ip link set a0 up")
    sh(R, "ip addr add 10.1.0.1/24 dev r0; ip addr add 10.2.0.1/24 dev r1;"
          "ip -6 addr add fd01::1/64 dev r0 nodad; ip -6 addr add fd02::1/64 dev r1 nodad;"
          "ip link set r0 up; ip link set r1 up;"
          "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1")
    sh(B, "ip addr add 10.2.0.2/24 dev b0; ip -6 addr add fd02::2/64 dev b0 nodad; ip link set b0 up")
    for ns, dev in ((A, "a0"), (R, "r0"), (R, "r1"), (B, "b0")):
        sh(ns, f"ethtool -K {dev} tx off rx off >/dev/null 2>&1 || true")
    bmac = ":".join(f"{b:02x}" for b in mac(B, "b0"))
    sh(R, f"ip neigh replace 10.2.0.2 lladdr {bmac} dev r1 nud permanent;"
          f"ip -6 neigh replace fd02::2 lladdr {bmac} dev r1 nud permanent")
    rule = "-A FORWARD -m conntrack --ctstate NEW,ESTABLISHED,RELATED,INVALID -j ACCEPT"
    sh(R, f"iptables {rule}; ip6tables {rule}")


def teardown():
    for ns in (A, R, B):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def v4_frag(ident, off, mf, data, df=False, tos=0, opts=b""):
    flags = (0x2000 if mf else 0) | (0x4000 if df else 0) | (off // 8)
    hl = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, tos, hl + len(data), ident, flags, 64, 17,
                    0, socket.inet_aton("10.1.0.2"), socket.inet_aton("10.2.0.2")) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + data


def v6_frag(ident, off, mf, data):
    fh = struct.pack("!BBHI", 17, 0, off | (1 if mf else 0), ident)
    h = struct.pack("!IHBB16s16s", 0x60000000, len(fh) + len(data), 44, 64,
                    socket.inet_pton(socket.AF_INET6, "fd01::2"),
                    socket.inet_pton(socket.AF_INET6, "fd02::2"))
    return h + fh + data


def udp_datagram(v6, n, sport):
    """A UDP datagram sport -> 9 with n payload bytes 0,1,2..., checksum right."""
    payload = bytes(i & 0xFF for i in range(n))
    u = struct.pack("!HHHH", sport, 9, 8 + n, 0) + payload
    if v6:
        ph = (socket.inet_pton(socket.AF_INET6, "fd01::2") + socket.inet_pton(socket.AF_INET6, "fd02::2")
              + struct.pack("!I3xB", len(u), 17))
    else:
        ph = socket.inet_aton("10.1.0.2") + socket.inet_aton("10.2.0.2") + struct.pack("!xBH", 17, len(u))
    c = csum(ph + u) or 0xFFFF
    return u[:6] + struct.pack("!H", c) + u[8:]


# Each case: name, family, datagram payload size, list of (offset, length, more[, extra])
# pieces in sending order; a piece's bytes are taken from the datagram, except pieces whose
# `more` is a string: "X" carries 0xee bytes (conflicting data for overlaps) with MF set,
# "XL" the same without MF, "L" real bytes without MF. `extra` sets IPv4 TOS / options.
# Unknown IPv4 options: 0x9e (copied flag set) and 0x1e (not copied), 4 bytes each; the
# kernel ignores unknown options on received packets.
OPTS = bytes([0x9E, 4, 0, 0, 0x1E, 4, 0, 0])
CASES = [
    ("in-order", 4, 48, [(0, 24, 1), (24, 16, 1), (40, 16, 0)]),
    ("reversed", 4, 48, [(40, 16, 0), (24, 16, 1), (0, 24, 1)]),
    ("uneven-sizes", 4, 120, [(0, 16, 1), (16, 96, 1), (112, 16, 0)]),
    ("exact-duplicate", 4, 48, [(0, 24, 1), (0, 24, 1), (24, 16, 1), (40, 16, 0)]),
    ("inside-a-run", 4, 48, [(0, 24, 1), (24, 16, 1), (8, 24, "X"), (40, 16, 0)]),
    ("partial-overlap-then-resend", 4, 48,
     [(0, 24, 1), (16, 24, "X"), (40, 16, 0), (24, 16, 1), (0, 24, 1)]),
    ("overlap-with-last", 4, 48, [(40, 16, 0), (32, 24, "XL"), (0, 24, 1), (24, 16, 1)]),
    ("two-different-lasts", 4, 48, [(40, 16, 0), (0, 24, 1), (24, 8, "L"), (24, 16, 1)]),
    ("partial-overlap-no-resend", 4, 48, [(0, 24, 1), (16, 24, "X"), (40, 16, 0), (24, 16, 1)]),
    ("overlap-across-a-gap", 4, 48, [(0, 16, 1), (24, 16, 1), (8, 24, "X"), (16, 8, 1), (40, 16, 0)]),
    ("unaligned-middle", 4, 48, [(0, 20, 1), (16, 24, 1), (40, 16, 0)]),
    ("ecn-ce-with-ect0", 4, 48, [(0, 24, 1, {"tos": 0x02}), (24, 16, 1, {"tos": 0x03}), (40, 16, 0, {"tos": 0x02})]),
    ("ecn-not-ect-with-ect0", 4, 48, [(0, 24, 1, {"tos": 0x00}), (24, 16, 1, {"tos": 0x02}), (40, 16, 0)]),
    ("options", 4, 48, [(0, 24, 1, {"opts": OPTS}), (24, 16, 1, {"opts": OPTS}), (40, 16, 0)]),
    ("df-on-every-fragment", 4, 48, [(0, 24, 1, {"df": True}), (24, 16, 1, {"df": True}), (40, 16, 0, {"df": True})]),
    ("v6-in-order", 6, 48, [(0, 24, 1), (24, 16, 1), (40, 16, 0)]),
    ("v6-partial-overlap-then-resend", 6, 48,
     [(0, 24, 1), (16, 24, "X"), (40, 16, 0), (24, 16, 1), (0, 24, 1)]),
    ("v6-inside-a-run", 6, 48, [(0, 24, 1), (24, 16, 1), (8, 24, "X"), (40, 16, 0)]),
    ("v6-partial-overlap-no-resend", 6, 48, [(0, 24, 1), (16, 24, "X"), (40, 16, 0), (24, 16, 1)]),
    ("v6-two-different-lasts", 6, 48, [(40, 16, 0), (0, 24, 1), (24, 8, "L"), (24, 16, 1)]),
    ("v6-uneven-sizes", 6, 120, [(0, 16, 1), (16, 96, 1), (112, 16, 0)]),
    ("v6-unaligned-middle", 6, 48, [(0, 20, 1), (16, 24, 1), (40, 16, 0)]),
    ("v6-unaligned-then-resend", 6, 48, [(0, 20, 1), (0, 24, 1), (24, 16, 1), (40, 16, 0)]),
]


def pieces(case, ident):
    name, fam, n, plan = case
    # The source port names the case, for IPv6 whose refragmented datagrams get a new id.
    dgram = udp_datagram(fam == 6, n, 40000 + ident - 0x4a00)
    frames = []
    for off, ln, more, *extra in plan:
        extra = extra[0] if extra else {}
        if isinstance(more, str):
            data = b"\xee" * ln
            mf = "L" not in more
        else:
            data = dgram[off:off + ln]
            mf = bool(more)
        frames.append(v4_frag(ident, off, mf, data, **extra) if fam == 4 else v6_frag(ident, off, mf, data))
    return frames


def main():
    teardown()
    try:
        setup()
        rmac, amac = mac(R, "r0"), mac(A, "a0")
        # The receiver socket lives in B; open it by entering B's namespace in a child.
        rd, wr = os.pipe()
        child = os.fork()
        if child == 0:
            try:
                os.close(rd)
                enter(B)
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
                s.bind(("b0", 0))
                s.settimeout(1.5)
                w = os.fdopen(wr, "wb")
                try:
                    while True:
                        frame, addr = s.recvfrom(65535)
                        if addr[2] == socket.PACKET_OUTGOING:
                            continue
                        w.write(struct.pack("!I", len(frame)) + frame)
                        w.flush()
                except socket.timeout:
                    pass
            finally:
                os._exit(0)
        os.close(wr)
        enter(A)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind(("a0", 0))
        time.sleep(0.3)
        for i, case in enumerate(CASES):
            ident = 0x4a00 + i
            for f in pieces(case, ident):
                et = b"\x08\x00" if case[1] == 4 else b"\x86\xdd"
                s.send(rmac + amac + et + f)
                time.sleep(0.02)
            time.sleep(0.1)
        os.waitpid(child, 0)
        data = os.fdopen(rd, "rb").read()
        frames = []
        while data:
            (ln,) = struct.unpack("!I", data[:4])
            frames.append(data[4:4 + ln])
            data = data[4 + ln:]
        by_id = {}
        v6_case = {}
        for fr in frames:
            et = fr[12:14]
            p = fr[14:]
            if et == b"\x08\x00":
                ident = struct.unpack("!H", p[4:6])[0]
                w = struct.unpack("!H", p[6:8])[0]
                hl = (p[0] & 15) * 4
                tl = struct.unpack("!H", p[2:4])[0]
                line = (f"off={(w & 0x1fff) * 8} mf={int(bool(w & 0x2000))} df={int(bool(w & 0x4000))} "
                        f"tos={p[1]:#04x} ttl={p[8]} len={tl} opts={p[20:hl].hex() or '-'} "
                        f"data={p[hl:tl].hex()}")
            elif et == b"\x86\xdd":
                plen = struct.unpack("!H", p[4:6])[0]
                if p[6] == 44:
                    w = struct.unpack("!H", p[42:44])[0]
                    ident = struct.unpack("!I", p[44:48])[0]
                    line = (f"off={w & 0xfff8} m={w & 1} hlim={p[7]} "
                            f"len={40 + plen} data={p[48:40 + plen].hex()}")
                    if w & 0xfff8 == 0:
                        v6_case[ident] = 0x4a00 + struct.unpack("!H", p[48:50])[0] - 40000
                else:
                    ident = None
                    line = f"unfragmented nh={p[6]} hlim={p[7]} len={40 + plen} data={p[40:40 + plen].hex()}"
                if ident is None:
                    ident = "v6-unfragmented"
                else:
                    # Refragmented with a new id: remember it, attribute it by source port.
                    line = ("new-id " if not 0x4a00 <= ident < 0x4a00 + len(CASES) else "") + line
                    ident = ("v6", ident)
            else:
                continue
            by_id.setdefault(ident, []).append(line)
        for key in [k for k in by_id if isinstance(k, tuple)]:
            lines = by_id.pop(key)
            case = v6_case.get(key[1])
            by_id.setdefault(case if case is not None else "v6-unattributed", []).extend(lines)
        by_id.pop("v6-unfragmented", None)  # neighbour discovery and MLD of the namespaces
        for i, (name, *_rest) in enumerate(CASES):
            print(f"case {name}")
            for line in by_id.pop(0x4a00 + i, []):
                print(f"  {line}")
        for k, lines in by_id.items():
            print(f"other {k}")
            for line in lines:
                print(f"  {line}")
    finally:
        teardown()


if __name__ == "__main__":
    sys.exit(main())

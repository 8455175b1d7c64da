#!/usr/bin/env python3
"""Byte-level variants that no capture tool writes, made from tool-written files.

  craft.py swap-pcap IN OUT      classic pcap rewritten big-endian (every header field swapped)
  craft.py ng-exotic IN OUT      pcapng built from the packets of a classic Ethernet pcap:
      section 1, big-endian: IDB "res2p20" with if_tsresol 2^-20 and if_tsoffset -3600 s,
        an unknown block type, EPBs on it, one obsolete Packet Block (type 2), and a Simple
        Packet Block (its interface 0);
      section 2, little-endian: IDB "ms" with if_tsresol 10^-3 and if_tsoffset +86400 s and
        IDB "ns" with if_tsresol 10^-9, a custom block (0x00000BAD), EPBs alternating between
        them, an Interface Statistics Block.
The expected values for every file come from tshark, never from this script.
"""
import struct
import sys


def read_pcap(path):
    b = open(path, "rb").read()
    magic = struct.unpack("<I", b[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), hex(magic)
    nano = magic == 0xA1B23C4D
    link = struct.unpack("<I", b[20:24])[0]
    pkts, p = [], 24
    while p + 16 <= len(b):
        s, f, cap, orig = struct.unpack("<IIII", b[p : p + 16])
        ns = s * 10**9 + (f if nano else f * 1000)
        pkts.append((ns, b[p + 16 : p + 16 + cap], orig))
        p += 16 + cap
    return b, link, pkts


def swap_pcap(src, dst):
    b, link, _ = read_pcap(src)
    out = bytearray()
    h = struct.unpack("<IHHiIII", b[:24])
    out += struct.pack(">IHHiIII", *h)
    p = 24
    while p + 16 <= len(b):
        s, f, cap, orig = struct.unpack("<IIII", b[p : p + 16])
        out += struct.pack(">IIII", s, f, cap, orig) + b[p + 16 : p + 16 + cap]
        p += 16 + cap
    open(dst, "wb").write(out)


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def opt(e, code, val):
    return struct.pack(e + "HH", code, len(val)) + pad4(val)


def block(e, btype, body):
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def shb(e):
    body = struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    body += opt(e, 4, b"craft.py") + struct.pack(e + "HH", 0, 0)
    return block(e, 0x0A0D0D0A, body)


def idb(e, link, name, tsresol, tsoffset):
    body = struct.pack(e + "HHI", link, 0, 262144)
    body += opt(e, 2, name.encode())
    body += opt(e, 9, bytes([tsresol]))
    if tsoffset is not None:
        body += opt(e, 14, struct.pack(e + "q", tsoffset))
    body += struct.pack(e + "HH", 0, 0)
    return block(e, 1, body)


def ticks(ns, tsresol, tsoffset):
    ns -= (tsoffset or 0) * 10**9
    if tsresol & 0x80:
        return ns * (1 << (tsresol & 0x7F)) // 10**9
    return ns * 10 ** (tsresol) // 10**9


def epb(e, iface, t, data, orig, obsolete=False):
    if obsolete:
        head = struct.pack(e + "HHIIII", iface, 0, t >> 32, t & 0xFFFFFFFF, len(data), orig)
        return block(e, 2, head + pad4(data))
    head = struct.pack(e + "IIIII", iface, t >> 32, t & 0xFFFFFFFF, len(data), orig)
    return block(e, 6, head + pad4(data))


def ng_exotic(src, dst):
    _, link, pkts = read_pcap(src)
    out = bytearray()
    e = ">"
    res, off = 0x80 | 20, -3600
    out += shb(e) + idb(e, link, "res2p20", res, off)
    out += block(e, 0x12345678, b"unknown!")
    half = len(pkts) // 2
    for i, (ns, data, orig) in enumerate(pkts[:half]):
        out += epb(e, 0, ticks(ns, res, off), data, orig, obsolete=(i == 1))
    out += block(e, 3, struct.pack(e + "I", len(pkts[0][1])) + pad4(pkts[0][1]))
    e = "<"
    out += shb(e) + idb(e, link, "ms", 3, 86400) + idb(e, link, "ns", 9, None)
    out += block(e, 0x00000BAD, struct.pack(e + "I", 32473) + b"custom!!")
    for i, (ns, data, orig) in enumerate(pkts[half:]):
        iface = i % 2
        t = ticks(ns, 3, 86400) if iface == 0 else ticks(ns, 9, None)
        out += epb(e, iface, t, data, orig)
    isb = struct.pack(e + "III", 1, 0, 0) + struct.pack(e + "HH", 0, 0)
    out += block(e, 5, isb)
    open(dst, "wb").write(out)


if __name__ == "__main__":
    {"swap-pcap": swap_pcap, "ng-exotic": ng_exotic}[sys.argv[1]](sys.argv[2], sys.argv[3])

#!/usr/bin/env python3
"""Sends VLAN-tagged copies of IP packets out of an interface through a packet socket
(this kernel has no 8021q module, so VLAN devices cannot make them).

Usage: tagged.py IFACE PCAP   (PCAP: a classic Ethernet capture; its first two IPv4 and first
two IPv6 frames are re-sent once with an 802.1Q tag, VID 100, and once with QinQ: 802.1ad VID 200 outside,
802.1Q VID 300 PCP 5 inside)
"""
import socket
import struct
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0] or ".")
from craft import read_pcap

iface, src = sys.argv[1], sys.argv[2]
_, _, pkts = read_pcap(src)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
v4 = [p[1] for p in pkts if p[1][12:14] == b"\x08\x00"][:2]
v6 = [p[1] for p in pkts if p[1][12:14] == b"\x86\xdd"][:2]
for frame in v4 + v6:
    macs, ethertype, rest = frame[:12], frame[12:14], frame[14:]
    s.send(macs + struct.pack(">HH", 0x8100, 100) + ethertype + rest)
    s.send(macs + struct.pack(">HHHH", 0x88A8, 200, 0x8100, (5 << 13) | 300) + ethertype + rest)

#!/usr/bin/env bash
# Remakes the capture fixtures in this folder (run as root; needs ip, tcpdump, dumpcap,
# editcap, text2pcap, python3, ping from iputils-ping). Traffic runs between two throwaway network namespaces joined
# by a veth pair; nothing touches the root namespace. Every file's expected content comes
# from tshark at test time, so remaking them needs no test change.
#
#   eth.pcap            tcpdump -i veth0 (Ethernet, µs, little-endian): IPv4/IPv6 ping, UDP,
#                       TCP, and frames with an 802.1Q tag (VID 100) and with QinQ (802.1ad
#                       200 + 802.1Q 300) that tagged.py sends through a packet socket (the
#                       kernel here has no 8021q module for VLAN devices)
#   eth_ns.pcap         editcap -F nsecpcap eth.pcap
#   eth.pcapng          editcap -F pcapng eth.pcap
#   eth_mod.pcap        editcap -F modpcap eth.pcap (Kuznetzov's modified pcap)
#   eth_snap60.pcapng   editcap -F pcapng -s 60 eth.pcap (captured length < original)
#   eth_be.pcap         craft.py swap-pcap eth.pcap (big-endian; no tool writes one here)
#   eth_ns_be.pcap      craft.py swap-pcap eth_ns.pcap (big-endian, nanoseconds)
#   sll.pcap            tcpdump -i any -y LINUX_SLL
#   sll2.pcap           tcpdump -i any -y LINUX_SLL2
#   multi.pcapng        dumpcap -i veth0 -i lo (two interfaces, names in if_name)
#   sections.pcapng     cat multi.pcapng eth.pcapng (two sections)
#   raw.pcap, raw4.pcapng, raw6.pcapng
#                       editcap -C 14 -T rawip|rawip4|rawip6 (Ethernet header cut off;
#                       raw4/raw6 keep only their family, selected with tshark first)
#   null.pcap, loop.pcapng
#                       text2pcap -l 0 / -l 108 from the IP packets with a 4-byte family
#                       header in front (little-endian for NULL, big-endian for LOOP)
#   exotic.pcapng       craft.py ng-exotic eth.pcap (see craft.py: both byte orders,
#                       if_tsresol 2^-20 and 10^-3, if_tsoffset, SPB, obsolete PB,
#                       unknown/custom/statistics blocks)
set -euo pipefail
cd "$(dirname "$0")"
A=fwb-capture-1
B=fwb-capture-2
tmp=$(mktemp -d)
cleanup() {
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add veth0 type veth peer name veth0 netns "$B"
for ns in "$A" "$B"; do
    n=1; [ "$ns" = "$B" ] && n=2
    ip -n "$ns" link set lo up
    ip -n "$ns" link set veth0 up
    ip -n "$ns" addr add 10.0.0.$n/24 dev veth0
    ip -n "$ns" addr add fd00::$n/64 dev veth0 nodad
done

x() { ip netns exec "$A" "$@"; }
capture() { # name, then tcpdump/dumpcap arguments
    local out=$1; shift
    # ip netns exec execs the tool, so $! is the tool itself.
    ip netns exec "$A" "$@" -w "$tmp/$out" >/dev/null 2>&1 &
    echo $! > "$tmp/pid"
    sleep 1.5
}
traffic() {
    for dst in 10.0.0.2 fd00::2 127.0.0.1; do
        x ping -c 1 -W 2 "$dst" >/dev/null
    done
    for dst in 10.0.0.2 fd00::2; do
        ip netns exec "$B" timeout 10 python3 traffic.py server "$dst" 40000 &
        sleep 0.5
        x timeout 10 python3 traffic.py client "$dst" 40000
        wait $!
    done
    if [ -s "$tmp/plain.pcap" ]; then x python3 tagged.py veth0 "$tmp/plain.pcap"; fi
    # dumpcap hands packets over in blocks about once a second; give it time to write them.
    sleep 2
}
# SIGTERM: background jobs of a script ignore SIGINT; both tools flush and exit on TERM.
stop() { kill -TERM "$(cat "$tmp/pid")"; wait "$(cat "$tmp/pid")" 2>/dev/null || true; }

capture plain.pcap tcpdump -i veth0 --immediate-mode -U -c 200 'not arp and not icmp6[0] >= 133'
traffic; stop
capture eth.pcap tcpdump -i veth0 --immediate-mode -U -c 200 'not arp and not icmp6[0] >= 133'
traffic; stop
capture sll.pcap tcpdump -i any -y LINUX_SLL --immediate-mode -U -c 200 'not arp and not icmp6[0] >= 133'
traffic; stop
capture sll2.pcap tcpdump -i any -y LINUX_SLL2 --immediate-mode -U -c 200 'not arp and not icmp6[0] >= 133'
traffic; stop
capture multi.pcapng dumpcap -q -i veth0 -i lo -c 200 -f 'not arp and not icmp6'
traffic; stop

cp "$tmp"/eth.pcap "$tmp"/sll.pcap "$tmp"/sll2.pcap "$tmp"/multi.pcapng .
editcap -F nsecpcap eth.pcap eth_ns.pcap
editcap -F pcapng eth.pcap eth.pcapng
editcap -F modpcap eth.pcap eth_mod.pcap
editcap -F pcapng -s 60 eth.pcap eth_snap60.pcapng
python3 craft.py swap-pcap eth.pcap eth_be.pcap
python3 craft.py swap-pcap eth_ns.pcap eth_ns_be.pcap
cat multi.pcapng eth.pcapng > sections.pcapng
# Raw IP: untagged frames only, so that cutting 14 bytes leaves the IP header.
tshark -r eth.pcap -Y 'not vlan' -w "$tmp/untagged.pcap" -F pcap
tshark -r eth.pcap -Y 'ip and not vlan' -w "$tmp/v4.pcap" -F pcap
tshark -r eth.pcap -Y 'ipv6 and not vlan' -w "$tmp/v6.pcap" -F pcap
editcap -F pcap -C 14 -T rawip "$tmp/untagged.pcap" raw.pcap
editcap -F pcapng -C 14 -T rawip4 "$tmp/v4.pcap" raw4.pcapng
editcap -F pcapng -C 14 -T rawip6 "$tmp/v6.pcap" raw6.pcapng
# BSD loopback: text2pcap reads "offset bytes" lines; one packet per offset-0 line.
python3 - "$tmp/untagged.pcap" "$tmp/null.txt" "$tmp/loop.txt" <<'PY'
import struct, sys
sys.path.insert(0, ".")
from craft import read_pcap
_, _, pkts = read_pcap(sys.argv[1])
with open(sys.argv[2], "w") as n, open(sys.argv[3], "w") as l:
    for ns, data, _ in pkts:
        ip = data[14:]
        fam = 2 if ip[0] >> 4 == 4 else 24
        t = "%d.%09d" % (ns // 10**9, ns % 10**9)
        for f, head in ((n, struct.pack("<I", fam)), (l, struct.pack(">I", 28 if fam == 24 else 2))):
            body = head + ip
            f.write(t + "\n")
            for i in range(0, len(body), 16):
                f.write("%06x %s\n" % (i, " ".join("%02x" % c for c in body[i:i + 16])))
PY
text2pcap -q -F pcap -l 0 -t '%s.%f' "$tmp/null.txt" null.pcap
text2pcap -q -F pcapng -l 108 -t '%s.%f' "$tmp/loop.txt" loop.pcapng
python3 craft.py ng-exotic eth.pcap exotic.pcapng
ls -l *.pcap *.pcapng

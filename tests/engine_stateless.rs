//! Truth test of the stateless evaluator: the same crafted IPv4 packets go through the real
//! kernel's filter INPUT chain (in a throwaway pair of network namespaces joined by a veth)
//! and through `engine::walk` with `StatelessPacket`; every rule counter and the INPUT
//! policy counter must agree, packets and bytes.
//!
//! The ruleset uses no conntrack-backed match, so the kernel keeps no state that the
//! stateless model would miss. Packets are injected from the peer namespace with an
//! AF_PACKET socket, so the kernel receives exactly the bytes fwbench evaluates, Ethernet
//! header included (broadcast, multicast and spoofed source MACs for pkttype and mac).

mod common;
mod engine_support;

use common::{kernel_available, skip, Netns};
use engine_support::{compare_counters, icmp, mac_of, send_frames, tcp, udp};
use fwbench::engine::{supported, walk, Counts, LinkHeader, StatelessPacket};
use fwbench::host::{AddressSpec, HostBuilder, Sysctls};
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::TableKind;
use fwbench::wire::ip;

const RULES: &str = "\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:TCPCHK - [0:0]
:UDPCHK - [0:0]
:LATE - [0:0]
:EXTRA - [0:0]
-A INPUT
-A INPUT -j EXTRA
-A INPUT -i lo -j ACCEPT
-A INPUT -i other0 -j DROP
-A INPUT -i d+
-A INPUT ! -i d0 -j DROP
-A INPUT ! -s 10.9.0.0/24 -j DROP
-A INPUT -m addrtype --dst-type LOCAL -m comment --comment local
-A INPUT -m ttl --ttl-lt 10 -j MARK --set-xmark 0x10/0xf0
-A INPUT -m mark --mark 0x10/0xf0 -m comment --comment lowttl
-A INPUT -m length --length 0:28 -j MARK --set-xmark 0x1/0x1
-A INPUT -s 10.9.0.200/29 -j REJECT
-A INPUT -p tcp -j TCPCHK
-A INPUT -p udp -g UDPCHK
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 3/1 -j DROP
-A INPUT -m mark --mark 0x1/0x1 -j ACCEPT
-A INPUT -m ttl --ttl-gt 100 -j LOG --log-prefix \"ttl \"
-A INPUT -p tcp -m multiport --dports 22,80,8000:8100 -j ACCEPT
-A INPUT ! -p tcp -s 10.9.0.64/26
-A INPUT -d 10.9.0.1/32 -p tcp
-A FORWARD -d 10.9.1.0/24 -o d1 -m comment --comment out
-A FORWARD -d 10.9.1.2/32 -p udp -m udp --dport 53 -j ACCEPT
-A FORWARD ! -d 10.9.1.2/32 -j DROP
-A FORWARD -o d0 -j DROP
-A FORWARD -p tcp -m tcp --dport 80 -j ACCEPT
-A FORWARD -m length --length 100:65535 -j ACCEPT
-A TCPCHK -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j LATE
-A TCPCHK -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP
-A TCPCHK -p tcp -m tcp --dport 22 -j ACCEPT
-A TCPCHK -p tcp -m tcp ! --sport 1024:65535 -j DROP
-A TCPCHK -p tcp -m tcp --tcp-option 8
-A TCPCHK -m mark ! --mark 0x0 -j RETURN
-A TCPCHK -p tcp -m tcp --dport 9000:9999 -j ACCEPT
-A LATE -p tcp -m tcp --dport 443 -j ACCEPT
-A LATE -m length --length 100:1500 -j DROP
-A LATE -j RETURN
-A UDPCHK -p udp -m udp --dport 53 -j ACCEPT
-A UDPCHK -p udp -m multiport --sports 5000:5010,123 -j DROP
-A UDPCHK -p udp -m udp --sport 7 -j RETURN
-A UDPCHK -m ttl --ttl-eq 64
-A EXTRA -m iprange --src-range 10.9.0.2-10.9.0.5
-A EXTRA -m iprange ! --src-range 10.9.0.3-10.9.0.70
-A EXTRA -m iprange --dst-range 10.9.0.0-10.9.0.1
-A EXTRA -m iprange --src-range 10.9.0.4-10.9.0.9 ! --dst-range 10.9.0.1-10.9.0.1
-A EXTRA -m pkttype --pkt-type unicast
-A EXTRA -m pkttype --pkt-type broadcast
-A EXTRA -m pkttype --pkt-type multicast
-A EXTRA -m pkttype ! --pkt-type unicast
-A EXTRA -m mac --mac-source 02:00:00:00:00:aa
-A EXTRA -m mac ! --mac-source 02:00:00:00:00:aa
-A EXTRA -m tos --tos 0x10
-A EXTRA -m tos --tos 0x08/0x08
-A EXTRA -m tos ! --tos 0x00/0xfc
-A EXTRA -m dscp --dscp 0x2e
-A EXTRA -m dscp --dscp-class AF11
-A EXTRA -m dscp ! --dscp 0
-A EXTRA -m ecn --ecn-ip-ect 1
-A EXTRA -m ecn ! --ecn-ip-ect 0
-A EXTRA -p tcp -m ecn --ecn-tcp-ece
-A EXTRA -p tcp -m ecn --ecn-tcp-cwr ! --ecn-tcp-ece
-A EXTRA -p tcp -m ecn --ecn-ip-ect 3 --ecn-tcp-cwr
-A EXTRA -p tcp -m tcpmss --mss 1400:1500
-A EXTRA -p tcp -m tcpmss ! --mss 536
-A EXTRA -p tcp -m tcp --syn -m tcpmss --mss 0:100
-A EXTRA -p icmp -m icmp --icmp-type any
-A EXTRA -p icmp -m icmp ! --icmp-type echo-request
-A EXTRA -p icmp -m icmp --icmp-type destination-unreachable
-A EXTRA -p icmp -m icmp --icmp-type 3/3
-A EXTRA -p icmp -m icmp --icmp-type time-exceeded
-A EXTRA -p icmp -m icmp --icmp-type parameter-problem
-A EXTRA -p icmp -m icmp --icmp-type 5/1
-A EXTRA -p icmp -m icmp --icmp-type echo-reply
-A EXTRA -d 224.0.0.0/4 -j ACCEPT
-A EXTRA -m pkttype --pkt-type broadcast -j ACCEPT
-A EXTRA -m mac --mac-source 02:00:00:00:00:aa -j RETURN
COMMIT
";

/// RFC 1071 checksum over `data` (odd length padded with a zero byte).
fn checksum(data: &[u8], mut sum: u32) -> u16 {
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 packet from 10.9.0.`src` to 10.9.0.1 carrying `l4` (its checksum field filled in).
fn v4(src: u8, proto: u8, ttl: u8, l4: Vec<u8>) -> Vec<u8> {
    v4_to([10, 9, 0, 1], src, proto, ttl, l4)
}

/// An IPv4 packet from 10.9.0.`src` to `d` carrying `l4` (its checksum field filled in).
fn v4_to(d: [u8; 4], src: u8, proto: u8, ttl: u8, mut l4: Vec<u8>) -> Vec<u8> {
    let s = [10, 9, 0, src];
    let csum_at = match proto {
        6 => Some(16),
        17 => Some(6),
        1 => Some(2),
        _ => None,
    };
    if let Some(at) = csum_at {
        let sum = if proto == 1 {
            checksum(&l4, 0)
        } else {
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&s);
            pseudo.extend_from_slice(&d);
            pseudo.extend_from_slice(&[0, proto]);
            pseudo.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            pseudo.extend_from_slice(&l4);
            checksum(&pseudo, 0)
        };
        l4[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    }
    let total = (20 + l4.len()) as u16;
    let mut p = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, ttl, proto, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&s);
    p.extend_from_slice(&d);
    let sum = checksum(&p, 0);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&l4);
    p
}

/// `p` with its TOS byte set to `tos` and the header checksum redone.
fn with_tos(mut p: Vec<u8>, tos: u8) -> Vec<u8> {
    p[1] = tos;
    p[10..12].copy_from_slice(&[0, 0]);
    let sum = checksum(&p[..20], 0);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p
}

/// One Ethernet frame to send: `None` MACs mean d0's (destination) and p0's (source).
struct Frame {
    dst: Option<[u8; 6]>,
    src: Option<[u8; 6]>,
    ip: Vec<u8>,
}

const BCAST: [u8; 6] = [0xff; 6];
const MCAST: [u8; 6] = [0x01, 0, 0x5e, 0, 0, 1];
const SPOOF: [u8; 6] = [0x02, 0, 0, 0, 0, 0xaa];

/// Frames for the EXTRA chain: iprange, pkttype, mac, tos/dscp/ecn, tcpmss, ICMP types.
fn extra_frames() -> Vec<Frame> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const ECE: u8 = 0x40;
    const CWR: u8 = 0x80;
    let f = |ip| Frame {
        dst: None,
        src: None,
        ip,
    };
    let mss = |v: u16| {
        let b = v.to_be_bytes();
        [2u8, 4, b[0], b[1]]
    };
    vec![
        Frame {
            dst: Some(BCAST),
            src: None,
            ip: v4_to([10, 9, 0, 255], 2, 17, 64, udp(4000, 9999, 8)),
        },
        Frame {
            dst: Some(BCAST),
            src: Some(SPOOF),
            ip: v4(3, 1, 64, icmp(8, 0, 8)),
        },
        Frame {
            dst: Some(MCAST),
            src: None,
            ip: v4_to([224, 0, 0, 1], 4, 17, 1, udp(4000, 9999, 8)),
        },
        Frame {
            dst: None,
            src: Some(SPOOF),
            ip: v4(5, 6, 64, tcp(40000, 22, SYN, &mss(1460), 0)),
        },
        Frame {
            dst: None,
            src: Some(SPOOF),
            ip: v4(80, 17, 64, udp(4000, 53, 0)),
        },
        f(with_tos(v4(2, 17, 64, udp(4000, 54, 4)), 0x10)),
        f(with_tos(v4(3, 17, 64, udp(4000, 54, 4)), 0x08)),
        f(with_tos(v4(4, 17, 64, udp(4000, 54, 4)), 0xb8)),
        f(with_tos(v4(5, 17, 64, udp(4000, 54, 4)), 0x28)),
        f(with_tos(v4(6, 17, 64, udp(4000, 54, 4)), 0x01)),
        f(with_tos(v4(7, 17, 64, udp(4000, 54, 4)), 0x02)),
        f(with_tos(v4(8, 17, 64, udp(4000, 54, 4)), 0x03)),
        f(with_tos(
            v4(9, 6, 64, tcp(40000, 9100, SYN | ECE | CWR, &[], 0)),
            0x00,
        )),
        f(with_tos(
            v4(9, 6, 64, tcp(40000, 9100, ACK | ECE, &[], 0)),
            0x02,
        )),
        f(with_tos(
            v4(9, 6, 64, tcp(40000, 9100, ACK | CWR, &[], 0)),
            0x03,
        )),
        f(with_tos(
            v4(9, 6, 64, tcp(40000, 9100, ACK | CWR, &[], 0)),
            0x01,
        )),
        f(v4(2, 6, 64, tcp(40000, 9100, SYN, &mss(1460), 0))),
        f(v4(2, 6, 64, tcp(40000, 9100, SYN, &mss(536), 0))),
        f(v4(2, 6, 64, tcp(40000, 9100, SYN, &mss(50), 0))),
        f(v4(2, 6, 64, tcp(40000, 9100, ACK, &mss(50), 0))),
        f(v4(2, 6, 64, tcp(40000, 9100, SYN, &[1, 1, 2, 3, 5, 0], 0))),
        f(v4(
            2,
            6,
            64,
            tcp(
                40000,
                9100,
                SYN,
                &[1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 2, 4, 0x05, 0x78],
                0,
            ),
        )),
        f(v4(6, 1, 64, icmp(0, 0, 8))),
        f(v4(6, 1, 64, icmp(3, 0, 28))),
        f(v4(6, 1, 64, icmp(11, 1, 28))),
        f(v4(6, 1, 64, icmp(12, 0, 28))),
        f(v4(6, 1, 64, icmp(5, 1, 28))),
        f(v4(6, 1, 64, icmp(5, 0, 28))),
        f(v4(6, 1, 64, icmp(13, 0, 12))),
    ]
}

/// ~48 packets crossing every branch of [`RULES`] outside EXTRA (see [`extra_frames`]).
fn packets() -> Vec<Vec<u8>> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const FIN: u8 = 0x01;
    const PSH: u8 = 0x08;
    const RST: u8 = 0x04;
    let ts = [8u8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
    let mss = [2u8, 4, 5, 0xb4];
    vec![
        v4(2, 6, 64, tcp(40000, 22, SYN, &mss, 0)),
        v4(2, 6, 64, tcp(40000, 443, SYN, &[], 0)),
        v4(3, 6, 64, tcp(40001, 444, SYN, &[], 100)),
        v4(3, 6, 64, tcp(40001, 444, SYN, &ts, 0)),
        v4(4, 6, 64, tcp(40002, 80, 0, &[], 0)),
        v4(4, 6, 64, tcp(40002, 80, ACK, &[], 10)),
        v4(5, 6, 64, tcp(1000, 80, ACK, &[], 0)),
        v4(5, 6, 64, tcp(1000, 25, ACK | PSH, &[], 50)),
        v4(6, 6, 64, tcp(50000, 8050, ACK, &ts, 0)),
        v4(6, 6, 64, tcp(50000, 8101, ACK, &mss, 0)),
        v4(7, 6, 5, tcp(50000, 9500, ACK, &[], 0)),
        v4(7, 6, 5, tcp(50000, 9500, ACK, &[], 200)),
        v4(8, 6, 200, tcp(50000, 7000, FIN | ACK, &[], 0)),
        v4(8, 6, 200, tcp(50000, 22, RST, &[], 0)),
        v4(9, 6, 64, tcp(2000, 8000, SYN | ACK, &[], 0)),
        v4(70, 6, 64, tcp(3000, 3000, ACK, &[], 1)),
        v4(201, 6, 64, tcp(40000, 22, SYN, &[], 0)),
        v4(100, 6, 1, tcp(40000, 5555, ACK, &[], 30)),
        v4(2, 17, 64, udp(40000, 53, 20)),
        v4(2, 17, 64, udp(5005, 54, 20)),
        v4(2, 17, 64, udp(123, 54, 20)),
        v4(3, 17, 64, udp(7, 54, 0)),
        v4(3, 17, 64, udp(7, 54, 100)),
        v4(4, 17, 64, udp(8, 54, 100)),
        v4(4, 17, 63, udp(8, 54, 100)),
        v4(5, 17, 5, udp(8, 54, 0)),
        v4(70, 17, 64, udp(9, 9, 40)),
        v4(202, 17, 64, udp(9, 53, 40)),
        v4(2, 1, 64, icmp(8, 0, 56)),
        v4(2, 1, 64, icmp(0, 0, 56)),
        v4(3, 1, 64, icmp(3, 1, 28)),
        v4(3, 1, 64, icmp(3, 3, 28)),
        v4(4, 1, 3, icmp(8, 0, 0)),
        v4(70, 1, 64, icmp(13, 0, 12)),
        v4(71, 1, 150, icmp(11, 0, 28)),
        v4(2, 47, 64, vec![0; 24]),
        v4(72, 47, 64, vec![0; 80]),
        v4(9, 47, 250, vec![0; 4]),
        v4(10, 6, 64, tcp(1023, 9000, ACK, &[], 0)),
        v4(10, 6, 64, tcp(1024, 9000, ACK, &[], 0)),
        v4(11, 6, 64, tcp(60000, 9001, PSH | ACK, &[], 1400)),
        // Forwarded to the third namespace (FORWARD, out d1); TTL above 1 so it survives.
        v4_to([10, 9, 1, 2], 2, 17, 64, udp(4000, 53, 10)),
        v4_to([10, 9, 1, 2], 2, 17, 64, udp(4000, 54, 10)),
        v4_to([10, 9, 1, 2], 3, 17, 64, udp(4000, 54, 200)),
        v4_to([10, 9, 1, 2], 3, 6, 64, tcp(40000, 80, SYN, &[], 0)),
        v4_to([10, 9, 1, 2], 4, 6, 9, tcp(40000, 81, ACK, &[], 0)),
        v4_to([10, 9, 1, 3], 4, 6, 64, tcp(40000, 80, SYN, &[], 0)),
        v4_to([10, 9, 1, 2], 5, 1, 64, icmp(8, 0, 100)),
    ]
}

#[test]
fn stateless_walk_agrees_with_kernel_counters() {
    if let Err(why) = kernel_available().and_then(|()| common::root_with(&["ethtool", "python3"])) {
        return skip(&why);
    }
    let rs =
        parse_ruleset(RULES, "rules", ParseOptions::default()).unwrap_or_else(|d| panic!("{d}"));
    let table = rs.table(TableKind::Filter).expect("filter table");
    let input = table.chain_index("INPUT").expect("INPUT");
    for r in table.chains().iter().flat_map(|c| &c.rules) {
        supported(r).unwrap_or_else(|e| panic!("test ruleset uses {e}"));
    }

    // Both namespaces are deleted by Drop, also when an assertion below fails.
    let dev = Netns::new("eval");
    let peer = Netns::new("eval");
    let far = Netns::new("eval");
    dev.out(&format!(
        "set -e
         ip link set lo up
         ip link add d0 type veth peer name p0 netns {peer}
         ip addr add 10.9.0.1/24 brd + dev d0
         ip link set d0 up
         ip link add d1 type veth peer name p1 netns {far}
         ip addr add 10.9.1.1/24 dev d1
         ip link set d1 up
         sysctl -qw net.ipv4.ip_forward=1
         sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.d0.rp_filter=0
         sysctl -qw net.ipv6.conf.all.disable_ipv6=1
         ethtool -K d0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true",
        peer = peer.name,
        far = far.name
    ));
    far.out(
        "set -e
         ip link set lo up
         ip addr add 10.9.1.2/24 dev p1
         ip link set p1 up",
    );
    peer.out(
        "set -e
         ip link set lo up
         sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.p0.disable_ipv6=1
         ip addr add 10.9.0.2/24 dev p0
         ip link set p0 up
         ethtool -K p0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true",
    );
    let d0_mac = mac_of(&dev.out("cat /sys/class/net/d0/address"));
    let p0_mac = mac_of(&peer.out("cat /sys/class/net/p0/address"));
    let o = dev.sh("iptables-nft-restore", RULES);
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let mut pkts: Vec<Frame> = packets()
        .into_iter()
        .map(|ip| Frame {
            dst: None,
            src: None,
            ip,
        })
        .collect();
    pkts.extend(extra_frames());
    let links: Vec<LinkHeader> = pkts
        .iter()
        .map(|f| LinkHeader {
            dst: f.dst.unwrap_or(d0_mac),
            src: f.src.unwrap_or(p0_mac),
        })
        .collect();
    let frames: Vec<(LinkHeader, &[u8])> = links
        .iter()
        .zip(&pkts)
        .map(|(l, f)| (*l, &f.ip[..]))
        .collect();
    send_frames(&peer, "p0", 0x0800, &frames);
    let saved = dev.out("iptables-nft-save -c -t filter");

    // fwbench's side: the same bytes through the walk, in from d0, mark 0.
    let mut hb = HostBuilder::new(Sysctls::default());
    hb.add_interface("d0", None, None, true).expect("d0");
    hb.add_address(
        "d0",
        AddressSpec {
            local: "10.9.0.1".parse().expect("addr"),
            prefix_len: 24,
            broadcast: Some("10.9.0.255".parse().expect("brd")),
            scope: None,
            noprefixroute: false,
        },
    )
    .expect("address");
    let host = hb.build();
    let forward = table.chain_index("FORWARD").expect("FORWARD");
    let mut counts = Counts::new(table);
    for (f, link) in pkts.iter().zip(&links) {
        let p = &f.ip;
        let info = ip::parse(p).expect("crafted packet parses");
        // The route decides the hook: local 10.9.0.1, the subnet broadcast and the joined
        // all-hosts group 224.0.0.1 go to INPUT, 10.9.1.0/24 out of d1.
        let delivered = match info.dst {
            std::net::IpAddr::V4(a) => a.is_multicast() || a.octets()[3] == 255,
            std::net::IpAddr::V6(_) => false,
        };
        let (start, out) = if host.is_local(info.dst) || delivered {
            (input, None)
        } else {
            (forward, Some("d1"))
        };
        let mut sp = StatelessPacket::new(p, info, Some("d0"), out, 0, &host).with_link(*link);
        walk(table, start, &mut sp, &mut counts);
        assert!(sp.unsupported().is_none(), "{:?}", sp.unsupported());
    }

    let kernel = parse_ruleset(&saved, "kernel", ParseOptions::default())
        .unwrap_or_else(|d| panic!("{d}\n{saved}"));
    let ktable = kernel.table(TableKind::Filter).expect("kernel filter");
    let (agreed, problems) = compare_counters(table, &counts, ktable, &[input, forward]);
    // Guard against a vacuous pass: every forwarded packet reached FORWARD's first rule.
    assert_eq!(
        counts.rules[forward][0].packets, 7,
        "forwarded packets counted"
    );
    // Every rule of EXTRA (the newer matches) saw at least one packet.
    let extra = table.chain_index("EXTRA").expect("EXTRA");
    let idle: Vec<usize> = (0..counts.rules[extra].len())
        .filter(|&ri| counts.rules[extra][ri].packets == 0)
        .map(|ri| ri + 1)
        .collect();
    assert!(
        problems.is_empty() || idle.is_empty(),
        "{}",
        problems.join("\n")
    );
    assert!(idle.is_empty(), "EXTRA rules never hit: {idle:?}\n{saved}");
    eprintln!(
        "{} packets, {agreed} counters agree, {} differ",
        pkts.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}\n{saved}", problems.join("\n"));
}

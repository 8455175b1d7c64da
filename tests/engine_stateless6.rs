//! Truth test of the stateless evaluator for IPv6: crafted IPv6 frames go through the real
//! kernel's ip6tables-nft filter INPUT chain (in a throwaway pair of namespaces joined by a
//! veth) and through `engine::walk` with `StatelessPacket`; every rule counter and the INPUT
//! policy counter must agree, packets and bytes.
//!
//! The peer has IPv6 disabled and d0 has DAD off and a permanent neighbour entry for the
//! peer, so neither side's own NDP, MLD or router solicitations reach d0's INPUT: only the
//! frames sent with AF_PACKET are counted.

mod common;
mod engine_support;

use common::{kernel_available, skip, Netns};
use engine_support::{compare_counters, icmp, mac_of, send_frames, tcp, udp};
use fwbench::engine::{supported, walk, Counts, LinkHeader, StatelessPacket};
use fwbench::host::{HostBuilder, Sysctls};
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::{Family, TableKind};
use fwbench::wire::{ip, verify};
use std::net::Ipv6Addr;

const RULES: &str = "\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:ICMP6 - [0:0]
-A INPUT
-A INPUT -i lo -j ACCEPT
-A INPUT ! -s 2001:db8:9::/64 -m hl --hl-gt 200 -j DROP
-A INPUT -s 2001:db8:9::/120 -d 2001:db8:9::1/128
-A INPUT -m pkttype --pkt-type multicast
-A INPUT -m mac --mac-source 02:00:00:00:00:bb
-A INPUT -m iprange --src-range 2001:db8:9::2-2001:db8:9::5
-A INPUT -m iprange ! --dst-range 2001:db8:9::-2001:db8:9::ffff
-A INPUT -m tos --tos 0x10
-A INPUT -m dscp --dscp 0x2e
-A INPUT -m ecn --ecn-ip-ect 2
-A INPUT -p ipv6-icmp -j ICMP6
-A INPUT -s 2001:db8:8::/48 -j DROP
-A INPUT -m hl --hl-eq 1
-A INPUT -m hl --hl-lt 10 -j DROP
-A INPUT -d ff00::/8 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p tcp -m tcp --syn -m tcpmss --mss 1000:1500
-A INPUT -p tcp -m tcp --tcp-flags SYN,ACK ACK -m multiport --dports 80,443 -j ACCEPT
-A INPUT -p udp -m udp --dport 53 -j ACCEPT
-A INPUT -p udp -m udp ! --sport 1024:65535 -j DROP
-A INPUT -m length --length 0:100 -j ACCEPT
-A INPUT -m length --length 1000:65535
-A INPUT ! -p tcp -s 2001:db8:9::40/122
-A ICMP6 -p ipv6-icmp -m icmp6 --icmpv6-type 1/4 -j DROP
-A ICMP6 -p ipv6-icmp -m icmp6 --icmpv6-type destination-unreachable
-A ICMP6 -p ipv6-icmp -m icmp6 ! --icmpv6-type echo-reply
-A ICMP6 -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-solicitation -m hl --hl-eq 255 -j ACCEPT
-A ICMP6 -m hl ! --hl-eq 64 -j RETURN
-A ICMP6 -p ipv6-icmp -m icmp6 --icmpv6-type echo-request -j ACCEPT
-A ICMP6 -p ipv6-icmp -m icmp6 --icmpv6-type 3/1 -j DROP
-A ICMP6 -m length --length 0:80 -j ACCEPT
COMMIT
";

const D0: &str = "2001:db8:9::1";

/// An IPv6 packet from `src` to `dst` with next header `nh`, hop limit `hl`, traffic class
/// `tc`, carrying `l4`; checksums filled in by `wire::verify::recompute`.
fn v6(src: &str, dst: &str, nh: u8, hl: u8, tc: u8, l4: Vec<u8>) -> Vec<u8> {
    let s: Ipv6Addr = src.parse().expect("src");
    let d: Ipv6Addr = dst.parse().expect("dst");
    let mut p = vec![0x60 | (tc >> 4), tc << 4, 0, 0];
    p.extend_from_slice(&(l4.len() as u16).to_be_bytes());
    p.extend_from_slice(&[nh, hl]);
    p.extend_from_slice(&s.octets());
    p.extend_from_slice(&d.octets());
    p.extend_from_slice(&l4);
    verify::recompute(&mut p).expect("checksums");
    p
}

fn peer(n: u16) -> String {
    format!("2001:db8:9::{n:x}")
}

/// A neighbour solicitation for d0's address (no options).
fn ns() -> Vec<u8> {
    let mut i = vec![135, 0, 0, 0, 0, 0, 0, 0];
    let t: Ipv6Addr = D0.parse().expect("target");
    i.extend_from_slice(&t.octets());
    i
}

const MCAST: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];
const SPOOF: [u8; 6] = [0x02, 0, 0, 0, 0, 0xbb];

/// (destination MAC or d0's, source MAC or p0's, IPv6 packet).
type Frame = (Option<[u8; 6]>, Option<[u8; 6]>, Vec<u8>);

/// `l4` behind an 8-byte hop-by-hop header (one PadN option), next header `nh`.
fn hbh(nh: u8, l4: Vec<u8>) -> Vec<u8> {
    let mut h = vec![nh, 0, 1, 4, 0, 0, 0, 0];
    h.extend_from_slice(&l4);
    h
}

fn frames() -> Vec<Frame> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    let mss = [2u8, 4, 0x05, 0xa0];
    let u = |p| (None, None, p);
    vec![
        u(v6(&peer(2), D0, 6, 64, 0, tcp(40000, 22, SYN, &mss, 0))),
        u(v6(&peer(2), D0, 6, 64, 0, tcp(40000, 80, ACK, &[], 0))),
        u(v6(&peer(3), D0, 6, 64, 0, tcp(40000, 443, SYN, &mss, 0))),
        u(v6(
            &peer(3),
            D0,
            6,
            64,
            0,
            tcp(40000, 8080, SYN, &[2, 4, 0, 100], 0),
        )),
        u(v6(
            &peer(4),
            D0,
            6,
            64,
            0x10,
            tcp(40000, 8080, ACK, &[], 1200),
        )),
        u(v6(
            &peer(0x41),
            D0,
            6,
            64,
            0xb8,
            tcp(40000, 8080, ACK, &[], 10),
        )),
        u(v6(&peer(0x41), D0, 17, 64, 0x02, udp(4000, 53, 10))),
        u(v6(&peer(0x42), D0, 17, 64, 0, udp(500, 54, 10))),
        u(v6(&peer(0x42), D0, 17, 64, 0, udp(5000, 54, 10))),
        u(v6(&peer(0x42), D0, 17, 64, 0, udp(5000, 54, 1000))),
        u(v6(&peer(0x200), D0, 17, 64, 0, udp(5000, 54, 200))),
        u(v6(&peer(0x200), D0, 17, 1, 0, udp(5000, 54, 20))),
        u(v6(&peer(0x200), D0, 17, 5, 0, udp(5000, 54, 20))),
        u(v6("2001:db8:8::5", D0, 17, 64, 0, udp(5000, 54, 20))),
        u(v6("2001:db8:8::5", D0, 17, 250, 0, udp(5000, 54, 20))),
        u(v6(
            "2001:db8:7::5",
            D0,
            6,
            64,
            0,
            tcp(40000, 22, SYN, &[], 0),
        )),
        u(v6(&peer(2), D0, 58, 64, 0, icmp(128, 0, 16))),
        u(v6(&peer(5), D0, 0, 64, 0, hbh(17, udp(4000, 53, 4)))),
        u(v6(&peer(0x43), D0, 0, 64, 0, hbh(58, icmp(128, 0, 4)))),
        u(v6(
            &peer(0x43),
            D0,
            0,
            64,
            0,
            hbh(6, tcp(4000, 443, ACK, &[], 0)),
        )),
        u(v6(&peer(2), D0, 58, 64, 0, icmp(129, 0, 16))),
        u(v6(&peer(3), D0, 58, 64, 0, icmp(1, 4, 48))),
        u(v6(&peer(3), D0, 58, 64, 0, icmp(1, 3, 48))),
        u(v6(&peer(3), D0, 58, 64, 0, icmp(3, 1, 48))),
        u(v6(&peer(3), D0, 58, 64, 0, icmp(3, 0, 48))),
        u(v6(&peer(0x50), D0, 58, 255, 0, ns())),
        u(v6(&peer(0x50), D0, 58, 200, 0, icmp(129, 0, 0))),
        u(v6(&peer(0x50), D0, 58, 64, 0, icmp(129, 0, 100))),
        u(v6(&peer(0x50), D0, 58, 64, 0, icmp(2, 0, 48))),
        (
            Some(MCAST),
            None,
            v6(&peer(2), "ff02::1", 58, 1, 0, icmp(128, 0, 8)),
        ),
        (
            Some(MCAST),
            Some(SPOOF),
            v6(&peer(0x60), "ff02::1", 17, 1, 0, udp(4000, 9999, 8)),
        ),
        (
            Some(MCAST),
            None,
            v6(&peer(0x62), "ff02::1", 17, 64, 0, udp(4000, 9999, 8)),
        ),
        (
            None,
            Some(SPOOF),
            v6(&peer(0x61), D0, 17, 64, 0, udp(4000, 53, 8)),
        ),
    ]
}

#[test]
fn stateless_walk_agrees_with_kernel_counters_ipv6() {
    if let Err(why) = kernel_available().and_then(|()| common::root_with(&["ethtool", "python3"])) {
        return skip(&why);
    }
    let opts = ParseOptions {
        family: Family::Ipv6,
        ..ParseOptions::default()
    };
    let rs = parse_ruleset(RULES, "rules", opts).unwrap_or_else(|d| panic!("{d}"));
    let table = rs.table(TableKind::Filter).expect("filter table");
    let input = table.chain_index("INPUT").expect("INPUT");
    for r in table.chains().iter().flat_map(|c| &c.rules) {
        supported(r).unwrap_or_else(|e| panic!("test ruleset uses {e}"));
    }

    // Both namespaces are deleted by Drop, also when an assertion below fails.
    let dev = Netns::new("eval6");
    let peer_ns = Netns::new("eval6");
    peer_ns.out("ip link set lo up");
    dev.out(&format!(
        "set -e
         ip link set lo up
         sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
         sysctl -qw net.ipv6.conf.default.router_solicitations=0
         ip link add d0 type veth peer name p0 netns {peer}
         ip -6 addr add {D0}/64 dev d0 nodad
         ip link set d0 up
         ethtool -K d0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true",
        peer = peer_ns.name
    ));
    peer_ns.out(
        "set -e
         sysctl -qw net.ipv6.conf.p0.disable_ipv6=1
         ip link set p0 up
         ethtool -K p0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true",
    );
    let d0_mac = mac_of(&dev.out("cat /sys/class/net/d0/address"));
    let p0_raw = peer_ns.out("cat /sys/class/net/p0/address");
    let p0_mac = mac_of(&p0_raw);
    dev.out(&format!(
        "ip -6 neigh replace 2001:db8:9::2 lladdr {} dev d0 nud permanent",
        p0_raw.trim()
    ));
    let o = dev.sh("ip6tables-nft-restore", RULES);
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let pkts = frames();
    let links: Vec<LinkHeader> = pkts
        .iter()
        .map(|(d, s, _)| LinkHeader {
            dst: d.unwrap_or(d0_mac),
            src: s.unwrap_or(p0_mac),
        })
        .collect();
    let frames: Vec<(LinkHeader, &[u8])> = links
        .iter()
        .zip(&pkts)
        .map(|(l, (_, _, ip))| (*l, &ip[..]))
        .collect();
    send_frames(&peer_ns, "p0", 0x86dd, &frames);
    let saved = dev.out("ip6tables-nft-save -c -t filter");

    // fwbench's side: every frame is for d0's address or ff02::1, so all go to INPUT.
    let host = HostBuilder::new(Sysctls::default()).build();
    let mut counts = Counts::new(table);
    for ((_, _, p), link) in pkts.iter().zip(&links) {
        let info = ip::parse(p).expect("crafted packet parses");
        let mut sp = StatelessPacket::new(p, info, Some("d0"), None, 0, &host).with_link(*link);
        walk(table, input, &mut sp, &mut counts);
        assert!(sp.unsupported().is_none(), "{:?}", sp.unsupported());
    }

    let kernel = parse_ruleset(&saved, "kernel", opts).unwrap_or_else(|d| panic!("{d}\n{saved}"));
    let ktable = kernel.table(TableKind::Filter).expect("kernel filter");
    let (agreed, problems) = compare_counters(table, &counts, ktable, &[input]);
    // Guard against a vacuous pass: INPUT's first rule saw every frame.
    assert_eq!(
        counts.rules[input][0].packets,
        pkts.len() as u64,
        "frames counted"
    );
    eprintln!(
        "{} packets, {agreed} counters agree, {} differ",
        pkts.len(),
        problems.len()
    );
    if std::env::var_os("FWBENCH_SHOW").is_some() {
        eprintln!("{saved}");
    }
    assert!(problems.is_empty(), "{}\n{saved}", problems.join("\n"));
}

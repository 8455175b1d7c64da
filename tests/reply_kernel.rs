//! What the kernel sends back, byte for byte: REJECT's ICMP errors and TCP resets (INPUT and
//! FORWARD, IPv4 and IPv6), the stack's RST for a closed port and port unreachable for a
//! closed UDP port, echo replies, time exceeded for a forwarded packet with TTL 1, the quote
//! cut of large offending packets, and the cases where nothing is sent.
//!
//! A device namespace (d0 towards the peer, d1 towards a far namespace, forwarding on, ICMP
//! rate limits off) gets a REJECT ruleset; the peer sends each offending packet as an
//! Ethernet frame over AF_PACKET and collects every IP packet that comes back for a short
//! while. `wire::reply` / `engine::reject` must build exactly those bytes, except fields the
//! kernel draws at random (listed at `Mask`).

mod common;

use std::net::IpAddr;

use common::{kernel_available, skip, Netns};
use fwbench::engine::{
    local_reply, reject_reply, reject_reply_at, time_exceeded, IcmpRateLimit, RejectSite,
};
use fwbench::host::{AddressSpec, Host, HostBuilder, Prefix, RouteSpec, Sysctls};
use fwbench::rules::ext::RejectWith;
use fwbench::wire::{ip, verify};

const RULES_V4: &str = "*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 1001 -j REJECT --reject-with tcp-reset
-A INPUT -p udp --dport 1002 -j REJECT
-A INPUT -p udp --dport 1003 -j REJECT --reject-with icmp-net-unreachable
-A INPUT -p udp --dport 1004 -j REJECT --reject-with icmp-host-unreachable
-A INPUT -p udp --dport 1005 -j REJECT --reject-with icmp-proto-unreachable
-A INPUT -p udp --dport 1006 -j REJECT --reject-with icmp-net-prohibited
-A INPUT -p udp --dport 1007 -j REJECT --reject-with icmp-host-prohibited
-A INPUT -p udp --dport 1008 -j REJECT --reject-with icmp-admin-prohibited
-A INPUT -p tcp --dport 1010 -j REJECT
-A INPUT -p icmp ! --icmp-type echo-request -j REJECT
-A FORWARD -f -j REJECT
-A FORWARD -p tcp --dport 2001 -j REJECT --reject-with tcp-reset
-A FORWARD -p udp --dport 2002 -j REJECT --reject-with icmp-host-prohibited
COMMIT
";

const RULES_V6: &str = "*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 1001 -j REJECT --reject-with tcp-reset
-A INPUT -p udp --dport 1002 -j REJECT --reject-with icmp6-no-route
-A INPUT -p udp --dport 1003 -j REJECT --reject-with icmp6-adm-prohibited
-A INPUT -p udp --dport 1004 -j REJECT --reject-with icmp6-addr-unreachable
-A INPUT -p udp --dport 1005 -j REJECT
-A INPUT -p udp --dport 1006 -j REJECT --reject-with icmp6-policy-fail
-A INPUT -p udp --dport 1007 -j REJECT --reject-with icmp6-reject-route
-A FORWARD -p tcp --dport 2001 -j REJECT --reject-with tcp-reset
-A FORWARD -p udp --dport 2002 -j REJECT --reject-with icmp6-adm-prohibited
COMMIT
";

const PEER4: &str = "10.9.0.2";
const DEV4: &str = "10.9.0.1";
const FAR4: &str = "10.9.1.2";
const PEER6: &str = "2001:db8:9::2";
const DEV6: &str = "2001:db8:9::1";
const FAR6: &str = "2001:db8:9:1::2";

/// Sends each hex frame of stdin out of argv[1] and prints, per frame, the hex of every IP
/// packet that arrived in the next 150 ms (space separated; `-` for none).
const EXCHANGE: &str = r#"
import socket, sys, time, select
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
def drain(t):
    got = []
    end = time.time() + t
    while True:
        left = end - time.time()
        if left <= 0:
            return got
        r, _, _ = select.select([s], [], [], left)
        if not r:
            return got
        data, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        if data[12:14] in (b'\x08\x00', b'\x86\xdd'):
            got.append(data[14:].hex())
drain(0.3)
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    s.send(bytes.fromhex(line))
    got = drain(0.15)
    print(' '.join(got) if got else '-', flush=True)
"#;

fn addr(s: &str) -> IpAddr {
    s.parse().expect("address")
}

/// An IPv4 packet with all checksums filled.
fn v4(src: &str, dst: &str, proto: u8, tos: u8, ttl: u8, l4: &[u8]) -> Vec<u8> {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (addr(src), addr(dst)) else {
        panic!("v4 addresses")
    };
    let mut p = vec![0x45, tos];
    p.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0x30, 0x39, 0x40, 0x00, ttl, proto, 0, 0]);
    p.extend_from_slice(&s.octets());
    p.extend_from_slice(&d.octets());
    p.extend_from_slice(l4);
    verify::recompute(&mut p).expect("recompute");
    p
}

/// An IPv6 packet with all checksums filled.
fn v6(src: &str, dst: &str, next: u8, tclass: u8, flow: u32, hop: u8, l4: &[u8]) -> Vec<u8> {
    let (IpAddr::V6(s), IpAddr::V6(d)) = (addr(src), addr(dst)) else {
        panic!("v6 addresses")
    };
    let first = (6u32 << 28) | (u32::from(tclass) << 20) | flow;
    let mut p = first.to_be_bytes().to_vec();
    p.extend_from_slice(&(l4.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, hop]);
    p.extend_from_slice(&s.octets());
    p.extend_from_slice(&d.octets());
    p.extend_from_slice(l4);
    verify::recompute(&mut p).expect("recompute");
    p
}

/// A TCP segment (seq 1000, ack 5000, window 0x7210) with `data` bytes of 0x61.
fn tcp(sport: u16, dport: u16, flags: u8, data: usize) -> Vec<u8> {
    let mut t = sport.to_be_bytes().to_vec();
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&1000u32.to_be_bytes());
    t.extend_from_slice(&5000u32.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0x72, 0x10, 0, 0, 0, 0]);
    t.resize(t.len() + data, 0x61);
    t
}

/// A UDP datagram with `data` bytes of 0x62; its checksum field is non-zero so that
/// `verify::recompute` fills it (it keeps 0 as "no checksum").
fn udp(sport: u16, dport: u16, data: usize) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + data) as u16).to_be_bytes());
    u.extend_from_slice(&[0xff, 0xff]);
    u.resize(u.len() + data, 0x62);
    u
}

/// An ICMP(v6) message of `kind` with id 0x4242, seq 7 and `data` bytes.
fn icmp(kind: u8, code: u8, data: usize) -> Vec<u8> {
    let mut i = vec![kind, code, 0, 0, 0x42, 0x42, 0, 7];
    i.resize(i.len() + data, 0x63);
    i
}

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// What fwbench says the kernel answers.
enum Expect {
    /// REJECT met the packet; `local`: in INPUT.
    Reject(RejectWith, bool),
    /// The stack, for a packet delivered locally that no socket takes (closed TCP or UDP
    /// port, echo request, unknown protocol).
    Local,
    TimeExceeded,
}

fn icmp4(kind: u8, code: u8) -> RejectWith {
    RejectWith::Icmp {
        v6: false,
        kind,
        code,
    }
}

fn icmp6(code: u8) -> RejectWith {
    RejectWith::Icmp {
        v6: true,
        kind: 1,
        code,
    }
}

struct Case {
    name: &'static str,
    packet: Vec<u8>,
    expect: Expect,
}

fn case(name: &'static str, packet: Vec<u8>, expect: Expect) -> Case {
    Case {
        name,
        packet,
        expect,
    }
}

fn cases_v4() -> Vec<Case> {
    use Expect::*;
    let reset = || Reject(RejectWith::TcpReset, true);
    let mut bad_syn = v4(PEER4, DEV4, 6, 0, 64, &tcp(40001, 1001, SYN, 0));
    bad_syn[36] ^= 0x55;
    let mut bad_udp = v4(PEER4, DEV4, 17, 0, 64, &udp(40002, 1002, 10));
    bad_udp[26] ^= 0x55;
    let zero_sum_udp = {
        let mut l4 = udp(40003, 1002, 10);
        l4[6..8].fill(0);
        v4(PEER4, DEV4, 17, 0, 64, &l4)
    };
    // Offset 128 bytes, no more fragments: the tail of a datagram whose head never came.
    // Forwarded (INPUT never sees a fragment: ip_local_deliver reassembles first), so
    // `-A FORWARD -f -j REJECT` meets it and nf_send_unreach declines.
    let mut later_fragment = v4(PEER4, FAR4, 17, 0, 64, &udp(40002, 1002, 32));
    later_fragment[6] = 0x00;
    later_fragment[7] = 0x10;
    fix_v4_header(&mut later_fragment);
    let mut bad_closed = v4(PEER4, DEV4, 6, 0, 64, &tcp(40005, 81, SYN, 0));
    bad_closed[36] ^= 0x55;
    let mut bad_closed_udp = v4(PEER4, DEV4, 17, 0, 64, &udp(40006, 82, 10));
    bad_closed_udp[26] ^= 0x55;
    let mut bad_echo = v4(PEER4, DEV4, 1, 0, 64, &icmp(8, 0, 56));
    bad_echo[22] ^= 0x55;
    let error_in = {
        let quoted = v4(DEV4, PEER4, 17, 0, 64, &udp(53, 40004, 4));
        let mut l4 = icmp(3, 3, 0);
        l4[4..8].fill(0);
        l4.extend_from_slice(&quoted);
        v4(PEER4, DEV4, 1, 0, 64, &l4)
    };
    vec![
        case(
            "syn tcp-reset",
            v4(PEER4, DEV4, 6, 0, 64, &tcp(40001, 1001, SYN, 0)),
            reset(),
        ),
        case(
            "ack tcp-reset",
            v4(PEER4, DEV4, 6, 0, 64, &tcp(40001, 1001, ACK, 0)),
            reset(),
        ),
        case(
            "fin+data tcp-reset",
            v4(PEER4, DEV4, 6, 0, 64, &tcp(40001, 1001, FIN, 5)),
            reset(),
        ),
        case(
            "psh|ack data tcp-reset",
            v4(PEER4, DEV4, 6, 0x10, 64, &tcp(40001, 1001, PSH | ACK, 100)),
            reset(),
        ),
        case(
            "rst: no reset",
            v4(PEER4, DEV4, 6, 0, 64, &tcp(40001, 1001, RST, 0)),
            Reject(RejectWith::TcpReset, true),
        ),
        case(
            "bad tcp checksum: no reset",
            bad_syn,
            Reject(RejectWith::TcpReset, true),
        ),
        case(
            "udp port-unreachable, tos 0x1f",
            v4(PEER4, DEV4, 17, 0x1f, 64, &udp(40002, 1002, 10)),
            Reject(icmp4(3, 3), true),
        ),
        case(
            "net-unreachable",
            v4(PEER4, DEV4, 17, 0, 64, &udp(40002, 1003, 10)),
            Reject(icmp4(3, 0), true),
        ),
        case(
            "host-unreachable",
            v4(PEER4, DEV4, 17, 0, 64, &udp(40002, 1004, 10)),
            Reject(icmp4(3, 1), true),
        ),
        case(
            "proto-unreachable",
            v4(PEER4, DEV4, 17, 0, 64, &udp(40002, 1005, 10)),
            Reject(icmp4(3, 2), true),
        ),
        case(
            "net-prohibited",
            v4(PEER4, DEV4, 17, 0, 64, &udp(40002, 1006, 10)),
            Reject(icmp4(3, 9), true),
        ),
        case(
            "host-prohibited",
            v4(PEER4, DEV4, 17, 0, 64, &udp(40002, 1007, 10)),
            Reject(icmp4(3, 10), true),
        ),
        case(
            "admin-prohibited",
            v4(PEER4, DEV4, 17, 0, 64, &udp(40002, 1008, 10)),
            Reject(icmp4(3, 13), true),
        ),
        case(
            "tcp default REJECT",
            v4(PEER4, DEV4, 6, 0, 64, &tcp(40001, 1010, SYN, 0)),
            Reject(icmp4(3, 3), true),
        ),
        case(
            "large udp: quote cut at 576",
            v4(PEER4, DEV4, 17, 0, 64, &udp(40002, 1002, 1000)),
            Reject(icmp4(3, 3), true),
        ),
        case(
            "bad udp checksum: no error",
            bad_udp,
            Reject(icmp4(3, 3), true),
        ),
        case(
            "udp without checksum: error",
            zero_sum_udp,
            Reject(icmp4(3, 3), true),
        ),
        case(
            "later fragment: no error",
            later_fragment,
            Reject(icmp4(3, 3), false),
        ),
        case(
            "icmp timestamp rejected",
            v4(PEER4, DEV4, 1, 0, 64, &icmp(13, 0, 12)),
            Reject(icmp4(3, 3), true),
        ),
        case(
            "icmp error rejected: no error",
            error_in,
            Reject(icmp4(3, 3), true),
        ),
        case(
            "to subnet broadcast: no error",
            v4(PEER4, "10.9.0.255", 17, 0, 64, &udp(40002, 1002, 10)),
            Reject(icmp4(3, 3), true),
        ),
        case(
            "closed port syn, tos 0x13",
            v4(PEER4, DEV4, 6, 0x13, 64, &tcp(40005, 81, SYN, 0)),
            Local,
        ),
        case(
            "closed port ack",
            v4(PEER4, DEV4, 6, 0, 64, &tcp(40005, 81, ACK, 3)),
            Local,
        ),
        case(
            "closed udp port",
            v4(PEER4, DEV4, 17, 0x10, 64, &udp(40006, 82, 10)),
            Local,
        ),
        case(
            "echo, tos 0x10",
            v4(PEER4, DEV4, 1, 0x10, 64, &icmp(8, 0, 56)),
            Local,
        ),
        case(
            "unknown protocol 253: protocol unreachable",
            v4(PEER4, DEV4, 253, 0, 64, &[0x77; 12]),
            Local,
        ),
        case("closed port, bad checksum: dropped", bad_closed, Local),
        case(
            "closed udp port, bad checksum: dropped",
            bad_closed_udp,
            Local,
        ),
        case("echo, bad checksum: dropped", bad_echo, Local),
        case(
            "forward: tcp-reset spoofed",
            v4(PEER4, FAR4, 6, 0, 64, &tcp(40007, 2001, SYN, 0)),
            Reject(RejectWith::TcpReset, false),
        ),
        case(
            "forward: host-prohibited",
            v4(PEER4, FAR4, 17, 0, 64, &udp(40008, 2002, 10)),
            Reject(icmp4(3, 10), false),
        ),
        // Source choice: the route back to 198.18.0.0/24 prefers 10.9.1.1 (an address of
        // d1) although it leaves by d0.
        case(
            "forward from 198.18.0.5: error from the route's src",
            v4("198.18.0.5", FAR4, 17, 0, 64, &udp(40010, 2002, 10)),
            Reject(icmp4(3, 10), false),
        ),
        case(
            "input from 198.18.0.5: error from the destination",
            v4("198.18.0.5", DEV4, 17, 0, 64, &udp(40010, 1007, 10)),
            Reject(icmp4(3, 10), true),
        ),
        case(
            "input to d1's address via d0: error from that address",
            v4(PEER4, "10.9.1.1", 17, 0, 64, &udp(40010, 1007, 10)),
            Reject(icmp4(3, 10), true),
        ),
        case(
            "forward: rst to 198.18.0.5",
            v4("198.18.0.5", FAR4, 6, 0, 64, &tcp(40011, 2001, SYN, 0)),
            Reject(RejectWith::TcpReset, false),
        ),
        // No route back to 203.0.113.9: neither an ICMP error nor a RST leaves.
        case(
            "forward from unroutable source: no error",
            v4("203.0.113.9", FAR4, 17, 0, 64, &udp(40012, 2002, 10)),
            Reject(icmp4(3, 10), false),
        ),
        case(
            "input from unroutable source: no error",
            v4("203.0.113.9", DEV4, 17, 0, 64, &udp(40012, 1007, 10)),
            Reject(icmp4(3, 10), true),
        ),
        case(
            "forward from unroutable source: no rst",
            v4("203.0.113.9", FAR4, 6, 0, 64, &tcp(40012, 2001, SYN, 0)),
            Reject(RejectWith::TcpReset, false),
        ),
        case(
            "forward: ttl 1",
            v4(PEER4, FAR4, 17, 0x04, 1, &udp(40009, 3000, 10)),
            TimeExceeded,
        ),
    ]
}

/// Sets an IPv4 header checksum after a hand edit.
fn fix_v4_header(p: &mut [u8]) {
    p[10] = 0;
    p[11] = 0;
    let mut sum = 0u32;
    for w in p[..20].chunks(2) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    p[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

fn cases_v6() -> Vec<Case> {
    use Expect::*;
    let p = |next, l4: &[u8]| v6(PEER6, DEV6, next, 0, 0, 64, l4);
    let v6_zero_sum = {
        let mut l4 = udp(40003, 1003, 10);
        l4[6..8].fill(0);
        p(17, &l4)
    };
    let mut v6_bad_sum = p(17, &udp(40003, 1005, 10));
    v6_bad_sum[46] ^= 0x55;
    vec![
        case(
            "v6 syn tcp-reset",
            p(6, &tcp(40001, 1001, SYN, 0)),
            Reject(RejectWith::TcpReset, true),
        ),
        case(
            "v6 ack tcp-reset",
            p(6, &tcp(40001, 1001, ACK | PSH, 20)),
            Reject(RejectWith::TcpReset, true),
        ),
        case(
            "v6 rst: no reset",
            p(6, &tcp(40001, 1001, RST | ACK, 0)),
            Reject(RejectWith::TcpReset, true),
        ),
        case(
            "v6 no-route",
            p(17, &udp(40002, 1002, 10)),
            Reject(icmp6(0), true),
        ),
        case(
            "v6 adm-prohibited",
            p(17, &udp(40002, 1003, 10)),
            Reject(icmp6(1), true),
        ),
        case(
            "v6 addr-unreachable",
            p(17, &udp(40002, 1004, 10)),
            Reject(icmp6(3), true),
        ),
        // IPv6 forbids a zero UDP checksum and the stack drops such a datagram, but REJECT
        // answers it: nf_reject_verify_csum treats 0 as "no checksum" in both families.
        case("v6 udp zero checksum", v6_zero_sum, Reject(icmp6(1), true)),
        case(
            "v6 bad udp checksum: no error",
            v6_bad_sum,
            Reject(icmp6(4), true),
        ),
        case(
            "v6 port-unreachable, tclass 0x1f",
            v6(PEER6, DEV6, 17, 0x1f, 0x12345, 64, &udp(40002, 1005, 10)),
            Reject(icmp6(4), true),
        ),
        case(
            "v6 policy-fail",
            p(17, &udp(40002, 1006, 10)),
            Reject(icmp6(5), true),
        ),
        case(
            "v6 reject-route",
            p(17, &udp(40002, 1007, 10)),
            Reject(icmp6(6), true),
        ),
        case(
            "v6 large: quote cut at 1280",
            p(17, &udp(40002, 1005, 1400)),
            Reject(icmp6(4), true),
        ),
        case(
            "v6 closed port syn, tclass 0x13",
            v6(PEER6, DEV6, 6, 0x13, 0x54321, 64, &tcp(40005, 81, SYN, 0)),
            Local,
        ),
        case("v6 closed udp port", p(17, &udp(40006, 82, 10)), Local),
        case(
            "v6 closed udp port, zero checksum: dropped",
            {
                let mut l4 = udp(40006, 82, 10);
                l4[6..8].fill(0);
                p(17, &l4)
            },
            Local,
        ),
        case(
            "v6 unknown next header: parameter problem at 6",
            p(253, &[0x77; 12]),
            Local,
        ),
        case(
            "v6 unknown next header after destination options: pointer 40",
            p(60, &[253, 0, 1, 4, 0, 0, 0, 0, 0x77, 0x77, 0x77, 0x77]),
            Local,
        ),
        case(
            "v6 echo, tclass 0x10",
            v6(PEER6, DEV6, 58, 0x10, 0xabcde, 64, &icmp(128, 0, 56)),
            Local,
        ),
        case(
            "v6 forward: tcp-reset spoofed",
            v6(PEER6, FAR6, 6, 0, 0, 64, &tcp(40007, 2001, SYN, 0)),
            Reject(RejectWith::TcpReset, false),
        ),
        case(
            "v6 forward: adm-prohibited",
            v6(PEER6, FAR6, 17, 0, 0, 64, &udp(40008, 2002, 10)),
            Reject(icmp6(1), false),
        ),
        case(
            "v6 forward: hop limit 1",
            v6(PEER6, FAR6, 17, 0, 0, 1, &udp(40009, 3000, 10)),
            TimeExceeded,
        ),
    ]
}

/// fwbench's answer to a case.
fn fwbench_reply(c: &Case, host: &Host) -> Option<Vec<u8>> {
    let info = ip::parse(&c.packet).expect("case parses");
    match &c.expect {
        Expect::Reject(with, true) => reject_reply(with, &c.packet, &info, host, true),
        Expect::Reject(with, false) => {
            let seen = as_forward_sees(&c.packet);
            let info = ip::parse(&seen).expect("forwarded packet parses");
            reject_reply(with, &seen, &info, host, false)
        }
        Expect::Local => local_reply(&c.packet, host),
        Expect::TimeExceeded => time_exceeded(&c.packet, host),
    }
}

/// The packet as the FORWARD hook sees it: `ip_forward` / `ip6_forward` decrement the TTL or
/// hop limit (and fix the IPv4 header checksum) before the hook, so REJECT in FORWARD quotes
/// the decremented value (measured here: the quote carries TTL 63 for a packet sent with 64).
fn as_forward_sees(p: &[u8]) -> Vec<u8> {
    let mut p = p.to_vec();
    if p[0] >> 4 == 6 {
        p[7] -= 1;
    } else {
        p[8] -= 1;
        fix_v4_header(&mut p);
    }
    p
}

/// Byte ranges the kernel fills unpredictably, blanked on both sides before comparing.
/// - IPv4 id of packets without DF (ICMP errors, echo replies): `ip_select_ident` hashes
///   the destination with a per-boot random key into a table of counters.
/// - IPv6 flow label of everything the stack sends from its own sockets (ICMPv6 errors, echo
///   replies, the closed-port RST): `ip6_make_flowlabel` hashes the flow with a random
///   per-namespace seed (`auto_flowlabels`). netfilter's RST (`nf_reject_ip6hdr_put`)
///   writes 0, and is compared whole.
fn masked(p: &[u8], expect: &Expect) -> Vec<u8> {
    let mut p = p.to_vec();
    let stack_v6 = !matches!(expect, Expect::Reject(RejectWith::TcpReset, _));
    match p.first().map(|b| b >> 4) {
        Some(4) if p.len() >= 20 && p[6] & 0x40 == 0 => {
            // The header checksum covers the id: blank it too.
            p[4..6].fill(0);
            p[10..12].fill(0);
        }
        Some(6) if p.len() >= 40 && stack_v6 => {
            p[1] &= 0xf0;
            p[2..4].fill(0);
        }
        _ => {}
    }
    p
}

fn hex(p: &[u8]) -> String {
    p.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// Whether a packet the peer received answers `offending` (sent to its source); router
/// solicitations, MLD and neighbour discovery of the device are not answers.
fn answers(got: &[u8], offending: &[u8]) -> bool {
    let (Ok(g), Ok(o)) = (ip::parse(got), ip::parse(offending)) else {
        return false;
    };
    g.dst == o.src
        && !matches!(
            g.l4,
            fwbench::wire::L4Info::Icmp {
                msg_type: 130..=143,
                ..
            }
        )
}

fn dev_host(d0_mac: [u8; 6], d1_mac: [u8; 6]) -> Host {
    let mut hb = HostBuilder::new(Sysctls::default());
    hb.add_interface("d0", Some(d0_mac), None, true)
        .expect("d0");
    hb.add_interface("d1", Some(d1_mac), None, true)
        .expect("d1");
    for (dev, a, len, brd) in [
        ("d0", DEV4, 24, Some("10.9.0.255")),
        ("d1", "10.9.1.1", 24, Some("10.9.1.255")),
        ("d0", DEV6, 64, None),
        ("d1", "2001:db8:9:1::1", 64, None),
    ] {
        hb.add_address(
            dev,
            AddressSpec {
                local: addr(a),
                prefix_len: len,
                broadcast: brd.map(|b| b.parse().expect("brd")),
                scope: None,
                noprefixroute: false,
            },
        )
        .expect("address");
    }
    let mut r = RouteSpec::unicast(Prefix::parse("198.18.0.0/24", false).expect("prefix"));
    r.gateway = Some(addr(PEER4));
    r.dev = Some("d0".into());
    r.prefsrc = Some(addr("10.9.1.1"));
    hb.add_route(r).expect("route");
    hb.build()
}

fn mac_of(s: &str) -> [u8; 6] {
    let mut m = [0u8; 6];
    for (i, part) in s.trim().split(':').enumerate() {
        m[i] = u8::from_str_radix(part, 16).expect("mac");
    }
    m
}

#[test]
fn replies_agree_with_the_kernel() {
    if let Err(why) = kernel_available()
        .and_then(|()| common::root_with(&["ip6tables-nft-restore", "ethtool", "python3"]))
    {
        return skip(&why);
    }
    let dev = Netns::new("reply");
    let peer = Netns::new("reply");
    let far = Netns::new("reply");
    dev.out(&format!(
        "set -e
         ip link set lo up
         ip link add d0 type veth peer name p0 netns {peer}
         ip link add d1 type veth peer name p1 netns {far}
         sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
         sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
         sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
         sysctl -qw net.ipv6.icmp.ratelimit=0
         sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
         sysctl -qw net.ipv6.conf.default.router_solicitations=0
         ip addr add {DEV4}/24 brd + dev d0
         ip addr add {DEV6}/64 dev d0 nodad
         ip addr add 10.9.1.1/24 brd + dev d1
         ip addr add 2001:db8:9:1::1/64 dev d1 nodad
         ip link set d0 up
         ip link set d1 up
         ip route add 198.18.0.0/24 via {PEER4} dev d0 src 10.9.1.1
         ethtool -K d0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
         ethtool -K d1 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true",
        peer = peer.name,
        far = far.name
    ));
    for (ns, ifc) in [(&peer, "p0"), (&far, "p1")] {
        ns.out(&format!(
            "set -e
             ip link set lo up
             sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.{ifc}.disable_ipv6=1
             ip link set {ifc} up
             ethtool -K {ifc} rx off tx off tso off gso off gro off >/dev/null 2>&1 || true"
        ));
    }
    let d0_mac = mac_of(&dev.out("cat /sys/class/net/d0/address"));
    let d1_mac = mac_of(&dev.out("cat /sys/class/net/d1/address"));
    let p0_mac = peer.out("cat /sys/class/net/p0/address").trim().to_string();
    let p1_mac = far.out("cat /sys/class/net/p1/address").trim().to_string();
    dev.out(&format!(
        "set -e
         ip neigh replace {PEER4} lladdr {p0_mac} dev d0 nud permanent
         ip neigh replace {PEER6} lladdr {p0_mac} dev d0 nud permanent
         ip neigh replace {FAR4} lladdr {p1_mac} dev d1 nud permanent
         ip neigh replace {FAR6} lladdr {p1_mac} dev d1 nud permanent"
    ));
    for (tool, rules) in [
        ("iptables-nft-restore", RULES_V4),
        ("ip6tables-nft-restore", RULES_V6),
    ] {
        let o = dev.sh(tool, rules);
        assert!(
            o.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    let mut cases = cases_v4();
    cases.extend(cases_v6());
    let p0 = mac_of(&p0_mac);
    let frames: String = cases
        .iter()
        .map(|c| {
            let ethertype: [u8; 2] = if c.packet[0] >> 4 == 6 {
                [0x86, 0xdd]
            } else {
                [8, 0]
            };
            format!(
                "{}{}{}{}\n",
                hex(&d0_mac),
                hex(&p0),
                hex(&ethertype),
                hex(&c.packet)
            )
        })
        .collect();
    let script = std::env::temp_dir().join(format!("fwb-reply-{}.py", std::process::id()));
    std::fs::write(&script, EXCHANGE).expect("write exchange script");
    let o = peer.sh(&format!("python3 {} p0", script.display()), &frames);
    let _ = std::fs::remove_file(&script);
    assert!(
        o.status.success(),
        "exchange: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), cases.len(), "one line per case");

    // The no-answer cases met their REJECT rule: the later fragment; of the five packets to
    // UDP port 1002 the ones with a bad checksum and to the subnet broadcast; the ICMP
    // error; the packets from an unroutable source (1007, 2001, 2002).
    let saved = dev.out("iptables-nft-save -c -t filter");
    for rule in [
        "[1:60] -A FORWARD -f -j REJECT",
        "[5:1180] -A INPUT -p udp -m udp --dport 1002 -j REJECT",
        "[2:100] -A INPUT -p icmp -m icmp ! --icmp-type 8 -j REJECT",
        "[4:152] -A INPUT -p udp -m udp --dport 1007 -j REJECT",
        "[3:120] -A FORWARD -p tcp -m tcp --dport 2001 -j REJECT",
        "[3:114] -A FORWARD -p udp -m udp --dport 2002 -j REJECT",
    ] {
        assert!(saved.contains(rule), "expected `{rule}':\n{saved}");
    }
    let host = dev_host(d0_mac, d1_mac);
    let mut problems = Vec::new();
    let mut answered = 0;
    for (c, line) in cases.iter().zip(&lines) {
        let got: Vec<Vec<u8>> = line
            .split(' ')
            .filter(|h| *h != "-")
            .map(unhex)
            .filter(|g| answers(g, &c.packet))
            .collect();
        let ours = fwbench_reply(c, &host);
        let ok = match (&ours, got.as_slice()) {
            (None, []) => true,
            (Some(p), [k]) => masked(p, &c.expect) == masked(k, &c.expect),
            _ => false,
        };
        if got.len() == 1 && ours.is_some() {
            answered += 1;
        }
        if !ok {
            problems.push(format!(
                "{}:\n  kernel:  {}\n  fwbench: {}\n  (all received: {line})",
                c.name,
                got.iter().map(|g| hex(g)).collect::<Vec<_>>().join(" | "),
                ours.as_deref().map_or("none".into(), hex)
            ));
        }
    }
    if !problems.is_empty() {
        let stats = dev.sh(
            "nstat -az | grep -E 'NoPorts|OutDestUnreach|RateLimit|OutErrors'",
            "",
        );
        panic!(
            "{} of {} differ:\n{}\ndevice counters:\n{}",
            problems.len(),
            cases.len(),
            problems.join("\n"),
            String::from_utf8_lossy(&stats.stdout)
        );
    }
    // Guard against a vacuous pass: most cases are answered (the others met their REJECT
    // rule, checked by the counters above).
    assert!(answered >= 40, "only {answered} cases answered");
}

/// Sends each hex packet of stdin from a raw IP socket (the packet as written, locally
/// generated) and prints the hex of every ICMP or TCP packet delivered locally within 200
/// ms (`-` for none).
const LOCAL_EXCHANGE: &str = r#"
import socket, sys, time, select
out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
ins = [socket.socket(socket.AF_INET, socket.SOCK_RAW, p) for p in (socket.IPPROTO_ICMP, socket.IPPROTO_TCP)]
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    pkt = bytes.fromhex(line)
    try:
        # A packet dropped in OUTPUT fails the send with EPERM.
        out.sendto(pkt, (socket.inet_ntoa(pkt[16:20]), 0))
    except PermissionError:
        pass
    got = []
    end = time.time() + 0.2
    while time.time() < end:
        r, _, _ = select.select(ins, [], [], max(0, end - time.time()))
        for s in r:
            got.append(s.recv(65535).hex())
    print(' '.join(got) if got else '-', flush=True)
"#;

/// [`masked`], and the TCP checksum of a RST delivered through `lo`, which holds only the
/// pseudo-header sum (`CHECKSUM_PARTIAL`, never completed on loopback).
fn local_masked(p: &[u8], expect: &Expect) -> Vec<u8> {
    let mut p = masked(p, expect);
    if p.len() >= 40 && p[9] == 6 {
        p[36..38].fill(0);
    }
    p
}

/// REJECT in OUTPUT: the packet is this host's own, so its checksums are not verified and
/// the ICMP error comes from the address routing picks towards the (local) sender, which
/// is the sender itself; the reply is delivered locally.
#[test]
fn reject_in_output_answers_locally() {
    if let Err(why) = kernel_available().and_then(|()| common::root_with(&["python3"])) {
        return skip(&why);
    }
    let dev = Netns::new("reply-out");
    dev.out(&format!(
        "set -e
         ip link set lo up
         ip link add d0 type veth peer name d0p
         ip addr add {DEV4}/24 dev d0
         ip link set d0p up
         ip link set d0 up
         sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000"
    ));
    let rules = "*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p udp --dport 1002 -j REJECT
-A OUTPUT -p tcp --dport 1001 -j REJECT --reject-with tcp-reset
COMMIT
";
    let o = dev.sh("iptables-nft-restore", rules);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut bad_sum = v4(DEV4, PEER4, 17, 0, 64, &udp(40020, 1002, 10));
    bad_sum[26] ^= 0x55;
    let packets = [
        v4(DEV4, PEER4, 17, 0, 64, &udp(40020, 1002, 10)),
        // A raw IP_HDRINCL packet is CHECKSUM_NONE: verified, and not answered.
        bad_sum,
        v4(DEV4, PEER4, 6, 0, 64, &tcp(40021, 1001, SYN, 0)),
        v4(DEV4, PEER4, 6, 0, 64, &tcp(40021, 1001, ACK | PSH, 7)),
    ];
    let withs = [
        icmp4(3, 3),
        icmp4(3, 3),
        RejectWith::TcpReset,
        RejectWith::TcpReset,
    ];
    let input: String = packets.iter().map(|p| hex(p) + "\n").collect();
    let script = std::env::temp_dir().join(format!("fwb-reply-out-{}.py", std::process::id()));
    std::fs::write(&script, LOCAL_EXCHANGE).expect("write script");
    let o = dev.sh(&format!("python3 {}", script.display()), &input);
    let _ = std::fs::remove_file(&script);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), packets.len());

    let mut hb = HostBuilder::new(Sysctls::default());
    hb.add_interface("d0", None, None, true).expect("d0");
    hb.add_address(
        "d0",
        AddressSpec {
            local: addr(DEV4),
            prefix_len: 24,
            broadcast: None,
            scope: None,
            noprefixroute: false,
        },
    )
    .expect("address");
    let host = hb.build();
    let site = RejectSite {
        local: false,
        checksum_trusted: false,
    };
    let mut problems = Vec::new();
    for ((p, with), line) in packets.iter().zip(&withs).zip(&lines) {
        let info = ip::parse(p).expect("parses");
        let ours = reject_reply_at(with, p, &info, &host, site);
        let got: Vec<Vec<u8>> = line.split(' ').filter(|h| *h != "-").map(unhex).collect();
        let expect = Expect::Reject(*with, false);
        let ok = match (&ours, got.as_slice()) {
            (None, []) => true,
            (Some(o), [k]) => local_masked(o, &expect) == local_masked(k, &expect),
            _ => false,
        };
        if !ok {
            problems.push(format!(
                "{}:\n  kernel:  {line}\n  fwbench: {}",
                hex(p),
                ours.as_deref().map_or("none".into(), hex)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Sends batches of hex frames (a line `SLEEP ms` between batches) out of argv[1] as fast as
/// it can, and prints for every frame its send time in ms from the first, then every
/// received IP packet as `R hex`.
const BURST: &str = r#"
import socket, sys, time, select
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
got = []
def drain(t):
    end = time.time() + t
    while True:
        left = end - time.time()
        if left <= 0:
            return
        r, _, _ = select.select([s], [], [], left)
        if r:
            data, addr = s.recvfrom(65535)
            if addr[2] != socket.PACKET_OUTGOING and data[12:14] in (b'\x08\x00', b'\x86\xdd'):
                got.append(data[14:].hex())
drain(0.3)
t0 = None
for line in sys.stdin:
    line = line.strip()
    if line.startswith('SLEEP'):
        drain(int(line.split()[1]) / 1000.0)
    elif line:
        now = time.time()
        t0 = t0 or now
        s.send(bytes.fromhex(line))
        print('T %d' % int((now - t0) * 1000), flush=True)
drain(0.3)
for g in got:
    print('R ' + g)
"#;

/// A stock kernel limits ICMP errors per destination: a burst of six, then one per
/// `icmp_ratelimit` (IPv4: 1000 ms) or `icmp.ratelimit` (IPv6: 100 ms). `IcmpRateLimit`
/// must pick the same packets.
#[test]
fn stock_icmp_rate_limit_per_destination() {
    if let Err(why) = kernel_available()
        .and_then(|()| common::root_with(&["ip6tables-nft-restore", "ethtool", "python3"]))
    {
        return skip(&why);
    }
    let dev = Netns::new("reply-rl");
    let peer = Netns::new("reply-rl");
    dev.out(&format!(
        "set -e
         ip link set lo up
         ip link add d0 type veth peer name p0 netns {peer}
         sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
         ip addr add {DEV4}/24 dev d0
         ip addr add {DEV6}/64 dev d0 nodad
         ip link set d0 up
         ethtool -K d0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true",
        peer = peer.name
    ));
    peer.out(
        "set -e
         ip link set lo up
         sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.p0.disable_ipv6=1
         ip link set p0 up",
    );
    let d0 = mac_of(&dev.out("cat /sys/class/net/d0/address"));
    let p0_text = peer.out("cat /sys/class/net/p0/address");
    let p0 = mac_of(&p0_text);
    dev.out(&format!(
        "ip neigh replace {PEER4} lladdr {m} dev d0 nud permanent
         ip neigh replace {PEER6} lladdr {m} dev d0 nud permanent",
        m = p0_text.trim()
    ));
    for (tool, rules) in [
        ("iptables-nft-restore", RULES_V4),
        ("ip6tables-nft-restore", RULES_V6),
    ] {
        let o = dev.sh(tool, rules);
        assert!(
            o.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Per family: 10 at once, 450 ms later 6, 1100 ms later 2, each with its own source port
    // (the gaps keep clear of token boundaries: the kernel counts 4 ms jiffies).
    let mut packets = Vec::new();
    let mut input = String::new();
    for v6 in [false, true] {
        for (batch, (n, pause)) in [(10, 0), (6, 450), (2, 1100)].into_iter().enumerate() {
            if pause > 0 {
                input.push_str(&format!("SLEEP {pause}\n"));
            }
            for i in 0..n {
                let sport = 41000 + (v6 as u16) * 100 + (batch as u16) * 10 + i;
                let p = if v6 {
                    v6_packet(sport)
                } else {
                    v4(PEER4, DEV4, 17, 0, 64, &udp(sport, 1002, 10))
                };
                let et = if v6 { "86dd" } else { "0800" };
                input.push_str(&format!("{}{}{et}{}\n", hex(&d0), hex(&p0), hex(&p)));
                packets.push(p);
            }
        }
        input.push_str("SLEEP 300\n");
    }
    let script = std::env::temp_dir().join(format!("fwb-reply-rl-{}.py", std::process::id()));
    std::fs::write(&script, BURST).expect("write script");
    let o = peer.sh(&format!("python3 {} p0", script.display()), &input);
    let _ = std::fs::remove_file(&script);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let times: Vec<u64> = out
        .lines()
        .filter_map(|l| l.strip_prefix("T "))
        .map(|t| t.parse().expect("time"))
        .collect();
    assert_eq!(times.len(), packets.len());
    // The kernel's answers, by the source port they quote.
    let answered: std::collections::BTreeSet<u16> = out
        .lines()
        .filter_map(|l| l.strip_prefix("R "))
        .map(unhex)
        .filter_map(|r| {
            let info = ip::parse(&r).ok()?;
            let (at, inner) = ip::parse_embedded(&r, &info)?;
            let inner = inner.ok()?;
            let off = at + usize::from(inner.l4_offset);
            Some(u16::from_be_bytes([*r.get(off)?, *r.get(off + 1)?]))
        })
        .collect();

    let mut hb = HostBuilder::new(Sysctls::default());
    hb.add_interface("d0", Some(d0), None, true).expect("d0");
    for (a, len) in [(DEV4, 24), (DEV6, 64)] {
        hb.add_address(
            "d0",
            AddressSpec {
                local: addr(a),
                prefix_len: len,
                broadcast: None,
                scope: None,
                noprefixroute: false,
            },
        )
        .expect("address");
    }
    let host = hb.build();
    let mut limit = IcmpRateLimit::stock();
    let mut ours = std::collections::BTreeSet::new();
    for (p, &t) in packets.iter().zip(&times) {
        let info = ip::parse(p).expect("parses");
        let with = if info.is_ipv6() {
            icmp6(0)
        } else {
            icmp4(3, 3)
        };
        if let Some(e) = reject_reply(&with, p, &info, &host, true) {
            if limit.allow(&e, &host, t) {
                ours.insert(u16::from_be_bytes([p[p.len() - 18], p[p.len() - 17]]));
            }
        }
    }
    // 6 + 0 + 1 for IPv4, 6 + 4 + 2 for IPv6.
    assert_eq!(
        answered.len(),
        19,
        "kernel answered {answered:?} (times {times:?})"
    );
    assert_eq!(answered, ours, "times {times:?}");
}

/// An IPv6 UDP datagram from the peer to port 1002 (REJECT icmp6-no-route).
fn v6_packet(sport: u16) -> Vec<u8> {
    v6(PEER6, DEV6, 0x11, 0, 0, 64, &udp(sport, 1002, 10))
}

//! Connection tracking against the kernel: scripted packet sequences are forwarded by a
//! device namespace whose mangle PREROUTING classifies every packet by ctstate (one counter
//! rule per packet and state, the packet told apart by its TTL); the per-packet states and
//! the final `conntrack -L` are compared with what `conntrack::Table` says for the same
//! bytes.
//!
//! Layout: peer ns (p0, no address: it only injects frames over AF_PACKET, both the
//! client's and the "server's", and its stack ignores what comes back) ── d0 [device ns] d1
//! ── far ns (p1, no address: a sink). The device forwards 10.9.0.0/24 out of d0 and
//! 10.9.1.0/24 out of d1 with permanent neighbours, redirects off, so nothing but the
//! injected packets ever reaches conntrack.

mod common;
mod engine_support;

use std::net::{IpAddr, Ipv4Addr};

use common::{kernel_available, skip, Netns};
use engine_support::{mac_of, send_frames};
use fwbench::conntrack::{Config, CtState, Lookup, NatRange, Table};
use fwbench::engine::LinkHeader;
use fwbench::wire::{ip, ipv4, verify};

const CLIENT: [u8; 4] = [10, 9, 0, 2];
const SERVER: [u8; 4] = [10, 9, 1, 2];
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const FIRST_TTL: u8 = 20;
const STATES: [&str; 4] = ["NEW", "ESTABLISHED", "RELATED", "INVALID"];

fn v4(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
    let total = 20 + l4.len();
    let mut p = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        proto,
        0,
        0,
    ];
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(l4);
    verify::recompute(&mut p).expect("valid packet");
    p
}

/// A TCP segment with window 64240 and `data` payload bytes.
#[allow(clippy::too_many_arguments)]
fn tcp(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    data: usize,
) -> Vec<u8> {
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(&ack.to_be_bytes());
    l4.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    l4.resize(l4.len() + data, b'x');
    v4(src, dst, 6, &l4)
}

/// A segment with a raw window field and options (padded to 4 bytes), the way real
/// stacks open connections: MSS, SACK permitted, timestamps, window scale.
fn tcp_opts(
    (src, sport): ([u8; 4], u16),
    (dst, dport): ([u8; 4], u16),
    (seq, ack, flags): (u32, u32, u8),
    window: u16,
    options: &[u8],
    data: usize,
) -> Vec<u8> {
    let mut opts = options.to_vec();
    opts.resize(options.len().div_ceil(4) * 4, 0);
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(&ack.to_be_bytes());
    l4.push((((20 + opts.len()) / 4) << 4) as u8);
    l4.push(flags);
    l4.extend_from_slice(&window.to_be_bytes());
    l4.extend_from_slice(&[0, 0, 0, 0]);
    l4.extend_from_slice(&opts);
    l4.resize(l4.len() + data, b'x');
    v4(src, dst, 6, &l4)
}

/// SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale `shift`.
fn syn_options(shift: u8) -> Vec<u8> {
    vec![
        2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, shift,
    ]
}

/// The scaled-window flow: handshake with window scale 7 both ways, data beyond the
/// unscaled window before and after the server's first plain ACK, a SACK.
fn scaled_flow() -> Vec<(&'static str, Vec<u8>)> {
    let c = (CLIENT, 1030);
    let s = (SERVER, 80);
    let ts = [1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1];
    let mut sack = vec![1, 1, 5, 10];
    sack.extend_from_slice(&(1001u32 + 2800).to_be_bytes());
    sack.extend_from_slice(&(1001u32 + 4200).to_be_bytes());
    let mut flow = vec![
        (
            "ws syn",
            tcp_opts(c, s, (1000, 0, SYN), 64240, &syn_options(7), 0),
        ),
        (
            "ws synack",
            tcp_opts(s, c, (5000, 1001, SYN | ACK), 65160, &syn_options(7), 0),
        ),
        ("ws ack", tcp_opts(c, s, (1001, 5001, ACK), 502, &ts, 0)),
        (
            "ws data 1",
            tcp_opts(c, s, (1001, 5001, ACK | PSH), 502, &ts, 1400),
        ),
        (
            "ws data 2",
            tcp_opts(c, s, (2401, 5001, ACK | PSH), 502, &ts, 1400),
        ),
        (
            "ws data 3",
            tcp_opts(c, s, (3801, 5001, ACK | PSH), 502, &ts, 1400),
        ),
        ("ws sack", tcp_opts(s, c, (5001, 2401, ACK), 509, &sack, 0)),
        ("ws ack all", tcp_opts(s, c, (5001, 5201, ACK), 509, &ts, 0)),
    ];
    // Fill the scaled window (509 << 7 = 65152 bytes past 5201) in 1400-byte segments,
    // then go beyond it.
    let mut seq = 5201u32;
    while seq + 1400 <= 5201 + 65152 {
        flow.push((
            "ws fill",
            tcp_opts(c, s, (seq, 5001, ACK | PSH), 502, &ts, 1400),
        ));
        seq += 1400;
    }
    flow.push((
        "ws beyond",
        tcp_opts(c, s, (5201 + 65152 + 2800, 5001, ACK | PSH), 502, &ts, 1400),
    ));
    flow.push((
        "ws far",
        tcp_opts(c, s, (1001 + 200_000, 5001, ACK | PSH), 502, &ts, 100),
    ));
    flow
}

/// An SCTP packet: common header with `vtag`, then the chunks (CRC32c filled in).
fn sctp(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    vtag: u32,
    chunks: &[Vec<u8>],
) -> Vec<u8> {
    let mut l4 = ports(sport, dport, &vtag.to_be_bytes());
    l4.extend_from_slice(&[0; 4]);
    for c in chunks {
        l4.extend_from_slice(c);
    }
    v4(src, dst, 132, &l4)
}

/// A chunk: type, flags, value (padded to 4 bytes; the length field excludes the padding).
fn chunk(kind: u8, flags: u8, value: &[u8]) -> Vec<u8> {
    let mut c = vec![kind, flags];
    c.extend_from_slice(&((4 + value.len()) as u16).to_be_bytes());
    c.extend_from_slice(value);
    c.resize(c.len().div_ceil(4) * 4, 0);
    c
}

/// INIT (1) or INIT ACK (2) announcing `tag`; INIT ACK carries a 4-byte state cookie.
fn init_chunk(kind: u8, tag: u32) -> Vec<u8> {
    let mut v = tag.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1]);
    if kind == 2 {
        v.extend_from_slice(&[0, 7, 0, 8, 0xc0, 0x0c, 0x1e, 0x00]);
    }
    chunk(kind, 0, &v)
}

/// Associations: one established with data, one half open, one shut down cleanly, one
/// INIT only; out-of-the-blue and wrong-tag packets.
fn sctp_script() -> Vec<(&'static str, Vec<u8>)> {
    let c2s =
        |sport: u16, vtag: u32, chunks: &[Vec<u8>]| sctp(CLIENT, sport, SERVER, 9899, vtag, chunks);
    let s2c =
        |dport: u16, vtag: u32, chunks: &[Vec<u8>]| sctp(SERVER, 9899, CLIENT, dport, vtag, chunks);
    let (a, b) = (0x0a0a_0a0a, 0x0b0b_0b0b);
    let data = chunk(
        0,
        3,
        &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, b'd', b'a', b't', b'a'],
    );
    let sack = chunk(3, 0, &[0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    let mut out = Vec::new();
    for (sport, last) in [(5001u16, 4), (5002, 1), (5003, 9), (5004, 0)] {
        let steps: Vec<(&'static str, Vec<u8>)> = vec![
            ("sctp init", c2s(sport, 0, &[init_chunk(1, a)])),
            ("sctp init ack", s2c(sport, a, &[init_chunk(2, b)])),
            (
                "sctp cookie echo",
                c2s(sport, b, &[chunk(10, 0, &[0xc0, 0x0c, 0x1e, 0x00])]),
            ),
            ("sctp cookie ack", s2c(sport, a, &[chunk(11, 0, &[])])),
            ("sctp data", c2s(sport, b, std::slice::from_ref(&data))),
            ("sctp sack", s2c(sport, a, std::slice::from_ref(&sack))),
            (
                "sctp shutdown",
                c2s(sport, b, &[chunk(7, 0, &[0, 0, 0, 1])]),
            ),
            ("sctp shutdown ack", s2c(sport, a, &[chunk(8, 0, &[])])),
            (
                "sctp shutdown complete",
                c2s(sport, b, &[chunk(14, 0, &[])]),
            ),
            (
                "sctp data after close",
                c2s(sport, b, std::slice::from_ref(&data)),
            ),
        ];
        out.extend(steps.into_iter().take(last + 1));
    }
    out.push((
        "sctp wrong tag",
        c2s(5001, 0x1234, std::slice::from_ref(&data)),
    ));
    out.push(("sctp data ootb", c2s(5005, b, &[data])));
    out.push(("sctp abort ootb", c2s(5006, b, &[chunk(6, 0, &[])])));
    out.push(("sctp init nonzero tag", c2s(5007, 9, &[init_chunk(1, a)])));
    out
}

fn c2s(sport: u16, seq: u32, ack: u32, flags: u8, data: usize) -> Vec<u8> {
    tcp(CLIENT, sport, SERVER, 80, seq, ack, flags, data)
}

fn s2c(dport: u16, seq: u32, ack: u32, flags: u8, data: usize) -> Vec<u8> {
    tcp(SERVER, 80, CLIENT, dport, seq, ack, flags, data)
}

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&[0, 12, 0, 0, b'p', b'i', b'n', b'g']);
    v4(src, dst, 17, &l4)
}

fn icmp(src: [u8; 4], dst: [u8; 4], ty: u8, code: u8, rest: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut l4 = vec![ty, code, 0, 0];
    l4.extend_from_slice(&rest);
    l4.extend_from_slice(data);
    v4(src, dst, 1, &l4)
}

/// The scripted sequence: (what it exercises, packet).
fn script() -> Vec<(&'static str, Vec<u8>)> {
    let quoted = udp(CLIENT, 6000, SERVER, 53);
    let mut bad = c2s(1009, 100, 0, SYN, 0);
    bad[36] ^= 0x55;
    let mut all = scaled_flow();
    all.extend(sctp_script());
    all.extend(vec![
        // Full handshake, data both ways: ESTABLISHED, ASSURED.
        ("hs syn", c2s(1001, 1000, 0, SYN, 0)),
        ("hs synack", s2c(1001, 5000, 1001, SYN | ACK, 0)),
        ("hs ack", c2s(1001, 1001, 5001, ACK, 0)),
        ("hs data", c2s(1001, 1001, 5001, ACK | PSH, 100)),
        ("hs data ack", s2c(1001, 5001, 1101, ACK, 0)),
        // SYN only: SYN_SENT; a retransmission stays NEW.
        ("syn only", c2s(1002, 2000, 0, SYN, 0)),
        ("syn retrans", c2s(1002, 2000, 0, SYN, 0)),
        // SYN, SYN/ACK: SYN_RECV.
        ("half syn", c2s(1003, 3000, 0, SYN, 0)),
        ("half synack", s2c(1003, 7000, 3001, SYN | ACK, 0)),
        // Full close: TIME_WAIT, then a new SYN on the same tuple reopens it.
        ("close syn", c2s(1004, 4000, 0, SYN, 0)),
        ("close synack", s2c(1004, 8000, 4001, SYN | ACK, 0)),
        ("close ack", c2s(1004, 4001, 8001, ACK, 0)),
        ("close fin", c2s(1004, 4001, 8001, FIN | ACK, 0)),
        ("close fin ack", s2c(1004, 8001, 4002, ACK, 0)),
        ("close fin2", s2c(1004, 8001, 4002, FIN | ACK, 0)),
        ("close last ack", c2s(1004, 4002, 8002, ACK, 0)),
        ("tw close syn", c2s(1005, 9000, 0, SYN, 0)),
        ("tw close synack", s2c(1005, 9500, 9001, SYN | ACK, 0)),
        ("tw close ack", c2s(1005, 9001, 9501, ACK, 0)),
        ("tw close fin", c2s(1005, 9001, 9501, FIN | ACK, 0)),
        ("tw close fin2", s2c(1005, 9501, 9002, FIN | ACK, 0)),
        ("tw close last ack", c2s(1005, 9002, 9502, ACK, 0)),
        ("tw reopen syn", c2s(1005, 20000, 0, SYN, 0)),
        // Half close by the client: FIN_WAIT, then its ACK: CLOSE_WAIT.
        ("fin only syn", c2s(1006, 100, 0, SYN, 0)),
        ("fin only synack", s2c(1006, 200, 101, SYN | ACK, 0)),
        ("fin only ack", c2s(1006, 101, 201, ACK, 0)),
        ("fin only fin", c2s(1006, 101, 201, FIN | ACK, 0)),
        ("fin only fin ack", s2c(1006, 201, 102, ACK, 0)),
        // Loose pick-up of a mid-stream ACK; the reply, then more: ASSURED.
        ("loose ack", c2s(1007, 55555, 66666, ACK, 0)),
        ("loose again", c2s(1007, 55555, 66666, ACK, 0)),
        ("loose reply", s2c(1007, 66666, 55555, ACK, 0)),
        ("loose more", c2s(1007, 55555, 66666, ACK | PSH, 20)),
        // Window tracking after a handshake: out-of-window data and ACKs of unseen data
        // are INVALID; a SYN or SYN/ACK inside an established connection and an old
        // retransmission are let through untouched.
        ("win syn", c2s(1020, 1000, 0, SYN, 0)),
        ("win synack", s2c(1020, 5000, 1001, SYN | ACK, 0)),
        ("win ack", c2s(1020, 1001, 5001, ACK, 0)),
        (
            "win far seq",
            c2s(1020, 1001 + 10_000_000, 5001, ACK | PSH, 10),
        ),
        ("win ack unseen", c2s(1020, 1001, 5001 + 100_000, ACK, 0)),
        ("win syn again", c2s(1020, 77777, 0, SYN, 0)),
        ("win synack again", s2c(1020, 5000, 1001, SYN | ACK, 0)),
        (
            "win old data",
            c2s(1020, 1001u32.wrapping_sub(200_000), 5001, ACK | PSH, 10),
        ),
        ("win fin", s2c(1020, 5001, 1001, FIN | ACK, 0)),
        // RST answering a SYN kills the entry; RST after the handshake: CLOSE.
        ("rst syn", c2s(1008, 500, 0, SYN, 0)),
        ("rst reply", s2c(1008, 0, 501, RST | ACK, 0)),
        ("rst2 syn", c2s(1010, 600, 0, SYN, 0)),
        ("rst2 synack", s2c(1010, 900, 601, SYN | ACK, 0)),
        ("rst2 ack", c2s(1010, 601, 901, ACK, 0)),
        ("rst2 rst", c2s(1010, 601, 901, RST | ACK, 0)),
        // INVALID: RST / SYN-ACK with no connection, originator ACK in SYN_SENT, bad
        // checksum, a bare FIN.
        ("rst nothing", c2s(1011, 1, 0, RST, 0)),
        ("synack nothing", c2s(1012, 1, 1, SYN | ACK, 0)),
        ("ack in syn_sent syn", c2s(1013, 700, 0, SYN, 0)),
        ("ack in syn_sent ack", c2s(1013, 701, 1, ACK, 0)),
        ("bad checksum", bad),
        ("bare fin", c2s(1014, 1, 0, FIN, 0)),
        // UDP one way, and replied.
        ("udp one way", udp(CLIENT, 6001, SERVER, 53)),
        ("udp req", quoted.clone()),
        ("udp reply", udp(SERVER, 53, CLIENT, 6000)),
        // ICMP echo and reply; a reply without request.
        ("echo", icmp(CLIENT, SERVER, 8, 0, [0, 7, 0, 1], b"ping")),
        (
            "echo reply",
            icmp(SERVER, CLIENT, 0, 0, [0, 7, 0, 1], b"ping"),
        ),
        (
            "stray echo reply",
            icmp(SERVER, CLIENT, 0, 0, [0, 8, 0, 1], b"ping"),
        ),
        // ICMP errors quoting a known flow (RELATED) and an unknown one (INVALID).
        (
            "port unreachable",
            icmp(SERVER, CLIENT, 3, 3, [0; 4], &quoted),
        ),
        (
            "unreachable unknown",
            icmp(SERVER, CLIENT, 3, 3, [0; 4], &udp(CLIENT, 6999, SERVER, 53)),
        ),
        // RST from the client, then its SYN: the closed connection is reopened. RST from
        // the server, then a client SYN: ignored (the SYN/ACK answering it resyncs).
        ("reopen syn", c2s(1021, 100, 0, SYN, 0)),
        ("reopen synack", s2c(1021, 300, 101, SYN | ACK, 0)),
        ("reopen ack", c2s(1021, 101, 301, ACK, 0)),
        ("reopen rst", c2s(1021, 101, 301, RST | ACK, 0)),
        ("reopen new syn", c2s(1021, 5000, 0, SYN, 0)),
        ("srv rst syn", c2s(1022, 100, 0, SYN, 0)),
        ("srv rst synack", s2c(1022, 300, 101, SYN | ACK, 0)),
        ("srv rst ack", c2s(1022, 101, 301, ACK, 0)),
        ("srv rst", s2c(1022, 301, 101, RST | ACK, 0)),
        ("srv rst new syn", c2s(1022, 7000, 0, SYN, 0)),
        ("srv rst new synack", s2c(1022, 9000, 7001, SYN | ACK, 0)),
        ("srv rst new ack", c2s(1022, 7001, 9001, ACK, 0)),
        // ICMP errors about a TCP flow (8 quoted bytes) from a router, and about an echo.
        (
            "time exceeded tcp",
            icmp(
                [10, 9, 1, 9],
                CLIENT,
                11,
                0,
                [0; 4],
                &c2s(1001, 1101, 5001, ACK, 0)[..28],
            ),
        ),
        (
            "unreachable echo",
            icmp(
                SERVER,
                CLIENT,
                3,
                1,
                [0; 4],
                &icmp(CLIENT, SERVER, 8, 0, [0, 7, 0, 1], b"ping"),
            ),
        ),
        // Generic protocols: ESP and an experimental number, one way; IPIP both ways.
        (
            "esp",
            v4(CLIENT, SERVER, 50, &[0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
        ),
        ("proto 253", v4(CLIENT, SERVER, 253, &[1, 2, 3, 4])),
        (
            "ipip",
            v4(
                CLIENT,
                SERVER,
                4,
                &v4([1, 1, 1, 1], [2, 2, 2, 2], 253, &[0; 4]),
            ),
        ),
        (
            "ipip back",
            v4(
                SERVER,
                CLIENT,
                4,
                &v4([2, 2, 2, 2], [1, 1, 1, 1], 253, &[0; 4]),
            ),
        ),
        // GRE one way.
        (
            "gre",
            v4(CLIENT, SERVER, 47, &[0, 0, 0x08, 0x00, 0x45, 0, 0, 20]),
        ),
    ]);
    all
}

/// Gives packet `i` its TTL (its identity in the counter rules). Only the IP header
/// checksum is refreshed, so a deliberately bad L4 checksum stays bad.
fn with_ttl(mut p: Vec<u8>, ttl: u8) -> Vec<u8> {
    p[8] = ttl;
    ipv4::Packet::new_unchecked(&mut p[..]).fill_checksum();
    p
}

fn ruleset(n: usize) -> String {
    let mut r = String::from("*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n");
    for i in 0..n {
        for s in STATES {
            r.push_str(&format!(
                "-A PREROUTING -m ttl --ttl-eq {} -m conntrack --ctstate {s}\n",
                FIRST_TTL as usize + i
            ));
        }
    }
    r.push_str("COMMIT\n");
    r
}

/// `conntrack -L` lines with the timeout replaced by `*` and spacing normalised, sorted,
/// each with its timeout.
fn normalise(lines: &[String]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = lines
        .iter()
        .filter(|l| l.contains("src="))
        .map(|l| {
            let mut f: Vec<&str> = l.split_whitespace().collect();
            let secs = f.get(2).and_then(|s| s.parse().ok()).unwrap_or(-1);
            if f.len() > 2 {
                f[2] = "*";
            }
            (f.join(" "), secs)
        })
        .collect();
    out.sort();
    out
}

fn addr(o: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(o))
}

/// The three namespaces, wired and quiet (see the module notes).
struct Topology {
    dev: Netns,
    peer: Netns,
    _far: Netns,
    link: LinkHeader,
}

fn topology() -> Option<Topology> {
    if let Err(why) =
        kernel_available().and_then(|()| common::root_with(&["ethtool", "python3", "conntrack"]))
    {
        skip(&why);
        return None;
    }
    let dev = Netns::new("ct");
    let peer = Netns::new("ct");
    let far = Netns::new("ct");
    dev.out(&format!(
        "set -e
         ip link set lo up
         ip link add d0 type veth peer name p0 netns {peer}
         ip link add d1 type veth peer name p1 netns {far}
         ip addr add 10.9.0.1/24 dev d0
         ip addr add 10.9.1.1/24 dev d1
         ip link set d0 up
         ip link set d1 up
         sysctl -qw net.ipv4.ip_forward=1
         sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.d0.rp_filter=0 net.ipv4.conf.d1.rp_filter=0
         sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.d0.send_redirects=0 net.ipv4.conf.d1.send_redirects=0
         sysctl -qw net.ipv6.conf.all.disable_ipv6=1
         ethtool -K d0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
         ethtool -K d1 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true",
        peer = peer.name,
        far = far.name
    ));
    for (ns, dev_name) in [(&peer, "p0"), (&far, "p1")] {
        ns.out(&format!(
            "set -e
             ip link set lo up
             sysctl -qw net.ipv6.conf.all.disable_ipv6=1
             ip link set {dev_name} up
             ethtool -K {dev_name} rx off tx off tso off gso off gro off >/dev/null 2>&1 || true"
        ));
    }
    let d0_mac = mac_of(&dev.out("cat /sys/class/net/d0/address"));
    let p0_text = peer.out("cat /sys/class/net/p0/address");
    let p1_text = far.out("cat /sys/class/net/p1/address");
    let mut neigh = String::from("set -e\n");
    for host in 2..40 {
        neigh.push_str(&format!(
            "ip neigh replace 10.9.0.{host} lladdr {} dev d0 nud permanent\n",
            p0_text.trim()
        ));
    }
    neigh.push_str(&format!(
        "ip neigh replace 10.9.1.2 lladdr {} dev d1 nud permanent\n",
        p1_text.trim()
    ));
    dev.out(&neigh);
    let link = LinkHeader {
        dst: d0_mac,
        src: mac_of(&p0_text),
    };
    Some(Topology {
        dev,
        peer,
        _far: far,
        link,
    })
}

#[test]
fn ctstate_and_table_agree_with_kernel() {
    // `_far` stays bound: dropping it would delete the sink and its veth with it.
    let Some(Topology {
        dev,
        peer,
        link,
        _far,
    }) = topology()
    else {
        return;
    };
    let packets: Vec<(&str, Vec<u8>)> = script()
        .into_iter()
        .enumerate()
        .map(|(i, (what, p))| (what, with_ttl(p, FIRST_TTL + i as u8)))
        .collect();
    let o = dev.sh("iptables-nft-restore", &ruleset(packets.len()));
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let frames: Vec<(LinkHeader, &[u8])> = packets.iter().map(|(_, p)| (link, &p[..])).collect();
    send_frames(&peer, "p0", 0x0800, &frames);
    let saved = dev.out("iptables-nft-save -c -t mangle");
    let kernel_list: Vec<String> = dev
        .out("conntrack -L 2>/dev/null")
        .lines()
        .map(String::from)
        .collect();

    // The kernel's state per packet, from the counters.
    let mut kernel_states = vec![Vec::new(); packets.len()];
    for line in saved.lines().filter(|l| l.contains("--ttl-eq")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let hits: u64 = f[0]
            .trim_matches(['[', ']'])
            .split(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("counter");
        let ttl: usize = f[f.iter().position(|w| *w == "--ttl-eq").expect("ttl") + 1]
            .parse()
            .expect("ttl");
        let state = f[f.iter().position(|w| *w == "--ctstate").expect("state") + 1];
        if hits > 0 {
            kernel_states[ttl - FIRST_TTL as usize].push(state.to_string());
        }
    }

    // fwbench's side: every packet in order, 2 ms apart; new connections survive.
    let mut table = Table::new(Config::default());
    let mut now = 1_000_000_000_000i64;
    let mut problems = Vec::new();
    for (i, (what, p)) in packets.iter().enumerate() {
        let info = ip::parse(p).expect("parsable");
        let l = table.packet_in(now, p, &info);
        let ours = match l {
            Lookup::Invalid { .. } => "INVALID",
            Lookup::Untracked => "UNTRACKED",
            Lookup::Tracked { state, id, .. } => {
                if table.get(id).is_some_and(|c| !c.is_confirmed()) {
                    table.confirm(id);
                }
                match state {
                    CtState::New => "NEW",
                    CtState::Established => "ESTABLISHED",
                    CtState::Related => "RELATED",
                }
            }
        };
        if kernel_states[i] != [ours] {
            problems.push(format!(
                "packet {i} ({what}): kernel {:?}, fwbench {ours}",
                kernel_states[i]
            ));
        }
        now += 2_000_000;
    }
    // The exact layout before the timeout ("tcp      6 "): protocol name padded to 8.
    let head = |l: &str| {
        let after_name = l.find(' ').unwrap_or(0);
        let rest = &l[after_name..];
        let num_start = after_name + rest.len() - rest.trim_start().len();
        let num_end = l[num_start..]
            .find(' ')
            .map_or(l.len(), |e| num_start + e + 1);
        l[..num_end].to_string()
    };
    let our_heads: Vec<String> = table.list(now).iter().map(|l| head(l)).collect();
    for l in kernel_list.iter().filter(|l| l.contains("src=")) {
        if !our_heads.contains(&head(l)) {
            problems.push(format!("layout {:?} not produced by fwbench: {l}", head(l)));
        }
    }
    let ours = normalise(&table.list(now));
    let theirs = normalise(&kernel_list);
    let find = |list: &[(String, i64)], l: &str| list.iter().find(|(x, _)| x == l).map(|&(_, s)| s);
    for (l, secs) in &theirs {
        match find(&ours, l) {
            None => problems.push(format!("only in kernel: {l}")),
            // The kernel's clock ran on while we slept before reading: allow 3 s.
            Some(ours) if !(0..=3).contains(&(ours - secs)) => {
                problems.push(format!("timeout: kernel {secs}, fwbench {ours}: {l}"))
            }
            Some(_) => {}
        }
    }
    for (l, _) in ours.iter().filter(|(l, _)| find(&theirs, l).is_none()) {
        problems.push(format!("only in fwbench: {l}"));
    }
    assert!(
        theirs.len() >= 10,
        "conntrack -L shows too little: {theirs:?}"
    );
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let _ = (addr(CLIENT), NatRange::single(addr(SERVER)));
}

const NAT_RULES: &str = "*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.9.1.77/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.9.1.2:5353
-A POSTROUTING -p udp -m udp --dport 9 -j SNAT --to-source 10.9.1.100-10.9.1.120
-A POSTROUTING -p udp -m udp --dport 11 -j SNAT --to-source 10.9.1.100-10.9.1.120 --persistent
-A POSTROUTING -p tcp -j SNAT --to-source 10.9.1.50
-A POSTROUTING -p udp -m udp --dport 10 -j SNAT --to-source 10.9.1.60:2000-2010
COMMIT
";

fn host(h: u8) -> [u8; 4] {
    [10, 9, 0, h]
}

/// What the NAT rules above do to a new connection's first packet, as the replay driver
/// will ask `Table` for it: DNAT in PREROUTING (else the null binding), then SNAT in
/// POSTROUTING on the translated packet (else the null binding).
fn nat_like_rules(table: &mut Table, id: fwbench::conntrack::ConnId) {
    use fwbench::wire::rewrite::Manip;
    let t = table.conn(id).original;
    let udp_to = |port: u16| t.protocol == 17 && t.dst_port == port;
    let dnat = (t.dst == addr([10, 9, 1, 77]) && udp_to(53)).then(|| NatRange {
        ports: Some((5353, 5353)),
        ..NatRange::single(addr(SERVER))
    });
    table
        .setup_nat(id, Manip::Dst, dnat.as_ref())
        .expect("dnat");
    let now = table.conn(id).reply.invert();
    let spread = |persistent| NatRange {
        max_addr: addr([10, 9, 1, 120]),
        persistent,
        ..NatRange::single(addr([10, 9, 1, 100]))
    };
    let snat = if now.protocol == 17 && now.dst_port == 9 {
        Some(spread(false))
    } else if now.protocol == 17 && now.dst_port == 11 {
        Some(spread(true))
    } else if now.protocol == 6 {
        Some(NatRange::single(addr([10, 9, 1, 50])))
    } else if now.protocol == 17 && now.dst_port == 10 {
        Some(NatRange {
            ports: Some((2000, 2010)),
            ..NatRange::single(addr([10, 9, 1, 60]))
        })
    } else {
        None
    };
    table
        .setup_nat(id, Manip::Src, snat.as_ref())
        .expect("snat");
}

/// The reply tuple's destination port of a `conntrack -L` line (the NATed source port).
fn reply_dport(line: &str) -> Option<u16> {
    line.split_whitespace()
        .filter_map(|w| w.strip_prefix("dport="))
        .nth(1)
        .and_then(|p| p.parse().ok())
}

/// The line with its reply destination port masked.
fn mask_reply_dport(line: &str) -> String {
    let mut seen = 0;
    line.split_whitespace()
        .map(|w| {
            if w.starts_with("dport=") {
                seen += 1;
                if seen == 2 {
                    return "dport=?".to_string();
                }
            }
            w.to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn nat_bindings_agree_with_kernel() {
    // `_far` stays bound: dropping it would delete the sink and its veth with it.
    let Some(Topology {
        dev,
        peer,
        link,
        _far,
    }) = topology()
    else {
        return;
    };
    let o = dev.sh("iptables-nft-restore", NAT_RULES);
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let mut packets: Vec<Vec<u8>> = Vec::new();
    // Address choice within a range: the kernel's jhash of source and destination.
    for h in 2..32 {
        packets.push(udp(host(h), 7000, SERVER, 9));
        packets.push(udp(host(h), 7003, SERVER, 11));
    }
    // Port kept; then clashes in each port class; the reply finds the SNATed connection.
    let mut random_port: Vec<(&str, std::ops::RangeInclusive<u16>)> = Vec::new();
    packets.push(tcp(host(2), 7000, SERVER, 80, 1, 0, SYN, 0));
    packets.push(tcp(host(3), 7000, SERVER, 80, 1, 0, SYN, 0));
    random_port.push((
        "src=10.9.0.3 dst=10.9.1.2 sport=7000 dport=80",
        1024..=65535,
    ));
    packets.push(tcp(host(4), 700, SERVER, 80, 1, 0, SYN, 0));
    packets.push(tcp(host(5), 700, SERVER, 80, 1, 0, SYN, 0));
    random_port.push(("src=10.9.0.5 dst=10.9.1.2 sport=700 dport=80", 600..=1023));
    packets.push(tcp(host(6), 300, SERVER, 80, 1, 0, SYN, 0));
    packets.push(tcp(host(7), 300, SERVER, 80, 1, 0, SYN, 0));
    random_port.push(("src=10.9.0.7 dst=10.9.1.2 sport=300 dport=80", 1..=511));
    packets.push(tcp(SERVER, 80, [10, 9, 1, 50], 7000, 9, 2, SYN | ACK, 0));
    // A port range: out of range → somewhere in it; in range → kept.
    packets.push(udp(host(3), 2005, SERVER, 10));
    packets.push(udp(host(2), 7001, SERVER, 10));
    random_port.push(("src=10.9.0.2 dst=10.9.1.2 sport=7001 dport=10", 2000..=2010));
    // DNAT with a port.
    packets.push(udp(host(8), 7002, [10, 9, 1, 77], 53));
    packets.push(udp(SERVER, 5353, host(8), 7002));

    let frames: Vec<(LinkHeader, &[u8])> = packets.iter().map(|p| (link, &p[..])).collect();
    send_frames(&peer, "p0", 0x0800, &frames);
    let kernel_list: Vec<String> = dev
        .out("conntrack -L 2>/dev/null")
        .lines()
        .map(String::from)
        .collect();

    let mut table = Table::new(Config::default());
    let mut now = 1_000_000_000_000i64;
    for p in &packets {
        let info = ip::parse(p).expect("parsable");
        if let Lookup::Tracked {
            id,
            state: CtState::New,
            ..
        } = table.packet_in(now, p, &info)
        {
            if !table.conn(id).is_confirmed() {
                nat_like_rules(&mut table, id);
                table.confirm(id);
            }
        }
        now += 2_000_000;
    }
    let ours = normalise(&table.list(now));
    let theirs = normalise(&kernel_list);
    assert_eq!(
        theirs.len(),
        ours.len(),
        "kernel: {theirs:#?}\nfwbench: {ours:#?}"
    );
    let mut problems = Vec::new();
    for (line, _) in &theirs {
        let class = |p: u16| match p {
            1..=511 => 1..=511,
            512..=1023 => 600..=1023,
            _ => 1024..=65535,
        };
        let orig_sport = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("sport="))
            .and_then(|p| p.parse::<u16>().ok())
            .expect("sport");
        // A port the kernel changed on a clash inside the address range: random there.
        let moved = (line.contains("dport=9 ") || line.contains("dport=11 "))
            && reply_dport(line) != Some(orig_sport);
        let clash = ("", class(orig_sport));
        let random = random_port
            .iter()
            .find(|(orig, _)| line.contains(orig))
            .or(moved.then_some(&clash));
        let found = match random {
            None => ours.iter().any(|(l, _)| l == line),
            Some((_, range)) => {
                let kernel_port = reply_dport(line).expect("port");
                if !range.contains(&kernel_port) {
                    problems.push(format!(
                        "kernel port {kernel_port} outside {range:?}: {line}"
                    ));
                }
                ours.iter().any(|(l, _)| {
                    mask_reply_dport(l) == mask_reply_dport(line)
                        && reply_dport(l).is_some_and(|p| range.contains(&p))
                })
            }
        };
        if !found {
            problems.push(format!("no fwbench entry like the kernel's {line}"));
        }
    }
    // Two connections from one source share its mapping (find_appropriate_src), whatever
    // port it got.
    let mapping = |list: &[(String, i64)], src: &str| -> Vec<Option<u16>> {
        list.iter()
            .filter(|(l, _)| l.contains(src))
            .map(|(l, _)| reply_dport(l))
            .collect()
    };
    for h in 2..32 {
        let src = format!("src=10.9.0.{h} dst=10.9.1.2 sport=7000 dport=");
        let (k, f) = (mapping(&theirs, &src), mapping(&ours, &src));
        if k.len() >= 2 && k.iter().all(|p| *p == k[0]) && !f.iter().all(|p| *p == f[0]) {
            problems.push(format!(
                "{src}: kernel shares one mapping {k:?}, fwbench {f:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\nfwbench: {ours:#?}",
        problems.join("\n")
    );
}

/// UDP turns into a "stream" (120 s, ASSURED) when a packet follows a reply more than two
/// seconds after the first packet; before that every packet refreshes 30 s. The test waits
/// 3 s, well clear of the threshold (sending starts a Python process, which takes time).
#[test]
fn udp_stream_after_two_seconds_agrees_with_kernel() {
    let Some(Topology {
        dev,
        peer,
        link,
        _far,
    }) = topology()
    else {
        return;
    };
    let o = dev.sh("iptables-nft-restore", "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -m conntrack --ctstate INVALID\nCOMMIT\n");
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let first = [
        udp(CLIENT, 7100, SERVER, 53),
        udp(SERVER, 53, CLIENT, 7100),
        udp(CLIENT, 7101, SERVER, 53),
        udp(SERVER, 53, CLIENT, 7101),
    ];
    let later = [udp(CLIENT, 7100, SERVER, 53), udp(CLIENT, 7102, SERVER, 53)];
    let started = std::time::Instant::now();
    send_frames(
        &peer,
        "p0",
        0x0800,
        &first.iter().map(|p| (link, &p[..])).collect::<Vec<_>>(),
    );
    std::thread::sleep(std::time::Duration::from_millis(3000).saturating_sub(started.elapsed()));
    let gap = started.elapsed();
    send_frames(
        &peer,
        "p0",
        0x0800,
        &later.iter().map(|p| (link, &p[..])).collect::<Vec<_>>(),
    );
    let kernel_list: Vec<String> = dev
        .out("conntrack -L 2>/dev/null")
        .lines()
        .map(String::from)
        .collect();

    let mut table = Table::new(Config::default());
    let mut now = 1_000_000_000_000i64;
    for (i, p) in first.iter().chain(later.iter()).enumerate() {
        if i == first.len() {
            now += gap.as_nanos() as i64;
        }
        let info = ip::parse(p).expect("parsable");
        if let Lookup::Tracked { id, .. } = table.packet_in(now, p, &info) {
            if !table.conn(id).is_confirmed() {
                table.confirm(id);
            }
        }
        now += 2_000_000;
    }
    let ours = normalise(&table.list(now));
    let theirs = normalise(&kernel_list);
    assert_eq!(ours.len(), 3, "{ours:#?}");
    for ((k, ks), (f, fs)) in theirs.iter().zip(&ours) {
        assert_eq!(k, f);
        assert!(
            (0..=3).contains(&(fs - ks)),
            "timeout: kernel {ks}, fwbench {fs}: {k}"
        );
    }
    assert!(
        theirs[0].0.contains("[ASSURED]") && theirs[0].1 > 100,
        "{theirs:#?}"
    );
}

const CLIENT6: &str = "fd00:9::2";
const SERVER6: &str = "fd00:9:1::2";

fn v6(src: &str, dst: &str, next: u8, hop_limit: u8, l4: &[u8]) -> Vec<u8> {
    let s: std::net::Ipv6Addr = src.parse().expect("v6");
    let d: std::net::Ipv6Addr = dst.parse().expect("v6");
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(l4.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, hop_limit]);
    p.extend_from_slice(&s.octets());
    p.extend_from_slice(&d.octets());
    p.extend_from_slice(l4);
    verify::recompute(&mut p).expect("valid packet");
    p
}

fn ports(sport: u16, dport: u16, tail: &[u8]) -> Vec<u8> {
    [&sport.to_be_bytes()[..], &dport.to_be_bytes(), tail].concat()
}

/// Turns IPv6 on in the device (forwarding, fd00:9::/64 on d0, fd00:9:1::/64 on d1,
/// permanent neighbours for the client and server). False (after a skip) without
/// ip6tables.
fn enable_ipv6(dev: &Netns, peer: &Netns, far: &Netns) -> bool {
    if let Err(why) = common::root_with(&["ip6tables-nft-restore"]) {
        skip(&why);
        return false;
    }
    let far_mac = far.out("cat /sys/class/net/p1/address");
    let peer_mac = peer.out("cat /sys/class/net/p0/address");
    dev.out(&format!(
        "set -e
         sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.d0.disable_ipv6=0 net.ipv6.conf.d1.disable_ipv6=0
         sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.accept_ra=0
         ip -6 addr add fd00:9::1/64 dev d0 nodad
         ip -6 addr add fd00:9:1::1/64 dev d1 nodad
         ip -6 neigh replace {SERVER6} lladdr {} dev d1 nud permanent",
        far_mac.trim()
    ));
    let mut neigh = String::from("set -e\n");
    for h in 2..40 {
        neigh.push_str(&format!(
            "ip -6 neigh replace fd00:9::{h:x} lladdr {} dev d0 nud permanent\n",
            peer_mac.trim()
        ));
    }
    dev.out(&neigh);
    true
}

/// IPv6 SNAT to an address range: the kernel hashes all four words of the addresses.
#[test]
fn ipv6_snat_range_agrees_with_kernel() {
    use fwbench::wire::rewrite::Manip;
    let Some(Topology {
        dev,
        peer,
        link,
        _far,
    }) = topology()
    else {
        return;
    };
    if !enable_ipv6(&dev, &peer, &_far) {
        return;
    }
    let rules = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
        -A POSTROUTING -p udp -m udp --dport 9 -j SNAT --to-source fd00:9:1::100-fd00:9:1::1:0:20\n\
        -A POSTROUTING -p udp -m udp --dport 11 -j SNAT --to-source fd00:9:1::100-fd00:9:1::120 --persistent\nCOMMIT\n";
    let o = dev.sh("ip6tables-nft-restore", rules);
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let packets: Vec<Vec<u8>> = (2..40u16)
        .flat_map(|h| {
            let client = format!("fd00:9::{h:x}");
            [9u16, 11].map(|dport| {
                v6(
                    &client,
                    SERVER6,
                    17,
                    64,
                    &ports(7000 + h, dport, &[0, 12, 0, 0, 1, 2, 3, 4]),
                )
            })
        })
        .collect();
    send_frames(
        &peer,
        "p0",
        0x86dd,
        &packets.iter().map(|p| (link, &p[..])).collect::<Vec<_>>(),
    );
    let kernel_list: Vec<String> = dev
        .out("conntrack -L -f ipv6 2>/dev/null")
        .lines()
        .map(String::from)
        .collect();

    let mut table = Table::new(Config::default());
    for p in &packets {
        let info = ip::parse(p).expect("parsable");
        let Lookup::Tracked { id, .. } = table.packet_in(0, p, &info) else {
            panic!("not tracked");
        };
        let t = table.conn(id).original;
        let range = NatRange {
            max_addr: if t.dst_port == 9 {
                "fd00:9:1::1:0:20"
            } else {
                "fd00:9:1::120"
            }
            .parse()
            .expect("v6"),
            persistent: t.dst_port == 11,
            ..NatRange::single("fd00:9:1::100".parse().expect("v6"))
        };
        table.setup_nat(id, Manip::Src, Some(&range)).expect("snat");
        table.confirm(id);
    }
    let ours: Vec<String> = normalise(&table.list(0))
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    let theirs: Vec<String> = normalise(&kernel_list)
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert_eq!(theirs.len(), packets.len(), "{theirs:#?}");
    let differ: Vec<String> = theirs
        .iter()
        .zip(&ours)
        .filter(|(k, f)| k != f)
        .map(|(k, f)| format!("kernel  {k}\nfwbench {f}"))
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        theirs.len(),
        differ.join("\n")
    );
}

/// IPv6: ICMPv6 queries by id, neighbour discovery UNTRACKED, errors RELATED, TCP and UDP
/// by ports; the same per-packet comparison as for IPv4, packets told apart by hop limit.
#[test]
fn ipv6_ctstate_and_table_agree_with_kernel() {
    let Some(Topology {
        dev,
        peer,
        link,
        _far,
    }) = topology()
    else {
        return;
    };
    if !enable_ipv6(&dev, &peer, &_far) {
        return;
    }
    let udp_l4 = ports(6000, 53, &[0, 12, 0, 0, b'p', b'i', b'n', b'g']);
    let quoted = v6(CLIENT6, SERVER6, 17, 64, &udp_l4);
    let tcp_l4 = |sport: u16, dport: u16, seq: u32, ack: u32, flags: u8| {
        let mut t = ports(sport, dport, &seq.to_be_bytes());
        t.extend_from_slice(&ack.to_be_bytes());
        t.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
        t
    };
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(
        &"fd00:9::1"
            .parse::<std::net::Ipv6Addr>()
            .expect("v6")
            .octets(),
    );
    let script: Vec<(&str, &str, &str, u8, Vec<u8>)> = vec![
        (
            "echo",
            CLIENT6,
            SERVER6,
            58,
            vec![128, 0, 0, 0, 0, 7, 0, 1, b'x'],
        ),
        (
            "echo reply",
            SERVER6,
            CLIENT6,
            58,
            vec![129, 0, 0, 0, 0, 7, 0, 1, b'x'],
        ),
        (
            "stray reply",
            SERVER6,
            CLIENT6,
            58,
            vec![129, 0, 0, 0, 0, 8, 0, 1, b'x'],
        ),
        ("neighbour solicitation", CLIENT6, "fd00:9::1", 58, ns),
        ("udp", CLIENT6, SERVER6, 17, udp_l4.clone()),
        (
            "port unreachable",
            SERVER6,
            CLIENT6,
            58,
            [&[1u8, 4, 0, 0, 0, 0, 0, 0][..], &quoted].concat(),
        ),
        ("syn", CLIENT6, SERVER6, 6, tcp_l4(1001, 80, 100, 0, SYN)),
        (
            "synack",
            SERVER6,
            CLIENT6,
            6,
            tcp_l4(80, 1001, 500, 101, SYN | ACK),
        ),
        ("ack", CLIENT6, SERVER6, 6, tcp_l4(1001, 80, 101, 501, ACK)),
        (
            "rst nothing",
            CLIENT6,
            SERVER6,
            6,
            tcp_l4(1002, 80, 1, 0, RST),
        ),
    ];
    let packets: Vec<(&str, Vec<u8>)> = script
        .into_iter()
        .enumerate()
        .map(|(i, (what, s, d, next, l4))| (what, v6(s, d, next, FIRST_TTL + i as u8, &l4)))
        .collect();
    let mut rules = String::from("*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n");
    for i in 0..packets.len() {
        for s in STATES.iter().chain(&["UNTRACKED"]) {
            rules.push_str(&format!(
                "-A PREROUTING -m hl --hl-eq {} -m conntrack --ctstate {s}\n",
                FIRST_TTL as usize + i
            ));
        }
    }
    rules.push_str("COMMIT\n");
    let o = dev.sh("ip6tables-nft-restore", &rules);
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let frames: Vec<(LinkHeader, &[u8])> = packets.iter().map(|(_, p)| (link, &p[..])).collect();
    send_frames(&peer, "p0", 0x86dd, &frames);
    let saved = dev.out("ip6tables-nft-save -c -t mangle");
    let kernel_list: Vec<String> = dev
        .out("conntrack -L -f ipv6 2>/dev/null")
        .lines()
        .map(String::from)
        .collect();

    let mut kernel_states = vec![Vec::new(); packets.len()];
    for line in saved.lines().filter(|l| l.contains("--hl-eq")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let hits: u64 = f[0]
            .trim_matches(['[', ']'])
            .split(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("counter");
        let hl: usize = f[f.iter().position(|w| *w == "--hl-eq").expect("hl") + 1]
            .parse()
            .expect("hl");
        let state = f[f.iter().position(|w| *w == "--ctstate").expect("state") + 1];
        if hits > 0 {
            kernel_states[hl - FIRST_TTL as usize].push(state.to_string());
        }
    }
    let mut table = Table::new(Config::default());
    let mut now = 1_000_000_000_000i64;
    let mut problems = Vec::new();
    for (i, (what, p)) in packets.iter().enumerate() {
        let info = ip::parse(p).expect("parsable");
        let ours = match table.packet_in(now, p, &info) {
            Lookup::Invalid { .. } => "INVALID",
            Lookup::Untracked => "UNTRACKED",
            Lookup::Tracked { state, id, .. } => {
                if table.get(id).is_some_and(|c| !c.is_confirmed()) {
                    table.confirm(id);
                }
                match state {
                    CtState::New => "NEW",
                    CtState::Established => "ESTABLISHED",
                    CtState::Related => "RELATED",
                }
            }
        };
        if kernel_states[i] != [ours] {
            problems.push(format!(
                "packet {i} ({what}): kernel {:?}, fwbench {ours}",
                kernel_states[i]
            ));
        }
        now += 2_000_000;
    }
    let ours = normalise(&table.list(now));
    let theirs = normalise(&kernel_list);
    let (o, t): (Vec<&String>, Vec<&String>) = (
        ours.iter().map(|(l, _)| l).collect(),
        theirs.iter().map(|(l, _)| l).collect(),
    );
    if o != t {
        problems.push(format!(
            "conntrack -L differs:\nkernel {t:#?}\nfwbench {o:#?}"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(theirs.len(), 3, "{theirs:#?}");
}

/// ICMP errors RELATED to NATed flows are translated back, outer header and quoted packet
/// (`nf_nat_icmp_reply_translation`): the bytes the kernel forwards equal ours after
/// `nat_rewrite` / `nat_rewrite_embedded` and the forwarding TTL decrement.
#[test]
fn icmp_errors_about_nat_flows_agree_with_kernel() {
    use fwbench::conntrack::Dir;
    use fwbench::wire::rewrite::{self, Manip};
    let Some(Topology {
        dev,
        peer,
        link,
        _far,
    }) = topology()
    else {
        return;
    };
    if let Err(why) = common::root_with(&["tcpdump"]) {
        return skip(&why);
    }
    let rules = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
        -A PREROUTING -d 10.9.1.77/32 -p udp -m udp --dport 54 -j DNAT --to-destination 10.9.1.2:5454\n\
        -A POSTROUTING -p udp -m udp --dport 53 -j SNAT --to-source 10.9.1.50\nCOMMIT\n";
    let o = dev.sh("iptables-nft-restore", rules);
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let snat_req = udp(CLIENT, 6100, SERVER, 53);
    let snat_err = icmp(
        [10, 9, 1, 9],
        [10, 9, 1, 50],
        3,
        3,
        [0; 4],
        &udp([10, 9, 1, 50], 6100, SERVER, 53),
    );
    let dnat_req = udp(CLIENT, 6101, [10, 9, 1, 77], 54);
    let dnat_err = icmp(
        SERVER,
        CLIENT,
        3,
        3,
        [0; 4],
        &udp(CLIENT, 6101, SERVER, 5454),
    );
    let packets = [snat_req, snat_err, dnat_req, dnat_err];

    let pcap = std::env::temp_dir().join(format!("fwb-ct-{}-related.pcap", std::process::id()));
    let _ = std::fs::remove_file(&pcap);
    let cap = std::process::Command::new("ip")
        .args([
            "netns", "exec", &peer.name, "timeout", "3", "tcpdump", "-i", "p0", "-U", "-n", "-w",
        ])
        .arg(&pcap)
        .args(["-Q", "in", "icmp"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tcpdump");
    std::thread::sleep(std::time::Duration::from_millis(1000));
    send_frames(
        &peer,
        "p0",
        0x0800,
        &packets.iter().map(|p| (link, &p[..])).collect::<Vec<_>>(),
    );
    let _ = cap.wait_with_output();
    let mut reader = fwbench::capture::Reader::open(&pcap).expect("capture");
    let mut seen = Vec::new();
    while let Some(p) = reader.next_packet().expect("packet") {
        seen.push(p.data[14..].to_vec());
    }
    let _ = std::fs::remove_file(&pcap);

    // Ours: the same packets through Table; each error rewritten at PREROUTING (Dst) and
    // POSTROUTING (Src), then forwarded (TTL - 1).
    let mut table = Table::new(Config::default());
    let mut expected = Vec::new();
    for p in &packets {
        let info = ip::parse(p).expect("parsable");
        match table.packet_in(0, p, &info) {
            Lookup::Tracked {
                id,
                state: CtState::New,
                ..
            } => {
                let t = table.conn(id).original;
                let dnat = (t.dst == addr([10, 9, 1, 77]) && t.dst_port == 54).then(|| NatRange {
                    ports: Some((5454, 5454)),
                    ..NatRange::single(addr(SERVER))
                });
                table
                    .setup_nat(id, Manip::Dst, dnat.as_ref())
                    .expect("dnat");
                let snat = (t.dst_port == 53).then(|| NatRange::single(addr([10, 9, 1, 50])));
                table
                    .setup_nat(id, Manip::Src, snat.as_ref())
                    .expect("snat");
                table.confirm(id);
            }
            Lookup::Tracked {
                id,
                dir,
                state: CtState::Related,
            } => {
                assert_eq!(dir, Dir::Reply);
                let mut out = p.clone();
                for manip in [Manip::Dst, Manip::Src] {
                    if let Some((addr, _)) = table.nat_rewrite(id, dir, manip) {
                        let (inner, port) =
                            table.nat_rewrite_embedded(id, dir, manip).expect("inner");
                        rewrite::nat_embedded(&mut out, manip.invert(), inner, port)
                            .expect("inner nat");
                        rewrite::nat(&mut out, manip, addr, None).expect("outer nat");
                    }
                }
                out[8] -= 1;
                ipv4::Packet::new_unchecked(&mut out[..]).fill_checksum();
                expected.push(out);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen.len(), 2, "the kernel forwarded {} errors", seen.len());
    assert_eq!(expected.len(), 2);
    for (k, f) in seen.iter().zip(&expected) {
        assert_eq!(k, f, "kernel and fwbench differ:\n{k:02x?}\n{f:02x?}");
    }
    assert!(verify::verify(&seen[0]).expect("parsable").all_ok());
}

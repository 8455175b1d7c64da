//! Unit tests: the state machine and NAT choices on hand-built packets. The expectations
//! are the kernel's (tests/conntrack_kernel.rs checks the same sequences against it).

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::wire::ip;
use crate::wire::rewrite::Manip;
use crate::wire::verify;

const S: i64 = 1_000_000_000;
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;

const C: [u8; 4] = [10, 0, 0, 1];
const D: [u8; 4] = [10, 0, 1, 2];

fn a(o: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(o))
}

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
    l4.extend(std::iter::repeat(b'x').take(data));
    v4(src, dst, 6, &l4)
}

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&[0, 12, 0, 0, b'a', b'b', b'c', b'd']);
    v4(src, dst, 17, &l4)
}

fn icmp(src: [u8; 4], dst: [u8; 4], ty: u8, code: u8, rest: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut l4 = vec![ty, code, 0, 0];
    l4.extend_from_slice(&rest);
    l4.extend_from_slice(data);
    v4(src, dst, 1, &l4)
}

fn echo(src: [u8; 4], dst: [u8; 4], ty: u8, id: u16) -> Vec<u8> {
    let [h, l] = id.to_be_bytes();
    icmp(src, dst, ty, 0, [h, l, 0, 1], b"ping")
}

struct Run {
    t: Table,
    now: i64,
}

impl Run {
    fn new() -> Run {
        Run {
            t: Table::new(Config::default()),
            now: 1000 * S,
        }
    }

    /// One packet through conntrack, confirmed when new (it survived the hooks).
    fn send(&mut self, p: &[u8]) -> Lookup {
        let info = ip::parse(p).expect("parsable");
        let l = self.t.packet_in(self.now, p, &info);
        if let Lookup::Tracked { id, .. } = l {
            if !self.t.conn(id).is_confirmed() && self.t.get(id).is_some() {
                self.t.confirm(id);
            }
        }
        self.now += S / 100;
        l
    }

    fn state(&mut self, p: &[u8]) -> &'static str {
        match self.send(p) {
            Lookup::Invalid { .. } => "INVALID",
            Lookup::Untracked => "UNTRACKED",
            Lookup::Tracked {
                state: CtState::New,
                ..
            } => "NEW",
            Lookup::Tracked {
                state: CtState::Established,
                ..
            } => "ESTABLISHED",
            Lookup::Tracked {
                state: CtState::Related,
                ..
            } => "RELATED",
        }
    }

    fn list(&self) -> Vec<String> {
        self.t.list(self.now)
    }
}

fn handshake(r: &mut Run) {
    assert_eq!(r.state(&tcp(C, 40000, D, 80, 1000, 0, SYN, 0)), "NEW");
    assert_eq!(
        r.state(&tcp(D, 80, C, 40000, 5000, 1001, SYN | ACK, 0)),
        "ESTABLISHED"
    );
    assert_eq!(
        r.state(&tcp(C, 40000, D, 80, 1001, 5001, ACK, 0)),
        "ESTABLISHED"
    );
}

#[test]
fn handshake_reaches_established_and_assured() {
    let mut r = Run::new();
    assert_eq!(r.state(&tcp(C, 40000, D, 80, 1000, 0, SYN, 0)), "NEW");
    assert_eq!(
        r.list(),
        vec![
            "tcp      6 119 SYN_SENT src=10.0.0.1 dst=10.0.1.2 sport=40000 dport=80 [UNREPLIED] \
              src=10.0.1.2 dst=10.0.0.1 sport=80 dport=40000 mark=0 use=1"
        ]
    );
    assert_eq!(
        r.state(&tcp(D, 80, C, 40000, 5000, 1001, SYN | ACK, 0)),
        "ESTABLISHED"
    );
    assert!(r.list()[0].starts_with("tcp      6 59 SYN_RECV "));
    assert_eq!(
        r.state(&tcp(C, 40000, D, 80, 1001, 5001, ACK, 0)),
        "ESTABLISHED"
    );
    assert_eq!(
        r.list(),
        vec![
            "tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.1.2 sport=40000 dport=80 \
              src=10.0.1.2 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1"
        ]
    );
}

#[test]
fn data_and_fin_close_to_time_wait() {
    let mut r = Run::new();
    handshake(&mut r);
    assert_eq!(
        r.state(&tcp(C, 40000, D, 80, 1001, 5001, ACK | PSH, 100)),
        "ESTABLISHED"
    );
    // Unacknowledged data shortens the timeout to 300 s.
    assert!(r.list()[0].contains(" 299 ESTABLISHED "), "{:?}", r.list());
    assert_eq!(
        r.state(&tcp(D, 80, C, 40000, 5001, 1101, ACK, 0)),
        "ESTABLISHED"
    );
    assert!(r.list()[0].contains(" 431999 ESTABLISHED "));
    assert_eq!(
        r.state(&tcp(C, 40000, D, 80, 1101, 5001, FIN | ACK, 0)),
        "ESTABLISHED"
    );
    assert!(r.list()[0].contains(" FIN_WAIT "));
    assert_eq!(
        r.state(&tcp(D, 80, C, 40000, 5001, 1102, FIN | ACK, 0)),
        "ESTABLISHED"
    );
    assert!(r.list()[0].contains(" LAST_ACK "));
    assert_eq!(
        r.state(&tcp(C, 40000, D, 80, 1102, 5002, ACK, 0)),
        "ESTABLISHED"
    );
    assert!(r.list()[0].contains(" 119 TIME_WAIT "), "{:?}", r.list());
    // A new SYN on the same tuple replaces the closed connection.
    assert_eq!(r.state(&tcp(C, 40000, D, 80, 90000, 0, SYN, 0)), "NEW");
    assert_eq!(r.list().len(), 1);
    assert!(r.list()[0].contains(" SYN_SENT "));
}

#[test]
fn invalid_segments() {
    let mut r = Run::new();
    assert_eq!(r.state(&tcp(C, 1, D, 80, 1, 0, RST, 0)), "INVALID");
    assert_eq!(r.state(&tcp(C, 2, D, 80, 1, 1, SYN | ACK, 0)), "INVALID");
    assert_eq!(r.state(&tcp(C, 3, D, 80, 1, 0, FIN, 0)), "INVALID");
    assert_eq!(r.state(&tcp(C, 4, D, 80, 1, 0, 0, 0)), "INVALID");
    assert!(r.list().is_empty());
    // The originator's ACK while the connection is SYN_SENT.
    assert_eq!(r.state(&tcp(C, 5, D, 80, 100, 0, SYN, 0)), "NEW");
    assert_eq!(r.state(&tcp(C, 5, D, 80, 101, 7, ACK, 0)), "INVALID");
    // A bad checksum.
    let mut bad = tcp(C, 6, D, 80, 100, 0, SYN, 0);
    bad[36] ^= 0xff;
    assert_eq!(r.state(&bad), "INVALID");
    assert_eq!(r.list().len(), 1);
}

#[test]
fn loose_pickup_and_rst_kill() {
    let mut r = Run::new();
    assert_eq!(r.state(&tcp(C, 7, D, 80, 100, 200, ACK, 0)), "NEW");
    assert!(
        r.list()[0].starts_with("tcp      6 299 ESTABLISHED "),
        "{:?}",
        r.list()
    );
    assert!(r.list()[0].contains("[UNREPLIED]"));
    assert_eq!(r.state(&tcp(C, 7, D, 80, 100, 200, ACK, 0)), "NEW");
    // RST answering a SYN kills the unreplied connection.
    assert_eq!(r.state(&tcp(C, 8, D, 80, 100, 0, SYN, 0)), "NEW");
    assert_eq!(
        r.state(&tcp(D, 80, C, 8, 0, 101, RST | ACK, 0)),
        "ESTABLISHED"
    );
    assert_eq!(r.list().len(), 1);
}

#[test]
fn udp_timeouts_and_stream() {
    let mut r = Run::new();
    assert_eq!(r.state(&udp(C, 5000, D, 53)), "NEW");
    assert_eq!(r.state(&udp(C, 5000, D, 53)), "NEW");
    assert_eq!(r.state(&udp(D, 53, C, 5000)), "ESTABLISHED");
    assert_eq!(
        r.list(),
        vec![
            "udp      17 29 src=10.0.0.1 dst=10.0.1.2 sport=5000 dport=53 \
              src=10.0.1.2 dst=10.0.0.1 sport=53 dport=5000 mark=0 use=1"
        ]
    );
    r.now += 3 * S;
    assert_eq!(r.state(&udp(C, 5000, D, 53)), "ESTABLISHED");
    assert!(
        r.list()[0].starts_with("udp      17 119 "),
        "{:?}",
        r.list()
    );
    assert!(r.list()[0].contains("[ASSURED]"));
    r.now += 121 * S;
    assert!(r.list().is_empty());
    assert_eq!(r.state(&udp(D, 53, C, 5000)), "NEW");
}

#[test]
fn icmp_echo_and_errors() {
    let mut r = Run::new();
    assert_eq!(r.state(&echo(D, C, 0, 9)), "INVALID");
    assert_eq!(r.state(&echo(C, D, 8, 9)), "NEW");
    assert_eq!(r.state(&echo(D, C, 0, 9)), "ESTABLISHED");
    assert_eq!(
        r.list(),
        vec![
            "icmp     1 29 src=10.0.0.1 dst=10.0.1.2 type=8 code=0 id=9 \
              src=10.0.1.2 dst=10.0.0.1 type=0 code=0 id=9 mark=0 use=1"
        ]
    );
    // Port unreachable quoting a known UDP flow: RELATED, travelling in reply.
    let out = udp(C, 5000, D, 53);
    assert_eq!(r.state(&out), "NEW");
    match r.send(&icmp(D, C, 3, 3, [0; 4], &out)) {
        Lookup::Tracked { dir, state, .. } => {
            assert_eq!((dir, state), (Dir::Reply, CtState::Related));
        }
        other => panic!("{other:?}"),
    }
    // Quoting an unknown flow, or sent to someone else.
    assert_eq!(
        r.state(&icmp(D, C, 3, 3, [0; 4], &udp(C, 5001, D, 53))),
        "INVALID"
    );
    assert_eq!(
        r.state(&icmp(D, [10, 0, 0, 9], 3, 3, [0; 4], &out)),
        "INVALID"
    );
    // Router advertisement and other non-queries cannot start a connection.
    assert_eq!(r.state(&icmp(C, D, 9, 0, [0; 4], b"")), "INVALID");
}

fn new_conn(r: &mut Run, p: &[u8]) -> ConnId {
    let info = ip::parse(p).expect("parsable");
    match r.t.packet_in(r.now, p, &info) {
        Lookup::Tracked {
            id,
            state: CtState::New,
            ..
        } => id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn snat_keeps_port_then_changes_on_clash() {
    let mut r = Run::new();
    let nat = a([192, 0, 2, 1]);
    let range = NatRange::single(nat);
    let first = new_conn(&mut r, &udp(C, 5000, D, 53));
    r.t.setup_nat(first, Manip::Src, Some(&range)).expect("nat");
    r.t.setup_nat(first, Manip::Dst, None)
        .expect("null binding");
    r.t.confirm(first);
    assert_eq!(
        r.t.nat_rewrite(first, Dir::Original, Manip::Src),
        Some((nat, Some(5000)))
    );
    assert_eq!(r.t.nat_rewrite(first, Dir::Original, Manip::Dst), None);
    assert_eq!(
        r.t.nat_rewrite(first, Dir::Reply, Manip::Dst),
        Some((a(C), Some(5000)))
    );
    // The reply to the NAT address finds the connection.
    assert_eq!(r.state(&udp(D, 53, [192, 0, 2, 1], 5000)), "ESTABLISHED");

    // Another client with the same port: the port must change, staying >= 1024.
    let second = new_conn(&mut r, &udp([10, 0, 0, 7], 5000, D, 53));
    r.t.setup_nat(second, Manip::Src, Some(&range))
        .expect("nat");
    r.t.confirm(second);
    let (addr, port) =
        r.t.nat_rewrite(second, Dir::Original, Manip::Src)
            .expect("snat");
    assert_eq!(addr, nat);
    let port = port.expect("port");
    assert!(port >= 1024 && port != 5000, "{port}");

    // Privileged ports stay in their class: 600..=1023.
    let third = new_conn(&mut r, &udp(C, 700, D, 53));
    r.t.setup_nat(third, Manip::Src, Some(&range)).expect("nat");
    r.t.confirm(third);
    let fourth = new_conn(&mut r, &udp([10, 0, 0, 7], 700, D, 53));
    r.t.setup_nat(fourth, Manip::Src, Some(&range))
        .expect("nat");
    let (_, port) =
        r.t.nat_rewrite(fourth, Dir::Original, Manip::Src)
            .expect("snat");
    assert!((600..=1023).contains(&port.expect("port")), "{port:?}");
}

#[test]
fn dnat_and_list_shows_translated_reply() {
    let mut r = Run::new();
    let id = new_conn(&mut r, &tcp(C, 40000, D, 80, 1, 0, SYN, 0));
    let range = NatRange {
        ports: Some((8080, 8080)),
        ..NatRange::single(a([10, 0, 2, 5]))
    };
    r.t.setup_nat(id, Manip::Dst, Some(&range)).expect("dnat");
    assert!(r.t.nat_done(id, Manip::Dst));
    assert!(!r.t.nat_done(id, Manip::Src));
    r.t.confirm(id);
    assert_eq!(
        r.t.nat_rewrite(id, Dir::Original, Manip::Dst),
        Some((a([10, 0, 2, 5]), Some(8080)))
    );
    assert_eq!(
        r.t.nat_rewrite(id, Dir::Reply, Manip::Src),
        Some((a(D), Some(80)))
    );
    assert_eq!(
        r.list(),
        vec![
            "tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.1.2 sport=40000 dport=80 [UNREPLIED] \
              src=10.0.2.5 dst=10.0.0.1 sport=8080 dport=40000 mark=0 use=1"
        ]
    );
    assert_eq!(
        r.state(&tcp([10, 0, 2, 5], 8080, C, 40000, 9, 2, SYN | ACK, 0)),
        "ESTABLISHED"
    );
}

#[test]
fn jhash2_known_value() {
    // lookup3's hashword() of nothing is the initial value mixed by nothing.
    assert_eq!(nat::jhash2(&[], 0), 0xdeadbeef);
}

#[test]
fn snat_address_range_choice_is_the_kernels() {
    // Measured (tests/conntrack_kernel.rs): SNAT --to-source 10.9.1.100-10.9.1.120 for
    // flows to 10.9.1.2 mapped these clients to these addresses, without and with
    // --persistent.
    let plain = [
        (10, 106),
        (11, 117),
        (12, 104),
        (13, 107),
        (14, 110),
        (15, 104),
        (16, 101),
        (17, 120),
        (19, 100),
    ];
    let persistent = [
        (10, 107),
        (11, 100),
        (12, 115),
        (13, 113),
        (14, 117),
        (15, 114),
        (16, 112),
        (17, 107),
        (19, 101),
    ];
    for (persistent, measured) in [(false, plain), (true, persistent)] {
        let mut r = Run::new();
        let range = NatRange {
            max_addr: a([10, 9, 1, 120]),
            persistent,
            ..NatRange::single(a([10, 9, 1, 100]))
        };
        for (client, chosen) in measured {
            let id = new_conn(&mut r, &udp([10, 9, 0, client], 7000, [10, 9, 1, 2], 9));
            r.t.setup_nat(id, Manip::Src, Some(&range)).expect("snat");
            r.t.confirm(id);
            let (addr, _) =
                r.t.nat_rewrite(id, Dir::Original, Manip::Src)
                    .expect("snat");
            assert_eq!(
                addr,
                a([10, 9, 1, chosen]),
                "client .{client} persistent {persistent}"
            );
        }
    }
}

#[test]
fn dnat_to_a_port_range_takes_its_first_port() {
    // Measured: OUTPUT -p udp -d 10.0.0.9 -j DNAT --to-destination 10.0.0.5:8000-8002 gave
    // four flows from different source ports destination port 8000 (no random offset for a
    // destination manip), on nft and in verify_random seed 52257729743919.
    let mut r = Run::new();
    let range = NatRange {
        ports: Some((8000, 8002)),
        ..NatRange::single(a([10, 0, 0, 5]))
    };
    for sport in [1111, 2222, 3333, 4444] {
        let id = new_conn(&mut r, &udp([10, 0, 0, 1], sport, [10, 0, 0, 9], 53));
        r.t.setup_nat(id, Manip::Dst, Some(&range)).expect("dnat");
        r.t.confirm(id);
        let (addr, port) =
            r.t.nat_rewrite(id, Dir::Original, Manip::Dst)
                .expect("dnat");
        assert_eq!(
            (addr, port),
            (a([10, 0, 0, 5]), Some(8000)),
            "sport {sport}"
        );
    }
}

#[test]
fn expiry_and_dropped_first_packets_leave_nothing() {
    let mut r = Run::new();
    assert_eq!(r.state(&tcp(C, 9, D, 80, 1, 0, SYN, 0)), "NEW");
    r.now += 120 * S;
    assert!(r.list().is_empty());
    assert_eq!(r.state(&tcp(C, 9, D, 80, 1, 0, SYN, 0)), "NEW");
    // A first packet that does not survive leaves no entry; the next one is NEW again.
    let id = new_conn(&mut r, &udp(C, 1234, D, 53));
    r.t.setup_nat(id, Manip::Src, None).expect("null binding");
    r.t.drop_unconfirmed(id);
    assert!(r.t.get(id).is_none());
    assert_eq!(r.state(&udp(D, 53, C, 1234)), "NEW");
    assert_eq!(r.t.len(), 2);
}

#[test]
fn ipv6_udp_without_checksum_is_tracked() {
    let mut r = Run::new();
    let mut p = vec![0x60, 0, 0, 0, 0, 12, 17, 64];
    p.extend_from_slice(&[0xfd, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    p.extend_from_slice(&[0xfd, 0, 0, 9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    p.extend_from_slice(&[0x17, 0x70, 0, 53, 0, 12, 0, 0, b'p', b'i', b'n', b'g']);
    assert_eq!(r.state(&p), "NEW");
    assert!(r.list()[0].starts_with("udp      17 29 src=fd00:9::2 dst=fd00:9:1::2 sport=6000"));
}

#[test]
fn icmp_error_about_a_snatted_flow_is_translated_back() {
    let mut r = Run::new();
    let nat = [192, 0, 2, 1];
    let id = new_conn(&mut r, &udp(C, 5000, D, 53));
    r.t.setup_nat(id, Manip::Src, Some(&NatRange::single(a(nat))))
        .expect("snat");
    r.t.confirm(id);
    // The router's error quotes the translated packet and goes to the NAT address.
    let quoted = udp(nat, 5000, D, 53);
    let error = icmp([10, 0, 1, 9], nat, 11, 0, [0; 4], &quoted);
    let info = ip::parse(&error).expect("parsable");
    let Lookup::Tracked {
        id: got,
        dir,
        state,
    } = r.t.packet_in(r.now, &error, &info)
    else {
        panic!("not related");
    };
    assert_eq!((got, dir, state), (id, Dir::Reply, CtState::Related));
    // PREROUTING (destination manip): outer destination back to the client, and the
    // quoted source too.
    assert_eq!(
        r.t.nat_rewrite(id, dir, Manip::Dst),
        Some((a(C), Some(5000)))
    );
    assert_eq!(
        r.t.nat_rewrite_embedded(id, dir, Manip::Dst),
        Some((a(C), Some(5000)))
    );
    // POSTROUTING (source manip): nothing to undo.
    assert_eq!(r.t.nat_rewrite_embedded(id, dir, Manip::Src), None);
}

fn sctp(src: [u8; 4], dst: [u8; 4], vtag: u32, kind: u8, value: &[u8]) -> Vec<u8> {
    let mut l4 = vec![0x13, 0x89, 0x26, 0xab];
    l4.extend_from_slice(&vtag.to_be_bytes());
    l4.extend_from_slice(&[0; 4]);
    l4.extend_from_slice(&[kind, 0]);
    l4.extend_from_slice(&((4 + value.len()) as u16).to_be_bytes());
    l4.extend_from_slice(value);
    while l4.len() % 4 != 0 {
        l4.push(0);
    }
    v4(src, dst, 132, &l4)
}

#[test]
fn sctp_association_states() {
    let mut r = Run::new();
    let init = |tag: u32| {
        [
            &tag.to_be_bytes()[..],
            &[0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1],
        ]
        .concat()
    };
    assert_eq!(r.state(&sctp(C, D, 0, 11, &[])), "INVALID");
    assert_eq!(r.state(&sctp(C, D, 0, 1, &init(0xa))), "NEW");
    assert!(
        r.list()[0].starts_with("sctp     132 9 CLOSED "),
        "{:?}",
        r.list()
    );
    let back = |vtag, kind, value: &[u8]| {
        let mut p = sctp(D, C, vtag, kind, value);
        // Swap the ports for the reply direction.
        p.swap(20, 22);
        p.swap(21, 23);
        verify::recompute(&mut p).expect("valid");
        p
    };
    assert_eq!(r.state(&back(0xa, 2, &init(0xb))), "ESTABLISHED");
    assert_eq!(r.state(&sctp(C, D, 0xb, 10, &[1, 2, 3, 4])), "ESTABLISHED");
    assert_eq!(r.state(&back(0xa, 11, &[])), "ESTABLISHED");
    assert!(
        r.list()[0].starts_with("sctp     132 209 ESTABLISHED "),
        "{:?}",
        r.list()
    );
    assert!(r.list()[0].contains("[ASSURED]"));
    // DATA with someone else's verification tag.
    assert_eq!(r.state(&sctp(C, D, 0x99, 0, &[0; 16])), "INVALID");
}

#[test]
fn random_fully_moves_even_a_free_port_and_is_reproducible() {
    let range = NatRange {
        random_fully: true,
        ..NatRange::single(a([192, 0, 2, 1]))
    };
    let pick = |seed: u64| {
        let mut t = Table::new(Config {
            seed,
            ..Config::default()
        });
        let p = udp(C, 5000, D, 53);
        let info = ip::parse(&p).expect("parsable");
        let Lookup::Tracked { id, .. } = t.packet_in(0, &p, &info) else {
            panic!("not tracked");
        };
        t.setup_nat(id, Manip::Src, Some(&range)).expect("snat");
        t.nat_rewrite(id, Dir::Original, Manip::Src)
            .and_then(|(_, p)| p)
            .expect("port")
    };
    let (p1, p2, p3) = (pick(1), pick(1), pick(2));
    assert_eq!(p1, p2, "same seed, same port");
    assert!(p1 >= 1024 && p3 >= 1024);
    assert!(p1 != 5000 || p3 != 5000, "random-fully keeps drawing 5000");
}

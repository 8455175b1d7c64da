//! Property tests of `fwbench::wire`:
//! - random valid packets (IPv4 with options, IPv6 with extension headers; TCP with options,
//!   UDP (also with a zero checksum), UDP-Lite, SCTP, ICMP/ICMPv6 echo, ICMP/ICMPv6 errors
//!   quoting a whole inner packet) under random sequences of rewrites keep every checksum
//!   equal to a full recomputation, and a naive reference checksum agrees;
//! - random bytes never panic a checked constructor, an accessor, the parser, the verifier or
//!   a rewrite.

mod wire_support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use fwbench::wire::mangle::{self, HopLimitOp};
use fwbench::wire::rewrite::{nat, nat_embedded, Manip};
use fwbench::wire::{icmpv4, icmpv6, ip, ipv4, ipv6, sctp, tcp, udp, verify};
use proptest::prelude::*;
use wire_support::*;

#[derive(Clone, Debug)]
enum L4 {
    Tcp {
        opts: Vec<u8>,
        flags: u8,
    },
    Udp {
        zero_checksum: bool,
    },
    UdpLite {
        coverage: u16,
    },
    Sctp,
    Echo {
        reply: bool,
        seq: u16,
    },
    /// An error quoting a whole inner TCP (true) or UDP packet of the same family.
    Error {
        inner_tcp: bool,
    },
}

#[derive(Clone, Debug)]
struct Spec {
    v6: bool,
    src4: [u8; 4],
    dst4: [u8; 4],
    src6: [u8; 16],
    dst6: [u8; 16],
    /// IPv4 options (padded to 4) or IPv6 extension headers (kind, 8-byte units - 1).
    v4_opts: Vec<u8>,
    v6_ext: Vec<(u8, u8)>,
    ports: (u16, u16),
    l4: L4,
    payload: Vec<u8>,
}

/// TCP options from a list of known kinds, padded with NOPs/EOL to a multiple of 4, at most
/// 40 bytes.
fn tcp_options() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..6, 0..6).prop_map(|kinds| {
        let mut o = Vec::new();
        for k in kinds {
            let opt: Vec<u8> = match k {
                0 => vec![1],
                1 => vec![2, 4, 0x05, 0xb4],
                2 => vec![3, 3, 7],
                3 => vec![4, 2],
                4 => vec![8, 10, 1, 2, 3, 4, 5, 6, 7, 8],
                _ => vec![5, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            };
            if o.len() + opt.len() <= 40 {
                o.extend(opt);
            }
        }
        while o.len() % 4 != 0 {
            o.push(if o.len() % 4 == 3 { 0 } else { 1 });
        }
        o
    })
}

fn l4() -> impl Strategy<Value = L4> {
    prop_oneof![
        (tcp_options(), any::<u8>()).prop_map(|(opts, flags)| L4::Tcp { opts, flags }),
        any::<bool>().prop_map(|zero_checksum| L4::Udp { zero_checksum }),
        prop_oneof![Just(0u16), 8u16..12].prop_map(|coverage| L4::UdpLite { coverage }),
        Just(L4::Sctp),
        (any::<bool>(), 1u16..).prop_map(|(reply, seq)| L4::Echo { reply, seq }),
        any::<bool>().prop_map(|inner_tcp| L4::Error { inner_tcp }),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        prop::collection::vec(any::<u8>(), 0..=10).prop_map(|mut v| {
            v.resize(v.len().div_ceil(4) * 4, 1);
            v
        }),
        prop::collection::vec((prop_oneof![Just(0u8), Just(43), Just(60)], 0u8..3), 0..3),
        any::<(u16, u16)>(),
        l4(),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(
            |(v6, src4, dst4, src6, dst6, v4_opts, v6_ext, ports, l4, payload)| Spec {
                v6,
                src4,
                dst4,
                src6,
                dst6,
                v4_opts,
                v6_ext,
                ports,
                l4,
                payload,
            },
        )
}

fn wrap(spec: &Spec, proto: u8, l4: &[u8]) -> Vec<u8> {
    if spec.v6 {
        let mut rest = Vec::new();
        let mut kinds: Vec<u8> = spec.v6_ext.iter().map(|e| e.0).collect();
        kinds.push(proto);
        for (i, &(_, units)) in spec.v6_ext.iter().enumerate() {
            let len = (usize::from(units) + 1) * 8;
            let mut h = vec![kinds[i + 1], units];
            // PadN filling the rest of the header: type 1, length len - 4.
            h.extend_from_slice(&[1, (len - 4) as u8]);
            h.resize(len, 0);
            rest.extend(h);
        }
        rest.extend_from_slice(l4);
        v6(kinds[0], &rest, spec.src6, spec.dst6)
    } else {
        v4(proto, &spec.v4_opts, l4, spec.src4, spec.dst4)
    }
}

fn build(spec: &Spec) -> Vec<u8> {
    let (sp, dp) = spec.ports;
    let (proto, seg) = match &spec.l4 {
        L4::Tcp { opts, flags } => (6, tcp(sp, dp, *flags, opts, &spec.payload)),
        L4::Udp { .. } => (17, udp(sp, dp, &spec.payload)),
        L4::UdpLite { coverage } => {
            let cov = if *coverage == 0 {
                0
            } else {
                (*coverage).min(8 + spec.payload.len() as u16)
            };
            (136, udplite(sp, dp, cov, &spec.payload))
        }
        L4::Sctp => (132, sctp_init(sp, dp)),
        L4::Echo { reply, seq } => {
            let ty = match (spec.v6, reply) {
                (false, false) => 8,
                (false, true) => 0,
                (true, false) => 128,
                (true, true) => 129,
            };
            let rest = u32::from(sp) << 16 | u32::from(*seq);
            (
                if spec.v6 { 58 } else { 1 },
                icmp(ty, 0, rest, &spec.payload),
            )
        }
        L4::Error { inner_tcp } => {
            let mut inner_spec = spec.clone();
            inner_spec.l4 = if *inner_tcp {
                L4::Tcp {
                    opts: vec![2, 4, 5, 0xb4],
                    flags: 2,
                }
            } else {
                L4::Udp {
                    zero_checksum: false,
                }
            };
            // The inner packet travelled the other way.
            std::mem::swap(&mut inner_spec.src4, &mut inner_spec.dst4);
            std::mem::swap(&mut inner_spec.src6, &mut inner_spec.dst6);
            let inner = build(&inner_spec);
            let ty = if spec.v6 { 1 } else { 3 };
            (if spec.v6 { 58 } else { 1 }, icmp(ty, 3, 0, &inner))
        }
    };
    let mut p = finish(wrap(spec, proto, &seg));
    if matches!(
        spec.l4,
        L4::Udp {
            zero_checksum: true
        }
    ) && !spec.v6
    {
        let at = usize::from(ip::parse(&p).unwrap().l4_offset) + 6;
        p[at] = 0;
        p[at + 1] = 0;
    }
    p
}

#[derive(Clone, Debug)]
enum Op {
    Nat(Manip, [u8; 16], Option<u16>),
    NatEmbedded(Manip, [u8; 16], Option<u16>),
    Hop(HopLimitOp),
    Tos(u8, u8),
    Dscp(u8),
    Ecn(u8),
    ClampMss(u16),
    SetMss(u16),
    TcpMss(u16),
}

fn op() -> impl Strategy<Value = Op> {
    let manip = prop_oneof![Just(Manip::Src), Just(Manip::Dst)];
    prop_oneof![
        (manip.clone(), any::<[u8; 16]>(), any::<Option<u16>>())
            .prop_map(|(m, a, p)| Op::Nat(m, a, p)),
        (manip, any::<[u8; 16]>(), any::<Option<u16>>())
            .prop_map(|(m, a, p)| Op::NatEmbedded(m, a, p)),
        prop_oneof![
            any::<u8>().prop_map(HopLimitOp::Set),
            any::<u8>().prop_map(HopLimitOp::Inc),
            any::<u8>().prop_map(HopLimitOp::Dec),
        ]
        .prop_map(Op::Hop),
        any::<(u8, u8)>().prop_map(|(v, m)| Op::Tos(v, m)),
        (0u8..64).prop_map(Op::Dscp),
        (0u8..4).prop_map(Op::Ecn),
        any::<u16>().prop_map(Op::ClampMss),
        any::<u16>().prop_map(Op::SetMss),
        any::<u16>().prop_map(Op::TcpMss),
    ]
}

fn addr(v6: bool, a: [u8; 16]) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(a))
    } else {
        IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
    }
}

fn apply(p: &mut Vec<u8>, op: &Op, v6: bool) {
    // Rewrites that do not apply (MSS on UDP, embedded NAT on a non-error) return an
    // error and must leave the packet as it was; that is checked by the caller's checksum
    // comparison either way.
    let _ = match op {
        Op::Nat(m, a, port) => nat(p, *m, addr(v6, *a), *port),
        Op::NatEmbedded(m, a, port) => nat_embedded(p, *m, addr(v6, *a), *port),
        Op::Hop(h) => mangle::hop_limit(p, *h).map(|_| ()),
        Op::Tos(v, m) => mangle::tos(p, *v, *m).map(|_| ()),
        Op::Dscp(d) => mangle::dscp(p, *d).map(|_| ()),
        Op::Ecn(e) => mangle::ecn(p, *e).map(|_| ()),
        Op::ClampMss(m) => mangle::clamp_mss(p, *m).map(|_| ()),
        Op::SetMss(m) => mangle::set_mss(p, *m).map(|_| ()),
        Op::TcpMss(m) => mangle::tcpmss(p, *m).map(|_| ()),
    };
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn rewrites_keep_every_checksum_equal_to_a_full_recomputation(
        spec in spec(),
        ops in prop::collection::vec(op(), 1..8),
    ) {
        let mut p = build(&spec);
        let before = ip::parse(&p).unwrap();
        prop_assert!(verify::verify(&p).unwrap().all_ok());
        for op in &ops {
            apply(&mut p, op, spec.v6);
            let mut again = p.clone();
            verify::recompute(&mut again).unwrap();
            prop_assert_eq!(&again, &p, "after {:?}", op);
            let checks = verify::verify(&p).unwrap();
            prop_assert!(checks.all_ok(), "after {:?}: {:?}", op, checks);
            if let Err(e) = ref_check(&p) {
                prop_assert!(false, "reference checksum after {:?}: {}", op, e);
            }
        }
        // The rewrites never change what the packet is.
        let after = ip::parse(&p).unwrap();
        prop_assert_eq!(before.protocol, after.protocol);
        prop_assert_eq!(before.l4_offset, after.l4_offset);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        poke(&bytes);
        // Also with a plausible first byte, to get past the version checks.
        for first in [0x45u8, 0x46, 0x4f, 0x60] {
            let mut b = bytes.clone();
            if let Some(x) = b.first_mut() {
                *x = first;
            }
            poke(&b);
        }
    }

    #[test]
    fn corrupted_valid_packets_never_panic(
        spec in spec(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        ops in prop::collection::vec(op(), 1..4),
    ) {
        let mut p = build(&spec);
        for (i, v) in &flips {
            let at = i.index(p.len());
            p[at] = *v;
        }
        poke(&p);
        p.truncate(cut.index(p.len() + 1));
        poke(&p);
        for op in &ops {
            apply(&mut p, op, spec.v6);
        }
    }
}

/// Runs every checked constructor and every accessor on `b`.
fn poke(b: &[u8]) {
    if let Ok(p) = ipv4::Packet::new_checked(b) {
        let _ = (
            p.payload(),
            p.options(),
            p.verify_checksum(),
            p.compute_checksum(),
        );
        let _ = (p.frag_offset(), p.src_addr(), p.datagram());
    }
    if let Ok(p) = ipv4::Packet::new_checked_quoted(b) {
        let _ = (p.payload(), p.datagram(), p.verify_checksum());
    }
    for q in [
        ipv6::Packet::new_checked(b),
        ipv6::Packet::new_checked_quoted(b),
    ]
    .into_iter()
    .flatten()
    {
        let _ = (q.payload(), q.flow_label(), q.traffic_class(), q.datagram());
        let _ = ipv6::upper_layer(&q);
        for h in q.ext_headers().flatten() {
            let _ = ipv6::fragment_header(b, &h);
        }
    }
    if let Ok(t) = tcp::Packet::new_checked(b) {
        let _ = (
            t.payload(),
            t.mss(),
            t.option_iter().count(),
            t.verify_checksum(0),
        );
        let _ = t.compute_checksum(0);
    }
    let _ = tcp::mss_value_offset(b);
    if let Ok(u) = udp::Packet::new_checked(b) {
        let _ = (
            u.payload(),
            u.verify_checksum(0, true),
            u.compute_checksum(0),
        );
    }
    if let Ok(u) = udp::LitePacket::new_checked(b) {
        let _ = (
            u.payload(),
            u.coverage(),
            u.verify_checksum(0),
            u.compute_checksum(0),
        );
    }
    if let Ok(s) = sctp::Packet::new_checked(b) {
        let _ = (s.verify_checksum(), s.chunks().count());
    }
    if let Ok(i) = icmpv4::Packet::new_checked(b) {
        let _ = (
            i.embedded(),
            i.verify_checksum(),
            i.compute_checksum(),
            i.ident(),
        );
    }
    if let Ok(i) = icmpv6::Packet::new_checked(b) {
        let _ = (i.embedded(), i.verify_checksum(0), i.compute_checksum(0));
    }
    for info in [ip::parse(b), ip::parse_quoted(b)].into_iter().flatten() {
        let _ = (info.l4.ports(), info.l4_len(), info.is_later_fragment());
        if let Some((_, Ok(inner))) = ip::parse_embedded(b, &info) {
            let _ = inner.l4.ports();
        }
    }
    let _ = verify::verify(b);
    let mut m = b.to_vec();
    let _ = verify::recompute(&mut m);
    // A fragment alone, or as the completing piece of a queue that holds its twin at 0.
    let mut d = fwbench::wire::defrag::Defrag::default();
    for pkt in [b.to_vec(), m] {
        if let fwbench::wire::defrag::Outcome::Complete(r) = d.push(0, &pkt) {
            let cfg = fwbench::wire::refrag::Config::default();
            let _ = fwbench::wire::refrag::refragment(&r.packet, &r, &cfg);
        }
    }
}

/// Cuts an unfragmented datagram (IPv4, or IPv6 without extension headers) into fragments
/// at the given 8-byte-aligned cut points, as a sender would.
fn fragments_of(packet: &[u8], cuts: &[usize], ipv6_ident: u32) -> Vec<Vec<u8>> {
    let v6 = packet[0] >> 4 == 6;
    let hl = if v6 {
        40
    } else {
        usize::from(packet[0] & 15) * 4
    };
    let data = &packet[hl..];
    let mut bounds: Vec<usize> = cuts
        .iter()
        .map(|c| c * 8)
        .filter(|&c| c > 0 && c < data.len())
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    bounds.insert(0, 0);
    bounds.push(data.len());
    let n = bounds.len() - 1;
    (0..n)
        .map(|i| {
            let (a, b) = (bounds[i], bounds[i + 1]);
            let mf = i + 1 < n;
            let mut f;
            if v6 {
                f = packet[..40].to_vec();
                let next = f[6];
                f[6] = 44;
                f.extend_from_slice(&[next, 0]);
                f.extend_from_slice(&((a as u16) | u16::from(mf)).to_be_bytes());
                f.extend_from_slice(&ipv6_ident.to_be_bytes());
                f.extend_from_slice(&data[a..b]);
                let plen = (f.len() - 40) as u16;
                f[4..6].copy_from_slice(&plen.to_be_bytes());
            } else {
                f = packet[..hl].to_vec();
                f.extend_from_slice(&data[a..b]);
                let mut p = ipv4::Packet::new_unchecked(&mut f[..]);
                p.set_total_len((hl + b - a) as u16);
                p.set_flags_offset(false, false, mf, a as u16);
                p.fill_checksum();
            }
            f
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Fragments in any order reassemble to the datagram, and refragmenting gives back the
    /// very fragments that were sent (in offset order).
    #[test]
    fn fragments_in_any_order_reassemble_and_refragment_to_the_same(
        spec in spec(),
        cuts in prop::collection::vec(1usize..20, 1..5),
        order in any::<prop::sample::Index>(),
        ident in any::<u32>(),
    ) {
        use fwbench::wire::defrag::{Defrag, Outcome};
        use fwbench::wire::refrag::{self, Config, Refrag};
        let mut spec = spec;
        spec.v6_ext.clear();
        // Only an option with the "copied" flag (router alert), so that every fragment a
        // sender makes carries the same header (RFC 791 drops the others after the first).
        if !spec.v4_opts.is_empty() {
            spec.v4_opts = vec![0x94, 4, 0, 0];
        }
        let mut original = build(&spec);
        if !spec.v6 {
            // The fragments carry no DF, so neither does the reassembled datagram.
            let mut p = ipv4::Packet::new_unchecked(&mut original[..]);
            p.set_flags_offset(false, false, false, 0);
            p.fill_checksum();
        }
        let frags = fragments_of(&original, &cuts, ident);
        prop_assume!(frags.len() > 1);
        let mut shuffled = frags.clone();
        let k = order.index(shuffled.len());
        shuffled.rotate_left(k);
        let mid = shuffled.len() / 2;
        shuffled.swap(0, mid);
        let mut d = Defrag::default();
        let mut done = None;
        for (i, f) in shuffled.iter().enumerate() {
            match d.push(i as i64, f) {
                Outcome::Complete(r) => {
                    prop_assert_eq!(i + 1, shuffled.len());
                    done = Some(r);
                }
                Outcome::Queued => {}
                other => prop_assert!(false, "fragment {} gave {:?}", i, other),
            }
        }
        let r = done.expect("complete");
        prop_assert_eq!(&r.packet, &original);
        let cfg = Config { mtu: 9000, veth_headroom: false, ipv6_ident: ident };
        let again = refrag::refragment(&r.packet, &r, &cfg).unwrap();
        prop_assert_eq!(again, Refrag::Fragments(frags));
    }
}

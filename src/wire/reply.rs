//! Packets the kernel itself builds in answer to another packet: ICMP/ICMPv6 errors
//! (`__icmp_send`, `icmp6_send`), netfilter's TCP reset (`nf_send_reset`, `nf_send_reset6`),
//! the TCP stack's reset for a closed port (`tcp_v4_send_reset`, `tcp_v6_send_reset`) and echo
//! replies (`icmp_echo`, `icmpv6_echo_reply`).
//!
//! Each function takes the offending packet's bytes (from its IP header; bytes beyond the IP
//! length are ignored, as `ip_rcv` trims them) and returns the whole reply from its IP header,
//! every checksum filled, or `None` when the kernel sends nothing. Which *source address* an
//! ICMP error or echo reply carries is a routing question and is the caller's
//! (`engine::reject` picks it as `icmp_send` does); everything else is fixed here.
//!
//! Fields, as measured on Linux 6.18 (tests/reply_kernel.rs compares every byte) with stock
//! sysctls (`ip_default_ttl` 64, IPv6 `hop_limit` 64):
//! - ICMP errors: TTL 64, TOS [`icmp_error_tos`] (`0xc0 | (tos & 0x1e)`: 0x1f gives 0xde),
//!   no DF, at most 576 bytes (IPv4) / 1280 bytes (IPv6) with the quote cut to fit. The IPv4
//!   id is drawn by `ip_select_ident` from a hashed per-destination counter with a random
//!   key, and the ICMPv6 flow label is the flow's hash under a per-boot random key
//!   (`auto_flowlabels`): neither can be reproduced, both are written as 0. ICMPv6 errors
//!   have traffic class 0.
//! - `nf_send_reset`: TTL 64, TOS 0, DF, IP id 0, window 0 (`nf_reject_iphdr_put`,
//!   `nf_reject_ip_tcphdr_put`). IPv6: traffic class 0, flow label 0, hop limit 64.
//! - `tcp_v4_send_reset` / `tcp_v6_send_reset`: TTL 64, DF, IP id 0 (the per-cpu control
//!   socket has no peer, so `ip_select_ident_segs` writes 0), the offending packet's TOS /
//!   traffic class without its ECN bits (0x13 gives 0x10); IPv6 flow label hashed as above.
//! - echo replies: TTL 64, the request's TOS / traffic class (ECN bits kept), no DF, IP id
//!   and IPv6 flow label random (written as 0).
//! - A packet met in FORWARD already has its TTL / hop limit decremented (`ip_forward`
//!   decrements before the hook), so an error about it quotes TTL-1; the caller passes the
//!   bytes as the hook sees them.

use std::net::IpAddr;

use super::checksum;
use super::ip::{self, IpProtocol, L4Info};
use super::{icmpv4, icmpv6, tcp};

/// The IP TTL / IPv6 hop limit of everything the stack sends (`ip_default_ttl`,
/// `ipv6.conf.*.hop_limit`, both 64 unless changed).
pub const DEFAULT_TTL: u8 = 64;

/// The largest IPv4 ICMP error (`__icmp_send` caps the room at 576 bytes).
pub const ICMP_ERROR_MAX_V4: usize = 576;

/// The largest ICMPv6 error (`icmp6_send`: `IPV6_MIN_MTU`).
pub const ICMP_ERROR_MAX_V6: usize = 1280;

/// `IPTOS_PREC_INTERNETCONTROL`: the precedence of every IPv4 ICMP error.
const PREC_INTERNETCONTROL: u8 = 0xc0;

/// The TOS of an IPv4 ICMP error about a packet with TOS `tos` (`__icmp_send`:
/// `RT_TOS(iph->tos) | IPTOS_PREC_INTERNETCONTROL`; `RT_TOS` keeps the bits 0x1e).
pub fn icmp_error_tos(tos: u8) -> u8 {
    (tos & 0x1e) | PREC_INTERNETCONTROL
}

/// `NR_ICMP_TYPES`: ICMP types above it are never answered with an error.
const NR_ICMP_TYPES: u8 = 18;

/// The bytes of `packet` up to its IP length (what `ip_rcv` keeps of a frame).
fn trimmed(packet: &[u8], info: &ip::IpInfo) -> Option<usize> {
    let len = info.total_len as usize;
    (len <= packet.len()).then_some(len)
}

/// An IPv4 header without options, checksum filled.
#[allow(clippy::too_many_arguments)]
fn ipv4_header(
    src: [u8; 4],
    dst: [u8; 4],
    protocol: u8,
    tos: u8,
    ttl: u8,
    df: bool,
    id: u16,
    payload_len: usize,
) -> Vec<u8> {
    let total = (20 + payload_len) as u16;
    let mut h = vec![0x45, tos];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&(if df { 0x4000u16 } else { 0 }).to_be_bytes());
    h.extend_from_slice(&[ttl, protocol, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = checksum::finish(checksum::data(&h));
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

/// An IPv6 header.
fn ipv6_header(
    src: [u8; 16],
    dst: [u8; 16],
    next: u8,
    tclass: u8,
    flow: u32,
    hop: u8,
    payload_len: usize,
) -> Vec<u8> {
    let first = (6u32 << 28) | (u32::from(tclass) << 20) | (flow & 0xfffff);
    let mut h = first.to_be_bytes().to_vec();
    h.extend_from_slice(&(payload_len as u16).to_be_bytes());
    h.extend_from_slice(&[next, hop]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h
}

/// Fills the checksum at `at` of an upper-layer message `l4` sent from `src` to `dst`
/// (IPv4 ICMP has no pseudo-header: `pseudo` false).
fn fill_l4_checksum(l4: &mut [u8], at: usize, src: IpAddr, dst: IpAddr, proto: u8, pseudo: bool) {
    l4[at] = 0;
    l4[at + 1] = 0;
    let body = checksum::data(l4);
    let sum = match (pseudo, src, dst) {
        (false, _, _) => body,
        (true, IpAddr::V4(s), IpAddr::V4(d)) => checksum::combine(&[
            checksum::pseudo_header_v4(&s.octets(), &d.octets(), proto, l4.len() as u16),
            body,
        ]),
        (true, IpAddr::V6(s), IpAddr::V6(d)) => checksum::combine(&[
            checksum::pseudo_header_v6(&s.octets(), &d.octets(), proto, l4.len() as u32),
            body,
        ]),
        _ => body,
    };
    l4[at..at + 2].copy_from_slice(&checksum::finish(sum).to_be_bytes());
}

/// Whether the upper-layer checksum of `packet` (trimmed to its IP length) verifies, with
/// the pseudo-header for `proto` (`nf_ip_checksum` / `nf_ip6_checksum`; ICMP over IPv4 has
/// none).
pub fn l4_checksum_ok(packet: &[u8], info: &ip::IpInfo) -> bool {
    let Some(end) = trimmed(packet, info) else {
        return false;
    };
    let start = usize::from(info.l4_offset);
    let Some(l4) = packet.get(start..end) else {
        return false;
    };
    let proto = u8::from(info.protocol);
    let body = checksum::data(l4);
    let sum = match (info.protocol, info.src, info.dst) {
        (IpProtocol::Icmp, IpAddr::V4(_), _) => body,
        (_, IpAddr::V4(s), IpAddr::V4(d)) => checksum::combine(&[
            checksum::pseudo_header_v4(&s.octets(), &d.octets(), proto, l4.len() as u16),
            body,
        ]),
        (_, IpAddr::V6(s), IpAddr::V6(d)) => checksum::combine(&[
            checksum::pseudo_header_v6(&s.octets(), &d.octets(), proto, l4.len() as u32),
            body,
        ]),
        _ => return false,
    };
    checksum::verifies(sum)
}

/// Assembles IP header + upper layer for `src` → `dst`.
fn assemble(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ip_fields: IpFields,
    l4: Vec<u8>,
) -> Option<Vec<u8>> {
    let mut out = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ipv4_header(
            s.octets(),
            d.octets(),
            proto,
            ip_fields.tos,
            ip_fields.ttl,
            ip_fields.df,
            ip_fields.id,
            l4.len(),
        ),
        (IpAddr::V6(s), IpAddr::V6(d)) => ipv6_header(
            s.octets(),
            d.octets(),
            proto,
            ip_fields.tos,
            ip_fields.flow,
            ip_fields.ttl,
            l4.len(),
        ),
        _ => return None,
    };
    out.extend_from_slice(&l4);
    Some(out)
}

/// The IP header fields a builder chooses.
#[derive(Clone, Copy)]
struct IpFields {
    tos: u8,
    ttl: u8,
    df: bool,
    id: u16,
    flow: u32,
}

/// Whether `a` can be the destination of an answer: `__icmp_send` and `icmp6_send` never
/// answer a source that does not name one unicast host.
fn unicast_source(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => !(v.is_unspecified() || v.is_multicast() || v.is_broadcast()),
        IpAddr::V6(v) => !(v.is_unspecified() || v.is_multicast()),
    }
}

/// icmp_send / icmp6_send: see the module notes. `offending` is the packet as the hook saw
/// it (from its IP header); `src` the address the error is sent from.
pub fn icmp_error(offending: &[u8], icmp_type: u8, code: u8, src: IpAddr) -> Option<Vec<u8>> {
    icmp_error_info(offending, icmp_type, code, 0, src)
}

/// [`icmp_error`] with the 32-bit `info` word after the checksum (the MTU of "fragmentation
/// needed" / "packet too big", the pointer of a parameter problem).
pub fn icmp_error_info(
    offending: &[u8],
    icmp_type: u8,
    code: u8,
    info_word: u32,
    src: IpAddr,
) -> Option<Vec<u8>> {
    let info = ip::parse(offending).ok()?;
    let end = trimmed(offending, &info).unwrap_or(offending.len());
    if info.src.is_ipv6() != src.is_ipv6() || !unicast_source(info.src) {
        return None;
    }
    let (max, proto, pseudo, tos) = if info.is_ipv6() {
        if !icmp6_eligible(&info, icmp_type, code) {
            return None;
        }
        (ICMP_ERROR_MAX_V6 - 40, 58u8, true, 0)
    } else {
        if !icmp4_eligible(offending, &info) {
            return None;
        }
        (ICMP_ERROR_MAX_V4 - 20, 1u8, false, icmp_error_tos(info.tos))
    };
    let quote = &offending[..end.min(max - 8)];
    let mut l4 = vec![icmp_type, code, 0, 0];
    l4.extend_from_slice(&info_word.to_be_bytes());
    l4.extend_from_slice(quote);
    fill_l4_checksum(&mut l4, 2, src, info.src, proto, pseudo);
    let fields = IpFields {
        tos,
        ttl: DEFAULT_TTL,
        df: false,
        id: 0,
        flow: 0,
    };
    assemble(src, info.src, proto, fields, l4)
}

/// `__icmp_send`'s own refusals for IPv4: not a later fragment, not to multicast or the
/// limited broadcast, not about an ICMP error or an ICMP type above `NR_ICMP_TYPES`.
fn icmp4_eligible(offending: &[u8], info: &ip::IpInfo) -> bool {
    let IpAddr::V4(dst) = info.dst else {
        return false;
    };
    if info.is_later_fragment() || dst.is_multicast() || dst.is_broadcast() {
        return false;
    }
    if info.protocol == IpProtocol::Icmp {
        // skb_header_pointer of the inner type: a packet too short to hold it gets nothing.
        let Some(&t) = offending.get(usize::from(info.l4_offset)) else {
            return false;
        };
        if t > NR_ICMP_TYPES || icmpv4::is_error(t) {
            return false;
        }
    }
    true
}

/// `icmp6_send`'s refusals: to a multicast destination only "packet too big" and
/// "unrecognized option" parameter problems are sent; never about an ICMPv6 error
/// (`is_ineligible`), except a later fragment whose ICMPv6 type is not in it.
fn icmp6_eligible(info: &ip::IpInfo, icmp_type: u8, code: u8) -> bool {
    let IpAddr::V6(dst) = info.dst else {
        return false;
    };
    if dst.is_multicast()
        && !(icmp_type == icmpv6::kind::PACKET_TOO_BIG
            || (icmp_type == icmpv6::kind::PARAM_PROBLEM && code == 2))
    {
        return false;
    }
    match info.l4 {
        L4Info::Icmp { msg_type, .. } => !icmpv6::is_error(msg_type),
        // A truncated ICMPv6 header: ineligible unless it is a later fragment.
        L4Info::Truncated => info.protocol != IpProtocol::Icmpv6,
        _ => true,
    }
}

/// The TCP header fields of the offending segment a reset answers.
struct Segment {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    header_len: u32,
}

/// The segment's TCP header when it is a whole first fragment that is not a RST.
fn segment(info: &ip::IpInfo) -> Option<Segment> {
    match info.l4 {
        L4Info::Tcp {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            header_len,
            ..
        } if flags & tcp::flags::RST == 0 && !info.is_later_fragment() => Some(Segment {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            header_len: u32::from(header_len),
        }),
        _ => None,
    }
}

/// The RST answering `s` whose TCP payload is `payload_len` bytes (`nf_reject_ip_tcphdr_put`
/// and `tcp_v4_send_reset` agree): with ACK, a bare RST whose seq is that ack; without,
/// RST|ACK with seq 0 acking everything the segment occupied (data, SYN and FIN).
fn reset_header(s: &Segment, payload_len: u32) -> Vec<u8> {
    let (seq, ack, flags) = if s.flags & tcp::flags::ACK != 0 {
        (s.ack, 0, tcp::flags::RST)
    } else {
        let used = payload_len
            + u32::from(s.flags & tcp::flags::SYN != 0)
            + u32::from(s.flags & tcp::flags::FIN != 0);
        (
            0,
            s.seq.wrapping_add(used),
            tcp::flags::RST | tcp::flags::ACK,
        )
    };
    let mut h = Vec::with_capacity(20);
    h.extend_from_slice(&s.dst_port.to_be_bytes());
    h.extend_from_slice(&s.src_port.to_be_bytes());
    h.extend_from_slice(&seq.to_be_bytes());
    h.extend_from_slice(&ack.to_be_bytes());
    h.extend_from_slice(&[0x50, flags, 0, 0, 0, 0, 0, 0]);
    h
}

/// Builds a RST answering `offending` with the given IP fields, or `None` when no RST is due.
fn reset(offending: &[u8], fields: impl Fn(&ip::IpInfo) -> IpFields) -> Option<Vec<u8>> {
    let info = ip::parse(offending).ok()?;
    let s = segment(&info)?;
    // skb->len minus the TCP header offset and length; the skb was trimmed to the IP length.
    let payload = info.l4_len().checked_sub(s.header_len)?;
    let mut l4 = reset_header(&s, payload);
    fill_l4_checksum(&mut l4, 16, info.dst, info.src, 6, true);
    assemble(info.dst, info.src, 6, fields(&info), l4)
}

/// nf_send_reset / nf_send_reset6: see the module notes. `None` for a RST, a later
/// fragment, or, for IPv6, a non-unicast address on either side. The TCP checksum check
/// `nf_send_reset` makes first (`nf_ip_checksum`, skipped for locally generated packets)
/// is the caller's: see [`l4_checksum_ok`].
pub fn tcp_reset(offending: &[u8]) -> Option<Vec<u8>> {
    let info = ip::parse(offending).ok()?;
    if let (IpAddr::V6(s), IpAddr::V6(d)) = (info.src, info.dst) {
        if !unicast_source(IpAddr::V6(s)) || !unicast_source(IpAddr::V6(d)) {
            return None;
        }
    }
    reset(offending, |_| IpFields {
        tos: 0,
        ttl: DEFAULT_TTL,
        df: true,
        id: 0,
        flow: 0,
    })
}

/// tcp_v4_send_reset / tcp_v6_send_reset: the stack's RST for a segment to a closed local
/// port (the caller knows the port is closed and the packet local).
pub fn closed_port_reset(offending: &[u8]) -> Option<Vec<u8>> {
    reset(offending, |info| IpFields {
        tos: info.tos & !0x03,
        ttl: DEFAULT_TTL,
        df: true,
        id: 0,
        flow: 0,
    })
}

/// icmp_echo / icmpv6_echo_reply: the echo reply to `request` from `src` (the request's
/// destination when it was a unicast address of this host). `None` for anything but a
/// whole echo request.
pub fn echo_reply(request: &[u8], src: IpAddr) -> Option<Vec<u8>> {
    let info = ip::parse(request).ok()?;
    let end = trimmed(request, &info)?;
    if info.frag.is_some() || info.src.is_ipv6() != src.is_ipv6() || !unicast_source(info.src) {
        return None;
    }
    let (want, reply_type, proto, pseudo) = if info.is_ipv6() {
        (
            icmpv6::kind::ECHO_REQUEST,
            icmpv6::kind::ECHO_REPLY,
            58u8,
            true,
        )
    } else {
        (
            icmpv4::kind::ECHO_REQUEST,
            icmpv4::kind::ECHO_REPLY,
            1u8,
            false,
        )
    };
    match info.l4 {
        L4Info::Icmp { msg_type, .. } if msg_type == want => {}
        _ => return None,
    }
    let mut l4 = request[usize::from(info.l4_offset)..end].to_vec();
    l4[0] = reply_type;
    l4[1] = 0;
    fill_l4_checksum(&mut l4, 2, src, info.src, proto, pseudo);
    let fields = IpFields {
        tos: info.tos,
        ttl: DEFAULT_TTL,
        df: false,
        id: 0,
        flow: 0,
    };
    assemble(src, info.src, proto, fields, l4)
}

/// icmp_timestamp: the reply to an IPv4 timestamp request (type 13) with at least 4 bytes
/// after its header: type 14, code 0, the request's id and sequence, its originate time,
/// then receive and transmit time both `ms` (the kernel's `inet_current_timestamp`,
/// milliseconds since midnight UT); 20 bytes of ICMP. IP fields as an echo reply's.
pub fn timestamp_reply(request: &[u8], src: IpAddr, ms: u32) -> Option<Vec<u8>> {
    let info = ip::parse(request).ok()?;
    let end = trimmed(request, &info)?;
    if info.frag.is_some() || info.is_ipv6() || !src.is_ipv4() || !unicast_source(info.src) {
        return None;
    }
    let at = usize::from(info.l4_offset);
    let icmp = request.get(at..end)?;
    if icmp.len() < 12 || icmp[0] != icmpv4::kind::TIMESTAMP {
        return None;
    }
    let mut l4 = vec![icmpv4::kind::TIMESTAMP_REPLY, 0, 0, 0];
    l4.extend_from_slice(&icmp[4..12]);
    l4.extend_from_slice(&ms.to_be_bytes());
    l4.extend_from_slice(&ms.to_be_bytes());
    fill_l4_checksum(&mut l4, 2, src, info.src, 1, false);
    let fields = IpFields {
        tos: info.tos,
        ttl: DEFAULT_TTL,
        df: false,
        id: 0,
        flow: 0,
    };
    assemble(src, info.src, 1, fields, l4)
}

#[cfg(test)]
mod timestamp_tests {
    use super::*;

    #[test]
    fn timestamp_reply_echoes_originate_and_stamps_the_clock() {
        // 10.0.0.9 > 10.0.0.1, timestamp request id 7 seq 2, originate 0xabcd, TOS 0x10.
        let mut req = vec![
            0x45, 0x10, 0, 40, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 9, 10, 0, 0, 1,
        ];
        req.extend_from_slice(&[13, 0, 0, 0, 0, 7, 0, 2, 0, 0, 0xab, 0xcd]);
        req.extend_from_slice(&[0; 8]);
        crate::wire::verify::recompute(&mut req).expect("checksums");
        let r = timestamp_reply(&req, "10.0.0.1".parse().unwrap(), 1234).expect("a reply");
        assert_eq!(r.len(), 40);
        assert_eq!((r[1], r[8], r[20], r[21]), (0x10, 64, 14, 0));
        assert_eq!(&r[24..32], &[0, 7, 0, 2, 0, 0, 0xab, 0xcd]);
        assert_eq!(&r[32..40], &[0, 0, 4, 0xd2, 0, 0, 4, 0xd2]);
        assert!(crate::wire::verify::verify(&r).expect("parses").all_ok());
        assert!(timestamp_reply(&req[..28], "10.0.0.1".parse().unwrap(), 0).is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::verify;

    fn v4(a: &str) -> IpAddr {
        a.parse().unwrap()
    }

    /// 10.0.0.1:40000 → 10.0.0.2:80 TCP with `flags`, seq 1000, ack 5000, `data` bytes.
    fn tcp4(flags: u8, data: usize, tos: u8) -> Vec<u8> {
        let mut l4 = vec![0x9c, 0x40, 0x00, 0x50];
        l4.extend_from_slice(&1000u32.to_be_bytes());
        l4.extend_from_slice(&5000u32.to_be_bytes());
        l4.extend_from_slice(&[0x50, flags, 0x72, 0x10, 0, 0, 0, 0]);
        l4.extend(std::iter::repeat(0xab).take(data));
        fill_l4_checksum(&mut l4, 16, v4("10.0.0.1"), v4("10.0.0.2"), 6, true);
        let mut p = ipv4_header([10, 0, 0, 1], [10, 0, 0, 2], 6, tos, 63, true, 7, l4.len());
        p.extend_from_slice(&l4);
        p
    }

    #[test]
    fn reset_for_syn_acks_seq_plus_one() {
        let r = tcp_reset(&tcp4(tcp::flags::SYN, 0, 0)).unwrap();
        let i = ip::parse(&r).unwrap();
        assert_eq!(
            (i.src, i.dst, i.ttl, i.dont_frag),
            (v4("10.0.0.2"), v4("10.0.0.1"), 64, true)
        );
        match i.l4 {
            L4Info::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                ..
            } => {
                assert_eq!((src_port, dst_port, seq, ack), (80, 40000, 0, 1001));
                assert_eq!(flags, tcp::flags::RST | tcp::flags::ACK);
            }
            other => panic!("{other:?}"),
        }
        assert!(verify::verify(&r).unwrap().all_ok());
    }

    #[test]
    fn reset_for_data_with_ack_uses_its_ack() {
        let r = tcp_reset(&tcp4(tcp::flags::ACK | tcp::flags::PSH, 10, 0)).unwrap();
        match ip::parse(&r).unwrap().l4 {
            L4Info::Tcp {
                seq, ack, flags, ..
            } => {
                assert_eq!((seq, ack, flags), (5000, 0, tcp::flags::RST))
            }
            other => panic!("{other:?}"),
        }
        // FIN without ACK and 10 bytes: ack = seq + 10 + 1.
        let r = tcp_reset(&tcp4(tcp::flags::FIN, 10, 0)).unwrap();
        match ip::parse(&r).unwrap().l4 {
            L4Info::Tcp { ack, .. } => assert_eq!(ack, 1011),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_reset_for_rst_and_checksum_check() {
        assert!(tcp_reset(&tcp4(tcp::flags::RST, 0, 0)).is_none());
        assert!(closed_port_reset(&tcp4(tcp::flags::RST | tcp::flags::ACK, 0, 0)).is_none());
        let good = tcp4(tcp::flags::SYN, 0, 0);
        assert!(l4_checksum_ok(&good, &ip::parse(&good).unwrap()));
        let mut bad = good.clone();
        bad[36] ^= 1;
        assert!(!l4_checksum_ok(&bad, &ip::parse(&bad).unwrap()));
    }

    #[test]
    fn icmp_error_quotes_and_caps_at_576() {
        let small = tcp4(tcp::flags::SYN, 0, 0x10);
        let e = icmp_error(&small, 3, 3, v4("10.0.0.2")).unwrap();
        assert_eq!(e.len(), 20 + 8 + small.len());
        assert_eq!(e[1], 0xd0);
        assert_eq!(&e[28..], &small[..]);
        assert!(verify::verify(&e).unwrap().all_ok());
        let big = tcp4(tcp::flags::ACK, 1000, 0);
        let e = icmp_error(&big, 3, 3, v4("10.0.0.2")).unwrap();
        assert_eq!(e.len(), 576);
        assert_eq!(&e[28..], &big[..548]);
    }

    #[test]
    fn no_icmp_error_about_an_icmp_error() {
        let small = tcp4(tcp::flags::SYN, 0, 0);
        let e = icmp_error(&small, 3, 3, v4("10.0.0.2")).unwrap();
        assert!(icmp_error(&e, 3, 3, v4("10.0.0.1")).is_none());
    }

    #[test]
    fn echo_reply_swaps_and_keeps_data() {
        let mut l4 = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, 1, 2, 3];
        fill_l4_checksum(&mut l4, 2, v4("10.0.0.1"), v4("10.0.0.2"), 1, false);
        let mut p = ipv4_header([10, 0, 0, 1], [10, 0, 0, 2], 1, 0, 64, true, 9, l4.len());
        p.extend_from_slice(&l4);
        let r = echo_reply(&p, v4("10.0.0.2")).unwrap();
        assert_eq!(&r[20..21], &[0]);
        assert_eq!(&r[24..], &p[24..]);
        assert!(verify::verify(&r).unwrap().all_ok());
    }
}

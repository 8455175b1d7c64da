//! Every checksum of a packet, verified or recomputed from scratch: the yardstick the
//! incremental rewrites are tested against, and what a writer calls after building a packet.
//!
//! Covered: the IPv4 header; the upper layer of an unfragmented packet (TCP, UDP, UDP-Lite,
//! DCCP, SCTP, ICMP, ICMPv6); for an ICMP/ICMPv6 error, the quoted IPv4 header and, when the
//! quoted datagram is whole and unfragmented, its upper layer too. Fragments' upper-layer
//! checksums cover the whole datagram and are left alone. A UDP checksum of 0 is left 0 by
//! [`recompute`] (over IPv4 it means "none"; over IPv6 it is invalid and the kernel's NAT
//! leaves it so too).

use super::checksum;
use super::ip::{self, IpInfo, IpProtocol};
use super::{be, icmpv4, icmpv6, ipv4, sctp, tcp, udp};
use super::{Error, Result};

/// Source and destination addresses, for pseudo-header sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addrs {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

impl Addrs {
    /// Reads them from an IPv4 or IPv6 header at the start of `b` (at least 20 or 40 bytes).
    pub fn of(b: &[u8]) -> Result<Addrs> {
        match b.first().map(|v| v >> 4) {
            Some(4) if b.len() >= 20 => {
                let mut s = [0; 4];
                let mut d = [0; 4];
                s.copy_from_slice(&b[12..16]);
                d.copy_from_slice(&b[16..20]);
                Ok(Addrs::V4(s, d))
            }
            Some(6) if b.len() >= 40 => {
                let mut s = [0; 16];
                let mut d = [0; 16];
                s.copy_from_slice(&b[8..24]);
                d.copy_from_slice(&b[24..40]);
                Ok(Addrs::V6(s, d))
            }
            Some(4 | 6) => Err(Error::Truncated),
            _ => Err(Error::Malformed("IP version is neither 4 nor 6")),
        }
    }

    pub fn is_v6(&self) -> bool {
        matches!(self, Addrs::V6(..))
    }

    /// The pseudo-header sum for `protocol` and upper-layer `length`.
    pub fn pseudo_header(&self, protocol: IpProtocol, length: u32) -> u16 {
        match self {
            Addrs::V4(s, d) => checksum::pseudo_header_v4(s, d, u8::from(protocol), length as u16),
            Addrs::V6(s, d) => checksum::pseudo_header_v6(s, d, u8::from(protocol), length),
        }
    }
}

/// Where a protocol keeps a 16-bit Internet checksum that covers a pseudo-header, if it does.
pub fn pseudo_checksum_offset(protocol: IpProtocol) -> Option<usize> {
    match protocol {
        IpProtocol::Tcp => Some(tcp::CHECKSUM_OFFSET),
        IpProtocol::Udp | IpProtocol::UdpLite => Some(udp::CHECKSUM_OFFSET),
        // RFC 4340 §9: DCCP's checksum (bytes 6..8) covers a pseudo-header too.
        IpProtocol::Dccp => Some(6),
        IpProtocol::Icmpv6 => Some(icmpv6::CHECKSUM_OFFSET),
        _ => None,
    }
}

/// The result of checking each checksum; `None` where there is none to check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checks {
    pub ip: Option<bool>,
    pub l4: Option<bool>,
    pub inner_ip: Option<bool>,
    pub inner_l4: Option<bool>,
}

impl Checks {
    /// Whether nothing checked failed.
    pub fn all_ok(&self) -> bool {
        [self.ip, self.l4, self.inner_ip, self.inner_l4]
            .iter()
            .all(|c| c.unwrap_or(true))
    }
}

/// Verifies every checksum (see the module notes).
pub fn verify(packet: &[u8]) -> Result<Checks> {
    let info = ip::parse(packet)?;
    let end = info.total_len as usize;
    let mut checks = Checks {
        ip: v4_header_ok(packet),
        l4: l4_ok(&packet[..end], &info),
        ..Checks::default()
    };
    if let Some((at, Ok(inner))) = ip::parse_embedded(packet, &info) {
        let quoted = &packet[at..end];
        checks.inner_ip = v4_header_ok(quoted);
        if whole(quoted, &inner) {
            checks.inner_l4 = l4_ok(&quoted[..inner.total_len as usize], &inner);
        }
    }
    Ok(checks)
}

/// Recomputes every checksum in place (see the module notes).
pub fn recompute(packet: &mut [u8]) -> Result<()> {
    let info = ip::parse(packet)?;
    let end = info.total_len as usize;
    if let Some((at, Ok(inner))) = ip::parse_embedded(packet, &info) {
        let quoted = &mut packet[at..end];
        fill_v4_header(quoted);
        if whole(quoted, &inner) {
            fill_l4(&mut quoted[..inner.total_len as usize], &inner)?;
        }
    }
    fill_v4_header(packet);
    fill_l4(&mut packet[..end], &info)
}

/// Whether a quoted datagram is all there and unfragmented, so its upper-layer checksum can
/// be computed.
fn whole(quoted: &[u8], inner: &IpInfo) -> bool {
    inner.total_len as usize <= quoted.len() && inner.frag.is_none()
}

fn v4_header_ok(b: &[u8]) -> Option<bool> {
    ipv4::Packet::new_checked_quoted(b)
        .ok()
        .map(|p| p.verify_checksum())
}

fn fill_v4_header(b: &mut [u8]) {
    if let Ok(mut p) = ipv4::Packet::new_checked_quoted(b) {
        p.fill_checksum();
    }
}

/// The upper layer's bytes and the sum of its pseudo-header, for an unfragmented datagram.
fn l4_span(dgram: &[u8], info: &IpInfo) -> Option<(usize, u16)> {
    if info.frag.is_some() {
        return None;
    }
    let off = usize::from(info.l4_offset);
    let len = dgram.len().checked_sub(off)? as u32;
    let addrs = Addrs::of(dgram).ok()?;
    let pseudo_len = if info.protocol == IpProtocol::Udp {
        // UDP's pseudo-header carries the UDP length field, not the IP payload length.
        u32::from(be::u16(dgram.get(off..off + 8)?, 4))
    } else {
        len
    };
    Some((off, addrs.pseudo_header(info.protocol, pseudo_len)))
}

fn l4_ok(dgram: &[u8], info: &IpInfo) -> Option<bool> {
    let (off, pseudo) = l4_span(dgram, info)?;
    let seg = &dgram[off..];
    let v6 = info.is_ipv6();
    match info.protocol {
        IpProtocol::Tcp => Some(tcp::Packet::new_checked(seg).ok()?.verify_checksum(pseudo)),
        IpProtocol::Udp => Some(
            udp::Packet::new_checked(seg)
                .ok()?
                .verify_checksum(pseudo, !v6),
        ),
        IpProtocol::UdpLite => Some(
            udp::LitePacket::new_checked(seg)
                .ok()?
                .verify_checksum(pseudo),
        ),
        IpProtocol::Dccp if seg.len() >= 12 => Some(checksum::verifies(checksum::combine(&[
            pseudo,
            dccp_covered_sum(seg),
        ]))),
        IpProtocol::Sctp => Some(sctp::Packet::new_checked(seg).ok()?.verify_checksum()),
        IpProtocol::Icmp if !v6 => Some(icmpv4::Packet::new_checked(seg).ok()?.verify_checksum()),
        IpProtocol::Icmpv6 if v6 => Some(
            icmpv6::Packet::new_checked(seg)
                .ok()?
                .verify_checksum(pseudo),
        ),
        _ => None,
    }
}

/// DCCP's checksum coverage (RFC 4340 §9.2): CsCov 0 = the whole packet, else the header
/// plus (CsCov - 1) * 4 bytes of data.
fn dccp_covered_sum(seg: &[u8]) -> u16 {
    let doff = usize::from(seg[4]) * 4;
    let cscov = usize::from(seg[5] & 0x0f);
    let n = if cscov == 0 {
        seg.len()
    } else {
        (doff + (cscov - 1) * 4).min(seg.len())
    };
    checksum::data(&seg[..n])
}

fn fill_l4(dgram: &mut [u8], info: &IpInfo) -> Result<()> {
    let Some((off, pseudo)) = l4_span(dgram, info) else {
        return Ok(());
    };
    let v6 = info.is_ipv6();
    let seg = &mut dgram[off..];
    match info.protocol {
        IpProtocol::Tcp => {
            if let Ok(mut t) = tcp::Packet::new_checked(seg) {
                t.fill_checksum(pseudo);
            }
        }
        IpProtocol::Udp => {
            if let Ok(mut u) = udp::Packet::new_checked(seg) {
                if u.checksum() != 0 {
                    u.fill_checksum(pseudo);
                }
            }
        }
        IpProtocol::UdpLite => {
            if let Ok(mut u) = udp::LitePacket::new_checked(seg) {
                u.fill_checksum(pseudo);
            }
        }
        IpProtocol::Dccp if seg.len() >= 12 => {
            be::set_u16(seg, 6, 0);
            let c = checksum::finish(checksum::combine(&[pseudo, dccp_covered_sum(seg)]));
            be::set_u16(seg, 6, c);
        }
        IpProtocol::Sctp => {
            if let Ok(mut s) = sctp::Packet::new_checked(seg) {
                s.fill_checksum();
            }
        }
        IpProtocol::Icmp if !v6 => {
            if let Ok(mut i) = icmpv4::Packet::new_checked(seg) {
                i.fill_checksum();
            }
        }
        IpProtocol::Icmpv6 if v6 => {
            if let Ok(mut i) = icmpv6::Packet::new_checked(seg) {
                i.fill_checksum(pseudo);
            }
        }
        _ => {}
    }
    Ok(())
}

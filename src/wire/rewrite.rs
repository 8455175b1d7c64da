//! NAT rewrites in place, with incremental checksum updates, as the kernel's
//! `nf_nat_proto.c` performs them.
//!
//! [`nat`] changes one end (source or destination, the kernel's `nf_nat_manip_type`) of a
//! packet: its address and, where the protocol has one, its port (TCP, UDP, UDP-Lite, DCCP,
//! SCTP) or its ICMP/ICMPv6 query identifier. Checksums follow by RFC 1624 updates: the IPv4
//! header checksum for the address; the upper-layer checksum for the pseudo-header's address
//! and the port (TCP, UDP, UDP-Lite, DCCP, ICMPv6); SCTP's CRC32c is recomputed when a port
//! changes. UDP keeps RFC 768's zero rule: a checksum of 0 stays 0 (no checksum), and an
//! update that computes 0 stores 0xffff (`CSUM_MANGLED_0`).
//!
//! [`nat_embedded`] does the same to the datagram quoted in an ICMP/ICMPv6 error (the inner
//! half of the kernel's `nf_nat_icmp_reply_translation`): the quoted addresses and ports, the
//! quoted IPv4 header checksum, the quoted upper-layer checksum when its header is quoted
//! whole (TCP needs 20 bytes, as `tcp_manip_pkt` requires; UDP's checksum is in its first 8),
//! and the outer ICMP checksum over it all. The outer addresses of the error are changed with
//! [`nat`] as usual.
//!
//! The upper layer of a later fragment is not touched: it has none. The kernel reassembles
//! before NAT, so fragments normally reach here whole (see `defrag`).

use std::net::IpAddr;

use super::checksum;
use super::ip::IpProtocol;
use super::verify::pseudo_checksum_offset;
use super::{be, icmpv4, icmpv6, ipv4, ipv6, sctp};
use super::{Error, Result};

/// Which end of the packet a NAT rewrite changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Manip {
    /// Source address and port (SNAT, MASQUERADE).
    Src,
    /// Destination address and port (DNAT, REDIRECT).
    Dst,
}

impl Manip {
    /// The other end (the kernel applies `!manip` to the datagram inside an ICMP error).
    pub fn invert(self) -> Manip {
        match self {
            Manip::Src => Manip::Dst,
            Manip::Dst => Manip::Src,
        }
    }
}

/// The layout facts a rewrite needs, read once.
struct Layout {
    v6: bool,
    /// Offset and length of the address to change.
    addr_at: usize,
    protocol: IpProtocol,
    /// Upper-layer offset and the end of the datagram (or of the quoted bytes).
    l4: usize,
    end: usize,
    /// Whether the upper-layer header is present (not a later fragment).
    has_l4: bool,
}

fn layout(b: &[u8], manip: Manip, quoted: bool) -> Result<Layout> {
    match b.first().map(|v| v >> 4) {
        Some(4) => {
            let p = if quoted {
                ipv4::Packet::new_checked_quoted(b)?
            } else {
                ipv4::Packet::new_checked(b)?
            };
            Ok(Layout {
                v6: false,
                addr_at: if manip == Manip::Src { 12 } else { 16 },
                protocol: p.protocol(),
                l4: p.header_len(),
                end: p.datagram().len(),
                has_l4: p.frag_offset() == 0,
            })
        }
        Some(6) => {
            let p = if quoted {
                ipv6::Packet::new_checked_quoted(b)?
            } else {
                ipv6::Packet::new_checked(b)?
            };
            let end = p.datagram().len();
            // A quoted packet may stop inside its extension headers: then only the
            // addresses can change (the kernel's `ipv6_skip_exthdr` fails and it goes to
            // `manip_addr`).
            let (protocol, l4, has_l4) = match ipv6::upper_layer(&p) {
                Ok(u) => (
                    u.protocol,
                    u.offset,
                    u.fragment.map_or(true, |f| f.offset == 0),
                ),
                Err(_) if quoted => (IpProtocol::Ipv6NoNxt, end, false),
                Err(e) => return Err(e),
            };
            Ok(Layout {
                v6: true,
                addr_at: if manip == Manip::Src { 8 } else { 24 },
                protocol,
                l4,
                end,
                has_l4,
            })
        }
        Some(_) => Err(Error::Malformed("IP version is neither 4 nor 6")),
        None => Err(Error::Truncated),
    }
}

fn octets(addr: IpAddr, v6: bool) -> Result<([u8; 16], usize)> {
    let mut o = [0u8; 16];
    match (addr, v6) {
        (IpAddr::V4(a), false) => {
            o[..4].copy_from_slice(&a.octets());
            Ok((o, 4))
        }
        (IpAddr::V6(a), true) => {
            o.copy_from_slice(&a.octets());
            Ok((o, 16))
        }
        _ => Err(Error::Unsupported(
            "address family differs from the packet's",
        )),
    }
}

/// Rewrites the source or destination address of `packet` (an IPv4/IPv6 datagram), and the
/// port or ICMP identifier when `port` is given (see the module notes). Bytes past the IP
/// length are left alone. The family of `addr` must be the packet's.
pub fn nat(packet: &mut [u8], manip: Manip, addr: IpAddr, port: Option<u16>) -> Result<()> {
    manip_datagram(packet, manip, addr, port, false)
}

/// Rewrites the datagram quoted in the ICMP/ICMPv6 error `packet` (see the module notes).
/// `manip` names the end *of the quoted datagram* to change: for an error travelling back
/// towards a NATed client, that is the opposite end of the one the outer packet changes.
pub fn nat_embedded(
    packet: &mut [u8],
    manip: Manip,
    addr: IpAddr,
    port: Option<u16>,
) -> Result<()> {
    let outer = layout(packet, manip, false)?;
    let is_error = match (outer.protocol, outer.v6) {
        (IpProtocol::Icmp, false) => packet.get(outer.l4).is_some_and(|&t| icmpv4::is_error(t)),
        (IpProtocol::Icmpv6, true) => packet.get(outer.l4).is_some_and(|&t| icmpv6::is_error(t)),
        _ => false,
    };
    if !is_error || !outer.has_l4 {
        return Err(Error::Unsupported("not an ICMP error message"));
    }
    let icmp = &mut packet[outer.l4..outer.end];
    if icmp.len() < icmpv4::HEADER_LEN {
        return Err(Error::Truncated);
    }
    let (head, quoted) = icmp.split_at_mut(icmpv4::HEADER_LEN);
    let before = checksum::data(quoted);
    manip_datagram(quoted, manip, addr, port, true)?;
    let after = checksum::data(quoted);
    // The quoted bytes start 8 bytes into the message, so their sum adds in aligned.
    let c = be::u16(head, 2);
    be::set_u16(head, 2, checksum::update(c, before, after));
    Ok(())
}

fn manip_datagram(
    b: &mut [u8],
    manip: Manip,
    addr: IpAddr,
    port: Option<u16>,
    quoted: bool,
) -> Result<()> {
    let lay = layout(b, manip, quoted)?;
    let (new, n) = octets(addr, lay.v6)?;
    let mut old = [0u8; 16];
    old[..n].copy_from_slice(&b[lay.addr_at..lay.addr_at + n]);
    let (old, new) = (&old[..n], &new[..n]);

    if lay.has_l4 {
        let seg = &mut b[lay.l4..lay.end];
        manip_l4(seg, &lay, manip, old, new, port)?;
    }
    if !lay.v6 {
        let c = be::u16(b, 10);
        be::set_u16(b, 10, checksum::update_bytes(c, old, new));
    }
    b[lay.addr_at..lay.addr_at + n].copy_from_slice(new);
    Ok(())
}

/// The upper-layer part of a NAT rewrite (the kernel's `l4proto_manip_pkt`).
fn manip_l4(
    seg: &mut [u8],
    lay: &Layout,
    manip: Manip,
    old_addr: &[u8],
    new_addr: &[u8],
    port: Option<u16>,
) -> Result<()> {
    let port_at = if manip == Manip::Src { 0 } else { 2 };
    match lay.protocol {
        IpProtocol::Tcp | IpProtocol::Udp | IpProtocol::UdpLite | IpProtocol::Dccp => {
            // The kernel makes 8 bytes writable or drops the packet; the checksum is updated
            // only when the whole fixed header is there (an ICMP error may quote just 8).
            if seg.len() < 8 {
                return Err(Error::Truncated);
            }
            let full_header = match lay.protocol {
                IpProtocol::Tcp => 20,
                IpProtocol::Dccp => 12,
                _ => 8,
            };
            let csum_at = pseudo_checksum_offset(lay.protocol);
            let old_port = be::u16(seg, port_at);
            let new_port = port.unwrap_or(old_port);
            let udp_zero = lay.protocol == IpProtocol::Udp && be::u16(seg, 6) == 0;
            if let Some(at) = csum_at.filter(|_| seg.len() >= full_header && !udp_zero) {
                let mut c = be::u16(seg, at);
                c = checksum::update_bytes(c, old_addr, new_addr);
                c = checksum::update(c, old_port, new_port);
                if matches!(lay.protocol, IpProtocol::Udp | IpProtocol::UdpLite) && c == 0 {
                    c = 0xffff;
                }
                be::set_u16(seg, at, c);
            }
            be::set_u16(seg, port_at, new_port);
        }
        IpProtocol::Sctp => {
            if seg.len() < 8 {
                return Err(Error::Truncated);
            }
            if let Some(p) = port {
                be::set_u16(seg, port_at, p);
                // `sctp_manip_pkt` recomputes the CRC whenever the common header is there
                // (for a quoted packet, over the quoted bytes, as the kernel does).
                if let Ok(mut s) = sctp::Packet::new_checked(&mut *seg) {
                    s.fill_checksum();
                }
            }
        }
        IpProtocol::Icmp if !lay.v6 => {
            if seg.len() < icmpv4::HEADER_LEN {
                return Err(Error::Truncated);
            }
            if let Some(id) = port.filter(|_| icmpv4::has_ident(seg[0])) {
                let old = be::u16(seg, icmpv4::IDENT_OFFSET);
                let c = be::u16(seg, icmpv4::CHECKSUM_OFFSET);
                be::set_u16(seg, icmpv4::CHECKSUM_OFFSET, checksum::update(c, old, id));
                be::set_u16(seg, icmpv4::IDENT_OFFSET, id);
            }
        }
        IpProtocol::Icmpv6 if lay.v6 => {
            if seg.len() < icmpv6::HEADER_LEN {
                return Err(Error::Truncated);
            }
            let mut c = be::u16(seg, icmpv6::CHECKSUM_OFFSET);
            c = checksum::update_bytes(c, old_addr, new_addr);
            if let Some(id) = port.filter(|_| icmpv6::has_ident(seg[0])) {
                let old = be::u16(seg, icmpv6::IDENT_OFFSET);
                c = checksum::update(c, old, id);
                be::set_u16(seg, icmpv6::IDENT_OFFSET, id);
            }
            be::set_u16(seg, icmpv6::CHECKSUM_OFFSET, c);
        }
        // GRE, ESP, AH, IGMP, unknown: the address is all there is to change.
        _ => {}
    }
    Ok(())
}

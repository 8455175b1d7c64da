//! Protocol numbers and the one-call summary of an IP packet that matches and conntrack use.
//!
//! [`parse`] picks IPv4 or IPv6 by the version nibble, validates the network header with the
//! view's `new_checked`, walks IPv6 extension headers, and reads what the upper layer offers
//! into an [`IpInfo`]: a small `Copy` value, built without allocation. The network header must
//! be sound (else `Err`); the upper layer may be short, which [`L4Info::Truncated`] records,
//! because the kernel still runs rules on such a packet and only a match that needs the
//! missing bytes drops it (iptables' `tcp_mt`/`udp_mt` set `hotdrop` when
//! `skb_header_pointer` fails).
//!
//! Non-first fragments have no upper-layer header ([`L4Info::None`]); the kernel's iptables
//! port matches are false for them (`par->fragoff != 0`).

use std::net::IpAddr;

use super::{be, Error, Result};
use super::{icmpv4, icmpv6, ipv4, ipv6, sctp, tcp, udp};

/// An IP protocol / IPv6 next-header number (IANA "Assigned Internet Protocol Numbers").
/// Unknown numbers are values, never errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpProtocol {
    HopByHop,
    Icmp,
    Igmp,
    Tcp,
    Udp,
    Dccp,
    Ipv6Route,
    Ipv6Frag,
    Gre,
    Esp,
    Ah,
    Icmpv6,
    Ipv6NoNxt,
    Ipv6Opts,
    Sctp,
    UdpLite,
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(n: u8) -> IpProtocol {
        match n {
            0 => IpProtocol::HopByHop,
            1 => IpProtocol::Icmp,
            2 => IpProtocol::Igmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            33 => IpProtocol::Dccp,
            43 => IpProtocol::Ipv6Route,
            44 => IpProtocol::Ipv6Frag,
            47 => IpProtocol::Gre,
            50 => IpProtocol::Esp,
            51 => IpProtocol::Ah,
            58 => IpProtocol::Icmpv6,
            59 => IpProtocol::Ipv6NoNxt,
            60 => IpProtocol::Ipv6Opts,
            132 => IpProtocol::Sctp,
            136 => IpProtocol::UdpLite,
            n => IpProtocol::Unknown(n),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(p: IpProtocol) -> u8 {
        match p {
            IpProtocol::HopByHop => 0,
            IpProtocol::Icmp => 1,
            IpProtocol::Igmp => 2,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Dccp => 33,
            IpProtocol::Ipv6Route => 43,
            IpProtocol::Ipv6Frag => 44,
            IpProtocol::Gre => 47,
            IpProtocol::Esp => 50,
            IpProtocol::Ah => 51,
            IpProtocol::Icmpv6 => 58,
            IpProtocol::Ipv6NoNxt => 59,
            IpProtocol::Ipv6Opts => 60,
            IpProtocol::Sctp => 132,
            IpProtocol::UdpLite => 136,
            IpProtocol::Unknown(n) => n,
        }
    }
}

/// Fragment facts: IPv4's header fields, or IPv6's fragment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragInfo {
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u16,
    /// More fragments follow.
    pub more: bool,
    /// The identification (IPv4's 16 bits widened; IPv6's 32 bits).
    pub ident: u32,
}

/// What the upper-layer header says, as far as matches and conntrack need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4Info {
    /// No upper-layer header to read: a non-first fragment, or a protocol without ports
    /// (GRE, ESP, AH, IGMP, No Next Header, unknown).
    None,
    /// The header is shorter than its fixed part (or, for TCP, its data offset says less than
    /// 20 bytes): a match that examines it drops the packet, as iptables' `hotdrop` does.
    Truncated,
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        /// FIN..CWR, see `tcp::flags`.
        flags: u8,
        window: u16,
        /// Data offset in bytes (20..=60).
        header_len: u8,
    },
    /// UDP, UDP-Lite and DCCP: ports only. Also TCP inside an ICMP error when fewer than 20
    /// bytes of it were quoted.
    Ports { src_port: u16, dst_port: u16 },
    Sctp {
        src_port: u16,
        dst_port: u16,
        verification_tag: u32,
    },
    /// ICMP or ICMPv6.
    Icmp {
        msg_type: u8,
        code: u8,
        /// The identifier, for the types conntrack tracks by it (echo and friends).
        ident: Option<u16>,
        /// An error message, quoting a datagram (see [`parse_embedded`]).
        error: bool,
    },
}

impl L4Info {
    /// Source and destination port (TCP, UDP, UDP-Lite, DCCP, SCTP).
    pub fn ports(&self) -> Option<(u16, u16)> {
        match *self {
            L4Info::Tcp {
                src_port, dst_port, ..
            }
            | L4Info::Ports { src_port, dst_port }
            | L4Info::Sctp {
                src_port, dst_port, ..
            } => Some((src_port, dst_port)),
            _ => None,
        }
    }
}

/// The summary of one IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The upper-layer protocol: IPv4's protocol field; for IPv6 the header after the
    /// extension headers (for a later fragment, the fragment header's next header).
    pub protocol: IpProtocol,
    /// TTL or hop limit.
    pub ttl: u8,
    /// TOS or traffic class.
    pub tos: u8,
    /// The IP length: IPv4 total length, or 40 + IPv6 payload length. Padding and trailers
    /// are not counted, as netfilter's byte counters do not count them.
    pub total_len: u32,
    /// Offset of the upper-layer header: IPv4 header length, or past the IPv6 extension
    /// headers.
    pub l4_offset: u16,
    /// Set when the packet is a fragment (IPv4 MF or offset; IPv6 fragment header present).
    pub frag: Option<FragInfo>,
    /// IPv4's DF flag (false for IPv6).
    pub dont_frag: bool,
    pub l4: L4Info,
}

impl IpInfo {
    pub fn is_ipv6(&self) -> bool {
        self.src.is_ipv6()
    }

    /// A fragment other than the first: iptables' `-f`.
    pub fn is_later_fragment(&self) -> bool {
        self.frag.is_some_and(|f| f.offset != 0)
    }

    /// Bytes of the upper layer (from `l4_offset` to `total_len`).
    pub fn l4_len(&self) -> u32 {
        self.total_len.saturating_sub(u32::from(self.l4_offset))
    }
}

/// Parses an IPv4 or IPv6 packet (see the module notes). Trailing bytes beyond the IP length
/// are ignored.
pub fn parse(packet: &[u8]) -> Result<IpInfo> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => parse_v4(packet, false),
        Some(6) => parse_v6(packet, false),
        Some(_) => Err(Error::Malformed("IP version is neither 4 nor 6")),
        None => Err(Error::Truncated),
    }
}

/// Parses the datagram quoted by an ICMP/ICMPv6 error: the network header must be whole, the
/// rest may be cut short; `total_len` is the quoted header's claim, not the bytes present.
pub fn parse_quoted(quoted: &[u8]) -> Result<IpInfo> {
    match quoted.first().map(|b| b >> 4) {
        Some(4) => parse_v4(quoted, true),
        Some(6) => parse_v6(quoted, true),
        Some(_) => Err(Error::Malformed("quoted IP version is neither 4 nor 6")),
        None => Err(Error::Truncated),
    }
}

/// For an ICMP/ICMPv6 error, the offset of the quoted datagram within `packet` and its
/// summary. `None` when `info` is not an error message.
pub fn parse_embedded(packet: &[u8], info: &IpInfo) -> Option<(usize, Result<IpInfo>)> {
    match info.l4 {
        L4Info::Icmp { error: true, .. } => {
            let at = usize::from(info.l4_offset) + icmpv4::HEADER_LEN;
            let end = (info.total_len as usize).min(packet.len());
            Some((at, parse_quoted(packet.get(at..end).unwrap_or(&[]))))
        }
        _ => None,
    }
}

fn parse_v4(packet: &[u8], quoted: bool) -> Result<IpInfo> {
    let ip = if quoted {
        ipv4::Packet::new_checked_quoted(packet)?
    } else {
        ipv4::Packet::new_checked(packet)?
    };
    let frag = ip.is_fragment().then(|| FragInfo {
        offset: ip.frag_offset(),
        more: ip.more_frags(),
        ident: u32::from(ip.ident()),
    });
    let protocol = ip.protocol();
    let l4 = if ip.frag_offset() != 0 {
        L4Info::None
    } else {
        upper(protocol, ip.payload(), false, quoted)
    };
    Ok(IpInfo {
        src: IpAddr::V4(ip.src_addr()),
        dst: IpAddr::V4(ip.dst_addr()),
        protocol,
        ttl: ip.ttl(),
        tos: ip.tos(),
        total_len: u32::from(ip.total_len()),
        l4_offset: ip.header_len() as u16,
        frag,
        dont_frag: ip.dont_frag(),
        l4,
    })
}

fn parse_v6(packet: &[u8], quoted: bool) -> Result<IpInfo> {
    let ip = if quoted {
        ipv6::Packet::new_checked_quoted(packet)?
    } else {
        ipv6::Packet::new_checked(packet)?
    };
    let up = ipv6::upper_layer(&ip);
    let (protocol, offset, fragment) = match up {
        Ok(u) => (u.protocol, u.offset, u.fragment),
        // A quoted packet may end inside its extension headers: nothing above is readable.
        Err(Error::Truncated) if quoted => (IpProtocol::Ipv6NoNxt, ip.datagram().len(), None),
        Err(e) => return Err(e),
    };
    let frag = fragment.map(|f| FragInfo {
        offset: f.offset,
        more: f.more,
        ident: f.ident,
    });
    let end = ip.datagram().len();
    let l4 = if frag.is_some_and(|f| f.offset != 0) {
        L4Info::None
    } else {
        upper(protocol, &packet[offset.min(end)..end], true, quoted)
    };
    Ok(IpInfo {
        src: IpAddr::V6(ip.src_addr()),
        dst: IpAddr::V6(ip.dst_addr()),
        protocol,
        ttl: ip.hop_limit(),
        tos: ip.traffic_class(),
        total_len: ipv6::HEADER_LEN as u32 + u32::from(ip.payload_len()),
        l4_offset: offset as u16,
        frag,
        dont_frag: false,
        l4,
    })
}

/// Reads the upper-layer header from `b` (the bytes from its start to the IP end).
fn upper(protocol: IpProtocol, b: &[u8], v6: bool, quoted: bool) -> L4Info {
    let ports = |b: &[u8]| (be::u16(b, 0), be::u16(b, 2));
    match protocol {
        IpProtocol::Tcp => match tcp::Packet::new_checked(b) {
            Ok(t) => L4Info::Tcp {
                src_port: t.src_port(),
                dst_port: t.dst_port(),
                seq: t.seq_number(),
                ack: t.ack_number(),
                flags: t.flags(),
                window: t.window_len(),
                header_len: t.header_len() as u8,
            },
            // ICMP errors need quote only 8 bytes of the transport header (RFC 792).
            Err(_) if quoted && b.len() >= 8 => {
                let (src_port, dst_port) = ports(b);
                L4Info::Ports { src_port, dst_port }
            }
            Err(_) => L4Info::Truncated,
        },
        IpProtocol::Udp | IpProtocol::UdpLite if b.len() >= udp::HEADER_LEN => {
            let (src_port, dst_port) = ports(b);
            L4Info::Ports { src_port, dst_port }
        }
        // DCCP's generic header is 12 bytes (16 with extended sequence numbers); the ports
        // are its first four.
        IpProtocol::Dccp if b.len() >= 12 || (quoted && b.len() >= 8) => {
            let (src_port, dst_port) = ports(b);
            L4Info::Ports { src_port, dst_port }
        }
        IpProtocol::Sctp if b.len() >= sctp::HEADER_LEN || (quoted && b.len() >= 8) => {
            let (src_port, dst_port) = ports(b);
            L4Info::Sctp {
                src_port,
                dst_port,
                verification_tag: be::u32(b, 4),
            }
        }
        IpProtocol::Icmp if !v6 && b.len() >= icmpv4::HEADER_LEN => {
            let t = b[0];
            L4Info::Icmp {
                msg_type: t,
                code: b[1],
                ident: icmpv4::has_ident(t).then(|| be::u16(b, icmpv4::IDENT_OFFSET)),
                error: icmpv4::is_error(t),
            }
        }
        IpProtocol::Icmpv6 if v6 && b.len() >= icmpv6::HEADER_LEN => {
            let t = b[0];
            L4Info::Icmp {
                msg_type: t,
                code: b[1],
                ident: icmpv6::has_ident(t).then(|| be::u16(b, icmpv6::IDENT_OFFSET)),
                error: icmpv6::is_error(t),
            }
        }
        IpProtocol::Udp | IpProtocol::UdpLite | IpProtocol::Dccp | IpProtocol::Sctp => {
            L4Info::Truncated
        }
        IpProtocol::Icmp if !v6 => L4Info::Truncated,
        IpProtocol::Icmpv6 if v6 => L4Info::Truncated,
        _ => L4Info::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4_tcp_syn() -> Vec<u8> {
        let mut v = vec![
            0x45, 0x10, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0, 0, 10, 0, 0, 1, 10, 0,
            0, 2,
        ];
        v.extend_from_slice(&crate::wire::tcp::tests::syn());
        v
    }

    #[test]
    fn protocol_numbers_round_trip() {
        for n in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(n)), n);
        }
        assert_eq!(IpProtocol::from(253), IpProtocol::Unknown(253));
    }

    #[test]
    fn v4_tcp() {
        let b = v4_tcp_syn();
        let i = parse(&b).unwrap();
        assert_eq!(i.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(i.protocol, IpProtocol::Tcp);
        assert_eq!((i.total_len, i.l4_offset, i.tos, i.ttl), (60, 20, 0x10, 64));
        assert!(i.dont_frag && i.frag.is_none());
        assert_eq!(i.l4.ports(), Some((40000, 80)));
        assert!(matches!(
            i.l4,
            L4Info::Tcp {
                flags: tcp::flags::SYN,
                header_len: 40,
                ..
            }
        ));
    }

    #[test]
    fn v4_truncated_tcp_and_later_fragment() {
        let mut b = v4_tcp_syn();
        b[3] = 30; // IP length cuts TCP to 10 bytes
        assert_eq!(parse(&b).unwrap().l4, L4Info::Truncated);
        let mut b = v4_tcp_syn();
        b[6] = 0x00;
        b[7] = 0x10; // offset 128
        let i = parse(&b).unwrap();
        assert_eq!(i.l4, L4Info::None);
        assert!(i.is_later_fragment());
        assert_eq!(i.frag.unwrap().ident, 0x1c46);
    }

    #[test]
    fn v6_udp_after_ext_headers() {
        let mut v = vec![0x60, 0, 0, 0, 0, 16, 0, 7];
        v.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
        v.extend_from_slice(&[0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00]);
        let i = parse(&v).unwrap();
        assert_eq!(i.protocol, IpProtocol::Udp);
        assert_eq!(i.l4_offset, 48);
        assert_eq!(i.l4.ports(), Some((12345, 53)));
        assert_eq!(i.total_len, 56);
    }

    #[test]
    fn errors() {
        assert_eq!(parse(&[]), Err(Error::Truncated));
        assert!(matches!(parse(&[0x50; 40]), Err(Error::Malformed(_))));
    }
}

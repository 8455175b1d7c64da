//! Tuples: one direction's identity of a connection (`struct nf_conntrack_tuple`), read
//! from a packet as `nf_ct_get_tuple` does and inverted as `nf_ct_invert_tuple` does.
//!
//! Ports are those of TCP, UDP, UDP-Lite and SCTP. ICMP and ICMPv6 carry the query
//! identifier where ports would be and `(type << 8) | code` as the destination "port"; only
//! query types have an inverse (echo ↔ echo reply and friends, the kernel's `invmap`), so
//! any other ICMP message cannot start a connection. GRE is tracked by addresses (the kernel
//! keys only PPTP's GRE version 1 by call id; version 0 gets key 0). DCCP has no tracker in
//! the measured kernel (no `nf_conntrack_dccp_*` sysctls), so it, like every other
//! protocol, is tracked by addresses alone (`nf_conntrack_l4proto_generic`).

use std::net::IpAddr;

use crate::wire::ip::{IpInfo, L4Info};

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const UDPLITE: u8 = 136;
pub const SCTP: u8 = 132;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;
pub const GRE: u8 = 47;

/// One direction's identity of a connection (`nf_conntrack_tuple`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    /// TCP/UDP/UDP-Lite/SCTP source port; ICMP/ICMPv6 query identifier; 0 otherwise.
    pub src_port: u16,
    /// Destination port; ICMP/ICMPv6: `(type << 8) | code`; 0 otherwise.
    pub dst_port: u16,
}

impl Tuple {
    /// The reply direction's tuple of an original one (an echo request's becomes an echo
    /// reply's). An ICMP type without an inverse keeps its type; use [`Tuple::try_invert`]
    /// where that matters.
    pub fn invert(&self) -> Tuple {
        self.try_invert().unwrap_or(Tuple {
            src: self.dst,
            dst: self.src,
            ..*self
        })
    }

    /// `nf_ct_invert_tuple`: `None` for ICMP/ICMPv6 types that have no reply.
    pub fn try_invert(&self) -> Option<Tuple> {
        match self.protocol {
            ICMP | ICMPV6 => {
                let (t, code) = ((self.dst_port >> 8) as u8, self.dst_port as u8);
                let inv = if self.protocol == ICMP {
                    icmp_inverse(t)?
                } else {
                    icmpv6_inverse(t)?
                };
                Some(Tuple {
                    src: self.dst,
                    dst: self.src,
                    protocol: self.protocol,
                    src_port: self.src_port,
                    dst_port: (u16::from(inv) << 8) | u16::from(code),
                })
            }
            _ => Some(Tuple {
                src: self.dst,
                dst: self.src,
                protocol: self.protocol,
                src_port: self.dst_port,
                dst_port: self.src_port,
            }),
        }
    }

    /// Whether the protocol has ports (the part NAT may change besides addresses).
    pub fn has_ports(&self) -> bool {
        has_ports(self.protocol)
    }

    /// ICMP/ICMPv6 message type (meaningless for other protocols).
    pub fn icmp_type(&self) -> u8 {
        (self.dst_port >> 8) as u8
    }
}

pub fn has_ports(protocol: u8) -> bool {
    matches!(protocol, TCP | UDP | UDPLITE | SCTP)
}

/// ICMP query types and their answers (`invmap` in nf_conntrack_proto_icmp.c).
pub fn icmp_inverse(t: u8) -> Option<u8> {
    match t {
        8 => Some(0),
        0 => Some(8),
        13 => Some(14),
        14 => Some(13),
        15 => Some(16),
        16 => Some(15),
        17 => Some(18),
        18 => Some(17),
        _ => None,
    }
}

/// ICMPv6 query types and their answers (`invmap` in nf_conntrack_proto_icmpv6.c).
pub fn icmpv6_inverse(t: u8) -> Option<u8> {
    match t {
        128 => Some(129),
        129 => Some(128),
        139 => Some(140),
        140 => Some(139),
        _ => None,
    }
}

/// The tuple a packet carries (`nf_ct_get_tuple`), or why none can be read. `protocol` is
/// the upper-layer protocol number.
pub fn of_packet(info: &IpInfo) -> Result<Tuple, &'static str> {
    let protocol = u8::from(info.protocol);
    let (src_port, dst_port) = match (protocol, info.l4) {
        (
            TCP | UDP | UDPLITE | SCTP,
            L4Info::Tcp {
                src_port, dst_port, ..
            },
        )
        | (TCP | UDP | UDPLITE | SCTP, L4Info::Ports { src_port, dst_port })
        | (
            TCP | UDP | UDPLITE | SCTP,
            L4Info::Sctp {
                src_port, dst_port, ..
            },
        ) => (src_port, dst_port),
        (TCP | UDP | UDPLITE | SCTP, _) => return Err("cannot read the ports"),
        (
            ICMP | ICMPV6,
            L4Info::Icmp {
                msg_type,
                code,
                ident,
                ..
            },
        ) => (
            ident.unwrap_or(0),
            (u16::from(msg_type) << 8) | u16::from(code),
        ),
        (ICMP | ICMPV6, _) => return Err("short ICMP header"),
        _ => (0, 0),
    };
    Ok(Tuple {
        src: info.src,
        dst: info.dst,
        protocol,
        src_port,
        dst_port,
    })
}

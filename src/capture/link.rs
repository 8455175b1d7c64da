//! Link-layer decoding: given a frame and its link type, where the network layer starts,
//! which protocol it is, the VLAN tags on the way, and what Linux cooked captures add (the
//! packet type, and for SLL2 the interface index).
//!
//! The protocol is reported as the kernel would set `skb->protocol`: EtherTypes as they are;
//! an 802.3 length field in place of a type becomes ETH_P_802_3 (1) for a raw Novell frame
//! and ETH_P_802_2 (4) otherwise (`eth_type_trans()` in net/ethernet/eth.c); a cooked
//! capture's protocol field already is `skb->protocol`. Unknown link types, EtherTypes and
//! address families are values, never errors; the only error is a frame too short for the
//! header its link type promises.
//!
//! Formats: LINKTYPE_ registry pages on tcpdump.org (LINUX_SLL, LINUX_SLL2, NULL, LOOP).

use std::fmt;

use super::linktype::LinkType;

/// 802.1Q customer tag and 802.1ad service tag (QinQ): the TPIDs the kernel treats as VLAN
/// headers (`eth_type_vlan()` in include/linux/if_vlan.h).
pub const ETH_P_8021Q: u16 = 0x8100;
pub const ETH_P_8021AD: u16 = 0x88a8;
pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_IPV6: u16 = 0x86dd;
/// Values below this in a type field are an 802.3 length (`ETH_P_802_3_MIN`).
const ETH_P_802_3_MIN: u16 = 0x0600;
const ETH_P_802_3: u16 = 0x0001;
const ETH_P_802_2: u16 = 0x0004;

/// Tags kept per frame; a deeper stack stops the walk with the next tag's TPID as protocol.
pub const MAX_VLANS: usize = 4;

mod field {
    pub type Range = std::ops::Range<usize>;
    pub const ETH_TYPE: Range = 12..14;
    pub const ETH_LEN: usize = 14;
    pub const SLL_PKTTYPE: Range = 0..2;
    pub const SLL_PROTOCOL: Range = 14..16;
    pub const SLL_LEN: usize = 16;
    pub const SLL2_PROTOCOL: Range = 0..2;
    pub const SLL2_IFINDEX: Range = 4..8;
    pub const SLL2_PKTTYPE: usize = 10;
    pub const SLL2_LEN: usize = 20;
    pub const NULL_FAMILY: Range = 0..4;
    pub const NULL_LEN: usize = 4;
    pub const VLAN_LEN: usize = 4;
}

/// The network-layer protocol of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Ipv4,
    Ipv6,
    /// Any other `skb->protocol`: an EtherType (ARP is 0x0806), or one of the kernel's small
    /// ETH_P_ values for 802.3/802.2 frames and cooked captures (1, 4, CAN 0x000c, ...).
    Other(u16),
    /// A BSD loopback address family that is neither AF_INET nor an AF_INET6.
    Family(u32),
    /// Raw IP whose version nibble is neither 4 nor 6, or a link type fwbench does not decode
    /// (then `network` is 0: where the link header ends is not known).
    Unknown,
}

/// The kernel's packet types (`PACKET_*` in include/uapi/linux/if_packet.h), as cooked
/// captures record them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketType {
    Host,
    Broadcast,
    Multicast,
    OtherHost,
    Outgoing,
    Loopback,
    User,
    Kernel,
    Unknown(u16),
}

impl From<u16> for PacketType {
    fn from(v: u16) -> PacketType {
        match v {
            0 => PacketType::Host,
            1 => PacketType::Broadcast,
            2 => PacketType::Multicast,
            3 => PacketType::OtherHost,
            4 => PacketType::Outgoing,
            5 => PacketType::Loopback,
            6 => PacketType::User,
            7 => PacketType::Kernel,
            v => PacketType::Unknown(v),
        }
    }
}

/// One VLAN tag as it stands in the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// 0x8100 (802.1Q) or 0x88a8 (802.1ad).
    pub tpid: u16,
    pub tci: u16,
}

impl VlanTag {
    pub fn vid(self) -> u16 {
        self.tci & 0x0fff
    }
    pub fn pcp(self) -> u8 {
        (self.tci >> 13) as u8
    }
    pub fn dei(self) -> bool {
        self.tci & 0x1000 != 0
    }
}

/// The VLAN tags of a frame, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Vlans {
    tags: [VlanTag; MAX_VLANS],
    len: u8,
}

impl Vlans {
    pub fn as_slice(&self) -> &[VlanTag] {
        &self.tags[..self.len as usize]
    }
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What the link layer says about a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Link {
    /// Offset in the frame where the network-layer header starts.
    pub network: usize,
    pub protocol: Protocol,
    pub vlans: Vlans,
    /// The interface index a Linux cooked v2 capture recorded.
    pub if_index: Option<u32>,
    /// The packet type a Linux cooked capture (v1 or v2) recorded.
    pub packet_type: Option<PacketType>,
}

/// A frame shorter than its link-layer header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkError {
    pub link: LinkType,
    /// Bytes the header needs.
    pub needed: usize,
    /// Bytes the frame has.
    pub len: usize,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} frame of {} bytes is too short for its {}-byte link header",
            self.link, self.len, self.needed
        )
    }
}

impl std::error::Error for LinkError {}

#[inline(always)]
fn be16(f: &[u8], r: field::Range) -> u16 {
    u16::from_be_bytes([f[r.start], f[r.start + 1]])
}

#[inline(always)]
fn be32(f: &[u8], r: field::Range) -> u32 {
    u32::from_be_bytes([f[r.start], f[r.start + 1], f[r.start + 2], f[r.start + 3]])
}

/// Decodes the link-layer header of `frame`.
#[inline]
pub fn decode(link: LinkType, frame: &[u8]) -> Result<Link, LinkError> {
    let need = |n: usize| {
        if frame.len() < n {
            Err(LinkError {
                link,
                needed: n,
                len: frame.len(),
            })
        } else {
            Ok(())
        }
    };
    let mut l = Link {
        network: 0,
        protocol: Protocol::Unknown,
        vlans: Vlans::default(),
        if_index: None,
        packet_type: None,
    };
    match link {
        LinkType::Ethernet => {
            need(field::ETH_LEN)?;
            let et = be16(frame, field::ETH_TYPE);
            walk(&mut l, frame, et, field::ETH_LEN, true).map_err(need_err(link, frame))?;
        }
        LinkType::LinuxSll => {
            need(field::SLL_LEN)?;
            l.packet_type = Some(PacketType::from(be16(frame, field::SLL_PKTTYPE)));
            let p = be16(frame, field::SLL_PROTOCOL);
            walk(&mut l, frame, p, field::SLL_LEN, false).map_err(need_err(link, frame))?;
        }
        LinkType::LinuxSll2 => {
            need(field::SLL2_LEN)?;
            l.if_index = Some(be32(frame, field::SLL2_IFINDEX));
            l.packet_type = Some(PacketType::from(frame[field::SLL2_PKTTYPE] as u16));
            let p = be16(frame, field::SLL2_PROTOCOL);
            walk(&mut l, frame, p, field::SLL2_LEN, false).map_err(need_err(link, frame))?;
        }
        LinkType::Raw => {
            need(1)?;
            l.protocol = match frame[0] >> 4 {
                4 => Protocol::Ipv4,
                6 => Protocol::Ipv6,
                _ => Protocol::Unknown,
            };
        }
        LinkType::Ipv4 => l.protocol = Protocol::Ipv4,
        LinkType::Ipv6 => l.protocol = Protocol::Ipv6,
        LinkType::Null | LinkType::Loop => {
            need(field::NULL_LEN)?;
            let mut fam = be32(frame, field::NULL_FAMILY);
            // DLT_NULL stores the family in the capturing host's byte order; families are
            // small, so a value with its upper half set was written little-endian (the same
            // guess as Wireshark's packet-null.c). DLT_LOOP is always big-endian.
            if link == LinkType::Null && fam & 0xffff_0000 != 0 {
                fam = fam.swap_bytes();
            }
            l.network = field::NULL_LEN;
            l.protocol = match fam {
                // AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD, BSD/OS), 28
                // (FreeBSD, DragonFly) or 30 (macOS), hence three values (libpcap's
                // BSD_AFNUM_INET6_*).
                2 => Protocol::Ipv4,
                24 | 28 | 30 => Protocol::Ipv6,
                f => Protocol::Family(f),
            };
        }
        LinkType::Unknown(_) => {}
    }
    Ok(l)
}

fn need_err(link: LinkType, frame: &[u8]) -> impl Fn(usize) -> LinkError + '_ {
    move |needed| LinkError {
        link,
        needed,
        len: frame.len(),
    }
}

/// From a type field `ty` whose payload starts at `off`: VLAN tags, then the protocol.
/// `wire` says whether `ty` is a type from the wire (where values below 0x0600 are 802.3
/// lengths) or a cooked capture's `skb->protocol`. `Err` holds the bytes needed.
#[inline(always)]
fn walk(l: &mut Link, f: &[u8], mut ty: u16, mut off: usize, mut wire: bool) -> Result<(), usize> {
    while (ty == ETH_P_8021Q || ty == ETH_P_8021AD) && (l.vlans.len as usize) < MAX_VLANS {
        let end = off + field::VLAN_LEN;
        if f.len() < end {
            return Err(end);
        }
        l.vlans.tags[l.vlans.len as usize] = VlanTag {
            tpid: ty,
            tci: be16(f, off..off + 2),
        };
        l.vlans.len += 1;
        ty = be16(f, off + 2..off + 4);
        off = end;
        // The type inside a tag is a wire type even after a cooked header (the kernel's
        // vlan_set_encap_proto()).
        wire = true;
    }
    l.network = off;
    l.protocol = match ty {
        ETH_P_IP => Protocol::Ipv4,
        ETH_P_IPV6 => Protocol::Ipv6,
        t if wire && t < ETH_P_802_3_MIN => {
            // A raw Novell 802.3 frame starts with 0xffff where LLC would have its SAPs.
            if f.get(off..off + 2) == Some(&[0xff, 0xff]) {
                Protocol::Other(ETH_P_802_3)
            } else {
                Protocol::Other(ETH_P_802_2)
            }
        }
        t => Protocol::Other(t),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(ty: &[u8], rest: &[u8]) -> Vec<u8> {
        let mut f = vec![0xff; 12];
        f.extend_from_slice(ty);
        f.extend_from_slice(rest);
        f
    }

    #[test]
    fn ethernet_ipv4() {
        let f = eth(&[0x08, 0x00], &[0x45; 20]);
        let l = decode(LinkType::Ethernet, &f).unwrap();
        assert_eq!((l.network, l.protocol), (14, Protocol::Ipv4));
        assert!(l.vlans.is_empty());
    }

    #[test]
    fn qinq_two_tags() {
        // 802.1ad outer tag VID 100, 802.1Q inner VID 200 PCP 5, then IPv6.
        let f = eth(
            &[0x88, 0xa8],
            &[0x00, 0x64, 0x81, 0x00, 0xa0, 0xc8, 0x86, 0xdd, 0x60],
        );
        let l = decode(LinkType::Ethernet, &f).unwrap();
        assert_eq!((l.network, l.protocol), (22, Protocol::Ipv6));
        let tags = l.vlans.as_slice();
        assert_eq!(tags.len(), 2);
        assert_eq!((tags[0].tpid, tags[0].vid()), (0x88a8, 100));
        assert_eq!(
            (tags[1].tpid, tags[1].vid(), tags[1].pcp()),
            (0x8100, 200, 5)
        );
    }

    #[test]
    fn truncated_tag_is_an_error() {
        let f = eth(&[0x81, 0x00], &[0x00]);
        let e = decode(LinkType::Ethernet, &f).unwrap_err();
        assert_eq!((e.needed, e.len), (18, 15));
        assert!(decode(LinkType::Ethernet, &[0; 13]).is_err());
    }

    #[test]
    fn length_field_is_llc_or_novell() {
        let llc = eth(&[0x00, 0x26], &[0x42, 0x42, 0x03]);
        assert_eq!(
            decode(LinkType::Ethernet, &llc).unwrap().protocol,
            Protocol::Other(4)
        );
        let novell = eth(&[0x00, 0x26], &[0xff, 0xff, 0x00]);
        assert_eq!(
            decode(LinkType::Ethernet, &novell).unwrap().protocol,
            Protocol::Other(1)
        );
    }

    #[test]
    fn unknown_link_and_ethertype_are_values() {
        let l = decode(LinkType::Unknown(147), &[1, 2, 3]).unwrap();
        assert_eq!((l.network, l.protocol), (0, Protocol::Unknown));
        let arp = eth(&[0x08, 0x06], &[0; 28]);
        assert_eq!(
            decode(LinkType::Ethernet, &arp).unwrap().protocol,
            Protocol::Other(0x0806)
        );
    }

    #[test]
    fn null_both_byte_orders_and_loop() {
        let le = [2, 0, 0, 0, 0x45];
        let be = [0, 0, 0, 30, 0x60];
        assert_eq!(
            decode(LinkType::Null, &le).unwrap().protocol,
            Protocol::Ipv4
        );
        assert_eq!(
            decode(LinkType::Null, &be).unwrap().protocol,
            Protocol::Ipv6
        );
        assert_eq!(
            decode(LinkType::Loop, &[0, 0, 0, 24]).unwrap().protocol,
            Protocol::Ipv6
        );
        assert_eq!(
            decode(LinkType::Loop, &[0, 0, 0, 7]).unwrap().protocol,
            Protocol::Family(7)
        );
    }

    #[test]
    fn raw_version_nibble() {
        assert_eq!(
            decode(LinkType::Raw, &[0x45]).unwrap().protocol,
            Protocol::Ipv4
        );
        assert_eq!(
            decode(LinkType::Raw, &[0x60]).unwrap().protocol,
            Protocol::Ipv6
        );
        assert_eq!(
            decode(LinkType::Raw, &[0x10]).unwrap().protocol,
            Protocol::Unknown
        );
        assert!(decode(LinkType::Raw, &[]).is_err());
        assert_eq!(
            decode(LinkType::Ipv6, &[]).unwrap().protocol,
            Protocol::Ipv6
        );
    }

    #[test]
    fn sll2_interface_index_and_vlan() {
        let mut f = vec![0x81, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6];
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&[0x00, 0x0a, 0x08, 0x00, 0x45]);
        let l = decode(LinkType::LinuxSll2, &f).unwrap();
        assert_eq!(l.if_index, Some(7));
        assert_eq!(l.packet_type, Some(PacketType::Outgoing));
        assert_eq!((l.network, l.protocol), (24, Protocol::Ipv4));
        assert_eq!(l.vlans.as_slice()[0].vid(), 10);
    }
}

//! IPv6 header view (RFC 8200) and the walk over its extension headers.
//!
//! `Packet::new_checked` needs the 40-byte header and the payload its length field announces;
//! bytes beyond are a trailer and ignored. `new_checked_quoted` needs only the fixed header
//! (for the datagram an ICMPv6 error quotes). Jumbograms (payload length 0 with a hop-by-hop
//! jumbo option) are not supported: their payload reads as empty.
//!
//! [`ExtHeaders`] walks the extension header chain the way the kernel's `ipv6_skip_exthdr`
//! (conntrack, NAT) and `ipv6_find_hdr` (ip6tables' `-p`) do: hop-by-hop, routing,
//! destination options (length `(hdrlen + 1) * 8`), AH (length `(hdrlen + 2) * 4`, skipped as
//! opaque) and fragment (8 bytes) are extension headers; anything else, ESP and No Next Header
//! included, ends the walk as the upper-layer protocol. A fragment header with a non-zero
//! offset also ends it: what follows is the middle of a datagram, not a header.

use std::net::Ipv6Addr;

use super::be;
use super::checksum;
use super::{Error, IpProtocol, Result};

mod field {
    use std::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
}

pub const HEADER_LEN: usize = 40;

/// A view of an IPv6 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without validating it (only for bytes this crate built or checked).
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer holding the whole packet (see the module notes).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_checked_quoted(buffer)?;
        if HEADER_LEN + usize::from(p.payload_len()) > p.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// Wraps the possibly truncated packet quoted in an ICMPv6 error.
    pub fn new_checked_quoted(buffer: T) -> Result<Packet<T>> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 6 {
            return Err(Error::Malformed("IP version is not 6"));
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// The traffic class (DSCP in the high six bits, ECN in the low two).
    pub fn traffic_class(&self) -> u8 {
        (be::u16(self.buffer.as_ref(), 0) >> 4) as u8
    }

    pub fn flow_label(&self) -> u32 {
        be::u32(self.buffer.as_ref(), field::VER_TC_FLOW.start) & 0x000f_ffff
    }

    pub fn payload_len(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::LENGTH.start)
    }

    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NXT_HDR])
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    pub fn src_bytes(&self) -> [u8; 16] {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::SRC_ADDR]);
        a
    }

    pub fn dst_bytes(&self) -> [u8; 16] {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::DST_ADDR]);
        a
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.src_bytes())
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.dst_bytes())
    }

    fn end(&self) -> usize {
        (HEADER_LEN + usize::from(self.payload_len())).min(self.buffer.as_ref().len())
    }

    /// Everything after the fixed header, extension headers included, up to the payload
    /// length (or the buffer's end for a quoted packet).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.end()]
    }

    /// The packet without any trailer.
    pub fn datagram(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.end()]
    }

    /// The extension headers after the fixed header.
    pub fn ext_headers(&self) -> ExtHeaders<'_> {
        ExtHeaders::new(self.next_header(), self.payload(), HEADER_LEN)
    }

    /// The sum of the upper-layer pseudo-header (RFC 8200 §8.1) with this packet's source
    /// and destination. A routing header's final destination is not substituted: the kernel's
    /// netfilter checks and NAT use the header's destination too.
    pub fn pseudo_header(&self, next_header: IpProtocol, length: u32) -> u16 {
        checksum::pseudo_header_v6(
            &self.src_bytes(),
            &self.dst_bytes(),
            u8::from(next_header),
            length,
        )
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    pub fn set_traffic_class(&mut self, tc: u8) {
        let b = self.bytes_mut();
        b[0] = 0x60 | (tc >> 4);
        b[1] = (b[1] & 0x0f) | (tc << 4);
    }

    pub fn set_flow_label(&mut self, label: u32) {
        let b = self.bytes_mut();
        b[1] = (b[1] & 0xf0) | ((label >> 16) as u8 & 0x0f);
        b[2] = (label >> 8) as u8;
        b[3] = label as u8;
    }

    pub fn set_payload_len(&mut self, len: u16) {
        be::set_u16(self.bytes_mut(), field::LENGTH.start, len);
    }

    pub fn set_next_header(&mut self, p: IpProtocol) {
        self.bytes_mut()[field::NXT_HDR] = u8::from(p);
    }

    pub fn set_hop_limit(&mut self, h: u8) {
        self.bytes_mut()[field::HOP_LIMIT] = h;
    }

    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        self.bytes_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        self.bytes_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.end();
        &mut self.bytes_mut()[HEADER_LEN..end]
    }
}

/// What the fragment header says (RFC 8200 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentHeader {
    /// The protocol of the fragmentable part.
    pub next_header: IpProtocol,
    /// Offset in bytes.
    pub offset: u16,
    pub more: bool,
    pub ident: u32,
    /// Where the fragment header starts, from the start of the IPv6 header.
    pub header_offset: usize,
}

/// One extension header met during the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtHeader {
    /// Which header this is (hop-by-hop, routing, fragment, destination options, AH).
    pub kind: IpProtocol,
    /// Its offset from the start of the IPv6 header.
    pub offset: usize,
    pub len: usize,
    pub next_header: IpProtocol,
}

/// Whether the kernel's `ipv6_ext_hdr` counts `p` as an extension header to walk over.
pub fn is_ext_header(p: IpProtocol) -> bool {
    matches!(
        p,
        IpProtocol::HopByHop
            | IpProtocol::Ipv6Route
            | IpProtocol::Ipv6Frag
            | IpProtocol::Ah
            | IpProtocol::Ipv6Opts
    )
}

/// Iterator over the extension headers (see the module notes). Yields `Err(Truncated)` once
/// and stops if a header runs past the payload.
#[derive(Clone, Debug)]
pub struct ExtHeaders<'a> {
    next: IpProtocol,
    bytes: &'a [u8],
    /// Position in `bytes`.
    pos: usize,
    /// Offset of `bytes` from the IPv6 header.
    base: usize,
    done: bool,
}

impl<'a> ExtHeaders<'a> {
    /// Walks `bytes` (which start at offset `base` of the IPv6 packet) from a header of kind
    /// `first`.
    pub fn new(first: IpProtocol, bytes: &'a [u8], base: usize) -> ExtHeaders<'a> {
        ExtHeaders {
            next: first,
            bytes,
            pos: 0,
            base,
            done: false,
        }
    }

    /// The protocol after the headers yielded so far.
    pub fn next_header(&self) -> IpProtocol {
        self.next
    }

    /// Offset, from the IPv6 header, of what follows the headers yielded so far.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }
}

impl Iterator for ExtHeaders<'_> {
    type Item = Result<ExtHeader>;

    fn next(&mut self) -> Option<Result<ExtHeader>> {
        if self.done || !is_ext_header(self.next) {
            return None;
        }
        let rest = &self.bytes[self.pos..];
        if rest.len() < 2 {
            self.done = true;
            return Some(Err(Error::Truncated));
        }
        let len = match self.next {
            IpProtocol::Ipv6Frag => 8,
            IpProtocol::Ah => (usize::from(rest[1]) + 2) * 4,
            _ => (usize::from(rest[1]) + 1) * 8,
        };
        if rest.len() < len {
            self.done = true;
            return Some(Err(Error::Truncated));
        }
        let h = ExtHeader {
            kind: self.next,
            offset: self.base + self.pos,
            len,
            next_header: IpProtocol::from(rest[0]),
        };
        if self.next == IpProtocol::Ipv6Frag && be::u16(rest, 2) & 0xfff8 != 0 {
            // A later fragment: the bytes after its header are data, not headers.
            self.done = true;
        }
        self.pos += len;
        self.next = h.next_header;
        Some(Ok(h))
    }
}

/// Reads a fragment header found by the walk.
pub fn fragment_header(packet: &[u8], h: &ExtHeader) -> Option<FragmentHeader> {
    if h.kind != IpProtocol::Ipv6Frag {
        return None;
    }
    let b = packet.get(h.offset..h.offset + 8)?;
    let w = be::u16(b, 2);
    Some(FragmentHeader {
        next_header: IpProtocol::from(b[0]),
        offset: w & 0xfff8,
        more: w & 1 != 0,
        ident: be::u32(b, 4),
        header_offset: h.offset,
    })
}

/// Where the upper layer starts, as the walk finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpperLayer {
    pub protocol: IpProtocol,
    /// Offset from the start of the IPv6 header.
    pub offset: usize,
    pub fragment: Option<FragmentHeader>,
    /// Whether the walk passed a routing header (its final destination may differ).
    pub has_routing: bool,
}

/// Walks every extension header of `packet` and returns the upper layer.
pub fn upper_layer<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<UpperLayer> {
    let mut walk = packet.ext_headers();
    let mut fragment = None;
    let mut has_routing = false;
    for h in walk.by_ref() {
        let h = h?;
        match h.kind {
            IpProtocol::Ipv6Frag => fragment = fragment_header(packet.as_bytes(), &h),
            IpProtocol::Ipv6Route => has_routing = true,
            _ => {}
        }
    }
    Ok(UpperLayer {
        protocol: walk.next_header(),
        offset: walk.offset(),
        fragment,
        has_routing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2001:db8::1 → 2001:db8::2, hop-by-hop (8 bytes, PadN) → destination options
    /// (8 bytes) → fragment (first, M=1, id 0x01020304) → UDP 8 bytes.
    fn sample() -> Vec<u8> {
        let mut v = vec![0x60, 0x00, 0x00, 0x00, 0x00, 32, 0, 64];
        v.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        v.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        v.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
        v.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
        v.extend_from_slice(&[17, 0, 0x00, 0x01, 1, 2, 3, 4]);
        v.extend_from_slice(&[0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00]);
        v
    }

    #[test]
    fn walk_to_udp() {
        let b = sample();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.next_header(), IpProtocol::HopByHop);
        let up = upper_layer(&p).unwrap();
        assert_eq!(up.protocol, IpProtocol::Udp);
        assert_eq!(up.offset, 64);
        let f = up.fragment.unwrap();
        assert_eq!((f.offset, f.more, f.ident), (0, true, 0x0102_0304));
        let kinds: Vec<IpProtocol> = p.ext_headers().map(|h| h.unwrap().kind).collect();
        assert_eq!(
            kinds,
            [
                IpProtocol::HopByHop,
                IpProtocol::Ipv6Opts,
                IpProtocol::Ipv6Frag
            ]
        );
    }

    #[test]
    fn later_fragment_stops_the_walk() {
        let mut b = sample();
        b[58] = 0x05; // offset 0x0500 & 0xfff8 = 1280, M = 1
        b[59] = 0x01;
        let p = Packet::new_checked(&b[..]).unwrap();
        let up = upper_layer(&p).unwrap();
        assert_eq!(up.protocol, IpProtocol::Udp);
        assert_eq!(up.fragment.unwrap().offset, 0x0500);
    }

    #[test]
    fn truncated_ext_header() {
        let mut b = sample();
        b[41] = 9; // hop-by-hop claims 80 bytes
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(upper_layer(&p).unwrap_err(), Error::Truncated);
        assert_eq!(
            Packet::new_checked(&b[..50]).unwrap_err(),
            Error::Truncated,
            "payload length beyond the buffer"
        );
    }

    #[test]
    fn traffic_class_and_flow() {
        let mut b = sample();
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_flow_label(0xabcde);
        p.set_traffic_class(0xb9);
        assert_eq!(p.traffic_class(), 0xb9);
        assert_eq!(p.flow_label(), 0xabcde);
        assert_eq!(p.version(), 6);
    }
}

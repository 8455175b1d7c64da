//! IPv4 header view (RFC 791).
//!
//! `Packet::new_checked` accepts a buffer that holds the whole datagram: version 4, a header
//! length of at least 20 bytes that fits, and a total length between the header length and the
//! buffer length. Bytes past the total length (Ethernet padding, a trailer) are allowed and
//! ignored, as the kernel's `ip_rcv_core` trims them. `new_checked_quoted` accepts the
//! truncated copy an ICMP error quotes: only the header must be there, the payload is what is
//! left. Either way, every accessor below stays in bounds.

use std::net::Ipv4Addr;

use super::be;
use super::checksum;
use super::{Error, IpProtocol, Result};

mod field {
    use std::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
}

/// The fixed part of the header.
pub const HEADER_LEN: usize = 20;
/// Don't Fragment, in the flags/offset word.
const FLAG_DF: u16 = 0x4000;
/// More Fragments.
const FLAG_MF: u16 = 0x2000;
/// The reserved ("evil") bit.
const FLAG_RESERVED: u16 = 0x8000;
const OFFSET_MASK: u16 = 0x1fff;

/// A view of an IPv4 datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without validating it; accessors may panic on short buffers. Use only
    /// on bytes built or validated by this crate.
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer that holds a whole datagram (see the module notes).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_checked_quoted(buffer)?;
        let len = p.buffer.as_ref().len();
        let total = usize::from(p.total_len());
        if total < p.header_len() {
            return Err(Error::Malformed(
                "IPv4 total length below the header length",
            ));
        }
        if total > len {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// Wraps the possibly truncated datagram quoted in an ICMP error: the header must be
    /// whole, the payload may be cut short.
    pub fn new_checked_quoted(buffer: T) -> Result<Packet<T>> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[field::VER_IHL] >> 4 != 4 {
            return Err(Error::Malformed("IP version is not 4"));
        }
        let hl = usize::from(b[field::VER_IHL] & 0x0f) * 4;
        if hl < HEADER_LEN {
            return Err(Error::Malformed("IPv4 header length below 20 bytes"));
        }
        if hl > b.len() {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole buffer, trailer included.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// The TOS byte (DSCP in the high six bits, ECN in the low two).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }

    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }

    pub fn total_len(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::LENGTH.start)
    }

    pub fn ident(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::IDENT.start)
    }

    fn flags_offset(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::FLG_OFF.start)
    }

    pub fn dont_frag(&self) -> bool {
        self.flags_offset() & FLAG_DF != 0
    }

    pub fn more_frags(&self) -> bool {
        self.flags_offset() & FLAG_MF != 0
    }

    /// The reserved flag bit (RFC 3514's "evil bit"); the kernel keeps it.
    pub fn reserved_flag(&self) -> bool {
        self.flags_offset() & FLAG_RESERVED != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (self.flags_offset() & OFFSET_MASK) << 3
    }

    /// Whether this datagram is a fragment (MF set or a non-zero offset): the kernel's
    /// `ip_is_fragment`.
    pub fn is_fragment(&self) -> bool {
        self.flags_offset() & (FLAG_MF | OFFSET_MASK) != 0
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    pub fn checksum(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.src_bytes())
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.dst_bytes())
    }

    pub fn src_bytes(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [b[12], b[13], b[14], b[15]]
    }

    pub fn dst_bytes(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [b[16], b[17], b[18], b[19]]
    }

    /// The options bytes (between the fixed header and the payload).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// The header, options included.
    pub fn header(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.header_len()]
    }

    /// The end of the datagram within the buffer: the total length, cut to the buffer for a
    /// quoted datagram, never below the header.
    fn end(&self) -> usize {
        let b = self.buffer.as_ref();
        usize::from(self.total_len())
            .min(b.len())
            .max(self.header_len())
    }

    /// The payload: from the end of the header to the total length (or the buffer's end).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..self.end()]
    }

    /// The datagram without any trailer.
    pub fn datagram(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.end()]
    }

    /// Whether the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(checksum::data(self.header()))
    }

    /// The header checksum computed from scratch.
    pub fn compute_checksum(&self) -> u16 {
        let h = self.header();
        let stored = self.checksum();
        // Sum with the field taken as zero: subtract the stored value back out.
        let sum = checksum::combine(&[checksum::data(h), !stored]);
        checksum::finish(sum)
    }

    /// The sum of the TCP/UDP pseudo-header for this datagram's addresses and `protocol`.
    pub fn pseudo_header(&self, protocol: IpProtocol, length: u16) -> u16 {
        checksum::pseudo_header_v4(
            &self.src_bytes(),
            &self.dst_bytes(),
            u8::from(protocol),
            length,
        )
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    // Setters write the field only; the header checksum is the caller's (see `rewrite` for
    // the incremental versions, `fill_checksum` for a full one).

    pub fn set_version_ihl(&mut self, header_len: usize) {
        self.bytes_mut()[field::VER_IHL] = 0x40 | ((header_len / 4) as u8 & 0x0f);
    }

    pub fn set_tos(&mut self, tos: u8) {
        self.bytes_mut()[field::TOS] = tos;
    }

    pub fn set_total_len(&mut self, len: u16) {
        be::set_u16(self.bytes_mut(), field::LENGTH.start, len);
    }

    pub fn set_ident(&mut self, id: u16) {
        be::set_u16(self.bytes_mut(), field::IDENT.start, id);
    }

    /// Sets the flags (DF, MF, reserved) and the offset in bytes (a multiple of 8).
    pub fn set_flags_offset(&mut self, reserved: bool, df: bool, mf: bool, offset: u16) {
        let mut w = (offset >> 3) & OFFSET_MASK;
        if reserved {
            w |= FLAG_RESERVED;
        }
        if df {
            w |= FLAG_DF;
        }
        if mf {
            w |= FLAG_MF;
        }
        be::set_u16(self.bytes_mut(), field::FLG_OFF.start, w);
    }

    pub fn set_ttl(&mut self, ttl: u8) {
        self.bytes_mut()[field::TTL] = ttl;
    }

    pub fn set_protocol(&mut self, p: IpProtocol) {
        self.bytes_mut()[field::PROTOCOL] = u8::from(p);
    }

    pub fn set_checksum(&mut self, c: u16) {
        be::set_u16(self.bytes_mut(), field::CHECKSUM.start, c);
    }

    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.bytes_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.bytes_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }

    /// Recomputes the header checksum from scratch.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::data(self.header()));
        self.set_checksum(c);
    }

    /// The payload, writable (same bounds as `payload`).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = (self.header_len(), self.end());
        &mut self.bytes_mut()[start..end]
    }

    /// The header and the payload, writable, split at the end of the header.
    pub fn split_mut(&mut self) -> (&mut [u8], &mut [u8]) {
        let (start, end) = (self.header_len(), self.end());
        self.bytes_mut()[..end].split_at_mut(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UDP datagram 192.168.0.1 → 192.168.0.199, followed by 2 bytes of padding: the header
    /// of the well-known checksum example 45 00 00 73 .. b8 61 with the total length cut from
    /// 0x73 to 0x1c, so its checksum is 0xb861 + 0x57 = 0xb8b8.
    fn sample() -> Vec<u8> {
        let mut v = vec![
            0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0xb8, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        v.extend_from_slice(&[0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00, 0xee, 0xee]);
        v
    }

    #[test]
    fn parse_fields() {
        let b = sample();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 28);
        assert!(p.dont_frag());
        assert!(!p.is_fragment());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), IpProtocol::Udp);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(192, 168, 0, 199));
        assert_eq!(p.payload().len(), 8, "padding is not payload");
        assert_eq!(p.compute_checksum(), p.checksum());
    }

    #[test]
    fn fill_then_verify() {
        let mut b = sample();
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_ttl(3);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
    }

    #[test]
    fn bad_lengths() {
        let b = sample();
        assert_eq!(Packet::new_checked(&b[..19]).unwrap_err(), Error::Truncated);
        assert_eq!(Packet::new_checked(&b[..27]).unwrap_err(), Error::Truncated);
        assert!(Packet::new_checked_quoted(&b[..24]).is_ok());
        let mut v = b.clone();
        v[0] = 0x44;
        assert!(matches!(
            Packet::new_checked(&v[..]),
            Err(Error::Malformed(_))
        ));
        let mut v = b.clone();
        v[0] = 0x65;
        assert!(matches!(
            Packet::new_checked(&v[..]),
            Err(Error::Malformed(_))
        ));
        let mut v = b.clone();
        v[3] = 10;
        assert!(matches!(
            Packet::new_checked(&v[..]),
            Err(Error::Malformed(_))
        ));
        let mut v = b;
        v[0] = 0x4f;
        assert_eq!(Packet::new_checked(&v[..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn fragment_fields() {
        let mut b = sample();
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_flags_offset(false, false, true, 1480);
        assert!(p.more_frags());
        assert_eq!(p.frag_offset(), 1480);
        assert!(p.is_fragment());
    }
}

//! UDP (RFC 768) and UDP-Lite (RFC 3828) header views.
//!
//! The two share the 8-byte header; they differ in the meaning of the length field and so in
//! what the checksum covers:
//! - UDP: the length field is the datagram length (at least 8, at most the bytes given; bytes
//!   past it are ignored, as the kernel's `udp_error` and `pskb_trim_rcsum` do). The checksum
//!   covers the pseudo-header (with that length) and the datagram. Over IPv4 a checksum field of
//!   0 means "no checksum" (RFC 768); a computed checksum of 0 is sent as 0xffff.
//! - UDP-Lite: the field is the checksum coverage: 0 means the whole packet, otherwise at least
//!   8 and at most the packet (the IP payload). The checksum covers the pseudo-header, whose
//!   length is the *packet* length, and the first `coverage` bytes. A checksum of 0 is never
//!   valid (RFC 3828 §3.1); the kernel's conntrack calls such a packet invalid.

use super::be;
use super::checksum;
use super::{Error, Result};

mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

pub const HEADER_LEN: usize = 8;
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

/// A view of a UDP datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn ports(b: &[u8]) -> (u16, u16) {
    (
        be::u16(b, field::SRC_PORT.start),
        be::u16(b, field::DST_PORT.start),
    )
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Checks the header and the length field against the bytes given (the IP payload).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(be::u16(b, field::LENGTH.start));
        if len < HEADER_LEN {
            return Err(Error::Malformed("UDP length below 8"));
        }
        if len > b.len() {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn src_port(&self) -> u16 {
        ports(self.buffer.as_ref()).0
    }

    pub fn dst_port(&self) -> u16 {
        ports(self.buffer.as_ref()).1
    }

    pub fn len(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::LENGTH.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() <= HEADER_LEN as u16
    }

    pub fn checksum(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// The datagram as its length field bounds it (header included).
    pub fn datagram(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[..usize::from(self.len()).clamp(HEADER_LEN, b.len())]
    }

    pub fn payload(&self) -> &[u8] {
        &self.datagram()[HEADER_LEN..]
    }

    /// Whether the checksum verifies with the pseudo-header sum `pseudo` (built with the UDP
    /// length). A zero checksum field verifies only when `zero_allowed` (IPv4).
    pub fn verify_checksum(&self, pseudo: u16, zero_allowed: bool) -> bool {
        if self.checksum() == 0 {
            return zero_allowed;
        }
        checksum::verifies(checksum::combine(&[
            pseudo,
            checksum::data(self.datagram()),
        ]))
    }

    /// The checksum field value a full computation gives, 0 already mapped to 0xffff.
    pub fn compute_checksum(&self, pseudo: u16) -> u16 {
        let sum = checksum::combine(&[pseudo, checksum::data(self.datagram()), !self.checksum()]);
        nonzero(checksum::finish(sum))
    }
}

/// RFC 768: a computed checksum of 0 is transmitted as all ones (the kernel's
/// `CSUM_MANGLED_0`), because 0 means "no checksum".
pub fn nonzero(c: u16) -> u16 {
    if c == 0 {
        0xffff
    } else {
        c
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_src_port(&mut self, p: u16) {
        be::set_u16(self.buffer.as_mut(), field::SRC_PORT.start, p);
    }

    pub fn set_dst_port(&mut self, p: u16) {
        be::set_u16(self.buffer.as_mut(), field::DST_PORT.start, p);
    }

    pub fn set_len(&mut self, len: u16) {
        be::set_u16(self.buffer.as_mut(), field::LENGTH.start, len);
    }

    pub fn set_checksum(&mut self, c: u16) {
        be::set_u16(self.buffer.as_mut(), field::CHECKSUM.start, c);
    }

    /// Computes and stores the checksum (never 0).
    pub fn fill_checksum(&mut self, pseudo: u16) {
        self.set_checksum(0);
        let sum = checksum::combine(&[pseudo, checksum::data(self.datagram())]);
        self.set_checksum(nonzero(checksum::finish(sum)));
    }
}

/// A view of a UDP-Lite packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LitePacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> LitePacket<T> {
    pub fn new_unchecked(buffer: T) -> LitePacket<T> {
        LitePacket { buffer }
    }

    /// Checks the header and the coverage against the packet (the whole IP payload), as the
    /// kernel's `udplite_error` does.
    pub fn new_checked(buffer: T) -> Result<LitePacket<T>> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let cov = usize::from(be::u16(b, field::LENGTH.start));
        if cov != 0 && (cov < HEADER_LEN || cov > b.len()) {
            return Err(Error::Malformed("UDP-Lite checksum coverage"));
        }
        Ok(LitePacket { buffer })
    }

    pub fn src_port(&self) -> u16 {
        ports(self.buffer.as_ref()).0
    }

    pub fn dst_port(&self) -> u16 {
        ports(self.buffer.as_ref()).1
    }

    /// The raw coverage field (0 = the whole packet).
    pub fn coverage_field(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// How many bytes the checksum covers.
    pub fn coverage(&self) -> usize {
        let b = self.buffer.as_ref();
        match usize::from(self.coverage_field()) {
            0 => b.len(),
            c => c.clamp(HEADER_LEN, b.len()),
        }
    }

    /// The packet length, which is what the pseudo-header carries.
    pub fn packet_len(&self) -> usize {
        self.buffer.as_ref().len()
    }

    pub fn checksum(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    fn covered(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.coverage()]
    }

    /// Whether the checksum verifies with the pseudo-header sum `pseudo` (built with the
    /// packet length). Zero never verifies.
    pub fn verify_checksum(&self, pseudo: u16) -> bool {
        self.checksum() != 0
            && checksum::verifies(checksum::combine(&[pseudo, checksum::data(self.covered())]))
    }

    pub fn compute_checksum(&self, pseudo: u16) -> u16 {
        let sum = checksum::combine(&[pseudo, checksum::data(self.covered()), !self.checksum()]);
        nonzero(checksum::finish(sum))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> LitePacket<T> {
    pub fn set_src_port(&mut self, p: u16) {
        be::set_u16(self.buffer.as_mut(), field::SRC_PORT.start, p);
    }

    pub fn set_dst_port(&mut self, p: u16) {
        be::set_u16(self.buffer.as_mut(), field::DST_PORT.start, p);
    }

    pub fn set_coverage_field(&mut self, c: u16) {
        be::set_u16(self.buffer.as_mut(), field::LENGTH.start, c);
    }

    pub fn set_checksum(&mut self, c: u16) {
        be::set_u16(self.buffer.as_mut(), field::CHECKSUM.start, c);
    }

    pub fn fill_checksum(&mut self, pseudo: u16) {
        self.set_checksum(0);
        let sum = checksum::combine(&[pseudo, checksum::data(self.covered())]);
        self.set_checksum(nonzero(checksum::finish(sum)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dns_query() -> Vec<u8> {
        let mut v = vec![0x30, 0x39, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x00];
        v.extend_from_slice(b"hello");
        v
    }

    #[test]
    fn parse_and_checksum() {
        let mut b = dns_query();
        b.extend_from_slice(&[0, 0]); // trailer beyond the UDP length
        let pseudo = checksum::pseudo_header_v4(&[10, 0, 0, 1], &[10, 0, 0, 2], 17, 13);
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (12345, 53, 13));
        assert_eq!(p.payload(), b"hello");
        assert!(p.verify_checksum(pseudo, true), "zero means none over IPv4");
        assert!(
            !p.verify_checksum(pseudo, false),
            "but is invalid over IPv6"
        );
        p.fill_checksum(pseudo);
        assert!(p.verify_checksum(pseudo, false));
        assert_eq!(p.compute_checksum(pseudo), p.checksum());
    }

    #[test]
    fn bad_lengths() {
        let b = dns_query();
        assert_eq!(Packet::new_checked(&b[..7]).unwrap_err(), Error::Truncated);
        assert_eq!(Packet::new_checked(&b[..12]).unwrap_err(), Error::Truncated);
        let mut v = b;
        v[5] = 7;
        assert!(matches!(
            Packet::new_checked(&v[..]),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn lite_coverage() {
        let mut b = dns_query();
        b[5] = 0; // coverage 0: everything
        let pseudo = checksum::pseudo_header_v4(&[10, 0, 0, 1], &[10, 0, 0, 2], 136, 13);
        let mut p = LitePacket::new_checked(&mut b[..]).unwrap();
        assert_eq!(p.coverage(), 13);
        assert!(
            !p.verify_checksum(pseudo),
            "zero is never valid for UDP-Lite"
        );
        p.set_coverage_field(8);
        p.fill_checksum(pseudo);
        assert!(p.verify_checksum(pseudo));
        // Bytes past the coverage are not protected.
        b[12] ^= 0xff;
        let p = LitePacket::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum(pseudo));
        let mut v = b.clone();
        v[5] = 7;
        assert!(LitePacket::new_checked(&v[..]).is_err());
        v[5] = 14;
        assert!(LitePacket::new_checked(&v[..]).is_err());
    }
}

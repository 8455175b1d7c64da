//! ICMPv6 (RFC 4443) view.
//!
//! Like ICMP for IPv4 (type, code, checksum, four more header bytes, then data), but the
//! checksum also covers the IPv6 pseudo-header (next header 58), so address changes touch
//! it. Types below 128 are errors that quote the offending packet (as much as fits in the
//! minimum MTU) after the 8-byte header; echo request/reply (128/129) and node information
//! query/response (139/140) carry the identifier conntrack tracks (the kernel's
//! `icmpv6_pkt_to_tuple` and `icmpv6_manip_pkt`).

use super::be;
use super::checksum;
use super::{Error, Result};

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const IDENT: usize = 4;
    pub const SEQ: usize = 6;
}

pub const HEADER_LEN: usize = 8;
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM;
pub const IDENT_OFFSET: usize = field::IDENT;

/// Message types (IANA "ICMPv6 Type Numbers"); others are plain values.
pub mod kind {
    pub const DEST_UNREACHABLE: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAM_PROBLEM: u8 = 4;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
    pub const NODE_INFO_QUERY: u8 = 139;
    pub const NODE_INFO_RESPONSE: u8 = 140;
}

/// Whether a type is an error quoting a packet (RFC 4443 §2.1: types 0..=127; the kernel's
/// `icmpv6_error` treats every type below 128 so).
pub fn is_error(t: u8) -> bool {
    t < 128
}

/// Whether a type carries an identifier that conntrack tracks.
pub fn has_ident(t: u8) -> bool {
    matches!(
        t,
        kind::ECHO_REQUEST | kind::ECHO_REPLY | kind::NODE_INFO_QUERY | kind::NODE_INFO_RESPONSE
    )
}

/// A view of an ICMPv6 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Bytes 4..8: identifier and sequence, MTU (packet too big) or pointer.
    pub fn rest_of_header(&self) -> u32 {
        be::u32(self.buffer.as_ref(), field::IDENT)
    }

    pub fn ident(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::IDENT)
    }

    pub fn seq_number(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::SEQ)
    }

    pub fn is_error(&self) -> bool {
        is_error(self.msg_type())
    }

    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    /// The quoted packet of an error message.
    pub fn embedded(&self) -> Option<&[u8]> {
        self.is_error().then(|| self.data())
    }

    /// Whether the checksum verifies with the pseudo-header sum `pseudo` (next header 58,
    /// length = this message's length).
    pub fn verify_checksum(&self, pseudo: u16) -> bool {
        checksum::verifies(checksum::combine(&[
            pseudo,
            checksum::data(self.buffer.as_ref()),
        ]))
    }

    pub fn compute_checksum(&self, pseudo: u16) -> u16 {
        let sum = checksum::combine(&[
            pseudo,
            checksum::data(self.buffer.as_ref()),
            !self.checksum(),
        ]);
        checksum::finish(sum)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_msg_type(&mut self, t: u8) {
        self.buffer.as_mut()[field::TYPE] = t;
    }

    pub fn set_msg_code(&mut self, c: u8) {
        self.buffer.as_mut()[field::CODE] = c;
    }

    pub fn set_checksum(&mut self, c: u16) {
        be::set_u16(self.buffer.as_mut(), field::CHECKSUM, c);
    }

    pub fn set_ident(&mut self, id: u16) {
        be::set_u16(self.buffer.as_mut(), field::IDENT, id);
    }

    pub fn set_seq_number(&mut self, s: u16) {
        be::set_u16(self.buffer.as_mut(), field::SEQ, s);
    }

    pub fn set_rest_of_header(&mut self, v: u32) {
        be::set_u32(self.buffer.as_mut(), field::IDENT, v);
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }

    pub fn fill_checksum(&mut self, pseudo: u16) {
        self.set_checksum(0);
        let sum = checksum::combine(&[pseudo, checksum::data(self.buffer.as_ref())]);
        self.set_checksum(checksum::finish(sum));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_and_error() {
        let src = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let dst = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        let mut b = vec![128, 0, 0, 0, 0xbe, 0xef, 0, 7, 1, 2, 3];
        let pseudo = checksum::pseudo_header_v6(&src, &dst, 58, b.len() as u32);
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(pseudo);
        assert!(p.verify_checksum(pseudo));
        assert_eq!(p.compute_checksum(pseudo), p.checksum());
        assert_eq!(p.ident(), 0xbeef);
        assert!(has_ident(128) && !is_error(128) && is_error(1));
        assert_eq!(p.embedded(), None);
        let e = [1u8, 4, 0, 0, 0, 0, 0, 0, 0x60];
        assert_eq!(
            Packet::new_checked(&e[..]).unwrap().embedded(),
            Some(&e[8..])
        );
        assert_eq!(Packet::new_checked(&e[..7]).unwrap_err(), Error::Truncated);
    }
}

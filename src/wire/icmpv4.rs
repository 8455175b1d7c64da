//! ICMP for IPv4 (RFC 792) view.
//!
//! Every message has type, code, checksum and four more header bytes; `new_checked` needs
//! those 8 bytes. The checksum covers the whole message (the IP payload) and no
//! pseudo-header. Echo, timestamp, information and address-mask messages carry an
//! identifier, which conntrack uses in place of ports. Error messages (the kernel's
//! `icmp_is_err`: destination unreachable, source quench, redirect, time exceeded, parameter
//! problem) quote the offending datagram after the 8-byte header: [`Packet::embedded`] gives
//! those bytes, to be read with `ipv4::Packet::new_checked_quoted`.

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

/// Message types (IANA "ICMP Type Numbers"); others are plain values.
pub mod kind {
    pub const ECHO_REPLY: u8 = 0;
    pub const DEST_UNREACHABLE: u8 = 3;
    pub const SOURCE_QUENCH: u8 = 4;
    pub const REDIRECT: u8 = 5;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAM_PROBLEM: u8 = 12;
    pub const TIMESTAMP: u8 = 13;
    pub const TIMESTAMP_REPLY: u8 = 14;
    pub const INFO_REQUEST: u8 = 15;
    pub const INFO_REPLY: u8 = 16;
    pub const ADDRESS_MASK: u8 = 17;
    pub const ADDRESS_MASK_REPLY: u8 = 18;
}

/// Whether a type is an error quoting a datagram (the kernel's `icmp_is_err`).
pub fn is_error(t: u8) -> bool {
    matches!(
        t,
        kind::DEST_UNREACHABLE
            | kind::SOURCE_QUENCH
            | kind::REDIRECT
            | kind::TIME_EXCEEDED
            | kind::PARAM_PROBLEM
    )
}

/// Whether a type carries an identifier that conntrack and NAT use (the types of the
/// kernel's `icmp_manip_pkt` switch).
pub fn has_ident(t: u8) -> bool {
    matches!(
        t,
        kind::ECHO_REPLY
            | kind::ECHO_REQUEST
            | kind::TIMESTAMP
            | kind::TIMESTAMP_REPLY
            | kind::INFO_REQUEST
            | kind::INFO_REPLY
            | kind::ADDRESS_MASK
            | kind::ADDRESS_MASK_REPLY
    )
}

/// A view of an ICMP message.
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

    /// Bytes 4..8 ("rest of header"): identifier and sequence, gateway, pointer or MTU.
    pub fn rest_of_header(&self) -> u32 {
        be::u32(self.buffer.as_ref(), field::IDENT)
    }

    /// The identifier of query messages (meaningful when `has_ident(msg_type())`).
    pub fn ident(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::IDENT)
    }

    pub fn seq_number(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::SEQ)
    }

    pub fn is_error(&self) -> bool {
        is_error(self.msg_type())
    }

    /// The data after the 8-byte header.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    /// The quoted datagram of an error message.
    pub fn embedded(&self) -> Option<&[u8]> {
        self.is_error().then(|| self.data())
    }

    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(checksum::data(self.buffer.as_ref()))
    }

    pub fn compute_checksum(&self) -> u16 {
        let sum = checksum::combine(&[checksum::data(self.buffer.as_ref()), !self.checksum()]);
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

    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::data(self.buffer.as_ref()));
        self.set_checksum(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request() {
        let mut b = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g'];
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(p.compute_checksum(), p.checksum());
        assert_eq!((p.ident(), p.seq_number()), (0x1234, 1));
        assert!(has_ident(p.msg_type()) && !p.is_error());
        assert_eq!(p.embedded(), None);
        assert_eq!(Packet::new_checked(&b[..7]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn error_quotes_a_datagram() {
        let b = [3, 3, 0, 0, 0, 0, 0, 0, 0x45, 0];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.embedded(), Some(&b[8..]));
    }
}

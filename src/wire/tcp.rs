//! TCP header view (RFC 9293) with its options.
//!
//! `Packet::new_checked` needs the 20-byte fixed header, a data offset of at least 5 words,
//! and the options it announces. The segment is the whole buffer: the caller hands over the
//! IP payload (which the IP view already cut to the IP length). The checksum covers a
//! pseudo-header that the caller supplies as a folded sum (`ipv4::Packet::pseudo_header`,
//! `ipv6::Packet::pseudo_header`).
//!
//! Options are read the way the kernel's `tcp_parse_options` reads them: End of List stops,
//! NOP is one byte, every other kind has a length byte of at least 2 that must fit. Unknown
//! kinds are values.

use super::be;
use super::checksum;
use super::{Error, Result};

mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ_NUM: Range<usize> = 4..8;
    pub const ACK_NUM: Range<usize> = 8..12;
    pub const DOFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WIN_SIZE: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
}

pub const HEADER_LEN: usize = 20;
/// Offset of the checksum field, for callers that patch it in place.
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

/// The eight flag bits of byte 13, as iptables' `--tcp-flags` names them.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// Option kinds (IANA "TCP Option Kind Numbers").
pub mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMP: u8 = 8;
}

/// A view of a TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hl = usize::from(b[field::DOFF] >> 4) * 4;
        if hl < HEADER_LEN {
            return Err(Error::Malformed("TCP data offset below 5 words"));
        }
        if hl > b.len() {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn src_port(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::SRC_PORT.start)
    }

    pub fn dst_port(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::DST_PORT.start)
    }

    pub fn seq_number(&self) -> u32 {
        be::u32(self.buffer.as_ref(), field::SEQ_NUM.start)
    }

    pub fn ack_number(&self) -> u32 {
        be::u32(self.buffer.as_ref(), field::ACK_NUM.start)
    }

    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DOFF] >> 4) * 4
    }

    /// The eight flag bits (see [`flags`]).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// The AE (formerly NS) bit, the lowest bit of byte 12 (RFC 9768).
    pub fn ae(&self) -> bool {
        self.buffer.as_ref()[field::DOFF] & 0x01 != 0
    }

    pub fn syn(&self) -> bool {
        self.flags() & flags::SYN != 0
    }

    pub fn ack(&self) -> bool {
        self.flags() & flags::ACK != 0
    }

    pub fn fin(&self) -> bool {
        self.flags() & flags::FIN != 0
    }

    pub fn rst(&self) -> bool {
        self.flags() & flags::RST != 0
    }

    pub fn window_len(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::WIN_SIZE.start)
    }

    pub fn checksum(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    pub fn urgent_at(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::URGENT.start)
    }

    /// The option bytes.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    pub fn option_iter(&self) -> Options<'_> {
        Options {
            bytes: self.options(),
            pos: 0,
        }
    }

    /// The MSS option's value, if the segment carries one.
    pub fn mss(&self) -> Option<u16> {
        self.option_iter().find_map(|o| match o {
            Ok(TcpOption::Mss(v)) => Some(v),
            _ => None,
        })
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// Whether the checksum verifies with the pseudo-header sum `pseudo` (whose length must
    /// be this segment's length).
    pub fn verify_checksum(&self, pseudo: u16) -> bool {
        checksum::verifies(checksum::combine(&[
            pseudo,
            checksum::data(self.buffer.as_ref()),
        ]))
    }

    /// The checksum computed from scratch with the pseudo-header sum `pseudo`.
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
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    pub fn set_src_port(&mut self, p: u16) {
        be::set_u16(self.bytes_mut(), field::SRC_PORT.start, p);
    }

    pub fn set_dst_port(&mut self, p: u16) {
        be::set_u16(self.bytes_mut(), field::DST_PORT.start, p);
    }

    pub fn set_seq_number(&mut self, v: u32) {
        be::set_u32(self.bytes_mut(), field::SEQ_NUM.start, v);
    }

    pub fn set_ack_number(&mut self, v: u32) {
        be::set_u32(self.bytes_mut(), field::ACK_NUM.start, v);
    }

    pub fn set_header_len(&mut self, len: usize) {
        let b = self.bytes_mut();
        b[field::DOFF] = (b[field::DOFF] & 0x0f) | (((len / 4) as u8) << 4);
    }

    pub fn set_flags(&mut self, f: u8) {
        self.bytes_mut()[field::FLAGS] = f;
    }

    pub fn set_window_len(&mut self, w: u16) {
        be::set_u16(self.bytes_mut(), field::WIN_SIZE.start, w);
    }

    pub fn set_checksum(&mut self, c: u16) {
        be::set_u16(self.bytes_mut(), field::CHECKSUM.start, c);
    }

    pub fn set_urgent_at(&mut self, v: u16) {
        be::set_u16(self.bytes_mut(), field::URGENT.start, v);
    }

    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.bytes_mut()[HEADER_LEN..hl]
    }

    /// Recomputes the checksum from scratch with the pseudo-header sum `pseudo`.
    pub fn fill_checksum(&mut self, pseudo: u16) {
        self.set_checksum(0);
        let sum = checksum::combine(&[pseudo, checksum::data(self.buffer.as_ref())]);
        self.set_checksum(checksum::finish(sum));
    }
}

/// One TCP option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    End,
    Nop,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    /// The SACK blocks, raw (pairs of 32-bit edges).
    Sack(&'a [u8]),
    Timestamp {
        value: u32,
        echo: u32,
    },
    /// Any other kind, or a known kind with an unexpected length.
    Unknown {
        kind: u8,
        data: &'a [u8],
    },
}

/// Iterator over the options; yields an error once and stops on a bad length.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Options<'a> {
    /// Offset, within the option bytes, of the next option to be read.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Result<TcpOption<'a>>> {
        let rest = self.bytes.get(self.pos..).filter(|r| !r.is_empty())?;
        match rest[0] {
            kind::END => {
                self.pos = self.bytes.len();
                Some(Ok(TcpOption::End))
            }
            kind::NOP => {
                self.pos += 1;
                Some(Ok(TcpOption::Nop))
            }
            k => {
                let len = rest.get(1).copied().map(usize::from);
                let Some(len) = len.filter(|&l| l >= 2 && l <= rest.len()) else {
                    self.pos = self.bytes.len();
                    return Some(Err(Error::Malformed("TCP option length")));
                };
                let data = &rest[2..len];
                self.pos += len;
                let opt = match (k, data.len()) {
                    (kind::MSS, 2) => TcpOption::Mss(be::u16(data, 0)),
                    (kind::WINDOW_SCALE, 1) => TcpOption::WindowScale(data[0]),
                    (kind::SACK_PERMITTED, 0) => TcpOption::SackPermitted,
                    (kind::SACK, n) if n % 8 == 0 => TcpOption::Sack(data),
                    (kind::TIMESTAMP, 8) => TcpOption::Timestamp {
                        value: be::u32(data, 0),
                        echo: be::u32(data, 4),
                    },
                    _ => TcpOption::Unknown { kind: k, data },
                };
                Some(Ok(opt))
            }
        }
    }
}

/// Where the MSS option's value sits, found as the kernel's `xt_TCPMSS` finds it: walk from
/// the first option byte; a kind of End or NOP, or a zero length byte, advances one byte;
/// an MSS kind with length 4 is the match. Returns the offset of the 2-byte value within the
/// segment.
pub fn mss_value_offset(segment: &[u8]) -> Option<usize> {
    let hl = usize::from(*segment.get(field::DOFF)? >> 4) * 4;
    let hl = hl.min(segment.len());
    let mut i = HEADER_LEN;
    // `i <= tcp_hdrlen - TCPOLEN_MSS` in the kernel.
    while i + 4 <= hl {
        let k = segment[i];
        let l = segment[i + 1];
        if k == kind::MSS && l == 4 {
            return Some(i + 2);
        }
        i += if k <= kind::NOP || l == 0 {
            1
        } else {
            usize::from(l)
        };
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A SYN with options MSS 1460, SACK permitted, timestamps, NOP, window scale 7
    /// (the layout Linux sends), ports 40000 → 80.
    pub(crate) fn syn() -> Vec<u8> {
        let mut v = vec![
            0x9c, 0x40, 0x00, 0x50, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0xa0, 0x02, 0xfa, 0xf0, 0,
            0, 0, 0,
        ];
        v.extend_from_slice(&[
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ]);
        v
    }

    #[test]
    fn parse_syn_options() {
        let b = syn();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (40000, 80));
        assert_eq!(p.header_len(), 40);
        assert!(p.syn() && !p.ack());
        let opts: Vec<TcpOption> = p.option_iter().map(|o| o.unwrap()).collect();
        assert_eq!(
            opts,
            [
                TcpOption::Mss(1460),
                TcpOption::SackPermitted,
                TcpOption::Timestamp { value: 1, echo: 0 },
                TcpOption::Nop,
                TcpOption::WindowScale(7),
            ]
        );
        assert_eq!(p.mss(), Some(1460));
        assert_eq!(mss_value_offset(&b), Some(22));
    }

    #[test]
    fn bad_option_length_is_an_error_not_a_panic() {
        let mut b = syn();
        b[21] = 0x30;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.option_iter().any(|o| o.is_err()));
        assert_eq!(p.mss(), None);
    }

    #[test]
    fn bad_lengths() {
        let b = syn();
        assert_eq!(Packet::new_checked(&b[..19]).unwrap_err(), Error::Truncated);
        assert_eq!(Packet::new_checked(&b[..39]).unwrap_err(), Error::Truncated);
        let mut v = b;
        v[12] = 0x40;
        assert!(matches!(
            Packet::new_checked(&v[..]),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn checksum_round_trip() {
        let mut b = syn();
        let pseudo = checksum::pseudo_header_v4(&[10, 0, 0, 1], &[10, 0, 0, 2], 6, b.len() as u16);
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(pseudo);
        assert!(p.verify_checksum(pseudo));
        assert_eq!(p.compute_checksum(pseudo), p.checksum());
        p.set_dst_port(81);
        assert!(!p.verify_checksum(pseudo));
    }
}

//! SCTP common header view (RFC 9260 §3) with its chunk list.
//!
//! The checksum is CRC32c over the whole packet with the checksum field zeroed, with no
//! pseudo-header (so NAT of addresses leaves it alone; NAT of ports recomputes it, as the
//! kernel's `sctp_manip_pkt` does, since a CRC has no incremental update). The CRC is stored
//! in the byte order RFC 9260 appendix A prescribes, which is the little-endian encoding of
//! the CRC value (the kernel's `sctp_compute_cksum` returns `cpu_to_le32`).

use super::be;
use super::checksum;
use super::{Error, Result};

mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const VERIFICATION_TAG: Range<usize> = 4..8;
    pub const CHECKSUM: Range<usize> = 8..12;
}

pub const HEADER_LEN: usize = 12;

/// A view of an SCTP packet.
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

    pub fn src_port(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::SRC_PORT.start)
    }

    pub fn dst_port(&self) -> u16 {
        be::u16(self.buffer.as_ref(), field::DST_PORT.start)
    }

    pub fn verification_tag(&self) -> u32 {
        be::u32(self.buffer.as_ref(), field::VERIFICATION_TAG.start)
    }

    /// The CRC32c value stored (decoded from its little-endian bytes).
    pub fn checksum(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::CHECKSUM];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// CRC32c over the packet with the checksum field taken as zero.
    pub fn compute_checksum(&self) -> u32 {
        let b = self.buffer.as_ref();
        checksum::crc32c(&[&b[..8], &[0; 4], &b[12..]])
    }

    pub fn verify_checksum(&self) -> bool {
        self.compute_checksum() == self.checksum()
    }

    /// The chunks after the common header.
    pub fn chunks(&self) -> Chunks<'_> {
        Chunks {
            bytes: &self.buffer.as_ref()[HEADER_LEN..],
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_src_port(&mut self, p: u16) {
        be::set_u16(self.buffer.as_mut(), field::SRC_PORT.start, p);
    }

    pub fn set_dst_port(&mut self, p: u16) {
        be::set_u16(self.buffer.as_mut(), field::DST_PORT.start, p);
    }

    pub fn set_verification_tag(&mut self, v: u32) {
        be::set_u32(self.buffer.as_mut(), field::VERIFICATION_TAG.start, v);
    }

    pub fn set_checksum(&mut self, c: u32) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&c.to_le_bytes());
    }

    pub fn fill_checksum(&mut self) {
        let c = self.compute_checksum();
        self.set_checksum(c);
    }
}

/// One chunk: type, flags and value (the bytes after the 4-byte chunk header, up to the
/// chunk length, without padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub kind: u8,
    pub flags: u8,
    pub value: &'a [u8],
}

/// Iterator over chunks; yields an error once and stops on a bad chunk length (below 4 or
/// past the packet), as the kernel's `sctp_error` walk refuses it.
#[derive(Clone, Debug)]
pub struct Chunks<'a> {
    bytes: &'a [u8],
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<Chunk<'a>>;

    fn next(&mut self) -> Option<Result<Chunk<'a>>> {
        if self.bytes.is_empty() {
            return None;
        }
        let b = self.bytes;
        if b.len() < 4 {
            self.bytes = &[];
            return Some(Err(Error::Truncated));
        }
        let len = usize::from(be::u16(b, 2));
        if len < 4 || len > b.len() {
            self.bytes = &[];
            return Some(Err(Error::Malformed("SCTP chunk length")));
        }
        let chunk = Chunk {
            kind: b[0],
            flags: b[1],
            value: &b[4..len],
        };
        // Chunks are padded to 4 bytes; the last one's padding may be missing.
        let padded = (len + 3) & !3;
        self.bytes = b.get(padded..).unwrap_or(&[]);
        Some(Ok(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An INIT chunk (type 1, 20-byte value) from port 5000 to 80.
    fn init() -> Vec<u8> {
        let mut v = vec![0x13, 0x88, 0x00, 0x50, 0, 0, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(&[1, 0, 0, 20]);
        v.extend_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1]);
        v
    }

    #[test]
    fn chunks_and_crc() {
        let mut b = init();
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        let chunks: Vec<Chunk> = p.chunks().map(|c| c.unwrap()).collect();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].kind, 1);
        assert_eq!(chunks[0].value.len(), 16);
        p.set_dst_port(81);
        assert!(!p.verify_checksum());
    }

    #[test]
    fn bad_chunk_length() {
        let mut b = init();
        b[15] = 200;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.chunks().next().unwrap().is_err());
        assert_eq!(Packet::new_checked(&b[..11]).unwrap_err(), Error::Truncated);
    }
}

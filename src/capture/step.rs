//! What one parsing step over the bytes at the reader's position found. The format parsers
//! ([`super::pcap`], [`super::pcapng`]) look only at a slice that starts at the position and
//! return one of these; the reader then moves on, reads more, or stops.

use super::linktype::LinkType;

/// A packet record; offsets are relative to the start of the record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Found {
    pub data_start: usize,
    pub data_len: usize,
    /// The record's whole length: where the next one starts.
    pub next: usize,
    pub ts_ns: i64,
    pub orig_len: u32,
    pub link: LinkType,
    pub interface: u32,
}

#[derive(Debug)]
pub(crate) enum Step {
    Packet(Found),
    /// A record that holds no packet (pcapng section/interface/statistics/unknown blocks).
    Skip(usize),
    /// The record is not complete: this many bytes from the position are needed (always below
    /// the format's record-size limit, so reading them is bounded).
    NeedMore(usize),
    /// Damage `at` bytes after the position.
    Damaged {
        at: usize,
        what: String,
    },
}

/// Byte order of a file (or of one pcapng section), applied to each field as it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Order {
    pub big: bool,
}

impl Order {
    // One bounds check and one load per field: a `try_into` of a sub-slice compiles to a
    // plain unaligned load, where indexing four bytes one by one does not.
    #[inline(always)]
    pub fn u16(self, b: &[u8], at: usize) -> u16 {
        let v: [u8; 2] = b[at..at + 2].try_into().unwrap_or([0; 2]);
        if self.big {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    }

    #[inline(always)]
    pub fn u32(self, b: &[u8], at: usize) -> u32 {
        let v: [u8; 4] = b[at..at + 4].try_into().unwrap_or([0; 4]);
        if self.big {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    }

    #[inline(always)]
    pub fn u64(self, b: &[u8], at: usize) -> u64 {
        let v: [u8; 8] = b[at..at + 8].try_into().unwrap_or([0; 8]);
        if self.big {
            u64::from_be_bytes(v)
        } else {
            u64::from_le_bytes(v)
        }
    }
}

/// Nanoseconds as `i64`, clamped: a 64-bit tick count at a fine resolution plus an offset
/// can leave the range (year 2262); clamping keeps the order of packets and cannot panic.
#[inline(always)]
pub(crate) fn clamp_ns(ns: i128) -> i64 {
    ns.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

//! Classic libpcap files: a 24-byte file header, then records of a 16-byte header and the
//! packet bytes (format: draft-ietf-opsawg-pcap; libpcap's `sf-pcap.c`).
//!
//! The magic number gives the byte order and the timestamp unit: 0xa1b2c3d4 microseconds,
//! 0xa1b23c4d nanoseconds; 0xa1b2cd34 is Alexey Kuznetzov's "modified" pcap (older Linux
//! tcpdump patches, `editcap -F modpcap`), whose record header has 8 more bytes (interface
//! index, protocol, packet type) that fwbench skips. A file has one implicit interface.

use super::linktype::LinkType;
use super::step::{Found, Order, Step};

pub(crate) const HEADER_LEN: usize = 24;

/// The largest record libpcap and Wireshark accept for the link types fwbench decodes
/// (libpcap `max_snaplen_for_dlt()`, Wireshark `WTAP_MAX_PACKET_SIZE_STANDARD`). A larger
/// captured length is a corrupted header, not a packet: treating it as one would swallow the
/// rest of the file as packet bytes.
pub(crate) const MAX_RECORD_DATA: u32 = 262_144;

pub(crate) const MAGIC_US: u32 = 0xa1b2_c3d4;
pub(crate) const MAGIC_NS: u32 = 0xa1b2_3c4d;
pub(crate) const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// What the file header says.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pcap {
    order: Order,
    /// Nanoseconds per unit of the fraction field: 1000 (µs) or 1 (ns).
    frac_ns: u32,
    /// 16, or 24 for the modified format.
    record_header: usize,
    pub snaplen: u32,
    pub link: LinkType,
    pub nanos: bool,
}

/// Which classic magic (and byte order) the first four bytes are, if any.
pub(crate) fn magic(b: &[u8]) -> Option<(Order, u32)> {
    let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    for m in [MAGIC_US, MAGIC_NS, MAGIC_MODIFIED] {
        if le == m {
            return Some((Order { big: false }, m));
        }
        if be == m {
            return Some((Order { big: true }, m));
        }
    }
    None
}

impl Pcap {
    /// Reads the file header; `b` holds at least [`HEADER_LEN`] bytes and starts with a magic
    /// that [`magic`] recognised.
    pub(crate) fn header(b: &[u8]) -> Result<Pcap, String> {
        let Some((order, m)) = magic(b) else {
            return Err("not a pcap file".into());
        };
        let version = (order.u16(b, 4), order.u16(b, 6));
        // libpcap accepts major version 2 only (sf-pcap.c: PCAP_VERSION_MAJOR); 2.2 and 2.3
        // differ from 2.4 only in header details that do not matter here.
        if version.0 != 2 {
            return Err(format!(
                "pcap version {}.{} is not supported (only 2.x)",
                version.0, version.1
            ));
        }
        // The link-type field's upper bits hold FCS information (LINKTYPE_FCS); the type is
        // the lower 16 bits.
        let link = LinkType::from((order.u32(b, 20) & 0xffff) as u16);
        Ok(Pcap {
            order,
            frac_ns: if m == MAGIC_NS { 1 } else { 1000 },
            record_header: if m == MAGIC_MODIFIED { 24 } else { 16 },
            snaplen: order.u32(b, 16),
            link,
            nanos: m == MAGIC_NS,
        })
    }

    /// Parses the record at the start of `b`.
    #[inline]
    pub(crate) fn step(&self, b: &[u8]) -> Step {
        let h = self.record_header;
        if b.len() < h {
            return Step::NeedMore(h);
        }
        let o = self.order;
        let caplen = o.u32(b, 8);
        if caplen > MAX_RECORD_DATA {
            return too_long(caplen);
        }
        let next = h + caplen as usize;
        if b.len() < next {
            return Step::NeedMore(next);
        }
        // Seconds are unsigned (draft-ietf-opsawg-pcap, Wireshark libpcap.c). A fraction at
        // or past one second is not an error: it is added (tshark shows such a time
        // un-normalised, 10 s + 1500000 µs as "10.1500000000").
        // Both are u32, so the sum stays below 2^63: no overflow, no clamping.
        let secs = o.u32(b, 0) as i64;
        let frac = o.u32(b, 4) as i64;
        Step::Packet(Found {
            data_start: h,
            data_len: caplen as usize,
            next,
            ts_ns: secs * 1_000_000_000 + frac * self.frac_ns as i64,
            orig_len: o.u32(b, 12),
            link: self.link,
            interface: 0,
        })
    }
}

#[cold]
fn too_long(caplen: u32) -> Step {
    Step::Damaged {
        at: 8,
        what: format!(
            "record claims {caplen} captured bytes, more than the {MAX_RECORD_DATA} libpcap \
             allows"
        ),
    }
}

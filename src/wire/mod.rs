//! Zero-copy views over network-layer packets, in-place rewrites with incremental checksums,
//! and the kernel's IP defragmentation.
//!
//! The shape follows smoltcp's `wire` module: one file per protocol, each with a view
//! `Packet<T: AsRef<[u8]>>` over borrowed bytes whose `new_checked` validates every length once,
//! so that no accessor can panic afterwards; the byte offsets live in a private `field` module;
//! getters need `AsRef<[u8]>`, setters `AsMut<[u8]>`. Checksums are their own module
//! ([`checksum`]), and verifying them is a choice of the caller, never implied by parsing.
//! Unknown protocol numbers, ICMP types and option kinds are values, never errors.
//!
//! On top of the views:
//! - [`ip::parse`] reads an IP packet (IPv4 or IPv6, chosen by the version nibble) into a
//!   small `Copy` summary, [`ip::IpInfo`], with what netfilter's matches and conntrack look at:
//!   addresses, the upper-layer protocol after IPv6 extension headers, ports or ICMP
//!   type/code/id, TCP flags, fragment facts and lengths. It allocates nothing.
//! - [`rewrite`] (NAT of addresses and ports, also inside the datagram quoted by ICMP errors)
//!   and [`mangle`] (TTL/hop limit, TOS/DSCP/ECN, the TCP MSS option) change a packet in place
//!   and keep every checksum right by RFC 1624 incremental updates, as the kernel's NAT and
//!   mangle targets do. [`verify`] checks or recomputes every checksum from scratch.
//! - [`defrag`] reassembles IPv4/IPv6 fragments the way `nf_defrag_ipv4`/`nf_defrag_ipv6` do
//!   before conntrack, and [`refrag`] cuts the datagram again with the original fragment sizes.
//!
//! `wire` knows nothing about files or link layers: its input is the network-layer bytes that
//! `capture` finds.

pub mod checksum;
pub mod defrag;
pub mod icmpv4;
pub mod icmpv6;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod mangle;
pub mod refrag;
pub mod reply;
pub mod rewrite;
pub mod sctp;
pub mod tcp;
pub mod udp;
pub mod verify;

use std::fmt;

pub use ip::{parse, IpInfo, IpProtocol, L4Info};

/// Why bytes are not a valid packet of the kind asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Fewer bytes than the header (or a length field in it) requires.
    Truncated,
    /// A field holds a value the protocol forbids (a version other than 4 or 6, an IPv4
    /// header length below 20 bytes, a TCP data offset below 5 words, a malformed option ...).
    Malformed(&'static str),
    /// The operation does not apply to this packet (rewriting ports of a non-first fragment,
    /// an ICMP error quoting a datagram too short to hold the ports ...).
    Unsupported(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("packet truncated"),
            Error::Malformed(what) => write!(f, "malformed packet: {what}"),
            Error::Unsupported(what) => write!(f, "not applicable: {what}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Big-endian reads and writes at fixed offsets. Callers index only within lengths that
/// `new_checked` has validated, so slicing here cannot fail on a checked view.
pub(crate) mod be {
    #[inline]
    pub fn u16(b: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([b[at], b[at + 1]])
    }
    #[inline]
    pub fn u32(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }
    #[inline]
    pub fn set_u16(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
    #[inline]
    pub fn set_u32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
}

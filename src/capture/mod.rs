//! Capture files in and out: classic pcap and pcapng, read from a memory-mapped file or
//! streamed from standard input, and the link layers fwbench understands.
//!
//! ```no_run
//! use fwbench::capture::{self, LinkType, OutPacket, OutputFormat, Writer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut reader = capture::open("in.pcapng")?; // or "-" for standard input
//! let mut out = Writer::create("out.pcapng", OutputFormat::PcapNg)?;
//! let eth0 = out.add_interface("eth0", LinkType::Ethernet)?;
//! while let Some(p) = reader.next_packet()? {
//!     let link = p.link_info()?; // network-layer offset, protocol, VLAN tags, SLL2 ifindex
//!     let _ip_header = &p.data[link.network..];
//!     out.write_packet(&OutPacket {
//!         interface: eth0,
//!         ts_ns: p.ts_ns,
//!         data: p.data,
//!         orig_len: p.orig_len,
//!         comment: Some("FORWARD ACCEPT"),
//!     })?;
//! }
//! out.finish()?;
//! # Ok(()) }
//! ```
//!
//! - [`Reader`] picks the format from the magic number and hands out [`Packet`]s that borrow
//!   its bytes (no copy); [`Reader::interfaces`] is the file's interface table.
//! - [`link::decode`] finds the network layer behind Ethernet (802.1Q/QinQ), Linux cooked
//!   v1/v2, raw IP and BSD loopback headers.
//! - [`Writer`] writes pcapng (default) or classic nanosecond pcap to any `Write`.
//!
//! Invariants, for any input bytes: no panic, no endless loop (every step consumes at least
//! 12 bytes or ends), no allocation sized by a length field that was not checked against the
//! bytes present, memory independent of the file's size. Damage ends the stream with an
//! [`Error::Damaged`] naming the offset of the first record that could not be read.

mod error;
mod input;
mod interface;
pub mod link;
mod linktype;
mod pcap;
mod pcapng;
mod reader;
mod step;
mod writer;

use std::path::Path;

pub use error::Error;
pub use interface::Interface;
pub use link::{Link, LinkError, PacketType, Protocol, VlanTag, Vlans};
pub use linktype::LinkType;
pub use reader::{FileFormat, Packet, Reader};
pub use writer::{OutPacket, OutputFormat, WriteError, Writer};

/// Opens a capture file for reading; `-` is standard input. See [`Reader::open`].
pub fn open(path: impl AsRef<Path>) -> Result<Reader, Error> {
    Reader::open(path)
}

// A reader moves to the thread that replays it; this fails to compile if it cannot.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Reader>();
    send::<Writer<std::fs::File>>();
};

//! The interfaces a capture file describes. A pcapng file has one Interface Description
//! Block per interface and section; a classic pcap file has one implicit interface built from
//! its header. Packets name their interface by its index in the file's list, which counts
//! across sections in file order (the way Wireshark numbers `frame.interface_id` per section
//! but lists them all in `capinfos`).

use super::linktype::LinkType;

/// One capture interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// pcapng `if_name`; `None` for classic pcap and for IDBs without the option.
    pub name: Option<String>,
    /// pcapng `if_description`.
    pub description: Option<String>,
    pub link: LinkType,
    /// The snapshot length (0: no limit).
    pub snaplen: u32,
    /// Timestamp units per second: 10^6 unless `if_tsresol` says otherwise (pcapng), 10^9
    /// for nanosecond pcap. A power of two when `if_tsresol` has its top bit set.
    pub ts_units_per_sec: u64,
    /// pcapng `if_tsoffset`: seconds added to every timestamp of this interface.
    pub ts_offset_s: i64,
    /// Which pcapng section (0-based) holds this interface; 0 for pcap.
    pub section: u32,
}

//! The simple trackers: UDP and UDP-Lite (`nf_conntrack_udp_packet`), ICMP/ICMPv6
//! (`nf_conntrack_icmp_packet`), GRE (`gre_packet`) and the generic one, plus the protocol
//! names `conntrack -L` prints.
//!
//! Timeouts are the defaults read from the measured kernel's sysctls:
//! `nf_conntrack_udp_timeout` 30, `_udp_timeout_stream` 120, `_icmp_timeout` and
//! `_icmpv6_timeout` 30, `_gre_timeout` 30, `_gre_timeout_stream` 180, `_generic_timeout`
//! 600 (seconds).

use super::tuple::{GRE, ICMP, ICMPV6, SCTP, TCP, UDP, UDPLITE};

pub const UDP_UNREPLIED: u32 = 30;
pub const UDP_REPLIED: u32 = 120;
pub const ICMP_TIMEOUT: u32 = 30;
pub const GRE_UNREPLIED: u32 = 30;
pub const GRE_STREAM: u32 = 180;
pub const GENERIC_TIMEOUT: u32 = 600;

/// UDP is a "stream" (120 s, ASSURED) once a packet arrives after a reply was seen and more
/// than two seconds after the first packet (`stream_ts = 2 * HZ + jiffies`).
pub const UDP_STREAM_AFTER_NS: i64 = 2_000_000_000;

/// The protocol's name in `conntrack -L` (libnetfilter_conntrack's `proto2str`).
pub fn name(protocol: u8) -> &'static str {
    match protocol {
        TCP => "tcp",
        UDP => "udp",
        UDPLITE => "udplite",
        ICMP => "icmp",
        ICMPV6 => "icmpv6",
        SCTP => "sctp",
        GRE => "gre",
        33 => "dccp",
        _ => "unknown",
    }
}

/// ICMPv4 error types (`icmp_is_err`).
pub fn icmp_is_error(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
}

/// ICMPv4 types that may start a connection (`valid_new` in nf_conntrack_icmp_packet).
pub fn icmp_valid_new(t: u8) -> bool {
    matches!(t, 8 | 13 | 15 | 17)
}

/// ICMPv6 types that may start a connection.
pub fn icmpv6_valid_new(t: u8) -> bool {
    matches!(t, 128 | 139)
}

/// ICMPv6 messages conntrack leaves untracked (`noct_valid_new`): MLD and neighbour
/// discovery.
pub fn icmpv6_untracked(t: u8) -> bool {
    matches!(t, 130 | 131 | 132 | 133 | 134 | 135 | 136 | 143)
}

//! Connection tracking and NAT bindings, as the kernel's `nf_conntrack` and `nf_nat` keep them.
//!
//! A [`Table`] holds connections keyed by both of their tuples (the kernel's two `tuplehash`
//! entries), so a packet finds its connection from either direction by the tuple it carries
//! *now*, after any NAT. [`Table::packet_in`] mirrors `nf_conntrack_in` at PREROUTING/OUTPUT:
//! ICMP errors are matched to the flow they quote (`nf_conntrack_inet_error`), other packets
//! find or create a connection (`resolve_normal_ct`) and run the protocol tracker
//! (`nf_conntrack_tcp_packet`, `nf_conntrack_udp_packet`, `nf_conntrack_icmp_packet`, GRE
//! and the generic tracker). A new connection stays *unconfirmed* until its first packet
//! survives the hooks ([`Table::confirm`], `__nf_conntrack_confirm`); only confirmed
//! connections are found by later packets or listed.
//!
//! NAT bindings are set up on unconfirmed connections by [`Table::setup_nat`]
//! (`nf_nat_setup_info` with `get_unique_tuple`), and [`Table::nat_rewrite`] says what
//! `nf_nat_packet` writes into each later packet.
//!
//! Time is only ever the capture time passed in (`now_ns`): timeouts are absolute
//! nanosecond deadlines, and an expired connection is gone for every later lookup, as
//! `nf_ct_is_expired` makes it in the kernel. Randomness (NAT port choice on a clash,
//! `--random`, `--random-fully`) is drawn from [`Config::seed`] and the connection's tuple,
//! so a replay is reproducible; the kernel's own choice is random and cannot be reproduced
//! (NETFILTER.md §3).
//!
//! What is checked against the kernel (tests/conntrack_kernel.rs): per-packet ctstate and
//! the final `conntrack -L` (layout, states, flags, timeouts within 3 s) for TCP (handshake,
//! data, close, RST, reopen, loose pick-up, window tracking with scaling and SACK), UDP
//! (30 s, 120 s stream after 2 s), ICMP/ICMPv6 queries and errors, SCTP associations, GRE
//! and generic protocols; NAT bindings (SNAT address ranges by the kernel's hash, with and
//! without `--persistent`, port keeping, clash classes, port ranges, shared source mapping,
//! DNAT). Not modelled: conntrack helpers and expectations (FTP, SIP...: no RELATED data
//! connections, no sequence adjustment), zones, GRE version 1 (PPTP call-id keys: tracked
//! with key 0), DCCP (this kernel has no tracker: generic), conntrack table limits and
//! early drop, and the exact port the kernel draws at random on a NAT clash.
//!
//! Invariants: every confirmed, live connection has exactly two index entries (original and
//! current reply tuple); no two live connections share a tuple.

pub(crate) mod nat;
mod proto;
mod sctp;
mod table;
mod tcp;
mod tuple;

#[cfg(test)]
mod tests;

pub use nat::{NatError, NatRange};
pub use sctp::SctpState;
pub use table::{Conn, Table};
pub use tcp::TcpState;
pub use tuple::Tuple;

/// A direction of a connection (`enum ip_conntrack_dir`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    Original,
    Reply,
}

impl Dir {
    /// 0 for original, 1 for reply: the index into per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Dir::Original => 0,
            Dir::Reply => 1,
        }
    }

    pub fn opposite(self) -> Dir {
        match self {
            Dir::Original => Dir::Reply,
            Dir::Reply => Dir::Original,
        }
    }
}

/// What `-m conntrack --ctstate` / `-m state` see for a tracked packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtState {
    New,
    Established,
    Related,
}

/// A connection's handle, stable while the connection lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u32);

/// `nf_conntrack_in`'s answer for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// No connection attached: ctstate INVALID. `reason` names the kernel's complaint.
    Invalid { reason: &'static str },
    /// The kernel attaches no connection on purpose (`IP_CT_UNTRACKED`): ctstate UNTRACKED.
    /// Conntrack does this itself for ICMPv6 neighbour discovery and MLD messages
    /// (`nf_conntrack_icmpv6_error`'s `noct_valid_new`).
    Untracked,
    /// A connection is attached. For an ICMP error quoting a known flow, `state` is
    /// `Related` and `dir` the direction the error travels in (opposite to the quoted
    /// packet's).
    Tracked {
        id: ConnId,
        dir: Dir,
        state: CtState,
    },
}

/// The tunables of the kernel that change tracking (`net.netfilter.nf_conntrack_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Seeds every random choice (NAT ports).
    pub seed: u64,
    /// `nf_conntrack_tcp_loose` (default 1): pick up connections from a mid-stream ACK.
    pub tcp_loose: bool,
    /// `nf_conntrack_tcp_be_liberal` (default 0): only out-of-window RSTs are INVALID.
    pub tcp_be_liberal: bool,
    /// `nf_conntrack_checksum` (default 1): packets with a bad L4 checksum are INVALID
    /// (checked at PREROUTING only, as the kernel does).
    pub checksum: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 0,
            tcp_loose: true,
            tcp_be_liberal: false,
            checksum: true,
        }
    }
}

/// Where conntrack sees the packet: the kernel verifies checksums only at PREROUTING
/// ("the checksum is assumed to be correct" on the output path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtHook {
    Prerouting,
    Output,
}

/// The kernel's `IPS_*` status bits (include/uapi/linux/netfilter/nf_conntrack_common.h).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Status(pub u32);

impl Status {
    pub const EXPECTED: u32 = 1 << 0;
    pub const SEEN_REPLY: u32 = 1 << 1;
    pub const ASSURED: u32 = 1 << 2;
    pub const CONFIRMED: u32 = 1 << 3;
    pub const SRC_NAT: u32 = 1 << 4;
    pub const DST_NAT: u32 = 1 << 5;
    pub const SRC_NAT_DONE: u32 = 1 << 7;
    pub const DST_NAT_DONE: u32 = 1 << 8;
    pub const DYING: u32 = 1 << 9;

    pub fn has(self, bits: u32) -> bool {
        self.0 & bits == bits
    }

    pub fn set(&mut self, bits: u32) {
        self.0 |= bits;
    }
}

//! What a replay tells about one packet and how it is configured: the [`Outcome`] every
//! packet read ends in, the frames the host emitted, the trace of its way, and the
//! [`Config`] of the emulated host.

use std::net::IpAddr;

use crate::engine::{DecidedBy, Verdict};
use crate::rules::{Backend, Hook, TableKind};

/// How to replay.
#[derive(Clone, Debug)]
pub struct Config {
    pub backend: Backend,
    /// Seeds `-m statistic --mode random` and NAT port choices.
    pub seed: u64,
    /// What happens to a packet handed to userspace by QUEUE/NFQUEUE: the verdict of the
    /// program that reads the queue, or `Verdict::Queue` for "no program listens" (the
    /// kernel drops it unless the rule has --queue-bypass; what `fwbench verify`'s lab has).
    pub queue_verdict: Verdict,
    /// Whether the host answers packets delivered to it as a host without listening
    /// sockets does (TCP reset, ICMP port unreachable, echo reply). Off for captures that
    /// already hold the host's own answers.
    pub local_replies: bool,
    /// Test-only: a deliberate error in the emulation, to show that `verify` notices
    /// one. Not reachable from the command line; always `None` outside tests.
    pub fault: Option<Fault>,
}

/// A deliberate emulation error (test-only, see [`Config::fault`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// [`Stack::counted_ruleset`] reports one packet of 100 bytes more for rule `rule`
    /// (0-based) of `chain` in `table` than the rule counted.
    MiscountRule {
        table: TableKind,
        chain: String,
        rule: usize,
    },
}

impl Default for Config {
    fn default() -> Config {
        Config {
            backend: Backend::Nft,
            seed: 0,
            queue_verdict: Verdict::Accept,
            local_replies: true,
            fault: None,
        }
    }
}

/// Where a rule or policy sits: table, chain index and rule index in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleRef {
    pub table: TableKind,
    pub chain: usize,
    /// `None` for the chain's policy.
    pub rule: Option<usize>,
}

/// What became of one packet read (every packet ends in exactly one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Routed out of another interface.
    Forwarded { out: String },
    /// Delivered to a local socket (INPUT accepted).
    Delivered,
    /// Locally generated and sent out of an interface.
    Sent { out: String },
    /// A rule's DROP (or a target that drops: a failed NAT binding).
    DroppedByRule(RuleRef),
    /// A rule's REJECT (its answer is among the emitted packets).
    Rejected(RuleRef),
    /// A built-in chain's policy.
    DroppedByPolicy(RuleRef),
    /// A match of this rule found the header it reads cut short and dropped the packet
    /// (the kernel's hotdrop: no counter, no verdict of the rule's own).
    HotDropped(RuleRef),
    /// Handed to userspace by QUEUE/NFQUEUE, then accepted or dropped by `--queue-verdict`.
    Queued { accepted: bool },
    /// The routing decision failed (no route, martian, forwarding off, ...).
    NoRoute(String),
    /// A forwarded packet whose TTL / hop limit ran out.
    TtlExceeded,
    /// The frame is not IPv4 or IPv6 (ARP, LLDP, ...).
    NotIp,
    /// An IP header the kernel refuses (`ip_rcv_core`: bad version, length, checksum).
    InvalidHeader(String),
    /// Sent to another host's MAC address (`PACKET_OTHERHOST`): never reaches IP.
    OtherHost,
    /// A fragment held for reassembly (the datagram counts when complete).
    FragmentHeld,
    /// A fragment the reassembly dropped.
    FragmentDropped(String),
    /// A match or target that fwbench does not model decided this packet's fate; the
    /// result would be a guess.
    Unsupported(String),
}

impl Outcome {
    /// The summary's category.
    pub fn category(&self) -> &'static str {
        match self {
            Outcome::Forwarded { .. } => "forwarded",
            Outcome::Delivered => "delivered locally",
            Outcome::Sent { .. } => "sent by the host",
            Outcome::DroppedByRule(_) => "dropped by a rule",
            Outcome::Rejected(_) => "rejected by a rule",
            Outcome::DroppedByPolicy(_) => "dropped by a policy",
            Outcome::HotDropped(_) => "dropped as malformed by a match",
            Outcome::Queued { .. } => "queued to userspace",
            Outcome::NoRoute(_) => "no route",
            Outcome::TtlExceeded => "TTL exceeded",
            Outcome::NotIp => "not IP",
            Outcome::InvalidHeader(_) => "invalid header",
            Outcome::OtherHost => "not for this host (MAC)",
            Outcome::FragmentHeld => "fragment held for reassembly",
            Outcome::FragmentDropped(_) => "fragment dropped by reassembly",
            Outcome::Unsupported(_) => "not evaluated (unsupported)",
        }
    }
}

/// Why a packet the host emitted exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmitKind {
    /// A packet read from the capture, forwarded or sent.
    Packet,
    /// An answer the host made itself (REJECT, reset, ICMP error, echo reply).
    HostReply,
}

/// A frame the host sends out of an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emitted {
    pub iface: String,
    /// The Ethernet frame (the IP packet behind a header with the interface's MAC as source
    /// and the next hop's, when known, as destination).
    pub frame: Vec<u8>,
    pub kind: EmitKind,
    /// The neighbour it is handed to (gateway or destination).
    pub next_hop: IpAddr,
}

/// The result of one packet read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Processed {
    pub outcome: Outcome,
    /// What the host sent because of it, in order.
    pub emitted: Vec<Emitted>,
    /// The packet as it left or was delivered (after NAT and mangling), from its IP header.
    pub final_bytes: Option<Vec<u8>>,
    /// LOG / NFLOG lines.
    pub log: Vec<String>,
    /// The rules whose ACCEPT (or accepting target) let the packet through a chain.
    pub accepted_by: Vec<RuleRef>,
    /// With tracing on ([`Stack::set_tracing`]): every step, in order.
    pub trace: Vec<TraceStep>,
}

impl Default for Processed {
    fn default() -> Processed {
        Processed::new()
    }
}

impl Processed {
    /// Nothing happened yet.
    pub fn new() -> Processed {
        Processed {
            outcome: Outcome::Delivered,
            emitted: Vec::new(),
            final_bytes: None,
            log: Vec::new(),
            accepted_by: Vec::new(),
            trace: Vec::new(),
        }
    }
}

/// One step of a traced packet's way through the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceStep {
    /// A built-in chain walked: every rule evaluated as (chain, rule, matched), and how the
    /// walk ended.
    Chain {
        table: TableKind,
        hook: Hook,
        visits: Vec<(usize, usize, bool)>,
        verdict: Verdict,
        by: DecidedBy,
    },
    /// Anything else: conntrack's classification, a NAT rewrite, the routing decision.
    Note(String),
}

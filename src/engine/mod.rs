//! Evaluating rules: walking a table's chains for one packet, as the kernel's `ipt_do_table`
//! does, and counting what each rule and policy saw.
//!
//! This is the reference interpreter (linear, easy to read). What a match or a target means
//! for a packet is asked of the caller through [`Packet`]: the walk itself only knows the
//! control flow of iptables (NETFILTER.md §5, measured):
//! - a rule's counters grow whenever its matches are true, whatever its target does: rules
//!   without a target, non-terminating targets (MARK, LOG, ...) and jumps all count;
//! - `-j CHAIN` pushes a return point, `-g CHAIN` does not; falling off a user chain or
//!   `RETURN` pops the newest return point; with none left, the built-in chain ends and its
//!   policy applies, and the policy counter grows;
//! - ACCEPT, DROP, QUEUE and terminating targets end the walk of this table.
//!
//! Invariant: the ruleset was validated, so no chain is reachable from itself; the walk
//! always ends after at most one visit per rule per return point.

pub mod ct;
mod eval;
pub mod stateful;
mod walk;

pub use eval::{supported, Effect, EvalPacket, LinkHeader, StatelessPacket, Unsupported, FELL_OFF};

pub use walk::{walk, Counts, DecidedBy, Decision, Packet, TargetAction, Verdict};

mod log;
mod reject;
mod trace;

pub use log::{log_line, nflog_line, LogContext};
pub use reject::{
    error_source, local_reply, local_reply_at, reject_reply, reject_reply_at, time_exceeded,
    IcmpRateLimit, RejectSite,
};
pub use trace::{
    nft_trace_event_line, nft_trace_packet_line, trace_line, NftTraceEvent, NftVerdict, TraceKind,
};

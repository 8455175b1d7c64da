//! `fwbench verify`, the kernel side: a throwaway copy of the host in network namespaces
//! ([`Lab`]), the real netfilter loaded with the ruleset, the capture pushed through it, and
//! what the kernel did ([`Observation`]: counters, emitted frames, connection table) compared
//! with what the emulation did ([`compare()`]).
//!
//! Invariants: every namespace a lab creates has a name starting `fwb-v<pid>-` and is removed
//! when the lab is dropped, when the process panics (Drop runs on unwind) and on SIGINT/SIGTERM
//! (a handler removes every live lab, then exits with 130). Nothing is created in, moved into
//! or configured in the namespace this process runs in: every `ip` command names its
//! namespace (`ip -n NS`), and sockets are opened on threads that entered the lab's
//! namespaces with setns(2).

mod compare;
mod error;
mod lab;
mod netns;
mod observe;
mod session;
mod sock;

pub use compare::{
    compare, Allowance, CompareOptions, Comparison, CounterDiff, Difference, PacketDiff, ALLOWANCES,
};
pub use error::VerifyError;
pub use lab::{Injected, KernelObservation, Lab};
pub use netns::{install_signal_cleanup, live_namespaces};
pub use observe::{parse_conntrack, CtEntry, CtTuple, Observation};
pub use session::{
    compare_options, emulate, packets_of_capture, verify, Timed, VerifyInputs, VerifyReport,
};

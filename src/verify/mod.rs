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
//!
//! How `fwbench verify` puts the pieces together:
//!
//! ```text
//! let lab = Lab::new(&host, &next_hops)?;          // next hops: (iface, address, Some(MAC))
//! for line in lab.settings() { eprintln!("setting: {line}") }
//! lab.load(&rules_text, ipsets.as_deref(), family, backend)?;
//! let kernel = lab.run(&packets)?;                  // Injected::Frame / Injected::Local, in order
//! let emulated: Observation = /* the replay's counters, emitted frames, connections */;
//! let opts = CompareOptions { link_layer: every_mac_known, ..CompareOptions::for_ruleset(&ruleset) };
//! let diff = compare(&kernel.observation, &emulated, &opts);
//! print!("{}", diff.render());                       // exit 1 unless diff.is_exact()
//! ```
//!
//! The emulated [`Observation`] must have the kernel's shape: its `ruleset` is the loaded
//! ruleset with replay counters (tables, chains and rules in the same order), `emitted` has
//! an entry per non-loopback interface (possibly empty) with whole Ethernet frames, and
//! `conntrack` the connections alive at the end, sorted. [`Lab::neighbours`] gives the MACs
//! of next hops the caller did not name (gateways of the model's routes get made-up ones).

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
pub use session::{emulate, packets_of_capture, verify, Timed, VerifyInputs, VerifyReport};

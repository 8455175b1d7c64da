//! The kernel's packet flow: which tables' chains a packet meets, in which order, for each
//! path through the host (NETFILTER.md §1, measured on Linux 6.18 with iptables 1.8.9).
//!
//! Each hook runs its tables in ascending netfilter priority: raw (-300), conntrack (-200),
//! mangle (-150), nat DNAT (-100), filter (0), security (50 for iptables-legacy, 150 for
//! iptables-nft), nat SNAT (100). So the only order that differs between the variants is
//! INPUT's: legacy runs security before nat, nft runs nat before security.
//!
//! Invariant: a path lists the steps in the order the kernel takes them, routing decisions
//! and conntrack points included, so the engine can walk it without knowing the priorities.

mod answers;
mod nat;
pub mod outcome;
pub mod stack;
mod tracelog;

use crate::rules::{Backend, Hook, TableKind};

/// Where a packet goes through the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Arrives on an interface and is routed out of another.
    Forward,
    /// Arrives on an interface and is delivered to a local socket.
    Input,
    /// Sent by a local process. Packets the kernel itself emits (REJECT replies, TCP resets,
    /// ICMP errors, echo replies) take this path too but never meet the nat chains, since
    /// they are never the first packet of a connection (NETFILTER.md §1).
    Output,
}

/// One step of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The chain of `table` on `hook`.
    Chain(TableKind, Hook),
    /// Conntrack looks the packet up (or creates a NEW entry) here: PREROUTING and OUTPUT,
    /// after raw and before mangle.
    ConntrackIn,
    /// The routing decision: after nat PREROUTING (so DNAT and marks steer it) for arriving
    /// packets; for local output the kernel routes before OUTPUT and re-routes after it when
    /// the mangle or nat OUTPUT chains changed the packet.
    Route,
    /// Conntrack confirms a new entry: the packet survived to the end of POSTROUTING or
    /// INPUT.
    ConntrackConfirm,
}

use Hook::*;
use Step::*;
use TableKind::*;

const PREROUTING: [Step; 5] = [
    Chain(Raw, Prerouting),
    ConntrackIn,
    Chain(Mangle, Prerouting),
    Chain(Nat, Prerouting),
    Route,
];

const POSTROUTING: [Step; 3] = [
    Chain(Mangle, Postrouting),
    Chain(Nat, Postrouting),
    ConntrackConfirm,
];

/// The steps of `path`, in order, as the given iptables variant hooks its tables.
pub fn steps(path: Path, backend: Backend) -> Vec<Step> {
    let mut out = Vec::with_capacity(12);
    match path {
        Path::Forward => {
            out.extend(PREROUTING);
            out.extend([
                Chain(Mangle, Forward),
                Chain(Filter, Forward),
                Chain(Security, Forward),
            ]);
            out.extend(POSTROUTING);
        }
        Path::Input => {
            out.extend(PREROUTING);
            out.extend([Chain(Mangle, Input), Chain(Filter, Input)]);
            // iptables-nft registers security at priority 150, after nat INPUT (100);
            // iptables-legacy at 50, before it.
            match backend {
                Backend::Nft => out.extend([Chain(Nat, Input), Chain(Security, Input)]),
                Backend::Legacy => out.extend([Chain(Security, Input), Chain(Nat, Input)]),
            }
            out.push(ConntrackConfirm);
        }
        Path::Output => {
            out.extend([
                Route,
                Chain(Raw, Output),
                ConntrackIn,
                Chain(Mangle, Output),
                Chain(Nat, Output),
                Chain(Filter, Output),
                Chain(Security, Output),
            ]);
            out.extend(POSTROUTING);
        }
    }
    out
}

/// The chains of a path (the `Chain` steps only), for counting and tracing.
pub fn chains(path: Path, backend: Backend) -> Vec<(TableKind, Hook)> {
    steps(path, backend)
        .into_iter()
        .filter_map(|s| match s {
            Chain(t, h) => Some((t, h)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(path: Path, backend: Backend) -> Vec<String> {
        chains(path, backend)
            .into_iter()
            .map(|(t, h)| format!("{} {}", t.name(), h.chain_name()))
            .collect()
    }

    /// The orders measured in NETFILTER.md §1.
    #[test]
    fn forwarded_packets_meet_the_chains_in_the_measured_order() {
        let want = [
            "raw PREROUTING",
            "mangle PREROUTING",
            "nat PREROUTING",
            "mangle FORWARD",
            "filter FORWARD",
            "security FORWARD",
            "mangle POSTROUTING",
            "nat POSTROUTING",
        ];
        assert_eq!(names(Path::Forward, Backend::Nft), want);
        assert_eq!(names(Path::Forward, Backend::Legacy), want);
    }

    #[test]
    fn input_orders_nat_and_security_by_backend() {
        let common = [
            "raw PREROUTING",
            "mangle PREROUTING",
            "nat PREROUTING",
            "mangle INPUT",
            "filter INPUT",
        ];
        let nft = names(Path::Input, Backend::Nft);
        let legacy = names(Path::Input, Backend::Legacy);
        assert_eq!(nft[..5], common);
        assert_eq!(nft[5..], ["nat INPUT", "security INPUT"]);
        assert_eq!(legacy[5..], ["security INPUT", "nat INPUT"]);
    }

    #[test]
    fn local_output_and_routing_points() {
        assert_eq!(
            names(Path::Output, Backend::Nft),
            [
                "raw OUTPUT",
                "mangle OUTPUT",
                "nat OUTPUT",
                "filter OUTPUT",
                "security OUTPUT",
                "mangle POSTROUTING",
                "nat POSTROUTING"
            ]
        );
        // Routing comes after nat PREROUTING (DNAT steers it) and conntrack before mangle.
        let s = steps(Path::Forward, Backend::Nft);
        let at = |x: Step| s.iter().position(|y| *y == x).unwrap_or(usize::MAX);
        assert!(at(Chain(Nat, Prerouting)) < at(Route));
        assert!(at(Chain(Raw, Prerouting)) < at(ConntrackIn));
        assert!(at(ConntrackIn) < at(Chain(Mangle, Prerouting)));
        assert_eq!(s.last(), Some(&ConntrackConfirm));
    }
}

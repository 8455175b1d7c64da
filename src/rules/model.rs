//! The typed model of an `iptables-save` ruleset: tables, chains, rules, counters.
//!
//! Invariants kept by the parser ([`super::parse`]) and relied on by everyone else:
//! - a [`Table`] holds its built-in chains first, in the kernel's hook order, then user chains
//!   in the order they were declared;
//! - every `Jump`/`Goto` target names a chain of the same table (validated);
//! - counters are plain data: adding two [`Counters`] is how workers merge results.

use std::collections::HashMap;
use std::fmt;
use std::ops::AddAssign;

use super::addr::{Iface, Net};
use super::ext::{MatchExt, TargetExt};

/// Which iptables binary family the file belongs to (`iptables` or `ip6tables`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Family {
    #[default]
    Ipv4,
    Ipv6,
}

/// Which iptables variant's behaviour to follow where the two differ (NETFILTER.md §1, §7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `iptables-nft` (the default on Debian 12 and most current distributions).
    #[default]
    Nft,
    /// `iptables-legacy`.
    Legacy,
}

/// The five netfilter tables, in the order iptables' own table registry lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableKind {
    Filter,
    Mangle,
    Nat,
    Raw,
    Security,
}

impl TableKind {
    pub const ALL: [TableKind; 5] = [
        TableKind::Filter,
        TableKind::Mangle,
        TableKind::Nat,
        TableKind::Raw,
        TableKind::Security,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TableKind::Filter => "filter",
            TableKind::Mangle => "mangle",
            TableKind::Nat => "nat",
            TableKind::Raw => "raw",
            TableKind::Security => "security",
        }
    }

    pub fn from_name(name: &str) -> Option<TableKind> {
        TableKind::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The built-in chains of the table, in the order `iptables -L` and `iptables-save` print
    /// them (hook order: PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING).
    pub fn builtin_hooks(self) -> &'static [Hook] {
        use Hook::*;
        match self {
            TableKind::Filter | TableKind::Security => &[Input, Forward, Output],
            TableKind::Mangle => &[Prerouting, Input, Forward, Output, Postrouting],
            // The nat table has no FORWARD hook (iptable_nat.c registers four hooks).
            TableKind::Nat => &[Prerouting, Input, Output, Postrouting],
            TableKind::Raw => &[Prerouting, Output],
        }
    }

    pub fn has_hook(self, hook: Hook) -> bool {
        self.builtin_hooks().contains(&hook)
    }
}

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A netfilter hook, named as iptables names the built-in chain that sits on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    pub const ALL: [Hook; 5] = [
        Hook::Prerouting,
        Hook::Input,
        Hook::Forward,
        Hook::Output,
        Hook::Postrouting,
    ];

    pub fn chain_name(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }

    pub fn from_chain_name(name: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|h| h.chain_name() == name)
    }

    /// A set of hooks as a bit mask (bit i = `Hook::ALL[i]`), for "valid in" checks.
    pub const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Packet and byte counters, as `[packets:bytes]` in `iptables-save -c`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

impl Counters {
    pub const ZERO: Counters = Counters {
        packets: 0,
        bytes: 0,
    };

    pub fn new(packets: u64, bytes: u64) -> Counters {
        Counters { packets, bytes }
    }
}

impl AddAssign for Counters {
    fn add_assign(&mut self, other: Counters) {
        self.packets += other.packets;
        self.bytes += other.bytes;
    }
}

/// The policy of a built-in chain. (The kernel allows only these two.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    Accept,
    Drop,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::Accept => "ACCEPT",
            Policy::Drop => "DROP",
        }
    }
}

/// Where something came from in its source file: 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ruleset {
    pub family: Family,
    /// The iptables variant whose printing the ruleset follows.
    pub backend: Backend,
    /// Tables in the order they were first declared in the file.
    pub tables: Vec<Table>,
}

impl Ruleset {
    pub fn table(&self, kind: TableKind) -> Option<&Table> {
        self.tables.iter().find(|t| t.kind == kind)
    }

    pub fn table_mut(&mut self, kind: TableKind) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| t.kind == kind)
    }

    /// Number of rules in every table together.
    pub fn rule_count(&self) -> usize {
        self.tables
            .iter()
            .flat_map(|t| &t.chains)
            .map(|c| c.rules.len())
            .sum()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub kind: TableKind,
    /// Built-in chains first (hook order), then user chains in declaration order.
    chains: Vec<Chain>,
    /// Chain name → position in `chains`. Rulesets of 100,000 rules have tens of thousands of
    /// chains, so look-ups by name must not scan.
    index: HashMap<String, usize>,
}

impl Table {
    /// A table with its built-in chains, empty, policy ACCEPT, zero counters: what the kernel
    /// (and `iptables-nft`) creates as soon as the table exists.
    pub fn new(kind: TableKind) -> Table {
        let mut table = Table {
            kind,
            chains: Vec::new(),
            index: HashMap::new(),
        };
        for &h in kind.builtin_hooks() {
            table.add_chain(Chain::builtin(h));
        }
        table
    }

    pub fn chains(&self) -> &[Chain] {
        &self.chains
    }

    /// The chains, to change their rules, policies and counters. Names must not be changed
    /// here (use [`Table::rename_chain`]): the name index would go stale.
    pub fn chains_mut(&mut self) -> &mut [Chain] {
        &mut self.chains
    }

    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.index.get(name).map(|&i| &self.chains[i])
    }

    pub fn chain_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Adds a chain at the end (the caller checks that the name is new).
    pub fn add_chain(&mut self, chain: Chain) {
        self.index.insert(chain.name.clone(), self.chains.len());
        self.chains.push(chain);
    }

    /// Removes the chains for which `keep` is false.
    pub fn retain_chains(&mut self, keep: impl FnMut(&Chain) -> bool) {
        self.chains.retain(keep);
        self.reindex();
    }

    /// Renames a chain and every jump or goto to it.
    pub fn rename_chain(&mut self, index: usize, new: &str) {
        let old = std::mem::replace(&mut self.chains[index].name, new.to_string());
        for r in self.chains.iter_mut().flat_map(|c| &mut c.rules) {
            match &mut r.target {
                Target::Jump(c) | Target::Goto(c) if *c == old => *c = new.to_string(),
                _ => {}
            }
        }
        self.reindex();
    }

    fn reindex(&mut self) {
        self.index = self
            .chains
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
    }

    /// How many rules jump or go to `name` (what `iptables -L` prints as "N references").
    /// Scans the table: use [`Table::reference_counts`] for many chains.
    pub fn references(&self, name: &str) -> usize {
        self.chains
            .iter()
            .flat_map(|c| &c.rules)
            .filter(|r| r.target.chain() == Some(name))
            .count()
    }

    /// Reference counts of every chain that is jumped or gone to, in one pass.
    pub fn reference_counts(&self) -> HashMap<&str, usize> {
        let mut counts = HashMap::new();
        for r in self.chains.iter().flat_map(|c| &c.rules) {
            if let Some(target) = r.target.chain() {
                *counts.entry(target).or_insert(0) += 1;
            }
        }
        counts
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub name: String,
    /// `Some` exactly for built-in chains.
    pub hook: Option<Hook>,
    pub policy: Policy,
    /// Policy counters of a built-in chain; user chains have none (`- [0:0]`).
    pub counters: Counters,
    pub rules: Vec<Rule>,
    /// Where the chain was declared (for built-in chains: the `*table` line, or their own
    /// `:CHAIN` line when the file has one).
    pub pos: Pos,
}

impl Chain {
    pub fn builtin(hook: Hook) -> Chain {
        Chain {
            name: hook.chain_name().to_string(),
            hook: Some(hook),
            policy: Policy::Accept,
            counters: Counters::ZERO,
            rules: Vec::new(),
            pos: Pos::default(),
        }
    }

    pub fn user(name: &str) -> Chain {
        Chain {
            name: name.to_string(),
            hook: None,
            policy: Policy::Accept,
            counters: Counters::ZERO,
            rules: Vec::new(),
            pos: Pos::default(),
        }
    }

    pub fn is_builtin(&self) -> bool {
        self.hook.is_some()
    }
}

/// A value with iptables' `!` negation flag.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Neg<T> {
    pub invert: bool,
    pub value: T,
}

impl<T> Neg<T> {
    pub fn new(invert: bool, value: T) -> Neg<T> {
        Neg { invert, value }
    }
}

/// The protocol of `-p`: a number, or 0 for "all".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Proto(pub u8);

impl Proto {
    pub const ALL: Proto = Proto(0);
    pub const ICMP: Proto = Proto(1);
    pub const TCP: Proto = Proto(6);
    pub const UDP: Proto = Proto(17);
    pub const ICMPV6: Proto = Proto(58);
    pub const SCTP: Proto = Proto(132);
    pub const UDPLITE: Proto = Proto(136);
    pub const DCCP: Proto = Proto(33);
}

/// The fixed part of every rule (`struct ipt_ip` in the kernel).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IpHeaderMatch {
    pub src: Option<Neg<Net>>,
    pub dst: Option<Neg<Net>>,
    pub in_iface: Option<Neg<Iface>>,
    pub out_iface: Option<Neg<Iface>>,
    pub proto: Option<Neg<Proto>>,
    /// `-f` (`Some(false)`) or `! -f` (`Some(true)`: inverted). IPv4 only.
    pub fragment: Option<Neg<()>>,
}

impl IpHeaderMatch {
    /// The protocol number a rule requires, when it requires one without negation
    /// (what the kernel checks extensions such as `-m tcp` against).
    pub fn required_proto(&self) -> Option<u8> {
        match &self.proto {
            Some(p) if !p.invert && p.value != Proto::ALL => Some(p.value.0),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub counters: Counters,
    pub ip: IpHeaderMatch,
    /// Matches in the order iptables keeps them (the order of `-m`, implicit ones included).
    pub matches: Vec<Match>,
    pub target: Target,
    /// Where the rule was written.
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub ext: MatchExt,
    /// Where its `-m` (or, for an implicit protocol match, its first option) was written.
    pub pos: Pos,
}

/// What a rule does when it matches.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// No `-j`: the rule only counts.
    None,
    Accept,
    Drop,
    Return,
    /// `-j QUEUE`: the standard verdict NF_QUEUE (queue 0).
    Queue,
    /// `-j CHAIN`: push a return point and enter a user chain.
    Jump(String),
    /// `-g CHAIN`: enter a user chain without a return point.
    Goto(String),
    /// A target extension (DNAT, MARK, LOG, ...).
    Ext(TargetExt),
}

impl Target {
    /// The user chain this target enters, if any.
    pub fn chain(&self) -> Option<&str> {
        match self {
            Target::Jump(c) | Target::Goto(c) => Some(c),
            _ => None,
        }
    }

    /// The name iptables prints in the target column / after `-j`.
    pub fn name(&self) -> &str {
        match self {
            Target::None => "",
            Target::Accept => "ACCEPT",
            Target::Drop => "DROP",
            Target::Return => "RETURN",
            Target::Queue => "QUEUE",
            Target::Jump(c) | Target::Goto(c) => c,
            Target::Ext(t) => t.name(),
        }
    }
}

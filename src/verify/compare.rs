//! Kernel against emulation: every rule and policy counter, every emitted packet per
//! interface, every connection table entry; a table of the differences and a one-line score.
//!
//! Some values the kernel chooses at random cannot be equal on both sides. Each such case is
//! an [`Allowance`] (listed in [`ALLOWANCES`] with its reason): the two values may differ as
//! long as both lie in the allowed range, and checksums that change with them may differ too.
//! Chains that use `-m statistic --mode random` are compared as a group (the chain's random
//! rules together, and the chains they jump to together) instead of rule by rule; the output
//! says so. `--mode nth` is deterministic and compared exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::IpAddr;

use crate::rules::names::Names;
use crate::rules::save::save_rule_body;
use crate::rules::{Chain, Counters, Ruleset, Table, TableKind};

use super::observe::{CtEntry, CtTuple, Observation};

/// A kind of difference that is accepted, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    pub name: &'static str,
    pub reason: &'static str,
}

pub const ICMP_IP_ID: Allowance = Allowance {
    name: "icmp-ip-id",
    reason: "the IPv4 id of an ICMP error or echo/timestamp reply the kernel sends (no DF) \
             comes from ip_select_ident, a keyed hash with a random per-boot key: two runs of \
             the kernel itself differ here",
};
pub const NAT_PORT: Allowance = Allowance {
    name: "nat-port",
    reason: "on a tuple clash, with --random/--random-fully, or when the range excludes the \
             original port, nf_nat_l4proto_unique_tuple picks a port at random; any port in the \
             range is accepted",
};
pub const RANDOM_ENDPOINT: Allowance = Allowance {
    name: "random-endpoint",
    reason: "-m statistic --mode random chooses the backend per connection at random; any of \
             the endpoints the caller lists is accepted",
};
pub const ICMP_TIMESTAMP: Allowance = Allowance {
    name: "icmp-timestamp",
    reason: "the receive and transmit times of an ICMP timestamp reply are the replying \
             clock's milliseconds since midnight UT: the lab's clock is not the capture's",
};
pub const CHECKSUM_FOLLOWS: Allowance = Allowance {
    name: "checksum-follows",
    reason: "a checksum covering an allowed difference differs with it",
};

/// Every allowance, for documentation and `--help`.
pub const ALLOWANCES: &[Allowance] = &[
    ICMP_IP_ID,
    NAT_PORT,
    RANDOM_ENDPOINT,
    ICMP_TIMESTAMP,
    CHECKSUM_FOLLOWS,
];

/// What to compare and which randomness to accept. The default compares everything from the
/// IP header on exactly, with only the ICMP-error IP id allowed to differ.
#[derive(Clone, Debug, Default)]
pub struct CompareOptions {
    /// Compare Ethernet source and destination of emitted frames (only when the host model
    /// and the listed next hops define every MAC).
    pub link_layer: bool,
    /// Ports the kernel may have chosen at random for NAT: when kernel and emulation differ
    /// in a port and both lie in this range, the difference is allowed. `None`: exact.
    pub nat_ports: Option<(u16, u16)>,
    /// Backend addresses a random choice may pick: when kernel and emulation differ in an
    /// address and both are in this set, the difference is allowed.
    pub random_endpoints: BTreeSet<IpAddr>,
}

impl CompareOptions {
    /// The randomness a ruleset allows: the DNAT destinations of the chains that
    /// `-m statistic --mode random` rules of the nat table jump to are interchangeable
    /// endpoints; with SNAT or MASQUERADE (a clash makes the kernel pick a port) or
    /// `--random`/`--random-fully`, any port from 1024 (or the lowest port of a given range)
    /// to 65535 is accepted where the two sides differ. Link-layer addresses stay off.
    pub fn for_ruleset(ruleset: &Ruleset) -> CompareOptions {
        let mut opts = CompareOptions::default();
        let Some(nat) = ruleset.table(TableKind::Nat) else {
            return opts;
        };
        let text = |r: &crate::rules::Rule| {
            let mut t = String::new();
            save_rule_body(&mut t, ruleset, r, Names::system());
            t
        };
        for g in random_groups(ruleset, nat) {
            for c in g.targets.iter().filter_map(|t| nat.chain(t)) {
                for r in &c.rules {
                    if let Some(a) =
                        option_value(&text(r), "--to-destination").and_then(nat_address)
                    {
                        opts.random_endpoints.insert(a);
                    }
                }
            }
        }
        let mut low: Option<u16> = None;
        for r in nat.chains().iter().flat_map(|c| &c.rules) {
            let t = text(r);
            let snat = t.contains("-j SNAT") || t.contains("-j MASQUERADE");
            if snat || t.contains("--random") {
                let range_low = option_value(&t, "--to-source")
                    .or_else(|| option_value(&t, "--to-ports"))
                    .and_then(range_low_port);
                let l = range_low.unwrap_or(1024).min(1024);
                low = Some(low.map_or(l, |x| x.min(l)));
            }
        }
        opts.nat_ports = low.map(|l| (l, 65535));
        opts
    }
}

/// The word after `option` in a rule's save text.
fn option_value<'t>(text: &'t str, option: &str) -> Option<&'t str> {
    let mut words = text.split_whitespace();
    words.find(|w| *w == option)?;
    words.next()
}

/// The first address of a `--to-destination` value: `A`, `A:P`, `A-B:P`, `[A6]:P`.
fn nat_address(value: &str) -> Option<IpAddr> {
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next()?.split('-').next()?.parse().ok();
    }
    let addr = value.split(['-', ':']).next()?;
    addr.parse()
        .ok()
        .or_else(|| value.split('-').next()?.parse().ok())
}

/// The lowest port of `A:LO-HI`, `:LO-HI`, `LO-HI` or `LO`.
fn range_low_port(value: &str) -> Option<u16> {
    let ports = match value.rsplit_once(':') {
        Some((_, p)) if !value.ends_with(']') => p,
        _ => value,
    };
    ports.split('-').next()?.parse().ok()
}

/// One counter that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterDiff {
    pub table: TableKind,
    pub chain: String,
    /// 1-based rule number; `None` for the chain's policy counter.
    pub rule: Option<usize>,
    /// `-A CHAIN ...` as iptables-save prints it, or `policy ACCEPT`, or a group's name.
    pub text: String,
    pub kernel: Counters,
    pub emulated: Counters,
}

/// One emitted packet that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketDiff {
    /// The kernel emitted it, the emulation did not.
    Missing {
        iface: String,
        index: usize,
        summary: String,
    },
    /// The emulation emitted it, the kernel did not.
    Extra {
        iface: String,
        index: usize,
        summary: String,
    },
    /// Both emitted a packet here, with different bytes: the first difference that is not
    /// allowed, and how many bytes differ in all.
    Bytes {
        iface: String,
        index: usize,
        offset: usize,
        field: String,
        kernel: Option<u8>,
        emulated: Option<u8>,
        count: usize,
    },
}

/// One difference of any kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    Counter(CounterDiff),
    Packet(PacketDiff),
    /// A connection on one side only, or with different fields (`kernel`/`emulated` are
    /// `None` where the side has no such entry).
    Conntrack {
        kernel: Option<Box<CtEntry>>,
        emulated: Option<Box<CtEntry>>,
        what: String,
    },
    /// Tables or chains that exist on one side only.
    Structure(String),
}

/// The result of [`compare`].
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    pub differences: Vec<Difference>,
    /// Allowances that were used, with how often.
    pub allowed: BTreeMap<&'static str, usize>,
    /// What was compared differently from the rest (random chains), one line each.
    pub notes: Vec<String>,
    pub counters_compared: usize,
    pub packets_compared: usize,
    pub connections_compared: usize,
}

impl Comparison {
    /// No difference (allowed randomness aside).
    pub fn is_exact(&self) -> bool {
        self.differences.is_empty()
    }

    /// A table of the differences, the allowances used, and a one-line score.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.differences {
            let _ = writeln!(out, "{}", render_difference(d));
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        for (name, count) in &self.allowed {
            let reason = ALLOWANCES
                .iter()
                .find(|a| a.name == *name)
                .map_or("", |a| a.reason);
            let _ = writeln!(out, "allowed {count}x {name}: {reason}");
        }
        let count = |f: fn(&Difference) -> bool| self.differences.iter().filter(|d| f(d)).count();
        let (c, p, t) = (
            count(|d| matches!(d, Difference::Counter(_))),
            count(|d| matches!(d, Difference::Packet(_))),
            count(|d| matches!(d, Difference::Conntrack { .. })),
        );
        let _ = writeln!(
            out,
            "{}: counters {}/{} equal, emitted packets {}/{} equal, connections {}/{} equal{}",
            if self.is_exact() {
                "EXACT"
            } else {
                "DIFFERENT"
            },
            self.counters_compared.saturating_sub(c),
            self.counters_compared,
            self.packets_compared.saturating_sub(p),
            self.packets_compared,
            self.connections_compared.saturating_sub(t),
            self.connections_compared,
            match self.differences.len() {
                0 => String::new(),
                n => format!(" ({n} difference{})", if n == 1 { "" } else { "s" }),
            }
        );
        out
    }
}

fn render_difference(d: &Difference) -> String {
    match d {
        Difference::Counter(c) => format!(
            "counter  {:<8} {:<24} {:<5} kernel {:>6} pkts {:>8} bytes | emulated {:>6} pkts {:>8} bytes | {}",
            c.table.name(),
            c.chain,
            c.rule.map_or("pol".to_string(), |r| format!("#{r}")),
            c.kernel.packets,
            c.kernel.bytes,
            c.emulated.packets,
            c.emulated.bytes,
            c.text
        ),
        Difference::Packet(PacketDiff::Missing { iface, index, summary }) => {
            format!("packet   {iface} #{}: only the kernel emitted it: {summary}", index + 1)
        }
        Difference::Packet(PacketDiff::Extra { iface, index, summary }) => {
            format!("packet   {iface} #{}: only the emulation emitted it: {summary}", index + 1)
        }
        Difference::Packet(PacketDiff::Bytes { iface, index, offset, field, kernel, emulated, count }) => {
            let hex = |b: &Option<u8>| b.map_or("--".to_string(), |b| format!("{b:02x}"));
            format!(
                "packet   {iface} #{}: byte {offset} ({field}) kernel {} emulated {} ({count} byte{} differ)",
                index + 1,
                hex(kernel),
                hex(emulated),
                if *count == 1 { "" } else { "s" }
            )
        }
        Difference::Conntrack { kernel, emulated, what } => {
            let side = |e: &Option<Box<CtEntry>>| e.as_ref().map_or("-".to_string(), |e| e.to_string());
            format!("conntrack {what}: kernel [{}] emulated [{}]", side(kernel), side(emulated))
        }
        Difference::Structure(s) => format!("ruleset  {s}"),
    }
}

/// Compares what the kernel did with what the emulation did: see the module documentation.
pub fn compare(kernel: &Observation, emulated: &Observation, opts: &CompareOptions) -> Comparison {
    let mut out = Comparison::default();
    if let Some((lo, hi)) = opts.nat_ports {
        out.notes.push(format!(
            "ports that differ are accepted when both are in {lo}-{hi} (NAT may pick them at random)"
        ));
    }
    if !opts.random_endpoints.is_empty() {
        out.notes.push(format!(
            "addresses that differ are accepted when both are among the endpoints chosen at random: {}",
            opts.random_endpoints
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    compare_rulesets(&kernel.ruleset, &emulated.ruleset, &mut out);
    compare_emitted(&kernel.emitted, &emulated.emitted, opts, &mut out);
    compare_conntrack(&kernel.conntrack, &emulated.conntrack, opts, &mut out);
    out
}

// ---- counters ------------------------------------------------------------------------------

fn compare_rulesets(kernel: &Ruleset, emulated: &Ruleset, out: &mut Comparison) {
    let kinds: BTreeSet<TableKind> = kernel
        .tables
        .iter()
        .chain(&emulated.tables)
        .map(|t| t.kind)
        .collect();
    for kind in kinds {
        // A table missing on one side counts as one whose counters are all zero: nft does
        // not create a table nobody asked for, while the emulation may model it.
        let empty = Table::new(kind);
        let k = kernel.table(kind).unwrap_or(&empty);
        let e = emulated.table(kind).unwrap_or(&empty);
        compare_table(kernel, k, e, out);
    }
}

fn compare_table(ruleset: &Ruleset, k: &Table, e: &Table, out: &mut Comparison) {
    let random = random_groups(ruleset, k);
    let grouped: BTreeSet<&str> = random
        .iter()
        .flat_map(|g| g.targets.iter().map(String::as_str))
        .collect();
    for kc in k.chains() {
        let Some(ec) = e.chain(&kc.name) else {
            if !all_zero(kc) {
                out.differences.push(Difference::Structure(format!(
                    "{} chain {} exists only in the kernel",
                    k.kind.name(),
                    kc.name
                )));
            }
            continue;
        };
        if kc.rules.len() != ec.rules.len() {
            out.differences.push(Difference::Structure(format!(
                "{} chain {}: {} rules in the kernel, {} in the emulation",
                k.kind.name(),
                kc.name,
                kc.rules.len(),
                ec.rules.len()
            )));
            continue;
        }
        if kc.is_builtin() {
            push_counter(
                out,
                k.kind,
                &kc.name,
                None,
                format!("policy {}", kc.policy.name()),
                kc.counters,
                ec.counters,
            );
        }
        if grouped.contains(kc.name.as_str()) {
            continue;
        }
        let first_random = random.iter().find(|g| g.chain == kc.name).map(|g| g.first);
        for (i, (kr, er)) in kc.rules.iter().zip(&ec.rules).enumerate() {
            if first_random.is_some_and(|f| i >= f) {
                continue;
            }
            let mut text = format!("-A {}", kc.name);
            save_rule_body(&mut text, ruleset, kr, Names::system());
            push_counter(
                out,
                k.kind,
                &kc.name,
                Some(i + 1),
                text,
                kr.counters,
                er.counters,
            );
        }
    }
    for ec in e.chains() {
        if k.chain(&ec.name).is_none() && !all_zero(ec) {
            out.differences.push(Difference::Structure(format!(
                "{} chain {} exists only in the emulation",
                e.kind.name(),
                ec.name
            )));
        }
    }
    for g in &random {
        compare_group(out, k, e, g);
    }
}

fn all_zero(c: &Chain) -> bool {
    c.counters.packets == 0 && c.rules.iter().all(|r| r.counters.packets == 0)
}

fn push_counter(
    out: &mut Comparison,
    table: TableKind,
    chain: &str,
    rule: Option<usize>,
    text: String,
    kernel: Counters,
    emulated: Counters,
) {
    out.counters_compared += 1;
    if kernel != emulated {
        out.differences.push(Difference::Counter(CounterDiff {
            table,
            chain: chain.to_string(),
            rule,
            text,
            kernel,
            emulated,
        }));
    }
}

/// A chain with `-m statistic --mode random` rules: from the first such rule on (or from an
/// earlier rule jumping to one of the same chains: session affinity), its rules are compared
/// as one total, and so are the chains they jump to.
struct RandomGroup {
    chain: String,
    /// Index of the first random rule.
    first: usize,
    targets: Vec<String>,
}

fn random_groups(ruleset: &Ruleset, table: &Table) -> Vec<RandomGroup> {
    let mut groups = Vec::new();
    for c in table.chains() {
        let texts: Vec<String> = c
            .rules
            .iter()
            .map(|r| {
                let mut t = String::new();
                save_rule_body(&mut t, ruleset, r, Names::system());
                t
            })
            .collect();
        let Some(first) = texts.iter().position(|t| t.contains("--mode random")) else {
            continue;
        };
        let mut targets: Vec<String> = Vec::new();
        for r in &c.rules[first..] {
            if let Some(t) = r.target.chain() {
                if t != c.name && !targets.iter().any(|x| x == t) {
                    targets.push(t.to_string());
                }
            }
        }
        // Session affinity (`-m recent --rcheck ... -j KUBE-SEP-X` before the random rules)
        // follows the earlier random choice: such rules belong to the group too.
        let first = c.rules[..first]
            .iter()
            .position(|r| {
                r.target
                    .chain()
                    .is_some_and(|t| targets.iter().any(|x| x == t))
            })
            .unwrap_or(first);
        groups.push(RandomGroup {
            chain: c.name.clone(),
            first,
            targets,
        });
    }
    groups
}

fn compare_group(out: &mut Comparison, k: &Table, e: &Table, g: &RandomGroup) {
    let sum = |t: &Table, chains: &[String], from: usize| {
        let mut s = Counters::ZERO;
        for name in chains {
            if let Some(c) = t.chain(name) {
                for r in c.rules.iter().skip(from) {
                    s.packets += r.counters.packets;
                    s.bytes += r.counters.bytes;
                }
            }
        }
        s
    };
    let own = [g.chain.clone()];
    push_counter(
        out,
        k.kind,
        &g.chain,
        Some(g.first + 1),
        format!("rules #{}.. together (statistic random)", g.first + 1),
        sum(k, &own, g.first),
        sum(e, &own, g.first),
    );
    if !g.targets.is_empty() {
        push_counter(
            out,
            k.kind,
            &g.chain,
            None,
            format!(
                "all rules of {} together (chosen at random)",
                g.targets.join(", ")
            ),
            sum(k, &g.targets, 0),
            sum(e, &g.targets, 0),
        );
    }
    out.notes.push(format!(
        "{} {} uses -m statistic --mode random: rules #{}.. and the chains they jump to ({}) \
         are compared as totals, not rule by rule",
        k.kind.name(),
        g.chain,
        g.first + 1,
        if g.targets.is_empty() {
            "none".to_string()
        } else {
            g.targets.join(", ")
        }
    ));
}

// ---- emitted packets ------------------------------------------------------------------------

const ETH_HEADER: usize = 14;

fn compare_emitted(
    kernel: &BTreeMap<String, Vec<Vec<u8>>>,
    emulated: &BTreeMap<String, Vec<Vec<u8>>>,
    opts: &CompareOptions,
    out: &mut Comparison,
) {
    let none = Vec::new();
    let ifaces: BTreeSet<&String> = kernel.keys().chain(emulated.keys()).collect();
    for iface in ifaces {
        let k = kernel.get(iface).unwrap_or(&none);
        let e = emulated.get(iface).unwrap_or(&none);
        for i in 0..k.len().max(e.len()) {
            out.packets_compared += 1;
            match (k.get(i), e.get(i)) {
                (Some(kf), None) => out
                    .differences
                    .push(Difference::Packet(PacketDiff::Missing {
                        iface: iface.clone(),
                        index: i,
                        summary: summarize(kf),
                    })),
                (None, Some(ef)) => out.differences.push(Difference::Packet(PacketDiff::Extra {
                    iface: iface.clone(),
                    index: i,
                    summary: summarize(ef),
                })),
                (Some(kf), Some(ef)) => compare_frame(iface, i, kf, ef, opts, out),
                (None, None) => {}
            }
        }
    }
}

/// Compares two frames: the link header only when asked, then every byte from the IP header
/// on; a differing byte is allowed when its field's difference is (see [`ALLOWANCES`]).
fn compare_frame(
    iface: &str,
    index: usize,
    k: &[u8],
    e: &[u8],
    opts: &CompareOptions,
    out: &mut Comparison,
) {
    let start = if opts.link_layer { 0 } else { 12 };
    let mut differing: Vec<usize> = (start..k.len().max(e.len()))
        .filter(|&o| k.get(o) != e.get(o))
        .collect();
    if differing.is_empty() {
        return;
    }
    let mut allowed_here: Vec<&'static str> = Vec::new();
    let mut checksums = Vec::new();
    differing.retain(|&o| {
        let field = field_at(k, o);
        if field.checksum {
            checksums.push(o);
            return false;
        }
        match allow(&field, k, e, opts) {
            Some(a) => {
                if !allowed_here.contains(&a.name) {
                    allowed_here.push(a.name);
                }
                false
            }
            None => true,
        }
    });
    if !checksums.is_empty() {
        if allowed_here.is_empty() || !differing.is_empty() {
            differing.extend(checksums);
            differing.sort_unstable();
        } else {
            allowed_here.push(CHECKSUM_FOLLOWS.name);
        }
    }
    if let Some(&first) = differing.first() {
        out.differences.push(Difference::Packet(PacketDiff::Bytes {
            iface: iface.to_string(),
            index,
            offset: first,
            field: field_at(k, first).name,
            kernel: k.get(first).copied(),
            emulated: e.get(first).copied(),
            count: differing.len(),
        }));
        return;
    }
    for a in allowed_here {
        *out.allowed.entry(a).or_insert(0) += 1;
    }
}

/// Which header field a byte offset of an Ethernet frame falls in.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Field {
    name: String,
    checksum: bool,
    /// The field's whole range in the frame.
    range: std::ops::Range<usize>,
}

fn field(name: &str, range: std::ops::Range<usize>, checksum: bool) -> Field {
    Field {
        name: name.to_string(),
        checksum,
        range,
    }
}

fn field_at(f: &[u8], o: usize) -> Field {
    if o < 6 {
        return field("eth dst", 0..6, false);
    }
    if o < 12 {
        return field("eth src", 6..12, false);
    }
    if o < ETH_HEADER {
        return field("ethertype", 12..14, false);
    }
    let ip = ETH_HEADER;
    match f.get(ip).map(|b| b >> 4) {
        Some(4) => {
            let ihl = usize::from(f[ip] & 0xf) * 4;
            let rel = o - ip;
            let fixed: &[(usize, usize, &str, bool)] = &[
                (0, 1, "IPv4 version/ihl", false),
                (1, 2, "IPv4 tos", false),
                (2, 4, "IPv4 total length", false),
                (4, 6, "IPv4 id", false),
                (6, 8, "IPv4 flags/fragment", false),
                (8, 9, "IPv4 ttl", false),
                (9, 10, "IPv4 protocol", false),
                (10, 12, "IPv4 checksum", true),
                (12, 16, "IPv4 source", false),
                (16, 20, "IPv4 destination", false),
            ];
            if let Some((a, b, n, c)) = fixed.iter().find(|(a, b, ..)| rel >= *a && rel < *b) {
                return field(n, ip + a..ip + b, *c);
            }
            if rel < ihl {
                return field("IPv4 options", ip + 20..ip + ihl, false);
            }
            // The clock fields of a timestamp reply (RFC 792: receive, transmit).
            let l4 = ip + ihl;
            if f.get(ip + 9) == Some(&1)
                && f.get(l4) == Some(&crate::wire::icmpv4::kind::TIMESTAMP_REPLY)
                && (l4 + 12..l4 + 20).contains(&o)
            {
                return field("ICMP timestamp", l4 + 12..l4 + 20, false);
            }
            l4_field(f.get(ip + 9).copied().unwrap_or(0), l4, o)
        }
        Some(6) => {
            let rel = o - ip;
            let fixed: &[(usize, usize, &str)] = &[
                (0, 4, "IPv6 version/class/flow"),
                (4, 6, "IPv6 payload length"),
                (6, 7, "IPv6 next header"),
                (7, 8, "IPv6 hop limit"),
                (8, 24, "IPv6 source"),
                (24, 40, "IPv6 destination"),
            ];
            if let Some((a, b, n)) = fixed.iter().find(|(a, b, _)| rel >= *a && rel < *b) {
                return field(n, ip + a..ip + b, false);
            }
            l4_field(f.get(ip + 6).copied().unwrap_or(0), ip + 40, o)
        }
        _ => field("payload", ETH_HEADER..f.len(), false),
    }
}

fn l4_field(proto: u8, l4: usize, o: usize) -> Field {
    let rel = o - l4;
    let table: &[(usize, usize, &str, bool)] = match proto {
        6 => &[
            (0, 2, "TCP source port", false),
            (2, 4, "TCP destination port", false),
            (4, 8, "TCP seq", false),
            (8, 12, "TCP ack", false),
            (12, 14, "TCP offset/flags", false),
            (14, 16, "TCP window", false),
            (16, 18, "TCP checksum", true),
        ],
        17 => &[
            (0, 2, "UDP source port", false),
            (2, 4, "UDP destination port", false),
            (4, 6, "UDP length", false),
            (6, 8, "UDP checksum", true),
        ],
        1 | 58 => &[
            (0, 1, "ICMP type", false),
            (1, 2, "ICMP code", false),
            (2, 4, "ICMP checksum", true),
            (4, 8, "ICMP rest of header", false),
        ],
        _ => &[],
    };
    match table.iter().find(|(a, b, ..)| rel >= *a && rel < *b) {
        Some((a, b, n, c)) => field(n, l4 + a..l4 + b, *c),
        None => field("L4 data", l4..usize::MAX, false),
    }
}

fn read_be(f: &[u8], r: &std::ops::Range<usize>) -> Option<u64> {
    let bytes = f.get(r.clone())?;
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

fn read_addr(f: &[u8], r: &std::ops::Range<usize>) -> Option<IpAddr> {
    let b = f.get(r.clone())?;
    match b.len() {
        4 => Some(IpAddr::from([b[0], b[1], b[2], b[3]])),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            Some(IpAddr::from(a))
        }
        _ => None,
    }
}

/// Whether the difference in `field` between kernel frame `k` and emulated frame `e` is one
/// of the allowed kinds.
fn allow(field: &Field, k: &[u8], e: &[u8], opts: &CompareOptions) -> Option<Allowance> {
    match field.name.as_str() {
        "IPv4 id" => {
            let proto = k.get(ETH_HEADER + 9)?;
            let ihl = usize::from(k.get(ETH_HEADER)? & 0xf) * 4;
            let icmp_type = k.get(ETH_HEADER + ihl)?;
            let replies = [0, 14];
            (*proto == 1
                && (crate::wire::icmpv4::is_error(*icmp_type) || replies.contains(icmp_type)))
            .then_some(ICMP_IP_ID)
        }
        "ICMP timestamp" => Some(ICMP_TIMESTAMP),
        // The id of an echo request/reply rewritten by source NAT (see reply_difference);
        // the sequence number must agree.
        "ICMP rest of header" => {
            opts.nat_ports?;
            let r = &field.range;
            let l4 = r.start.checked_sub(4)?;
            let echo = [0u8, 8, 128, 129];
            let is_echo = |f: &[u8]| f.get(l4).is_some_and(|t| echo.contains(t));
            let seq = |f: &[u8]| f.get(r.start + 2..r.end).map(<[u8]>::to_vec);
            (is_echo(k) && is_echo(e) && seq(k) == seq(e)).then_some(NAT_PORT)
        }
        "TCP source port" | "TCP destination port" | "UDP source port" | "UDP destination port" => {
            let (lo, hi) = opts.nat_ports?;
            let (a, b) = (read_be(k, &field.range)?, read_be(e, &field.range)?);
            let inside = |p: u64| p >= u64::from(lo) && p <= u64::from(hi);
            (inside(a) && inside(b)).then_some(NAT_PORT)
        }
        "IPv4 source" | "IPv4 destination" | "IPv6 source" | "IPv6 destination" => {
            let (a, b) = (read_addr(k, &field.range)?, read_addr(e, &field.range)?);
            (opts.random_endpoints.contains(&a) && opts.random_endpoints.contains(&b))
                .then_some(RANDOM_ENDPOINT)
        }
        _ => None,
    }
}

/// `IPv4 tcp 10.0.0.1 > 10.0.0.2, 60 bytes` for messages.
fn summarize(f: &[u8]) -> String {
    let ip = ETH_HEADER;
    match f.get(ip).map(|b| b >> 4) {
        Some(4) if f.len() >= ip + 20 => format!(
            "IPv4 proto {} {} > {}, {} bytes",
            f[ip + 9],
            IpAddr::from([f[ip + 12], f[ip + 13], f[ip + 14], f[ip + 15]]),
            IpAddr::from([f[ip + 16], f[ip + 17], f[ip + 18], f[ip + 19]]),
            f.len() - ip
        ),
        Some(6) if f.len() >= ip + 40 => format!(
            "IPv6 next header {} {} > {}, {} bytes",
            f[ip + 6],
            read_addr(f, &(ip + 8..ip + 24)).map_or("?".into(), |a| a.to_string()),
            read_addr(f, &(ip + 24..ip + 40)).map_or("?".into(), |a| a.to_string()),
            f.len() - ip
        ),
        _ => format!(
            "ethertype 0x{:04x}, {} bytes",
            read_be(f, &(12..14)).unwrap_or(0),
            f.len()
        ),
    }
}

// ---- connection table -----------------------------------------------------------------------

fn compare_conntrack(
    kernel: &[CtEntry],
    emulated: &[CtEntry],
    opts: &CompareOptions,
    out: &mut Comparison,
) {
    let key = |e: &CtEntry| (e.proto_num, e.original.clone());
    let ek: BTreeMap<(u8, CtTuple), &CtEntry> = emulated.iter().map(|e| (key(e), e)).collect();
    let kk: BTreeMap<(u8, CtTuple), &CtEntry> = kernel.iter().map(|e| (key(e), e)).collect();
    for (k, ke) in &kk {
        out.connections_compared += 1;
        let Some(ee) = ek.get(k) else {
            out.differences.push(Difference::Conntrack {
                kernel: Some(Box::new((*ke).clone())),
                emulated: None,
                what: "only in the kernel".into(),
            });
            continue;
        };
        let mut what = Vec::new();
        if ke.state != ee.state {
            what.push("state");
        }
        if ke.unreplied != ee.unreplied {
            what.push("UNREPLIED");
        }
        if ke.assured != ee.assured {
            what.push("ASSURED");
        }
        if ke.mark != ee.mark {
            what.push("mark");
        }
        match reply_difference(&ke.reply, &ee.reply, opts) {
            Ok(Some(a)) => *out.allowed.entry(a.name).or_insert(0) += 1,
            Ok(None) => {}
            Err(()) => what.push("reply tuple"),
        }
        if !what.is_empty() {
            out.differences.push(Difference::Conntrack {
                kernel: Some(Box::new((*ke).clone())),
                emulated: Some(Box::new((*ee).clone())),
                what: what.join(", "),
            });
        }
    }
    for (k, ee) in &ek {
        if !kk.contains_key(k) {
            out.connections_compared += 1;
            out.differences.push(Difference::Conntrack {
                kernel: None,
                emulated: Some(Box::new((*ee).clone())),
                what: "only in the emulation".into(),
            });
        }
    }
}

/// Equal reply tuples: `Ok(None)`; different only in allowed ways: `Ok(Some(allowance))`.
fn reply_difference(
    k: &CtTuple,
    e: &CtTuple,
    opts: &CompareOptions,
) -> Result<Option<Allowance>, ()> {
    if k == e {
        return Ok(None);
    }
    let mut used = None;
    match (k.icmp, e.icmp) {
        (a, b) if a == b => {}
        // An ICMP id is NAT's "port": with SNAT/MASQUERADE (on a clash) or --random the
        // kernel draws it from the whole 16-bit space.
        (Some((kt, kc, _)), Some((et, ec, _)))
            if (kt, kc) == (et, ec) && opts.nat_ports.is_some() =>
        {
            used = Some(NAT_PORT);
        }
        _ => return Err(()),
    }
    for (a, b) in [(k.src, e.src), (k.dst, e.dst)] {
        if a != b {
            if opts.random_endpoints.contains(&a) && opts.random_endpoints.contains(&b) {
                used = Some(RANDOM_ENDPOINT);
            } else {
                return Err(());
            }
        }
    }
    for (a, b) in [(k.sport, e.sport), (k.dport, e.dport)] {
        if a != b {
            let (Some(a), Some(b), Some((lo, hi))) = (a, b, opts.nat_ports) else {
                return Err(());
            };
            if (lo..=hi).contains(&a) && (lo..=hi).contains(&b) {
                used = used.or(Some(NAT_PORT));
            } else {
                return Err(());
            }
        }
    }
    Ok(used)
}

#[cfg(test)]
mod tests;

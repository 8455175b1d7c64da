//! `iptables -L` output for a [`Ruleset`], byte for byte as iptables 1.8.9 prints it
//! (`print_header`, `print_rule_details`, `xtables_print_num` in iptables' xshared.c and
//! libxtables; NETFILTER.md §7 has the measured layout).

use std::fmt::Write;

use super::ext::PrintCtx;
use super::model::{Chain, Counters, Ruleset, Table, TableKind, Target};
use super::names::Names;
use super::save::chains_in_print_order;

/// The flags of `iptables -L`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListOptions {
    /// `-v`: counters and interfaces.
    pub verbose: bool,
    /// `-n`: no name look-ups.
    pub numeric: bool,
    /// `-x`: exact counters instead of K/M/G.
    pub exact: bool,
    /// `--line-numbers`.
    pub line_numbers: bool,
}

/// What went wrong when listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListError {
    NoSuchChain(String),
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::NoSuchChain(c) => {
                write!(f, "chain `{c}' does not exist in that table")
            }
        }
    }
}

/// Lists one table (all chains, or just `chain`). A table the ruleset does not have is
/// listed with its empty built-in chains, as iptables-nft does.
pub fn list(
    ruleset: &Ruleset,
    kind: TableKind,
    chain: Option<&str>,
    opts: ListOptions,
) -> Result<String, ListError> {
    let empty;
    let table = match ruleset.table(kind) {
        Some(t) => t,
        None => {
            empty = Table::new(kind);
            &empty
        }
    };
    let names = Names::system();
    let mut out = String::new();
    let chains: Vec<&Chain> = match chain {
        Some(name) => vec![table
            .chain(name)
            .ok_or_else(|| ListError::NoSuchChain(name.to_string()))?],
        None => chains_in_print_order(table),
    };
    let references = table.reference_counts();
    for (i, c) in chains.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let refs = references.get(c.name.as_str()).copied().unwrap_or(0);
        list_chain(&mut out, ruleset, c, refs, opts, names);
    }
    Ok(out)
}

fn list_chain(
    out: &mut String,
    ruleset: &Ruleset,
    chain: &Chain,
    references: usize,
    opts: ListOptions,
    names: &Names,
) {
    let _ = write!(out, "Chain {}", chain.name);
    if chain.is_builtin() {
        let _ = write!(out, " (policy {}", chain.policy.name());
        if opts.verbose {
            out.push(' ');
            write_num(out, chain.counters.packets, opts, false);
            out.push_str("packets, ");
            write_num(out, chain.counters.bytes, opts, false);
            out.push_str("bytes");
        }
        out.push_str(")\n");
    } else {
        let _ = writeln!(out, " ({references} references)");
    }

    if opts.line_numbers {
        out.push_str("num  ");
    }
    if opts.verbose {
        if opts.exact {
            out.push_str("    pkts      bytes ");
        } else {
            out.push_str(" pkts bytes ");
        }
    }
    out.push_str("target     prot opt ");
    if opts.verbose {
        out.push_str("in     out     ");
    }
    out.push_str("source               destination         \n");

    for (n, rule) in chain.rules.iter().enumerate() {
        if opts.line_numbers {
            let _ = write!(out, "{:<4} ", n + 1);
        }
        if opts.verbose {
            write_counters(out, rule.counters, opts);
        }
        // `-j NOTRACK` lists as CT (its kernel target) but saves as NOTRACK.
        let target = match &rule.target {
            Target::Ext(t) => t.list_name(),
            t => t.name(),
        };
        let _ = write!(out, "{target:<9} ");
        let ip = &rule.ip;
        let (proto, proto_inv) = ip
            .proto
            .as_ref()
            .map_or((0, false), |p| (p.value.0, p.invert));
        out.push(if proto_inv { '!' } else { ' ' });
        let pname = if opts.numeric {
            None
        } else {
            super::ext::util::proto_short_name(proto).or_else(|| names.protocol_name(proto))
        };
        // Four columns and a space: longer names (`ipv6-icmp`) push the row right.
        match pname {
            Some(p) => {
                let _ = write!(out, "{p:<4} ");
            }
            None => {
                let _ = write!(out, "{proto:<4} ");
            }
        }
        let (frag_inv, frag) = match &ip.fragment {
            Some(f) => (f.invert, true),
            None => (false, false),
        };
        out.push(if frag_inv { '!' } else { '-' });
        out.push(if frag { 'f' } else { '-' });
        out.push(' ');
        if opts.verbose {
            let any = if opts.numeric { "*" } else { "any" };
            let iface = |i: &Option<super::model::Neg<super::addr::Iface>>| match i {
                Some(n) => format!("{}{}", if n.invert { "!" } else { "" }, n.value.name),
                None => any.to_string(),
            };
            let _ = write!(out, " {:<6} ", iface(&ip.in_iface));
            let _ = write!(out, "{:<6} ", iface(&ip.out_iface));
        }
        for net in [&ip.src, &ip.dst] {
            let (inv, text) = match net {
                Some(n) => (n.invert, n.value.list_text(opts.numeric, names)),
                None => {
                    let any = match (opts.numeric, ruleset.family) {
                        (false, _) => "anywhere",
                        (true, super::model::Family::Ipv4) => "0.0.0.0/0",
                        (true, super::model::Family::Ipv6) => "::/0",
                    };
                    (false, any.to_string())
                }
            };
            out.push(if inv { '!' } else { ' ' });
            let _ = write!(out, "{text:<19} ");
        }
        if matches!(rule.target, Target::Goto(_)) {
            out.push_str("[goto] ");
        }
        let ctx = PrintCtx {
            numeric: opts.numeric,
            family: ruleset.family,
            proto,
            names,
        };
        for m in super::save::printed_matches(ruleset, rule).iter() {
            m.ext.list(out, &ctx);
        }
        if let Target::Ext(t) = &rule.target {
            t.list(out, &ctx);
        }
        out.push('\n');
    }
}

fn write_counters(out: &mut String, c: Counters, opts: ListOptions) {
    write_num(out, c.packets, opts, true);
    write_num(out, c.bytes, opts, true);
}

/// `xtables_print_num`: exact (`%8llu `) with `-x`, else up to five digits and then K, M, G, T
/// with rounding half up; `table` pads to the column width.
fn write_num(out: &mut String, n: u64, opts: ListOptions, table: bool) {
    if opts.exact {
        if table {
            let _ = write!(out, "{n:>8} ");
        } else {
            let _ = write!(out, "{n} ");
        }
        return;
    }
    if n <= 99_999 {
        if table {
            let _ = write!(out, "{n:>5} ");
        } else {
            let _ = write!(out, "{n} ");
        }
        return;
    }
    let mut v = n;
    for suffix in ['K', 'M', 'G'] {
        v = (v + 500) / 1000;
        if v <= 9999 {
            if table {
                let _ = write!(out, "{v:>4}{suffix} ");
            } else {
                let _ = write!(out, "{v}{suffix} ");
            }
            return;
        }
    }
    v = (v + 500) / 1000;
    if table {
        let _ = write!(out, "{v:>4}T ");
    } else {
        let _ = write!(out, "{v}T ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(n: u64) -> String {
        let mut s = String::new();
        write_num(&mut s, n, ListOptions::default(), true);
        s
    }

    #[test]
    fn kilo_mega_giga_as_measured() {
        // Values from NETFILTER.md §7, measured on iptables 1.8.9.
        assert_eq!(num(99_999), "99999 ");
        assert_eq!(num(100_000), " 100K ");
        assert_eq!(num(999_499), " 999K ");
        assert_eq!(num(999_500), "1000K ");
        assert_eq!(num(9_999_500), "  10M ");
        assert_eq!(num(10_000_000_000), "  10G ");
        assert_eq!(num(9_999_999_999_999), "  10T ");
    }
}

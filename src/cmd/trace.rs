//! `fwbench trace`: one packet's way through the host, rule by rule.

use std::fmt::Write;

use fwbench::engine::{DecidedBy, Verdict, FELL_OFF};
use fwbench::netfilter::stack::TraceStep;
use fwbench::replay::{describe, replay, Inputs, Traced};
use fwbench::rules::names::Names;
use fwbench::rules::save::save_rule_body;
use fwbench::rules::Ruleset;

use super::{emit, load_host, load_ipsets, load_ruleset_for_replay, stack_config, Failure};
use crate::cli::TraceArgs;

pub fn run(args: &TraceArgs) -> Result<(), Failure> {
    let ruleset = load_ruleset_for_replay(&args.ruleset)?;
    let ipsets = load_ipsets(&args.ruleset)?;
    let host = load_host(&args.host)?;
    let config = stack_config(&args.ruleset, args.seed);
    let report = replay(Inputs {
        captures: &args.captures,
        ruleset: &ruleset,
        host: &host,
        ipsets,
        config,
        in_interface: args.host.in_interface.clone(),
        out: None,
        drops: None,
        trace: Some(args.packet),
    })
    .map_err(|e| Failure(e.to_string()))?;
    let Some(traced) = report.traced else {
        if let Some(why) = report.stopped {
            return Err(Failure(why));
        }
        return Err(Failure(format!(
            "the captures hold {} packets; there is no packet {}",
            report.summary.read, args.packet
        )));
    };
    emit(&render(&ruleset, &traced))
}

/// The trace as text: a header line for the packet, then one block per step.
pub fn render(ruleset: &Ruleset, t: &Traced) -> String {
    let mut out = String::new();
    let from = t
        .iface
        .as_deref()
        .map_or("sent by the host".to_string(), |i| format!("in {i}"));
    let _ = writeln!(out, "packet {} ({from}): {}", t.number, summarize(&t.ip));
    let names = Names::system();
    for step in &t.processed.trace {
        match step {
            TraceStep::Note(text) => {
                let _ = writeln!(out, "{text}");
            }
            TraceStep::Chain {
                table,
                hook,
                visits,
                verdict,
                by,
            } => {
                let _ = writeln!(out, "{} {}:", table.name(), hook.chain_name());
                let Some(tab) = ruleset.table(*table) else {
                    continue;
                };
                for &(chain, rule, matched) in visits {
                    let c = &tab.chains()[chain];
                    if rule == FELL_OFF {
                        let what = if c.hook.is_some() { "policy" } else { "return" };
                        let _ = writeln!(out, "        end of {} ({what})", c.name);
                        continue;
                    }
                    let mut text = format!("-A {}", c.name);
                    save_rule_body(&mut text, ruleset, &c.rules[rule], names);
                    let mark = if matched { "match" } else { "     " };
                    let _ = writeln!(out, "  {mark} {}#{} {text}", c.name, rule + 1);
                }
                let verdict = match verdict {
                    Verdict::Accept => "ACCEPT",
                    Verdict::Drop => "DROP",
                    Verdict::Queue => "QUEUE",
                };
                let how = match by {
                    DecidedBy::Rule { chain, rule } => {
                        format!("rule {}#{}", tab.chains()[*chain].name, rule + 1)
                    }
                    DecidedBy::Policy { chain } => {
                        format!("policy of {}", tab.chains()[*chain].name)
                    }
                    DecidedBy::HotDrop { chain, rule } => format!(
                        "a match of rule {}#{} (header cut short: hot-drop)",
                        tab.chains()[*chain].name,
                        rule + 1
                    ),
                };
                let _ = writeln!(out, "  => {verdict} by {how}");
            }
        }
    }
    let _ = writeln!(out, "outcome: {}", describe(ruleset, &t.processed.outcome));
    if let Some(bytes) = &t.processed.final_bytes {
        let _ = writeln!(out, "leaves as: {}", summarize(bytes));
    }
    for e in &t.processed.emitted {
        let ip = e.frame.get(14..).unwrap_or(&[]);
        let _ = writeln!(out, "emitted on {}: {}", e.iface, summarize(ip));
    }
    out
}

/// `tcp 10.0.0.2:43210 > 172.30.0.41:80 [SYN] len 60 ttl 64`.
fn summarize(ip: &[u8]) -> String {
    use fwbench::wire::ip::L4Info;
    let Ok(info) = fwbench::wire::ip::parse(ip) else {
        return format!("{} bytes, not a readable IP packet", ip.len());
    };
    let ends = match info.l4 {
        L4Info::Tcp {
            src_port,
            dst_port,
            flags,
            ..
        } => {
            let names = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
            let set: Vec<&str> = names
                .iter()
                .enumerate()
                .filter(|(i, _)| flags & (1 << i) != 0)
                .map(|(_, n)| *n)
                .collect();
            format!(
                "tcp {}:{src_port} > {}:{dst_port} [{}]",
                info.src,
                info.dst,
                set.join(",")
            )
        }
        L4Info::Ports { src_port, dst_port } => format!(
            "{:?} {}:{src_port} > {}:{dst_port}",
            info.protocol, info.src, info.dst
        )
        .to_lowercase(),
        L4Info::Icmp { msg_type, code, .. } => {
            format!(
                "icmp {} > {} type {msg_type} code {code}",
                info.src, info.dst
            )
        }
        _ => format!("{:?} {} > {}", info.protocol, info.src, info.dst),
    };
    format!("{ends} len {} ttl {}", info.total_len, info.ttl)
}

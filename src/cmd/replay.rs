//! `fwbench replay`: captures through the emulated host; counters as `iptables -L -v`,
//! then the outcome summary.

use std::fmt::Write;

use fwbench::engine::Verdict;
use fwbench::netfilter::stack::Config;
use fwbench::replay::{listed_tables, replay, rule_name, Inputs, Report};
use fwbench::rules::list::{list, ListOptions};

use super::{
    emit, load_host, load_ipsets, load_ruleset_for_replay, stack_config, table_kind, Failure,
};
use crate::cli::{QueueVerdict, ReplayArgs};

pub fn run(args: &ReplayArgs) -> Result<(), Failure> {
    let ruleset = load_ruleset_for_replay(&args.ruleset)?;
    let ipsets = load_ipsets(&args.ruleset)?;
    let host = load_host(&args.host)?;
    let config = Config {
        queue_verdict: match args.queue_verdict {
            QueueVerdict::Accept => Verdict::Accept,
            QueueVerdict::Drop => Verdict::Drop,
        },
        local_replies: !args.no_local_replies,
        ..stack_config(&args.ruleset, args.seed)
    };
    let report = replay(Inputs {
        captures: &args.captures,
        ruleset: &ruleset,
        host: &host,
        ipsets,
        config,
        in_interface: args.host.in_interface.clone(),
        out: args.out.clone(),
        drops: args.drops.clone(),
        trace: None,
    })
    .map_err(|e| Failure(e.to_string()))?;
    if let Some(path) = &args.log {
        let mut text = report.log.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        std::fs::write(path, text)
            .map_err(|e| Failure(format!("{}: cannot write: {e}", path.display())))?;
    }
    emit(&render(args, &report)?)?;
    match report.stopped {
        Some(why) => Err(Failure(why)),
        None => Ok(()),
    }
}

fn render(args: &ReplayArgs, report: &Report) -> Result<String, Failure> {
    let opts = ListOptions {
        verbose: true,
        numeric: args.numeric,
        exact: args.exact,
        line_numbers: args.line_numbers,
    };
    let tables = match args.table {
        Some(t) => vec![table_kind(t)],
        None => listed_tables(&report.counted),
    };
    let mut out = String::new();
    for (i, kind) in tables.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "# table {}", kind.name());
        let text = list(&report.counted, *kind, None, opts)
            .map_err(|e| Failure(format!("{e} ({kind})")))?;
        out.push_str(&text);
    }
    summary(&mut out, report);
    if args.conntrack {
        let _ = writeln!(out, "\n# conntrack -L ({} entries)", report.conntrack.len());
        for line in &report.conntrack {
            let _ = writeln!(out, "{line}");
        }
    }
    Ok(out)
}

fn summary(out: &mut String, report: &Report) {
    let s = &report.summary;
    let _ = writeln!(out, "\n# summary: {} packets read", s.read);
    for (category, n) in &s.outcomes {
        let _ = writeln!(out, "  {category:<40} {n:>10}");
    }
    let replies: u64 = s.host_replies.values().sum();
    if replies > 0 {
        let _ = writeln!(
            out,
            "# the host's own answers (REJECT, resets, ICMP): {replies}"
        );
        for (category, n) in &s.host_replies {
            let _ = writeln!(out, "  {category:<40} {n:>10}");
        }
    }
    if !s.decided_by.is_empty() {
        let _ = writeln!(out, "# packets dropped or rejected, by rule or policy");
        let mut by: Vec<_> = s.decided_by.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (r, n) in by.iter().take(10) {
            let _ = writeln!(out, "  {:<40} {n:>10}", rule_name(&report.counted, r));
        }
    }
    for (why, n) in &s.unsupported {
        let _ = writeln!(out, "not evaluated: {why} ({n} packets)");
    }
    if !report.tracked {
        let _ = writeln!(
            out,
            "conntrack: off (no rule needs it, as in the kernel: nat chains see no packets)"
        );
    }
}

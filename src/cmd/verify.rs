//! `fwbench verify`: the capture through the real kernel and through fwbench, compared.

use std::fmt::Write;

use fwbench::verify::{install_signal_cleanup, packets_of_capture, verify, VerifyInputs};

use super::{emit, load_host, load_ruleset_for_replay, read_text, stack_config, Failure};
use crate::cli::VerifyArgs;

pub fn run(args: &VerifyArgs) -> Result<(), Failure> {
    let ruleset = load_ruleset_for_replay(&args.ruleset)?;
    let (_, rules_text) = read_text(&args.ruleset.rules, "iptables-save")?;
    let ipsets_text = match &args.ruleset.ipsets {
        Some(p) => Some(read_text(p, "ipset save")?.1),
        None => None,
    };
    let host = load_host(&args.host)?;
    install_signal_cleanup();
    let packets = packets_of_capture(&args.capture, &host, args.host.in_interface.as_deref())
        .map_err(|e| Failure(e.to_string()))?;
    let report = verify(VerifyInputs {
        packets,
        rules_text: &rules_text,
        ruleset: &ruleset,
        ipsets_text: ipsets_text.as_deref(),
        host: &host,
        config: fwbench::netfilter::stack::Config {
            // The lab has no program reading NFQUEUE queues.
            queue_verdict: fwbench::engine::Verdict::Queue,
            ..stack_config(&args.ruleset, args.seed)
        },
    })
    .map_err(|e| Failure(format!("verify: {e}")))?;
    let mut out = String::new();
    let _ = writeln!(out, "# kernel settings that differ from a stock kernel");
    for s in &report.settings {
        let _ = writeln!(out, "{s}");
    }
    if report.resent > 0 {
        let _ = writeln!(out, "({} frames had to be sent again)", report.resent);
    }
    let _ = writeln!(out, "# comparison");
    out.push_str(&report.comparison.render());
    if args.conntrack {
        let _ = writeln!(out, "# kernel conntrack");
        for e in &report.kernel.conntrack {
            let _ = writeln!(out, "{e}");
        }
        let _ = writeln!(out, "# fwbench conntrack");
        for e in &report.emulated.conntrack {
            let _ = writeln!(out, "{e}");
        }
    }
    emit(&out)?;
    if !report.comparison.is_exact() {
        std::process::exit(1);
    }
    Ok(())
}

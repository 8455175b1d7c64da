//! TRACE lines of a traced packet, as the kernel (iptables-legacy) or `xtables-monitor
//! --trace` (iptables-nft) print them, from the rules a chain walk visited.

use crate::engine::Verdict;
use crate::rules::ext::TargetExt;
use crate::rules::{Backend, Rule, Ruleset, Target};

/// Whether any rule uses `-j TRACE`.
pub(super) fn uses_trace(ruleset: &Ruleset) -> bool {
    ruleset.tables.iter().any(|t| {
        t.chains().iter().any(|c| {
            c.rules
                .iter()
                .any(|r| matches!(&r.target, Target::Ext(TargetExt::Trace(_))))
        })
    })
}

/// The TRACE lines of one chain walk of a traced packet: iptables-legacy's kernel log lines
/// (`trace_packet` in ip_tables.c: one per matched rule and per chain end reached, the
/// kernel calling an unconditional ACCEPT/DROP/RETURN rule `policy` in a built-in chain and
/// `return` in a user chain, as it does for the chain's tail), or what `xtables-monitor
/// --trace` prints for iptables-nft (a PACKET line, then one event per matched rule and for
/// the policy; none for the end of a user chain).
pub(super) fn trace_lines(
    ruleset: &Ruleset,
    backend: Backend,
    table: &crate::rules::Table,
    visits: &[(usize, usize, bool)],
    decision: &crate::engine::Decision,
    ctx: &crate::engine::LogContext,
    bytes: &[u8],
) -> Vec<String> {
    use crate::engine::{NftTraceEvent, NftVerdict, TraceKind, FELL_OFF};
    let chains = table.chains();
    let name = table.kind.name();
    let mut lines = Vec::new();
    let v6 = bytes.first().is_some_and(|b| b >> 4 == 6);
    // nft rule handles: the table's chains first, then its rules in the order written.
    let mut order: Vec<((u32, u32), usize, usize)> = Vec::new();
    if backend == Backend::Nft {
        for (ci, c) in chains.iter().enumerate() {
            for (ri, r) in c.rules.iter().enumerate() {
                order.push(((r.pos.line, r.pos.col), ci, ri));
            }
        }
        order.sort();
    }
    let handle = |ci: usize, ri: usize| {
        let at = order
            .iter()
            .position(|&(_, c, r)| c == ci && r == ri)
            .unwrap_or(0);
        (chains.len() + at + 1) as u64
    };
    let mut packet_line_done = false;
    for &(ci, ri, _) in visits.iter().filter(|&&(_, _, matched)| matched) {
        let c = &chains[ci];
        match backend {
            Backend::Legacy => {
                let (kind, n) = if ri == FELL_OFF {
                    let kind = if c.hook.is_some() {
                        TraceKind::Policy
                    } else {
                        TraceKind::Return
                    };
                    (kind, c.rules.len() + 1)
                } else if is_unconditional_verdict(&c.rules[ri]) {
                    let kind = if c.hook.is_some() {
                        TraceKind::Policy
                    } else {
                        TraceKind::Return
                    };
                    (kind, ri + 1)
                } else {
                    (TraceKind::Rule, ri + 1)
                };
                lines.push(crate::engine::trace_line(
                    backend, name, &c.name, kind, n, ctx, bytes,
                ));
            }
            Backend::Nft => {
                if ri == FELL_OFF && c.hook.is_none() {
                    continue;
                }
                if !packet_line_done {
                    lines.push(crate::engine::nft_trace_packet_line(0, ctx, bytes));
                    packet_line_done = true;
                }
                let (kind, verdict, text, h) = if ri == FELL_OFF {
                    let verdict = match decision.verdict {
                        Verdict::Accept => NftVerdict::Accept,
                        Verdict::Drop => NftVerdict::Drop,
                        Verdict::Queue => NftVerdict::Queue,
                    };
                    (TraceKind::Policy, verdict, String::new(), 0)
                } else {
                    let r = &c.rules[ri];
                    let verdict = match &r.target {
                        Target::Accept => NftVerdict::Accept,
                        Target::Drop => NftVerdict::Drop,
                        Target::Queue => NftVerdict::Queue,
                        Target::Return => NftVerdict::Return,
                        Target::Jump(to) => NftVerdict::Jump(to),
                        Target::Goto(to) => NftVerdict::Goto(to),
                        Target::Ext(TargetExt::Reject(_)) => NftVerdict::Drop,
                        Target::Ext(TargetExt::Nfqueue(_)) => NftVerdict::Queue,
                        Target::Ext(
                            TargetExt::Dnat(_)
                            | TargetExt::Snat(_)
                            | TargetExt::Masquerade(_)
                            | TargetExt::Redirect(_)
                            | TargetExt::Netmap(_),
                        ) => NftVerdict::Accept,
                        _ => NftVerdict::Continue,
                    };
                    let mut text = format!("-A {}", c.name);
                    crate::rules::save::save_rule_body(
                        &mut text,
                        ruleset,
                        r,
                        crate::rules::names::Names::system(),
                    );
                    (TraceKind::Rule, verdict, text, handle(ci, ri))
                };
                let ev = NftTraceEvent {
                    table: name,
                    chain: &c.name,
                    kind,
                    handle: h,
                    verdict,
                    rule: &text,
                };
                lines.push(crate::engine::nft_trace_event_line(v6, 0, &ev));
            }
        }
    }
    lines
}

/// `unconditional(s) && standard target && verdict < 0` in ip_tables.c: a rule without any
/// match whose target is ACCEPT, DROP, QUEUE or RETURN.
fn is_unconditional_verdict(r: &Rule) -> bool {
    let ip = &r.ip;
    ip.src.is_none()
        && ip.dst.is_none()
        && ip.in_iface.is_none()
        && ip.out_iface.is_none()
        && ip.proto.is_none()
        && ip.fragment.is_none()
        && r.matches.is_empty()
        && matches!(
            r.target,
            Target::Accept | Target::Drop | Target::Queue | Target::Return
        )
}

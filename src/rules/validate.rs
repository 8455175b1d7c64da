//! Checks on a whole ruleset that iptables-restore leaves to the kernel (`translate_table` and
//! `mark_source_chains` in net/ipv4/netfilter/ip_tables.c, `xt_check_target`):
//! - a target may only be used in the tables it registers for (DNAT only in nat, ...);
//! - a target may only be reached from the hooks it registers for (DNAT from PREROUTING or
//!   OUTPUT): a user chain is checked against every built-in chain that reaches it; a chain
//!   that no built-in chain reaches is not checked, as the kernel does not check it;
//! - no chain may be re-entered through jumps from a built-in chain (a loop): the kernel
//!   refuses the table ("Too many links").

use std::collections::HashMap;

use super::diag::Diagnostics;
use super::ext::{self, TargetExt};
use super::model::{Hook, Pos, Ruleset, Table, Target};

pub fn validate(ruleset: &Ruleset, source: &str, diags: &mut Diagnostics) {
    let lines: Vec<&str> = source.lines().collect();
    let line_text = |pos: Pos| lines.get(pos.line as usize - 1).copied().unwrap_or("");
    for table in &ruleset.tables {
        let hooks = match reachable_hooks(table) {
            Ok(h) => h,
            Err(loop_path) => {
                let first = &loop_path[0];
                let pos = table.chain(first).map_or(Pos::default(), |c| c.pos);
                diags.push(
                    pos,
                    line_text(pos),
                    format!(
                        "jump loop in the {} table: {} (the kernel refuses loops reachable from a built-in chain)",
                        table.kind,
                        loop_path.join(" -> ")
                    ),
                );
                continue;
            }
        };
        for chain in &table.chains {
            let mask = hooks.get(chain.name.as_str()).copied().unwrap_or(0);
            for rule in &chain.rules {
                let Target::Ext(t) = &rule.target else {
                    continue;
                };
                let Some(info) = target_info(t) else {
                    continue;
                };
                if let Some(tables) = info.tables {
                    if !tables.contains(&table.kind) {
                        let allowed: Vec<&str> = tables.iter().map(|t| t.name()).collect();
                        diags.push(
                            rule.pos,
                            line_text(rule.pos),
                            format!(
                                "target {} is not valid in the {} table (only in: {})",
                                info.name,
                                table.kind,
                                allowed.join(", ")
                            ),
                        );
                        continue;
                    }
                }
                let bad: Vec<&str> = Hook::ALL
                    .iter()
                    .filter(|h| mask & h.bit() != 0 && !info.allows_hook(**h))
                    .map(|h| h.chain_name())
                    .collect();
                if !bad.is_empty() {
                    let allowed: Vec<&str> = Hook::ALL
                        .iter()
                        .filter(|h| info.allows_hook(**h))
                        .map(|h| h.chain_name())
                        .collect();
                    diags.push(
                        rule.pos,
                        line_text(rule.pos),
                        format!(
                            "target {} cannot be reached from {} (chain {} is; it is valid only from {})",
                            info.name,
                            bad.join(", "),
                            chain.name,
                            allowed.join(", ")
                        ),
                    );
                }
            }
        }
    }
}

fn target_info(t: &TargetExt) -> Option<&'static ext::TargetInfo> {
    ext::TARGETS.iter().find(|i| i.name == t.name())
}

/// For each chain, the hooks (as a `Hook::bit` mask) from which some path of jumps and gotos
/// reaches it; or the chain names of a loop.
pub fn reachable_hooks(table: &Table) -> Result<HashMap<&str, u8>, Vec<String>> {
    let mut mask: HashMap<&str, u8> = HashMap::new();
    for chain in table.chains.iter().filter(|c| c.is_builtin()) {
        let Some(hook) = chain.hook else { continue };
        let mut path = Vec::new();
        walk(table, &chain.name, hook.bit(), &mut path, &mut mask)?;
    }
    Ok(mask)
}

fn walk<'t>(
    table: &'t Table,
    name: &'t str,
    bit: u8,
    path: &mut Vec<&'t str>,
    mask: &mut HashMap<&'t str, u8>,
) -> Result<(), Vec<String>> {
    if let Some(i) = path.iter().position(|p| *p == name) {
        let mut cycle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
        cycle.push(name.to_string());
        return Err(cycle);
    }
    let seen = mask.entry(name).or_insert(0);
    if *seen & bit != 0 {
        return Ok(()); // already walked from this hook (and found no loop)
    }
    *seen |= bit;
    let Some(chain) = table.chain(name) else {
        return Ok(());
    };
    path.push(name);
    for rule in &chain.rules {
        if let Some(next) = rule.target.chain() {
            walk(table, next, bit, path, mask)?;
        }
    }
    path.pop();
    Ok(())
}

//! Checks on a whole ruleset that iptables-restore leaves to the kernel (`translate_table` and
//! `mark_source_chains` in net/ipv4/netfilter/ip_tables.c, `xt_check_target`):
//! - a target may only be used in the tables it registers for (DNAT only in nat, ...);
//! - a target may only be reached from the hooks it registers for (DNAT from PREROUTING or
//!   OUTPUT): a user chain is checked against every built-in chain that reaches it; a chain
//!   that no built-in chain reaches is not checked, as the kernel does not check it;
//! - a match may only be reached from the hooks its module and options allow (`-m owner` only
//!   from OUTPUT and POSTROUTING, `-m policy --dir in` not from OUTPUT: [`ext::MatchExt::hooks`]);
//! - no chain may be re-entered through jumps from a built-in chain (a loop): the kernel
//!   refuses the table ("Too many links").

use std::collections::HashMap;

use super::diag::Diagnostics;
use super::ext::{self, MatchExt, TargetExt};
use super::ipset::{self, IpSets};
use super::model::{Backend, Hook, Pos, Ruleset, Table, Target};

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
        for chain in table.chains() {
            let mask = hooks.get(chain.name.as_str()).copied().unwrap_or(0);
            for rule in &chain.rules {
                for m in &rule.matches {
                    let Some(allowed) = m.ext.hooks() else {
                        continue;
                    };
                    let bad = hook_names(mask & !allowed);
                    if !bad.is_empty() {
                        diags.push(
                            m.pos,
                            line_text(m.pos),
                            format!(
                                "match {} cannot be reached from {} (chain {} is; it is valid only from {})",
                                m.ext.name(),
                                bad.join(", "),
                                chain.name,
                                hook_names(allowed).join(", ")
                            ),
                        );
                    }
                }
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
                // The registration's hooks, narrowed by what this instance's options allow
                // (SET --map-prio, TCPMSS --clamp-mss-to-pmtu). The narrowing is the target's
                // checkentry, which sees the hooks only where the kernel tells it: legacy passes
                // every hook that reaches the rule, nft_compat only the hook of a base chain (in
                // a user chain checkentry gets an empty mask, and the later validation checks
                // just the registration's .hooks).
                let value_hooks = match ruleset.backend {
                    Backend::Legacy => t.hooks(),
                    Backend::Nft => t.hooks().filter(|_| chain.is_builtin()),
                };
                let allowed_mask = info.hooks.unwrap_or(0xff) & value_hooks.unwrap_or(0xff);
                let allows = |h: &Hook| allowed_mask & h.bit() != 0;
                let bad: Vec<&str> = Hook::ALL
                    .iter()
                    .filter(|h| mask & h.bit() != 0 && !allows(h))
                    .map(|h| h.chain_name())
                    .collect();
                if !bad.is_empty() {
                    let allowed: Vec<&str> = Hook::ALL
                        .iter()
                        .filter(|h| allows(h))
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

/// The built-in chain names of the hooks in `mask`, in hook order.
fn hook_names(mask: u8) -> Vec<&'static str> {
    Hook::ALL
        .iter()
        .filter(|h| mask & h.bit() != 0)
        .map(|h| h.chain_name())
        .collect()
}

fn target_info(t: &TargetExt) -> Option<&'static ext::TargetInfo> {
    ext::TARGETS.iter().find(|i| i.name == t.name())
}

/// Every set a rule names (`-m set --match-set`, `-j SET --add-set/--del-set/--map-set`) must
/// exist in `sets` and, unless it holds no addresses (list:set, bitmap:port), be of the
/// rule's family: iptables refuses "The protocol family of set X is IPv6, which is not
/// applicable" (measured), and the kernel refuses a set that does not exist.
pub fn validate_set_references(
    ruleset: &Ruleset,
    sets: &IpSets,
    source: &str,
    diags: &mut Diagnostics,
) {
    let lines: Vec<&str> = source.lines().collect();
    let wanted = match ruleset.family {
        super::model::Family::Ipv4 => ipset::Family::Inet,
        super::model::Family::Ipv6 => ipset::Family::Inet6,
    };
    for table in &ruleset.tables {
        for rule in table.chains().iter().flat_map(|c| &c.rules) {
            let mut names: Vec<(&str, Pos)> = Vec::new();
            for m in &rule.matches {
                if let MatchExt::Set(s) = &m.ext {
                    names.push((&s.name, m.pos));
                }
            }
            if let Target::Ext(TargetExt::Set(t)) = &rule.target {
                for r in [&t.add_set, &t.del_set, &t.map_set].into_iter().flatten() {
                    names.push((&r.name, rule.pos));
                }
            }
            for (name, pos) in names {
                let text = lines.get(pos.line as usize - 1).copied().unwrap_or("");
                match sets.get(name) {
                    None => diags.push(pos, text, format!("set `{name}' does not exist in the ipsets file")),
                    Some(set) if set.family != wanted && set.family != ipset::Family::Unspec => {
                        diags.push(pos, text, format!("the protocol family of set {name} is {}, which does not fit this ruleset", set.family.name()))
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

/// For each chain, the hooks (as a `Hook::bit` mask) from which some path of jumps and gotos
/// reaches it; or the chain names of a loop.
pub fn reachable_hooks(table: &Table) -> Result<HashMap<&str, u8>, Vec<String>> {
    let mut mask: HashMap<&str, u8> = HashMap::new();
    for chain in table.chains().iter().filter(|c| c.is_builtin()) {
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

#[cfg(test)]
mod tests {
    use crate::rules::model::{Backend, Family};
    use crate::rules::parse::{parse_ruleset, ParseOptions};

    fn accepted(backend: Backend, text: &str) -> bool {
        let opts = ParseOptions {
            family: Family::Ipv4,
            backend,
        };
        parse_ruleset(text, "test.rules", opts).is_ok()
    }

    /// Seen on Linux 6.18: iptables-nft-restore accepts TCPMSS --clamp-mss-to-pmtu in a user
    /// chain jumped to from PREROUTING but not in PREROUTING itself; iptables-legacy-restore
    /// refuses both. A registration's .hooks (CLASSIFY) hold through jumps in both.
    #[test]
    fn value_hook_limits_follow_the_backend() {
        let direct = "*mangle\n-A PREROUTING -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n";
        let jumped = "*mangle\n:X - [0:0]\n-A PREROUTING -j X\n\
                      -A X -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n";
        let classify =
            "*filter\n:Z - [0:0]\n-A INPUT -j Z\n-A Z -j CLASSIFY --set-class 1:1\nCOMMIT\n";
        assert!(!accepted(Backend::Nft, direct));
        assert!(accepted(Backend::Nft, jumped));
        assert!(!accepted(Backend::Legacy, direct));
        assert!(!accepted(Backend::Legacy, jumped));
        assert!(!accepted(Backend::Nft, classify));
    }
}

//! The chain walk of one table for one packet (`ipt_do_table` in
//! net/ipv4/netfilter/ip_tables.c, and the same control flow in nf_tables' chain jumps).

use crate::rules::ext::TargetExt;
use crate::rules::{Counters, Rule, Table, Target};

/// The final answer of a table for a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
    /// Handed to userspace (QUEUE, NFQUEUE); what happens next is the replay's policy.
    Queue,
}

/// What decided a verdict: a rule (by chain and rule index in the table), or a built-in
/// chain's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecidedBy {
    Rule {
        chain: usize,
        rule: usize,
    },
    Policy {
        chain: usize,
    },
    /// A match of this rule could not read the header it needs and dropped the packet
    /// (`par->hotdrop`): the rule does not count it and the walk ends.
    HotDrop {
        chain: usize,
        rule: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub by: DecidedBy,
}

/// What a target extension does with the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetAction {
    /// Non-terminating (MARK, LOG, CONNMARK, ...): go on with the next rule.
    Continue,
    /// Terminating: DNAT/SNAT/MASQUERADE accept, REJECT drops (and answers), ...
    Verdict(Verdict),
}

/// The packet as the walk needs it: whether a rule's matches hold, and what a target does.
/// Implementations evaluate against the packet, the host model and conntrack; they may
/// change the packet (a target rewriting it, a mark set) as the walk goes.
pub trait Packet {
    /// Whether the rule's address, interface, protocol, fragment and extension matches all
    /// hold for the packet now.
    fn matches(&mut self, rule: &Rule) -> bool;
    /// Apply a target extension.
    fn target(&mut self, target: &TargetExt) -> TargetAction;
    /// The packet's length as counters count it (IP total length, NETFILTER.md §5).
    fn counted_len(&self) -> u64;
    /// Told of every rule the walk evaluates and whether it matched (for traces); the
    /// default ignores it.
    fn visited(&mut self, _chain: usize, _rule: usize, _matched: bool) {}
    /// Told when the walk reaches the end of `chain` (the implicit return of a user chain,
    /// or the policy of the built-in chain, also after a RETURN there); the default ignores
    /// it.
    fn fell_off(&mut self, _chain: usize) {}
    /// Whether the last `matches` ended because a match hot-dropped the packet; the
    /// default never does.
    fn hot_dropped(&self) -> bool {
        false
    }
}

/// Counters of one table: per chain (in the table's order) the policy counters and one
/// counter per rule. Plain data, merged with `+=` across workers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub policy: Vec<Counters>,
    pub rules: Vec<Vec<Counters>>,
}

impl Counts {
    /// Zero counters shaped like `table`.
    pub fn new(table: &Table) -> Counts {
        Counts {
            policy: vec![Counters::ZERO; table.chains().len()],
            rules: table
                .chains()
                .iter()
                .map(|c| vec![Counters::ZERO; c.rules.len()])
                .collect(),
        }
    }
}

impl std::ops::AddAssign<&Counts> for Counts {
    fn add_assign(&mut self, other: &Counts) {
        for (a, b) in self.policy.iter_mut().zip(&other.policy) {
            *a += *b;
        }
        for (ra, rb) in self.rules.iter_mut().zip(&other.rules) {
            for (a, b) in ra.iter_mut().zip(rb) {
                *a += *b;
            }
        }
    }
}

/// Walks `table` from its built-in chain at index `start` for `packet`, counting into
/// `counts` (shaped by [`Counts::new`] for this table).
pub fn walk(table: &Table, start: usize, packet: &mut dyn Packet, counts: &mut Counts) -> Decision {
    let chains = table.chains();
    // Each counter takes the packet's length when it is reached (ipt_do_table adds
    // skb->len per rule; nft's counters read it too): a target that continues may have
    // changed it (TCPMSS adding an MSS option).
    let mut len = packet.counted_len();
    let mut one = Counters::new(1, len);
    // Return points: (chain, next rule). `-g` replaces the current chain without pushing.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let (mut chain, mut rule) = (start, 0usize);
    loop {
        let Some(r) = chains[chain].rules.get(rule) else {
            // Off the end: a user chain returns; a built-in chain applies its policy.
            packet.fell_off(chain);
            match stack.pop() {
                Some((c, n)) => {
                    (chain, rule) = (c, n);
                    continue;
                }
                None => return policy(table, start, len, counts),
            }
        };
        let matched = packet.matches(r);
        packet.visited(chain, rule, matched);
        if !matched {
            // ipt_do_table: `while (!acpar.hotdrop)` ends the walk with NF_DROP, uncounted.
            if packet.hot_dropped() {
                return Decision {
                    verdict: Verdict::Drop,
                    by: DecidedBy::HotDrop { chain, rule },
                };
            }
            rule += 1;
            continue;
        }
        counts.rules[chain][rule] += one;
        let here = DecidedBy::Rule { chain, rule };
        let decided = |verdict| Decision { verdict, by: here };
        match &r.target {
            Target::None => rule += 1,
            Target::Accept => return decided(Verdict::Accept),
            Target::Drop => return decided(Verdict::Drop),
            Target::Queue => return decided(Verdict::Queue),
            Target::Return => match stack.pop() {
                Some((c, n)) => (chain, rule) = (c, n),
                None => {
                    packet.fell_off(start);
                    return policy(table, start, len, counts);
                }
            },
            Target::Jump(name) | Target::Goto(name) => {
                let Some(next) = table.chain_index(name) else {
                    // A validated ruleset has no dangling jump; treat one like a rule
                    // without target rather than panic.
                    rule += 1;
                    continue;
                };
                if matches!(r.target, Target::Jump(_)) {
                    stack.push((chain, rule + 1));
                }
                (chain, rule) = (next, 0);
            }
            Target::Ext(t) => match packet.target(t) {
                TargetAction::Continue => {
                    len = packet.counted_len();
                    one = Counters::new(1, len);
                    rule += 1;
                }
                TargetAction::Verdict(v) => return decided(v),
            },
        }
    }
}

/// The built-in chain's policy decides; its counter grows.
fn policy(table: &Table, start: usize, len: u64, counts: &mut Counts) -> Decision {
    counts.policy[start] += Counters::new(1, len);
    let verdict = match table.chains()[start].policy {
        crate::rules::Policy::Accept => Verdict::Accept,
        crate::rules::Policy::Drop => Verdict::Drop,
    };
    Decision {
        verdict,
        by: DecidedBy::Policy { chain: start },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse::{parse_ruleset, ParseOptions};
    use crate::rules::{Ruleset, TableKind};

    /// A packet that matches rules carrying a comment equal to its tag (or rules without
    /// matches); MARK continues, other targets accept.
    struct Tagged(&'static str);

    impl Packet for Tagged {
        fn matches(&mut self, rule: &Rule) -> bool {
            rule.matches.iter().all(|m| match &m.ext {
                crate::rules::ext::MatchExt::Comment(c) => c.text == self.0,
                _ => false,
            })
        }
        fn target(&mut self, t: &TargetExt) -> TargetAction {
            match t.name() {
                "MARK" => TargetAction::Continue,
                _ => TargetAction::Verdict(Verdict::Accept),
            }
        }
        fn counted_len(&self) -> u64 {
            100
        }
    }

    fn ruleset(text: &str) -> Ruleset {
        parse_ruleset(text, "t", ParseOptions::default()).unwrap_or_else(|d| panic!("{d}"))
    }

    fn run(rs: &Ruleset, tag: &'static str) -> (Decision, Counts) {
        let table = rs.table(TableKind::Filter).expect("filter table");
        let start = table.chain_index("INPUT").expect("INPUT");
        let mut counts = Counts::new(table);
        let d = walk(table, start, &mut Tagged(tag), &mut counts);
        (d, counts)
    }

    #[test]
    fn counters_policy_and_return_points_follow_the_kernel() {
        // NETFILTER.md §5: rules without target count; a jump counts every packet it sends;
        // falling off a user chain returns; falling off INPUT applies the policy.
        let rs = ruleset(
            "*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n\
             -A INPUT\n-A INPUT -j A\n-A INPUT -m comment --comment x -j ACCEPT\n\
             -A A -m comment --comment y -j RETURN\n-A A\nCOMMIT\n",
        );
        let table = rs.table(TableKind::Filter).expect("filter");
        let a = table.chain_index("A").expect("A");
        let input = table.chain_index("INPUT").expect("INPUT");

        let (d, c) = run(&rs, "x");
        assert_eq!(
            d.by,
            DecidedBy::Rule {
                chain: input,
                rule: 2
            }
        );
        assert_eq!(d.verdict, Verdict::Accept);
        assert_eq!(c.rules[input], [Counters::new(1, 100); 3]);
        assert_eq!(c.rules[a], [Counters::ZERO, Counters::new(1, 100)]);
        assert_eq!(c.policy[input], Counters::ZERO);

        let (d, c) = run(&rs, "y");
        assert_eq!(
            d,
            Decision {
                verdict: Verdict::Drop,
                by: DecidedBy::Policy { chain: input }
            }
        );
        assert_eq!(c.rules[a], [Counters::new(1, 100), Counters::ZERO]);
        assert_eq!(c.policy[input], Counters::new(1, 100));
    }

    #[test]
    fn return_after_goto_resumes_after_the_last_jump() {
        // INPUT -j A; A -g B; B RETURN → back after INPUT's jump, not into A.
        let rs = ruleset(
            "*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n\
             -A INPUT -j A\n-A INPUT -m comment --comment z -j DROP\n\
             -A A -g B\n-A A -m comment --comment z -j ACCEPT\n-A B -j RETURN\nCOMMIT\n",
        );
        let (d, _) = run(&rs, "z");
        let table = rs.table(TableKind::Filter).expect("filter");
        let input = table.chain_index("INPUT").expect("INPUT");
        assert_eq!(
            d,
            Decision {
                verdict: Verdict::Drop,
                by: DecidedBy::Rule {
                    chain: input,
                    rule: 1
                }
            }
        );
        // With no jump before the goto, RETURN ends the built-in chain: the policy decides.
        let rs = ruleset(
            "*filter\n:INPUT DROP [0:0]\n:B - [0:0]\n-A INPUT -g B\n\
             -A INPUT -j ACCEPT\n-A B -j RETURN\nCOMMIT\n",
        );
        let (d, c) = run(&rs, "");
        assert_eq!(d.verdict, Verdict::Drop);
        assert!(matches!(d.by, DecidedBy::Policy { .. }));
        assert_eq!(c.policy[0], Counters::new(1, 100));
    }

    #[test]
    fn non_terminating_targets_count_and_continue() {
        let rs = ruleset(
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -j MARK --set-mark 1\n-A INPUT -j ACCEPT\nCOMMIT\n",
        );
        let (d, c) = run(&rs, "");
        assert_eq!(d.verdict, Verdict::Accept);
        assert_eq!(c.rules[0], [Counters::new(1, 100); 2]);
    }

    /// A packet that grows by 4 bytes at every target that continues (as TCPMSS adding an
    /// MSS option does).
    struct Growing(u64);

    impl Packet for Growing {
        fn matches(&mut self, _rule: &Rule) -> bool {
            true
        }
        fn target(&mut self, _t: &TargetExt) -> TargetAction {
            self.0 += 4;
            TargetAction::Continue
        }
        fn counted_len(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn counters_after_a_mangling_target_take_the_new_length() {
        let rs = ruleset(
            "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j MARK --set-mark 1\n-A INPUT\nCOMMIT\n",
        );
        let table = rs.table(TableKind::Filter).expect("filter table");
        let mut counts = Counts::new(table);
        walk(table, 0, &mut Growing(100), &mut counts);
        assert_eq!(
            counts.rules[0],
            [Counters::new(1, 100), Counters::new(1, 104)]
        );
        assert_eq!(counts.policy[0], Counters::new(1, 104));
    }
}

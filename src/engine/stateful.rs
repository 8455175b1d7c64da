//! Matches and targets whose answer depends on what earlier packets did: `-m statistic`,
//! `-m limit`, `-m hashlimit`, `-m recent`, `-m quota`, `-m connlimit`, `-m connbytes`,
//! `-m set` and `-j SET`, `-m nfacct`. Their state lives here, keyed by match (its address in
//! the immutable ruleset) or by name for the tables several rules share, and advances with
//! capture time, never the wall clock. Time-driven state counts in jiffies of this kernel
//! (HZ 250) where the kernel does (xt_limit, xt_recent, xt_hashlimit, ipset timeouts), in
//! nanoseconds where it does (nft's `limit`).
//!
//! iptables-nft hands some of these to nft expressions of its own, and the kernel then runs
//! nft code, not the xt match (measured with `nft list ruleset`): `statistic` becomes
//! `numgen inc mod N == P` or `meta random`, `quota` becomes nft `quota`, `limit` nft
//! `limit`, `connbytes` `ct packets|bytes|avgpkt`. Where the two differ (only `limit`, of
//! those) the ruleset's backend decides.
//!
//! Randomness (`--mode random`) is drawn from the replay's seed, the packet's ordinal and
//! the ordinal of the draw within that packet, so a replay is reproducible.
//!
//! Call [`MatchState::prepare`] with the ruleset before the first packet: it does what the
//! kernel's check functions do when the rules are loaded (the backend; recent and
//! hashlimit tables get their configuration from the first rule naming them, recent rings
//! their size from all). Without it, state is set up when a rule is first evaluated, which
//! is the same unless rules sharing a table disagree (then the match is reported).
//!
//! Anything the kernel's answer depends on that the replay cannot know is reported as an
//! error for the packet rather than guessed (see each submodule).
mod connlimit;
mod hashlimit;
mod limit;
mod recent;
mod sets;
mod statistic;

use std::collections::HashMap;

use crate::engine::ct::CtView;
use crate::rules::ext::{MatchExt, TargetExt};
use crate::rules::ipset::IpSets;
use crate::rules::Ruleset;
use crate::wire::ip::IpInfo;

pub use recent::{jiffies, HZ};

/// Identifies a rule for per-rule state: its address in the (immutable) ruleset.
pub type RuleKey = usize;

/// Looks a connection up by one of its tuples: `None` when no live confirmed connection has
/// it, else whether it is closing (TCP TIME_WAIT or CLOSE), for `-m connlimit`.
pub type ConnLookup<'a> = dyn Fn(&crate::engine::ct::CtTuple) -> Option<bool> + 'a;

/// What a stateful match may read of the packet besides its own state.
pub struct Facts<'a> {
    /// The packet from its IP header.
    pub bytes: &'a [u8],
    pub info: &'a IpInfo,
    /// Capture time of the packet, in nanoseconds.
    pub now_ns: i64,
    /// Ordinal of the packet in the replay (0 for the first packet read).
    pub packet_index: u64,
    pub ct: Option<&'a CtView>,
    pub in_iface: Option<&'a str>,
    pub out_iface: Option<&'a str>,
    /// The connection table, for `-m connlimit`: given a tuple (either direction), `None`
    /// when no confirmed entry has it, `Some(closed)` otherwise, `closed` being TCP in
    /// TIME_WAIT or CLOSE (nf_conncount's `already_closed`). `None` here: connlimit is
    /// reported as not evaluable.
    pub conns: Option<&'a ConnLookup<'a>>,
}

impl Facts<'_> {
    /// The packet passes an output device without having been made here (FORWARD,
    /// POSTROUTING of a forwarded packet): what xt_recent takes for "before forwarding".
    /// A packet with no input device is taken as the host's own.
    fn forwarded(&self) -> bool {
        self.out_iface.is_some() && self.in_iface.is_some()
    }
}

/// Per-match state, keyed by the match's address.
type MatchKey = usize;

fn key(m: &MatchExt) -> MatchKey {
    m as *const MatchExt as usize
}

/// The state of every stateful match and target of a replay.
pub struct MatchState {
    seed: u64,
    ipsets: IpSets,
    /// `-m statistic --mode nth` counters.
    nth: HashMap<MatchKey, u32>,
    /// The packet the last random draw was for, and how many draws it has had.
    draws: (u64, u64),
    recent: recent::Tables,
    /// `-m quota`: bytes left.
    quota: HashMap<MatchKey, u64>,
    /// `-m limit` buckets.
    limit: HashMap<MatchKey, limit::Bucket>,
    /// The rules were loaded by iptables-nft (the default), which turns some matches into
    /// nft expressions of their own (`limit`).
    nft: bool,
    hashlimit: hashlimit::Tables,
    connlimit: connlimit::Lists,
    /// Expiry of ipset elements with timeouts.
    timeouts: sets::Timeouts,
}

impl MatchState {
    pub fn new(seed: u64, ipsets: IpSets) -> MatchState {
        MatchState {
            seed,
            ipsets,
            nth: HashMap::new(),
            draws: (u64::MAX, 0),
            recent: recent::Tables::default(),
            quota: HashMap::new(),
            limit: HashMap::new(),
            nft: true,
            timeouts: sets::Timeouts::default(),
            hashlimit: hashlimit::Tables::default(),
            connlimit: connlimit::Lists::default(),
        }
    }

    /// What the kernel's check functions do when `ruleset` is loaded, in load order (tables
    /// as declared, rules in order): the backend decides how `-m limit` runs; recent tables
    /// take the first rule's mask and the largest ring any of their rules asks for;
    /// hashlimit tables the first rule's configuration. `Stack::new` calls it.
    pub fn prepare(&mut self, ruleset: &Ruleset) {
        self.nft = ruleset.backend == crate::rules::Backend::Nft;
        for table in &ruleset.tables {
            for chain in table.chains() {
                for rule in &chain.rules {
                    for m in &rule.matches {
                        match &m.ext {
                            MatchExt::Recent(r) => self.recent.register(r),
                            MatchExt::Hashlimit(h) => self
                                .hashlimit
                                .register(h, ruleset.family == crate::rules::Family::Ipv6),
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    /// Drops the ipset elements whose timeout has passed at `now_ns` (elements only expire
    /// when a packet touches a set; call this before saving the sets at the end).
    pub fn expire_sets(&mut self, now_ns: i64) {
        self.timeouts.expire(&mut self.ipsets, jiffies(now_ns));
    }

    /// The ipsets as the replay has changed them.
    pub fn ipsets(&self) -> &IpSets {
        &self.ipsets
    }

    /// The addresses a recent table holds, least recently updated first.
    pub fn recent_addresses(&self, name: &str) -> Vec<std::net::IpAddr> {
        self.recent.addresses(name)
    }

    /// A 32-bit random number for `packet_index`'s next draw (`get_random_u32`).
    fn random_u32(&mut self, packet_index: u64) -> u32 {
        if self.draws.0 != packet_index {
            self.draws = (packet_index, 0);
        }
        let n = self.draws.1;
        self.draws.1 += 1;
        let x = statistic::mix(self.seed ^ statistic::mix(packet_index) ^ statistic::mix(!n));
        (x >> 32) as u32
    }

    /// Evaluates a stateful match: `None` when `m` is not one of this module's, `Some(Err)`
    /// when it cannot be evaluated (saying why).
    pub fn eval_match(
        &mut self,
        _rule: RuleKey,
        m: &MatchExt,
        facts: &Facts,
    ) -> Option<Result<bool, String>> {
        let answer = match m {
            MatchExt::Statistic(s) => Ok(match s.mode {
                crate::rules::ext::StatisticMode::Nth { every, packet } => {
                    let count = self.nth.entry(key(m)).or_insert(0);
                    statistic::nth(count, every, packet) != s.invert
                }
                crate::rules::ext::StatisticMode::Random { probability } => {
                    let r = self.random_u32(facts.packet_index);
                    statistic::random(r, probability) != s.invert
                }
            }),
            MatchExt::Recent(r) => self.recent.eval(
                r,
                &recent::Seen {
                    src: facts.info.src,
                    dst: facts.info.dst,
                    ttl: facts.info.ttl,
                    forwarded: facts.forwarded(),
                    now_ns: facts.now_ns,
                },
            ),
            MatchExt::Quota(q) => {
                let left = self.quota.entry(key(m)).or_insert(q.quota);
                Ok(quota(left, u64::from(facts.info.total_len)) != q.invert)
            }
            // nfacct_mt: counts into the object and matches unless the object has a quota
            // it is still under; objects come from `nfacct add`, outside the ruleset, and
            // are taken to have none.
            MatchExt::Nfacct(_) => Ok(true),
            MatchExt::Limit(l) => self.limit(key(m), l, facts.now_ns),
            MatchExt::Connbytes(c) => match facts.ct {
                Some(ct) => Ok(connbytes(c, ct)),
                None => Err("match `connbytes' needs conntrack".into()),
            },
            MatchExt::Hashlimit(h) => self.hashlimit.eval(h, facts),
            MatchExt::Connlimit(c) => self.connlimit.eval(key(m), c, facts, facts.conns),
            MatchExt::Set(set) => sets::test(&mut self.ipsets, &mut self.timeouts, set, facts),
            _ => return None,
        };
        Some(answer)
    }

    /// `-m limit`: the rule's bucket, made full when the rule first sees a packet.
    fn limit(
        &mut self,
        k: MatchKey,
        l: &crate::rules::ext::Limit,
        now_ns: i64,
    ) -> Result<bool, String> {
        let bucket = match self.limit.entry(k) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(limit::Bucket::new(l, self.nft, now_ns)?)
            }
        };
        bucket.admit(l, now_ns)
    }

    /// Applies a stateful target (`-j SET`): `None` when `t` is not one of this module's.
    pub fn eval_target(
        &mut self,
        _rule: RuleKey,
        t: &TargetExt,
        facts: &Facts,
    ) -> Option<Result<(), String>> {
        match t {
            TargetExt::Set(s) => Some(sets::target(&mut self.ipsets, &mut self.timeouts, s, facts)),
            _ => None,
        }
    }
}

/// quota_mt (xt_quota.c): the packet's length (`skb->len`, the IP length) comes off what
/// is left if it fits; a packet that does not fit empties the quota, so no later packet,
/// however small, matches.
fn quota(left: &mut u64, len: u64) -> bool {
    if *left >= len {
        *left -= len;
        true
    } else {
        *left = 0;
        false
    }
}

/// connbytes_mt (xt_connbytes.c), and the `ct [original|reply] packets|bytes|avgpkt`
/// expression iptables-nft makes of it (nft_ct.c), which reads the same counters: the
/// connection's accounting, which already counts the packet being filtered. No entry
/// (INVALID, UNTRACKED): no match. `from > to` is the negated range.
fn connbytes(c: &crate::rules::ext::Connbytes, ct: &CtView) -> bool {
    use crate::rules::ext::{ConnbytesDir, ConnbytesWhat};
    let Some(conn) = &ct.conn else {
        return false;
    };
    let pick = |v: [u64; 2]| match c.direction {
        ConnbytesDir::Original => v[0],
        ConnbytesDir::Reply => v[1],
        ConnbytesDir::Both => v[0].wrapping_add(v[1]),
    };
    let what = match c.what {
        ConnbytesWhat::Packets => pick(conn.packets),
        ConnbytesWhat::Bytes => pick(conn.bytes),
        ConnbytesWhat::AvgPkt => pick(conn.bytes)
            .checked_div(pick(conn.packets))
            .unwrap_or(0),
    };
    if c.to >= c.from {
        c.from <= what && what <= c.to
    } else {
        what < c.to || what > c.from
    }
}

#[cfg(test)]
mod tests;

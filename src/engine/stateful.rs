//! Matches and targets whose answer depends on what earlier packets did: `-m statistic`,
//! `-m limit`, `-m hashlimit`, `-m recent`, `-m quota`, `-m connlimit`, `-m connbytes`,
//! `-m set` and `-j SET`, `-m nfacct`. Their state lives here, keyed by rule (or by name for
//! the tables several rules share), and advances with capture time, never the wall clock.
//!
//! Randomness (`--mode random`) is drawn from the replay's seed and the packet, so a replay
//! is reproducible.

use crate::engine::ct::CtView;
use crate::rules::ext::{MatchExt, TargetExt};
use crate::rules::ipset::IpSets;
use crate::wire::ip::IpInfo;

/// Identifies a rule for per-rule state: its address in the (immutable) ruleset.
pub type RuleKey = usize;

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
}

/// The state of every stateful match and target of a replay.
pub struct MatchState {
    seed: u64,
    ipsets: IpSets,
}

impl MatchState {
    pub fn new(seed: u64, ipsets: IpSets) -> MatchState {
        MatchState { seed, ipsets }
    }

    /// The ipsets as the replay has changed them.
    pub fn ipsets(&self) -> &IpSets {
        &self.ipsets
    }

    /// Evaluates a stateful match: `None` when `m` is not one of this module's, `Some(Err)`
    /// when it cannot be evaluated (saying why).
    pub fn eval_match(
        &mut self,
        _rule: RuleKey,
        m: &MatchExt,
        _facts: &Facts,
    ) -> Option<Result<bool, String>> {
        let _ = self.seed;
        match m {
            MatchExt::Statistic(_)
            | MatchExt::Limit(_)
            | MatchExt::Hashlimit(_)
            | MatchExt::Recent(_)
            | MatchExt::Quota(_)
            | MatchExt::Connlimit(_)
            | MatchExt::Connbytes(_)
            | MatchExt::Set(_)
            | MatchExt::Nfacct(_) => {
                Some(Err(format!("match `{}' is not evaluated yet", m.name())))
            }
            _ => None,
        }
    }

    /// Applies a stateful target (`-j SET`): `None` when `t` is not one of this module's.
    pub fn eval_target(
        &mut self,
        _rule: RuleKey,
        t: &TargetExt,
        _facts: &Facts,
    ) -> Option<Result<(), String>> {
        match t {
            TargetExt::Set(_) => Some(Err("target `SET' is not evaluated yet".into())),
            _ => None,
        }
    }
}

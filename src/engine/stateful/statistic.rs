//! `-m statistic` (xt_statistic.c, statistic_mt).

use crate::rules::ext::Probability;

/// `--mode nth`: the rule's `k`-th packet (from 0) matches when `k mod (every + 1)` is
/// `--packet`. Measured on both backends: iptables-legacy's xt_statistic starts its counter
/// at `every - packet` (libxt_statistic) and matches when it wraps to 0; iptables-nft makes
/// `numgen inc mod N == P`, whose first value is 0. `count` is `k mod (every + 1)`.
pub fn nth(count: &mut u32, every: u32, packet: u32) -> bool {
    let hit = *count == packet;
    *count = if *count == every { 0 } else { *count + 1 };
    hit
}

/// `--mode random`: `(get_random_u32() & 0x7FFFFFFF) < probability`.
pub fn random(r: u32, p: Probability) -> bool {
    (r & 0x7FFF_FFFF) < p.0
}

/// SplitMix64's finaliser: spreads seed, packet and draw ordinals over all bits.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

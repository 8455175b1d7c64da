//! `-m statistic` (xt_statistic.c, statistic_mt).

use crate::rules::ext::Probability;

/// `--mode nth`: the rule's counter steps to 0 after reaching `every` (`--every` less one);
/// the packet that brings it to 0 matches. statistic_mt_check starts it at the `count` that
/// iptables hands over, `every - packet`: so `--every N --packet P` matches packet P + 1
/// first (measured: `--every 4 --packet 0` matches the 1st, 5th, 9th packet; `--packet 3`
/// the 4th and 8th), on both backends.
pub fn nth(count: &mut u32, every: u32) -> bool {
    *count = if *count == every { 0 } else { *count + 1 };
    *count == 0
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

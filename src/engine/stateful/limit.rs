//! `-m limit`: one token bucket per rule. What the kernel runs depends on the iptables
//! variant that loaded the rule:
//! - iptables-nft turns it into nft's own `limit rate R/unit burst B packets` (nft_limit.c,
//!   `nft_limit_eval`): tokens in nanoseconds, each packet costing `unit / R`, at most
//!   `B` packets' worth; a packet that finds too few tokens does not match and takes none.
//! - iptables-legacy keeps xt_limit (xt_limit.c, `limit_mt`): credits per jiffy
//!   (`CREDITS_PER_JIFFY`, 128 at HZ 250), in 32-bit arithmetic.
//!
//! Both start full: the rule was loaded before the first packet arrived, and the bucket
//! fills to its cap by then (measured: a quick burst matches exactly `--limit-burst`
//! packets on either variant).

use crate::rules::ext::Limit;

use super::recent::{jiffies, HZ};

/// `CREDITS_PER_JIFFY`: the largest power of two below `0xFFFFFFFF / (HZ*60*60*24)`.
const CREDITS_PER_JIFFY: u32 = {
    let max = 0xFFFF_FFFFu32 / (HZ as u32 * 60 * 60 * 24);
    let mut p = 1u32;
    while p * 2 <= max {
        p *= 2;
    }
    p
};

/// `XT_LIMIT_SCALE`.
const LIMIT_SCALE: u32 = 10_000;
/// nft_limit's burst when none is given (`NFT_LIMIT_PKT_BURST_DEFAULT`).
const NFT_BURST_DEFAULT: u64 = 5;

/// One rule's bucket.
#[derive(Clone, Debug)]
pub enum Bucket {
    Nft { tokens: u64, last_ns: i64 },
    Xt { credit: u32, prev: i64 },
}

/// nft_limit_init: `(cost, tokens_max)` in nanoseconds.
fn nft_params(l: &Limit) -> Option<(u64, u64)> {
    let nsecs = l.unit.checked_mul(1_000_000_000)?;
    let cost = nsecs.checked_div(l.rate)?;
    let burst = if l.burst == 0 {
        NFT_BURST_DEFAULT
    } else {
        u64::from(l.burst)
    };
    Some((cost, cost.checked_mul(burst)?))
}

/// `user2credits`, in xt_limit's 32-bit arithmetic.
fn user2credits(user: u32) -> u32 {
    let hz_cpj = HZ as u32 * CREDITS_PER_JIFFY;
    if user > u32::MAX / hz_cpj {
        (user / LIMIT_SCALE) * hz_cpj
    } else {
        (user * hz_cpj) / LIMIT_SCALE
    }
}

/// limit_mt_check: `(cost, credit_cap)`.
fn xt_params(l: &Limit) -> Result<(u32, u32), String> {
    let avg =
        u32::try_from(l.avg()).map_err(|_| "limit: rate too slow for xt_limit".to_string())?;
    let cap = user2credits(avg.wrapping_mul(l.burst));
    let cost = user2credits(avg);
    if l.burst == 0 || cap < cost {
        return Err("limit: xt_limit refuses this rate and burst".into());
    }
    Ok((cost, cap))
}

impl Bucket {
    /// The bucket as the rule's check function leaves it, full, seen at `now_ns`.
    pub fn new(l: &Limit, nft: bool, now_ns: i64) -> Result<Bucket, String> {
        if nft {
            let (_, max) = nft_params(l).ok_or("limit: nft_limit refuses this rate")?;
            Ok(Bucket::Nft {
                tokens: max,
                last_ns: now_ns,
            })
        } else {
            let (_, cap) = xt_params(l)?;
            Ok(Bucket::Xt {
                credit: cap,
                prev: jiffies(now_ns),
            })
        }
    }

    /// Whether the packet at `now_ns` is within the limit, taking its cost if it is.
    pub fn admit(&mut self, l: &Limit, now_ns: i64) -> Result<bool, String> {
        match self {
            Bucket::Nft { tokens, last_ns } => {
                let (cost, max) = nft_params(l).ok_or("limit: nft_limit refuses this rate")?;
                let elapsed = u64::try_from(now_ns - *last_ns).unwrap_or(0);
                let t = tokens.saturating_add(elapsed).min(max);
                *last_ns = now_ns;
                if t >= cost {
                    *tokens = t - cost;
                    Ok(true)
                } else {
                    *tokens = t;
                    Ok(false)
                }
            }
            Bucket::Xt { credit, prev } => {
                let (cost, cap) = xt_params(l)?;
                let now = jiffies(now_ns);
                // Jiffies are an unsigned long; a capture going back in time is not modelled.
                let gone = u32::try_from(now - *prev)
                    .map_err(|_| "limit: capture time went backwards".to_string())?;
                *prev = now;
                let mut c = credit.wrapping_add(gone.wrapping_mul(CREDITS_PER_JIFFY));
                if c > cap {
                    c = cap;
                }
                let ok = c >= cost;
                *credit = if ok { c - cost } else { c };
                Ok(ok)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(rate: u64, unit: u64, burst: u32) -> Limit {
        Limit { rate, unit, burst }
    }

    const MS: i64 = 1_000_000;

    #[test]
    fn credits_per_jiffy_at_hz_250() {
        assert_eq!(CREDITS_PER_JIFFY, 128);
    }

    #[test]
    fn burst_then_refill_on_both_variants() {
        for nft in [true, false] {
            let l = limit(10, 1, 3);
            let mut b = Bucket::new(&l, nft, 0).expect("bucket");
            let quick: Vec<bool> = (0..5).map(|i| b.admit(&l, i * MS).expect("ok")).collect();
            assert_eq!(quick, [true, true, true, false, false], "nft {nft}");
            // 100 ms later one packet's worth is back, not two.
            assert!(b.admit(&l, 104 * MS).expect("ok"), "nft {nft}");
            assert!(!b.admit(&l, 105 * MS).expect("ok"), "nft {nft}");
            // Long idle: full again, but never more than the burst.
            let later: Vec<bool> = (0..4)
                .map(|i| b.admit(&l, 10_000 * MS + i * MS).expect("ok"))
                .collect();
            assert_eq!(later, [true, true, true, false], "nft {nft}");
        }
    }

    #[test]
    fn nft_rejected_packets_take_no_tokens() {
        let l = limit(1, 1, 1);
        let mut b = Bucket::new(&l, true, 0).expect("bucket");
        assert!(b.admit(&l, 0).expect("ok"));
        assert!(!b.admit(&l, 500 * MS).expect("ok"));
        assert!(!b.admit(&l, 999 * MS).expect("ok"));
        assert!(b.admit(&l, 1000 * MS).expect("ok"));
    }
}

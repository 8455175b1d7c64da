//! `-m hashlimit` (xt_hashlimit.c, revision 3, `hashlimit_mt_common`): a token bucket per
//! group of packets, the group being the masked addresses and ports the mode names.
//!
//! What the kernel does, mirrored here:
//! - the table is named and shared (per family) by every rule naming it; it keeps the
//!   configuration of the first rule loaded (`htable_find_get` in the check function);
//! - a new group starts with a full bucket (`rateinfo_init`); an existing one gains
//!   `CREDITS_PER_JIFFY` (2^39 at HZ 250) per jiffy since it was last seen, up to the cap
//!   (`rateinfo_recalc`); in byte mode the cost is the packet's 16-byte chunks times the
//!   rate's cost, and a packet that finds too little credit spends one of the burst's
//!   refills (`hashlimit_byte_cost`);
//! - every packet moves the group's expiry to `now + expire`; the garbage collector,
//!   every `gcinterval` ms at a phase the replay cannot know, removes expired groups, and
//!   a removed group starts again full. Where that makes a difference (the group expired,
//!   the collector may or may not have run, and its refilled bucket is not yet full) the
//!   packet is reported as not evaluable;
//! - the table holds at most `max` groups (8 × 8192 by default on hosts with over 1 GiB of
//!   memory); a packet that needs one more is dropped (hotdrop), reported likewise.
//!
//! Rate-match mode (`--hashlimit-rate-match`) is not modelled.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::rules::ext::{Hashlimit, HashlimitMode as Mode};

use super::recent::{jiffies, HZ};
use super::Facts;

/// `CREDITS_PER_JIFFY` of xt_hashlimit (revision 2 on): the largest power of two below
/// `2^64 / (HZ*60*60*24)`.
const CPJ: u64 = {
    let max = u64::MAX / (HZ as u64 * 60 * 60 * 24);
    let mut p = 1u64;
    while p * 2 <= max {
        p *= 2;
    }
    p
};
/// `CREDITS_PER_JIFFY_BYTES`: the largest power of two below `0xFFFFFFFF / HZ`.
const CPJ_BYTES: u64 = {
    let max = 0xFFFF_FFFFu64 / HZ as u64;
    let mut p = 1u64;
    while p * 2 <= max {
        p *= 2;
    }
    p
};
/// `XT_HASHLIMIT_SCALE_v2`.
const SCALE: u64 = 1_000_000;
/// The table size on a host with more than 1 GiB of memory (`htable_create`).
const DEFAULT_SIZE: u64 = 8192;

/// `user2credits` (revision 2 on).
fn user2credits(user: u64) -> u64 {
    let hz_cpj = HZ as u64 * CPJ;
    if SCALE >= hz_cpj {
        user / (SCALE / hz_cpj)
    } else {
        user.wrapping_mul(hz_cpj / SCALE)
    }
}

/// `user2credits_byte`.
fn user2credits_byte(user: u64) -> u64 {
    (user.wrapping_mul(HZ as u64 * CPJ_BYTES) >> 32) & 0xFFFF_FFFF
}

/// What a packet is grouped by (`struct dsthash_dst`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    src_port: u16,
    dst_port: u16,
}

/// `struct dsthash_ent`'s rate info and expiry.
#[derive(Clone, Debug)]
struct Group {
    expires: i64,
    prev: i64,
    credit: u64,
    credit_cap: u64,
    cost: u64,
}

#[derive(Clone, Debug)]
struct Table {
    cfg: Hashlimit,
    groups: HashMap<Key, Group>,
}

/// Every hashlimit table of a replay, by name and family.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    tables: HashMap<(String, bool), Table>,
}

/// `maskl` / `hashlimit_ipv6_mask`: the first `len` bits; 0 keeps nothing.
fn mask(a: IpAddr, len: u8) -> IpAddr {
    match a {
        IpAddr::V4(a) => {
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len.min(32)))
            };
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len.min(128)))
            };
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

impl Group {
    /// rateinfo_init.
    fn new(cfg: &Hashlimit, now: i64) -> Group {
        let (credit, credit_cap, cost) = if cfg.mode & Mode::BYTES != 0 {
            (CPJ_BYTES * HZ as u64, cfg.burst, user2credits_byte(cfg.avg))
        } else {
            let c = user2credits(cfg.avg.wrapping_mul(cfg.burst));
            (c, c, user2credits(cfg.avg))
        };
        Group {
            expires: now + ms_to_jiffies(cfg.expire),
            prev: now,
            credit,
            credit_cap,
            cost,
        }
    }

    /// rateinfo_recalc.
    fn recalc(&mut self, now: i64, bytes: bool) {
        let delta = (now - self.prev) as u64;
        if delta == 0 {
            return;
        }
        self.prev = now;
        let cap = if bytes {
            let before = self.credit;
            self.credit = self.credit.wrapping_add(CPJ_BYTES.wrapping_mul(delta));
            let cap = CPJ_BYTES * HZ as u64;
            if before >= self.credit {
                self.credit = cap;
                return;
            }
            cap
        } else {
            self.credit = self.credit.wrapping_add(delta.wrapping_mul(CPJ));
            self.credit_cap
        };
        if self.credit > cap {
            self.credit = cap;
        }
    }

    /// The packet's cost; in byte mode `hashlimit_byte_cost`, which may spend a refill.
    fn cost(&mut self, len: u64, bytes: bool) -> u64 {
        if !bytes {
            return self.cost;
        }
        let full = CPJ_BYTES * HZ as u64;
        let tmp = ((len >> 4).wrapping_mul(self.cost)).min(full);
        if self.credit < tmp && self.credit_cap != 0 {
            self.credit_cap -= 1;
            self.credit = full;
        }
        tmp & 0xFFFF_FFFF
    }
}

/// `msecs_to_jiffies` at HZ 250 (rounding up).
fn ms_to_jiffies(ms: u32) -> i64 {
    let per = 1000 / HZ;
    (i64::from(ms) + per - 1) / per
}

/// hashlimit_init_dst: the packet's group key; `Err` where the kernel would drop it.
fn key(cfg: &Hashlimit, f: &Facts) -> Result<Key, String> {
    let mut k = Key {
        src: None,
        dst: None,
        src_port: 0,
        dst_port: 0,
    };
    if cfg.mode & Mode::DSTIP != 0 {
        k.dst = Some(mask(f.info.dst, cfg.dstmask));
    }
    if cfg.mode & Mode::SRCIP != 0 {
        k.src = Some(mask(f.info.src, cfg.srcmask));
    }
    if cfg.mode & (Mode::SRCPORT | Mode::DSTPORT) == 0 {
        return Ok(k);
    }
    // proto_ports_offset: the ports' place for the protocols that have them.
    let off = match u8::from(f.info.protocol) {
        6 | 17 | 33 | 50 | 132 | 136 => Some(0),
        51 => Some(4),
        _ => None,
    };
    let (sp, dp) = match off {
        None => (0, 0),
        Some(_) if f.info.is_later_fragment() => {
            return Err("hashlimit: ports of a later fragment are not modelled".into())
        }
        Some(off) => {
            let at = usize::from(f.info.l4_offset) + off;
            match f.bytes.get(at..at + 4) {
                Some(b) => (
                    u16::from_be_bytes([b[0], b[1]]),
                    u16::from_be_bytes([b[2], b[3]]),
                ),
                None => return Err("hashlimit: truncated ports (the kernel drops it)".into()),
            }
        }
    };
    if cfg.mode & Mode::SRCPORT != 0 {
        k.src_port = sp;
    }
    if cfg.mode & Mode::DSTPORT != 0 {
        k.dst_port = dp;
    }
    Ok(k)
}

impl Tables {
    /// hashlimit_mt_check: the first rule naming a table gives its configuration.
    pub fn register(&mut self, h: &Hashlimit, v6: bool) {
        self.tables
            .entry((h.name.clone(), v6))
            .or_insert_with(|| Table {
                cfg: h.clone(),
                groups: HashMap::new(),
            });
    }

    /// hashlimit_mt_common for revision 3.
    pub fn eval(&mut self, h: &Hashlimit, f: &Facts) -> Result<bool, String> {
        if h.mode & Mode::RATE_MATCH != 0 {
            return Err("hashlimit: --hashlimit-rate-match is not modelled".into());
        }
        let v6 = f.info.is_ipv6();
        self.register(h, v6);
        let Some(t) = self.tables.get_mut(&(h.name.clone(), v6)) else {
            return Err("hashlimit: no table".into());
        };
        let own = |c: &Hashlimit| Hashlimit {
            mode: c.mode & !Mode::INVERT,
            ..c.clone()
        };
        if own(&t.cfg) != own(h) {
            return Err(format!(
                "hashlimit: rules sharing table `{}' differ in configuration",
                h.name
            ));
        }
        let now = jiffies(f.now_ns);
        let cfg = &t.cfg;
        let bytes = cfg.mode & Mode::BYTES != 0;
        let k = key(cfg, f)?;
        let gc = ms_to_jiffies(cfg.gc_interval);
        let size = if cfg.size == 0 {
            DEFAULT_SIZE
        } else {
            u64::from(cfg.size)
        };
        let max = match u64::from(cfg.max) {
            0 => 8 * size,
            m => m.max(size),
        };
        // Groups certainly collected by now are gone.
        t.groups.retain(|_, g| now <= g.expires + gc);
        let g = match t.groups.get_mut(&k) {
            Some(g) => {
                let mut kept = g.clone();
                kept.recalc(now, bytes);
                if now >= g.expires {
                    // Maybe collected: the answer must not depend on it.
                    let fresh = Group::new(cfg, now);
                    if kept.credit != fresh.credit || kept.credit_cap != fresh.credit_cap {
                        return Err(
                            "hashlimit: the group expired and the kernel's garbage collection \
                             may or may not have removed it"
                                .into(),
                        );
                    }
                }
                *g = kept;
                g.expires = now + ms_to_jiffies(cfg.expire);
                g
            }
            None => {
                if t.groups.len() as u64 >= max {
                    return Err("hashlimit: the table is full (the kernel drops the packet)".into());
                }
                t.groups.entry(k).or_insert_with(|| Group::new(cfg, now))
            }
        };
        let cost = g.cost(u64::from(f.info.total_len), bytes);
        let under = g.credit >= cost;
        if under {
            g.credit -= cost;
        }
        Ok(under != (h.mode & Mode::INVERT != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_at_hz_250() {
        assert_eq!(CPJ, 1 << 39);
        assert_eq!(CPJ_BYTES, 1 << 24);
        assert_eq!(HZ as u64 * CPJ, 137_438_953_472_000);
        assert_eq!(ms_to_jiffies(1000), 250);
        assert_eq!(ms_to_jiffies(1), 1);
    }
}

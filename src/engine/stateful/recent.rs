//! `-m recent` (xt_recent.c): named lists of recently seen addresses, shared by every rule
//! that names them, each entry a ring of jiffy time stamps.
//!
//! What the kernel does, mirrored here:
//! - A table is created by the first rule that names it (`recent_mt_check`), which also
//!   fixes the table's address mask; later rules with the same name use the table's mask,
//!   not their own. The ring of stamps per entry holds `nstamps_max_mask + 1` stamps, where
//!   the mask is the largest any rule of the name asks for: `roundup_pow_of_two(hitcount) - 1`,
//!   or 31 when the rule has no hit count (`ip_pkt_list_tot` is 0 on this kernel, see
//!   /sys/module/xt_recent/parameters).
//! - At most `ip_list_tot` (100) addresses per table; a new one pushes out the least
//!   recently updated (`recent_entry_init`).
//! - `--rttl` compares the TTL the packet had before forwarding: a packet with an output
//!   device that is not the host's own has its TTL counted one up (`ttl++`, in 8 bits).
//! - Time is in jiffies (HZ 250 on this kernel) taken from capture time.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::rules::ext::{Recent, RecentCmd};

/// `ip_list_tot`: addresses a table remembers.
pub const LIST_TOT: usize = 100;
/// `CONFIG_HZ` of the kernel this emulates.
pub const HZ: i64 = 250;

/// Capture time in jiffies. The kernel's jiffy counter has its own phase; whole jiffies
/// since the capture clock's epoch stand in for it.
pub fn jiffies(now_ns: i64) -> i64 {
    now_ns.div_euclid(1_000_000_000 / HZ)
}

/// The ring size the kernel gives a table for one rule (`recent_mt_check`, with
/// `ip_pkt_list_tot` 0): the hit count rounded up to a power of two, or 32.
pub fn stamps_wanted(r: &Recent) -> usize {
    if r.hit_count == 0 {
        32
    } else {
        (r.hit_count as usize).next_power_of_two()
    }
}

/// One remembered address (`struct recent_entry`).
#[derive(Clone, Debug)]
struct Entry {
    addr: IpAddr,
    ttl: u8,
    /// The ring; `index` is where the next stamp goes, `nstamps` how many are valid.
    stamps: Vec<i64>,
    index: usize,
    nstamps: usize,
}

impl Entry {
    fn new(addr: IpAddr, ttl: u8, size: usize, now: i64) -> Entry {
        let mut stamps = vec![0; size];
        stamps[0] = now;
        Entry {
            addr,
            ttl,
            stamps,
            index: 1,
            nstamps: 1,
        }
    }

    /// recent_entry_update's stamp: `index &= mask; stamps[index++] = jiffies`.
    fn stamp(&mut self, now: i64) {
        self.index %= self.stamps.len();
        self.stamps[self.index] = now;
        self.index += 1;
        self.nstamps = self.nstamps.max(self.index);
    }

    /// The most recent stamp (`stamps[index - 1]`).
    fn last(&self) -> i64 {
        self.stamps[self.index - 1]
    }
}

/// One named table (`struct recent_table`); entries in LRU order, least recent first.
#[derive(Clone, Debug)]
struct Table {
    mask: IpAddr,
    stamps: usize,
    entries: Vec<Entry>,
    /// Set when a rule asking for a bigger ring was first seen after entries existed: the
    /// kernel sized the ring at load time, so stamps already dropped make answers unsure.
    resized_late: bool,
}

/// `nf_inet_addr_mask`.
fn masked(addr: IpAddr, mask: IpAddr) -> Option<IpAddr> {
    match (addr, mask) {
        (IpAddr::V4(a), IpAddr::V4(m)) => Some(IpAddr::V4((u32::from(a) & u32::from(m)).into())),
        (IpAddr::V6(a), IpAddr::V6(m)) => Some(IpAddr::V6((u128::from(a) & u128::from(m)).into())),
        _ => None,
    }
}

/// Every recent table of a replay, by name.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    tables: HashMap<String, Table>,
}

/// What `recent_mt` reads of the packet.
pub struct Seen {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    /// The packet is being forwarded (has an output device and was not made here).
    pub forwarded: bool,
    pub now_ns: i64,
}

impl Tables {
    /// recent_mt_check for one rule, in load order: creates the table with the rule's mask,
    /// or grows its ring.
    pub fn register(&mut self, r: &Recent) {
        let wanted = stamps_wanted(r);
        if !self.tables.contains_key(&r.name) {
            let t = Table {
                mask: r.mask,
                stamps: wanted,
                entries: Vec::new(),
                resized_late: false,
            };
            self.tables.insert(r.name.clone(), t);
        }
        let Some(t) = self.tables.get_mut(&r.name) else {
            return;
        };
        if wanted > t.stamps {
            if !t.entries.is_empty() {
                t.resized_late = true;
            }
            t.stamps = wanted;
            for e in &mut t.entries {
                // The kernel flushed the table; here the ring grows in place, keeping order.
                let mut ordered: Vec<i64> = (0..e.nstamps)
                    .map(|k| e.stamps[(e.index + e.stamps.len() - e.nstamps + k) % e.stamps.len()])
                    .collect();
                e.nstamps = ordered.len();
                e.index = ordered.len();
                ordered.resize(wanted, 0);
                e.stamps = ordered;
            }
        }
    }

    /// recent_mt: the rule's answer, changing the table as the kernel does.
    pub fn eval(&mut self, r: &Recent, p: &Seen) -> Result<bool, String> {
        // Rules the replay did not register up front are registered when first seen.
        self.register(r);
        let Some(t) = self.tables.get_mut(&r.name) else {
            return Err(format!("recent: no table `{}'", r.name));
        };
        if t.resized_late {
            return Err(format!(
                "recent: table `{}' was sized by a rule seen only after it had entries",
                r.name
            ));
        }
        let now = jiffies(p.now_ns);
        let addr = if r.dest { p.dst } else { p.src };
        let Some(addr) = masked(addr, t.mask) else {
            return Err(format!(
                "recent: table `{}' has a mask of the other address family",
                r.name
            ));
        };
        let ttl = if p.forwarded {
            p.ttl.wrapping_add(1)
        } else {
            p.ttl
        };
        let want_ttl = if r.ttl { ttl } else { 0 };
        // recent_entry_lookup: the family is part of the address here.
        let found = t
            .entries
            .iter()
            .position(|e| e.addr == addr && (want_ttl == e.ttl || want_ttl == 0 || e.ttl == 0));
        let mut ret = r.invert;
        let Some(mut i) = found else {
            if r.command == RecentCmd::Set {
                if t.entries.len() >= LIST_TOT {
                    t.entries.remove(0);
                }
                t.entries.push(Entry::new(addr, ttl, t.stamps, now));
                ret = !ret;
            }
            return Ok(ret);
        };
        match r.command {
            RecentCmd::Set => ret = !ret,
            RecentCmd::Remove => {
                t.entries.remove(i);
                return Ok(!ret);
            }
            RecentCmd::Check | RecentCmd::Update => {
                let since = now - i64::from(r.seconds) * HZ;
                let e = &t.entries[i];
                let mut hits = 0;
                for &stamp in &e.stamps[..e.nstamps] {
                    // time_after(time, stamp): the stamp is older than the window.
                    if r.seconds != 0 && since > stamp {
                        continue;
                    }
                    hits += 1;
                    if r.hit_count == 0 || hits >= r.hit_count {
                        ret = !ret;
                        break;
                    }
                }
                if r.reap {
                    // recent_entry_reap: only the least recently updated entry may go, and
                    // not the one about to be updated.
                    let updating = r.command == RecentCmd::Update && ret;
                    if !(i == 0 && updating) && since > t.entries[0].last() {
                        t.entries.remove(0);
                        if i == 0 {
                            return Ok(ret);
                        }
                        i -= 1;
                    }
                }
            }
        }
        if r.command == RecentCmd::Set || (r.command == RecentCmd::Update && ret) {
            // recent_entry_update: a new stamp, and to the LRU tail.
            let mut e = t.entries.remove(i);
            e.stamp(now);
            e.ttl = ttl;
            t.entries.push(e);
        }
        Ok(ret)
    }

    /// The addresses a table holds, least recently updated first (for tests and reports).
    pub fn addresses(&self, name: &str) -> Vec<IpAddr> {
        self.tables
            .get(name)
            .map(|t| t.entries.iter().map(|e| e.addr).collect())
            .unwrap_or_default()
    }
}

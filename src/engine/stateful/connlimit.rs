//! `-m connlimit` (xt_connlimit.c over nf_conncount.c): each rule keeps, per group of
//! packets (the source or destination address under the mask), a list of the connections it
//! has seen (their original tuples), and matches on how many of them are still alive.
//!
//! Measured on this kernel (6.18): the count is of distinct connections; packets of a
//! connection already listed do not add to it, also within one jiffy; each rule counts
//! only the connections whose packets reached it; `--connlimit-upto` is `count <= limit`,
//! `--connlimit-above` is `count > limit`.
//!
//! From nf_conncount.c (`__nf_conncount_add`, `nf_conncount_gc_list`, `insert_tree`), not
//! measured yet:
//! - a group seen for the first time starts its list with the packet's connection;
//! - a packet of a connection that is confirmed and assured is not added; the list is
//!   swept (at most once per jiffy) and its length is the count;
//! - otherwise the list is swept while looking for the packet's connection, unless the
//!   connection is new, the list was swept this jiffy and few entries came since; a listed
//!   connection no longer in the table (expired, never confirmed) or closed (TCP in
//!   TIME_WAIT or CLOSE) is dropped. Entries are taken as added on the same CPU, so one
//!   missing from the table is dropped at once.
//! - Sweeps stop after `CONNCOUNT_GC_MAX_COLLECT` drops; a list with that many dead entries
//!   is reported as not evaluable rather than guessed.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::engine::ct::CtTuple;
use crate::rules::ext::Connlimit;

use super::recent::jiffies;
use super::Facts;

/// Dead entries a sweep drops at most (`CONNCOUNT_GC_MAX_COLLECT`); beyond it the model
/// refuses.
const MAX_COLLECT: usize = 8;
const IPS_ASSURED: u32 = 1 << 2;
const IPS_CONFIRMED: u32 = 1 << 3;

/// What the connection table says of a listed tuple: `None` when no confirmed entry has it,
/// `Some(closed)` otherwise.
pub type Lookup<'a> = &'a dyn Fn(&CtTuple) -> Option<bool>;

/// One group's list (`struct nf_conncount_list`).
#[derive(Clone, Debug, Default)]
struct List {
    conns: Vec<CtTuple>,
    last_gc: i64,
    last_gc_count: usize,
}

impl List {
    /// Walks the list in order, dropping entries no longer in the table or closed; stops at
    /// `want` when it is listed and in the table, returning true (entries after it are not
    /// looked at, as in the kernel).
    fn sweep(&mut self, lookup: Lookup, want: Option<&CtTuple>) -> Result<bool, String> {
        let mut dropped = 0;
        let mut i = 0;
        while i < self.conns.len() {
            let t = self.conns[i];
            match lookup(&t) {
                Some(_) if want == Some(&t) => return Ok(true),
                Some(false) => {
                    i += 1;
                    continue;
                }
                None | Some(true) => {
                    dropped += 1;
                    if dropped > MAX_COLLECT {
                        return Err(
                            "connlimit: more dead connections than one sweep collects".into()
                        );
                    }
                    self.conns.remove(i);
                }
            }
        }
        Ok(false)
    }
}

/// Every connlimit rule's lists.
#[derive(Clone, Debug, Default)]
pub struct Lists {
    rules: HashMap<usize, HashMap<IpAddr, List>>,
}

/// `key[0] &= mask`: the group address.
fn group(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
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

impl Lists {
    /// connlimit_mt for the rule `rule`.
    pub fn eval(
        &mut self,
        rule: usize,
        c: &Connlimit,
        f: &Facts,
        lookup: Option<Lookup>,
    ) -> Result<bool, String> {
        let Some(lookup) = lookup else {
            return Err("match `connlimit' needs the connection table".into());
        };
        let Some(ct) = f.ct else {
            return Err("match `connlimit' needs conntrack".into());
        };
        let Some(conn) = &ct.conn else {
            return Err("connlimit: packets without a connection entry are not modelled".into());
        };
        let now = jiffies(f.now_ns);
        let key = group(if c.daddr { f.info.dst } else { f.info.src }, c.mask_len);
        let tuple = conn.original;
        let confirmed = conn.status & IPS_CONFIRMED != 0;
        let assured = conn.status & IPS_ASSURED != 0;
        let lists = self.rules.entry(rule).or_default();
        let list = lists.entry(key).or_default();
        let count = if list.conns.is_empty() {
            // insert_tree (or a freed node): the list starts with this connection.
            *list = List {
                conns: vec![tuple],
                last_gc: now,
                last_gc_count: 0,
            };
            1
        } else if confirmed && assured {
            if list.last_gc != now {
                list.sweep(lookup, None)?;
                list.last_gc = now;
                list.last_gc_count = list.conns.len();
            }
            list.conns.len()
        } else {
            let quick = !confirmed
                && list.last_gc == now
                && list.conns.len().saturating_sub(list.last_gc_count) < MAX_COLLECT;
            let listed = !quick && list.sweep(lookup, Some(&tuple))?;
            if !listed {
                if !quick {
                    list.last_gc = now;
                    list.last_gc_count = list.conns.len();
                }
                list.conns.push(tuple);
            }
            list.conns.len()
        };
        if count == 0 {
            return Err("connlimit: a count of 0 (the kernel drops the packet)".into());
        }
        Ok((count > c.limit as usize) != c.upto)
    }
}

//! A set's entries, kept in insertion order, with the kernel's notion of "the same element".
//!
//! The kernel hashes part of an element to pick a bucket and then compares candidates with the
//! type's `data_equal`. For every type but `hash:net,iface` the hashed part is the whole
//! element and equality is plain equality. `hash:net,iface` hashes only the network (and the
//! `physdev` flag), and a stored element with the `wildcard` flag equals any element whose
//! interface name starts with its own (`hash_netiface4_data_equal`: `strncmp` over the stored
//! name's length). So `add s 10.0.0.0/8,eth0` fails with "already added" after
//! `add s 10.0.0.0/8,eth wildcard`. [`Members`] keeps that bucket structure so both `add` and
//! the packet test see what the kernel sees.

use std::collections::{BTreeMap, HashMap};

use super::{Cidr, Elem, Entry, SetType};

#[derive(Clone, Debug, Default)]
pub struct Members {
    /// Entries in insertion order; `None` where one was deleted (compacted now and then), so
    /// that a `del` does not renumber everything.
    slots: Vec<Option<Entry>>,
    live: usize,
    /// Hashed part of an element → positions in `slots`, in insertion order.
    buckets: HashMap<Elem, Vec<usize>>,
    /// Prefix length of the network part → how many entries have it (the kernel's `nets[]`
    /// book-keeping, which drives the longest-prefix-first search).
    prefixes: BTreeMap<u8, usize>,
}

/// Two member lists are equal when they hold the same entries in the same order.
impl PartialEq for Members {
    fn eq(&self, other: &Members) -> bool {
        self.live == other.live && self.iter().eq(other.iter())
    }
}

impl Eq for Members {}

impl Members {
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().flatten()
    }

    /// The entry at a position [`Members::find`] returned.
    pub fn get(&self, i: usize) -> Option<&Entry> {
        self.slots.get(i).and_then(Option::as_ref)
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut Entry> {
        self.slots.get_mut(i).and_then(Option::as_mut)
    }

    /// The position of the stored element the kernel would consider equal to `probe`.
    pub fn find(&self, probe: &Elem) -> Option<usize> {
        self.bucket(&hashed_part(probe))
            .iter()
            .copied()
            .find(|&i| self.get(i).is_some_and(|e| data_equal(&e.elem, probe)))
    }

    /// Positions of the entries in the bucket of a hashed part (see [`hashed_part`]).
    pub fn bucket(&self, key: &Elem) -> &[usize] {
        self.buckets.get(key).map_or(&[], Vec::as_slice)
    }

    /// Prefix lengths of the network part present in the set, longest first.
    pub fn prefixes_desc(&self) -> impl Iterator<Item = u8> + '_ {
        self.prefixes.keys().rev().copied()
    }

    /// The position of the next (or previous) live entry, for `list:set` adjacency.
    pub(crate) fn neighbour(&self, i: usize, next: bool) -> Option<usize> {
        if next {
            (i + 1..self.slots.len()).find(|&j| self.get(j).is_some())
        } else {
            (0..i).rev().find(|&j| self.get(j).is_some())
        }
    }

    /// Appends an entry the caller checked is not already there.
    pub(crate) fn push(&mut self, entry: Entry) {
        let i = self.slots.len();
        self.index_one(i, &entry.elem);
        self.slots.push(Some(entry));
        self.live += 1;
    }

    /// Inserts before the entry at position `pos` (for `list:set` with `before`/`after`).
    pub(crate) fn insert_at(&mut self, pos: usize, entry: Entry) {
        self.slots.insert(pos.min(self.slots.len()), Some(entry));
        self.live += 1;
        self.reindex();
    }

    pub(crate) fn remove(&mut self, i: usize) -> Option<Entry> {
        let e = self.slots.get_mut(i)?.take()?;
        self.live -= 1;
        let key = hashed_part(&e.elem);
        if let Some(b) = self.buckets.get_mut(&key) {
            b.retain(|&j| j != i);
            if b.is_empty() {
                self.buckets.remove(&key);
            }
        }
        if let Some(p) = net_part(&e.elem).map(|c| c.prefix) {
            if let Some(n) = self.prefixes.get_mut(&p) {
                *n -= 1;
                if *n == 0 {
                    self.prefixes.remove(&p);
                }
            }
        }
        if self.slots.len() > 2 * self.live + 64 {
            self.slots.retain(Option::is_some);
            self.reindex();
        }
        Some(e)
    }

    pub(crate) fn clear(&mut self) {
        *self = Members::default();
    }

    /// Entries in `ipset save` order: bitmaps list their bits in ascending order, the other
    /// types as stored.
    pub fn in_save_order(&self, t: SetType) -> Vec<&Entry> {
        let mut v: Vec<&Entry> = self.iter().collect();
        if matches!(t, SetType::BitmapIp | SetType::BitmapPort) {
            v.sort_by_key(|e| bitmap_key(&e.elem));
        }
        v
    }

    fn index_one(&mut self, i: usize, elem: &Elem) {
        self.buckets.entry(hashed_part(elem)).or_default().push(i);
        if let Some(p) = net_part(elem).map(|c| c.prefix) {
            *self.prefixes.entry(p).or_default() += 1;
        }
    }

    fn reindex(&mut self) {
        self.buckets.clear();
        self.prefixes.clear();
        let elems: Vec<(usize, Elem)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i, e.elem.clone())))
            .collect();
        for (i, e) in &elems {
            self.index_one(*i, e);
        }
    }
}

fn bitmap_key(e: &Elem) -> u128 {
    match e {
        Elem::Ip(std::net::IpAddr::V4(a)) => u128::from(u32::from(*a)),
        Elem::Port(p) => u128::from(*p),
        _ => 0,
    }
}

/// The part of an element the kernel hashes to find its bucket.
pub fn hashed_part(e: &Elem) -> Elem {
    match e {
        Elem::NetIface(c, i) => Elem::NetIface(
            *c,
            super::IfaceElem {
                name: String::new(),
                physdev: i.physdev,
                wildcard: false,
            },
        ),
        other => other.clone(),
    }
}

/// The type's `data_equal(stored, probe)`.
pub fn data_equal(stored: &Elem, probe: &Elem) -> bool {
    match (stored, probe) {
        (Elem::NetIface(c1, i1), Elem::NetIface(c2, i2)) => {
            c1 == c2
                && i1.physdev == i2.physdev
                && if i1.wildcard {
                    i2.name.as_bytes().starts_with(i1.name.as_bytes())
                } else {
                    i1.name == i2.name
                }
        }
        (a, b) => a == b,
    }
}

/// The network part whose prefix the kernel searches longest-first, for the net types.
pub fn net_part(e: &Elem) -> Option<&Cidr> {
    match e {
        Elem::Net(c) | Elem::NetPort(c, _) | Elem::IpPortNet(_, _, c) | Elem::NetIface(c, _) => {
            Some(c)
        }
        _ => None,
    }
}

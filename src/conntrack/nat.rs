//! NAT tuple selection as nf_nat_core.c does it: `get_unique_tuple` (keep the tuple when it
//! is in range and unused; else reuse an existing source mapping; else pick addresses with
//! `find_best_ips_proto` and ports with `nf_nat_l4proto_unique_tuple`).
//!
//! Addresses: a single address is taken as is; a range is chosen by the kernel's
//! `jhash2` of the source address with the destination as the initial value (0 with
//! `--persistent`), scaled into the range: deterministic, so it is reproduced exactly here.
//! Ports: kept when free and in range. Otherwise the kernel starts its search at the
//! range's first port for a destination manip without `--random`, else at a random
//! offset (`get_random_u16`, or a keyed hash for `--random`); here that offset comes from
//! the configured seed and the tuple, so the chosen port is in the same range but not the
//! kernel's (NETFILTER.md §3). Privileged source ports stay privileged without a range:
//! below 512 map into 1..=511, 512..=1023 into 600..=1023, others into 1024..=65535.

use std::net::IpAddr;

use super::tuple::{Tuple, GRE, ICMP, ICMPV6};
use crate::wire::rewrite::Manip;

/// A NAT target's range (`struct nf_nat_range2`): what `--to-source`/`--to-destination`,
/// MASQUERADE and REDIRECT give. `ports: None` means no port range (`PROTO_SPECIFIED`
/// unset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NatRange {
    pub min_addr: IpAddr,
    pub max_addr: IpAddr,
    pub ports: Option<(u16, u16)>,
    pub random: bool,
    pub random_fully: bool,
    pub persistent: bool,
}

impl NatRange {
    /// One address, no port range (`nf_nat_alloc_null_binding`'s range, or `--to A`).
    pub fn single(addr: IpAddr) -> NatRange {
        NatRange {
            min_addr: addr,
            max_addr: addr,
            ports: None,
            random: false,
            random_fully: false,
            persistent: false,
        }
    }

    fn random_all(&self) -> bool {
        self.random || self.random_fully
    }
}

/// Why a NAT binding could not be set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatError(pub String);

impl std::fmt::Display for NatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NatError {}

/// What `get_unique_tuple` asks of the table.
pub trait Taken {
    /// `nf_nat_used_tuple`: whether a confirmed connection other than ours already uses
    /// the reply of `candidate`.
    fn used(&self, candidate: &Tuple) -> bool;
    /// `find_appropriate_src`: the source mapping (address, port) an existing SNATed
    /// connection with the same original source uses.
    fn existing_src_mapping(&self, original: &Tuple) -> Vec<(IpAddr, u16)>;
}

fn addr_words(a: IpAddr) -> [u32; 4] {
    // The kernel hashes `union nf_inet_addr` as four host-order words of the raw bytes
    // (x86: little endian); IPv4 fills the first word and zeroes the rest.
    match a {
        IpAddr::V4(v4) => [u32::from_le_bytes(v4.octets()), 0, 0, 0],
        IpAddr::V6(v6) => {
            let o = v6.octets();
            let w = |i: usize| u32::from_le_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            [w(0), w(4), w(8), w(12)]
        }
    }
}

fn be_words(a: IpAddr) -> Vec<u32> {
    match a {
        IpAddr::V4(v4) => vec![u32::from(v4)],
        IpAddr::V6(v6) => {
            let o = v6.octets();
            (0..4)
                .map(|i| u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]))
                .collect()
        }
    }
}

fn from_be_words(v6: bool, w: &[u32]) -> IpAddr {
    if !v6 {
        IpAddr::V4(w[0].into())
    } else {
        let mut o = [0u8; 16];
        for (i, x) in w.iter().enumerate() {
            o[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
        }
        IpAddr::V6(o.into())
    }
}

/// Bob Jenkins' lookup3 `jhash2` over 32-bit words, as include/linux/jhash.h has it.
pub fn jhash2(k: &[u32], initval: u32) -> u32 {
    let mut a = 0xdead_beef_u32
        .wrapping_add((k.len() as u32) << 2)
        .wrapping_add(initval);
    let mut b = a;
    let mut c = a;
    let mut rest = k;
    while rest.len() > 3 {
        a = a.wrapping_add(rest[0]);
        b = b.wrapping_add(rest[1]);
        c = c.wrapping_add(rest[2]);
        mix(&mut a, &mut b, &mut c);
        rest = &rest[3..];
    }
    if rest.is_empty() {
        return c;
    }
    if rest.len() == 3 {
        c = c.wrapping_add(rest[2]);
    }
    if rest.len() >= 2 {
        b = b.wrapping_add(rest[1]);
    }
    a = a.wrapping_add(rest[0]);
    finish(&mut a, &mut b, &mut c);
    c
}

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn finish(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

/// A 64-bit mix (splitmix64's finaliser): the seeded stand-in for the kernel's random
/// numbers.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn tuple_hash(seed: u64, t: &Tuple, salt: u64) -> u64 {
    let mut h = mix64(seed ^ salt);
    for w in addr_words(t.src).iter().chain(addr_words(t.dst).iter()) {
        h = mix64(h ^ u64::from(*w));
    }
    mix64(h ^ (u64::from(t.protocol) << 32) ^ (u64::from(t.src_port) << 16) ^ u64::from(t.dst_port))
}

fn addr_in_range(a: IpAddr, r: &NatRange) -> bool {
    match (a, r.min_addr, r.max_addr) {
        (IpAddr::V4(a), IpAddr::V4(lo), IpAddr::V4(hi)) => lo <= a && a <= hi,
        (IpAddr::V6(a), IpAddr::V6(lo), IpAddr::V6(hi)) => lo <= a && a <= hi,
        _ => false,
    }
}

/// The key NAT may change for `manip`: the port (TCP/UDP/UDP-Lite/SCTP), the ICMP query
/// id (whatever the manip), or none.
fn key(t: &mut Tuple, manip: Manip) -> Option<&mut u16> {
    match t.protocol {
        ICMP | ICMPV6 => Some(&mut t.src_port),
        p if super::tuple::has_ports(p) => Some(if manip == Manip::Src {
            &mut t.src_port
        } else {
            &mut t.dst_port
        }),
        _ => None,
    }
}

/// `l4proto_in_range`.
fn key_in_range(t: &Tuple, manip: Manip, ports: Option<(u16, u16)>) -> bool {
    let Some((lo, hi)) = ports else { return true };
    let mut t = *t;
    match key(&mut t, manip) {
        Some(k) => lo.min(hi) <= *k && *k <= lo.max(hi),
        None => true,
    }
}

/// `nf_in_range` for a source mapping.
fn in_range(t: &Tuple, r: &NatRange) -> bool {
    addr_in_range(t.src, r) && key_in_range(t, Manip::Src, r.ports)
}

/// `find_best_ips_proto`: the address from the range.
fn best_ip(t: &mut Tuple, r: &NatRange, manip: Manip) {
    let var = if manip == Manip::Src { t.src } else { t.dst };
    if r.min_addr == r.max_addr {
        set_addr(t, manip, r.min_addr);
        return;
    }
    let v6 = var.is_ipv6();
    let mins = be_words(r.min_addr);
    let maxs = be_words(r.max_addr);
    if mins.len() != maxs.len() || v6 != r.min_addr.is_ipv6() {
        return;
    }
    let dst_raw = addr_words(t.dst);
    let last = mins.len() - 1;
    let mut j = jhash2(
        &addr_words(t.src),
        if r.persistent { 0 } else { dst_raw[last] },
    );
    let mut out = vec![0u32; mins.len()];
    let mut full_range = false;
    for i in 0..mins.len() {
        let (minip, dist) = if !full_range {
            (mins[i], maxs[i].wrapping_sub(mins[i]).wrapping_add(1))
        } else {
            (0, u32::MAX)
        };
        // reciprocal_scale(j, dist)
        out[i] = minip.wrapping_add(((u64::from(j) * u64::from(dist)) >> 32) as u32);
        if out[i] != maxs[i] {
            full_range = true;
        }
        if !r.persistent {
            j ^= dst_raw[i];
        }
    }
    set_addr(t, manip, from_be_words(v6, &out));
}

fn set_addr(t: &mut Tuple, manip: Manip, a: IpAddr) {
    if manip == Manip::Src {
        t.src = a;
    } else {
        t.dst = a;
    }
}

/// `nf_nat_l4proto_unique_tuple`.
fn unique_key(t: &mut Tuple, r: &NatRange, manip: Manip, taken: &dyn Taken, seed: u64) {
    let proto = t.protocol;
    if proto == GRE {
        return;
    }
    let orig = *t;
    let Some(&mut cur) = key(t, manip) else {
        return;
    };
    let (min, size): (u32, u32) = match (r.ports, proto) {
        (None, ICMP | ICMPV6) => (0, 65536),
        (None, _) => {
            if manip == Manip::Dst {
                return;
            }
            match cur {
                0..=511 => (1, 511),
                512..=1023 => (600, 424),
                _ => (1024, 65536 - 1024),
            }
        }
        (Some((a, b)), _) => {
            let (lo, hi) = (a.min(b), a.max(b));
            (u32::from(lo), u32::from(hi) - u32::from(lo) + 1)
        }
    };
    let salt = if r.random_fully {
        2
    } else if r.random {
        1
    } else {
        0
    };
    // A destination manip without --random starts at the range's first port (off = 0:
    // measured, DNAT --to-destination A:8000-8002 gives 8000 to every new flow that does not
    // clash); a source manip starts at a random offset.
    let mut off = if manip == Manip::Dst && !r.random && !r.random_fully {
        0
    } else {
        tuple_hash(seed, &orig, salt) as u32 & 0xffff
    };
    let mut attempts = size.min(128);
    let mut round = 0u64;
    loop {
        for _ in 0..attempts {
            let port = (min + off % size) as u16;
            if let Some(k) = key(t, manip) {
                *k = port;
            }
            if !taken.used(t) {
                return;
            }
            off = off.wrapping_add(1);
        }
        if attempts >= size || attempts < 16 {
            return;
        }
        attempts /= 2;
        round += 1;
        off = tuple_hash(seed, &orig, 16 + round) as u32 & 0xffff;
    }
}

/// `get_unique_tuple`: the tuple the connection will have after `manip`, from the tuple it
/// has now (`current`, already changed by earlier manips).
pub fn unique_tuple(
    current: &Tuple,
    range: &NatRange,
    manip: Manip,
    taken: &dyn Taken,
    seed: u64,
) -> Tuple {
    if manip == Manip::Src && !range.random_all() {
        if in_range(current, range) {
            if !taken.used(current) {
                return *current;
            }
        } else {
            for (addr, port) in taken.existing_src_mapping(current) {
                let mut t = *current;
                t.src = addr;
                if let Some(k) = key(&mut t, Manip::Src) {
                    *k = port;
                }
                if in_range(&t, range) {
                    if !taken.used(&t) {
                        return t;
                    }
                    break;
                }
            }
        }
    }
    let mut t = *current;
    best_ip(&mut t, range, manip);
    if !range.random_all() {
        match range.ports {
            Some((lo, hi)) => {
                if key_in_range(&t, manip, range.ports) && (lo == hi || !taken.used(&t)) {
                    return t;
                }
            }
            None => {
                if !taken.used(&t) {
                    return t;
                }
            }
        }
    }
    unique_key(&mut t, range, manip, taken, seed);
    t
}

//! `-m set` (xt_set.c, `set_match_v4` → `ip_set_test`) and `-j SET` (`set_target_v3` →
//! `ip_set_add`/`ip_set_del`), with element timeouts kept in capture time.
//!
//! What is modelled, as the kernel does it:
//! - each `src`/`dst` flag picks the side of the packet for one dimension of the set; the
//!   kind of the dimension (address, protocol and port, device) comes from the set's type;
//!   a port part of a non-first fragment or a truncated header makes the test fail;
//! - `-j SET --add-set` adds what the packet gives, masked by the set's netmask/bitmask;
//!   an element already there is left alone unless `--exist` is given (then its timeout is
//!   set again and its counters count the packet), or it has expired; a full set takes
//!   nothing; the timeout is `--timeout` or else the set's default, 0 meaning forever;
//! - a match that finds the packet's element counts the packet in the element's counters
//!   first and then makes its `--packets-*`/`--bytes-*` tests on the counted values
//!   (measured: `--packets-gt 2` first matches on the element's third packet); `!
//!   --update-counters` skips the counting; `list:set` counts in the first member that
//!   holds the packet (unless `! --update-subcounters`), then in the list's own entry for
//!   that member, whose tests failing moves on to the next member (`list_set_ktest`);
//! - elements time out `timeout` seconds after they were added, in jiffies
//!   (`ip_set_timeout_set`, `ip_set_timeout_expired`). Elements read from the sets file
//!   with a timeout count it from the first packet that touches a set.
//!
//! Element counters are kept for `hash:ip`, `hash:ip,port` and `hash:ip,port,ip` (the
//! element is found again from the packet); for the other types the match is answered but
//! their counters are left as read.
//!
//! What is refused (`Err`), rather than guessed: `--packets-*`/`--bytes-*` tests on the
//! types whose counters are not kept,
//! `--return-nomatch` on types with `nomatch`, `--map-set`, `-j SET` on net types (the
//! kernel adds the prefix length of the set's own first bucket) and on MAC, bitmap and list
//! types, `hash:mac` and MAC parts of `list:set` members (the Ethernet header is not among
//! the facts).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::rules::ext::{CounterMatch, CounterOp, Set, SetDir, SetRef, SetTarget};
use crate::rules::ipset::lex::and_addr;
use crate::rules::ipset::{
    Elem, Entry, EntryExt, Family, Header, IpSet, IpSets, ProtoPort, SetPart, SetType,
};
use crate::wire::ip::L4Info;

use super::recent::{jiffies, HZ};
use super::Facts;

/// `IPSET_MAX_TIMEOUT`: longer timeouts are cut to it.
const MAX_TIMEOUT: u32 = (u32::MAX >> 1) / 1000;

/// The kind of one dimension of a set type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Addr,
    Port,
    Iface,
    Mac,
}

fn kinds(t: SetType) -> &'static [Kind] {
    use Kind::*;
    match t {
        SetType::HashIp | SetType::BitmapIp | SetType::HashNet => &[Addr],
        SetType::HashIpPort | SetType::HashNetPort => &[Addr, Port],
        SetType::HashIpPortIp | SetType::HashIpPortNet => &[Addr, Port, Addr],
        SetType::HashNetIface => &[Addr, Iface],
        SetType::HashMac => &[Mac],
        SetType::BitmapPort => &[Port],
        SetType::ListSet => &[],
    }
}

/// The dimension kinds a test of `set` needs; for `list:set`, those of its members, each
/// tested with the same parts: they must agree where they overlap, and the longest wins.
fn test_kinds(all: &IpSets, set: &IpSet) -> Result<&'static [Kind], String> {
    if set.set_type != SetType::ListSet {
        return Ok(kinds(set.set_type));
    }
    let mut found: &'static [Kind] = &[];
    for e in set.members.iter() {
        let Elem::Set(name) = &e.elem else { continue };
        let Some(m) = all.get(name) else { continue };
        if m.set_type == SetType::ListSet {
            return Err(format!("set: list:set `{}' holds a list:set", set.name));
        }
        let k = kinds(m.set_type);
        if found.iter().zip(k).any(|(a, b)| a != b) {
            return Err(format!(
                "set: list:set `{}' has members whose dimensions differ in kind",
                set.name
            ));
        }
        if k.len() > found.len() {
            found = k;
        }
    }
    Ok(found)
}

/// `ip_set_get_ip{4,6}_port`: protocol and port (ICMP: type and code); `None` for a later
/// fragment or a truncated header.
fn port_part(f: &Facts, dir: SetDir) -> Option<SetPart<'static>> {
    let proto = u8::from(f.info.protocol);
    if f.info.is_later_fragment() {
        return None;
    }
    let port = match f.info.l4 {
        L4Info::Truncated => return None,
        L4Info::Icmp { msg_type, code, .. } => u16::from(msg_type) << 8 | u16::from(code),
        ref l4 => l4
            .ports()
            .map_or(0, |(s, d)| if dir == SetDir::Src { s } else { d }),
    };
    Some(SetPart::Port { proto, port })
}

/// The parts of a test, one per flag the set's type has a dimension for; `Ok(None)` when
/// the packet cannot give one (the kernel's test then fails).
fn parts<'a>(
    kinds: &[Kind],
    dirs: &[SetDir],
    f: &Facts<'a>,
) -> Result<Option<Vec<SetPart<'a>>>, String> {
    let mut out = Vec::new();
    for (&kind, &dir) in kinds.iter().zip(dirs) {
        let part = match kind {
            Kind::Addr => Some(SetPart::Addr(if dir == SetDir::Src {
                f.info.src
            } else {
                f.info.dst
            })),
            Kind::Port => port_part(f, dir),
            Kind::Iface => {
                let dev = if dir == SetDir::Src {
                    f.in_iface
                } else {
                    f.out_iface
                };
                dev.map(|name| SetPart::Iface {
                    name,
                    physdev: false,
                })
            }
            Kind::Mac => return Err("set: MAC parts need the Ethernet header".into()),
        };
        match part {
            Some(p) => out.push(p),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// Element expiry, in jiffies, for the elements that have a timeout.
#[derive(Clone, Debug, Default)]
pub struct Timeouts {
    /// When the replay first touched a set: the origin of timeouts read from the file.
    start: Option<i64>,
    /// (set, element) → expiry; and the same ordered by expiry (stale pairs are skipped).
    expiry: HashMap<(String, Elem), i64>,
    queue: BTreeMap<(i64, u64), (String, Elem)>,
    seq: u64,
}

impl Timeouts {
    fn arm(&mut self, set: &str, elem: &Elem, at: i64) {
        self.seq += 1;
        self.expiry.insert((set.to_string(), elem.clone()), at);
        self.queue
            .insert((at, self.seq), (set.to_string(), elem.clone()));
    }

    fn disarm(&mut self, set: &str, elem: &Elem) {
        self.expiry.remove(&(set.to_string(), elem.clone()));
    }

    /// Drops from `sets` every element whose timeout has passed at `now` (jiffies): the
    /// kernel skips them in tests and replaces them on add, and its garbage collector
    /// removes them, so for what a packet sees they are gone.
    pub fn expire(&mut self, sets: &mut IpSets, now: i64) {
        if self.start.is_none() {
            self.start = Some(now);
            for set in sets.iter() {
                for e in set.members.iter() {
                    if let Some(t) = e.ext.timeout.filter(|&t| t != 0) {
                        let (name, elem) = (set.name.clone(), e.elem.clone());
                        self.arm(&name, &elem, now + i64::from(t) * HZ);
                    }
                }
            }
        }
        while let Some((&(at, seq), _)) = self.queue.first_key_value() {
            // time_is_before_jiffies(at): expired once now is past it.
            if at >= now {
                break;
            }
            let Some((set, elem)) = self.queue.remove(&(at, seq)) else {
                break;
            };
            let key = (set, elem);
            if self.expiry.get(&key) != Some(&at) {
                continue;
            }
            self.expiry.remove(&key);
            if let Some(s) = sets.set_mut(&key.0) {
                if let Some(i) = s.members.find(&key.1) {
                    s.members.remove(i);
                }
            }
        }
    }
}

/// The counter tests a match makes of the element it found.
struct CounterTests<'a> {
    packets: &'a Option<CounterMatch>,
    bytes: &'a Option<CounterMatch>,
}

impl CounterTests<'_> {
    fn any(&self) -> bool {
        self.packets.is_some() || self.bytes.is_some()
    }

    /// ip_set_match_counter for both.
    fn pass(&self, (packets, bytes): (u64, u64)) -> bool {
        let ok = |c: &Option<CounterMatch>, v: u64| {
            c.as_ref().map_or(true, |c| match c.op {
                CounterOp::Eq => v == c.value,
                CounterOp::Ne => v != c.value,
                CounterOp::Lt => v < c.value,
                CounterOp::Gt => v > c.value,
            })
        };
        ok(self.packets, packets) && ok(self.bytes, bytes)
    }
}

/// ip_set_match_extensions for the element `elem` of set `name`, which holds the packet:
/// the counter tests, then the counter update unless skipped. Whether the element still
/// matches.
fn match_extensions(
    sets: &mut IpSets,
    name: &str,
    elem: Option<Elem>,
    tests: &CounterTests,
    update: bool,
    len: u64,
) -> Result<bool, String> {
    let Some(set) = sets.get(name) else {
        return Ok(false);
    };
    if !set.ext.counters {
        // Without counters the kernel skips the tests.
        return Ok(true);
    }
    let Some(e) = elem else {
        if tests.any() {
            return Err(format!(
                "set: --packets/--bytes on {} sets are not modelled",
                set.set_type.name()
            ));
        }
        // The match is right; the element's counters are not kept for this type.
        return Ok(true);
    };
    let Some(s) = sets.set_mut(name) else {
        return Ok(false);
    };
    let Some(entry) = s.members.find(&e).and_then(|i| s.members.get_mut(i)) else {
        return Err("set: the matching element is not found again".into());
    };
    let mut counters = entry.ext.counters.unwrap_or((0, 0));
    if update {
        counters = (counters.0.wrapping_add(1), counters.1.wrapping_add(len));
        entry.ext.counters = Some(counters);
    }
    Ok(tests.pass(counters))
}

/// The element of an exact type (`hash:ip`, `hash:ip,port`, `hash:ip,port,ip`) that holds
/// the packet; `None` for the other types.
fn exact_element(
    sets: &IpSets,
    name: &str,
    dirs: &[SetDir],
    f: &Facts,
) -> Result<Option<Elem>, String> {
    match sets.get(name) {
        Some(set)
            if matches!(
                set.set_type,
                SetType::HashIp | SetType::HashIpPort | SetType::HashIpPortIp
            ) =>
        {
            element(set, dirs, f)
        }
        _ => Ok(None),
    }
}

/// set_match_v4.
pub fn test(sets: &mut IpSets, tm: &mut Timeouts, m: &Set, f: &Facts) -> Result<bool, String> {
    tm.expire(sets, jiffies(f.now_ns));
    let set = sets
        .get(&m.name)
        .ok_or_else(|| format!("set: no set `{}' in the sets file", m.name))?;
    if m.return_nomatch && (set.set_type.has_nomatch() || set.set_type == SetType::ListSet) {
        return Err("set: --return-nomatch is not modelled".into());
    }
    let kinds = test_kinds(sets, set)?;
    let Some(parts) = parts(kinds, &m.dirs, f)? else {
        return Ok(m.invert);
    };
    let len = u64::from(f.info.total_len);
    let tests = CounterTests {
        packets: &m.packets,
        bytes: &m.bytes,
    };
    if set.set_type != SetType::ListSet {
        let found = sets.test(&m.name, &parts).unwrap_or(false)
            && match_extensions(
                sets,
                &m.name,
                exact_element(sets, &m.name, &m.dirs, f)?,
                &tests,
                !m.skip_counter_update,
                len,
            )?;
        return Ok(found != m.invert);
    }
    // list_set_ktest: members in order; the first that holds the packet has its element's
    // counters updated (without counter tests, unless `! --update-subcounters`), then the
    // list's own entry for it is tested and updated; a failed test goes on to the next.
    let members: Vec<String> = set
        .members
        .iter()
        .filter_map(|e| match &e.elem {
            Elem::Set(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    let none = CounterTests {
        packets: &None,
        bytes: &None,
    };
    for member in members {
        if !sets.test(&member, &parts).unwrap_or(false) {
            continue;
        }
        let elem = exact_element(sets, &member, &m.dirs, f)?;
        let update_sub = !m.skip_subcounter_update && !m.skip_counter_update;
        if !match_extensions(sets, &member, elem, &none, update_sub, len)? {
            continue;
        }
        let entry = Some(Elem::Set(member));
        if match_extensions(sets, &m.name, entry, &tests, !m.skip_counter_update, len)? {
            return Ok(!m.invert);
        }
    }
    Ok(m.invert)
}

/// The element `-j SET` makes of the packet for `set`, if its type is modelled; `Ok(None)`
/// when the kernel's kadt refuses the packet (no port, address masking to 0, wrong family).
fn element(set: &IpSet, dirs: &[SetDir], f: &Facts) -> Result<Option<Elem>, String> {
    let t = set.set_type;
    if !matches!(
        t,
        SetType::HashIp | SetType::HashIpPort | SetType::HashIpPortIp
    ) {
        return Err(format!(
            "SET: adding packets to {} sets is not modelled",
            t.name()
        ));
    }
    let v6 = f.info.is_ipv6();
    let family_ok = match set.family {
        Family::Inet => !v6,
        Family::Inet6 => v6,
        Family::Unspec => true,
    };
    if dirs.len() < t.dimension() || !family_ok {
        return Ok(None);
    }
    let Some(p) = parts(kinds(t), dirs, f)? else {
        return Ok(None);
    };
    let mask = |a: IpAddr| match &set.header {
        Header::Hash(h) => and_addr(a, h.bitmask),
        _ => a,
    };
    let addr = |i: usize| match p.get(i) {
        Some(SetPart::Addr(a)) => Some(*a),
        _ => None,
    };
    let port = |i: usize| match p.get(i) {
        Some(SetPart::Port { proto, port }) => Some(ProtoPort {
            proto: *proto,
            port: if crate::rules::ipset::elem::with_ports(*proto) || matches!(*proto, 1 | 58) {
                *port
            } else {
                0
            },
        }),
        _ => None,
    };
    let a = addr(0).map(mask).filter(|a| !a.is_unspecified());
    Ok(match (t, a) {
        (SetType::HashIp, Some(a)) => Some(Elem::Ip(a)),
        (SetType::HashIpPort, Some(a)) => port(1).map(|p| Elem::IpPort(a, p)),
        (SetType::HashIpPortIp, Some(a)) => match (port(1), addr(2)) {
            (Some(p), Some(b)) => Some(Elem::IpPortIp(a, p, b)),
            _ => None,
        },
        _ => None,
    })
}

/// set_target_v3: add, then delete; errors of the set operations are ignored, as the
/// kernel ignores them.
pub fn target(
    sets: &mut IpSets,
    tm: &mut Timeouts,
    t: &SetTarget,
    f: &Facts,
) -> Result<(), String> {
    if t.map_set.is_some() {
        return Err("SET --map-set is not modelled".into());
    }
    let now = jiffies(f.now_ns);
    tm.expire(sets, now);
    if let Some(r) = &t.add_set {
        add(sets, tm, t, r, f, now)?;
    }
    if let Some(r) = &t.del_set {
        let set = sets
            .get(&r.name)
            .ok_or_else(|| format!("SET: no set `{}' in the sets file", r.name))?;
        if let Some(e) = element(set, &r.dirs, f)? {
            if let Some(s) = sets.set_mut(&r.name) {
                if let Some(i) = s.members.find(&e) {
                    s.members.remove(i);
                    tm.disarm(&r.name, &e);
                }
            }
        }
    }
    Ok(())
}

fn add(
    sets: &mut IpSets,
    tm: &mut Timeouts,
    t: &SetTarget,
    r: &SetRef,
    f: &Facts,
    now: i64,
) -> Result<(), String> {
    let set = sets
        .get(&r.name)
        .ok_or_else(|| format!("SET: no set `{}' in the sets file", r.name))?;
    let Some(e) = element(set, &r.dirs, f)? else {
        return Ok(());
    };
    // ip_set_adt_opt_timeout: --timeout, else the set's default.
    let timeout = t.timeout.map(|v| v.min(MAX_TIMEOUT)).or(set.ext.timeout);
    let with_timeout = set.ext.timeout.is_some();
    let with_counters = set.ext.counters;
    let len = u64::from(f.info.total_len);
    let full = match &set.header {
        Header::Hash(h) => {
            if h.forceadd && set.members.len() as u64 >= u64::from(h.maxelem) {
                return Err("SET: the set is full and has forceadd".into());
            }
            set.members.len() as u64 >= u64::from(h.maxelem)
        }
        _ => false,
    };
    let Some(s) = sets.set_mut(&r.name) else {
        return Ok(());
    };
    // ip_set_init_counter sets (not adds) the packet's 1 and skb->len, also when --exist
    // overwrites; comment and skbinfo are cleared.
    let ext = EntryExt {
        timeout: with_timeout.then_some(timeout.unwrap_or(0)),
        counters: with_counters.then_some((1, len)),
        ..EntryExt::default()
    };
    match s.members.find(&e) {
        // mtype_add: an element there is overwritten only with --exist.
        Some(i) if t.exist => {
            if let Some(entry) = s.members.get_mut(i) {
                entry.ext = ext;
                entry.nomatch = false;
            }
        }
        Some(_) => return Ok(()),
        None if full => return Ok(()),
        None => s.members.push(Entry {
            elem: e.clone(),
            nomatch: false,
            ext,
        }),
    }
    match timeout.filter(|&v| with_timeout && v != 0) {
        Some(v) => tm.arm(&r.name, &e, now + i64::from(v) * HZ),
        None => tm.disarm(&r.name, &e),
    }
    Ok(())
}

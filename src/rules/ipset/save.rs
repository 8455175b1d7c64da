//! Printing sets as `ipset save` (7.17) prints them. Every format detail below was checked
//! against the kernel's output:
//! - sets in index order, `list:set` sets after all others (the kernel dumps them last so a
//!   restore finds their members);
//! - the create line's options in the order ipset's type tables print them, which differs by
//!   type: `hash:ip` puts `netmask`/`bitmask` after `maxelem`, `hash:ip,port` after `initval`;
//!   `forceadd` is never printed; `initval` is `0x%08x`;
//! - element options in the order `timeout`, `nomatch`, `wildcard`, `packets`/`bytes`,
//!   `comment "..."` (quoted, nothing escaped), `skbmark` (`0xMARK` when the mask is all ones,
//!   else `0xMARK/0xMASK`, omitted when both are 0), `skbprio` (`%x:%x`, omitted when 0),
//!   `skbqueue` (omitted when 0);
//! - addresses as glibc's `inet_ntop` writes them, `/len` left out for host prefixes;
//!   protocols by their `/etc/protocols` name (`ipv6-icmp`, `gre`), ICMP types by ipset's
//!   name when it has one, else `TYPE/CODE`.

use std::fmt::Write;
use std::net::IpAddr;

use super::elem::{self, icmp_name, IPPROTO_ICMP, IPPROTO_ICMPV6};
use super::{Cidr, Elem, Entry, Header, IpSet, IpSets, ProtoPort, SetType};
use crate::rules::addr::fmt_addr;
use crate::rules::names::Names;

pub fn save(sets: &IpSets, names: &Names) -> String {
    let mut out = String::new();
    let (lists, others): (Vec<&IpSet>, Vec<&IpSet>) =
        sets.iter().partition(|s| s.set_type == SetType::ListSet);
    for set in others.into_iter().chain(lists) {
        save_set(&mut out, set, names);
    }
    out
}

/// One set: its create line and its elements.
pub fn save_set(out: &mut String, set: &IpSet, names: &Names) {
    let _ = write!(out, "create {} {}", set.name, set.set_type.name());
    header(out, set);
    out.push('\n');
    for e in set.entries() {
        let _ = write!(out, "add {} ", set.name);
        elem_text(out, &e.elem, names);
        entry_options(out, set, e);
        out.push('\n');
    }
}

fn header(out: &mut String, set: &IpSet) {
    let ext = |out: &mut String| {
        if let Some(t) = set.ext.timeout {
            let _ = write!(out, " timeout {t}");
        }
        for (on, word) in [
            (set.ext.counters, " counters"),
            (set.ext.comment, " comment"),
            (set.ext.skbinfo, " skbinfo"),
        ] {
            if on {
                out.push_str(word);
            }
        }
    };
    match &set.header {
        Header::Hash(h) => {
            if set.set_type.takes_family() {
                let _ = write!(out, " family {}", set.family.name());
            }
            let _ = write!(out, " hashsize {} maxelem {}", h.hashsize, h.maxelem);
            let mut masks = String::new();
            let width = set.family.host_len();
            if h.netmask != width {
                let _ = write!(masks, " netmask {}", h.netmask);
            } else if !all_ones(h.bitmask) {
                masks.push_str(" bitmask ");
                fmt_addr(&mut masks, h.bitmask);
            }
            if set.set_type == SetType::HashIp {
                out.push_str(&masks);
            }
            ext(out);
            let _ = write!(out, " bucketsize {}", h.bucketsize);
            if let Some(iv) = h.initval {
                let _ = write!(out, " initval 0x{iv:08x}");
            }
            if set.set_type == SetType::HashIpPort {
                out.push_str(&masks);
            }
        }
        Header::BitmapIp {
            first,
            last,
            netmask,
        } => {
            let _ = write!(out, " range {first}-{last}");
            if *netmask != 32 {
                let _ = write!(out, " netmask {netmask}");
            }
            ext(out);
        }
        Header::BitmapPort { first, last } => {
            let _ = write!(out, " range {first}-{last}");
            ext(out);
        }
        Header::List { size } => {
            let _ = write!(out, " size {size}");
            ext(out);
        }
    }
}

fn all_ones(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => u32::from(a) == u32::MAX,
        IpAddr::V6(a) => u128::from(a) == u128::MAX,
    }
}

/// An element as `ipset save` writes it (`ipset_print_elem`).
pub fn elem_text(out: &mut String, e: &Elem, names: &Names) {
    match e {
        Elem::Ip(a) => fmt_addr(out, *a),
        Elem::Net(c) => cidr(out, c),
        Elem::IpPort(a, p) => {
            fmt_addr(out, *a);
            out.push(',');
            proto_port(out, p, names);
        }
        Elem::NetPort(c, p) => {
            cidr(out, c);
            out.push(',');
            proto_port(out, p, names);
        }
        Elem::IpPortIp(a, p, b) => {
            fmt_addr(out, *a);
            out.push(',');
            proto_port(out, p, names);
            out.push(',');
            fmt_addr(out, *b);
        }
        Elem::IpPortNet(a, p, c) => {
            fmt_addr(out, *a);
            out.push(',');
            proto_port(out, p, names);
            out.push(',');
            cidr(out, c);
        }
        Elem::NetIface(c, i) => {
            cidr(out, c);
            out.push(',');
            if i.physdev {
                out.push_str("physdev:");
            }
            out.push_str(&i.name);
        }
        Elem::Mac(m) => {
            // ipset_print_ether: upper-case hex (hash:mac is not in this machine's kernel,
            // so this form is ipset's source, not a checked output).
            let parts: Vec<String> = m.iter().map(|b| format!("{b:02X}")).collect();
            out.push_str(&parts.join(":"));
        }
        Elem::Port(p) => {
            let _ = write!(out, "{p}");
        }
        Elem::Set(n) => out.push_str(n),
    }
}

fn cidr(out: &mut String, c: &Cidr) {
    fmt_addr(out, c.addr);
    if !c.is_host() {
        let _ = write!(out, "/{}", c.prefix);
    }
}

fn proto_port(out: &mut String, p: &ProtoPort, names: &Names) {
    match names
        .protocol_name(p.proto)
        .or_else(|| elem::builtin_proto_name(p.proto))
    {
        Some(n) => out.push_str(n),
        None => {
            let _ = write!(out, "{}", p.proto);
        }
    }
    out.push(':');
    if matches!(p.proto, IPPROTO_ICMP | IPPROTO_ICMPV6) {
        match icmp_name(p.proto == IPPROTO_ICMPV6, p.port) {
            Some(n) => out.push_str(n),
            None => {
                let _ = write!(out, "{}/{}", p.port >> 8, p.port & 0xff);
            }
        }
    } else {
        let _ = write!(out, "{}", p.port);
    }
}

fn entry_options(out: &mut String, set: &IpSet, e: &Entry) {
    if let Some(t) = e.ext.timeout {
        let _ = write!(out, " timeout {t}");
    }
    if e.nomatch {
        out.push_str(" nomatch");
    }
    if let Elem::NetIface(_, i) = &e.elem {
        if i.wildcard {
            out.push_str(" wildcard");
        }
    }
    if let Some((p, b)) = e.ext.counters {
        let _ = write!(out, " packets {p} bytes {b}");
    }
    if let Some(c) = &e.ext.comment {
        let _ = write!(out, " comment \"{c}\"");
    }
    if set.ext.skbinfo {
        let (mark, mask) = e.ext.skbmark;
        if mark != 0 || mask != 0 {
            if mask == u32::MAX {
                let _ = write!(out, " skbmark 0x{mark:x}");
            } else {
                let _ = write!(out, " skbmark 0x{mark:x}/0x{mask:x}");
            }
        }
        if e.ext.skbprio != 0 {
            let _ = write!(
                out,
                " skbprio {:x}:{:x}",
                e.ext.skbprio >> 16,
                e.ext.skbprio & 0xffff
            );
        }
        if e.ext.skbqueue != 0 {
            let _ = write!(out, " skbqueue {}", e.ext.skbqueue);
        }
    }
}

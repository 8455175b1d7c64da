//! Elements as `add`/`del` lines write them, before expansion ([`super::expand`]).
//!
//! Parsing follows ipset's userspace (`ipset_parse_elem` and the per-type part parsers):
//! parts are split at `,` (a separator as first or last character does not count), an IPv4
//! part may be `IP`, `IP/CIDR` or `FROM-TO` where the type allows it (IPv6 parts never take
//! a range, and the `ip` types' IPv6 part takes no prefix but `/128`), a port part is
//! `[PROTO:]PORT[-PORT]` with `icmp:NAME|TYPE/CODE`, `icmpv6:...` and `PROTO:0` for protocols
//! without ports.

use std::net::IpAddr;

use super::lex::{self, find_range_sep, find_sep};
use super::{Family, IfaceElem, SetType};
use crate::rules::names::Names;

pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_SCTP: u8 = 132;
pub const IPPROTO_UDPLITE: u8 = 136;

/// Protocols whose elements carry a real port (`ip_set_proto_with_ports`).
pub fn with_ports(proto: u8) -> bool {
    matches!(
        proto,
        IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | IPPROTO_UDPLITE
    )
}

/// ipset's ICMP names (lib/icmp.c), in its table order: printing uses the first name of a
/// type/code. Checked on the kernel by adding each `TYPE/CODE` and reading the name back.
pub const ICMP_NAMES: &[(&str, u8, u8)] = &[
    ("echo-reply", 0, 0),
    ("pong", 0, 0),
    ("network-unreachable", 3, 0),
    ("host-unreachable", 3, 1),
    ("protocol-unreachable", 3, 2),
    ("port-unreachable", 3, 3),
    ("fragmentation-needed", 3, 4),
    ("source-route-failed", 3, 5),
    ("network-unknown", 3, 6),
    ("host-unknown", 3, 7),
    ("network-prohibited", 3, 9),
    ("host-prohibited", 3, 10),
    ("TOS-network-unreachable", 3, 11),
    ("TOS-host-unreachable", 3, 12),
    ("communication-prohibited", 3, 13),
    ("host-precedence-violation", 3, 14),
    ("precedence-cutoff", 3, 15),
    ("source-quench", 4, 0),
    ("network-redirect", 5, 0),
    ("host-redirect", 5, 1),
    ("TOS-network-redirect", 5, 2),
    ("TOS-host-redirect", 5, 3),
    ("echo-request", 8, 0),
    ("ping", 8, 0),
    ("router-advertisement", 9, 0),
    ("router-solicitation", 10, 0),
    ("ttl-zero-during-transit", 11, 0),
    ("ttl-zero-during-reassembly", 11, 1),
    ("ip-header-bad", 12, 0),
    ("required-option-missing", 12, 1),
    ("timestamp-request", 13, 0),
    ("timestamp-reply", 14, 0),
    ("address-mask-request", 17, 0),
    ("address-mask-reply", 18, 0),
];

/// ipset's ICMPv6 names (lib/icmpv6.c), misspelt aliases included.
pub const ICMPV6_NAMES: &[(&str, u8, u8)] = &[
    ("no-route", 1, 0),
    ("communication-prohibited", 1, 1),
    ("address-unreachable", 1, 3),
    ("port-unreachable", 1, 4),
    ("packet-too-big", 2, 0),
    ("ttl-zero-during-transit", 3, 0),
    ("ttl-zero-during-reassembly", 3, 1),
    ("bad-header", 4, 0),
    ("unknown-header-type", 4, 1),
    ("unknown-option", 4, 2),
    ("echo-request", 128, 0),
    ("ping", 128, 0),
    ("echo-reply", 129, 0),
    ("pong", 129, 0),
    ("router-solicitation", 133, 0),
    ("router-advertisement", 134, 0),
    ("neighbour-solicitation", 135, 0),
    ("neigbour-solicitation", 135, 0),
    ("neighbour-advertisement", 136, 0),
    ("neigbour-advertisement", 136, 0),
    ("redirect", 137, 0),
];

/// The name ipset prints for an ICMP(v6) type/code, if it has one.
pub fn icmp_name(v6: bool, typecode: u16) -> Option<&'static str> {
    let table = if v6 { ICMPV6_NAMES } else { ICMP_NAMES };
    let (t, c) = ((typecode >> 8) as u8, typecode as u8);
    table
        .iter()
        .find(|(_, tt, cc)| *tt == t && *cc == c)
        .map(|(n, _, _)| *n)
}

/// An address part as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrSpec {
    Single(IpAddr),
    Cidr(IpAddr, u8),
    Range(IpAddr, IpAddr),
}

impl AddrSpec {
    pub fn addr(&self) -> IpAddr {
        match *self {
            AddrSpec::Single(a) | AddrSpec::Cidr(a, _) | AddrSpec::Range(a, _) => a,
        }
    }
}

/// A `[PROTO:]PORT[-PORT]` part as written (`to == from` for one port).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub proto: u8,
    pub from: u16,
    pub to: Option<u16>,
}

/// An element as written, before expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Ip(AddrSpec),
    Net(AddrSpec),
    IpPort(AddrSpec, PortSpec),
    NetPort(AddrSpec, PortSpec),
    IpPortIp(AddrSpec, PortSpec, IpAddr),
    IpPortNet(AddrSpec, PortSpec, AddrSpec),
    NetIface(AddrSpec, IfaceElem),
    Mac([u8; 6]),
    Port(u16, Option<u16>),
    /// `list:set`: member, and `(before, reference)` from the `a,before,b` form.
    Set(String, Option<(bool, String)>),
}

/// A parse error: character offset in the element text and message.
pub type ElemError = (usize, String);

/// Tags a part's error with the part's offset in the element.
fn at<T>(off: usize, r: Result<T, String>) -> Result<T, ElemError> {
    r.map_err(|m| (off, m))
}

/// How an address part may be written (ipset's `IPADDR_*` kinds and their wrappers).
#[derive(Clone, Copy, PartialEq, Eq)]
enum AddrKind {
    /// IP, IP/CIDR or FROM-TO.
    Any,
    /// A plain address (`/32` or `/128` tolerated).
    Plain,
    /// IP or IP/CIDR.
    IpNet,
}

/// Set names are at most 31 bytes (`IPSET_MAXNAMELEN` less the terminator).
pub const MAX_NAME: usize = 31;

/// Parses the element text of an `add`/`del` line for a set of type `t` and family `fam`.
pub fn parse(t: SetType, fam: Family, s: &str, names: &Names) -> Result<Spec, ElemError> {
    let dim = t.dimension();
    if t == SetType::ListSet {
        return parse_set_name(s);
    }
    // Split at the element separator, as ipset_parse_elem does.
    let a = find_sep(s, ',');
    let (p1, rest) = match a {
        Some(i) if dim > 1 => (&s[..i], Some((i + 1, &s[i + 1..]))),
        None if dim > 1 => return Err((0, format!("second element is missing from `{s}'"))),
        Some(i) => {
            return Err((
                i,
                format!("`{s}': {} takes one part, without `,'", t.name()),
            ))
        }
        None => (s, None),
    };
    let (p2, p3) = match rest {
        None => (None, None),
        Some((off, r)) => match find_sep(r, ',') {
            Some(j) if dim > 2 => {
                let p3 = &r[j + 1..];
                if find_sep(p3, ',').is_some() {
                    return Err((off + j, format!("`{s}': too many `,' separators")));
                }
                (Some((off, &r[..j])), Some((off + j + 1, p3)))
            }
            None if dim > 2 => return Err((off, format!("third element is missing from `{s}'"))),
            Some(j) => {
                return Err((
                    off + j,
                    format!("`{s}': {} takes two parts, not three", t.name()),
                ))
            }
            None => (Some((off, r)), None),
        },
    };
    let v6 = fam == Family::Inet6;
    let p2 = p2.unwrap_or((0, ""));
    let p3 = p3.unwrap_or((0, ""));
    Ok(match t {
        SetType::HashIp => Spec::Ip(at(0, addr_part(p1, v6, first_kind(v6)))?),
        SetType::BitmapIp => Spec::Ip(at(0, addr_part(p1, false, AddrKind::Any))?),
        SetType::HashNet => Spec::Net(at(0, addr_part(p1, v6, net_kind(v6)))?),
        SetType::HashIpPort => Spec::IpPort(
            at(0, addr_part(p1, v6, first_kind(v6)))?,
            at(p2.0, proto_port(p2.1, v6, names))?,
        ),
        SetType::HashNetPort => Spec::NetPort(
            at(0, addr_part(p1, v6, net_kind(v6)))?,
            at(p2.0, proto_port(p2.1, v6, names))?,
        ),
        SetType::HashIpPortIp => {
            let ip2 = match at(p3.0, addr_part(p3.1, v6, AddrKind::Plain))? {
                AddrSpec::Single(a) => a,
                _ => {
                    return Err((
                        p3.0,
                        format!("`{}': the third part must be a plain address", p3.1),
                    ))
                }
            };
            Spec::IpPortIp(
                at(0, addr_part(p1, v6, first_kind(v6)))?,
                at(p2.0, proto_port(p2.1, v6, names))?,
                ip2,
            )
        }
        SetType::HashIpPortNet => Spec::IpPortNet(
            at(0, addr_part(p1, v6, first_kind(v6)))?,
            at(p2.0, proto_port(p2.1, v6, names))?,
            at(p3.0, addr_part(p3.1, v6, net_kind(v6)))?,
        ),
        SetType::HashNetIface => Spec::NetIface(
            at(0, addr_part(p1, v6, net_kind(v6)))?,
            at(p2.0, iface(p2.1))?,
        ),
        SetType::HashMac => Spec::Mac(at(0, mac(p1))?),
        SetType::BitmapPort => {
            let pp = at(0, proto_port(p1, false, names))?;
            if !matches!(pp.proto, IPPROTO_TCP | IPPROTO_UDP) {
                // ipset 7.17 crashes on `icmp:...` here; tcp and udp are all it means to take.
                return Err((0, format!("`{p1}': only tcp and udp ports are valid here")));
            }
            Spec::Port(pp.from, pp.to)
        }
        SetType::ListSet => return parse_set_name(s),
    })
}

/// The first address part of the `ip` types: IPv4 takes ranges, IPv6 a plain address.
fn first_kind(v6: bool) -> AddrKind {
    if v6 {
        AddrKind::Plain
    } else {
        AddrKind::Any
    }
}

/// The address part of the `net` types: IPv4 takes ranges, IPv6 only `IP[/CIDR]`.
fn net_kind(v6: bool) -> AddrKind {
    if v6 {
        AddrKind::IpNet
    } else {
        AddrKind::Any
    }
}

/// An address part (`parse_ip` with its kind checks, then `parse_ipaddr`).
fn addr_part(s: &str, v6: bool, kind: AddrKind) -> Result<AddrSpec, String> {
    let width: u64 = if v6 { 128 } else { 32 };
    let cidr = find_sep(s, '/');
    let range = find_range_sep(s);
    match kind {
        AddrKind::Plain => {
            let host = cidr.is_some_and(|i| s[i + 1..] == *width.to_string());
            if range.is_some() || (cidr.is_some() && !host) {
                return Err(format!("`{s}': a plain address is expected here"));
            }
        }
        AddrKind::IpNet if range.is_some() => {
            return Err(format!(
                "`{s}': an address or address/prefix is expected here"
            ));
        }
        _ => {}
    }
    if let Some(i) = cidr {
        let len = lex::num(&s[i + 1..], 0, width).map_err(|m| format!("prefix length: {m}"))? as u8;
        let a = lex::parse_addr(&s[..i], v6)?;
        if kind == AddrKind::Plain {
            return Ok(AddrSpec::Single(a));
        }
        return Ok(AddrSpec::Cidr(a, len));
    }
    if let Some(i) = range {
        let a = lex::parse_addr(&s[..i], v6)?;
        let b = lex::parse_addr(&s[i + 1..], v6)?;
        return Ok(AddrSpec::Range(a, b));
    }
    Ok(AddrSpec::Single(lex::parse_addr(s, v6)?))
}

/// A protocol by number or name, as `ipset_parse_proto` reads it (`icmpv6` means
/// `ipv6-icmp`; a number must be known to the protocols file too; 0 is refused).
fn protocol(s: &str, names: &Names) -> Result<u8, String> {
    let p = match lex::parse_num(s, 0, 255) {
        Ok(n) => {
            let n = n as u8;
            if names.protocol_name(n).is_none() && builtin_proto_name(n).is_none() {
                return Err(format!("`{s}' is not a known protocol"));
            }
            n
        }
        Err(_) => {
            let name = if s.eq_ignore_ascii_case("icmpv6") {
                "ipv6-icmp"
            } else {
                s
            };
            names
                .protocol_number(name)
                .or_else(|| builtin_proto_number(name))
                .ok_or_else(|| format!("`{s}' is not a known protocol"))?
        }
    };
    if p == 0 {
        return Err(format!("protocol `{s}' is not supported"));
    }
    Ok(p)
}

/// The protocols ipset users write, for machines without `/etc/protocols`.
fn builtin_proto_number(name: &str) -> Option<u8> {
    Some(match name {
        "tcp" => IPPROTO_TCP,
        "udp" => IPPROTO_UDP,
        "icmp" => IPPROTO_ICMP,
        "ipv6-icmp" => IPPROTO_ICMPV6,
        "sctp" => IPPROTO_SCTP,
        "udplite" => IPPROTO_UDPLITE,
        _ => return None,
    })
}

pub fn builtin_proto_name(n: u8) -> Option<&'static str> {
    Some(match n {
        IPPROTO_TCP => "tcp",
        IPPROTO_UDP => "udp",
        IPPROTO_ICMP => "icmp",
        IPPROTO_ICMPV6 => "ipv6-icmp",
        IPPROTO_SCTP => "sctp",
        IPPROTO_UDPLITE => "udplite",
        _ => return None,
    })
}

/// `[PROTO:]PORT[-PORT]` (`ipset_parse_proto_port`).
pub fn proto_port(s: &str, v6: bool, names: &Names) -> Result<PortSpec, String> {
    let Some(i) = find_sep(s, ':') else {
        return port_range(s, IPPROTO_TCP, "tcp", names);
    };
    let (ps, rest) = (&s[..i], &s[i + 1..]);
    let proto = protocol(ps, names)?;
    match proto {
        IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | IPPROTO_UDPLITE => {
            // Service names are looked up under the protocol as typed (`UDP:domain` fails,
            // `udp:domain` works), or under its canonical name when given by number
            // (`17:domain` works) — checked on ipset 7.17.
            let pname = if lex::parse_num(ps, 0, 255).is_ok() {
                names
                    .protocol_name(proto)
                    .or_else(|| builtin_proto_name(proto))
                    .unwrap_or("tcp")
            } else {
                ps
            };
            port_range(rest, proto, pname, names)
        }
        IPPROTO_ICMP | IPPROTO_ICMPV6 => {
            let is_v6 = proto == IPPROTO_ICMPV6;
            if is_v6 != v6 {
                return Err(format!(
                    "protocol {} can be used with family {} only",
                    if is_v6 { "ICMPv6" } else { "ICMP" },
                    if is_v6 { "inet6" } else { "inet" }
                ));
            }
            let table = if is_v6 { ICMPV6_NAMES } else { ICMP_NAMES };
            let tc = match table.iter().find(|(n, _, _)| *n == rest) {
                Some((_, t, c)) => (*t, *c),
                None => icmp_typecode(rest, is_v6)?,
            };
            Ok(PortSpec {
                proto,
                from: u16::from(tc.0) << 8 | u16::from(tc.1),
                to: None,
            })
        }
        _ => {
            if rest != "0" {
                return Err(format!(
                    "protocol `{ps}' has no ports: only the pseudo port 0 is valid"
                ));
            }
            Ok(PortSpec {
                proto,
                from: 0,
                to: None,
            })
        }
    }
}

fn icmp_typecode(s: &str, v6: bool) -> Result<(u8, u8), String> {
    let what = if v6 { "ICMPv6" } else { "ICMP" };
    let i =
        find_sep(s, '/').ok_or_else(|| format!("`{s}' is neither an {what} name nor TYPE/CODE"))?;
    let t = lex::num(&s[..i], 0, 255)?;
    let c = lex::num(&s[i + 1..], 0, 255)?;
    Ok((t as u8, c as u8))
}

fn port_range(s: &str, proto: u8, pname: &str, names: &Names) -> Result<PortSpec, String> {
    let (from, to) = match find_range_sep(s) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let to = match to {
        Some(t) => Some(port(t, pname, names)?),
        None => None,
    };
    Ok(PortSpec {
        proto,
        from: port(from, pname, names)?,
        to,
    })
}

/// A port number or service name (`ipset_parse_port`).
fn port(s: &str, pname: &str, names: &Names) -> Result<u16, String> {
    if let Ok(n) = lex::parse_num(s, 0, 65535) {
        return Ok(n as u16);
    }
    let bare = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    names
        .service_port(bare, pname)
        .ok_or_else(|| format!("`{s}' is not a {pname} port number or service name"))
}

/// `[physdev:]NAME` (`ipset_parse_iface`).
fn iface(s: &str) -> Result<IfaceElem, String> {
    let (name, physdev) = match s.strip_prefix("physdev:") {
        Some(n) => (n, true),
        None => (s, false),
    };
    if name.len() > 15 {
        return Err(format!(
            "interface name `{name}' is longer than 15 characters"
        ));
    }
    Ok(IfaceElem {
        name: name.to_string(),
        physdev,
        wildcard: false,
    })
}

fn mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split(':').collect();
    let mut out = [0u8; 6];
    if parts.len() != 6 {
        return Err(format!("`{s}' is not an Ethernet address"));
    }
    for (o, p) in out.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 2 {
            return Err(format!("`{s}' is not an Ethernet address"));
        }
        *o = u8::from_str_radix(p, 16).map_err(|_| format!("`{s}' is not an Ethernet address"))?;
    }
    Ok(out)
}

/// A `list:set` element: `NAME` or the old `NAME,before|after,NAME` form.
fn parse_set_name(s: &str) -> Result<Spec, ElemError> {
    let check = |n: &str, off: usize| {
        if n.len() > MAX_NAME {
            Err((
                off,
                format!("set name `{n}' is longer than {MAX_NAME} characters"),
            ))
        } else {
            Ok(n.to_string())
        }
    };
    let Some(i) = find_sep(s, ',') else {
        return Ok(Spec::Set(check(s, 0)?, None));
    };
    let rest = &s[i + 1..];
    let (word, r) = match find_sep(rest, ',') {
        Some(j) if matches!(&rest[..j], "before" | "after") => (&rest[..j], &rest[j + 1..]),
        _ => {
            return Err((
                i,
                "elements must be written NAME,before,NAME or NAME,after,NAME".to_string(),
            ))
        }
    };
    Ok(Spec::Set(
        check(&s[..i], 0)?,
        Some((word == "before", check(r, s.len() - r.len())?)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::from_texts("", "", "tcp 6\n")
    }

    #[test]
    fn list_set_compat_form() {
        assert_eq!(
            parse(SetType::ListSet, Family::Unspec, "c,before,b", &names()),
            Ok(Spec::Set("c".into(), Some((true, "b".into()))))
        );
        assert!(parse(SetType::ListSet, Family::Unspec, "c,beside,b", &names()).is_err());
    }
}

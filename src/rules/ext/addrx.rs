//! Matches on what an address is rather than on a prefix: `-m addrtype` (the routing table's
//! verdict on an address: LOCAL, BROADCAST, ...), `-m iprange` (an inclusive range of
//! addresses) and `-m mac` (the Ethernet source address).
//!
//! The details follow iptables 1.8.9's libxt_addrtype.c, libxt_iprange.c and libxt_mac.c, and
//! the kernel's xt_addrtype.c and xt_mac.c, checked against the real binary: a type name may
//! be abbreviated to any prefix, iprange takes iptables' own dotted-quad reader (`1.2.3` is
//! `1.2.3.0`, `010` is octal), and MAC addresses print in lower case.

use std::fmt::Write;
use std::net::{IpAddr, Ipv6Addr};

use super::util::{once, required, save_invert};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::addr::{fmt_addr, numeric_to_ipaddr};
use crate::rules::model::{Hook, Neg};

/// Every hook, as a mask of `Hook::bit`s.
pub(super) const ALL_HOOKS: u8 = (1 << Hook::ALL.len()) - 1;

/// The route types, in the order of `enum rtn_type` (linux/rtnetlink.h): bit i of a type mask
/// is `RTN_NAMES[i]`. iptables prints and matches abbreviations in this order.
const RTN_NAMES: [&str; 12] = [
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

/// A set of route types (`xt_addrtype_info_v1.source` / `.dest`), bit i = `RTN_NAMES[i]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrTypes(pub u16);

impl AddrTypes {
    pub const BROADCAST: u16 = 1 << 3;
    pub const BLACKHOLE: u16 = 1 << 6;
    pub const PROHIBIT: u16 = 1 << 8;

    /// `TYPE[,TYPE...]` as libxt_addrtype's parse_types reads it: each part is matched
    /// case-insensitively as a prefix of a type name, the first name in `RTN_NAMES` order
    /// winning (`L` is LOCAL, `U` is UNSPEC); an empty part is an error.
    fn parse(o: &OptArg) -> Result<AddrTypes, ExtError> {
        let arg = o.arg();
        let mut mask = 0u16;
        let parts: Vec<&str> = arg.split(',').collect();
        for (i, part) in parts.iter().enumerate() {
            let bit = RTN_NAMES.iter().position(|name| {
                !part.is_empty()
                    && part.len() <= name.len()
                    && name[..part.len()].eq_ignore_ascii_case(part)
            });
            match bit {
                Some(b) => mask |= 1 << b,
                None if i + 1 < parts.len() => {
                    // iptables quotes the rest of the list from the bad part on.
                    let rest = parts[i..].join(",");
                    return Err(o.bad(format!("addrtype: bad type `{rest}'")));
                }
                None => return Err(o.bad(format!("addrtype: bad type \"{part}\""))),
            }
        }
        Ok(AddrTypes(mask))
    }

    /// `UNICAST,LOCAL`: the names of the set bits, in bit order (print_types).
    fn write(self, out: &mut String) {
        let names: Vec<&str> = RTN_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        out.push_str(&names.join(","));
    }
}

/// addrtype_mt_checkentry_v1: IPv6 routes have no BLACKHOLE, BROADCAST or any type after
/// UNREACHABLE, and the kernel refuses rules that ask for them.
fn refuse_for_v6(types: u16) -> Result<(), ExtError> {
    let what = if types & AddrTypes::BLACKHOLE != 0 {
        "BLACKHOLE"
    } else if types >= AddrTypes::PROHIBIT {
        "PROHIBIT (THROW, NAT ..)"
    } else if types & AddrTypes::BROADCAST != 0 {
        "BROADCAST"
    } else {
        return Ok(());
    };
    Err(ExtError::whole(format!(
        "addrtype: ipv6 {what} matching not supported (the kernel refuses it)"
    )))
}

/// `--limit-iface-in` / `--limit-iface-out`: look the address up on the packet's own device
/// only (`XT_ADDRTYPE_LIMIT_IFACE_IN` / `_OUT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitIface {
    In,
    Out,
}

/// `-m addrtype` (revision 1, which iptables 1.8.9 uses for both families).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrType {
    pub source: Option<Neg<AddrTypes>>,
    pub dest: Option<Neg<AddrTypes>>,
    pub limit_iface: Option<LimitIface>,
}

impl Extension for AddrType {
    const NAME: &'static str = "addrtype";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("src-type", Arity::One, true),
        Opt::new("dst-type", Arity::One, true),
        Opt::new("limit-iface-in", Arity::Zero, false),
        Opt::new("limit-iface-out", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let types = |name| -> Result<Option<Neg<AddrTypes>>, ExtError> {
            once(opts, name)?
                .map(|o| Ok(Neg::new(o.invert, AddrTypes::parse(o)?)))
                .transpose()
        };
        let source = types("src-type")?;
        let dest = types("dst-type")?;
        let limit_in = once(opts, "limit-iface-in")?;
        let limit_out = once(opts, "limit-iface-out")?;
        let limit_iface = match (limit_in, limit_out) {
            (Some(_), Some(o)) => {
                return Err(o.err(
                    "addrtype: --limit-iface-in and --limit-iface-out cannot be used together",
                ))
            }
            (Some(_), None) => Some(LimitIface::In),
            (None, Some(_)) => Some(LimitIface::Out),
            (None, None) => None,
        };
        if source.is_none() && dest.is_none() {
            return Err(ExtError::whole(
                "addrtype: you must specify --src-type or --dst-type",
            ));
        }
        if ctx.v6() {
            let all = [&source, &dest]
                .iter()
                .flat_map(|t| t.as_ref())
                .fold(0, |a, t| a | t.value.0);
            refuse_for_v6(all)?;
        }
        Ok(AddrType {
            source,
            dest,
            limit_iface,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        for (opt, types) in [("src-type", &self.source), ("dst-type", &self.dest)] {
            if let Some(t) = types {
                save_invert(out, t.invert);
                let _ = write!(out, " --{opt} ");
                t.value.write(out);
            }
        }
        match self.limit_iface {
            Some(LimitIface::In) => out.push_str(" --limit-iface-in"),
            Some(LimitIface::Out) => out.push_str(" --limit-iface-out"),
            None => {}
        }
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" ADDRTYPE match");
        for (label, types) in [("src-type", &self.source), ("dst-type", &self.dest)] {
            if let Some(t) = types {
                let _ = write!(out, " {label} {}", if t.invert { "!" } else { "" });
                t.value.write(out);
            }
        }
        match self.limit_iface {
            Some(LimitIface::In) => out.push_str(" limit-in"),
            Some(LimitIface::Out) => out.push_str(" limit-out"),
            None => {}
        }
    }

    /// addrtype_mt_checkentry_v1: the incoming device is unknown on the way out and the
    /// outgoing one on the way in.
    fn hooks(&self) -> Option<u8> {
        match self.limit_iface {
            Some(LimitIface::In) => {
                Some(ALL_HOOKS & !(Hook::Output.bit() | Hook::Postrouting.bit()))
            }
            Some(LimitIface::Out) => {
                Some(ALL_HOOKS & !(Hook::Prerouting.bit() | Hook::Input.bit()))
            }
            None => None,
        }
    }
}

/// `min[-max]` of `--src-range`/`--dst-range` (iprange_parse_range): split at the first `-`,
/// a single address is a range of one. A reversed range is accepted (iptables only warns that
/// it "will never match").
fn parse_range(o: &OptArg, v6: bool) -> Result<(IpAddr, IpAddr), ExtError> {
    let arg = o.arg();
    let (lo, hi) = arg.split_once('-').unwrap_or((arg, arg));
    let one = |s: &str| -> Result<IpAddr, ExtError> {
        let addr = if v6 {
            s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        } else {
            numeric_to_ipaddr(s).map(IpAddr::V4)
        };
        addr.ok_or_else(|| {
            o.bad(format!(
                "iprange: Bad value for \"--{}\" option: \"{s}\"",
                o.name
            ))
        })
    };
    Ok((one(lo)?, one(hi)?))
}

/// `min-max`, both ends printed as inet_ntop does (iprange_mt4_print/iprange_mt6_print).
fn write_range(out: &mut String, (min, max): (IpAddr, IpAddr)) {
    fmt_addr(out, min);
    out.push('-');
    fmt_addr(out, max);
}

/// `-m iprange` (revision 1): inclusive address ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpRange {
    /// `--src-range min-max`: (min, max).
    pub src: Option<Neg<(IpAddr, IpAddr)>>,
    pub dst: Option<Neg<(IpAddr, IpAddr)>>,
}

impl Extension for IpRange {
    const NAME: &'static str = "iprange";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("src-range", Arity::One, true),
        Opt::new("dst-range", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let range = |name| -> Result<Option<Neg<(IpAddr, IpAddr)>>, ExtError> {
            once(opts, name)?
                .map(|o| Ok(Neg::new(o.invert, parse_range(o, ctx.v6())?)))
                .transpose()
        };
        let src = range("src-range")?;
        let dst = range("dst-range")?;
        if src.is_none() && dst.is_none() {
            return Err(ExtError::whole(
                "iprange match: You must specify `--src-range' or `--dst-range'",
            ));
        }
        Ok(IpRange { src, dst })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        for (opt, range) in [("src-range", &self.src), ("dst-range", &self.dst)] {
            if let Some(r) = range {
                save_invert(out, r.invert);
                let _ = write!(out, " --{opt} ");
                write_range(out, r.value);
            }
        }
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        for (label, range) in [("source", &self.src), ("destination", &self.dst)] {
            if let Some(r) = range {
                let _ = write!(out, " {label} IP range");
                save_invert(out, r.invert);
                out.push(' ');
                write_range(out, r.value);
            }
        }
    }
}

/// A MAC address as libxtables' xtopt_parse_ethermac reads it: six `:`-separated fields, each
/// `strtoul(field, &end, 16)` consuming at most two characters. So `a:b:c:d:e:f` is fine, an
/// empty field is 0, and `-` separators or three-digit fields are not.
fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let fields: Vec<&str> = s.split(':').collect();
    if fields.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (byte, field) in mac.iter_mut().zip(fields) {
        *byte = strtoul16_short(field)?;
    }
    Some(mac)
}

/// One MAC field: what `strtoul(field, &end, 16)` reads when it must consume the whole field
/// and the field is at most two characters (so at most a sign or a blank and one digit, or two
/// digits). The value is truncated to a byte as the C code's assignment does (`-1` is `ff`).
fn strtoul16_short(field: &str) -> Option<u8> {
    if field.len() > 2 {
        return None;
    }
    let (neg, digits) = match field.as_bytes() {
        [] => return Some(0),
        [b' ' | b'\t', rest @ ..] | [b'+', rest @ ..] => (false, rest),
        [b'-', rest @ ..] => (true, rest),
        all => (false, all),
    };
    let text = std::str::from_utf8(digits).ok()?;
    if text.is_empty() {
        // strtoul read nothing: `end` stays at the field's start, which is fine for iptables
        // only when the field is empty (handled above).
        return None;
    }
    let v = u8::from_str_radix(text, 16).ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

fn write_mac(out: &mut String, mac: &[u8; 6]) {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    out.push_str(&parts.join(":"));
}

/// `-m mac --mac-source XX:XX:XX:XX:XX:XX`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mac {
    pub srcaddr: Neg<[u8; 6]>,
}

impl Extension for Mac {
    const NAME: &'static str = "mac";
    const OPTIONS: &'static [Opt] = &[Opt::new("mac-source", Arity::One, true)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let o = required(opts, "mac", "mac-source")?;
        let mac = parse_mac(o.arg()).ok_or_else(|| {
            o.bad(format!(
                "Invalid MAC address `{}' specified (six hex bytes separated by `:')",
                o.arg()
            ))
        })?;
        Ok(Mac {
            srcaddr: Neg::new(o.invert, mac),
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.srcaddr.invert);
        out.push_str(" --mac-source ");
        write_mac(out, &self.srcaddr.value);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" MAC");
        save_invert(out, self.srcaddr.invert);
        out.push(' ');
        write_mac(out, &self.srcaddr.value);
    }

    /// xt_mac registers for PREROUTING, INPUT and FORWARD: only received packets have a
    /// source MAC.
    fn hooks(&self) -> Option<u8> {
        Some(Hook::Prerouting.bit() | Hook::Input.bit() | Hook::Forward.bit())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, check6, fails, fails6, parse};
    use super::*;
    use crate::rules::model::Family;

    // Expected texts: iptables-save, iptables -L -v and -L -v -n on the real kernel.

    #[test]
    fn addrtype_types_abbreviate_in_kernel_order() {
        check::<AddrType>(
            "--src-type U,unr",
            " --src-type UNSPEC,UNREACHABLE",
            " ADDRTYPE match src-type UNSPEC,UNREACHABLE",
            " ADDRTYPE match src-type UNSPEC,UNREACHABLE",
        );
        check::<AddrType>(
            "! --src-type LOCAL ! --dst-type UNSPEC,ANYCAST,BLACKHOLE,XRESOLVE",
            " ! --src-type LOCAL ! --dst-type UNSPEC,ANYCAST,BLACKHOLE,XRESOLVE",
            " ADDRTYPE match src-type !LOCAL dst-type !UNSPEC,ANYCAST,BLACKHOLE,XRESOLVE",
            " ADDRTYPE match src-type !LOCAL dst-type !UNSPEC,ANYCAST,BLACKHOLE,XRESOLVE",
        );
        let e = parse::<AddrType>("--src-type LOCAL,,UNICAST", Family::Ipv4).unwrap_err();
        assert_eq!(e, "addrtype: bad type `,UNICAST'");
        let e = parse::<AddrType>("--src-type LOCALX", Family::Ipv4).unwrap_err();
        assert_eq!(e, "addrtype: bad type \"LOCALX\"");
        fails::<AddrType>("--limit-iface-in");
    }

    #[test]
    fn addrtype_limit_iface_follows_the_hook() {
        check::<AddrType>(
            "--dst-type LOCAL --limit-iface-in",
            " --dst-type LOCAL --limit-iface-in",
            " ADDRTYPE match dst-type LOCAL limit-in",
            " ADDRTYPE match dst-type LOCAL limit-in",
        );
        let a: AddrType = parse("--dst-type LOCAL --limit-iface-in", Family::Ipv4).unwrap();
        let b: AddrType = parse("--src-type LOCAL --limit-iface-out", Family::Ipv4).unwrap();
        let prefwd = Hook::Prerouting.bit() | Hook::Input.bit() | Hook::Forward.bit();
        let fwdpost = Hook::Forward.bit() | Hook::Output.bit() | Hook::Postrouting.bit();
        assert_eq!((a.hooks(), b.hooks()), (Some(prefwd), Some(fwdpost)));
        fails::<AddrType>("--dst-type LOCAL --limit-iface-in --limit-iface-out");
    }

    #[test]
    fn addrtype_ipv6_has_fewer_types() {
        check6::<AddrType>(
            "--dst-type LOCAL,UNREACHABLE",
            " --dst-type LOCAL,UNREACHABLE",
            " ADDRTYPE match dst-type LOCAL,UNREACHABLE",
            " ADDRTYPE match dst-type LOCAL,UNREACHABLE",
        );
        for t in [
            "BROADCAST",
            "BLACKHOLE",
            "PROHIBIT",
            "THROW",
            "NAT",
            "XRESOLVE",
        ] {
            fails6::<AddrType>(&format!("--src-type {t}"));
        }
    }

    #[test]
    fn dotted_quads_read_like_libxtables() {
        let p = |s| numeric_to_ipaddr(s).map(|a| a.to_string());
        assert_eq!(p("1.1.1").as_deref(), Some("1.1.1.0"));
        assert_eq!(p("2").as_deref(), Some("2.0.0.0"));
        assert_eq!(p("010.0x10.+1.1").as_deref(), Some("8.16.1.1"));
        for bad in [
            "1.2.3.256",
            "16843009",
            "1.2.3.",
            "1..2.3",
            "1.2.3.4.5",
            "localhost",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn iprange_prints_both_ends() {
        check::<IpRange>(
            "--dst-range 2.2.2.2 ! --src-range 10.0.0.0-10.255.255.255",
            " ! --src-range 10.0.0.0-10.255.255.255 --dst-range 2.2.2.2-2.2.2.2",
            " source IP range ! 10.0.0.0-10.255.255.255 destination IP range 2.2.2.2-2.2.2.2",
            " source IP range ! 10.0.0.0-10.255.255.255 destination IP range 2.2.2.2-2.2.2.2",
        );
        check::<IpRange>(
            "--src-range 1.1.1-2",
            " --src-range 1.1.1.0-2.0.0.0",
            " source IP range 1.1.1.0-2.0.0.0",
            " source IP range 1.1.1.0-2.0.0.0",
        );
        check6::<IpRange>(
            "--src-range ::1.2.3.4-::ffff:0:1.2.3.4",
            " --src-range ::1.2.3.4-::ffff:0:102:304",
            " source IP range ::1.2.3.4-::ffff:0:102:304",
            " source IP range ::1.2.3.4-::ffff:0:102:304",
        );
        fails::<IpRange>("--src-range 1.1.1.1/24");
        fails::<IpRange>("--src-range 1.1.1.1-1.1.1.2-1.1.1.3");
        fails6::<IpRange>("--src-range 1.2.3.4");
        fails::<IpRange>("");
    }

    #[test]
    fn mac_fields_and_lower_case() {
        check::<Mac>(
            "! --mac-source AA:BB:CC:DD:EE:0F",
            " ! --mac-source aa:bb:cc:dd:ee:0f",
            " MAC ! aa:bb:cc:dd:ee:0f",
            " MAC ! aa:bb:cc:dd:ee:0f",
        );
        check::<Mac>(
            "--mac-source :bb:cc:dd:ee:",
            " --mac-source 00:bb:cc:dd:ee:00",
            " MAC 00:bb:cc:dd:ee:00",
            " MAC 00:bb:cc:dd:ee:00",
        );
        for bad in [
            "aa-bb-cc-dd-ee-ff",
            "aa:bb:cc:dd:ee",
            "aaa:bb:cc:dd:ee:0f",
            "0xa:bb:cc:dd:ee:0f",
        ] {
            fails::<Mac>(&format!("--mac-source {bad}"));
        }
        let m: Mac = parse("--mac-source a:b:c:d:e:f", Family::Ipv4).unwrap();
        let received = Hook::Prerouting.bit() | Hook::Input.bit() | Hook::Forward.bit();
        assert_eq!(m.hooks(), Some(received));
    }
}

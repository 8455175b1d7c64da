//! `-m icmp --icmp-type` (IPv4) and `-m icmp6 --icmpv6-type` (IPv6): one ICMP type with a
//! range of codes, by name or by number (`8`, `3/1`, `3/0:4`).
//!
//! Both follow libxt_icmp.h of iptables 1.8.9: a name may be abbreviated to any unambiguous
//! prefix (`echo-req`), case does not matter, and a number is `type[/code[:code]]`. Printing
//! has two quirks kept here on purpose:
//! - `-L -n` (or a type/code pair without a name) glues the type to the match name:
//!   ` icmptype 8`, ` ipv6-icmptype 128`, but ` icmp !type 8` when negated;
//! - `iptables-save` prints only the first code of a code range (`3/0:4` saves as `3/0`),
//!   and for IPv4 prints `any` for type 255 whatever the codes are.

use std::fmt::Write;

use super::util::{once, save_invert, strtoul_prefix};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// A name from libxt_icmp.h's tables: (name, type, lowest code, highest code).
type IcmpName = (&'static str, u8, u8, u8);

/// `icmp_codes` in table order: the first entry for a (type, codes) triple is what `-L` prints.
const ICMP_NAMES: &[IcmpName] = &[
    ("any", 0xFF, 0, 0xFF),
    ("echo-reply", 0, 0, 0xFF),
    ("pong", 0, 0, 0xFF),
    ("destination-unreachable", 3, 0, 0xFF),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 0xFF),
    ("redirect", 5, 0, 0xFF),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 0xFF),
    ("ping", 8, 0, 0xFF),
    ("router-advertisement", 9, 0, 0xFF),
    ("router-solicitation", 10, 0, 0xFF),
    ("time-exceeded", 11, 0, 0xFF),
    ("ttl-exceeded", 11, 0, 0xFF),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 0xFF),
    ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1),
    ("timestamp-request", 13, 0, 0xFF),
    ("timestamp-reply", 14, 0, 0xFF),
    ("address-mask-request", 17, 0, 0xFF),
    ("address-mask-reply", 18, 0, 0xFF),
];

/// `icmpv6_codes` as iptables 1.8.9 has them (the mld-* names came later).
const ICMPV6_NAMES: &[IcmpName] = &[
    ("destination-unreachable", 1, 0, 0xFF),
    ("no-route", 1, 0, 0),
    ("communication-prohibited", 1, 1, 1),
    ("beyond-scope", 1, 2, 2),
    ("address-unreachable", 1, 3, 3),
    ("port-unreachable", 1, 4, 4),
    ("failed-policy", 1, 5, 5),
    ("reject-route", 1, 6, 6),
    ("packet-too-big", 2, 0, 0xFF),
    ("time-exceeded", 3, 0, 0xFF),
    ("ttl-exceeded", 3, 0, 0xFF),
    ("ttl-zero-during-transit", 3, 0, 0),
    ("ttl-zero-during-reassembly", 3, 1, 1),
    ("parameter-problem", 4, 0, 0xFF),
    ("bad-header", 4, 0, 0),
    ("unknown-header-type", 4, 1, 1),
    ("unknown-option", 4, 2, 2),
    ("echo-request", 128, 0, 0xFF),
    ("ping", 128, 0, 0xFF),
    ("echo-reply", 129, 0, 0xFF),
    ("pong", 129, 0, 0xFF),
    ("router-solicitation", 133, 0, 0xFF),
    ("router-advertisement", 134, 0, 0xFF),
    ("neighbour-solicitation", 135, 0, 0xFF),
    ("neighbor-solicitation", 135, 0, 0xFF),
    ("neighbour-advertisement", 136, 0, 0xFF),
    ("neighbor-advertisement", 136, 0, 0xFF),
    ("redirect", 137, 0, 0xFF),
];

/// What `--icmp-type` / `--icmpv6-type` selects (`struct ipt_icmp` / `ip6t_icmp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpType {
    pub icmp_type: u8,
    /// Lowest and highest code, inclusive.
    pub code: [u8; 2],
    pub invert: bool,
}

impl IcmpType {
    pub fn matches(&self, icmp_type: u8, code: u8) -> bool {
        let hit = icmp_type == self.icmp_type && self.code[0] <= code && code <= self.code[1];
        hit != self.invert
    }

    /// libxt_icmp.h's `__parse_icmp` for one type: a unique prefix of a name, or
    /// `type[/code[:code]]` with numbers as strtoul reads them.
    fn parse(o: &OptArg, table: &[IcmpName], what: &str) -> Result<IcmpType, ExtError> {
        let s = o.arg();
        let mut found: Option<&IcmpName> = None;
        for entry in table {
            let prefix = entry.0.get(..s.len());
            if prefix.is_some_and(|p| p.eq_ignore_ascii_case(s)) {
                if let Some(first) = found {
                    return Err(o.bad(format!(
                        "ambiguous {what} type `{s}': `{}' or `{}'?",
                        first.0, entry.0
                    )));
                }
                found = Some(entry);
            }
        }
        if let Some(&(_, icmp_type, lo, hi)) = found {
            return Ok(IcmpType {
                icmp_type,
                code: [lo, hi],
                invert: o.invert,
            });
        }
        let Some((types, rest)) = parse_range(s) else {
            return Err(o.bad(format!("unknown {what} type `{s}'")));
        };
        let code = match rest.chars().next() {
            None => [0, 0xFF],
            Some('/') => match parse_range(&rest[1..]) {
                Some((code, "")) => code,
                Some((_, rest)) => {
                    return Err(o.bad(format!("unknown character {}", first_char(rest))))
                }
                None => return Err(o.bad(format!("unknown {what} code `{s}'"))),
            },
            Some(c) => return Err(o.bad(format!("unknown character {c}"))),
        };
        if types[0] != types[1] {
            return Err(o.bad(format!("{what} type range not supported")));
        }
        Ok(IcmpType {
            icmp_type: types[0],
            code,
            invert: o.invert,
        })
    }

    /// ` --icmp-type 3/1`: the first code only, and nothing when all codes are meant.
    fn save(&self, out: &mut String, opt: &str) {
        save_invert(out, self.invert);
        let _ = write!(out, " --{opt} {}", self.icmp_type);
        if self.code != [0, 0xFF] {
            let _ = write!(out, "/{}", self.code[0]);
        }
    }

    /// The text after ` icmp` / ` ipv6-icmp` (print_icmptype): ` echo-request`, ` !pong`, or
    /// `type 3 code 1` / ` !type 3 codes 0-4` (no space before `type` unless negated).
    fn list(&self, out: &mut String, table: &[IcmpName], numeric: bool) {
        let inv = if self.invert { "!" } else { "" };
        if !numeric {
            let [lo, hi] = self.code;
            if let Some(entry) = table
                .iter()
                .find(|e| e.1 == self.icmp_type && e.2 == lo && e.3 == hi)
            {
                let _ = write!(out, " {inv}{}", entry.0);
                return;
            }
        }
        if self.invert {
            out.push_str(" !");
        }
        let _ = write!(out, "type {}", self.icmp_type);
        match self.code {
            [lo, hi] if lo == hi => {
                let _ = write!(out, " code {lo}");
            }
            [0, 0xFF] => {}
            [lo, hi] => {
                let _ = write!(out, " codes {lo}-{hi}");
            }
        }
    }
}

/// libxt_icmp.h's parse_range: `n` or `n:m`, each 0..=255, and what follows them.
fn parse_range(t: &str) -> Option<([u8; 2], &str)> {
    let (a, rest) = strtoul_prefix(t).filter(|(v, _)| *v <= 255)?;
    match rest.strip_prefix(':') {
        Some(r) => {
            let (b, rest) = strtoul_prefix(r).filter(|(v, _)| *v <= 255)?;
            Some(([a as u8, b as u8], rest))
        }
        None => Some(([a as u8, a as u8], rest)),
    }
}

fn first_char(s: &str) -> char {
    s.chars().next().unwrap_or(' ')
}

/// `-m icmp --icmp-type TYPE` (IPv4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icmp {
    pub icmp: IcmpType,
}

impl Extension for Icmp {
    const NAME: &'static str = "icmp";
    const OPTIONS: &'static [Opt] = &[Opt::new("icmp-type", Arity::One, true)];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if ctx.v6() {
            return Err(ExtError::whole(
                "icmp is an IPv4 match; ip6tables has -m icmp6",
            ));
        }
        let Some(o) = once(opts, "icmp-type")? else {
            return Err(ExtError::whole("icmp: --icmp-type is required"));
        };
        Ok(Icmp {
            icmp: IcmpType::parse(o, ICMP_NAMES, "ICMP")?,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        // icmp_save of 1.8.9 says `any` for type 255 without looking at the codes.
        if self.icmp.icmp_type == 0xFF {
            save_invert(out, self.icmp.invert);
            out.push_str(" --icmp-type any");
        } else {
            self.icmp.save(out, "icmp-type");
        }
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" icmp");
        self.icmp.list(out, ICMP_NAMES, ctx.numeric);
    }
}

/// `-m icmp6 --icmpv6-type TYPE` (IPv6; also loaded as `icmpv6` and `ipv6-icmp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icmp6 {
    pub icmp: IcmpType,
}

impl Extension for Icmp6 {
    const NAME: &'static str = "icmp6";
    const OPTIONS: &'static [Opt] = &[Opt::new("icmpv6-type", Arity::One, true)];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if !ctx.v6() {
            return Err(ExtError::whole(
                "icmp6 is an IPv6 match; iptables has -m icmp",
            ));
        }
        let Some(o) = once(opts, "icmpv6-type")? else {
            return Err(ExtError::whole("icmp6: --icmpv6-type is required"));
        };
        Ok(Icmp6 {
            icmp: IcmpType::parse(o, ICMPV6_NAMES, "ICMPv6")?,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.icmp.save(out, "icmpv6-type");
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" ipv6-icmp");
        self.icmp.list(out, ICMPV6_NAMES, ctx.numeric);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_lists, rule};
    use super::*;
    use crate::rules::model::Family::{Ipv4, Ipv6};

    /// Rows copied from `iptables -L -v` / `-L -v -n` (and ip6tables), 1.8.9 nf_tables.
    #[test]
    fn lists_like_iptables() {
        let v4 = [
            (
                "--icmp-type echo-request",
                " icmp echo-request",
                " icmptype 8",
            ),
            (
                "--icmp-type 3/1",
                " icmp host-unreachable",
                " icmptype 3 code 1",
            ),
            (
                "--icmp-type 8/0:3",
                " icmptype 8 codes 0-3",
                " icmptype 8 codes 0-3",
            ),
            ("--icmp-type any", " icmp any", " icmptype 255"),
            (
                "--icmp-type 255/0",
                " icmptype 255 code 0",
                " icmptype 255 code 0",
            ),
            (
                "--icmp-type 3/0:255",
                " icmp destination-unreachable",
                " icmptype 3",
            ),
            (
                "--icmp-type 3/5:3",
                " icmptype 3 codes 5-3",
                " icmptype 3 codes 5-3",
            ),
            (
                "! --icmp-type echo-reply",
                " icmp !echo-reply",
                " icmp !type 0",
            ),
            (
                "! --icmp-type 8/0",
                " icmp !type 8 code 0",
                " icmp !type 8 code 0",
            ),
            (
                "--icmp-type Tos-host-redirect",
                " icmp TOS-host-redirect",
                " icmptype 5 code 3",
            ),
        ];
        for (opt, list, list_n) in v4 {
            assert_lists(Ipv4, &format!("-p icmp -m icmp {opt}"), list, list_n);
        }
        let v6 = [
            (
                "--icmpv6-type echo-request",
                " ipv6-icmp echo-request",
                " ipv6-icmptype 128",
            ),
            (
                "! --icmpv6-type 1/3",
                " ipv6-icmp !address-unreachable",
                " ipv6-icmp !type 1 code 3",
            ),
            (
                "--icmpv6-type 200",
                " ipv6-icmptype 200",
                " ipv6-icmptype 200",
            ),
            (
                "--icmpv6-type 1/3:4",
                " ipv6-icmptype 1 codes 3-4",
                " ipv6-icmptype 1 codes 3-4",
            ),
            (
                "! --icmpv6-type 200/4",
                " ipv6-icmp !type 200 code 4",
                " ipv6-icmp !type 200 code 4",
            ),
            (
                "--icmpv6-type neighbor-solicitation",
                " ipv6-icmp neighbour-solicitation",
                " ipv6-icmptype 135",
            ),
        ];
        for (opt, list, list_n) in v6 {
            assert_lists(Ipv6, &format!("-p ipv6-icmp -m icmp6 {opt}"), list, list_n);
        }
    }

    #[test]
    fn prefixes_must_be_unique() {
        let err = rule(Ipv4, "-p icmp -m icmp --icmp-type echo").unwrap_err();
        assert!(err.contains("`echo-reply' or `echo-request'"), "{err}");
        let ok = rule(Ipv4, "-p icmp -m icmp --icmp-type ttl-e").unwrap();
        assert_eq!(ok.save, "-p icmp -m icmp --icmp-type 11");
    }

    #[test]
    fn codes_bound_the_match() {
        let t = IcmpType {
            icmp_type: 3,
            code: [0, 4],
            invert: false,
        };
        assert!(t.matches(3, 4) && !t.matches(3, 5) && !t.matches(4, 0));
        let not = IcmpType { invert: true, ..t };
        assert!(not.matches(3, 5) && !not.matches(3, 0));
    }
}

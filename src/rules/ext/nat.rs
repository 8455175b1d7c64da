//! NAT targets: `-j DNAT`, `-j SNAT`, `-j MASQUERADE`, `-j REDIRECT` and `-j NETMAP`.
//!
//! The first four all carry one address/port range, the kernel's `nf_nat_range2`: optional
//! addresses (`NF_NAT_RANGE_MAP_IPS`), optional ports (`NF_NAT_RANGE_PROTO_SPECIFIED`), an
//! optional base port for shifted port maps (`NF_NAT_RANGE_PROTO_OFFSET`) and three flags. They
//! differ in which options fill it and in the kernel structure iptables 1.8.9 sends: DNAT uses
//! revision 2 (`nf_nat_range2`, the base port survives), SNAT and MASQUERADE the older
//! structures that have no room for the base port (iptables keeps the flag, so a shifted map
//! prints back as `/0`), and REDIRECT refuses shifted maps outright. Parsing mirrors
//! libxt_NAT.c's `parse_to` and `parse_ports`, quirks included, because what iptables accepts
//! and how it prints it back is what fwbench must reproduce.
//!
//! NETMAP maps a whole network: `--to addr/mask`, taken the way `XTTYPE_HOSTMASK` takes it
//! (libipt_NETMAP.c / libip6t_NETMAP.c).

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::util::{flag, once, required, strtoul_prefix};
use super::xtaddr::{parse_numeric, parse_plenmask, width};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::addr::{fmt_addr, Net};
use crate::rules::names::Names;

/// One NAT mapping, as `nf_nat_range2` holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NatRange {
    /// First and last address (`NF_NAT_RANGE_MAP_IPS`); iptables does not order them.
    pub addrs: Option<(IpAddr, IpAddr)>,
    /// First and last port (`NF_NAT_RANGE_PROTO_SPECIFIED`), `lo <= hi`.
    pub ports: Option<(u16, u16)>,
    /// Base port of a shifted port map, `lo-hi/base` (`NF_NAT_RANGE_PROTO_OFFSET`).
    pub base_port: Option<u16>,
    /// `--random` (`NF_NAT_RANGE_PROTO_RANDOM`).
    pub random: bool,
    /// `--random-fully` (`NF_NAT_RANGE_PROTO_RANDOM_FULLY`).
    pub random_fully: bool,
    /// `--persistent` (`NF_NAT_RANGE_PERSISTENT`).
    pub persistent: bool,
}

/// What happens to a shifted port map (`lo-hi/base`) in the structure a target is sent in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shift {
    /// DNAT revision 2: kept.
    Kept,
    /// SNAT and MASQUERADE: the structure has no base port, the flag survives alone, and
    /// iptables prints the map back as `lo-hi/0`.
    Zeroed,
    /// REDIRECT: `DNAT_fcheck` refuses it.
    Refused,
}

/// Protocols for which iptables accepts a port in a NAT range. The list is `__NAT_parse`'s:
/// the rule's `-p` number whether or not it is negated, and ICMP counts (its id is NATed like a
/// port), for IPv6 rules too.
fn ports_allowed(ctx: &ParseCtx) -> bool {
    matches!(ctx.proto.0, 6 | 17 | 132 | 33 | 1)
}

/// The port part of a range, `port[-port[/base]]`, as libxt_NAT.c's `parse_ports` reads it:
/// the first port may be a service name (only when it is the whole text), the last may not,
/// and the base port may be followed by anything (iptables ignores it). A name is looked up
/// as `xtables_service_to_port(name, NULL)` does: a service of any protocol.
fn parse_ports(o: &OptArg, text: &str, range: &mut NatRange) -> Result<(), ExtError> {
    let bad_port = |t: &str| o.bad(format!("Port `{t}' not valid"));
    let (lo, rest) = match strtoul_prefix(text) {
        Some((v, rest)) if v <= 65535 => (v as u16, rest),
        _ => (
            Names::system()
                .service_port_any(text)
                .ok_or_else(|| bad_port(text))?,
            "",
        ),
    };
    let hi_text = match rest.as_bytes().first() {
        None => {
            range.ports = Some((lo, lo));
            return Ok(());
        }
        Some(b'-') => &rest[1..],
        Some(b':') => return Err(o.bad("Invalid port:port syntax - use dash")),
        Some(_) => return Err(o.bad(format!("Garbage after port value: `{rest}'"))),
    };
    let (hi, rest) = match strtoul_prefix(hi_text) {
        Some((v, rest)) if v <= 65535 => (v as u16, rest),
        _ => return Err(bad_port(hi_text)),
    };
    if hi < lo {
        return Err(o.bad(format!("Port range `{hi_text}' funky")));
    }
    range.ports = Some((lo, hi));
    let base_text = match rest.as_bytes().first() {
        None => return Ok(()),
        Some(b'/') => &rest[1..],
        Some(_) => return Err(o.bad(format!("Garbage after port range: `{rest}'"))),
    };
    let base = match strtoul_prefix(base_text) {
        Some((v, _)) if (1..=65535).contains(&v) => v as u16,
        _ => Names::system()
            .service_port_any(base_text)
            .ok_or_else(|| bad_port(base_text))?,
    };
    range.base_port = Some(base);
    Ok(())
}

/// `[addr[-addr]][:port[-port[/base]]]` (IPv6: addresses in brackets when a port follows), as
/// libxt_NAT.c's `parse_to` reads it.
fn parse_to(o: &OptArg, v6: bool, portok: bool, range: &mut NatRange) -> Result<(), ExtError> {
    let arg = o.arg();
    // `addrs` is the address part; `port` the text after the colon that starts the ports.
    // `colon_at` is where that colon sits in the whole argument, for the quirk below.
    let (addrs, port, colon_at) = if let Some(inner) = arg.strip_prefix('[') {
        let Some(end) = inner.find(']').filter(|_| v6) else {
            return Err(o.bad("Invalid address format"));
        };
        // Whatever sits between `]` and the colon is ignored, as in iptables.
        let after = &inner[end + 1..];
        let colon = after.find(':');
        (
            &inner[..end],
            colon.map(|c| &after[c + 1..]),
            colon.map(|c| end + 2 + c),
        )
    } else {
        // One colon is the port; more than one is an IPv6 address without port.
        match arg.find(':') {
            Some(c) if !arg[c + 1..].contains(':') => (&arg[..c], Some(&arg[c + 1..]), Some(c)),
            _ => (arg, None, None),
        }
    };
    if let Some(port) = port {
        if !portok {
            return Err(o.err("Need TCP, UDP, SCTP or DCCP with port specification"));
        }
        parse_ports(o, port, range)?;
        // iptables decides "no address given" by the colon's position: first in the text
        // (`:80`) or third (`[]:80`). So `ab:80` also means "ports only".
        if colon_at == Some(0) || colon_at == Some(2) {
            return Ok(());
        }
    }
    let (first, last) = match addrs.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (addrs, None),
    };
    // parse_to reads addresses with inet_pton, not getaddrinfo: only the strict dotted quad
    // (iptables refuses `1.2.3` and `010.1.1.1` here, which NETMAP's `--to` takes), and that
    // is what Rust's parsers accept.
    let ip = |t: &str| -> Result<IpAddr, ExtError> {
        let parsed = if v6 {
            t.parse::<Ipv6Addr>().map(IpAddr::V6).ok()
        } else {
            t.parse::<Ipv4Addr>().map(IpAddr::V4).ok()
        };
        parsed.ok_or_else(|| o.bad(format!("Bad IP address \"{t}\"")))
    };
    let min = ip(first)?;
    let max = match last {
        Some(t) => ip(t)?,
        None => min,
    };
    range.addrs = Some((min, max));
    Ok(())
}

impl NatRange {
    /// Builds the range from a NAT target's options (those it declares), in any order.
    /// `to_opt` is the option holding the range: `--to-ports` takes ports only, the others
    /// (`--to-destination`, `--to-source`) addresses and ports.
    fn parse(
        opts: &[OptArg],
        ctx: &ParseCtx,
        to_opt: &str,
        shift: Shift,
    ) -> Result<NatRange, ExtError> {
        let mut range = NatRange::default();
        let portok = ports_allowed(ctx);
        if let Some(o) = once(opts, to_opt)? {
            match o.name {
                "to-ports" if !portok => {
                    return Err(o.err("Need TCP, UDP, SCTP or DCCP with port specification"))
                }
                "to-ports" => parse_ports(o, o.arg(), &mut range)?,
                _ => parse_to(o, ctx.v6(), portok, &mut range)?,
            }
            if range.base_port.is_some() {
                match shift {
                    Shift::Kept => {}
                    Shift::Zeroed => range.base_port = Some(0),
                    Shift::Refused => {
                        return Err(o.bad("Shifted portmap ranges not supported with this kernel"))
                    }
                }
            }
        }
        range.random = flag(opts, "random")?;
        range.random_fully = flag(opts, "random-fully")?;
        range.persistent = flag(opts, "persistent")?;
        Ok(range)
    }

    /// The range as `sprint_range` writes it: `addr[-addr]` (IPv6 in brackets when ports
    /// follow), then `:lo[-hi][/base]`; empty when neither is set.
    fn text(&self) -> String {
        let mut s = String::new();
        let brackets = self.ports.is_some() && matches!(self.addrs, Some((IpAddr::V6(_), _)));
        if let Some((min, max)) = self.addrs {
            if brackets {
                s.push('[');
            }
            fmt_addr(&mut s, min);
            if max != min {
                s.push('-');
                fmt_addr(&mut s, max);
            }
            if brackets {
                s.push(']');
            }
        }
        if let Some((lo, hi)) = self.ports {
            let _ = write!(s, ":{lo}");
            if hi != lo {
                let _ = write!(s, "-{hi}");
            }
            if let Some(base) = self.base_port {
                let _ = write!(s, "/{base}");
            }
        }
        s
    }

    /// `__NAT_print`: the range after `label` (a leading colon dropped for the port-only
    /// targets), then the flags, each after `flag_prefix` (`--` in save output).
    fn print(&self, out: &mut String, label: &str, flag_prefix: &str, ports_only: bool) {
        let text = self.text();
        if !text.is_empty() {
            let text = if ports_only {
                text.strip_prefix(':').unwrap_or(&text)
            } else {
                &text
            };
            let _ = write!(out, " {label}{text}");
        }
        for (set, name) in [
            (self.random, "random"),
            (self.random_fully, "random-fully"),
            (self.persistent, "persistent"),
        ] {
            if set {
                let _ = write!(out, " {flag_prefix}{name}");
            }
        }
    }
}

/// `-j DNAT --to-destination [addr[-addr]][:port[-port[/base]]] [--random] [--persistent]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dnat {
    pub range: NatRange,
}

impl Extension for Dnat {
    const NAME: &'static str = "DNAT";
    // iptables 1.8.9 has no --random-fully for DNAT ("unknown option").
    const OPTIONS: &'static [Opt] = &[
        Opt::new("to-destination", Arity::One, false),
        Opt::new("random", Arity::Zero, false),
        Opt::new("persistent", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if !opts.iter().any(|o| o.name == "to-destination") {
            return Err(ExtError::whole(
                "DNAT: option \"--to-destination\" must be specified",
            ));
        }
        Ok(Dnat {
            range: NatRange::parse(opts, ctx, "to-destination", Shift::Kept)?,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.range.print(out, "--to-destination ", "--", false);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        self.range.print(out, "to:", "", false);
    }
}

/// `-j SNAT --to-source [addr[-addr]][:port[-port]] [--random] [--random-fully]
/// [--persistent]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snat {
    pub range: NatRange,
}

impl Extension for Snat {
    const NAME: &'static str = "SNAT";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("to-source", Arity::One, false),
        Opt::new("random", Arity::Zero, false),
        Opt::new("random-fully", Arity::Zero, false),
        Opt::new("persistent", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if !opts.iter().any(|o| o.name == "to-source") {
            return Err(ExtError::whole(
                "SNAT: option \"--to-source\" must be specified",
            ));
        }
        Ok(Snat {
            range: NatRange::parse(opts, ctx, "to-source", Shift::Zeroed)?,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.range.print(out, "--to-source ", "--", false);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        self.range.print(out, "to:", "", false);
    }
}

/// `-j MASQUERADE [--to-ports port[-port]] [--random] [--random-fully]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Masquerade {
    /// Ports and flags only: the address is the outgoing interface's.
    pub range: NatRange,
}

impl Extension for Masquerade {
    const NAME: &'static str = "MASQUERADE";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("to-ports", Arity::One, false),
        Opt::new("random", Arity::Zero, false),
        Opt::new("random-fully", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        Ok(Masquerade {
            range: NatRange::parse(opts, ctx, "to-ports", Shift::Zeroed)?,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.range.print(out, "--to-ports ", "--", true);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        self.range.print(out, "masq ports: ", "", true);
    }
}

/// `-j REDIRECT [--to-ports port[-port]] [--random]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// Ports and flags only: the address is the incoming interface's (or loopback).
    pub range: NatRange,
}

impl Extension for Redirect {
    const NAME: &'static str = "REDIRECT";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("to-ports", Arity::One, false),
        Opt::new("random", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        Ok(Redirect {
            range: NatRange::parse(opts, ctx, "to-ports", Shift::Refused)?,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.range.print(out, "--to-ports ", "--", true);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        self.range.print(out, "redir ports ", "", true);
    }
}

/// `-j NETMAP --to addr[/mask]`: rewrite the network part of the address, keep the host part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Netmap {
    /// The network mapped to; its address is already masked, as the kernel keeps it.
    pub to: Net,
}

impl Extension for Netmap {
    const NAME: &'static str = "NETMAP";
    const OPTIONS: &'static [Opt] = &[Opt::new("to", Arity::One, false)];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let o = required(opts, "NETMAP", "to")?;
        // XTTYPE_HOSTMASK: the address as getaddrinfo reads it (iptables would also resolve a
        // host name; a ruleset must not depend on DNS), the mask a prefix length or an
        // address-shaped mask. A mask with holes cannot be stored as a length, and iptables
        // then keeps a host mask (`/255.0.255.0` and `/33` both become `/32`).
        let (host, mask) = match o.arg().split_once('/') {
            Some((h, m)) => (h, Some(m)),
            None => (o.arg(), None),
        };
        let v6 = ctx.v6();
        let addr = parse_numeric(host, v6).ok_or_else(|| {
            o.bad(format!(
                "`{host}' is not a numeric address (fwbench does not resolve host names)"
            ))
        })?;
        let prefix = match mask {
            None => width(v6),
            Some(m) => parse_plenmask(m, v6).map_err(|_| {
                o.bad(format!(
                    "bad value for option \"--to\", neither a valid network mask nor valid CIDR (0-{})",
                    width(v6)
                ))
            })?,
        };
        let to = match addr {
            IpAddr::V4(a) => Net::v4(a, prefix),
            IpAddr::V6(a) => Net::v6(a, prefix),
        };
        Ok(Netmap { to })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " --to {}", self.to.save_text());
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " to:{}", self.to.save_text());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ext::{find_target, TargetExt};
    use crate::rules::model::{Family, Proto, TableKind};

    fn ctx(proto: u8, v6: bool) -> ParseCtx {
        ParseCtx {
            family: if v6 { Family::Ipv6 } else { Family::Ipv4 },
            table: TableKind::Nat,
            proto: Proto(proto),
            proto_inverted: false,
        }
    }

    /// Parses `-j NAME` with `args` (each `--opt [value]`) and returns (save, list) text.
    fn run(name: &str, args: &[&str], proto: u8, v6: bool) -> Result<(String, String), String> {
        let info = find_target(name).ok_or("unknown target")?;
        let mut opts = Vec::new();
        let mut words = args.iter();
        while let Some(w) = words.next() {
            let opt = info
                .options
                .iter()
                .find(|o| o.answers_to(w.trim_start_matches("--")))
                .ok_or_else(|| format!("unknown option {w}"))?;
            let n = match opt.arity {
                Arity::Zero => 0,
                Arity::One => 1,
                Arity::Two => 2,
                Arity::Optional => 0,
            };
            let args: Vec<String> = (0..n)
                .filter_map(|_| words.next().map(|s| s.to_string()))
                .collect();
            opts.push(OptArg {
                name: opt.name,
                invert: false,
                args,
                col: 1,
                arg_cols: vec![2; n],
            });
        }
        let t: TargetExt = (info.parse)(&opts, &ctx(proto, v6)).map_err(|e| e.message)?;
        let names = Names::from_texts("", "", "");
        let pctx = PrintCtx {
            numeric: false,
            family: if v6 { Family::Ipv6 } else { Family::Ipv4 },
            proto,
            names: &names,
        };
        let (mut save, mut list) = (String::new(), String::new());
        t.save(&mut save, &pctx);
        t.list(&mut list, &pctx);
        Ok((save, list))
    }

    fn ok(name: &str, args: &[&str], proto: u8) -> (String, String) {
        run(name, args, proto, false).expect("should parse")
    }

    // Expected texts below are iptables 1.8.9's (iptables-save, iptables -L -v).
    #[test]
    fn dnat_ranges_print_as_iptables() {
        assert_eq!(
            ok("DNAT", &["--to-destination", "1.2.3.4:80"], 6),
            (
                " --to-destination 1.2.3.4:80".into(),
                " to:1.2.3.4:80".into()
            )
        );
        assert_eq!(
            ok(
                "DNAT",
                &[
                    "--to-destination",
                    "1.2.3.4-1.2.3.4",
                    "--persistent",
                    "--random"
                ],
                0
            )
            .0,
            " --to-destination 1.2.3.4 --random --persistent"
        );
        assert_eq!(
            ok("DNAT", &["--to-destination", "1.2.3.4:0x10-0x20/http"], 6).0,
            " --to-destination 1.2.3.4:16-32/80"
        );
        assert_eq!(
            ok("DNAT", &["--to-destination", "1.2.3.4:80-90/100x"], 6).0,
            " --to-destination 1.2.3.4:80-90/100"
        );
        // A colon in third place means "no address" to iptables.
        assert_eq!(
            ok("DNAT", &["--to-destination", "ab:80"], 6).0,
            " --to-destination :80"
        );
        assert_eq!(
            ok("DNAT", &["--to-destination", "1.2.3.9-1.2.3.4"], 0).0,
            " --to-destination 1.2.3.9-1.2.3.4"
        );
    }

    #[test]
    fn dnat_refuses_what_iptables_refuses() {
        let err = |a: &str, p: u8| run("DNAT", &["--to-destination", a], p, false).unwrap_err();
        assert!(err("1.2.3.4:80", 0).contains("Need TCP"));
        assert!(err("1.2.3.4:80", 136).contains("Need TCP"));
        assert!(err("1.2.3.4:90-80", 6).contains("funky"));
        assert!(err("1.2.3.4:080", 6).contains("Garbage after port value: `80'"));
        assert!(err("1.2.3.4:80-http", 6).contains("Port `http' not valid"));
        assert!(err("1.2.3.4:65536", 6).contains("not valid"));
        assert!(err("1.2.3.4:80-90/0", 6).contains("Port `0' not valid"));
        assert!(err("1.2.3.4:80:90", 6).contains("Bad IP address \"1.2.3.4:80:90\""));
        assert!(err("01.2.3.4", 6).contains("Bad IP"));
        assert!(err("[1.2.3.4]:80", 6).contains("Invalid address format"));
        assert!(err("1.2.3.4-", 6).contains("Bad IP address \"\""));
        assert!(run("DNAT", &["--random"], 0, false)
            .unwrap_err()
            .contains("must be specified"));
        // ICMP ids are NATed like ports; a negated -p still names the protocol.
        assert!(run("DNAT", &["--to-destination", "1.2.3.4:80"], 1, false).is_ok());
    }

    #[test]
    fn dnat_ipv6_brackets() {
        let r = run(
            "DNAT",
            &["--to-destination", "[2001:db8::1-2001:db8::9]:80-90/100"],
            6,
            true,
        );
        assert_eq!(
            r.unwrap(),
            (
                " --to-destination [2001:db8::1-2001:db8::9]:80-90/100".into(),
                " to:[2001:db8::1-2001:db8::9]:80-90/100".into()
            )
        );
        let r = run("DNAT", &["--to-destination", "[2001:db8::1]"], 6, true).unwrap();
        assert_eq!(r.0, " --to-destination 2001:db8::1");
        let r = run("DNAT", &["--to-destination", "[]:80"], 6, true).unwrap();
        assert_eq!(r.1, " to::80");
    }

    #[test]
    fn snat_and_masquerade_lose_the_base_port() {
        let (save, list) = ok(
            "SNAT",
            &[
                "--to-source",
                "1.2.3.4-1.2.3.9:1000-2000/5",
                "--persistent",
                "--random-fully",
                "--random",
            ],
            6,
        );
        assert_eq!(
            save,
            " --to-source 1.2.3.4-1.2.3.9:1000-2000/0 --random --random-fully --persistent"
        );
        assert_eq!(
            list,
            " to:1.2.3.4-1.2.3.9:1000-2000/0 random random-fully persistent"
        );
        assert_eq!(
            ok("MASQUERADE", &["--to-ports", "1000-2000/5", "--random"], 6),
            (
                " --to-ports 1000-2000/0 --random".into(),
                " masq ports: 1000-2000/0 random".into()
            )
        );
        assert_eq!(ok("MASQUERADE", &[], 0), (String::new(), String::new()));
        assert_eq!(ok("MASQUERADE", &["--random-fully"], 0).1, " random-fully");
        assert!(run("MASQUERADE", &["--to-ports", "1000:2000"], 6, false)
            .unwrap_err()
            .contains("use dash"));
    }

    #[test]
    fn redirect() {
        assert_eq!(
            ok("REDIRECT", &["--to-ports", "8080-8090", "--random"], 6),
            (
                " --to-ports 8080-8090 --random".into(),
                " redir ports 8080-8090 random".into()
            )
        );
        assert!(run("REDIRECT", &["--to-ports", "80-90/100"], 6, false)
            .unwrap_err()
            .contains("Shifted portmap"));
        assert!(run("REDIRECT", &["--random-fully"], 6, false).is_err());
    }

    #[test]
    fn netmap_masks() {
        let to = |a: &str| ok("NETMAP", &["--to", a], 0);
        assert_eq!(
            to("10.0.0.5/24"),
            (" --to 10.0.0.0/24".into(), " to:10.0.0.0/24".into())
        );
        assert_eq!(to("10.0.0.1").0, " --to 10.0.0.1/32");
        assert_eq!(to("10.0.0.0/255.255.0.0").0, " --to 10.0.0.0/16");
        assert_eq!(to("10.0.0.0/255.0.255.0").0, " --to 10.0.0.0/32");
        assert_eq!(to("10.0.0.0/33").0, " --to 10.0.0.0/32");
        assert_eq!(to("10.0.0.0/4294967040").0, " --to 10.0.0.0/24");
        assert_eq!(to("10.0.0.0/255.255.0").0, " --to 10.0.0.0/16");
        assert_eq!(to("10.0.0.0/0x8").0, " --to 10.0.0.0/8");
        assert_eq!(to("10.0.0.0/0").0, " --to 0.0.0.0/0");
        assert_eq!(to("10.1").0, " --to 10.0.0.1/32");
        assert_eq!(to("010.0.0.1").0, " --to 8.0.0.1/32");
        assert_eq!(to("0x0a000001").0, " --to 10.0.0.1/32");
        for bad in [
            "10.0.0.0/08",
            "10.0.0.0/8x",
            "10.0.0.0/",
            "10.0.0.256",
            "localhost",
        ] {
            assert!(run("NETMAP", &["--to", bad], 0, false).is_err(), "{bad}");
        }
        let r = run("NETMAP", &["--to", "2001:db8::5/64"], 0, true).unwrap();
        assert_eq!(r.0, " --to 2001:db8::/64");
    }
}

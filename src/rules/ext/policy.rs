//! `-m policy`: the IPsec policy a packet was decapsulated with (`--dir in`) or will be
//! encapsulated with (`--dir out`), as up to four policy elements (SAs).
//!
//! Mirrors iptables 1.8.9's libxt_policy.c and the kernel's xt_policy.c, checked against the
//! real binary. Things worth knowing:
//! - with `--pol none` the element options are accepted and dropped (nothing is saved);
//! - `--tunnel-src/--tunnel-dst` need `--mode tunnel` (or `! --mode transport`) in the same
//!   element, because a missing mode means transport;
//! - tunnel addresses are read by getaddrinfo (`1.2.3` is `1.2.0.3`, as inet_aton reads it),
//!   are not masked, and a mask that is no prefix (`/255.0.255.0`, `/33`) becomes `/32`;
//! - `--proto` is printed by name from `/etc/protocols` even by iptables-save.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::util::{addr_text, once, parse_num, proto_short_name, OptArg};
use super::{Arity, ExtError, Extension, Opt, ParseCtx, PrintCtx};
use crate::rules::model::{Hook, Neg};
use crate::rules::names::Names;

/// XT_POLICY_MAX_ELEM.
const MAX_ELEMS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyDir {
    /// XT_POLICY_MATCH_IN: the policy used to decapsulate.
    In,
    /// XT_POLICY_MATCH_OUT: the policy that will encapsulate.
    Out,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyMode {
    Transport,
    Tunnel,
}

/// A tunnel endpoint: an address and a prefix length, the address kept unmasked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelAddr {
    pub addr: IpAddr,
    pub prefix: u8,
}

/// One policy element (`xt_policy_elem`): every field optional, each with its own `!`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyElem {
    pub reqid: Option<Neg<u32>>,
    pub spi: Option<Neg<u32>>,
    /// IPPROTO_AH, IPPROTO_ESP or IPPROTO_COMP.
    pub proto: Option<Neg<u8>>,
    pub mode: Option<Neg<PolicyMode>>,
    pub saddr: Option<Neg<TunnelAddr>>,
    pub daddr: Option<Neg<TunnelAddr>>,
}

impl PolicyElem {
    fn is_empty(&self) -> bool {
        *self == PolicyElem::default()
    }
}

/// `-m policy` (`xt_policy_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub dir: PolicyDir,
    /// `--pol none`: XT_POLICY_MATCH_NONE (no IPsec at all); else `--pol ipsec`.
    pub none: bool,
    /// `--strict`: the elements must match the whole policy in order.
    pub strict: bool,
    /// Empty with `--pol none`; at least one element otherwise.
    pub elems: Vec<PolicyElem>,
}

/// `xtables_parse_protocol`: a number, `all`, a name from `/etc/protocols`, or one of
/// iptables' built-in names.
fn parse_protocol(s: &str) -> Option<u8> {
    if let Some(n) = parse_num(s, 0, 255) {
        return Some(n as u8);
    }
    if s == "all" {
        return Some(0);
    }
    Names::system()
        .protocol_number(s)
        .or_else(|| (0..=255u8).find(|&n| proto_short_name(n) == Some(s)))
}

/// An IPv4 address as glibc's inet_aton reads it for getaddrinfo: one to four parts, each a C
/// number (decimal, `0x` hex, leading-`0` octal) starting with a digit; the last part fills
/// the remaining bytes (`1.2` is `1.0.0.2`, `1.2.65535` is `1.2.255.255`).
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut value: u32 = 0;
    for (i, part) in parts.iter().enumerate() {
        if !part.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let n = parse_num(part, 0, u32::MAX.into())? as u32;
        let last = i + 1 == parts.len();
        if last {
            // The last part holds the remaining (4 - i) bytes.
            let bits = 8 * (4 - i as u32);
            if bits < 32 && n >> bits != 0 {
                return None;
            }
            value |= n;
        } else {
            if n > 255 {
                return None;
            }
            value |= n << (24 - 8 * i as u32);
        }
    }
    Some(Ipv4Addr::from(value))
}

/// `addr[/mask]` of `--tunnel-src`/`--tunnel-dst` (XTTYPE_HOSTMASK, xtopt_parse_hostmask).
/// The mask is a prefix length (xtables_strtoui, at most 32 or 128) or an address-form mask;
/// one that is no prefix ends up all ones. Host names are not looked up: a ruleset must not
/// depend on DNS, and iptables-save never writes them.
fn parse_tunnel(o: &OptArg, v6: bool) -> Result<TunnelAddr, ExtError> {
    let arg = o.arg();
    let (host, mask) = match arg.split_once('/') {
        Some((h, m)) => (h, Some(m)),
        None => (arg, None),
    };
    let addr_of = |s: &str| -> Option<IpAddr> {
        if v6 {
            s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        } else {
            inet_aton(s).map(IpAddr::V4)
        }
    };
    let addr = addr_of(host).ok_or_else(|| {
        o.bad(format!(
            "policy: --{}: `{host}' is not a numeric {} address (host names are not resolved)",
            o.name,
            if v6 { "IPv6" } else { "IPv4" }
        ))
    })?;
    let width: u8 = if v6 { 128 } else { 32 };
    let prefix = match mask {
        None => width,
        Some(m) => match parse_num(m, 0, width.into()) {
            Some(n) => n as u8,
            None => {
                let bits = match addr_of(m) {
                    Some(IpAddr::V4(a)) => u128::from(u32::from(a)) << 96,
                    Some(IpAddr::V6(a)) => u128::from(a),
                    None => {
                        return Err(o.bad(format!(
                            "policy: bad value for option \"--{}\", neither a valid network \
                             mask nor valid CIDR (0-{width})",
                            o.name
                        )))
                    }
                };
                let ones = bits.leading_ones();
                // A mask with holes has no prefix length; iptables 1.8.9 then keeps all ones.
                if bits.checked_shl(ones).unwrap_or(0) == 0 {
                    ones.min(width.into()) as u8
                } else {
                    width
                }
            }
        },
    };
    Ok(TunnelAddr { addr, prefix })
}

/// The policy elements (policy_parse): element options fill the current element, `--next`
/// starts another. Each option may be given once per element.
fn parse_elems(opts: &[OptArg], v6: bool) -> Result<Vec<PolicyElem>, ExtError> {
    let mut elems = vec![PolicyElem::default()];
    for o in opts {
        if o.name == "next" {
            if elems.len() == MAX_ELEMS {
                return Err(o.err("policy match: maximum policy depth reached (4 elements)"));
            }
            elems.push(PolicyElem::default());
            continue;
        }
        let Some(e) = elems.last_mut() else { break };
        let set_once = |slot_full: bool| {
            if slot_full {
                Err(o.err(format!("policy match: double --{} option", o.name)))
            } else {
                Ok(())
            }
        };
        let u32_arg = || {
            parse_num(o.arg(), 0, u32::MAX.into())
                .map(|v| Neg::new(o.invert, v as u32))
                .ok_or_else(|| {
                    o.bad(format!(
                        "policy: bad value for option \"--{}\", or out of range (0-4294967295)",
                        o.name
                    ))
                })
        };
        match o.name {
            "reqid" => {
                set_once(e.reqid.is_some())?;
                e.reqid = Some(u32_arg()?);
            }
            "spi" => {
                set_once(e.spi.is_some())?;
                e.spi = Some(u32_arg()?);
            }
            "proto" => {
                set_once(e.proto.is_some())?;
                let p = parse_protocol(o.arg())
                    .ok_or_else(|| o.bad(format!("unknown protocol \"{}\" specified", o.arg())))?;
                if !matches!(p, 50 | 51 | 108) {
                    return Err(o.bad("policy match: protocol must be ah/esp/ipcomp"));
                }
                e.proto = Some(Neg::new(o.invert, p));
            }
            "mode" => {
                set_once(e.mode.is_some())?;
                let mode = match o.arg() {
                    "transport" => PolicyMode::Transport,
                    "tunnel" => PolicyMode::Tunnel,
                    other => {
                        return Err(o.bad(format!(
                            "policy match: invalid mode \"{other}\" (transport or tunnel)"
                        )))
                    }
                };
                e.mode = Some(Neg::new(o.invert, mode));
            }
            "tunnel-src" => {
                set_once(e.saddr.is_some())?;
                e.saddr = Some(Neg::new(o.invert, parse_tunnel(o, v6)?));
            }
            "tunnel-dst" => {
                set_once(e.daddr.is_some())?;
                e.daddr = Some(Neg::new(o.invert, parse_tunnel(o, v6)?));
            }
            _ => {}
        }
    }
    Ok(elems)
}

impl Extension for Policy {
    const NAME: &'static str = "policy";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("dir", Arity::One, false),
        Opt::new("pol", Arity::One, false),
        Opt::new("strict", Arity::Zero, false),
        Opt::new("reqid", Arity::One, true),
        Opt::new("spi", Arity::One, true),
        Opt::new("proto", Arity::One, true),
        Opt::new("mode", Arity::One, true),
        Opt::new("tunnel-src", Arity::One, true),
        Opt::new("tunnel-dst", Arity::One, true),
        Opt::new("next", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let dir = match once(opts, "dir")? {
            None => {
                return Err(ExtError::whole(
                    "policy match: neither --dir in nor --dir out specified",
                ))
            }
            Some(o) => match o.arg() {
                "in" => PolicyDir::In,
                "out" => PolicyDir::Out,
                other => {
                    return Err(o.bad(format!("policy_match: invalid dir \"{other}\" (in or out)")))
                }
            },
        };
        let none = match once(opts, "pol")? {
            None => false,
            Some(o) => match o.arg() {
                "none" => true,
                "ipsec" => false,
                other => {
                    return Err(o.bad(format!(
                        "policy match: invalid policy \"{other}\" (none or ipsec)"
                    )))
                }
            },
        };
        let strict = once(opts, "strict")?.is_some();

        let mut elems = parse_elems(opts, ctx.v6())?;

        // policy_check, then the option table's "--next also requires --strict".
        if none {
            if strict {
                return Err(ExtError::whole(
                    "policy match: policy none but --strict given",
                ));
            }
            if elems.len() > 1 {
                return Err(ExtError::whole(
                    "policy match: policy none but policy given",
                ));
            }
            // The one element's options are accepted and dropped, as iptables does.
            elems.clear();
        }
        for (i, e) in elems.iter().enumerate() {
            if strict && e.is_empty() {
                return Err(ExtError::whole(format!(
                    "policy match: empty policy element {i}. --strict is in effect, but at \
                     least one of reqid, spi, tunnel-src, tunnel-dst, proto or mode is required."
                )));
            }
            let tunnel = matches!(
                e.mode,
                Some(Neg {
                    invert: false,
                    value: PolicyMode::Tunnel
                }) | Some(Neg {
                    invert: true,
                    value: PolicyMode::Transport
                })
            );
            if (e.saddr.is_some() || e.daddr.is_some()) && !tunnel {
                return Err(ExtError::whole(
                    "policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode \
                     (add --mode tunnel)",
                ));
            }
        }
        if elems.len() > 1 && !strict {
            return Err(ExtError::whole(
                "policy: option \"--next\" also requires \"--strict\"",
            ));
        }
        Ok(Policy {
            dir,
            none,
            strict,
            elems,
        })
    }

    fn save(&self, out: &mut String, ctx: &PrintCtx) {
        self.flags(out, "--");
        for (i, e) in self.elems.iter().enumerate() {
            if i > 0 {
                out.push_str(" --next");
            }
            // policy4_save passes numeric = false: protocol names even in saved rules.
            write_elem(out, e, "--", false, ctx.names);
        }
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" policy match");
        self.flags(out, "");
        for (i, e) in self.elems.iter().enumerate() {
            if self.elems.len() > 1 {
                let _ = write!(out, " [{i}]");
            }
            write_elem(out, e, "", ctx.numeric, ctx.names);
        }
    }

    /// policy_mt_check: the inbound policy is known only on the way in and the outbound one
    /// only on the way out.
    fn hooks(&self) -> Option<u8> {
        Some(match self.dir {
            PolicyDir::In => Hook::Prerouting.bit() | Hook::Input.bit() | Hook::Forward.bit(),
            PolicyDir::Out => Hook::Forward.bit() | Hook::Output.bit() | Hook::Postrouting.bit(),
        })
    }
}

impl Policy {
    /// print_flags.
    fn flags(&self, out: &mut String, dashes: &str) {
        let dir = match self.dir {
            PolicyDir::In => "in",
            PolicyDir::Out => "out",
        };
        let pol = if self.none { "none" } else { "ipsec" };
        let _ = write!(out, " {dashes}dir {dir} {dashes}pol {pol}");
        if self.strict {
            let _ = write!(out, " {dashes}strict");
        }
    }
}

/// print_entry: reqid, spi, proto, mode, then tunnel-dst before tunnel-src.
fn write_elem(out: &mut String, e: &PolicyElem, dashes: &str, numeric: bool, names: &Names) {
    let bang = |out: &mut String, invert: bool| {
        if invert {
            out.push_str(" !");
        }
    };
    if let Some(r) = &e.reqid {
        bang(out, r.invert);
        let _ = write!(out, " {dashes}reqid {}", r.value);
    }
    if let Some(s) = &e.spi {
        bang(out, s.invert);
        let _ = write!(out, " {dashes}spi 0x{:x}", s.value);
    }
    if let Some(p) = &e.proto {
        bang(out, p.invert);
        let _ = write!(out, " {dashes}proto ");
        match names.protocol_name(p.value).filter(|_| !numeric) {
            Some(name) => out.push_str(name),
            None => {
                let _ = write!(out, "{}", p.value);
            }
        }
    }
    if let Some(m) = &e.mode {
        bang(out, m.invert);
        let mode = match m.value {
            PolicyMode::Transport => "transport",
            PolicyMode::Tunnel => "tunnel",
        };
        let _ = write!(out, " {dashes}mode {mode}");
    }
    for (label, a) in [("tunnel-dst", &e.daddr), ("tunnel-src", &e.saddr)] {
        if let Some(a) = a {
            bang(out, a.invert);
            let _ = write!(out, " {dashes}{label} {}", addr_text(a.value.addr));
            let width = if a.value.addr.is_ipv4() { 32 } else { 128 };
            if a.value.prefix != width {
                let _ = write!(out, "/{}", a.value.prefix);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::addrtest::{allows, list_of, parse_with, save_of};
    use super::*;

    #[test]
    fn saves_and_lists_as_iptables() {
        // Expected texts from iptables-save and iptables -L -v [-n] on the real kernel.
        let p: Policy = parse_with(
            "--dir in --pol ipsec --strict --reqid 1 --spi 0x100 --proto esp --mode tunnel \
             --tunnel-src 1.2.3.4 --tunnel-dst 10.0.0.0/8",
        )
        .unwrap();
        assert_eq!(
            save_of(&p),
            " --dir in --pol ipsec --strict --reqid 1 --spi 0x100 --proto esp --mode tunnel \
             --tunnel-dst 10.0.0.0/8 --tunnel-src 1.2.3.4"
        );
        assert_eq!(
            list_of(&p, true),
            " policy match dir in pol ipsec strict reqid 1 spi 0x100 proto 50 mode tunnel \
             tunnel-dst 10.0.0.0/8 tunnel-src 1.2.3.4"
        );
        let p: Policy =
            parse_with("--dir in --pol ipsec --strict --reqid 1 --next --spi 2 --next --proto esp")
                .unwrap();
        assert_eq!(
            list_of(&p, false),
            " policy match dir in pol ipsec strict [0] reqid 1 [1] spi 0x2 [2] proto esp"
        );
        assert_eq!(
            save_of(&p),
            " --dir in --pol ipsec --strict --reqid 1 --next --spi 0x2 --next --proto esp"
        );
    }

    #[test]
    fn defaults_and_dropped_elements() {
        let p: Policy = parse_with("--dir out").unwrap();
        assert_eq!(save_of(&p), " --dir out --pol ipsec");
        let p: Policy = parse_with("--dir in --pol none --reqid 1").unwrap();
        assert_eq!(save_of(&p), " --dir in --pol none");
        assert_eq!(list_of(&p, false), " policy match dir in pol none");
    }

    #[test]
    fn tunnel_addresses_read_like_getaddrinfo() {
        let t = |arg: &str| {
            parse_with::<Policy>(&format!("--dir in --mode tunnel --tunnel-src {arg}"))
                .map(|p| save_of(&p))
        };
        let tail = |s: &str| s.rsplit(' ').next().unwrap_or("").to_string();
        assert_eq!(t("1.2.3").map(|s| tail(&s)), Ok("1.2.0.3".into()));
        assert_eq!(t("0x7f.1").map(|s| tail(&s)), Ok("127.0.0.1".into()));
        assert_eq!(t("010.2.3.4").map(|s| tail(&s)), Ok("8.2.3.4".into()));
        assert_eq!(t("1.2.3.4/24").map(|s| tail(&s)), Ok("1.2.3.4/24".into()));
        assert_eq!(
            t("1.2.3.4/255.255.0.0").map(|s| tail(&s)),
            Ok("1.2.3.4/16".into())
        );
        assert_eq!(
            t("1.2.3.4/255.0.255.0").map(|s| tail(&s)),
            Ok("1.2.3.4".into())
        );
        assert_eq!(t("1.2.3.4/64").map(|s| tail(&s)), Ok("1.2.3.4".into()));
        assert_eq!(t("1.2.3.4/0x8").map(|s| tail(&s)), Ok("1.2.3.4/8".into()));
        assert_eq!(t("1.2.3.4/0").map(|s| tail(&s)), Ok("1.2.3.4/0".into()));
        for bad in [
            "1.2.3.256",
            "09.1.1.1",
            "localhost",
            "1.2.3.4/09",
            "1.2.3.4/",
            "1.2.3.4/-8",
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        for bad in [
            "--pol ipsec",
            "--dir in --tunnel-src 1.2.3.4",
            "--dir in --mode tunnel ! --mode tunnel",
            "--dir in ! --mode tunnel --tunnel-dst 1.2.3.4",
            "--dir in --proto tcp",
            "--dir in --proto ESP",
            "--dir in --reqid 1 --next --spi 2",
            "--dir in --strict --reqid 1 --next",
            "--dir in --strict",
            "--dir in --pol none --strict",
            "--dir in --strict --reqid 1 --next --spi 2 --next --reqid 3 --next --spi 4 --next --reqid 5",
            "--dir In",
            "--dir in --mode Tunnel",
            "--dir in --reqid 4294967296",
        ] {
            assert!(parse_with::<Policy>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn direction_decides_the_hooks() {
        let p: Policy = parse_with("--dir in").unwrap();
        assert!(!allows(&p, Hook::Output));
        assert!(allows(&p, Hook::Forward));
        let p: Policy = parse_with("--dir out").unwrap();
        assert!(!allows(&p, Hook::Prerouting));
        assert!(allows(&p, Hook::Postrouting));
    }
}

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
use std::net::IpAddr;

use super::util::{once, parse_num, parse_protocol, OptArg};
use super::xtaddr::{parse_host_mask, width};
use super::{Arity, ExtError, Extension, Opt, ParseCtx, PrintCtx};
use crate::rules::addr::fmt_addr;
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

/// `addr[/mask]` of `--tunnel-src`/`--tunnel-dst` (XTTYPE_HOSTMASK): read as getaddrinfo
/// reads it, the address kept unmasked, a mask that is no prefix taken as the full width.
fn parse_tunnel(o: &OptArg, v6: bool) -> Result<TunnelAddr, ExtError> {
    let (addr, prefix) =
        parse_host_mask(o.arg(), v6).map_err(|e| o.bad(format!("policy: --{}: {e}", o.name)))?;
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
            let _ = write!(out, " {dashes}{label} ");
            fmt_addr(out, a.value.addr);
            if a.value.prefix != width(a.value.addr.is_ipv6()) {
                let _ = write!(out, "/{}", a.value.prefix);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, check6, fails, fails6, parse};
    use super::*;
    use crate::rules::model::Family;

    // Expected texts: iptables-save, iptables -L -v and -L -v -n on the real kernel.

    #[test]
    fn saves_and_lists_as_iptables() {
        check::<Policy>(
            "--dir in --pol ipsec --strict --reqid 1 --spi 0x100 --proto esp --mode tunnel --tunnel-src 1.2.3.4 --tunnel-dst 10.0.0.0/8",
            " --dir in --pol ipsec --strict --reqid 1 --spi 0x100 --proto esp --mode tunnel --tunnel-dst 10.0.0.0/8 --tunnel-src 1.2.3.4",
            " policy match dir in pol ipsec strict reqid 1 spi 0x100 proto esp mode tunnel tunnel-dst 10.0.0.0/8 tunnel-src 1.2.3.4",
            " policy match dir in pol ipsec strict reqid 1 spi 0x100 proto 50 mode tunnel tunnel-dst 10.0.0.0/8 tunnel-src 1.2.3.4",
        );
        check::<Policy>(
            "--dir in --pol ipsec --strict --reqid 1 --next --spi 2 --next --proto esp --next --mode tunnel",
            " --dir in --pol ipsec --strict --reqid 1 --next --spi 0x2 --next --proto esp --next --mode tunnel",
            " policy match dir in pol ipsec strict [0] reqid 1 [1] spi 0x2 [2] proto esp [3] mode tunnel",
            " policy match dir in pol ipsec strict [0] reqid 1 [1] spi 0x2 [2] proto 50 [3] mode tunnel",
        );
        check::<Policy>(
            "--dir in --pol ipsec ! --reqid 1 ! --spi 256 ! --proto 51 ! --mode transport",
            " --dir in --pol ipsec ! --reqid 1 ! --spi 0x100 ! --proto ah ! --mode transport",
            " policy match dir in pol ipsec ! reqid 1 ! spi 0x100 ! proto ah ! mode transport",
            " policy match dir in pol ipsec ! reqid 1 ! spi 0x100 ! proto 51 ! mode transport",
        );
    }

    #[test]
    fn defaults_and_dropped_elements() {
        check::<Policy>(
            "--dir in",
            " --dir in --pol ipsec",
            " policy match dir in pol ipsec",
            " policy match dir in pol ipsec",
        );
        check::<Policy>(
            "--dir in --pol none --reqid 1",
            " --dir in --pol none",
            " policy match dir in pol none",
            " policy match dir in pol none",
        );
    }

    #[test]
    fn tunnel_addresses_read_like_getaddrinfo() {
        check::<Policy>(
            "--dir in --mode tunnel --tunnel-src 1.2.3 --tunnel-dst 0x7f.1",
            " --dir in --pol ipsec --mode tunnel --tunnel-dst 127.0.0.1 --tunnel-src 1.2.0.3",
            " policy match dir in pol ipsec mode tunnel tunnel-dst 127.0.0.1 tunnel-src 1.2.0.3",
            " policy match dir in pol ipsec mode tunnel tunnel-dst 127.0.0.1 tunnel-src 1.2.0.3",
        );
        let src = |arg: &str| {
            parse::<Policy>(
                &format!("--dir in --mode tunnel --tunnel-src {arg}"),
                Family::Ipv4,
            )
            .map(|p| {
                p.elems[0]
                    .saddr
                    .as_ref()
                    .map(|a| (a.value.addr.to_string(), a.value.prefix))
            })
        };
        let want = |a: &str, p| Ok(Some((a.to_string(), p)));
        assert_eq!(src("010.2.3.4"), want("8.2.3.4", 32));
        assert_eq!(src("1.2.65535"), want("1.2.255.255", 32));
        assert_eq!(src("1.2.3.4/24"), want("1.2.3.4", 24));
        assert_eq!(src("1.2.3.4/255.255.0.0"), want("1.2.3.4", 16));
        assert_eq!(src("1.2.3.4/255.0.255.0"), want("1.2.3.4", 32));
        assert_eq!(src("1.2.3.4/64"), want("1.2.3.4", 32));
        assert_eq!(src("1.2.3.4/0x8"), want("1.2.3.4", 8));
        assert_eq!(src("1.2.3.4/0"), want("1.2.3.4", 0));
        for bad in [
            "1.2.3.256",
            "09.1.1.1",
            "localhost",
            "1.2.3.4/09",
            "1.2.3.4/",
            "1.2.3.4/-8",
        ] {
            assert!(src(bad).is_err(), "{bad}");
        }
        check6::<Policy>(
            "--dir in --mode tunnel --tunnel-src 2001:db8::1/ffff:ffff::",
            " --dir in --pol ipsec --mode tunnel --tunnel-src 2001:db8::1/32",
            " policy match dir in pol ipsec mode tunnel tunnel-src 2001:db8::1/32",
            " policy match dir in pol ipsec mode tunnel tunnel-src 2001:db8::1/32",
        );
        fails6::<Policy>("--dir in --mode tunnel --tunnel-src 2001:db8::1/129");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        for bad in [
            "--pol ipsec",
            "--dir in --tunnel-src 1.2.3.4",
            "--dir in --mode tunnel --mode tunnel",
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
            fails::<Policy>(bad);
        }
    }

    #[test]
    fn direction_decides_the_hooks() {
        let hooks = |args| parse::<Policy>(args, Family::Ipv4).unwrap().hooks();
        let fwd = Hook::Forward.bit();
        assert_eq!(
            hooks("--dir in"),
            Some(Hook::Prerouting.bit() | Hook::Input.bit() | fwd)
        );
        assert_eq!(
            hooks("--dir out"),
            Some(fwd | Hook::Output.bit() | Hook::Postrouting.bit())
        );
    }
}

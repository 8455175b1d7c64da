//! Targets that rewrite a field of the IP header: `-j TTL` (IPv4) and `-j HL` (IPv6) for the
//! hop limit, `-j ECN` for the ECN bits (the traffic class byte's other six bits are in
//! [`super::tos`]), and the option helpers these targets share.
//!
//! The kernel registers all of them for the mangle table only (xt_HL.c, ipt_ECN.c); the
//! registry in `mod.rs` says so. They do not end the chain.

use std::fmt::Write;

use super::util::{once, parse_uint};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// The options of `given` (in the order written) that appear in `group`, which iptables
/// declares mutually exclusive; an error naming the first two if there is more than one.
pub(super) fn exclusive<'a>(
    target: &str,
    given: &'a [OptArg],
    group: &[&str],
) -> Result<Option<&'a OptArg>, ExtError> {
    let mut found = given.iter().filter(|o| group.contains(&o.name));
    let first = found.next();
    if let (Some(a), Some(b)) = (first, found.next()) {
        if a.name != b.name {
            return Err(b.err(format!(
                "{target}: option \"--{}\" cannot be used together with \"--{}\"",
                a.name, b.name
            )));
        }
    }
    // Same option twice: `once` says so.
    Ok(match first {
        Some(o) => once(given, o.name)?,
        None => None,
    })
}

/// A number from `min` to `max`, with xtables' message for anything else.
pub(super) fn ranged(o: &OptArg, target: &str, min: u64, max: u64) -> Result<u64, ExtError> {
    parse_uint(o.arg(), max)
        .filter(|&n| n >= min)
        .ok_or_else(|| {
            o.bad(format!(
                "{target}: bad value for option \"--{}\", or out of range ({min}-{max})",
                o.name
            ))
        })
}

/// What TTL and HL do to the hop count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HopMode {
    Set,
    /// Decrement (by 1 to 255).
    Dec,
    /// Increment (by 1 to 255).
    Inc,
}

impl HopMode {
    /// The option suffix (`--ttl-set`) and the words `-L` prints.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            HopMode::Set => ("set", "set to"),
            HopMode::Dec => ("dec", "decrement by"),
            HopMode::Inc => ("inc", "increment by"),
        }
    }
}

/// TTL and HL are the same target for the two families (xt_HL.c, libxt_TTL/libip6t_HL).
fn parse_hop(
    opts: &[OptArg],
    target: &str,
    set: &str,
    dec: &str,
    inc: &str,
) -> Result<(HopMode, u8), ExtError> {
    let Some(o) = exclusive(target, opts, &[set, dec, inc])? else {
        return Err(ExtError::whole(format!(
            "{target}: You must specify an action"
        )));
    };
    let mode = match o.name {
        n if n == set => HopMode::Set,
        n if n == dec => HopMode::Dec,
        _ => HopMode::Inc,
    };
    // Changing by 0 is refused by iptables and by the kernel's checkentry alike.
    let min = if mode == HopMode::Set { 0 } else { 1 };
    Ok((mode, ranged(o, target, min, 255)? as u8))
}

/// `-j TTL --ttl-set|--ttl-dec|--ttl-inc N` (IPv4 only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ttl {
    pub mode: HopMode,
    pub value: u8,
}

impl Extension for Ttl {
    const NAME: &'static str = "TTL";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("ttl-set", Arity::One, false),
        Opt::new("ttl-dec", Arity::One, false),
        Opt::new("ttl-inc", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if ctx.v6() {
            return Err(ExtError::whole(
                "ip6tables has no TTL target (use HL): -j TTL jumps to a chain named TTL",
            ));
        }
        let (mode, value) = parse_hop(opts, "TTL", "ttl-set", "ttl-dec", "ttl-inc")?;
        Ok(Ttl { mode, value })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " --ttl-{} {}", self.mode.words().0, self.value);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " TTL {} {}", self.mode.words().1, self.value);
    }
}

/// `-j HL --hl-set|--hl-dec|--hl-inc N` (IPv6 only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hl {
    pub mode: HopMode,
    pub value: u8,
}

impl Extension for Hl {
    const NAME: &'static str = "HL";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("hl-set", Arity::One, false),
        Opt::new("hl-dec", Arity::One, false),
        Opt::new("hl-inc", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if !ctx.v6() {
            return Err(ExtError::whole(
                "iptables has no HL target (use TTL): -j HL jumps to a chain named HL",
            ));
        }
        let (mode, value) = parse_hop(opts, "HL", "hl-set", "hl-dec", "hl-inc")?;
        Ok(Hl { mode, value })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " --hl-{} {}", self.mode.words().0, self.value);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " HL {} {}", self.mode.words().1, self.value);
    }
}

/// `-j ECN` (IPv4 only): set the TCP ECE/CWR bits and/or the IP ECN codepoint. A `None`
/// field is left as the packet has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ecn {
    pub ece: Option<bool>,
    pub cwr: Option<bool>,
    /// The ECT codepoint, 0 to 3.
    pub ip_ect: Option<u8>,
}

impl Ecn {
    /// Whether it is exactly `--ecn-tcp-remove` (ECE and CWR cleared, nothing else), which
    /// iptables prints under that name.
    fn is_tcp_remove(&self) -> bool {
        self.ece == Some(false) && self.cwr == Some(false) && self.ip_ect.is_none()
    }
}

impl Extension for Ecn {
    const NAME: &'static str = "ECN";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("ecn-tcp-remove", Arity::Zero, false),
        Opt::new("ecn-tcp-cwr", Arity::One, false),
        Opt::new("ecn-tcp-ece", Arity::One, false),
        Opt::new("ecn-ip-ect", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if ctx.v6() {
            return Err(ExtError::whole(
                "ip6tables has no ECN target: -j ECN jumps to a chain named ECN",
            ));
        }
        let remove = once(opts, "ecn-tcp-remove")?;
        let bit = |name: &str| -> Result<Option<bool>, ExtError> {
            match once(opts, name)? {
                Some(o) => {
                    if let Some(r) = remove {
                        return Err(o.err(format!(
                            "ECN: option \"--{}\" cannot be used together with \"--{name}\"",
                            r.name
                        )));
                    }
                    Ok(Some(ranged(o, "ECN", 0, 1)? == 1))
                }
                None => Ok(remove.map(|_| false)),
            }
        };
        let cwr = bit("ecn-tcp-cwr")?;
        let ece = bit("ecn-tcp-ece")?;
        let ip_ect = match once(opts, "ecn-ip-ect")? {
            Some(o) => Some(ranged(o, "ECN", 0, 3)? as u8),
            None => None,
        };
        if ece.is_none() && cwr.is_none() && ip_ect.is_none() {
            return Err(ExtError::whole("ECN target: An operation is required"));
        }
        // ecn_tg_check refuses the TCP operations unless the rule says -p tcp.
        if (ece.is_some() || cwr.is_some()) && ctx.exact_proto() != Some(6) {
            return Err(ExtError::whole(
                "ECN: the TCP operations (--ecn-tcp-*) need -p tcp",
            ));
        }
        Ok(Ecn { ece, cwr, ip_ect })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        if self.is_tcp_remove() {
            out.push_str(" --ecn-tcp-remove");
            return;
        }
        if let Some(ece) = self.ece {
            let _ = write!(out, " --ecn-tcp-ece {}", u8::from(ece));
        }
        if let Some(cwr) = self.cwr {
            let _ = write!(out, " --ecn-tcp-cwr {}", u8::from(cwr));
        }
        if let Some(ect) = self.ip_ect {
            let _ = write!(out, " --ecn-ip-ect {ect}");
        }
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" ECN");
        if self.is_tcp_remove() {
            out.push_str(" TCP remove");
            return;
        }
        if let Some(ece) = self.ece {
            let _ = write!(out, " ECE={}", u8::from(ece));
        }
        if let Some(cwr) = self.cwr {
            let _ = write!(out, " CWR={}", u8::from(cwr));
        }
        if let Some(ect) = self.ip_ect {
            let _ = write!(out, " ECT codepoint={ect}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{parse_in, print};
    use super::*;
    use crate::rules::model::{Family, Proto, TableKind};

    /// A mangle-table rule of `family` with `-p proto` (0: none), negated if `inverted`.
    fn ctx(family: Family, proto: u8, inverted: bool) -> ParseCtx {
        ParseCtx {
            family,
            table: TableKind::Mangle,
            proto: Proto(proto),
            proto_inverted: inverted,
        }
    }

    const V4: ParseCtx = ParseCtx {
        family: Family::Ipv4,
        table: TableKind::Mangle,
        proto: Proto::ALL,
        proto_inverted: false,
    };

    /// Checks save, `-L` and `-L -n` text for each `(options, save, list, list -n)`.
    /// Expected strings come from iptables-nft 1.8.9 on Linux 6.18 (tests/ext/*.t cases).
    fn check<E: Extension>(c: ParseCtx, cases: &[(&str, &str, &str, &str)]) {
        for &(args, save, list, list_n) in cases {
            let e: E = parse_in(args, c).unwrap_or_else(|e| panic!("{args}: {e}"));
            assert_eq!(print(&e, c.family), [save, list, list_n], "for `{args}'");
        }
    }

    fn refused<E: Extension + std::fmt::Debug>(c: ParseCtx, cases: &[&str]) {
        for args in cases {
            if let Ok(e) = parse_in::<E>(args, c) {
                panic!("`{args}' was accepted: {e:?}");
            }
        }
    }

    #[test]
    fn ttl() {
        check::<Ttl>(
            V4,
            &[
                (
                    "--ttl-set 0",
                    " --ttl-set 0",
                    " TTL set to 0",
                    " TTL set to 0",
                ),
                (
                    "--ttl-set 0x40",
                    " --ttl-set 64",
                    " TTL set to 64",
                    " TTL set to 64",
                ),
                (
                    "--ttl-dec 255",
                    " --ttl-dec 255",
                    " TTL decrement by 255",
                    " TTL decrement by 255",
                ),
                (
                    "--ttl-inc 1",
                    " --ttl-inc 1",
                    " TTL increment by 1",
                    " TTL increment by 1",
                ),
            ],
        );
        refused::<Ttl>(
            V4,
            &[
                "--ttl-set 256",
                "--ttl-dec 0",
                "--ttl-inc 0",
                "",
                "--ttl-set 1 --ttl-dec 1",
                "--ttl-inc 1 --ttl-inc 2",
            ],
        );
        refused::<Ttl>(ctx(Family::Ipv6, 0, false), &["--ttl-set 64"]);
    }

    #[test]
    fn hl() {
        let v6 = ctx(Family::Ipv6, 0, false);
        check::<Hl>(
            v6,
            &[
                (
                    "--hl-set 255",
                    " --hl-set 255",
                    " HL set to 255",
                    " HL set to 255",
                ),
                (
                    "--hl-dec 1",
                    " --hl-dec 1",
                    " HL decrement by 1",
                    " HL decrement by 1",
                ),
                (
                    "--hl-inc 255",
                    " --hl-inc 255",
                    " HL increment by 255",
                    " HL increment by 255",
                ),
            ],
        );
        refused::<Hl>(
            v6,
            &[
                "--hl-set 256",
                "--hl-dec 0",
                "",
                "--hl-set 1 --hl-inc 1",
                "--hl-dec 2 --hl-dec 3",
            ],
        );
        refused::<Hl>(V4, &["--hl-set 64"]);
    }

    #[test]
    fn ecn() {
        let tcp = ctx(Family::Ipv4, 6, false);
        check::<Ecn>(
            tcp,
            &[
                (
                    "--ecn-tcp-remove",
                    " --ecn-tcp-remove",
                    " ECN TCP remove",
                    " ECN TCP remove",
                ),
                (
                    "--ecn-tcp-cwr 0 --ecn-tcp-ece 0",
                    " --ecn-tcp-remove",
                    " ECN TCP remove",
                    " ECN TCP remove",
                ),
                (
                    "--ecn-tcp-cwr 1",
                    " --ecn-tcp-cwr 1",
                    " ECN CWR=1",
                    " ECN CWR=1",
                ),
                (
                    "--ecn-tcp-cwr 0",
                    " --ecn-tcp-cwr 0",
                    " ECN CWR=0",
                    " ECN CWR=0",
                ),
                (
                    "--ecn-tcp-ece 1",
                    " --ecn-tcp-ece 1",
                    " ECN ECE=1",
                    " ECN ECE=1",
                ),
                (
                    "--ecn-tcp-cwr 1 --ecn-tcp-ece 1 --ecn-ip-ect 1",
                    " --ecn-tcp-ece 1 --ecn-tcp-cwr 1 --ecn-ip-ect 1",
                    " ECN ECE=1 CWR=1 ECT codepoint=1",
                    " ECN ECE=1 CWR=1 ECT codepoint=1",
                ),
                (
                    "--ecn-tcp-remove --ecn-ip-ect 2",
                    " --ecn-tcp-ece 0 --ecn-tcp-cwr 0 --ecn-ip-ect 2",
                    " ECN ECE=0 CWR=0 ECT codepoint=2",
                    " ECN ECE=0 CWR=0 ECT codepoint=2",
                ),
            ],
        );
        check::<Ecn>(
            V4,
            &[(
                "--ecn-ip-ect 3",
                " --ecn-ip-ect 3",
                " ECN ECT codepoint=3",
                " ECN ECT codepoint=3",
            )],
        );
        refused::<Ecn>(
            tcp,
            &[
                "--ecn-tcp-cwr 2",
                "--ecn-tcp-remove --ecn-tcp-cwr 1",
                "--ecn-tcp-ece 1 --ecn-tcp-remove",
                "--ecn-tcp-remove --ecn-tcp-remove",
                "--ecn-ip-ect 4",
                "",
            ],
        );
        refused::<Ecn>(V4, &["--ecn-tcp-remove"]);
        refused::<Ecn>(ctx(Family::Ipv4, 17, false), &["--ecn-tcp-ece 1"]);
        refused::<Ecn>(ctx(Family::Ipv4, 6, true), &["--ecn-tcp-cwr 1"]);
        refused::<Ecn>(ctx(Family::Ipv6, 0, false), &["--ecn-ip-ect 1"]);
    }
}

//! Targets that rewrite the traffic class byte (IPv4 TOS, IPv6 traffic class) above its two
//! ECN bits: `-j TOS` (any bits, by value and mask) and `-j DSCP` (the six DSCP bits).
//!
//! The kernel registers both in xt_DSCP.c, for the mangle table only; the registry in
//! `mod.rs` says so. Both families, the same text.

use std::fmt::Write;

use super::diffserv::{dscp_class, parse_tos, tos_name, TosError, DSCP_MAX, TOS_NAME_MASK};
use super::rewrite::{exclusive, ranged};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// `-j TOS` (revision 1): the kernel sets `tos = (tos & !mask) ^ value`. `--and-tos`,
/// `--or-tos` and `--xor-tos` are written as such a pair, and iptables-save prints the pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tos {
    pub value: u8,
    pub mask: u8,
}

impl Tos {
    /// `--set-tos` as xtopt_parse_tosmask reads it: `value[/mask]` (mask 0xff when absent),
    /// else a TOS name (case-insensitive, mask 0x3f). Text that does not start with a number
    /// up to 255 is taken for a name, so `256` is an unknown name while `0x10x` is illegal.
    fn parse_set(o: &OptArg) -> Result<(u8, u8), ExtError> {
        let arg = o.arg();
        parse_tos(arg).map_err(|e| match e {
            TosError::Illegal => o.bad(format!("Illegal value: \"{arg}\"")),
            TosError::UnknownName => o.bad(format!("Symbolic name \"{arg}\" is unknown")),
        })
    }
}

impl Extension for Tos {
    const NAME: &'static str = "TOS";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("set-tos", Arity::One, false),
        Opt::new("and-tos", Arity::One, false),
        Opt::new("or-tos", Arity::One, false),
        Opt::new("xor-tos", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let group = ["set-tos", "and-tos", "or-tos", "xor-tos"];
        let Some(o) = exclusive("TOS", opts, &group)? else {
            return Err(ExtError::whole("TOS: An action is required"));
        };
        let (value, mask) = match o.name {
            "set-tos" => Tos::parse_set(o)?,
            name => {
                let bits = ranged(o, "TOS", 0, 255)? as u8;
                match name {
                    "and-tos" => (0, !bits),
                    "or-tos" => (bits, bits),
                    _ => (bits, 0),
                }
            }
        };
        Ok(Tos { value, mask })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " --set-tos 0x{:02x}/0x{:02x}", self.value, self.mask);
    }

    /// tos_tg_print: with `-n` the pair; else a name when the pair is one, then the and/or/xor
    /// forms, then the pair.
    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        let (v, m) = (self.value, self.mask);
        if ctx.numeric {
            let _ = write!(out, " TOS set 0x{v:02x}/0x{m:02x}");
            return;
        }
        let name = tos_name(v).filter(|_| m == TOS_NAME_MASK);
        match name {
            // iptables 1.8.9's tos_try_print_symbolic prints " %s%s" with the prefix
            // " TOS set": two spaces before TOS and none before the name.
            Some(name) => {
                let _ = write!(out, "  TOS set{name}");
            }
            _ if v == 0 => {
                let _ = write!(out, " TOS and 0x{:02x}", !m);
            }
            _ if v == m => {
                let _ = write!(out, " TOS or 0x{v:02x}");
            }
            _ if m == 0 => {
                let _ = write!(out, " TOS xor 0x{v:02x}");
            }
            _ => {
                let _ = write!(out, " TOS set 0x{v:02x}/0x{m:02x}");
            }
        }
    }
}

/// `-j DSCP --set-dscp N | --set-dscp-class NAME`: set the six DSCP bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dscp {
    pub dscp: u8,
}

impl Extension for Dscp {
    const NAME: &'static str = "DSCP";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("set-dscp", Arity::One, false),
        Opt::new("set-dscp-class", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let Some(o) = exclusive("DSCP", opts, &["set-dscp", "set-dscp-class"])? else {
            return Err(ExtError::whole(
                "DSCP target: Parameter --set-dscp is required",
            ));
        };
        let dscp = if o.name == "set-dscp" {
            ranged(o, "DSCP", 0, DSCP_MAX.into())? as u8
        } else {
            dscp_class(o.arg()).ok_or_else(|| o.bad(format!("Invalid DSCP value `{}'", o.arg())))?
        };
        Ok(Dscp { dscp })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " --set-dscp 0x{:02x}", self.dscp);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " DSCP set 0x{:02x}", self.dscp);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit;
    use super::*;

    // Expected strings are from iptables-nft 1.8.9 on Linux 6.18 (tests/ext/TOS.t, DSCP.t);
    // ip6tables prints the same.

    /// Checks save, `-L` and `-L -n` text for each `(options, save, list, list -n)`.
    fn check<E: Extension>(cases: &[(&str, &str, &str, &str)]) {
        for &(args, save, list, list_n) in cases {
            testkit::check::<E>(args, save, list, list_n);
        }
    }

    fn refused<E: Extension + std::fmt::Debug>(cases: &[&str]) {
        for args in cases {
            testkit::fails::<E>(args);
        }
    }

    #[test]
    fn tos() {
        check::<Tos>(&[
            (
                "--set-tos 0x1f",
                " --set-tos 0x1f/0xff",
                " TOS set 0x1f/0xff",
                " TOS set 0x1f/0xff",
            ),
            (
                "--set-tos 16",
                " --set-tos 0x10/0xff",
                " TOS set 0x10/0xff",
                " TOS set 0x10/0xff",
            ),
            (
                "--set-tos 0xff",
                " --set-tos 0xff/0xff",
                " TOS or 0xff",
                " TOS set 0xff/0xff",
            ),
            (
                "--set-tos 0xff/0x3f",
                " --set-tos 0xff/0x3f",
                " TOS set 0xff/0x3f",
                " TOS set 0xff/0x3f",
            ),
            (
                "--set-tos 0x02/0x3e",
                " --set-tos 0x02/0x3e",
                " TOS set 0x02/0x3e",
                " TOS set 0x02/0x3e",
            ),
            (
                "--set-tos 0x20/0x10",
                " --set-tos 0x20/0x10",
                " TOS set 0x20/0x10",
                " TOS set 0x20/0x10",
            ),
            (
                "--set-tos 0x10/0x3f",
                " --set-tos 0x10/0x3f",
                "  TOS setMinimize-Delay",
                " TOS set 0x10/0x3f",
            ),
            (
                "--set-tos Minimize-Delay",
                " --set-tos 0x10/0x3f",
                "  TOS setMinimize-Delay",
                " TOS set 0x10/0x3f",
            ),
            (
                "--set-tos Maximize-Throughput",
                " --set-tos 0x08/0x3f",
                "  TOS setMaximize-Throughput",
                " TOS set 0x08/0x3f",
            ),
            (
                "--set-tos maximize-reliability",
                " --set-tos 0x04/0x3f",
                "  TOS setMaximize-Reliability",
                " TOS set 0x04/0x3f",
            ),
            (
                "--set-tos MINIMIZE-COST",
                " --set-tos 0x02/0x3f",
                "  TOS setMinimize-Cost",
                " TOS set 0x02/0x3f",
            ),
            (
                "--set-tos Normal-Service",
                " --set-tos 0x00/0x3f",
                "  TOS setNormal-Service",
                " TOS set 0x00/0x3f",
            ),
            (
                "--and-tos 0x0f",
                " --set-tos 0x00/0xf0",
                " TOS and 0x0f",
                " TOS set 0x00/0xf0",
            ),
            (
                "--and-tos 0",
                " --set-tos 0x00/0xff",
                " TOS and 0x00",
                " TOS set 0x00/0xff",
            ),
            (
                "--or-tos 0x10",
                " --set-tos 0x10/0x10",
                " TOS or 0x10",
                " TOS set 0x10/0x10",
            ),
            (
                "--or-tos 0",
                " --set-tos 0x00/0x00",
                " TOS and 0xff",
                " TOS set 0x00/0x00",
            ),
            (
                "--xor-tos 0x10",
                " --set-tos 0x10/0x00",
                " TOS xor 0x10",
                " TOS set 0x10/0x00",
            ),
            (
                "--xor-tos 0xff",
                " --set-tos 0xff/0x00",
                " TOS xor 0xff",
                " TOS set 0xff/0x00",
            ),
        ]);
        refused::<Tos>(&[
            "--set-tos 256",
            "--set-tos 0x10/0x1ff",
            "--set-tos 0x10/",
            "--set-tos 0x10x",
            "--set-tos Minimize-Delay/0xff",
            "--set-tos foo",
            "--and-tos 256",
            "",
            "--set-tos 0x10 --or-tos 1",
            "--and-tos 1 --xor-tos 1",
            "--or-tos 1 --or-tos 2",
        ]);
    }

    #[test]
    fn dscp() {
        let cases: Vec<(&str, String)> = [
            ("--set-dscp 0", 0x00),
            ("--set-dscp 010", 0x08),
            ("--set-dscp 0x3f", 0x3f),
            ("--set-dscp-class EF", 0x2e),
            ("--set-dscp-class ef", 0x2e),
            ("--set-dscp-class BE", 0x00),
            ("--set-dscp-class CS7", 0x38),
            ("--set-dscp-class AF11", 0x0a),
            ("--set-dscp-class af43", 0x26),
            ("--set-dscp-class EFX", 0x2e),
            ("--set-dscp-class AF111", 0x0a),
        ]
        .into_iter()
        .map(|(a, v)| (a, format!("{v:02x}")))
        .collect();
        for (args, hex) in &cases {
            let save = format!(" --set-dscp 0x{hex}");
            let list = format!(" DSCP set 0x{hex}");
            testkit::check::<Dscp>(args, &save, &list, &list);
        }
        refused::<Dscp>(&[
            "--set-dscp 64",
            "--set-dscp x",
            "--set-dscp-class CS8",
            "--set-dscp-class LE",
            "--set-dscp-class cs",
            "",
            "--set-dscp 1 --set-dscp-class EF",
            "--set-dscp 1 --set-dscp 2",
        ]);
    }
}

//! Targets that adjust a packet outside the IP header fields: `-j TCPMSS` (the TCP MSS
//! option), `-j CHECKSUM` (fill in a missing L4 checksum), `-j CLASSIFY` (the skb priority a
//! qdisc classifies by) and `-j CONNSECMARK` (copy the security mark between packet and
//! connection).
//!
//! Their table and hook limits differ and are in the registry in `mod.rs`; TCPMSS adds a limit
//! that depends on its option (`--clamp-mss-to-pmtu`), through [`Extension::hooks`].

use std::fmt::Write;

use super::rewrite::ranged;
use super::util::{once, required};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::model::Hook;

/// What `-j TCPMSS` sets the MSS option to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mss {
    /// `--set-mss N`.
    Value(u16),
    /// `--clamp-mss-to-pmtu`: the route's MTU less the IP and TCP headers
    /// (`XT_TCPMSS_CLAMP_PMTU`, 0xffff, in the kernel's struct).
    ClampToPmtu,
}

/// `-j TCPMSS`: rewrite the MSS option of TCP SYN packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcpmss {
    pub mss: Mss,
}

impl Extension for Tcpmss {
    const NAME: &'static str = "TCPMSS";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("set-mss", Arity::One, false),
        Opt::new("clamp-mss-to-pmtu", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        // The largest MSS leaves room for the IP header: 65535 - 20, or - 40 for IPv6
        // (libxt_TCPMSS's per-family option tables).
        let max: u16 = if ctx.v6() { 65495 } else { 65515 };
        // Each may be given once. Both write the same field and iptables does not declare them
        // exclusive: the last one given wins.
        once(opts, "set-mss")?;
        once(opts, "clamp-mss-to-pmtu")?;
        let mut mss = None;
        for o in opts {
            mss = Some(match o.name {
                "set-mss" => Mss::Value(ranged(o, "TCPMSS", 0, max.into())? as u16),
                _ => Mss::ClampToPmtu,
            });
        }
        let Some(mss) = mss else {
            return Err(ExtError::whole(
                "TCPMSS target: At least one parameter is required",
            ));
        };
        // xt_TCPMSS registers with .proto = IPPROTO_TCP: xt_check_target refuses the rule
        // unless it says -p tcp, not negated. (Under nft_compat the kernel does not also ask
        // for a SYN match, as the legacy checkentry does.)
        if ctx.exact_proto() != Some(6) {
            return Err(ExtError::whole("TCPMSS is only valid with -p tcp"));
        }
        Ok(Tcpmss { mss })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        match self.mss {
            Mss::Value(n) => {
                let _ = write!(out, " --set-mss {n}");
            }
            Mss::ClampToPmtu => out.push_str(" --clamp-mss-to-pmtu"),
        }
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        match self.mss {
            Mss::Value(n) => {
                let _ = write!(out, " TCPMSS set {n}");
            }
            Mss::ClampToPmtu => out.push_str(" TCPMSS clamp to PMTU"),
        }
    }

    /// tcpmss_tg4_check: "path-MTU clamping only supported in FORWARD, OUTPUT and
    /// POSTROUTING hooks".
    fn hooks(&self) -> Option<u8> {
        (self.mss == Mss::ClampToPmtu)
            .then_some(Hook::Forward.bit() | Hook::Output.bit() | Hook::Postrouting.bit())
    }
}

/// One `%x` of glibc's sscanf: optional blanks and sign, an optional `0x`, hex digits. Returns
/// the value as `strtoul` makes it (saturating at `u64::MAX`, a `-` negating modulo 2^64) and
/// the rest of the text; `None` when there are no digits.
fn scan_hex(s: &str) -> Option<(u64, &str)> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    // "0x" is taken as a prefix even with no digits after it; the 0 is then the number.
    let (had_zero, s) = match s.as_bytes() {
        [b'0', b'x' | b'X', ..] => (true, &s[2..]),
        _ => (false, s),
    };
    let len = s.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(s.len());
    if len == 0 && !had_zero {
        return None;
    }
    let value = if len == 0 {
        0
    } else {
        u64::from_str_radix(&s[..len], 16).unwrap_or(u64::MAX)
    };
    Some((
        if negative {
            value.wrapping_neg()
        } else {
            value
        },
        &s[len..],
    ))
}

/// `-j CLASSIFY --set-class MAJOR:MINOR`: set `skb->priority`, which tc classifies by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classify {
    /// `TC_H_MAKE(major << 16, minor)`.
    pub priority: u32,
}

impl Classify {
    pub fn major(&self) -> u16 {
        (self.priority >> 16) as u16
    }

    pub fn minor(&self) -> u16 {
        self.priority as u16
    }
}

impl Extension for Classify {
    const NAME: &'static str = "CLASSIFY";
    const OPTIONS: &'static [Opt] = &[Opt::new("set-class", Arity::One, false)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let o = required(opts, "CLASSIFY", "set-class")?;
        // CLASSIFY_string_to_priority: sscanf(s, "%x:%x") must fill both; anything after the
        // minor is ignored. Each is an unsigned int, and only its low 16 bits survive
        // TC_H_MAKE.
        let parsed = scan_hex(o.arg()).and_then(|(major, rest)| {
            let rest = rest.strip_prefix(':')?;
            let (minor, _) = scan_hex(rest)?;
            Some((major as u32, minor as u32))
        });
        let Some((major, minor)) = parsed else {
            return Err(o.bad(format!("Bad class value \"{}\"", o.arg())));
        };
        Ok(Classify {
            priority: (major << 16) | (minor & 0xffff),
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(
            out,
            " --set-class {:04x}:{:04x}",
            self.major(),
            self.minor()
        );
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " CLASSIFY set {:x}:{:x}", self.major(), self.minor());
    }
}

/// `-j CHECKSUM --checksum-fill`: compute the checksum of a packet that left it to hardware
/// offload (for old DHCP clients behind virtual interfaces). Fill is its only operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checksum;

impl Extension for Checksum {
    const NAME: &'static str = "CHECKSUM";
    const OPTIONS: &'static [Opt] = &[Opt::new("checksum-fill", Arity::Zero, false)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        required(opts, "CHECKSUM", "checksum-fill")?;
        Ok(Checksum)
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" --checksum-fill");
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" CHECKSUM fill");
    }
}

/// Which way `-j CONNSECMARK` copies the security mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connsecmark {
    /// `--save`: packet to connection (only if the connection has none yet).
    Save,
    /// `--restore`: connection to packet (only if the packet has none yet).
    Restore,
}

impl Extension for Connsecmark {
    const NAME: &'static str = "CONNSECMARK";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("save", Arity::Zero, false),
        Opt::new("restore", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        match (once(opts, "save")?, once(opts, "restore")?) {
            (Some(_), None) => Ok(Connsecmark::Save),
            (None, Some(_)) => Ok(Connsecmark::Restore),
            (Some(_), Some(r)) => Err(
                r.err("CONNSECMARK: option \"--save\" cannot be used together with \"--restore\"")
            ),
            (None, None) => Err(ExtError::whole("CONNSECMARK target: parameter required")),
        }
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(match self {
            Connsecmark::Save => " --save",
            Connsecmark::Restore => " --restore",
        });
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(match self {
            Connsecmark::Save => " CONNSECMARK save",
            Connsecmark::Restore => " CONNSECMARK restore",
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, fails, parse_ctx, parse_in, print};
    use super::*;
    use crate::rules::model::{Family, Proto};

    // Expected strings are from iptables-nft 1.8.9 on Linux 6.18 (tests/ext/*.t cases).

    /// A rule of `family` with `-p proto` (0: none), negated if `inverted`.
    fn ctx(family: Family, proto: u8, inverted: bool) -> ParseCtx {
        ParseCtx {
            proto: Proto(proto),
            proto_inverted: inverted,
            ..parse_ctx(family)
        }
    }

    #[test]
    fn tcpmss() {
        let tcp4 = ctx(Family::Ipv4, 6, false);
        let tcp6 = ctx(Family::Ipv6, 6, false);
        for (c, args, save, list) in [
            (
                tcp4,
                "--set-mss 1400",
                " --set-mss 1400",
                " TCPMSS set 1400",
            ),
            (
                tcp4,
                "--set-mss 65515",
                " --set-mss 65515",
                " TCPMSS set 65515",
            ),
            (
                tcp6,
                "--set-mss 65495",
                " --set-mss 65495",
                " TCPMSS set 65495",
            ),
            (
                tcp4,
                "--clamp-mss-to-pmtu",
                " --clamp-mss-to-pmtu",
                " TCPMSS clamp to PMTU",
            ),
            (
                tcp4,
                "--set-mss 1 --clamp-mss-to-pmtu",
                " --clamp-mss-to-pmtu",
                " TCPMSS clamp to PMTU",
            ),
            (
                tcp4,
                "--clamp-mss-to-pmtu --set-mss 1",
                " --set-mss 1",
                " TCPMSS set 1",
            ),
        ] {
            let t: Tcpmss = parse_in(args, c).unwrap_or_else(|e| panic!("{args}: {e}"));
            assert_eq!(print(&t, c.family), [save, list, list], "for `{args}'");
        }
        let clamp: Tcpmss = parse_in("--clamp-mss-to-pmtu", tcp4).unwrap();
        assert_eq!(
            clamp.hooks(),
            Some(Hook::Forward.bit() | Hook::Output.bit() | Hook::Postrouting.bit())
        );
        assert_eq!(
            parse_in::<Tcpmss>("--set-mss 1", tcp4).unwrap().hooks(),
            None
        );

        for (c, args) in [
            (tcp4, "--set-mss 65516"),
            (tcp6, "--set-mss 65496"),
            (tcp4, ""),
            (tcp4, "--set-mss 1 --set-mss 2"),
            (tcp4, "--clamp-mss-to-pmtu --clamp-mss-to-pmtu"),
            (ctx(Family::Ipv4, 0, false), "--set-mss 1400"),
            (ctx(Family::Ipv4, 6, true), "--set-mss 1400"),
            (ctx(Family::Ipv4, 17, false), "--set-mss 1400"),
        ] {
            assert!(parse_in::<Tcpmss>(args, c).is_err(), "{args} was accepted");
        }
    }

    /// CLASSIFY with `--set-class ARG` taken as one word (it may hold spaces).
    fn class(arg: &str) -> Result<Classify, ExtError> {
        let o = OptArg {
            name: "set-class",
            invert: false,
            args: vec![arg.to_string()],
            col: 1,
            arg_cols: vec![13],
        };
        Classify::parse(&[o], &parse_ctx(Family::Ipv4))
    }

    #[test]
    fn classify() {
        for (args, save, list) in [
            ("1:2", " --set-class 0001:0002", " CLASSIFY set 1:2"),
            (
                "ffff:ffff",
                " --set-class ffff:ffff",
                " CLASSIFY set ffff:ffff",
            ),
            ("0:0", " --set-class 0000:0000", " CLASSIFY set 0:0"),
            ("abc:DEF", " --set-class 0abc:0def", " CLASSIFY set abc:def"),
            ("0x10:0X20", " --set-class 0010:0020", " CLASSIFY set 10:20"),
            ("10000:10001", " --set-class 0000:0001", " CLASSIFY set 0:1"),
            (
                "123456789:1",
                " --set-class 6789:0001",
                " CLASSIFY set 6789:1",
            ),
            ("-1:1", " --set-class ffff:0001", " CLASSIFY set ffff:1"),
            ("1:2:3", " --set-class 0001:0002", " CLASSIFY set 1:2"),
            // Seen on the kernel, not in CLASSIFY.t.
            ("0x:1", " --set-class 0000:0001", " CLASSIFY set 0:1"),
            ("1:-2", " --set-class 0001:fffe", " CLASSIFY set 1:fffe"),
            (
                "11111111111111111111111:1",
                " --set-class ffff:0001",
                " CLASSIFY set ffff:1",
            ),
        ] {
            check::<Classify>(&format!("--set-class {args}"), save, list, list);
        }
        // sscanf skips blanks before each number, not before the colon.
        let spaced = class("1: 2").unwrap();
        assert_eq!(print(&spaced, Family::Ipv4)[0], " --set-class 0001:0002");
        assert!(class("1 :2").is_err());
        for args in ["1", "1:", ":1", "x:1"] {
            assert!(class(args).is_err(), "{args} was accepted");
        }
        fails::<Classify>("");
        fails::<Classify>("--set-class 1:1 --set-class 1:2");
    }

    #[test]
    fn checksum_and_connsecmark() {
        check::<Checksum>(
            "--checksum-fill",
            " --checksum-fill",
            " CHECKSUM fill",
            " CHECKSUM fill",
        );
        fails::<Checksum>("");
        fails::<Checksum>("--checksum-fill --checksum-fill");

        check::<Connsecmark>(
            "--save",
            " --save",
            " CONNSECMARK save",
            " CONNSECMARK save",
        );
        check::<Connsecmark>(
            "--restore",
            " --restore",
            " CONNSECMARK restore",
            " CONNSECMARK restore",
        );
        for args in ["", "--save --restore", "--save --save"] {
            fails::<Connsecmark>(args);
        }
    }
}

//! Matches on single IP header fields: `-m length`, `-m ttl` (IPv4), `-m hl` (IPv6),
//! `-m tos`, `-m dscp` and `-m ecn`.
//!
//! Their numbers are read as libxtables reads option numbers (strtoul base 0: `0x10`, `020`,
//! `+5`), and their texts follow iptables 1.8.9 byte for byte, odd spacing included
//! (` tos match0x10/0xff`).

use std::fmt::Write;

use super::diffserv::{dscp_class, parse_tos, tos_name, TosError, DSCP_MAX, TOS_NAME_MASK};
use super::util::{once, parse_num, parse_num_range, required, save_invert, write_range};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// A whole-number option argument (`XTTYPE_UINT8` and friends) in `min..=max`.
fn num(o: &OptArg, ext: &str, min: u64, max: u64) -> Result<u64, ExtError> {
    parse_num(o.arg(), min, max).ok_or_else(|| {
        o.bad(format!(
            "{ext}: bad value for option \"--{}\", or out of range ({min}-{max})",
            o.name
        ))
    })
}

/// `-m length --length MIN[:MAX]`: the IP packet length (IPv6: payload plus header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Length {
    pub min: u16,
    pub max: u16,
    pub invert: bool,
}

/// `MIN[:MAX]` of 16-bit values (`XTTYPE_UINT16RC`).
fn u16_range(o: &OptArg, ext: &str) -> Result<(u16, u16), ExtError> {
    let (lo, hi) = parse_num_range(o.arg(), 65535)
        .map_err(|e| o.bad(format!("{ext}: argument to \"--{}\": {e}", o.name)))?;
    Ok((lo as u16, hi as u16))
}

impl Extension for Length {
    const NAME: &'static str = "length";
    const OPTIONS: &'static [Opt] = &[Opt::new("length", Arity::One, true)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let o = required(opts, "length", "length")?;
        // A reversed range is taken as written (iptables 1.8.9 does; it matches nothing).
        let (min, max) = u16_range(o, "length")?;
        Ok(Length {
            min,
            max,
            invert: o.invert,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.invert);
        out.push_str(" --length ");
        write_range(out, self.min, self.max);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(if self.invert { " length !" } else { " length " });
        write_range(out, self.min, self.max);
    }
}

/// How ttl and hl compare (`IPT_TTL_*` / `IP6T_HL_*`, in the kernel's numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    /// `! --ttl-eq`
    Ne,
    Lt,
    Gt,
}

impl Cmp {
    pub fn test(self, field: u8, value: u8) -> bool {
        match self {
            Cmp::Eq => field == value,
            Cmp::Ne => field != value,
            Cmp::Lt => field < value,
            Cmp::Gt => field > value,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Gt => ">",
        }
    }

    /// Reads the one option of ttl (`prefix` = "ttl") or hl: `-eq` (negatable, also spelt
    /// without the suffix), `-lt` or `-gt`, never two of them.
    fn parse(opts: &[OptArg], prefix: &str, ext: &str) -> Result<(Cmp, u8), ExtError> {
        let mut given = opts.iter();
        let Some(o) = given.next() else {
            return Err(ExtError::whole(format!(
                "{ext} match: you must specify one of `--{prefix}-eq', `--{prefix}-lt', `--{prefix}-gt'"
            )));
        };
        if let Some(second) = given.next() {
            return Err(second.err(format!(
                "{ext}: only one of --{prefix}-eq, --{prefix}-lt and --{prefix}-gt may be given"
            )));
        }
        let value = num(o, &ext.to_ascii_lowercase(), 0, 255)? as u8;
        let cmp = match o.name.strip_prefix(prefix) {
            Some("-lt") => Cmp::Lt,
            Some("-gt") => Cmp::Gt,
            _ if o.invert => Cmp::Ne,
            _ => Cmp::Eq,
        };
        Ok((cmp, value))
    }

    /// ` --ttl-eq 5` / ` ! --ttl-eq 5` / ` --ttl-lt 5`.
    fn save(self, out: &mut String, prefix: &str, value: u8) {
        let opt = match self {
            Cmp::Eq => "eq",
            Cmp::Ne => {
                out.push_str(" !");
                "eq"
            }
            Cmp::Lt => "lt",
            Cmp::Gt => "gt",
        };
        let _ = write!(out, " --{prefix}-{opt} {value}");
    }
}

/// `-m ttl`: the IPv4 time to live against a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ttl {
    pub mode: Cmp,
    pub ttl: u8,
}

impl Extension for Ttl {
    const NAME: &'static str = "ttl";
    // `--ttl` is libipt_ttl's old spelling of `--ttl-eq`; 1.8.9 lets it be negated too.
    const OPTIONS: &'static [Opt] = &[
        Opt::new("ttl-eq", Arity::One, true),
        Opt::new("ttl-lt", Arity::One, false),
        Opt::new("ttl-gt", Arity::One, false),
        Opt::new("ttl", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if ctx.v6() {
            return Err(ExtError::whole("ttl is an IPv4 match; ip6tables has -m hl"));
        }
        let (mode, ttl) = Cmp::parse(opts, "ttl", "TTL")?;
        Ok(Ttl { mode, ttl })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.mode.save(out, "ttl", self.ttl);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " TTL match TTL {} {}", self.mode.symbol(), self.ttl);
    }
}

/// `-m hl`: the IPv6 hop limit against a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hl {
    pub mode: Cmp,
    pub hop_limit: u8,
}

impl Extension for Hl {
    const NAME: &'static str = "hl";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("hl-eq", Arity::One, true),
        Opt::new("hl-lt", Arity::One, false),
        Opt::new("hl-gt", Arity::One, false),
        Opt::new("hl", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if !ctx.v6() {
            return Err(ExtError::whole("hl is an IPv6 match; iptables has -m ttl"));
        }
        let (mode, hop_limit) = Cmp::parse(opts, "hl", "HL")?;
        Ok(Hl { mode, hop_limit })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.mode.save(out, "hl", self.hop_limit);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(
            out,
            " HL match HL {} {}",
            self.mode.symbol(),
            self.hop_limit
        );
    }
}

/// `-m tos --tos VALUE[/MASK]` or `--tos NAME` (revision 1, xt_tos_match_info): matches
/// when `(tos & mask) == value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tos {
    pub tos_value: u8,
    pub tos_mask: u8,
    pub invert: bool,
}

impl Tos {
    /// xtopt_parse_tosmask: anything that starts with a number up to 255 is `value[/mask]`
    /// (mask 0xff by default); everything else must be a name (mask 0x3f).
    fn parse_arg(o: &OptArg) -> Result<(u8, u8), ExtError> {
        let s = o.arg();
        parse_tos(s).map_err(|e| match e {
            TosError::Illegal => o.bad(format!("illegal value: \"{s}\"")),
            TosError::UnknownName => o.bad(format!("symbolic name \"{s}\" is unknown")),
        })
    }
}

impl Extension for Tos {
    const NAME: &'static str = "tos";
    const OPTIONS: &'static [Opt] = &[Opt::new("tos", Arity::One, true)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let o = required(opts, "tos", "tos")?;
        let (tos_value, tos_mask) = Tos::parse_arg(o)?;
        Ok(Tos {
            tos_value,
            tos_mask,
            invert: o.invert,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.invert);
        let _ = write!(
            out,
            " --tos 0x{:02x}/0x{:02x}",
            self.tos_value, self.tos_mask
        );
    }

    /// ` tos match Minimize-Delay`, ` tos match! Minimize-Delay`, ` tos match0x10/0xff`: a
    /// name only for mask 0x3f and not under `-n`.
    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" tos match");
        if self.invert {
            out.push('!');
        }
        let name = tos_name(self.tos_value).filter(|_| self.tos_mask == TOS_NAME_MASK);
        match name {
            Some(name) if !ctx.numeric => {
                out.push(' ');
                out.push_str(name);
            }
            _ => {
                let _ = write!(out, "0x{:02x}/0x{:02x}", self.tos_value, self.tos_mask);
            }
        }
    }
}

/// `-m dscp --dscp N` or `--dscp-class NAME`: the six DSCP bits of TOS / traffic class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dscp {
    pub dscp: u8,
    pub invert: bool,
}

impl Extension for Dscp {
    const NAME: &'static str = "dscp";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("dscp", Arity::One, true),
        Opt::new("dscp-class", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let (value, class) = (once(opts, "dscp")?, once(opts, "dscp-class")?);
        let dscp = match (value, class) {
            (Some(_), Some(c)) => {
                return Err(c.err("dscp: --dscp and --dscp-class cannot be used together"))
            }
            (None, None) => {
                return Err(ExtError::whole("dscp: --dscp or --dscp-class is required"))
            }
            (Some(v), None) => (num(v, "dscp", 0, DSCP_MAX.into())? as u8, v.invert),
            (None, Some(c)) => {
                let s = c.arg();
                let v = dscp_class(s).ok_or_else(|| c.bad(format!("invalid DSCP class `{s}'")))?;
                (v, c.invert)
            }
        };
        Ok(Dscp {
            dscp: dscp.0,
            invert: dscp.1,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.invert);
        let _ = write!(out, " --dscp 0x{:02x}", self.dscp);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let inv = if self.invert { "!" } else { "" };
        let _ = write!(out, " DSCP match {inv}0x{:02x}", self.dscp);
    }
}

/// `-m ecn`: the TCP ECE and CWR flags and the IP ECN field (`struct xt_ecn_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ecn {
    /// Which tests are on (`XT_ECN_OP_MATCH_*` bits).
    pub operation: u8,
    /// Which of them are negated.
    pub invert: u8,
    /// `--ecn-ip-ect`: 0..=3.
    pub ip_ect: u8,
}

impl Ecn {
    pub const MATCH_IP: u8 = 0x01;
    pub const MATCH_ECE: u8 = 0x10;
    pub const MATCH_CWR: u8 = 0x20;

    /// (bit, option, `-L` word) in the order iptables prints them.
    const TESTS: [(u8, &'static str, &'static str); 3] = [
        (Ecn::MATCH_ECE, "ecn-tcp-ece", "ECE"),
        (Ecn::MATCH_CWR, "ecn-tcp-cwr", "CWR"),
        (Ecn::MATCH_IP, "ecn-ip-ect", "ECT"),
    ];
}

impl Extension for Ecn {
    const NAME: &'static str = "ecn";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("ecn-tcp-cwr", Arity::Zero, true),
        Opt::new("ecn-tcp-ece", Arity::Zero, true),
        Opt::new("ecn-ip-ect", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let mut ecn = Ecn {
            operation: 0,
            invert: 0,
            ip_ect: 0,
        };
        for (bit, name, _) in Ecn::TESTS {
            let Some(o) = once(opts, name)? else {
                continue;
            };
            ecn.operation |= bit;
            if o.invert {
                ecn.invert |= bit;
            }
            if bit == Ecn::MATCH_IP {
                ecn.ip_ect = num(o, "ecn", 0, 3)? as u8;
            }
        }
        if ecn.operation == 0 {
            return Err(ExtError::whole("ECN match: some option required"));
        }
        // ecn_mt_check: the TCP bits can only be tested in TCP packets.
        if ecn.operation & (Ecn::MATCH_ECE | Ecn::MATCH_CWR) != 0 && ctx.exact_proto() != Some(6) {
            return Err(ExtError::whole(
                "ecn: --ecn-tcp-ece and --ecn-tcp-cwr need -p tcp (the kernel refuses them otherwise)",
            ));
        }
        Ok(ecn)
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        for (bit, name, _) in Ecn::TESTS {
            if self.operation & bit == 0 {
                continue;
            }
            save_invert(out, self.invert & bit != 0);
            let _ = write!(out, " --{name}");
            if bit == Ecn::MATCH_IP {
                let _ = write!(out, " {}", self.ip_ect);
            }
        }
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" ECN match");
        for (bit, _, word) in Ecn::TESTS {
            if self.operation & bit == 0 {
                continue;
            }
            let inv = if self.invert & bit != 0 { "!" } else { "" };
            let _ = write!(out, " {inv}{word}");
            if bit == Ecn::MATCH_IP {
                let _ = write!(out, "={}", self.ip_ect);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_lists, rule};
    use super::*;
    use crate::rules::model::Family::{Ipv4, Ipv6};

    /// Rows copied from `iptables -L -v` / `-L -v -n` (ip6tables for hl), 1.8.9 nf_tables.
    #[test]
    fn lists_like_iptables() {
        let v4 = [
            (
                "-m length ! --length 100:200",
                " length !100:200",
                " length !100:200",
            ),
            (
                "-m length --length 200:100",
                " length 200:100",
                " length 200:100",
            ),
            (
                "-m ttl ! --ttl-eq 1",
                " TTL match TTL != 1",
                " TTL match TTL != 1",
            ),
            (
                "-m ttl --ttl-gt 250",
                " TTL match TTL > 250",
                " TTL match TTL > 250",
            ),
            (
                "-m tos --tos 0x10",
                " tos match0x10/0xff",
                " tos match0x10/0xff",
            ),
            (
                "-m tos ! --tos 0x10/0x3f",
                " tos match! Minimize-Delay",
                " tos match!0x10/0x3f",
            ),
            (
                "-m tos --tos normal-service",
                " tos match Normal-Service",
                " tos match0x00/0x3f",
            ),
            (
                "-m dscp ! --dscp 10",
                " DSCP match !0x0a",
                " DSCP match !0x0a",
            ),
            (
                "-m dscp --dscp-class af41",
                " DSCP match 0x22",
                " DSCP match 0x22",
            ),
            (
                "-p tcp -m ecn ! --ecn-tcp-ece --ecn-tcp-cwr",
                " ECN match !ECE CWR",
                " ECN match !ECE CWR",
            ),
            (
                "-p tcp -m ecn ! --ecn-ip-ect 3 ! --ecn-tcp-cwr",
                " ECN match !CWR !ECT=3",
                " ECN match !CWR !ECT=3",
            ),
        ];
        for (text, list, list_n) in v4 {
            assert_lists(Ipv4, text, list, list_n);
        }
        assert_lists(
            Ipv6,
            "-m hl --hl-lt 2",
            " HL match HL < 2",
            " HL match HL < 2",
        );
        assert_lists(
            Ipv6,
            "-m hl ! --hl 3",
            " HL match HL != 3",
            " HL match HL != 3",
        );
    }

    #[test]
    fn comparisons() {
        assert!(Cmp::Lt.test(4, 5) && !Cmp::Lt.test(5, 5));
        assert!(Cmp::Ne.test(4, 5) && !Cmp::Eq.test(4, 5) && Cmp::Gt.test(6, 5));
    }

    #[test]
    fn errors_name_the_option() {
        let err = |t: &str| rule(Ipv4, t).unwrap_err();
        assert!(err("-m ttl --ttl-eq 256").contains("--ttl-eq"));
        assert!(err("-m dscp --dscp 64").contains("(0-63)"));
        assert!(err("-m tos --tos 0x10/0x100").contains("illegal value"));
        assert!(err("-m length --length 5x").contains("unexpected characters"));
        assert!(err("-m ecn --ecn-tcp-cwr").contains("-p tcp"));
    }
}

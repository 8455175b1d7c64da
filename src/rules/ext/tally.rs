//! Matches that count or remember: `-m statistic` (every nth packet, or at random),
//! `-m recent` (lists of recently seen addresses), `-m nfacct` (named accounting objects) and
//! `-m quota` (a byte budget), after extensions/libxt_statistic.c, libxt_recent.c,
//! libxt_nfacct.c and libxt_quota.c.
//!
//! Their state lives in the kernel (counters, lists, objects); the structs here hold the
//! configuration the rule gives it, in the kernel's own units.

use std::fmt::Write;
use std::net::IpAddr;

use super::util::{flag, once, parse_uint, save_invert, save_string};
use super::xtaddr::{parse_host, width};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::addr::{fmt_addr, prefix_mask};

/// The probability of `--mode random` as xt_statistic keeps it: a 31-bit fixed-point
/// fraction, compared with `get_random_u32() & 0x7FFFFFFF`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Probability(pub u32);

impl Probability {
    const ONE: u64 = 1 << 31;

    /// `lround(0x80000000 * p)`: half away from zero. NaN passes iptables' range check and
    /// comes out as 0, as it does from x86's `lround`.
    fn from_f64(p: f64) -> Probability {
        let v = (p * Self::ONE as f64).round();
        Probability(if v.is_nan() { 0 } else { v as u32 })
    }

    /// `printf("%.11f", p / 2^31)`, exactly: the fraction has at most 31 binary digits, so it
    /// is computed in integers and rounded half to even on the 11th decimal, as glibc does.
    fn write(self, out: &mut String) {
        const SCALE: u128 = 100_000_000_000; // 10^11
        let exact = u128::from(self.0) * SCALE;
        let (mut q, rem) = (exact >> 31, exact & ((1 << 31) - 1));
        let half = 1u128 << 30;
        if rem > half || (rem == half && q % 2 == 1) {
            q += 1;
        }
        let _ = write!(out, "{}.{:011}", q / SCALE, q % SCALE);
    }
}

/// `strtod` for the forms iptables users write: what Rust's float parser takes (decimal,
/// exponent, `inf`, `nan`) and C's hexadecimal floats (`0x1p-2`).
fn strtod(s: &str) -> Option<f64> {
    if let Ok(v) = s.parse::<f64>() {
        return Some(v);
    }
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let hex = body
        .strip_prefix("0x")
        .or_else(|| body.strip_prefix("0X"))?;
    let (mantissa, exp) = match hex.split_once(['p', 'P']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (hex, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}

/// What `--mode` selects, with its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatisticMode {
    Random {
        probability: Probability,
    },
    /// Match one packet in `every + 1`; `packet` is where the counter starts (xt_statistic
    /// stores `--every N` as N - 1).
    Nth {
        every: u32,
        packet: u32,
    },
}

/// `-m statistic --mode random|nth ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statistic {
    pub mode: StatisticMode,
    /// `XT_STATISTIC_INVERT`: set by `! --probability` or `! --every`.
    pub invert: bool,
}

impl Statistic {
    /// `print_match`: save (`prefix` "--") prints `--packet` always, `-L` only when not 0.
    fn dump(&self, out: &mut String, prefix: &str) {
        let inv = if self.invert { " !" } else { "" };
        match self.mode {
            StatisticMode::Random { probability } => {
                let _ = write!(out, " {prefix}mode random{inv} {prefix}probability ");
                probability.write(out);
            }
            StatisticMode::Nth { every, packet } => {
                let _ = write!(
                    out,
                    " {prefix}mode nth{inv} {prefix}every {}",
                    u64::from(every) + 1
                );
                if packet != 0 || !prefix.is_empty() {
                    let _ = write!(out, " {prefix}packet {packet}");
                }
            }
        }
    }
}

impl Extension for Statistic {
    const NAME: &'static str = "statistic";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("mode", Arity::One, false),
        Opt::new("probability", Arity::One, true),
        Opt::new("every", Arity::One, true),
        Opt::new("packet", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let Some(mode) = once(opts, "mode")? else {
            return Err(ExtError::whole(
                "statistic: option \"--mode\" must be specified",
            ));
        };
        let probability = once(opts, "probability")?;
        let every = once(opts, "every")?;
        let packet = once(opts, "packet")?;
        if let (Some(p), Some(other)) = (probability, every.or(packet)) {
            return Err(p.err(format!(
                "statistic: option \"--probability\" cannot be used together with \"--{}\"",
                other.name
            )));
        }
        let invert = opts.iter().any(|o| o.invert);
        let mode = match mode.arg() {
            "random" => {
                let Some(p) = probability else {
                    return Err(mode.err("--probability must be specified when using random mode"));
                };
                let value = strtod(p.arg())
                    .filter(|v| !(*v < 0.0 || *v > 1.0))
                    .ok_or_else(|| {
                        p.bad("statistic: bad value for option \"--probability\", or out of range (0-1)")
                    })?;
                StatisticMode::Random {
                    probability: Probability::from_f64(value),
                }
            }
            "nth" => {
                let number = |o: Option<&OptArg>, min: u64| -> Result<u32, ExtError> {
                    o.map_or(Ok(0), |o| {
                        parse_uint(o.arg(), u32::MAX.into())
                            .filter(|&v| v >= min)
                            .map(|v| v as u32)
                            .ok_or_else(|| {
                                o.bad(format!(
                                    "statistic: bad value for option \"--{}\", or out of range ({min}-4294967295)",
                                    o.name
                                ))
                            })
                    })
                };
                let n = number(every, 1)?;
                let p = number(packet, 0)?;
                // statistic_check runs first: --every N was stored as N - 1 (0 when absent).
                let every_stored = n.saturating_sub(1);
                if every.is_none() && packet.is_none() {
                    return Err(
                        mode.err("--every and --packet must be specified when using nth mode")
                    );
                }
                if p > every_stored {
                    return Err(ExtError::whole("the --packet p must be 0 <= p <= n-1"));
                }
                if every.is_none() || packet.is_none() {
                    return Err(ExtError::whole(
                        "statistic: option \"--every\" also requires \"--packet\"",
                    ));
                }
                StatisticMode::Nth {
                    every: every_stored,
                    packet: p,
                }
            }
            other => return Err(mode.bad(format!("Bad mode \"{other}\" (random or nth)"))),
        };
        Ok(Statistic { mode, invert })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.dump(out, "--");
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" statistic");
        self.dump(out, "");
    }
}

/// What a `recent` rule does with its list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecentCmd {
    /// `--set`: add (or refresh) the address; always matches.
    Set,
    /// `--rcheck`: match if the address is listed.
    Check,
    /// `--update`: like check, and refresh the last-seen time.
    Update,
    /// `--remove`: match if listed, and drop it.
    Remove,
}

/// `-m recent`: revision 1 of xt_recent (`struct xt_recent_mtinfo_v1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recent {
    pub command: RecentCmd,
    pub invert: bool,
    /// `--seconds`: only entries seen this recently count (0: any).
    pub seconds: u32,
    /// `--reap`: drop entries older than `seconds`.
    pub reap: bool,
    /// `--hitcount`: at least this many hits (0: any).
    pub hit_count: u32,
    /// `--rttl`: the TTL must also match the one recorded.
    pub ttl: bool,
    pub name: String,
    /// `--rdest`: remember destination addresses instead of sources.
    pub dest: bool,
    /// `--mask`: applied to addresses before they are listed.
    pub mask: IpAddr,
}

/// `XT_RECENT_NAME_LEN` less the terminating NUL.
const RECENT_NAME_MAX: usize = 199;
/// The kernel refuses hit counts from `XT_RECENT_MAX_NSTAMPS` on.
const RECENT_MAX_NSTAMPS: u32 = 1 << 16;

impl Recent {
    fn command_name(&self, save: bool) -> &'static str {
        match (self.command, save) {
            (RecentCmd::Set, true) => "--set",
            (RecentCmd::Check, true) => "--rcheck",
            (RecentCmd::Update, true) => "--update",
            (RecentCmd::Remove, true) => "--remove",
            (RecentCmd::Set, false) => "SET",
            (RecentCmd::Check, false) => "CHECK",
            (RecentCmd::Update, false) => "UPDATE",
            (RecentCmd::Remove, false) => "REMOVE",
        }
    }
}

/// A name copied into a fixed `char[]` (`xtopt_parse_string` with `XTOPT_PUT`): cut to `max`
/// bytes, at a character boundary.
fn truncated(name: &str, max: usize) -> &str {
    let mut end = name.len().min(max);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

impl Extension for Recent {
    const NAME: &'static str = "recent";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("set", Arity::Zero, true),
        Opt::new("rcheck", Arity::Zero, true),
        Opt::new("update", Arity::Zero, true),
        Opt::new("remove", Arity::Zero, true),
        Opt::new("seconds", Arity::One, false),
        Opt::new("reap", Arity::Zero, false),
        Opt::new("hitcount", Arity::One, false),
        Opt::new("rttl", Arity::Zero, false),
        Opt::new("name", Arity::One, false),
        Opt::new("rsource", Arity::Zero, false),
        Opt::new("rdest", Arity::Zero, false),
        Opt::new("mask", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let v6 = ctx.v6();
        let commands = [
            ("set", RecentCmd::Set),
            ("rcheck", RecentCmd::Check),
            ("update", RecentCmd::Update),
            ("remove", RecentCmd::Remove),
        ];
        let mut command: Option<(&OptArg, RecentCmd)> = None;
        for (name, cmd) in commands {
            if let Some(o) = once(opts, name)? {
                if let Some((first, _)) = command {
                    return Err(o.err(format!(
                        "recent: option \"--{}\" cannot be used together with \"--{name}\"",
                        first.name
                    )));
                }
                command = Some((o, cmd));
            }
        }
        let Some((cmd_opt, command)) = command else {
            return Err(ExtError::whole(
                "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'",
            ));
        };
        let number = |name: &str, min: u64| -> Result<u32, ExtError> {
            once(opts, name)?.map_or(Ok(0), |o| {
                parse_uint(o.arg(), u32::MAX.into())
                    .filter(|&v| v >= min)
                    .map(|v| v as u32)
                    .ok_or_else(|| {
                        o.bad(format!(
                            "recent: bad value for option \"--{name}\", or out of range ({min}-4294967295)"
                        ))
                    })
            })
        };
        let seconds = number("seconds", 1)?;
        let hit_count = number("hitcount", 0)?;
        let reap = flag(opts, "reap")?;
        if reap && seconds == 0 {
            return Err(ExtError::whole(
                "recent: option \"--reap\" also requires \"--seconds\"",
            ));
        }
        let ttl = once(opts, "rttl")?;
        if let (Some(t), RecentCmd::Set | RecentCmd::Remove) = (ttl, command) {
            return Err(t.err(format!(
                "recent: option \"--rttl\" cannot be used together with \"--{}\"",
                cmd_opt.name
            )));
        }
        // --rsource and --rdest may both be given: the later one wins.
        flag(opts, "rsource")?;
        flag(opts, "rdest")?;
        let dest = opts
            .iter()
            .rev()
            .find(|o| o.name == "rsource" || o.name == "rdest")
            .is_some_and(|o| o.name == "rdest");
        let name = match once(opts, "name")? {
            Some(o) => truncated(o.arg(), RECENT_NAME_MAX).to_string(),
            None => "DEFAULT".to_string(),
        };
        let mask = match once(opts, "mask")? {
            Some(o) => parse_host(o.arg(), v6).map_err(|e| o.bad(format!("recent: {e}")))?,
            None => prefix_mask(width(v6), v6),
        };
        // recent_mt_check: what the kernel refuses.
        let refuse = |why: &str| Err(ExtError::whole(format!("recent: the kernel refuses {why}")));
        if matches!(command, RecentCmd::Set | RecentCmd::Remove)
            && (seconds != 0 || hit_count != 0 || reap)
        {
            return refuse("--seconds, --hitcount or --reap with --set or --remove");
        }
        if hit_count >= RECENT_MAX_NSTAMPS {
            return refuse("a --hitcount above 65535");
        }
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return refuse(&format!(
                "the list name \"{name}\" (it must be usable as a file name)"
            ));
        }
        Ok(Recent {
            command,
            invert: cmd_opt.invert,
            seconds,
            reap,
            hit_count,
            ttl: ttl.is_some(),
            name,
            dest,
            mask,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.invert);
        let _ = write!(out, " {}", self.command_name(true));
        if self.seconds != 0 {
            // Printed with %d: large values come out negative.
            let _ = write!(out, " --seconds {}", self.seconds as i32);
        }
        if self.reap {
            out.push_str(" --reap");
        }
        if self.hit_count != 0 {
            let _ = write!(out, " --hitcount {}", self.hit_count);
        }
        if self.ttl {
            out.push_str(" --rttl");
        }
        // The name is printed as is, unquoted.
        let _ = write!(out, " --name {} --mask ", self.name);
        fmt_addr(out, self.mask);
        out.push_str(if self.dest { " --rdest" } else { " --rsource" });
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        if self.invert {
            out.push_str(" !");
        }
        let _ = write!(out, " recent: {}", self.command_name(false));
        if self.seconds != 0 {
            let _ = write!(out, " seconds: {}", self.seconds as i32);
        }
        if self.reap {
            out.push_str(" reap");
        }
        if self.hit_count != 0 {
            let _ = write!(out, " hit_count: {}", self.hit_count);
        }
        if self.ttl {
            out.push_str(" TTL-Match");
        }
        let side = if self.dest { "dest" } else { "source" };
        let _ = write!(out, " name: {} side: {side} mask: ", self.name);
        fmt_addr(out, self.mask);
    }
}

/// `NFACCT_NAME_MAX` less the terminating NUL.
const NFACCT_NAME_MAX: usize = 31;

/// `-m nfacct --nfacct-name NAME`: count the packet in a named accounting object, which must
/// exist (`nfacct add NAME`) or the kernel refuses the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nfacct {
    pub name: String,
}

impl Extension for Nfacct {
    const NAME: &'static str = "nfacct";
    const OPTIONS: &'static [Opt] = &[Opt::new("nfacct-name", Arity::One, false)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let Some(o) = once(opts, "nfacct-name")? else {
            return Err(ExtError::whole(
                "nfacct: option \"--nfacct-name\" must be specified",
            ));
        };
        if o.arg().is_empty() {
            return Err(o.bad("Argument must have a minimum length of 1 characters"));
        }
        if o.arg().contains('\n') {
            return Err(o.bad("Newlines not allowed in --nfacct-name"));
        }
        Ok(Nfacct {
            name: truncated(o.arg(), NFACCT_NAME_MAX).to_string(),
        })
    }

    /// ` --nfacct-name ` followed by the quoted name with its own leading space.
    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" --nfacct-name ");
        save_string(out, &self.name);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" nfacct-name ");
        save_string(out, &self.name);
    }
}

/// `-m quota [!] --quota BYTES`: match until `quota` bytes have passed (negated: after).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quota {
    pub quota: u64,
    pub invert: bool,
}

impl Extension for Quota {
    const NAME: &'static str = "quota";
    const OPTIONS: &'static [Opt] = &[Opt::new("quota", Arity::One, true)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let Some(o) = once(opts, "quota")? else {
            return Err(ExtError::whole(
                "quota: option \"--quota\" must be specified",
            ));
        };
        let quota = parse_uint(o.arg(), u64::MAX).ok_or_else(|| {
            o.bad(
                "quota: bad value for option \"--quota\", or out of range (0-18446744073709551615)",
            )
        })?;
        Ok(Quota {
            quota,
            invert: o.invert,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.invert);
        let _ = write!(out, " --quota {}", self.quota);
    }

    /// iptables 1.8.9's quota_print shows no `!`.
    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " quota: {} bytes", self.quota);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, check6, check_once, fails, fails6};
    use super::*;

    #[test]
    fn statistic_random() {
        let s = |args: &str, save: &str, list: &str| check::<Statistic>(args, save, list, list);
        s(
            "--mode random --probability 0.33333333333",
            " --mode random --probability 0.33333333349",
            " statistic mode random probability 0.33333333349",
        );
        s(
            "--mode random ! --probability 0.25",
            " --mode random ! --probability 0.25000000000",
            " statistic mode random ! probability 0.25000000000",
        );
        s(
            "--mode random --probability 1e-3",
            " --mode random --probability 0.00100000016",
            " statistic mode random probability 0.00100000016",
        );
        s(
            "--mode random --probability 0x1p-2",
            " --mode random --probability 0.25000000000",
            " statistic mode random probability 0.25000000000",
        );
        s(
            "--mode random --probability 1.0",
            " --mode random --probability 1.00000000000",
            " statistic mode random probability 1.00000000000",
        );
        // glibc rounds the exact value half to even.
        s(
            "--mode random --probability 0.000244140625",
            " --mode random --probability 0.00024414062",
            " statistic mode random probability 0.00024414062",
        );
        s(
            "--mode random --probability nan",
            " --mode random --probability 0.00000000000",
            " statistic mode random probability 0.00000000000",
        );
        for bad in [
            "! --mode random --probability 1",
            "--mode random --probability 1.1",
            "--mode random --probability -0.1",
            "--mode random",
            "--mode random --every 3 --packet 1",
            "--probability 0.5",
            "--mode foo",
            "--mode random --probability 0.1 --probability 0.2",
        ] {
            fails::<Statistic>(bad);
        }
    }

    #[test]
    fn statistic_nth() {
        check::<Statistic>(
            "--mode nth --every 3 --packet 0",
            " --mode nth --every 3 --packet 0",
            " statistic mode nth every 3",
            " statistic mode nth every 3",
        );
        check::<Statistic>(
            "--mode nth ! --every 3 --packet 2",
            " --mode nth ! --every 3 --packet 2",
            " statistic mode nth ! every 3 packet 2",
            " statistic mode nth ! every 3 packet 2",
        );
        check::<Statistic>(
            "--mode nth --every 4294967295 --packet 4294967294",
            " --mode nth --every 4294967295 --packet 4294967294",
            " statistic mode nth every 4294967295 packet 4294967294",
            " statistic mode nth every 4294967295 packet 4294967294",
        );
        for bad in [
            "--mode nth --every 3",
            "--mode nth --every 3 --packet 3",
            "--mode nth --every 0 --packet 0",
            "--mode nth --packet 1",
            "--mode nth",
            "--mode nth --every 3 --packet 1 --probability 0.5",
            "--mode nth --every 3 ! --packet 1",
        ] {
            fails::<Statistic>(bad);
        }
    }

    #[test]
    fn recent() {
        let r = |args: &str, save: &str, list: &str| check::<Recent>(args, save, list, list);
        r(
            "--set",
            " --set --name DEFAULT --mask 255.255.255.255 --rsource",
            " recent: SET name: DEFAULT side: source mask: 255.255.255.255",
        );
        r(
            "! --rcheck --name foo --rdest",
            " ! --rcheck --name foo --mask 255.255.255.255 --rdest",
            " ! recent: CHECK name: foo side: dest mask: 255.255.255.255",
        );
        r(
            "--update --seconds 60 --hitcount 3 --rttl",
            " --update --seconds 60 --hitcount 3 --rttl --name DEFAULT --mask 255.255.255.255 --rsource",
            " recent: UPDATE seconds: 60 hit_count: 3 TTL-Match name: DEFAULT side: source mask: 255.255.255.255",
        );
        r(
            "--remove --name bar --mask 255.255.255.0",
            " --remove --name bar --mask 255.255.255.0 --rsource",
            " recent: REMOVE name: bar side: source mask: 255.255.255.0",
        );
        r(
            "--rcheck --seconds 60 --reap --hitcount 65535",
            " --rcheck --seconds 60 --reap --hitcount 65535 --name DEFAULT --mask 255.255.255.255 --rsource",
            " recent: CHECK seconds: 60 reap hit_count: 65535 name: DEFAULT side: source mask: 255.255.255.255",
        );
        r(
            "--set --rsource --rdest --mask 10",
            " --set --name DEFAULT --mask 0.0.0.10 --rdest",
            " recent: SET name: DEFAULT side: dest mask: 0.0.0.10",
        );
        r(
            "--rdest --rsource --set",
            " --set --name DEFAULT --mask 255.255.255.255 --rsource",
            " recent: SET name: DEFAULT side: source mask: 255.255.255.255",
        );
        // --seconds is printed with %d: it does not read back.
        check_once::<Recent>(
            "--update --seconds 4294967295",
            " --update --seconds -1 --name DEFAULT --mask 255.255.255.255 --rsource",
            " recent: UPDATE seconds: -1 name: DEFAULT side: source mask: 255.255.255.255",
            " recent: UPDATE seconds: -1 name: DEFAULT side: source mask: 255.255.255.255",
        );
        check6::<Recent>(
            "--set",
            " --set --name DEFAULT --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource",
            " recent: SET name: DEFAULT side: source mask: ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            " recent: SET name: DEFAULT side: source mask: ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        );
        fails6::<Recent>("--set --mask 255.255.255.0");
        for bad in [
            "--rcheck --reap",
            "--set --rcheck",
            "--seconds 5",
            "--set --seconds 5",
            "--set --hitcount 2",
            "--rcheck --hitcount 65536",
            "--rcheck --seconds 0",
            "--set --name \"\"",
            "--set --name a/b",
            "--set --name .",
            "--set --mask 1.2.3.4/8",
            "--set --rttl",
            "--remove --rttl",
            "--remove --reap --seconds 3",
            "--update --hitcount 2 --hitcount 3",
            "--set --rsource --rsource",
        ] {
            fails::<Recent>(bad);
        }
    }

    #[test]
    fn nfacct_and_quota() {
        check::<Nfacct>(
            "--nfacct-name a-b_c",
            " --nfacct-name  a-b_c",
            " nfacct-name  a-b_c",
            " nfacct-name  a-b_c",
        );
        check::<Nfacct>(
            "--nfacct-name abcdefghijabcdefghijabcdefghij123",
            " --nfacct-name  abcdefghijabcdefghijabcdefghij1",
            " nfacct-name  abcdefghijabcdefghijabcdefghij1",
            " nfacct-name  abcdefghijabcdefghijabcdefghij1",
        );
        fails::<Nfacct>("");
        fails::<Nfacct>("! --nfacct-name foo");
        fails::<Nfacct>("--nfacct-name \"\"");
        fails::<Nfacct>("--nfacct-name foo --nfacct-name foo");
        let q = |args: &str, save: &str, list: &str| check::<Quota>(args, save, list, list);
        q("--quota 1000", " --quota 1000", " quota: 1000 bytes");
        q("! --quota 0", " ! --quota 0", " quota: 0 bytes");
        q("--quota 0x10", " --quota 16", " quota: 16 bytes");
        q(
            "--quota 18446744073709551615",
            " --quota 18446744073709551615",
            " quota: 18446744073709551615 bytes",
        );
        for bad in [
            "",
            "--quota 18446744073709551616",
            "--quota -1",
            "--quota 100 --remain 50",
        ] {
            fails::<Quota>(bad);
        }
    }
}

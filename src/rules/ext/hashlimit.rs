//! `-m hashlimit`: one token bucket per address/port group, after
//! extensions/libxt_hashlimit.c (revision 3) and the kernel's xt_hashlimit checks.
//!
//! Rates are written and printed as for `-m limit` (see [`super::rate`]), with a finer scale
//! (periods in 1/1000000 s), or as byte rates (`512b/s`, `1kb/s`, `1mb/s`) stored as a cost
//! per 16-byte chunk. iptables-save always prints the burst (in packet mode) and the name;
//! it leaves out the expire time when it is one unit of the rate, and masks that cover the
//! whole address.

use std::fmt::Write;

use super::rate::{atol, rate_unit, write_rate};
use super::util::{flag, once, parse_uint, required, strtoul_prefix};
use super::xtaddr::{parse_plen, width};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::model::Family;

/// `XT_HASHLIMIT_SCALE_v2`: hashlimit periods are in 1/1000000 s.
const HL_SCALE: u64 = 1_000_000;
/// `XT_HASHLIMIT_BURST_MAX` (packet mode).
const HL_BURST_MAX: u64 = 1_000_000;
/// `XT_HASHLIMIT_GCINTERVAL`, in ms.
const HL_GC_DEFAULT: u32 = 1000;
/// Longest name kept: `char name[NAME_MAX]` less its terminating NUL.
const HL_NAME_MAX: usize = 254;
/// The kernel caps `--hashlimit-htable-size`/`-max` at `HASHLIMIT_MAX_SIZE`.
const HL_HTABLE_MAX: u32 = 1 << 20;
/// `HZ * CREDITS_PER_JIFFY` of xt_hashlimit. It depends on the kernel's HZ; 250 and 1000
/// give the same product (2^37 * 1000), which is assumed here. It only decides which
/// rate and burst products the kernel refuses as overflowing.
const HL_HZ_CPJ: u64 = 137_438_953_472_000;
/// `HZ * CREDITS_PER_JIFFY_BYTES` (the same for HZ 250 and 1000).
const HL_HZ_CPJ_BYTES: u64 = 4_194_304_000;

/// `cfg.mode` bits of xt_hashlimit.
pub struct HashlimitMode;

impl HashlimitMode {
    pub const DSTIP: u32 = 1 << 0;
    pub const DSTPORT: u32 = 1 << 1;
    pub const SRCIP: u32 = 1 << 2;
    pub const SRCPORT: u32 = 1 << 3;
    /// Match above the rate (`--hashlimit-above`).
    pub const INVERT: u32 = 1 << 4;
    /// The rate is in bytes (`1kb/s`).
    pub const BYTES: u32 = 1 << 5;
    /// `--hashlimit-rate-match`: match on the rate without limiting.
    pub const RATE_MATCH: u32 = 1 << 6;
    /// The hash keys, in printing order.
    const KEYS: [(&'static str, u32); 4] = [
        ("srcip", Self::SRCIP),
        ("srcport", Self::SRCPORT),
        ("dstip", Self::DSTIP),
        ("dstport", Self::DSTPORT),
    ];
}

/// `-m hashlimit`: revision 3 of xt_hashlimit (`struct hashlimit_cfg3`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hashlimit {
    /// The table's name (`/proc/net/ipt_hashlimit/NAME`).
    pub name: String,
    /// [`HashlimitMode`] bits.
    pub mode: u32,
    /// The period per packet (1/1000000 s), or in byte mode the cost per byte chunk.
    pub avg: u64,
    /// Packets (or, in byte mode, periods' worth of bytes) allowed in a burst.
    pub burst: u64,
    pub size: u32,
    pub max: u32,
    /// Milliseconds between garbage collection runs.
    pub gc_interval: u32,
    /// Milliseconds after which an idle entry expires.
    pub expire: u32,
    pub srcmask: u8,
    pub dstmask: u8,
    /// `--hashlimit-rate-interval` in seconds; 0 when not given, except that a rate match
    /// sets it to one unit of the rate.
    pub interval: u32,
}

/// `cost_to_bytes` of libxt_hashlimit.
fn cost_to_bytes(cost: u64) -> u64 {
    let all = u64::from(u32::MAX);
    all.checked_div(cost).unwrap_or(all).wrapping_sub(1) << 4
}

/// `bytes_to_cost` (with its 32-bit intermediate); `None` where C divides by zero.
fn bytes_to_cost(bytes: u64) -> Option<u64> {
    let r = (bytes >> 4) as u32;
    u32::MAX.checked_div(r.wrapping_add(1)).map(u64::from)
}

/// `get_factor`: the `k`/`m` suffix of byte amounts.
fn byte_factor(c: Option<u8>) -> u64 {
    match c {
        Some(b'm') => 1024 * 1024,
        Some(b'k') => 1024,
        _ => 1,
    }
}

impl Hashlimit {
    /// `parse_bytes`: `N[k|m]b/s`. `Ok(None)` when the text is no byte rate.
    fn parse_bytes(o: &OptArg) -> Result<Option<u64>, ExtError> {
        let text = o.arg();
        let Some(at) = text.find("b/s").filter(|&at| at > 0) else {
            return Ok(None);
        };
        let r = atol(text) as u64;
        if r == 0 {
            return Ok(None);
        }
        let bytes = r.wrapping_mul(byte_factor(text.as_bytes().get(at - 1).copied()));
        match bytes_to_cost(bytes) {
            Some(cost) if cost != 0 => Ok(Some(cost)),
            _ => Err(o.bad(format!("Rate too high \"{text}\""))),
        }
    }

    /// `parse_rate` (revision 3: 64-bit, `atoll`): the period and the unit in seconds.
    fn parse_rate(o: &OptArg) -> Result<(u64, u64), ExtError> {
        let bad = || {
            o.bad(format!(
                "hashlimit: Bad value for \"--{}\" option: \"{}\"",
                o.name,
                o.arg()
            ))
        };
        let mult = rate_unit(o.arg()).ok_or_else(bad)?;
        let r = atol(o.arg()) as u64;
        if r == 0 {
            return Err(bad());
        }
        let period = HL_SCALE * mult / r;
        if period == 0 {
            return Err(o.bad(format!("Rate too fast \"{}\"", o.arg())));
        }
        Ok((period, mult))
    }

    fn parse_mode(o: &OptArg) -> Result<u32, ExtError> {
        // strtok(",|"): empty items are skipped.
        o.arg()
            .split([',', '|'])
            .filter(|t| !t.is_empty())
            .try_fold(0, |mode, t| {
                HashlimitMode::KEYS
                    .iter()
                    .find(|(name, _)| *name == t)
                    .map(|(_, bit)| mode | bit)
                    .ok_or_else(|| {
                        o.bad(format!(
                            "hashlimit: Bad value for \"--hashlimit-mode\" option: \"{}\"",
                            o.arg()
                        ))
                    })
            })
    }

    /// `parse_burst`: a number (at most 1000000 when it has no suffix), times a `k`/`m`
    /// suffix; other trailing text is ignored.
    fn parse_burst(o: &OptArg) -> Result<u64, ExtError> {
        let bad =
            || o.bad("bad value for option \"--hashlimit-burst\", or out of range (1-1000000).");
        let (v, rest) = strtoul_prefix(o.arg()).ok_or_else(bad)?;
        if v < 1 || (rest.is_empty() && v > HL_BURST_MAX) {
            return Err(bad());
        }
        Ok(v.wrapping_mul(byte_factor(rest.bytes().next())))
    }

    /// The name as the kernel gets it: cut to fit `char name[NAME_MAX]`, then checked by
    /// `xt_check_proc_name` (it becomes a file in /proc).
    fn parse_name(o: &OptArg) -> Result<String, ExtError> {
        let mut name = o.arg();
        if name.is_empty() {
            return Err(o.bad("Argument must have a minimum length of 1 characters"));
        }
        if name.len() > HL_NAME_MAX {
            let mut end = HL_NAME_MAX;
            while !name.is_char_boundary(end) {
                end -= 1;
            }
            name = &name[..end];
        }
        if name == "." || name == ".." || name.contains('/') {
            return Err(o.bad(format!(
                "hashlimit: the kernel refuses the name \"{name}\" (it must be usable as a file name)"
            )));
        }
        Ok(name.to_string())
    }

    fn keys_set(&self) -> bool {
        self.mode
            & (HashlimitMode::SRCIP
                | HashlimitMode::SRCPORT
                | HashlimitMode::DSTIP
                | HashlimitMode::DSTPORT)
            != 0
    }

    fn write_keys(&self, out: &mut String, sep: char) {
        let mut first = true;
        out.push(' ');
        for (name, bit) in HashlimitMode::KEYS {
            if self.mode & bit != 0 {
                if !first {
                    out.push(sep);
                }
                out.push_str(name);
                first = false;
            }
        }
    }

    /// `print_bytes`: the byte rate (` 1kb/s`) and, when there is a burst, `burst 2mb` after
    /// `prefix`; returns the expire default in ms.
    fn write_bytes(&self, out: &mut String, prefix: &str) -> u64 {
        const UNITS: [(&str, u64); 3] = [("m", 1024 * 1024), ("k", 1024), ("", 1)];
        let r = cost_to_bytes(self.avg);
        // The largest unit that shows the rate exactly enough to give back the same cost.
        let i = (0..2)
            .find(|&i| {
                let t = UNITS[i].1;
                r >= t && bytes_to_cost(r & !(t - 1)) == Some(self.avg)
            })
            .unwrap_or(2);
        let _ = write!(out, " {}{}b/s", r / UNITS[i].1, UNITS[i].0);
        if self.burst == 0 {
            return 15_000;
        }
        let r = r.wrapping_mul(self.burst);
        let i = (0..2).find(|&i| r >= UNITS[i].1).unwrap_or(2);
        let _ = write!(out, " {prefix}burst {}{}b", r / UNITS[i].1, UNITS[i].0);
        60_000
    }

    /// The parts after the rate that save and `-L` print alike, but for their prefix.
    fn write_tail(&self, out: &mut String, prefix: &str, quantum: u64, v6: bool) {
        if self.size != 0 {
            let _ = write!(out, " {prefix}htable-size {}", self.size);
        }
        if self.max != 0 {
            let _ = write!(out, " {prefix}htable-max {}", self.max);
        }
        if self.gc_interval != HL_GC_DEFAULT {
            let _ = write!(out, " {prefix}htable-gcinterval {}", self.gc_interval);
        }
        if u64::from(self.expire) != quantum {
            let _ = write!(out, " {prefix}htable-expire {}", self.expire);
        }
        let w = width(v6);
        if self.srcmask != w {
            let _ = write!(out, " {prefix}srcmask {}", self.srcmask);
        }
        if self.dstmask != w {
            let _ = write!(out, " {prefix}dstmask {}", self.dstmask);
        }
        if self.mode & HashlimitMode::RATE_MATCH != 0 {
            let _ = write!(out, " {prefix}rate-match");
            if self.interval != 1 {
                let _ = write!(out, " {prefix}rate-interval {}", self.interval);
            }
        }
    }

    /// The checks of the kernel's `hashlimit_mt_check_common` that iptables leaves to it.
    fn kernel_check(&self, v6: bool) -> Result<(), ExtError> {
        let refuse = |why: &str| {
            Err(ExtError::whole(format!(
                "hashlimit: the kernel refuses {why}"
            )))
        };
        if self.gc_interval == 0 || self.expire == 0 {
            return refuse("a zero --hashlimit-htable-gcinterval or --hashlimit-htable-expire");
        }
        if self.srcmask > width(v6) || self.dstmask > width(v6) {
            return refuse("a --hashlimit-srcmask/--hashlimit-dstmask that is no prefix length");
        }
        if self.mode & HashlimitMode::BYTES != 0 {
            // user2credits_byte(avg) == 0: "overflow, rate too high".
            if (u128::from(self.avg) * u128::from(HL_HZ_CPJ_BYTES)) as u64 >> 32 == 0 {
                return refuse("this byte rate as too high");
            }
        } else {
            // user2credits(avg * burst) < user2credits(avg), in wrapping 64-bit arithmetic:
            // "overflow, try lower".
            let credits = |v: u64| v.wrapping_mul(HL_HZ_CPJ / HL_SCALE);
            if self.burst == 0 || credits(self.avg.wrapping_mul(self.burst)) < credits(self.avg) {
                return refuse("this rate and burst (their product overflows; try lower)");
            }
        }
        Ok(())
    }
}

impl Extension for Hashlimit {
    const NAME: &'static str = "hashlimit";
    const OPTIONS: &'static [Opt] = &[
        // `--hashlimit` is the old name of `--hashlimit-upto`.
        Opt::new("hashlimit-upto", Arity::One, true).alias(&["hashlimit"]),
        Opt::new("hashlimit-above", Arity::One, true),
        Opt::new("hashlimit-srcmask", Arity::One, false),
        Opt::new("hashlimit-dstmask", Arity::One, false),
        Opt::new("hashlimit-burst", Arity::One, false),
        Opt::new("hashlimit-htable-size", Arity::One, false),
        Opt::new("hashlimit-htable-max", Arity::One, false),
        Opt::new("hashlimit-htable-gcinterval", Arity::One, false),
        Opt::new("hashlimit-htable-expire", Arity::One, false),
        Opt::new("hashlimit-mode", Arity::One, false),
        Opt::new("hashlimit-name", Arity::One, false),
        Opt::new("hashlimit-rate-match", Arity::Zero, false),
        Opt::new("hashlimit-rate-interval", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let v6 = ctx.v6();
        let (rate, above) = match (once(opts, "hashlimit-upto")?, once(opts, "hashlimit-above")?) {
            (Some(_), Some(a)) => {
                return Err(a.err(
                    "hashlimit: option \"--hashlimit-upto\" cannot be used together with \"--hashlimit-above\"",
                ))
            }
            // `!` turns one into the other.
            (Some(u), None) => (u, u.invert),
            (None, Some(a)) => (a, !a.invert),
            (None, None) => return Err(ExtError::whole("You have to specify --hashlimit")),
        };
        let name = required(opts, "hashlimit", "hashlimit-name")?;
        let mut mode = if above { HashlimitMode::INVERT } else { 0 };
        let (avg, mult) = match Hashlimit::parse_bytes(rate)? {
            Some(cost) => {
                mode |= HashlimitMode::BYTES;
                (cost, 15)
            }
            None => Hashlimit::parse_rate(rate)?,
        };
        if let Some(o) = once(opts, "hashlimit-mode")? {
            mode |= Hashlimit::parse_mode(o)?;
        }
        let u32_opt = |name: &str, default: u32| -> Result<u32, ExtError> {
            match once(opts, name)? {
                Some(o) => parse_uint(o.arg(), u32::MAX.into()).map(|v| v as u32).ok_or_else(|| {
                    o.bad(format!(
                        "hashlimit: bad value for option \"--{name}\", or out of range (0-4294967295)"
                    ))
                }),
                None => Ok(default),
            }
        };
        let mask = |name: &str| -> Result<u8, ExtError> {
            match once(opts, name)? {
                // A mask that is no prefix becomes length 255, which the kernel refuses.
                Some(o) => Ok(parse_plen(o.arg(), v6)
                    .map_err(|e| o.bad(format!("hashlimit: {e}")))?
                    .unwrap_or(u8::MAX)),
                None => Ok(width(v6)),
            }
        };
        let burst_opt = once(opts, "hashlimit-burst")?;
        let expire_opt = once(opts, "hashlimit-htable-expire")?;
        let mut hl = Hashlimit {
            name: Hashlimit::parse_name(name)?,
            mode,
            avg,
            burst: match burst_opt {
                Some(o) => Hashlimit::parse_burst(o)?,
                None => 5,
            },
            size: u32_opt("hashlimit-htable-size", 0)?.min(HL_HTABLE_MAX),
            max: u32_opt("hashlimit-htable-max", 0)?.min(HL_HTABLE_MAX),
            gc_interval: u32_opt("hashlimit-htable-gcinterval", HL_GC_DEFAULT)?,
            // hashlimit_mt_check: one unit of the rate, in ms, unless given.
            expire: u32_opt("hashlimit-htable-expire", (mult * 1000) as u32)?,
            srcmask: mask("hashlimit-srcmask")?,
            dstmask: mask("hashlimit-dstmask")?,
            interval: match once(opts, "hashlimit-rate-interval")? {
                Some(o) => {
                    let i = atol(o.arg()) as i32;
                    if i <= 0 {
                        return Err(o.bad(format!(
                            "hashlimit: Bad value for \"--hashlimit-rate-interval\" option: \"{}\"",
                            o.arg()
                        )));
                    }
                    i as u32
                }
                None => 0,
            },
        };
        if hl.mode & HashlimitMode::BYTES != 0 {
            // A byte burst is turned into a number of rate periods, rounded up.
            let mut burst = 0u32;
            if let Some(o) = burst_opt {
                let chunk = cost_to_bytes(hl.avg);
                if hl.burst < chunk || chunk == 0 {
                    return Err(o.bad(format!("burst cannot be smaller than {chunk}b")));
                }
                // The C code divides a 32-bit copy of the burst.
                burst = (u64::from(hl.burst as u32) / chunk) as u32;
                if hl.burst % chunk != 0 {
                    burst = burst.wrapping_add(1);
                }
                if expire_opt.is_none() {
                    hl.expire = 60_000;
                }
            }
            hl.burst = burst.into();
        } else if hl.burst > HL_BURST_MAX {
            return Err(ExtError::whole(
                "bad value for option \"--hashlimit-burst\", or out of range (1-1000000).",
            ));
        }
        if flag(opts, "hashlimit-rate-match")? {
            hl.mode |= HashlimitMode::RATE_MATCH;
            if hl.mode & HashlimitMode::BYTES == 0 {
                hl.avg /= mult;
            }
            if hl.interval == 0 {
                hl.interval = if hl.mode & HashlimitMode::BYTES != 0 {
                    1
                } else {
                    mult as u32
                };
            }
        }
        hl.kernel_check(v6)?;
        Ok(hl)
    }

    fn save(&self, out: &mut String, ctx: &PrintCtx) {
        let above = self.mode & HashlimitMode::INVERT != 0;
        out.push_str(if above {
            " --hashlimit-above"
        } else {
            " --hashlimit-upto"
        });
        let quantum = if self.mode & HashlimitMode::BYTES != 0 {
            self.write_bytes(out, "--hashlimit-")
        } else {
            let q = write_rate(out, self.avg, HL_SCALE);
            let _ = write!(out, " --hashlimit-burst {}", self.burst);
            q
        };
        if self.keys_set() {
            out.push_str(" --hashlimit-mode");
            self.write_keys(out, ',');
        }
        // Printed as is, unquoted (hashlimit_mt_save uses %s).
        let _ = write!(out, " --hashlimit-name {}", self.name);
        self.write_tail(out, "--hashlimit-", quantum, ctx.family == Family::Ipv6);
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        let above = self.mode & HashlimitMode::INVERT != 0;
        out.push_str(if above {
            " limit: above"
        } else {
            " limit: up to"
        });
        let quantum = if self.mode & HashlimitMode::BYTES != 0 {
            self.write_bytes(out, "")
        } else {
            // Revision 3 shows the rate over the whole rate interval.
            let period = if self.interval != 0 {
                self.avg.wrapping_mul(self.interval.into())
            } else {
                self.avg
            };
            let q = write_rate(out, period, HL_SCALE);
            let _ = write!(out, " burst {}", self.burst);
            q
        };
        if self.keys_set() {
            out.push_str(" mode");
            self.write_keys(out, '-');
        }
        self.write_tail(out, "", quantum, ctx.family == Family::Ipv6);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, check6, check_once, fails};
    use super::*;

    #[test]
    fn hashlimit_packets() {
        let h = |args: &str, save: &str, list: &str| check::<Hashlimit>(args, save, list, list);
        h(
            "--hashlimit-upto 10/sec --hashlimit-name foo",
            " --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-name foo",
            " limit: up to 10/sec burst 5",
        );
        h(
            "--hashlimit-above 3/min --hashlimit-mode srcip,dstport --hashlimit-name foo",
            " --hashlimit-above 3/min --hashlimit-burst 5 --hashlimit-mode srcip,dstport --hashlimit-name foo",
            " limit: above 3/min burst 5 mode srcip-dstport",
        );
        h(
            "--hashlimit 5 --hashlimit-name foo",
            " --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name foo",
            " limit: up to 5/sec burst 5",
        );
        h(
            "! --hashlimit-upto 5/h --hashlimit-name foo",
            " --hashlimit-above 5/hour --hashlimit-burst 5 --hashlimit-name foo",
            " limit: above 5/hour burst 5",
        );
        h(
            "! --hashlimit-above 5/d --hashlimit-name foo --hashlimit-burst 7",
            " --hashlimit-upto 5/day --hashlimit-burst 7 --hashlimit-name foo",
            " limit: up to 5/day burst 7",
        );
        h(
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-mode dstport,srcport,dstip,srcip --hashlimit-srcmask 24 --hashlimit-dstmask 16 --hashlimit-htable-size 1024 --hashlimit-htable-max 2048 --hashlimit-htable-gcinterval 500 --hashlimit-htable-expire 30000",
            " --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-mode srcip,srcport,dstip,dstport --hashlimit-name foo --hashlimit-htable-size 1024 --hashlimit-htable-max 2048 --hashlimit-htable-gcinterval 500 --hashlimit-htable-expire 30000 --hashlimit-srcmask 24 --hashlimit-dstmask 16",
            " limit: up to 5/sec burst 5 mode srcip-srcport-dstip-dstport htable-size 1024 htable-max 2048 htable-gcinterval 500 htable-expire 30000 srcmask 24 dstmask 16",
        );
        h(
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-htable-expire 1000 --hashlimit-htable-gcinterval 1000 --hashlimit-srcmask 32",
            " --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name foo",
            " limit: up to 5/sec burst 5",
        );
        h(
            "--hashlimit-upto 5/min --hashlimit-name foo --hashlimit-htable-expire 1000",
            " --hashlimit-upto 5/min --hashlimit-burst 5 --hashlimit-name foo --hashlimit-htable-expire 1000",
            " limit: up to 5/min burst 5 htable-expire 1000",
        );
        h(
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-htable-size 2000000 --hashlimit-htable-max 3000000",
            " --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name foo --hashlimit-htable-size 1048576 --hashlimit-htable-max 1048576",
            " limit: up to 5/sec burst 5 htable-size 1048576 htable-max 1048576",
        );
        h(
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-burst 2k --hashlimit-srcmask 255.255.0.0 --hashlimit-mode ,srcip,",
            " --hashlimit-upto 5/sec --hashlimit-burst 2048 --hashlimit-mode srcip --hashlimit-name foo --hashlimit-srcmask 16",
            " limit: up to 5/sec burst 2048 mode srcip srcmask 16",
        );
        h(
            "--hashlimit-upto 1000000/s --hashlimit-name foo --hashlimit-burst 0x10",
            " --hashlimit-upto 1000000/sec --hashlimit-burst 16 --hashlimit-name foo",
            " limit: up to 1000000/sec burst 16",
        );
        // The kernel's overflow check refuses 1/day with burst 5 but takes burst 1000.
        h(
            "--hashlimit-upto 1/day --hashlimit-burst 1000 --hashlimit-name foo",
            " --hashlimit-upto 1/day --hashlimit-burst 1000 --hashlimit-name foo",
            " limit: up to 1/day burst 1000",
        );
        fails::<Hashlimit>("--hashlimit-upto 1/day --hashlimit-name foo");
        check6::<Hashlimit>(
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-srcmask 64 --hashlimit-dstmask 128",
            " --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name foo --hashlimit-srcmask 64",
            " limit: up to 5/sec burst 5 srcmask 64",
            " limit: up to 5/sec burst 5 srcmask 64",
        );
    }

    #[test]
    fn hashlimit_bytes_and_rate_match() {
        let h = |args: &str, save: &str, list: &str| check::<Hashlimit>(args, save, list, list);
        h(
            "--hashlimit-upto 1kb/s --hashlimit-name foo",
            " --hashlimit-upto 1kb/s --hashlimit-name foo",
            " limit: up to 1kb/s",
        );
        h(
            "--hashlimit-upto 1mb/s --hashlimit-name foo --hashlimit-burst 2mb",
            " --hashlimit-upto 1mb/s --hashlimit-burst 2mb --hashlimit-name foo",
            " limit: up to 1mb/s burst 2mb",
        );
        h(
            "--hashlimit-upto 512b/s --hashlimit-name foo --hashlimit-burst 1000",
            " --hashlimit-upto 512b/s --hashlimit-burst 1kb --hashlimit-name foo",
            " limit: up to 512b/s burst 1kb",
        );
        // Lossy: below 16 bytes a second the rate prints as 0b/s, which does not read back.
        check_once::<Hashlimit>(
            "--hashlimit-upto 5b/s --hashlimit-name foo",
            " --hashlimit-upto 0b/s --hashlimit-name foo",
            " limit: up to 0b/s",
            " limit: up to 0b/s",
        );
        h(
            "--hashlimit-upto 100b/s --hashlimit-name foo --hashlimit-rate-match",
            " --hashlimit-upto 96b/s --hashlimit-name foo --hashlimit-rate-match",
            " limit: up to 96b/s rate-match",
        );
        h(
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-rate-match",
            " --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name foo --hashlimit-rate-match",
            " limit: up to 5/sec burst 5 rate-match",
        );
        // Lossy: save shows the per-second period of a rate match, `-L` the whole interval.
        check_once::<Hashlimit>(
            "--hashlimit-upto 5/min --hashlimit-name foo --hashlimit-rate-match --hashlimit-rate-interval 10",
            " --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name foo --hashlimit-htable-expire 60000 --hashlimit-rate-match --hashlimit-rate-interval 10",
            " limit: up to 30/min burst 5 rate-match rate-interval 10",
            " limit: up to 30/min burst 5 rate-match rate-interval 10",
        );
        check_once::<Hashlimit>(
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-rate-interval 3",
            " --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name foo",
            " limit: up to 100/min burst 5 htable-expire 1000",
            " limit: up to 100/min burst 5 htable-expire 1000",
        );
    }

    #[test]
    fn hashlimit_refused() {
        for bad in [
            "--hashlimit-upto 1/day --hashlimit-burst 1000000 --hashlimit-name foo",
            "--hashlimit-upto 1/day --hashlimit-burst 1000001 --hashlimit-name foo",
            "--hashlimit-upto 5/s --hashlimit-name \"\"",
            "--hashlimit-upto 5/s --hashlimit-name a/b",
            "--hashlimit-upto 5/s --hashlimit-name .",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-htable-expire 0",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-htable-gcinterval 0",
            "--hashlimit-upto 1000001/s --hashlimit-name foo",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-burst 0",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-srcmask 33",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-srcmask 255.0.255.0",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-mode srcip --hashlimit-mode dstip",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-mode none",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-upto 6/s",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-above 6/s",
            "--hashlimit-upto 1kb/s --hashlimit-name foo --hashlimit-burst 100",
            "--hashlimit-upto 10kb/s --hashlimit-name foo --hashlimit-burst 3000000",
            "--hashlimit-upto 5/s --hashlimit-name foo --hashlimit-rate-interval 0 --hashlimit-rate-match",
            "--hashlimit-upto 1000000000kb/s --hashlimit-name foo",
            "--hashlimit-upto 5/s",
            "--hashlimit-name foo",
        ] {
            fails::<Hashlimit>(bad);
        }
    }
}

//! `-m limit` (one token bucket per rule), after extensions/libxt_limit.c, and the rate
//! syntax it shares with `-m hashlimit` ([`super::hashlimit`]).
//!
//! Rates are written `N[/second|/minute|/hour|/day]` (units may be abbreviated, `N` is read
//! with `atoi`) and stored as a period: the time per packet in units of 1/10000 s (limit) or
//! 1/1000000 s (hashlimit). Printing picks the largest unit that shows the period without a
//! bigger rounding error than the smaller unit (`print_rate`), so `3/minute` prints `3/min`.
//!
//! iptables-nft does not hand `-m limit` to the kernel as an xt match: it becomes nft's own
//! `limit` expression (rate per unit, burst), which is read back into a period. That is the
//! form kept here, and it explains one difference from iptables-legacy: a burst of 0 is
//! replaced by nft_limit's default of 5.

use std::fmt::Write;

use super::util::{once, parse_uint};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// `atoi`/`atoll` (glibc: `strtol` truncated to the C type): optional sign and leading
/// digits, anything after them ignored, overflow saturating.
pub(super) fn atol(s: &str) -> i64 {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        v = match v.checked_mul(10).and_then(|v| {
            if neg {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        }) {
            Some(v) => v,
            None => return if neg { i64::MIN } else { i64::MAX },
        };
    }
    v
}

/// The unit after `/` in a rate, in seconds (`parse_rate`: a non-empty prefix of `second`,
/// `minute`, `hour` or `day`, tried in that order, any case); no `/` means per second.
pub(super) fn rate_unit(rate: &str) -> Option<u64> {
    let Some((_, unit)) = rate.split_once('/') else {
        return Some(1);
    };
    let fits = |name: &str| {
        !unit.is_empty()
            && unit.len() <= name.len()
            && name[..unit.len()].eq_ignore_ascii_case(unit)
    };
    [
        ("second", 1),
        ("minute", 60),
        ("hour", 3600),
        ("day", 86400),
    ]
    .into_iter()
    .find(|(name, _)| fits(name))
    .map(|(_, secs)| secs)
}

/// `print_rate`: the period `period` (in 1/`scale` s) as ` N/unit`, with the unit's length
/// in milliseconds (the "quantum" hashlimit's expire default is compared with).
pub(super) fn write_rate(out: &mut String, period: u64, scale: u64) -> u64 {
    if period == 0 {
        // printf("%f", INFINITY)
        out.push_str(" inf");
        return 0;
    }
    let units = [
        ("day", scale * 86400),
        ("hour", scale * 3600),
        ("min", scale * 60),
        ("sec", scale),
    ];
    let mut i = 1;
    while i < units.len() {
        let mult = units[i].1;
        if period > mult || mult / period < mult % period {
            break;
        }
        i += 1;
    }
    let (name, mult) = units[i - 1];
    let _ = write!(out, " {}/{name}", mult / period);
    mult / scale * 1000
}

/// `XT_LIMIT_SCALE`: limit periods are in 1/10000 s.
const LIMIT_SCALE: u64 = 10_000;

/// `-m limit [--limit RATE] [--limit-burst N]`, as the nft `limit` expression iptables-nft
/// makes of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Packets per `unit`.
    pub rate: u64,
    /// The unit, in seconds (1, 60, 3600 or 86400).
    pub unit: u64,
    pub burst: u32,
}

impl Limit {
    /// The period iptables-nft reads back from the nft expression (`nft_parse_limit`).
    pub fn avg(&self) -> u64 {
        LIMIT_SCALE * self.unit / self.rate
    }

    /// `parse_rate` of libxt_limit (32-bit arithmetic, `atoi`).
    fn parse_period(o: &OptArg) -> Result<u64, ExtError> {
        let bad = || o.bad(format!("bad rate \"{}\"", o.arg()));
        let mult = rate_unit(o.arg()).ok_or_else(bad)?;
        let r = atol(o.arg()) as i32 as u32;
        if r == 0 {
            return Err(bad());
        }
        let period = (LIMIT_SCALE * mult) as u32 / r;
        if period == 0 {
            return Err(o.bad(format!("Rate too fast \"{}\"", o.arg())));
        }
        Ok(period.into())
    }
}

impl Extension for Limit {
    const NAME: &'static str = "limit";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("limit", Arity::One, false),
        Opt::new("limit-burst", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        // limit_init: 3/hour, burst 5.
        let avg = match once(opts, "limit")? {
            Some(o) => Limit::parse_period(o)?,
            None => LIMIT_SCALE * 3600 / 3,
        };
        let burst = match once(opts, "limit-burst")? {
            Some(o) => parse_uint(o.arg(), 10_000).ok_or_else(|| {
                o.bad("limit: bad value for option \"--limit-burst\", or out of range (0-10000)")
            })? as u32,
            None => 5,
        };
        // add_nft_limit: the unit is the one print_rate would choose; the rate is how many
        // periods fit in it. The kernel's nft_limit turns a burst of 0 into 5.
        let mut text = String::new();
        let quantum_ms = write_rate(&mut text, avg, LIMIT_SCALE);
        let unit = quantum_ms / 1000;
        Ok(Limit {
            rate: LIMIT_SCALE * unit / avg,
            unit,
            burst: if burst == 0 { 5 } else { burst },
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" --limit");
        write_rate(out, self.avg(), LIMIT_SCALE);
        if self.burst != 5 {
            let _ = write!(out, " --limit-burst {}", self.burst);
        }
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" limit: avg");
        write_rate(out, self.avg(), LIMIT_SCALE);
        let _ = write!(out, " burst {}", self.burst);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, fails};
    use super::*;

    #[test]
    fn limit() {
        let l = |args: &str, save: &str, list: &str| check::<Limit>(args, save, list, list);
        l("", " --limit 3/hour", " limit: avg 3/hour burst 5");
        l(
            "--limit 3/minute",
            " --limit 3/min",
            " limit: avg 3/min burst 5",
        );
        l(
            "--limit 3/m --limit-burst 10",
            " --limit 3/min --limit-burst 10",
            " limit: avg 3/min burst 10",
        );
        l(
            "--limit 10",
            " --limit 10/sec",
            " limit: avg 10/sec burst 5",
        );
        l(
            "--limit 7/hour",
            " --limit 7/hour",
            " limit: avg 7/hour burst 5",
        );
        l("--limit 2/d", " --limit 2/day", " limit: avg 2/day burst 5");
        l(
            "--limit 10000/s",
            " --limit 10000/sec",
            " limit: avg 10000/sec burst 5",
        );
        l(
            "--limit 3x/min",
            " --limit 3/min",
            " limit: avg 3/min burst 5",
        );
        l(
            "--limit 25/min",
            " --limit 25/min",
            " limit: avg 25/min burst 5",
        );
        l(
            "--limit 400/hour",
            " --limit 400/hour",
            " limit: avg 400/hour burst 5",
        );
        // nft_limit replaces a zero burst by 5.
        l(
            "--limit 1/day --limit-burst 0",
            " --limit 1/day",
            " limit: avg 1/day burst 5",
        );
        for bad in [
            "--limit 10001/s",
            "--limit 0/s",
            "--limit 3/",
            "--limit 3/minutes",
            "--limit-burst 10001",
            "--limit -3/s",
            "--limit 1 --limit 2",
        ] {
            fails::<Limit>(bad);
        }
    }
}

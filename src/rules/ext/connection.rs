//! Matches on marks and on per-connection numbers: `-m mark`, `-m connmark`, `-m connlimit`
//! and `-m connbytes` (extensions/libxt_mark.c, libxt_connmark.c, libxt_connlimit.c,
//! libxt_connbytes.c). Each keeps its values in the kernel's own form, so that what prints
//! back is what iptables reads from the kernel, quirks included (a negated `connbytes` range
//! is stored reversed; `connlimit-upto` is `connlimit-above` with the invert flag).

use std::fmt::Write;

use super::util::{once, parse_num_range, parse_uint, parse_value_mask, required, save_invert};
use super::xtaddr::{parse_plenmask, width};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// `--mark value[/mask]`, with its `!`: what xt_mark and xt_connmark compare
/// (`(mark & mask) == value`, negated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MarkMatch {
    pub mark: u32,
    pub mask: u32,
    pub invert: bool,
}

impl MarkMatch {
    fn parse(opts: &[OptArg], ext: &str) -> Result<MarkMatch, ExtError> {
        let o = required(opts, ext, "mark")?;
        let (mark, mask) = parse_value_mask(o.arg(), u32::MAX.into()).map_err(|_| {
            o.bad(format!(
                "{ext}: bad value `{}' for option \"--mark\" (expected value[/mask], each 0 to 0xffffffff)",
                o.arg()
            ))
        })?;
        Ok(MarkMatch {
            mark: mark as u32,
            mask: mask as u32,
            invert: o.invert,
        })
    }

    /// `print_mark`: ` 0x10` or ` 0x10/0xff` (no mask when it is all ones).
    fn write_value(&self, out: &mut String) {
        let _ = write!(out, " 0x{:x}", self.mark);
        if self.mask != u32::MAX {
            let _ = write!(out, "/0x{:x}", self.mask);
        }
    }

    fn save(&self, out: &mut String) {
        save_invert(out, self.invert);
        out.push_str(" --mark");
        self.write_value(out);
    }
}

const MARK_OPTIONS: &[Opt] = &[Opt::new("mark", Arity::One, true)];

/// `-m mark [!] --mark value[/mask]`: the packet's mark (skb->mark).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark(pub MarkMatch);

impl Extension for Mark {
    const NAME: &'static str = "mark";
    const OPTIONS: &'static [Opt] = MARK_OPTIONS;

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        MarkMatch::parse(opts, "mark").map(Mark)
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.0.save(out);
    }

    /// `mark_mt_print`: ` mark match ! 0x10/0xff`.
    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" mark match");
        if self.0.invert {
            out.push_str(" !");
        }
        self.0.write_value(out);
    }
}

/// `-m connmark [!] --mark value[/mask]`: the mark of the packet's connection (ct->mark).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connmark(pub MarkMatch);

impl Extension for Connmark {
    const NAME: &'static str = "connmark";
    const OPTIONS: &'static [Opt] = MARK_OPTIONS;

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        MarkMatch::parse(opts, "connmark").map(Connmark)
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.0.save(out);
    }

    /// `connmark_mt_print`: ` connmark match ` then `!` when negated, then the value with its
    /// own leading space, hence two spaces when not negated (` connmark match  0x1`).
    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" connmark match ");
        if self.0.invert {
            out.push('!');
        }
        self.0.write_value(out);
    }
}

/// `-m connlimit`: the number of connections of the packet's source (or destination) group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connlimit {
    pub limit: u32,
    /// `XT_CONNLIMIT_INVERT`: match when the count is at most `limit` (`--connlimit-upto`)
    /// rather than above it.
    pub upto: bool,
    /// `XT_CONNLIMIT_DADDR`: group by destination address instead of source.
    pub daddr: bool,
    /// The prefix length addresses are grouped by (`--connlimit-mask`, default the full
    /// address).
    pub mask_len: u8,
}

impl Extension for Connlimit {
    const NAME: &'static str = "connlimit";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("connlimit-upto", Arity::One, true),
        Opt::new("connlimit-above", Arity::One, true),
        Opt::new("connlimit-mask", Arity::One, false),
        Opt::new("connlimit-saddr", Arity::Zero, false),
        Opt::new("connlimit-daddr", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let (o, upto) = match (once(opts, "connlimit-upto")?, once(opts, "connlimit-above")?) {
            (Some(_), Some(a)) => {
                return Err(a.err(
                    "connlimit: option \"--connlimit-upto\" cannot be used together with \"--connlimit-above\"",
                ))
            }
            // `!` turns one into the other (connlimit_parse flips XT_CONNLIMIT_INVERT).
            (Some(u), None) => (u, !u.invert),
            (None, Some(a)) => (a, a.invert),
            (None, None) => {
                return Err(ExtError::whole(
                    "connlimit: you must specify \"--connlimit-above\" or \"--connlimit-upto\"",
                ))
            }
        };
        let limit = parse_uint(o.arg(), u32::MAX.into()).ok_or_else(|| {
            o.bad(format!(
                "connlimit: bad value for option \"--{}\", or out of range (0-4294967295)",
                o.name
            ))
        })? as u32;
        let v6 = ctx.v6();
        let mask_len = match once(opts, "connlimit-mask")? {
            Some(m) => parse_plenmask(m.arg(), v6).map_err(|e| m.bad(format!("connlimit: {e}")))?,
            None => width(v6),
        };
        let daddr = match (once(opts, "connlimit-saddr")?, once(opts, "connlimit-daddr")?) {
            (Some(_), Some(d)) => {
                return Err(d.err(
                    "connlimit: option \"--connlimit-saddr\" cannot be used together with \"--connlimit-daddr\"",
                ))
            }
            (_, d) => d.is_some(),
        };
        Ok(Connlimit {
            limit,
            upto,
            daddr,
            mask_len,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let which = if self.upto { "upto" } else { "above" };
        let side = if self.daddr { "daddr" } else { "saddr" };
        let _ = write!(
            out,
            " --connlimit-{which} {} --connlimit-mask {} --connlimit-{side}",
            self.limit, self.mask_len
        );
    }

    /// ` #conn src/32 > 2`.
    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(
            out,
            " #conn {}/{} {} {}",
            if self.daddr { "dst" } else { "src" },
            self.mask_len,
            if self.upto { "<=" } else { ">" },
            self.limit
        );
    }
}

/// What `--connbytes-mode` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnbytesWhat {
    Packets,
    Bytes,
    /// Bytes per packet.
    AvgPkt,
}

/// Which directions `--connbytes-dir` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnbytesDir {
    Original,
    Reply,
    Both,
}

/// `-m connbytes [!] --connbytes from[:to] --connbytes-dir D --connbytes-mode M`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connbytes {
    /// `count.from`, `count.to` as xt_connbytes keeps them: `from > to` is the negated range
    /// `to..=from` (that is how `!` is stored; `! --connbytes 5:5` therefore loses its `!`).
    pub from: u64,
    pub to: u64,
    pub what: ConnbytesWhat,
    pub direction: ConnbytesDir,
}

impl Connbytes {
    /// `print_from_to`: a reversed range is printed negated; an upper end of 0 or the maximum
    /// is left out.
    fn write_range(&self, out: &mut String, prefix: &str) {
        let (from, to) = if self.from > self.to {
            out.push_str(" !");
            (self.to, self.from)
        } else {
            (self.from, self.to)
        };
        let _ = write!(out, " {prefix}connbytes {from}");
        if to != 0 && to < u64::MAX {
            let _ = write!(out, ":{to}");
        }
    }

    fn mode_name(&self) -> &'static str {
        match self.what {
            ConnbytesWhat::Packets => "packets",
            ConnbytesWhat::Bytes => "bytes",
            ConnbytesWhat::AvgPkt => "avgpkt",
        }
    }

    fn dir_name(&self) -> &'static str {
        match self.direction {
            ConnbytesDir::Original => "original",
            ConnbytesDir::Reply => "reply",
            ConnbytesDir::Both => "both",
        }
    }
}

impl Extension for Connbytes {
    const NAME: &'static str = "connbytes";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("connbytes", Arity::One, true),
        Opt::new("connbytes-dir", Arity::One, false),
        Opt::new("connbytes-mode", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let must = |name: &str| required(opts, "connbytes", name);
        let c = must("connbytes")?;
        // xtopt_parse_mint: an empty part takes its default (0, then the maximum); a single
        // value runs to the maximum (connbytes_parse).
        let (from, to) = parse_num_range(c.arg(), u64::MAX)
            .map_err(|e| c.bad(format!("connbytes: argument to \"--connbytes\": {e}")))?;
        let to = if c.arg().contains(':') { to } else { u64::MAX };
        if from > to {
            return Err(c.bad(format!("{from} should be less than {to}")));
        }
        let (from, to) = if c.invert { (to, from) } else { (from, to) };
        let d = must("connbytes-dir")?;
        let direction = match d.arg() {
            "original" => ConnbytesDir::Original,
            "reply" => ConnbytesDir::Reply,
            "both" => ConnbytesDir::Both,
            other => {
                return Err(d.bad(format!(
                    "Unknown --connbytes-dir `{other}' (original, reply or both)"
                )))
            }
        };
        let m = must("connbytes-mode")?;
        let what = match m.arg() {
            "packets" => ConnbytesWhat::Packets,
            "bytes" => ConnbytesWhat::Bytes,
            "avgpkt" => ConnbytesWhat::AvgPkt,
            other => {
                return Err(m.bad(format!(
                    "Unknown --connbytes-mode `{other}' (packets, bytes or avgpkt)"
                )))
            }
        };
        Ok(Connbytes {
            from,
            to,
            what,
            direction,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.write_range(out, "--");
        let _ = write!(
            out,
            " --connbytes-mode {} --connbytes-dir {}",
            self.mode_name(),
            self.dir_name()
        );
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        self.write_range(out, "");
        let _ = write!(
            out,
            " connbytes mode {} connbytes direction {}",
            self.mode_name(),
            self.dir_name()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, check6, check_once, fails};
    use super::*;

    #[test]
    fn mark() {
        check::<Mark>(
            "--mark 1",
            " --mark 0x1",
            " mark match 0x1",
            " mark match 0x1",
        );
        check::<Mark>(
            "! --mark 0x10/0xff",
            " ! --mark 0x10/0xff",
            " mark match ! 0x10/0xff",
            " mark match ! 0x10/0xff",
        );
        check::<Mark>(
            "--mark 0xffffffff/0xffffffff",
            " --mark 0xffffffff",
            " mark match 0xffffffff",
            " mark match 0xffffffff",
        );
        check::<Mark>(
            "--mark 5/0",
            " --mark 0x5/0x0",
            " mark match 0x5/0x0",
            " mark match 0x5/0x0",
        );
        check::<Mark>(
            "--mark 010",
            " --mark 0x8",
            " mark match 0x8",
            " mark match 0x8",
        );
        check::<Mark>(
            "--mark 0xFF",
            " --mark 0xff",
            " mark match 0xff",
            " mark match 0xff",
        );
        for bad in [
            "--mark 0x100000000",
            "--mark 1/2/3",
            "",
            "--mark 0x1/",
            "--mark /0x1",
            "--mark -1",
        ] {
            fails::<Mark>(bad);
        }
    }

    #[test]
    fn connmark() {
        check::<Connmark>(
            "--mark 1",
            " --mark 0x1",
            " connmark match  0x1",
            " connmark match  0x1",
        );
        check::<Connmark>(
            "! --mark 0x10/0xff",
            " ! --mark 0x10/0xff",
            " connmark match ! 0x10/0xff",
            " connmark match ! 0x10/0xff",
        );
        check::<Connmark>(
            "--mark 0x11/0x1",
            " --mark 0x11/0x1",
            " connmark match  0x11/0x1",
            " connmark match  0x11/0x1",
        );
        fails::<Connmark>("--mark 1 --mark 2");
    }

    #[test]
    fn connlimit() {
        let above = |args: &str, save: &str, list: &str| check::<Connlimit>(args, save, list, list);
        above(
            "--connlimit-above 2",
            " --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr",
            " #conn src/32 > 2",
        );
        above(
            "! --connlimit-above 2",
            " --connlimit-upto 2 --connlimit-mask 32 --connlimit-saddr",
            " #conn src/32 <= 2",
        );
        above(
            "! --connlimit-upto 2",
            " --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr",
            " #conn src/32 > 2",
        );
        above(
            "--connlimit-upto 0x10 --connlimit-mask 24 --connlimit-daddr",
            " --connlimit-upto 16 --connlimit-mask 24 --connlimit-daddr",
            " #conn dst/24 <= 16",
        );
        above(
            "--connlimit-above 2 --connlimit-saddr --connlimit-mask 0",
            " --connlimit-above 2 --connlimit-mask 0 --connlimit-saddr",
            " #conn src/0 > 2",
        );
        // Out of range lengths are read as masks: 33 is 0.0.0.33, no prefix, so all ones.
        above(
            "--connlimit-above 2 --connlimit-mask 33",
            " --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr",
            " #conn src/32 > 2",
        );
        above(
            "--connlimit-above 2 --connlimit-mask 255.255.0.0",
            " --connlimit-above 2 --connlimit-mask 16 --connlimit-saddr",
            " #conn src/16 > 2",
        );
        check6::<Connlimit>(
            "--connlimit-above 2",
            " --connlimit-above 2 --connlimit-mask 128 --connlimit-saddr",
            " #conn src/128 > 2",
            " #conn src/128 > 2",
        );
        check6::<Connlimit>(
            "--connlimit-above 2 --connlimit-mask ffff:ff00::",
            " --connlimit-above 2 --connlimit-mask 24 --connlimit-saddr",
            " #conn src/24 > 2",
            " #conn src/24 > 2",
        );
        for bad in [
            "--connlimit-mask 8",
            "--connlimit-above 2 --connlimit-upto 3",
            "--connlimit-above 4294967296",
            "--connlimit-above -1",
            "--connlimit-above 2 --connlimit-daddr --connlimit-saddr",
            "--connlimit-above 2 ! --connlimit-mask 3",
            "--connlimit-above 2 --connlimit-mask abc",
            "--connlimit-above 2 --connlimit-saddr --connlimit-saddr",
        ] {
            fails::<Connlimit>(bad);
        }
    }

    #[test]
    fn connbytes() {
        let cb = |args: &str, save: &str, list: &str| {
            check::<Connbytes>(args, save, list, list);
        };
        cb(
            "--connbytes 10 --connbytes-dir original --connbytes-mode bytes",
            " --connbytes 10 --connbytes-mode bytes --connbytes-dir original",
            " connbytes 10 connbytes mode bytes connbytes direction original",
        );
        cb(
            "! --connbytes 10:100 --connbytes-dir reply --connbytes-mode packets",
            " ! --connbytes 10:100 --connbytes-mode packets --connbytes-dir reply",
            " ! connbytes 10:100 connbytes mode packets connbytes direction reply",
        );
        cb(
            "--connbytes :10 --connbytes-dir both --connbytes-mode avgpkt",
            " --connbytes 0:10 --connbytes-mode avgpkt --connbytes-dir both",
            " connbytes 0:10 connbytes mode avgpkt connbytes direction both",
        );
        cb(
            "! --connbytes 10: --connbytes-dir both --connbytes-mode bytes",
            " ! --connbytes 10 --connbytes-mode bytes --connbytes-dir both",
            " ! connbytes 10 connbytes mode bytes connbytes direction both",
        );
        // Lossy printers: `! 5:5` is stored as 5:5, and `0:0` prints as `0` (which reads
        // back as 0 to the maximum).
        check_once::<Connbytes>(
            "! --connbytes 5:5 --connbytes-dir both --connbytes-mode bytes",
            " --connbytes 5:5 --connbytes-mode bytes --connbytes-dir both",
            " connbytes 5:5 connbytes mode bytes connbytes direction both",
            " connbytes 5:5 connbytes mode bytes connbytes direction both",
        );
        check_once::<Connbytes>(
            "--connbytes 0:0 --connbytes-dir both --connbytes-mode bytes",
            " --connbytes 0 --connbytes-mode bytes --connbytes-dir both",
            " connbytes 0 connbytes mode bytes connbytes direction both",
            " connbytes 0 connbytes mode bytes connbytes direction both",
        );
        for bad in [
            "--connbytes 10",
            "--connbytes 10 --connbytes-dir both",
            "--connbytes-dir both --connbytes-mode bytes",
            "--connbytes 100:10 --connbytes-dir both --connbytes-mode bytes",
            "--connbytes 18446744073709551616 --connbytes-dir both --connbytes-mode bytes",
            "--connbytes 1:2:3 --connbytes-dir both --connbytes-mode bytes",
            "--connbytes 5 --connbytes-dir BOTH --connbytes-mode bytes",
            "--connbytes 5 --connbytes-dir both --connbytes-mode bytes --connbytes-dir reply",
        ] {
            fails::<Connbytes>(bad);
        }
    }
}

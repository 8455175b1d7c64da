//! Logging targets: `-j LOG` (to the kernel log) and `-j NFLOG` (to a netlink group).
//!
//! Both are non-terminating and allowed in every table and hook. iptables-nft does not keep
//! them as xtables targets: it turns both into the nft `log` expression and rebuilds them
//! from it when it prints, which is why NFLOG loses `--nflog-range` (nft has no such field)
//! and keeps a longer prefix than the xtables struct would (127 bytes, not 63).

use std::fmt::Write;

use super::util::{once, parse_uint, save_string};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// The level LOG uses when none is given (`LOG_WARNING`); iptables-save leaves it out.
const DEFAULT_LEVEL: u8 = 4;

/// The longest LOG prefix: `xt_log_info.prefix` is 30 bytes with the terminating NUL.
const LOG_PREFIX_MAX: usize = 29;

/// The longest NFLOG prefix under iptables-nft: libxt_NFLOG copies the argument into a
/// 128-byte buffer (`NF_LOG_PREFIXLEN`) with snprintf, and that copy is what goes to nft.
const NFLOG_PREFIX_MAX: usize = 127;

/// Level names `--log-level` accepts (xtables' own `xtopt_sysloglevel` table: syslog's
/// "err", "warn" and "none" are not in it, and the comparison is case-sensitive).
const LEVEL_NAMES_IN: &[(&str, u8)] = &[
    ("alert", 1),
    ("crit", 2),
    ("debug", 7),
    ("emerg", 0),
    ("error", 3),
    ("info", 6),
    ("notice", 5),
    ("panic", 0),
    ("warning", 4),
];

/// The name `iptables -L` prints for a level: the first entry of glibc's `prioritynames`
/// with that value, which is why 3 prints as "err" and 4 as "warn".
fn level_name(level: u8) -> Option<&'static str> {
    Some(match level {
        0 => "emerg",
        1 => "alert",
        2 => "crit",
        3 => "err",
        4 => "warn",
        5 => "notice",
        6 => "info",
        7 => "debug",
        _ => return None,
    })
}

/// The `--log-*` flags (`XT_LOG_*` bits of `xt_log_info.logflags`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFlags(pub u8);

impl LogFlags {
    pub const TCPSEQ: u8 = 0x01;
    pub const TCPOPT: u8 = 0x02;
    pub const IPOPT: u8 = 0x04;
    pub const UID: u8 = 0x08;
    pub const MACDECODE: u8 = 0x20;

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// Each flag: its option name, its bit, and the word `iptables -L` prints for it, in the order
/// both LOG_save and LOG_print use.
const LOG_FLAGS: &[(&str, u8, &str)] = &[
    ("log-tcp-sequence", LogFlags::TCPSEQ, "tcp-sequence"),
    ("log-tcp-options", LogFlags::TCPOPT, "tcp-options"),
    ("log-ip-options", LogFlags::IPOPT, "ip-options"),
    ("log-uid", LogFlags::UID, "uid"),
    ("log-macdecode", LogFlags::MACDECODE, "macdecode"),
];

/// A log prefix as xtables' string options take it: at least one character, no newline (the
/// kernel log is line based), cut silently to `max` bytes.
fn parse_prefix(o: &OptArg, option: &str, max: usize) -> Result<String, ExtError> {
    let text = o.arg();
    if text.is_empty() {
        return Err(o.bad(format!("--{option} must not be empty")));
    }
    if text.contains('\n') {
        return Err(o.bad(format!("newlines are not allowed in --{option}")));
    }
    // strncpy cuts at a byte; a String can only be cut at a character boundary, so a prefix
    // whose byte `max` falls inside a UTF-8 sequence loses that whole character.
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Ok(text[..end].to_string())
}

/// A number option of `max` at most, with the message xtables gives for a bad one.
fn number(o: &OptArg, target: &str, max: u64) -> Result<u64, ExtError> {
    parse_uint(o.arg(), max).ok_or_else(|| {
        o.bad(format!(
            "{target}: bad value for option \"--{}\", or out of range (0-{max})",
            o.name
        ))
    })
}

/// `-j LOG`: write a line about the packet to the kernel log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    /// Syslog priority, 0 (emerg) to 7 (debug).
    pub level: u8,
    /// Empty when none was given.
    pub prefix: String,
    pub flags: LogFlags,
}

impl Extension for Log {
    const NAME: &'static str = "LOG";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("log-level", Arity::One, false),
        Opt::new("log-prefix", Arity::One, false),
        Opt::new("log-tcp-sequence", Arity::Zero, false),
        Opt::new("log-tcp-options", Arity::Zero, false),
        Opt::new("log-ip-options", Arity::Zero, false),
        Opt::new("log-uid", Arity::Zero, false),
        Opt::new("log-macdecode", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let level = match once(opts, "log-level")? {
            None => DEFAULT_LEVEL,
            // xtopt_parse_sysloglevel: a number 0-7 first, then a name.
            Some(o) => match parse_uint(o.arg(), 7) {
                Some(n) => n as u8,
                None => LEVEL_NAMES_IN
                    .iter()
                    .find(|(name, _)| *name == o.arg())
                    .map(|&(_, n)| n)
                    .ok_or_else(|| o.bad(format!("log level \"{}\" unknown", o.arg())))?,
            },
        };
        let prefix = match once(opts, "log-prefix")? {
            None => String::new(),
            Some(o) => parse_prefix(o, "log-prefix", LOG_PREFIX_MAX)?,
        };
        let mut flags = LogFlags::default();
        for &(option, bit, _) in LOG_FLAGS {
            if once(opts, option)?.is_some() {
                flags.0 |= bit;
            }
        }
        Ok(Log {
            level,
            prefix,
            flags,
        })
    }

    /// LOG_save: prefix, the level when not the default (as a number), then the flags.
    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        if !self.prefix.is_empty() {
            out.push_str(" --log-prefix");
            save_string(out, &self.prefix);
        }
        if self.level != DEFAULT_LEVEL {
            let _ = write!(out, " --log-level {}", self.level);
        }
        for &(option, bit, _) in LOG_FLAGS {
            if self.flags.has(bit) {
                let _ = write!(out, " --{option}");
            }
        }
    }

    /// LOG_print: with `-n` the raw flags and level numbers, else the level's name and a word
    /// per flag; the prefix in plain double quotes (no escaping) either way.
    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" LOG");
        if ctx.numeric {
            let _ = write!(out, " flags {} level {}", self.flags.0, self.level);
        } else {
            match level_name(self.level) {
                Some(name) => {
                    let _ = write!(out, " level {name}");
                }
                None => {
                    let _ = write!(out, " UNKNOWN level {}", self.level);
                }
            }
            for &(_, bit, word) in LOG_FLAGS {
                if self.flags.has(bit) {
                    out.push(' ');
                    out.push_str(word);
                }
            }
        }
        if !self.prefix.is_empty() {
            let _ = write!(out, " prefix \"{}\"", self.prefix);
        }
    }
}

/// `-j NFLOG`: hand the packet to userspace through nfnetlink_log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nflog {
    /// Netlink group, 0 by default.
    pub group: u16,
    /// Empty when none was given.
    pub prefix: String,
    /// `--nflog-size`: how many bytes of the packet to copy (`XT_NFLOG_F_COPY_LEN`); `None`
    /// copies the whole packet. `--nflog-range`, which never worked, is accepted and dropped.
    pub size: Option<u32>,
    /// How many packets the kernel queues before sending them (0: its default).
    pub threshold: u16,
}

impl Extension for Nflog {
    const NAME: &'static str = "NFLOG";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("nflog-group", Arity::One, false),
        Opt::new("nflog-prefix", Arity::One, false),
        Opt::new("nflog-range", Arity::One, false),
        Opt::new("nflog-size", Arity::One, false),
        Opt::new("nflog-threshold", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let group = match once(opts, "nflog-group")? {
            Some(o) => number(o, "NFLOG", u16::MAX.into())? as u16,
            None => 0,
        };
        let prefix = match once(opts, "nflog-prefix")? {
            Some(o) => parse_prefix(o, "nflog-prefix", NFLOG_PREFIX_MAX)?,
            None => String::new(),
        };
        let range = once(opts, "nflog-range")?;
        let size = once(opts, "nflog-size")?;
        if let (Some(_), Some(s)) = (range, size) {
            return Err(s.err(
                "NFLOG: option \"--nflog-range\" cannot be used together with \"--nflog-size\"",
            ));
        }
        if let Some(r) = range {
            // Checked like any number, then lost: the nft log expression has no range.
            number(r, "NFLOG", u32::MAX.into())?;
        }
        let size = match size {
            Some(o) => Some(number(o, "NFLOG", u32::MAX.into())? as u32),
            None => None,
        };
        let threshold = match once(opts, "nflog-threshold")? {
            Some(o) => number(o, "NFLOG", u16::MAX.into())? as u16,
            None => 0,
        };
        Ok(Nflog {
            group,
            prefix,
            size,
            threshold,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.write(out, "--");
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        self.write(out, "");
    }
}

impl Nflog {
    /// nflog_print: save and `-L` print the same words, save with `--` before each; values
    /// at their defaults are left out.
    fn write(&self, out: &mut String, dashes: &str) {
        if !self.prefix.is_empty() {
            let _ = write!(out, " {dashes}nflog-prefix");
            save_string(out, &self.prefix);
        }
        if self.group != 0 {
            let _ = write!(out, " {dashes}nflog-group {}", self.group);
        }
        if let Some(size) = self.size {
            let _ = write!(out, " {dashes}nflog-size {size}");
        }
        if self.threshold != 0 {
            let _ = write!(out, " {dashes}nflog-threshold {}", self.threshold);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::rule;
    use crate::rules::model::Family;

    /// Runs `-j TARGET ...` through the real parser: (save, `-L`, `-L -n`) after `-A INPUT`.
    fn printed(text: &str) -> [String; 3] {
        let p = rule(Family::Ipv4, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        [p.save, p.list, p.list_n]
    }

    fn refused(text: &str) {
        if let Ok(p) = rule(Family::Ipv4, text) {
            panic!("`{text}' was accepted as {}", p.save);
        }
    }

    // Expected strings are what iptables-nft 1.8.9 printed on Linux 6.18 for the cases of
    // tests/ext/LOG.t and NFLOG.t: iptables-save, and the text after the destination column
    // of `iptables -L -v` and `-L -v -n`.
    #[test]
    fn log() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("", "", " LOG level warn", " LOG flags 0 level 4"),
            (
                "--log-level 4",
                "",
                " LOG level warn",
                " LOG flags 0 level 4",
            ),
            (
                "--log-level warning",
                "",
                " LOG level warn",
                " LOG flags 0 level 4",
            ),
            (
                "--log-level emerg",
                " --log-level 0",
                " LOG level emerg",
                " LOG flags 0 level 0",
            ),
            (
                "--log-level panic",
                " --log-level 0",
                " LOG level emerg",
                " LOG flags 0 level 0",
            ),
            (
                "--log-level error",
                " --log-level 3",
                " LOG level err",
                " LOG flags 0 level 3",
            ),
            (
                "--log-level 0x7",
                " --log-level 7",
                " LOG level debug",
                " LOG flags 0 level 7",
            ),
            (
                "--log-level 06",
                " --log-level 6",
                " LOG level info",
                " LOG flags 0 level 6",
            ),
            (
                "--log-prefix \"in: \"",
                " --log-prefix \"in: \"",
                " LOG level warn prefix \"in: \"",
                " LOG flags 0 level 4 prefix \"in: \"",
            ),
            (
                "--log-prefix it's",
                " --log-prefix \"it\\'s\"",
                " LOG level warn prefix \"it's\"",
                " LOG flags 0 level 4 prefix \"it's\"",
            ),
            (
                "--log-prefix \"a\\\"b\"",
                " --log-prefix \"a\\\"b\"",
                " LOG level warn prefix \"a\"b\"",
                " LOG flags 0 level 4 prefix \"a\"b\"",
            ),
            (
                "--log-prefix 123456789012345678901234567890",
                " --log-prefix 12345678901234567890123456789",
                " LOG level warn prefix \"12345678901234567890123456789\"",
                " LOG flags 0 level 4 prefix \"12345678901234567890123456789\"",
            ),
            (
                "--log-uid",
                " --log-uid",
                " LOG level warn uid",
                " LOG flags 8 level 4",
            ),
            (
                "--log-macdecode",
                " --log-macdecode",
                " LOG level warn macdecode",
                " LOG flags 32 level 4",
            ),
            (
                "--log-macdecode --log-uid --log-ip-options --log-tcp-options \
                 --log-tcp-sequence --log-level debug --log-prefix \"x: \"",
                " --log-prefix \"x: \" --log-level 7 --log-tcp-sequence --log-tcp-options \
                 --log-ip-options --log-uid --log-macdecode",
                " LOG level debug tcp-sequence tcp-options ip-options uid macdecode prefix \"x: \"",
                " LOG flags 47 level 7 prefix \"x: \"",
            ),
            (
                "--log-level 1 --log-ip-options",
                " --log-level 1 --log-ip-options",
                " LOG level alert ip-options",
                " LOG flags 4 level 1",
            ),
        ];
        for &(args, save, list, list_n) in cases {
            let got = printed(&format!("-j LOG {args}"));
            assert_eq!(got, [format!("-j LOG{save}"), list.into(), list_n.into()]);
        }
        for args in [
            "--log-level err",
            "--log-level warn",
            "--log-level WARNING",
            "--log-level 8",
            "--log-level 1 --log-level 2",
            "--log-prefix \"\"",
            "--log-uid --log-uid",
            "! --log-uid",
        ] {
            refused(&format!("-j LOG {args}"));
        }
    }

    #[test]
    fn nflog() {
        let p127 = "p".repeat(127);
        let p130 = "p".repeat(130);
        let long_in = format!("--nflog-prefix {p130}");
        let long_out = format!(" nflog-prefix {p127}");
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("--nflog-group 0", ""),
            ("--nflog-group 65535", " nflog-group 65535"),
            ("--nflog-prefix xyz", " nflog-prefix xyz"),
            ("--nflog-prefix \"a b\"", " nflog-prefix \"a b\""),
            (&long_in, &long_out),
            ("--nflog-size 0", " nflog-size 0"),
            ("--nflog-size 4294967295", " nflog-size 4294967295"),
            ("--nflog-range 100", ""),
            ("--nflog-threshold 0", ""),
            ("--nflog-threshold 1", " nflog-threshold 1"),
            (
                "--nflog-threshold 10 --nflog-size 64 --nflog-group 2 --nflog-prefix p",
                " nflog-prefix p nflog-group 2 nflog-size 64 nflog-threshold 10",
            ),
        ];
        for &(args, list) in cases {
            // Save has the same words as -L, each with `--`.
            let save = list.replace(" nflog-", " --nflog-");
            let got = printed(&format!("-j NFLOG {args}"));
            assert_eq!(got, [format!("-j NFLOG{save}"), list.into(), list.into()]);
        }
        for args in [
            "--nflog-group 65536",
            "--nflog-group 1 --nflog-group 2",
            "--nflog-prefix \"\"",
            "--nflog-size 4294967296",
            "--nflog-range 1 --nflog-size 2",
            "--nflog-threshold 65536",
            "! --nflog-group 1",
        ] {
            refused(&format!("-j NFLOG {args}"));
        }
    }
}

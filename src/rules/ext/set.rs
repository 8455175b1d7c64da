//! `-m set`: membership of the packet's addresses/ports in an ipset, with the counter tests of
//! revision 3/4 (`--packets-gt 10`, `! --update-counters`).
//!
//! Mirrors iptables 1.8.9's libxt_set.c (revision 4, the one it loads on current kernels),
//! checked against the real binary. Two facts only the kernel knows are left to it: whether
//! the set exists (iptables asks the kernel for its index while parsing) and its family. The
//! kernel does not compare the number of `src`/`dst` flags with the set's dimension: a
//! one-dimension `hash:ip` set takes `src,dst` (extra flags are ignored).

use std::fmt::Write;

use super::util::{parse_num, OptArg};
use super::{Arity, ExtError, Extension, Opt, ParseCtx, PrintCtx};

/// IPSET_MAXNAMELEN - 1.
pub(super) const MAX_NAME_LEN: usize = 31;
/// IPSET_DIM_MAX: at most this many `src`/`dst` flags.
const DIM_MAX: usize = 6;

/// Which address (or port) of the packet one dimension of the set is looked up with (or,
/// for `-j SET`, filled from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetDir {
    Src,
    Dst,
}

/// `src,dst,...` as `-m set` and `-j SET` print their directions.
pub(super) fn write_dirs(out: &mut String, dirs: &[SetDir]) {
    let words: Vec<&str> = dirs
        .iter()
        .map(|d| match d {
            SetDir::Src => "src",
            SetDir::Dst => "dst",
        })
        .collect();
    out.push_str(&words.join(","));
}

/// A test on the packet or byte counter of the matching set element (`ip_set_counter_match`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterOp {
    /// `--packets-eq N`
    Eq,
    /// `! --packets-eq N`
    Ne,
    /// `--packets-lt N`
    Lt,
    /// `--packets-gt N`
    Gt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterMatch {
    pub op: CounterOp,
    pub value: u64,
}

/// `-m set [!] --match-set NAME src[,dst...] ...` (`xt_set_info_match_v4`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set {
    /// The set's name (the kernel keeps its index; iptables prints the name back).
    pub name: String,
    /// `! --match-set`: IPSET_INV_MATCH.
    pub invert: bool,
    /// One direction per dimension, 1 to 6 of them.
    pub dirs: Vec<SetDir>,
    /// `--return-nomatch`: IPSET_FLAG_RETURN_NOMATCH.
    pub return_nomatch: bool,
    /// `! --update-counters`: IPSET_FLAG_SKIP_COUNTER_UPDATE.
    pub skip_counter_update: bool,
    /// `! --update-subcounters`: IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE.
    pub skip_subcounter_update: bool,
    pub packets: Option<CounterMatch>,
    pub bytes: Option<CounterMatch>,
}

/// `src,dst,...` as libxt_set.h's parse_dirs reads it: each part is tested by its first three
/// letters only (`srcfoo` is `src`), at most six parts.
pub(super) fn parse_dirs(o: &OptArg, text: &str) -> Result<Vec<SetDir>, ExtError> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() > DIM_MAX {
        return Err(o.bad(format!("Can't be more src/dst options than {DIM_MAX}.")));
    }
    parts
        .iter()
        .map(|p| {
            if p.starts_with("src") {
                Ok(SetDir::Src)
            } else if p.starts_with("dst") {
                Ok(SetDir::Dst)
            } else {
                Err(ExtError {
                    message: format!(
                        "You must specify (the comma separated list of) 'src' or 'dst', not `{text}'"
                    ),
                    col: o.arg_cols.get(1).copied(),
                })
            }
        })
        .collect()
}

/// A counter value (parse_counter: `xtables_strtoul` up to u64::MAX).
fn parse_counter(o: &OptArg) -> Result<u64, ExtError> {
    parse_num(o.arg(), 0, u64::MAX)
        .ok_or_else(|| o.bad(format!("Cannot parse {} as a counter value", o.arg())))
}

impl Extension for Set {
    const NAME: &'static str = "set";
    // set_parse_v4 is an old-style parser: it sees every `!` and refuses it where it means
    // nothing, so all options are declared invertible here and refused in `parse`.
    const OPTIONS: &'static [Opt] = &[
        // `--set` is the deprecated spelling (iptables warns and goes on).
        Opt::new("match-set", Arity::Two, true).alias(&["set"]),
        Opt::new("return-nomatch", Arity::Zero, true),
        Opt::new("update-counters", Arity::Zero, true),
        Opt::new("update-subcounters", Arity::Zero, true),
        Opt::new("packets-eq", Arity::One, true),
        Opt::new("packets-lt", Arity::One, true),
        Opt::new("packets-gt", Arity::One, true),
        Opt::new("bytes-eq", Arity::One, true),
        Opt::new("bytes-lt", Arity::One, true),
        Opt::new("bytes-gt", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let mut set: Option<Set> = None;
        let mut return_nomatch = false;
        let mut skip_counter_update = false;
        let mut skip_subcounter_update = false;
        let mut packets: Option<CounterMatch> = None;
        let mut bytes: Option<CounterMatch> = None;
        for o in opts {
            match o.name {
                "match-set" => {
                    if set.is_some() {
                        return Err(o.err("--match-set can be specified only once"));
                    }
                    let name = o.arg();
                    let dirs = o.args.get(1).map_or("", String::as_str);
                    if o.args.len() < 2 || dirs.starts_with('-') || dirs.starts_with('!') {
                        return Err(
                            o.err("--match-set requires two args: the set name and src/dst flags")
                        );
                    }
                    if name.len() > MAX_NAME_LEN {
                        return Err(o.bad(format!(
                            "setname `{name}' too long, max {MAX_NAME_LEN} characters."
                        )));
                    }
                    set = Some(Set {
                        name: name.to_string(),
                        invert: o.invert,
                        dirs: parse_dirs(o, dirs)?,
                        return_nomatch: false,
                        skip_counter_update: false,
                        skip_subcounter_update: false,
                        packets: None,
                        bytes: None,
                    });
                }
                "return-nomatch" => {
                    if o.invert {
                        return Err(o.err("--return-nomatch flag cannot be inverted"));
                    }
                    return_nomatch = true;
                }
                // Without `!` these are the default and change nothing.
                "update-counters" => skip_counter_update |= o.invert,
                "update-subcounters" => skip_subcounter_update |= o.invert,
                counter => {
                    let (which, slot) = if counter.starts_with("packets") {
                        ("packets", &mut packets)
                    } else {
                        ("bytes", &mut bytes)
                    };
                    if slot.is_some() {
                        return Err(
                            o.err(format!("only one of the --{which}-[eq|lt|gt] is allowed"))
                        );
                    }
                    let op = match (&counter[counter.len() - 2..], o.invert) {
                        ("eq", false) => CounterOp::Eq,
                        ("eq", true) => CounterOp::Ne,
                        (_, true) => {
                            return Err(o.err(format!("--{counter} option cannot be inverted")))
                        }
                        ("lt", false) => CounterOp::Lt,
                        _ => CounterOp::Gt,
                    };
                    *slot = Some(CounterMatch {
                        op,
                        value: parse_counter(o)?,
                    });
                }
            }
        }
        let Some(set) = set else {
            return Err(ExtError::whole(
                "You must specify `--match-set' with proper arguments",
            ));
        };
        Ok(Set {
            return_nomatch,
            skip_counter_update,
            skip_subcounter_update,
            packets,
            bytes,
            ..set
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.print(out, "--");
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        self.print(out, "");
    }
}

impl Set {
    /// set_print_v4_matchinfo: save and `-L` differ only in the `--` before each word.
    fn print(&self, out: &mut String, dashes: &str) {
        let _ = write!(
            out,
            "{} {dashes}match-set {} ",
            if self.invert { " !" } else { "" },
            self.name
        );
        write_dirs(out, &self.dirs);
        if self.return_nomatch {
            let _ = write!(out, " {dashes}return-nomatch");
        }
        if self.skip_counter_update {
            let _ = write!(out, " ! {dashes}update-counters");
        }
        if self.skip_subcounter_update {
            let _ = write!(out, " ! {dashes}update-subcounters");
        }
        for (which, c) in [("packets", self.packets), ("bytes", self.bytes)] {
            let Some(c) = c else { continue };
            let (neg, op) = match c.op {
                CounterOp::Eq => ("", "eq"),
                CounterOp::Ne => ("! ", "eq"),
                CounterOp::Lt => ("", "lt"),
                CounterOp::Gt => ("", "gt"),
            };
            let _ = write!(out, " {neg}{dashes}{which}-{op} {}", c.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, fails};
    use super::*;

    // Expected texts: iptables-save, iptables -L -v and -L -v -n on the real kernel.

    #[test]
    fn saves_and_lists_as_iptables() {
        check::<Set>(
            "--match-set foo src --return-nomatch ! --update-counters ! --update-subcounters --packets-eq 1 --bytes-gt 10",
            " --match-set foo src --return-nomatch ! --update-counters ! --update-subcounters --packets-eq 1 --bytes-gt 10",
            " match-set foo src return-nomatch ! update-counters ! update-subcounters packets-eq 1 bytes-gt 10",
            " match-set foo src return-nomatch ! update-counters ! update-subcounters packets-eq 1 bytes-gt 10",
        );
        check::<Set>(
            "! --match-set foo dst ! --packets-eq 0x10 ! --bytes-eq 010",
            " ! --match-set foo dst ! --packets-eq 16 ! --bytes-eq 8",
            " ! match-set foo dst ! packets-eq 16 ! bytes-eq 8",
            " ! match-set foo dst ! packets-eq 16 ! bytes-eq 8",
        );
        // Without `!` the update options are the default and vanish.
        check::<Set>(
            "--update-counters --match-set foo src --update-subcounters",
            " --match-set foo src",
            " match-set foo src",
            " match-set foo src",
        );
    }

    #[test]
    fn flags_are_read_by_their_first_letters() {
        check::<Set>(
            "--set foo srcx,dst0,src",
            " --match-set foo src,dst,src",
            " match-set foo src,dst,src",
            " match-set foo src,dst,src",
        );
        fails::<Set>("--match-set foo sr");
        fails::<Set>("--match-set foo src,");
        fails::<Set>("--match-set foo src,dst,dst,src,src,dst,src");
    }

    #[test]
    fn refuses_what_libxt_set_refuses() {
        for bad in [
            "",
            "--return-nomatch",
            "--match-set foo src ! --return-nomatch",
            "--match-set foo src ! --packets-gt 1",
            "--match-set foo src ! --bytes-lt 1",
            "--match-set foo src --packets-gt 1 --packets-lt 5",
            "--match-set foo src --match-set foo dst",
            "--match-set foo src --bytes-eq -1",
            "--match-set foo src --bytes-eq 18446744073709551616",
            "--match-set abcdefghijklmnopqrstuvwxyz012345 src",
            "--match-set foo --return-nomatch",
        ] {
            fails::<Set>(bad);
        }
    }
}

//! Mark targets: `-j MARK` (the packet's nfmark) and `-j CONNMARK` (the connection's ctmark).
//!
//! Both keep what the kernel keeps, not what was written: every `--set-mark`, `--and-mark`,
//! `--or-mark` and `--xor-mark` becomes one "clear the bits of `mask`, then XOR `mark`" pair
//! (`xt_mark_tginfo2`, `xt_connmark_tginfo2`), so iptables-save always prints
//! `--set-xmark mark/mask` and `iptables -L` guesses the friendliest name back (`MARK or 0x4`).
//! Options are applied in the order written, like iptables' per-option callbacks, because for
//! CONNMARK a later `--mask`/`--ctmask` overwrites the mask an earlier `--set-mark` computed.

use std::fmt::Write;

use super::util::{parse_num, parse_value_mask, ValueMaskError};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// `value[/mask]` as `XTTYPE_MARKMASK32` reads it; the mask defaults to all ones.
fn parse_markmask(o: &OptArg) -> Result<(u32, u32), ExtError> {
    match parse_value_mask(o.arg(), u32::MAX.into()) {
        Ok((mark, mask)) => Ok((mark as u32, mask as u32)),
        Err(ValueMaskError::Trailing) => Err(o.bad(format!(
            "trailing garbage after value for option \"--{}\"",
            o.name
        ))),
        Err(_) => Err(o.bad(format!(
            "bad integer value for option \"--{}\", or out of range",
            o.name
        ))),
    }
}

/// A plain 32-bit value (`XTTYPE_UINT32`).
fn parse_u32(o: &OptArg) -> Result<u32, ExtError> {
    parse_num(o.arg(), 0, u32::MAX.into())
        .map(|v| v as u32)
        .ok_or_else(|| {
            o.bad(format!(
                "bad value for option \"--{}\", or out of range (0-4294967295)",
                o.name
            ))
        })
}

/// The (mark, mask) pair that `--NAME-mark value` stands for in a `tginfo2` structure
/// (`mark_tg_parse` / `connmark_tg_parse`). `None` for options that are not mark operations.
fn mark_operation(o: &OptArg) -> Result<Option<(u32, u32)>, ExtError> {
    Ok(Some(match o.name {
        "set-xmark" => parse_markmask(o)?,
        // --set-mark v/m clears only the bits it sets or masks.
        "set-mark" => {
            let (v, m) = parse_markmask(o)?;
            (v, v | m)
        }
        "and-mark" => (0, !parse_u32(o)?),
        "or-mark" => {
            let v = parse_u32(o)?;
            (v, v)
        }
        "xor-mark" => (parse_u32(o)?, 0),
        _ => return Ok(None),
    }))
}

/// Refuses a second option of the group `names` (xtables' `.excl`), naming both.
fn exclusive(opts: &[OptArg], names: &[&str]) -> Result<(), ExtError> {
    let mut given = opts.iter().filter(|o| names.contains(&o.name));
    if let (Some(a), Some(b)) = (given.next(), given.next()) {
        return Err(b.err(format!(
            "option \"--{}\" cannot be used together with \"--{}\"",
            a.name, b.name
        )));
    }
    Ok(())
}

/// Each option of `opts` at most once.
fn each_once(opts: &[OptArg]) -> Result<(), ExtError> {
    for (i, o) in opts.iter().enumerate() {
        if opts[..i].iter().any(|p| p.name == o.name) {
            return Err(o.err(format!("option \"--{}\" can only be used once", o.name)));
        }
    }
    Ok(())
}

/// How `iptables -L` names a (mark, mask) operation: `mark_tg_print` / `connmark_tg_print`.
fn list_operation(out: &mut String, label: &str, mark: u32, mask: u32) {
    let _ = if mark == 0 {
        write!(out, " {label} and 0x{:x}", !mask)
    } else if mark == mask {
        write!(out, " {label} or 0x{mark:x}")
    } else if mask == 0 {
        write!(out, " {label} xor 0x{mark:x}")
    } else if mask == u32::MAX {
        write!(out, " {label} set 0x{mark:x}")
    } else {
        write!(out, " {label} xset 0x{mark:x}/0x{mask:x}")
    };
}

const MARK_OPS: [&str; 5] = ["set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark"];

/// `-j MARK`: `nfmark = (nfmark & ~mask) ^ mark` (xt_mark_tginfo2, revision 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub mark: u32,
    pub mask: u32,
}

impl Extension for Mark {
    const NAME: &'static str = "MARK";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("set-xmark", Arity::One, false),
        Opt::new("set-mark", Arity::One, false),
        Opt::new("and-mark", Arity::One, false),
        Opt::new("or-mark", Arity::One, false),
        Opt::new("xor-mark", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        each_once(opts)?;
        exclusive(opts, &MARK_OPS)?;
        let Some(o) = opts.first() else {
            return Err(ExtError::whole(
                "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
            ));
        };
        let (mark, mask) = mark_operation(o)?.unwrap_or((0, 0));
        Ok(Mark { mark, mask })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " --set-xmark 0x{:x}/0x{:x}", self.mark, self.mask);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        list_operation(out, "MARK", self.mark, self.mask);
    }
}

/// What `-j CONNMARK` does (`XT_CONNMARK_SET`, `_SAVE`, `_RESTORE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnmarkMode {
    /// `ctmark = (ctmark & ~ctmask) ^ ctmark_value`.
    Set,
    /// ctmark from the packet's nfmark, through `nfmask` and `ctmask`.
    Save,
    /// nfmark from the connection's ctmark, through `ctmask` and `nfmask`.
    Restore,
}

/// Which way `--left-shift-mark`/`--right-shift-mark` shifts (`D_SHIFT_LEFT`/`_RIGHT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftDir {
    Left,
    Right,
}

/// `-j CONNMARK` (xt_connmark_tginfo2, revision 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connmark {
    pub mode: ConnmarkMode,
    pub ctmark: u32,
    pub ctmask: u32,
    pub nfmask: u32,
    pub shift_dir: ShiftDir,
    /// 0..=31 (the kernel refuses 32).
    pub shift_bits: u8,
}

const CONNMARK_OPS: [&str; 7] = [
    "set-xmark",
    "set-mark",
    "and-mark",
    "or-mark",
    "xor-mark",
    "save-mark",
    "restore-mark",
];

impl Extension for Connmark {
    const NAME: &'static str = "CONNMARK";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("set-xmark", Arity::One, false),
        Opt::new("set-mark", Arity::One, false),
        Opt::new("and-mark", Arity::One, false),
        Opt::new("or-mark", Arity::One, false),
        Opt::new("xor-mark", Arity::One, false),
        Opt::new("save-mark", Arity::Zero, false),
        Opt::new("restore-mark", Arity::Zero, false),
        Opt::new("left-shift-mark", Arity::One, false),
        Opt::new("right-shift-mark", Arity::One, false),
        Opt::new("ctmask", Arity::One, false),
        Opt::new("nfmask", Arity::One, false),
        Opt::new("mask", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        each_once(opts)?;
        exclusive(opts, &CONNMARK_OPS)?;
        exclusive(opts, &["mask", "ctmask"])?;
        exclusive(opts, &["mask", "nfmask"])?;
        // connmark_tg_init: masks default to all ones, the shift to "left by 0".
        let mut c = Connmark {
            mode: ConnmarkMode::Set,
            ctmark: 0,
            ctmask: u32::MAX,
            nfmask: u32::MAX,
            shift_dir: ShiftDir::Left,
            shift_bits: 0,
        };
        let mut has_op = false;
        for o in opts {
            if let Some((mark, mask)) = mark_operation(o)? {
                (c.mode, c.ctmark, c.ctmask) = (ConnmarkMode::Set, mark, mask);
                has_op = true;
                continue;
            }
            match o.name {
                "save-mark" => (c.mode, has_op) = (ConnmarkMode::Save, true),
                "restore-mark" => (c.mode, has_op) = (ConnmarkMode::Restore, true),
                "ctmask" => c.ctmask = parse_u32(o)?,
                "nfmask" => c.nfmask = parse_u32(o)?,
                "mask" => (c.ctmask, c.nfmask) = (parse_u32(o)?, parse_u32(o)?),
                "left-shift-mark" | "right-shift-mark" => {
                    let bits = parse_num(o.arg(), 0, 32).ok_or_else(|| {
                        o.bad(format!(
                            "bad value for option \"--{}\", or out of range (0-32)",
                            o.name
                        ))
                    })?;
                    // iptables takes 32; the kernel's checkentry refuses it.
                    if bits == 32 {
                        return Err(o.bad("the kernel refuses a shift of 32 bits (0-31)"));
                    }
                    c.shift_bits = bits as u8;
                    c.shift_dir = if o.name == "left-shift-mark" {
                        ShiftDir::Left
                    } else {
                        ShiftDir::Right
                    };
                }
                _ => {}
            }
        }
        if !has_op {
            return Err(ExtError::whole("CONNMARK target: No operation specified"));
        }
        Ok(c)
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = match self.mode {
            ConnmarkMode::Set => {
                write!(out, " --set-xmark 0x{:x}/0x{:x}", self.ctmark, self.ctmask)
            }
            ConnmarkMode::Save => write!(
                out,
                " --save-mark --nfmask 0x{:x} --ctmask 0x{:x}",
                self.nfmask, self.ctmask
            ),
            ConnmarkMode::Restore => write!(
                out,
                " --restore-mark --nfmask 0x{:x} --ctmask 0x{:x}",
                self.nfmask, self.ctmask
            ),
        };
        self.write_shift(out, "--");
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let (nf, ct) = (self.nfmask, self.ctmask);
        let _ = match self.mode {
            ConnmarkMode::Set => {
                list_operation(out, "CONNMARK", self.ctmark, ct);
                Ok(())
            }
            ConnmarkMode::Save if nf == u32::MAX && ct == u32::MAX => write!(out, " CONNMARK save"),
            ConnmarkMode::Save if nf == ct => write!(out, " CONNMARK save mask 0x{nf:x}"),
            ConnmarkMode::Save => write!(out, " CONNMARK save nfmask 0x{nf:x} ctmask ~0x{ct:x}"),
            ConnmarkMode::Restore if nf == u32::MAX && ct == u32::MAX => {
                write!(out, " CONNMARK restore")
            }
            ConnmarkMode::Restore if nf == ct => write!(out, " CONNMARK restore mask 0x{ct:x}"),
            ConnmarkMode::Restore => {
                write!(out, " CONNMARK restore ctmask 0x{ct:x} nfmask ~0x{nf:x}")
            }
        };
        self.write_shift(out, "");
    }
}

impl Connmark {
    /// ` left-shift-mark N` (prefixed by `--` for save), only for a non-zero shift.
    fn write_shift(&self, out: &mut String, prefix: &str) {
        if self.shift_bits != 0 {
            let dir = match self.shift_dir {
                ShiftDir::Left => "left",
                ShiftDir::Right => "right",
            };
            let _ = write!(out, " {prefix}{dir}-shift-mark {}", self.shift_bits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::{Family, Proto, TableKind};
    use crate::rules::names::Names;

    fn opt(name: &'static str, arg: Option<&str>) -> OptArg {
        OptArg {
            name,
            invert: false,
            args: arg.map(str::to_string).into_iter().collect(),
            col: 1,
            arg_cols: vec![2],
        }
    }

    fn parse<E: Extension>(opts: &[(&'static str, Option<&str>)]) -> Result<E, String> {
        let opts: Vec<OptArg> = opts.iter().map(|(n, a)| opt(n, *a)).collect();
        let ctx = ParseCtx {
            family: Family::Ipv4,
            table: TableKind::Mangle,
            proto: Proto::ALL,
            proto_inverted: false,
        };
        E::parse(&opts, &ctx).map_err(|e| e.message)
    }

    fn texts<E: Extension>(e: &E) -> (String, String) {
        let names = Names::from_texts("", "", "");
        let ctx = PrintCtx {
            numeric: true,
            family: Family::Ipv4,
            proto: 0,
            names: &names,
        };
        let (mut s, mut l) = (String::new(), String::new());
        e.save(&mut s, &ctx);
        e.list(&mut l, &ctx);
        (s, l)
    }

    fn mark(name: &'static str, arg: &str) -> (String, String) {
        texts(&parse::<Mark>(&[(name, Some(arg))]).expect("parses"))
    }

    // Expected texts are iptables 1.8.9's (iptables-save, iptables -L -v).
    #[test]
    fn mark_operations() {
        let t = |s: &str, l: &str| (s.to_string(), l.to_string());
        assert_eq!(
            mark("set-mark", "1"),
            t(" --set-xmark 0x1/0xffffffff", " MARK set 0x1")
        );
        assert_eq!(
            mark("set-mark", "1/0xff"),
            t(" --set-xmark 0x1/0xff", " MARK xset 0x1/0xff")
        );
        assert_eq!(
            mark("set-mark", "010"),
            t(" --set-xmark 0x8/0xffffffff", " MARK set 0x8")
        );
        assert_eq!(
            mark("and-mark", "0xff"),
            t(" --set-xmark 0x0/0xffffff00", " MARK and 0xff")
        );
        assert_eq!(
            mark("or-mark", "0x4000"),
            t(" --set-xmark 0x4000/0x4000", " MARK or 0x4000")
        );
        assert_eq!(
            mark("xor-mark", "0x4"),
            t(" --set-xmark 0x4/0x0", " MARK xor 0x4")
        );
        assert_eq!(
            mark("set-mark", "0"),
            t(" --set-xmark 0x0/0xffffffff", " MARK and 0x0")
        );
        assert_eq!(
            mark("set-xmark", "0/0"),
            t(" --set-xmark 0x0/0x0", " MARK and 0xffffffff")
        );
        assert_eq!(
            mark("set-xmark", "5/5"),
            t(" --set-xmark 0x5/0x5", " MARK or 0x5")
        );
    }

    #[test]
    fn mark_errors() {
        for (n, a) in [
            ("set-mark", "0x100000000"),
            ("set-mark", "-1"),
            ("set-mark", "1/"),
            ("set-mark", "/1"),
            ("set-mark", "1x"),
            ("or-mark", "1/2"),
        ] {
            assert!(parse::<Mark>(&[(n, Some(a))]).is_err(), "{n} {a}");
        }
        assert!(parse::<Mark>(&[]).unwrap_err().contains("is required"));
        let both = parse::<Mark>(&[("set-mark", Some("1")), ("or-mark", Some("2"))]);
        assert!(both.unwrap_err().contains("cannot be used together"));
    }

    fn connmark(opts: &[(&'static str, Option<&str>)]) -> (String, String) {
        texts(&parse::<Connmark>(opts).expect("parses"))
    }

    #[test]
    fn connmark_set_forms() {
        let t = |s: &str, l: &str| (s.to_string(), l.to_string());
        assert_eq!(
            connmark(&[("set-mark", Some("1"))]),
            t(" --set-xmark 0x1/0xffffffff", " CONNMARK set 0x1")
        );
        assert_eq!(
            connmark(&[("and-mark", Some("0xff"))]),
            t(" --set-xmark 0x0/0xffffff00", " CONNMARK and 0xff")
        );
        // A later --mask / --ctmask replaces the mask; an earlier one is overwritten.
        assert_eq!(
            connmark(&[("set-mark", Some("1")), ("mask", Some("0xff"))]).0,
            " --set-xmark 0x1/0xff"
        );
        assert_eq!(
            connmark(&[("mask", Some("0xff")), ("set-mark", Some("1"))]).0,
            " --set-xmark 0x1/0xffffffff"
        );
        assert_eq!(
            connmark(&[("set-mark", Some("1")), ("ctmask", Some("0xff"))]).1,
            " CONNMARK xset 0x1/0xff"
        );
        assert_eq!(
            connmark(&[("set-mark", Some("1")), ("left-shift-mark", Some("4"))]),
            t(
                " --set-xmark 0x1/0xffffffff --left-shift-mark 4",
                " CONNMARK set 0x1 left-shift-mark 4"
            )
        );
    }

    #[test]
    fn connmark_save_restore() {
        let t = |s: &str, l: &str| (s.to_string(), l.to_string());
        assert_eq!(
            connmark(&[("save-mark", None)]),
            t(
                " --save-mark --nfmask 0xffffffff --ctmask 0xffffffff",
                " CONNMARK save"
            )
        );
        assert_eq!(
            connmark(&[("save-mark", None), ("nfmask", Some("0xff"))]),
            t(
                " --save-mark --nfmask 0xff --ctmask 0xffffffff",
                " CONNMARK save nfmask 0xff ctmask ~0xffffffff"
            )
        );
        assert_eq!(
            connmark(&[("restore-mark", None), ("mask", Some("0xff"))]),
            t(
                " --restore-mark --nfmask 0xff --ctmask 0xff",
                " CONNMARK restore mask 0xff"
            )
        );
        assert_eq!(
            connmark(&[
                ("restore-mark", None),
                ("nfmask", Some("0xf0")),
                ("ctmask", Some("0xff"))
            ])
            .1,
            " CONNMARK restore ctmask 0xff nfmask ~0xf0"
        );
        assert_eq!(
            connmark(&[
                ("save-mark", None),
                ("left-shift-mark", Some("3")),
                ("right-shift-mark", Some("2"))
            ]),
            t(
                " --save-mark --nfmask 0xffffffff --ctmask 0xffffffff --right-shift-mark 2",
                " CONNMARK save right-shift-mark 2"
            )
        );
    }

    #[test]
    fn connmark_errors() {
        let err = |o: &[(&'static str, Option<&str>)]| parse::<Connmark>(o).unwrap_err();
        assert!(err(&[]).contains("No operation"));
        assert!(err(&[("mask", Some("1"))]).contains("No operation"));
        assert!(err(&[("save-mark", None), ("restore-mark", None)]).contains("together"));
        assert!(err(&[
            ("save-mark", None),
            ("nfmask", Some("1")),
            ("mask", Some("1"))
        ])
        .contains("together"));
        assert!(err(&[("save-mark", None), ("left-shift-mark", Some("32"))]).contains("kernel"));
        assert!(err(&[("save-mark", None), ("left-shift-mark", Some("33"))]).contains("0-32"));
        assert!(err(&[
            ("save-mark", None),
            ("mask", Some("1")),
            ("mask", Some("2"))
        ])
        .contains("only be used once"));
    }
}

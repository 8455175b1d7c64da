//! Targets that hand the packet, or facts about it, to another subsystem: `-j SET` (ipset),
//! `-j AUDIT` (the audit log) and `-j NFQUEUE` (a userspace queue).

use std::fmt::Write;

use super::set::{parse_dirs, write_dirs, SetDir, MAX_NAME_LEN};
use super::util::{parse_num, strtoul_prefix};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::model::{Hook, TableKind};

/// A set named by `--add-set`/`--del-set`/`--map-set NAME src,dst,...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetRef {
    /// At most 31 bytes (`IPSET_MAXNAMELEN`). The set must exist in the kernel when the rule
    /// is loaded; fwbench cannot check that.
    pub name: String,
    /// One direction per dimension, 1 to 6 (`IPSET_DIM_MAX`).
    pub dirs: Vec<SetDir>,
}

impl SetRef {
    /// `NAME FLAGS` as libxt_set.h's `parse_target` and `parse_dirs` read them. Each flag only
    /// has to start with `src` or `dst` (`strncmp(.., 3)`), so `srcip` is `src`.
    fn parse(o: &OptArg) -> Result<SetRef, ExtError> {
        let (Some(name), Some(flags)) = (o.args.first(), o.args.get(1)) else {
            return Err(o.err(format!("--{} requires two args.", o.name)));
        };
        if flags.starts_with(['-', '!']) {
            return Err(o.err(format!("--{} requires two args.", o.name)));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(o.bad(format!(
                "setname `{name}' too long, max {MAX_NAME_LEN} characters."
            )));
        }
        let dirs = parse_dirs(o, flags)?;
        Ok(SetRef {
            name: name.clone(),
            dirs,
        })
    }

    /// ` LABEL NAME src,dst` (`print_target`).
    fn write(&self, out: &mut String, label: &str) {
        let _ = write!(out, " {label} {} ", self.name);
        write_dirs(out, &self.dirs);
    }
}

/// `-j SET` (xt_set_info_target_v3, revision 3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetTarget {
    pub add_set: Option<SetRef>,
    pub del_set: Option<SetRef>,
    /// Copy the matching entry's skbinfo (mark, priority, queue) to the packet; mangle only.
    pub map_set: Option<SetRef>,
    /// `--exist`: refresh the timeout of an entry already in the set.
    pub exist: bool,
    /// `--timeout N` for added entries (`None`: the set's default).
    pub timeout: Option<u32>,
    pub map_mark: bool,
    pub map_prio: bool,
    pub map_queue: bool,
}

impl Extension for SetTarget {
    const NAME: &'static str = "SET";
    // libxt_SET parses the old way and never looks at `!`: iptables accepts and drops it.
    const OPTIONS: &'static [Opt] = &[
        Opt::new("add-set", Arity::Two, true),
        Opt::new("del-set", Arity::Two, true),
        Opt::new("exist", Arity::Zero, true),
        Opt::new("timeout", Arity::One, true),
        Opt::new("map-set", Arity::Two, true),
        Opt::new("map-mark", Arity::Zero, true),
        Opt::new("map-prio", Arity::Zero, true),
        Opt::new("map-queue", Arity::Zero, true),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let mut t = SetTarget::default();
        for o in opts {
            let slot = match o.name {
                "add-set" => &mut t.add_set,
                "del-set" => &mut t.del_set,
                "map-set" => &mut t.map_set,
                "exist" => {
                    t.exist = true;
                    continue;
                }
                "map-mark" => {
                    t.map_mark = true;
                    continue;
                }
                "map-prio" => {
                    t.map_prio = true;
                    continue;
                }
                "map-queue" => {
                    t.map_queue = true;
                    continue;
                }
                // Repeating --timeout keeps the last value.
                "timeout" => {
                    let v = parse_num(o.arg(), 0, u64::from(u32::MAX) - 1).ok_or_else(|| {
                        o.bad("Invalid value for option --timeout or out of range 0-4294967294")
                    })?;
                    t.timeout = Some(v as u32);
                    continue;
                }
                _ => continue,
            };
            if slot.is_some() {
                return Err(o.err(format!("--{} can be specified only once", o.name)));
            }
            *slot = Some(SetRef::parse(o)?);
        }
        // set_target_check_v3.
        if t.add_set.is_none() && t.del_set.is_none() && t.map_set.is_none() {
            return Err(ExtError::whole(
                "You must specify either `--add-set' or `--del-set' or `--map-set'",
            ));
        }
        if t.add_set.is_none() && t.exist {
            return Err(ExtError::whole(
                "Flag `--exist' can be used with `--add-set' only",
            ));
        }
        if t.add_set.is_none() && t.timeout.is_some() {
            return Err(ExtError::whole(
                "Option `--timeout' can be used with `--add-set' only",
            ));
        }
        let any_map = t.map_mark || t.map_prio || t.map_queue;
        if t.map_set.is_none() && any_map {
            return Err(ExtError::whole(
                "Flags `--map-mark', `--map-prio' and `--map-queue' can be used with `--map-set' only",
            ));
        }
        if t.map_set.is_some() && !any_map {
            return Err(ExtError::whole(
                "You must specify flags `--map-mark' or `--map-prio' or `--map-queue'",
            ));
        }
        // The kernel's set_target_v3_checkentry.
        if t.map_set.is_some() && ctx.table != TableKind::Mangle {
            return Err(ExtError::whole(
                "SET --map-set is only usable from the mangle table",
            ));
        }
        Ok(t)
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.print(out, "--");
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        self.print(out, "");
    }

    fn hooks(&self) -> Option<u8> {
        // set_target_v3_checkentry: mapping priority or queue is allowed only where the packet
        // is on its way out.
        (self.map_prio || self.map_queue)
            .then(|| Hook::Forward.bit() | Hook::Output.bit() | Hook::Postrouting.bit())
    }
}

impl SetTarget {
    /// `set_target_save_v3` / `set_target_print_v3`, options after `prefix`.
    fn print(&self, out: &mut String, prefix: &str) {
        if let Some(s) = &self.add_set {
            s.write(out, &format!("{prefix}add-set"));
        }
        if self.exist {
            let _ = write!(out, " {prefix}exist");
        }
        if let Some(t) = self.timeout {
            let _ = write!(out, " {prefix}timeout {t}");
        }
        if let Some(s) = &self.del_set {
            s.write(out, &format!("{prefix}del-set"));
        }
        if let Some(s) = &self.map_set {
            s.write(out, &format!("{prefix}map-set"));
        }
        for (set, name) in [
            (self.map_mark, "map-mark"),
            (self.map_prio, "map-prio"),
            (self.map_queue, "map-queue"),
        ] {
            if set {
                let _ = write!(out, " {prefix}{name}");
            }
        }
    }
}

/// What `-j AUDIT` records the packet as (`XT_AUDIT_TYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditType {
    Accept,
    Drop,
    Reject,
}

/// `-j AUDIT --type accept|drop|reject`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    pub kind: AuditType,
}

impl Audit {
    fn type_name(&self) -> &'static str {
        match self.kind {
            AuditType::Accept => "accept",
            AuditType::Drop => "drop",
            AuditType::Reject => "reject",
        }
    }
}

impl Extension for Audit {
    const NAME: &'static str = "AUDIT";
    const OPTIONS: &'static [Opt] = &[Opt::new("type", Arity::One, false)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let mut given = opts.iter().filter(|o| o.name == "type");
        let Some(o) = given.next() else {
            return Err(ExtError::whole(
                "AUDIT: option \"--type\" must be specified",
            ));
        };
        if let Some(again) = given.next() {
            return Err(again.err("AUDIT: option \"--type\" can only be used once"));
        }
        // libxt_AUDIT compares with strcasecmp.
        let kind = match o.arg().to_ascii_lowercase().as_str() {
            "accept" => AuditType::Accept,
            "drop" => AuditType::Drop,
            "reject" => AuditType::Reject,
            _ => return Err(o.bad(format!("Bad action type value \"{}\"", o.arg()))),
        };
        Ok(Audit { kind })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " --type {}", self.type_name());
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(out, " AUDIT {}", self.type_name());
    }
}

/// `-j NFQUEUE` (xt_NFQ_info_v3, revision 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nfqueue {
    /// The (first) queue number.
    pub queuenum: u16,
    /// How many queues flows are spread over, from `queuenum` (1: just one; never 0).
    pub queues_total: u16,
    /// `--queue-bypass`: accept the packet when no program listens on the queue.
    pub bypass: bool,
    /// `--queue-cpu-fanout`: choose the queue by CPU instead of by flow hash.
    pub cpu_fanout: bool,
}

/// `first:last` as `XTTYPE_UINT16RC` reads it (an empty side means 0 or 65535), then checked
/// as `NFQUEUE_parse_v3` does.
fn parse_balance(o: &OptArg) -> Result<(u16, u16), ExtError> {
    let arg = o.arg();
    let mut vals: Vec<u64> = Vec::new();
    for part in arg.split(':') {
        if vals.len() == 2 {
            return Err(o.bad("Too many components for option \"--queue-balance\" (max: 2)"));
        }
        let v = if part.is_empty() {
            if vals.len() == 1 {
                65535
            } else {
                0
            }
        } else {
            match strtoul_prefix(part) {
                Some((v, "")) if v <= 65535 => v,
                Some((v, rest)) if v <= 65535 => {
                    return Err(o.bad(format!(
                        "Argument to \"--queue-balance\" has unexpected characters near \"{rest}\""
                    )))
                }
                _ => {
                    return Err(o.bad(format!(
                        "bad value for option \"--queue-balance\" near \"{part}\", or out of range (0-65535)"
                    )))
                }
            }
        };
        vals.push(v);
    }
    let [first, last] = vals[..] else {
        return Err(o.bad(format!("Bad range \"{arg}\"")));
    };
    if first >= last {
        return Err(o.bad(format!("{first} should be less than {last}")));
    }
    // 0:65535 is 65536 queues, which wraps the kernel's 16-bit count to 0 (refused).
    if last - first + 1 > 65535 {
        return Err(o.bad("the kernel refuses a balance over all 65536 queues"));
    }
    Ok((first as u16, last as u16))
}

impl Extension for Nfqueue {
    const NAME: &'static str = "NFQUEUE";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("queue-num", Arity::One, false),
        Opt::new("queue-balance", Arity::One, false),
        Opt::new("queue-bypass", Arity::Zero, false),
        Opt::new("queue-cpu-fanout", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let mut q = Nfqueue {
            queuenum: 0,
            queues_total: 1,
            bypass: false,
            cpu_fanout: false,
        };
        for (i, o) in opts.iter().enumerate() {
            if opts[..i].iter().any(|p| p.name == o.name) {
                return Err(o.err(format!(
                    "NFQUEUE: option \"--{}\" can only be used once",
                    o.name
                )));
            }
            match o.name {
                "queue-num" => {
                    q.queuenum = parse_num(o.arg(), 0, 65535).ok_or_else(|| {
                        o.bad("bad value for option \"--queue-num\", or out of range (0-65535)")
                    })? as u16;
                }
                "queue-balance" => {
                    let (first, last) = parse_balance(o)?;
                    q.queuenum = first;
                    q.queues_total = last - first + 1;
                }
                "queue-bypass" => q.bypass = true,
                "queue-cpu-fanout" => q.cpu_fanout = true,
                _ => {}
            }
        }
        let has = |n: &str| opts.iter().find(|o| o.name == n);
        if let (Some(_), Some(b)) = (has("queue-num"), has("queue-balance")) {
            return Err(b.err(
                "NFQUEUE: option \"--queue-num\" cannot be used together with \"--queue-balance\"",
            ));
        }
        if let (Some(f), None) = (has("queue-cpu-fanout"), has("queue-balance")) {
            return Err(
                f.err("NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\"")
            );
        }
        Ok(q)
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.print(out, true);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        self.print(out, false);
    }
}

impl Nfqueue {
    /// `NFQUEUE_save_v3` (`save`) / `NFQUEUE_print_v3`.
    fn print(&self, out: &mut String, save: bool) {
        let last = u32::from(self.queuenum) + u32::from(self.queues_total) - 1;
        let _ = match (self.queues_total > 1, save) {
            (true, true) => write!(out, " --queue-balance {}:{last}", self.queuenum),
            (true, false) => write!(out, " NFQUEUE balance {}:{last}", self.queuenum),
            (false, true) => write!(out, " --queue-num {}", self.queuenum),
            (false, false) => write!(out, " NFQUEUE num {}", self.queuenum),
        };
        let p = if save { "--queue-" } else { "" };
        if self.bypass {
            let _ = write!(out, " {p}bypass");
        }
        if self.cpu_fanout {
            let _ = write!(out, " {p}cpu-fanout");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::{Family, Proto};
    use crate::rules::names::Names;

    fn opts(list: &[(&'static str, &[&str])]) -> Vec<OptArg> {
        list.iter()
            .map(|(n, a)| OptArg {
                name: n,
                invert: false,
                args: a.iter().map(|s| s.to_string()).collect(),
                col: 1,
                arg_cols: vec![2, 3],
            })
            .collect()
    }

    fn run<E: Extension>(
        list: &[(&'static str, &[&str])],
        table: TableKind,
    ) -> Result<(String, String), String> {
        let ctx = ParseCtx {
            family: Family::Ipv4,
            table,
            proto: Proto::ALL,
            proto_inverted: false,
        };
        let e = E::parse(&opts(list), &ctx).map_err(|e| e.message)?;
        let names = Names::from_texts("", "", "");
        let p = PrintCtx {
            numeric: false,
            family: Family::Ipv4,
            proto: 0,
            names: &names,
        };
        let (mut s, mut l) = (String::new(), String::new());
        e.save(&mut s, &p);
        e.list(&mut l, &p);
        Ok((s, l))
    }

    fn t(s: &str, l: &str) -> Result<(String, String), String> {
        Ok((s.to_string(), l.to_string()))
    }

    // Expected texts are iptables 1.8.9's (iptables-save, iptables -L -v).
    #[test]
    fn set_target() {
        let f = TableKind::Filter;
        assert_eq!(
            run::<SetTarget>(&[("add-set", &["s1", "src"])], f),
            t(" --add-set s1 src", " add-set s1 src")
        );
        assert_eq!(
            run::<SetTarget>(
                &[
                    ("timeout", &["10"]),
                    ("exist", &[]),
                    ("add-set", &["s2", "srcx,dstyy"]),
                    ("del-set", &["s1", "dst"])
                ],
                f
            ),
            t(
                " --add-set s2 src,dst --exist --timeout 10 --del-set s1 dst",
                " add-set s2 src,dst exist timeout 10 del-set s1 dst"
            )
        );
        let m = run::<SetTarget>(
            &[
                ("map-set", &["m1", "src,dst"]),
                ("map-queue", &[]),
                ("map-prio", &[]),
                ("map-mark", &[]),
            ],
            TableKind::Mangle,
        );
        assert_eq!(
            m,
            t(
                " --map-set m1 src,dst --map-mark --map-prio --map-queue",
                " map-set m1 src,dst map-mark map-prio map-queue"
            )
        );
        let err = |l: &[(&'static str, &[&str])]| run::<SetTarget>(l, f).unwrap_err();
        assert!(err(&[("add-set", &["s1", "src,src,src,src,src,src,src"])]).contains("than 6"));
        assert!(err(&[("add-set", &["s1", "SRC"])]).contains("'src' or 'dst'"));
        assert!(err(&[("add-set", &["s1", "src,"])]).contains("'src' or 'dst'"));
        assert!(err(&[("add-set", &["s1", "!"])]).contains("two args"));
        assert!(
            err(&[("add-set", &["abcdefghijklmnopqrstuvwxyz123456", "src"])]).contains("too long")
        );
        assert!(
            err(&[("add-set", &["s1", "src"]), ("add-set", &["s1", "dst"])]).contains("only once")
        );
        assert!(err(&[("del-set", &["s1", "src"]), ("exist", &[])]).contains("--add-set' only"));
        assert!(
            err(&[("add-set", &["s1", "src"]), ("timeout", &["4294967295"])]).contains("range")
        );
        assert!(err(&[("exist", &[])]).contains("You must specify"));
        assert!(err(&[("map-set", &["m1", "dst"]), ("map-mark", &[])]).contains("mangle"));
        assert!(run::<SetTarget>(&[("map-set", &["m1", "dst"])], TableKind::Mangle).is_err());
    }

    #[test]
    fn set_map_prio_narrows_hooks() {
        let ctx = ParseCtx {
            family: Family::Ipv4,
            table: TableKind::Mangle,
            proto: Proto::ALL,
            proto_inverted: false,
        };
        let prio = SetTarget::parse(
            &opts(&[("map-set", &["m1", "dst"]), ("map-prio", &[])]),
            &ctx,
        );
        let hooks = prio.unwrap().hooks().unwrap();
        assert_eq!(hooks & Hook::Prerouting.bit(), 0);
        assert_ne!(hooks & Hook::Forward.bit(), 0);
        let mark = SetTarget::parse(
            &opts(&[("map-set", &["m1", "dst"]), ("map-mark", &[])]),
            &ctx,
        );
        assert_eq!(mark.unwrap().hooks(), None);
    }

    #[test]
    fn audit() {
        let f = TableKind::Filter;
        assert_eq!(
            run::<Audit>(&[("type", &["Drop"])], f),
            t(" --type drop", " AUDIT drop")
        );
        assert!(run::<Audit>(&[("type", &["foo"])], f).is_err());
        assert!(run::<Audit>(&[], f)
            .unwrap_err()
            .contains("must be specified"));
    }

    #[test]
    fn nfqueue() {
        let f = TableKind::Filter;
        let q = |l: &[(&'static str, &[&str])]| run::<Nfqueue>(l, f);
        assert_eq!(q(&[]), t(" --queue-num 0", " NFQUEUE num 0"));
        assert_eq!(q(&[("queue-num", &["0x10"])]).unwrap().0, " --queue-num 16");
        assert_eq!(
            q(&[
                ("queue-balance", &["2:5"]),
                ("queue-cpu-fanout", &[]),
                ("queue-bypass", &[])
            ]),
            t(
                " --queue-balance 2:5 --queue-bypass --queue-cpu-fanout",
                " NFQUEUE balance 2:5 bypass cpu-fanout"
            )
        );
        assert_eq!(
            q(&[("queue-balance", &[":5"])]).unwrap().0,
            " --queue-balance 0:5"
        );
        assert_eq!(
            q(&[("queue-balance", &["2:"])]).unwrap().0,
            " --queue-balance 2:65535"
        );
        assert_eq!(
            q(&[("queue-bypass", &[])]).unwrap().1,
            " NFQUEUE num 0 bypass"
        );
        for bad in [
            "2:2", "5:2", "2", "2-5", "1:2:3", "1:70000", ":", "0:65535", "",
        ] {
            assert!(q(&[("queue-balance", &[bad])]).is_err(), "{bad}");
        }
        assert!(q(&[("queue-num", &["65536"])]).is_err());
        assert!(q(&[("queue-num", &["1"]), ("queue-balance", &["2:5"])]).is_err());
        assert!(q(&[("queue-num", &["3"]), ("queue-cpu-fanout", &[])]).is_err());
        assert!(q(&[("queue-bypass", &[]), ("queue-bypass", &[])]).is_err());
    }
}

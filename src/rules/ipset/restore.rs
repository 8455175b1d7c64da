//! Running an `ipset restore` file against the model, with the checks the kernel makes.
//!
//! How ipset reads a file (lib/ipset.c `ipset_parse_stream`, checked on ipset 7.17):
//! - lines are read with a 1024-byte buffer; leading white space is skipped; empty lines and
//!   lines starting with `#` are ignored; a line that is exactly `COMMIT` sends what is
//!   pending;
//! - "environment options" are taken out of the line wherever they stand: `-exist`/`-!`,
//!   `-quiet`/`-q`, `-sorted`/`-s`, `-resolve`/`-r`, `-name`/`-n`, `-terse`/`-t`,
//!   `-output`/`-o MODE`, `-file`/`-f NAME` (one extra leading dash allowed);
//! - the command is the next argument, matched as a prefix of a command name or alias
//!   (`c`, `create`, `new`, `-N`; `a`, `add`, `-A`; `d`, `del`, `-D`; `des`, `destroy`, `x`,
//!   `-X`; `f`, `flush`, `-F`; `ren`, `rename`, `e`, `-E`; `sw`, `swap`, `w`, `-W`), with two
//!   leading dashes ignored;
//! - `-exist` is sticky: once given it holds for the rest of the file. Consecutive `add` (or
//!   `del`) lines for the same set travel in one netlink message whose "exist" flag is fixed
//!   by the first line, so `-exist` on a later line of such a run only takes effect from the
//!   next run (checked: `add a X` / `add a Y -exist` / `add a X` fails on the third line).
//!
//! ipset stops at the first error; fwbench goes on so that every error is reported, and
//! suppresses the follow-on errors of lines naming a set whose `create` failed.

use std::collections::HashSet;

use super::create::{self, Created};
use super::elem::{self, Spec, MAX_NAME};
use super::expand::{self, Target};
use super::lex::{self, Arg};
use super::opts::{self, ElemOpts};
use super::{Elem, Entry, Header, IpSet, IpSets, Members, SetType, MAX_SETS};
use crate::rules::diag::Diagnostics;
use crate::rules::model::Pos;
use crate::rules::names::Names;

/// fgets' buffer in ipset: longer lines are cut into pieces, which is never what was meant.
const MAX_LINE: usize = 1023;
/// fwbench's own bound on the elements one line may expand to.
const MAX_EXPAND: u64 = 1 << 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    Create,
    Add,
    Del,
    Test,
    Destroy,
    List,
    Save,
    Restore,
    Flush,
    Rename,
    Swap,
    Help,
    Version,
    Quit,
}

/// ipset's command table, in its order (the first prefix match wins).
const COMMANDS: [(Cmd, [&str; 3]); 14] = [
    (Cmd::Create, ["create", "new", "-N"]),
    (Cmd::Add, ["add", "-A", ""]),
    (Cmd::Del, ["del", "-D", ""]),
    (Cmd::Test, ["test", "-T", ""]),
    (Cmd::Destroy, ["destroy", "x", "-X"]),
    (Cmd::List, ["list", "-L", ""]),
    (Cmd::Save, ["save", "-S", ""]),
    (Cmd::Restore, ["restore", "-R", ""]),
    (Cmd::Flush, ["flush", "-F", ""]),
    (Cmd::Rename, ["rename", "e", "-E"]),
    (Cmd::Swap, ["swap", "w", "-W"]),
    (Cmd::Help, ["help", "-h", "-H"]),
    (Cmd::Version, ["version", "-v", "-V"]),
    (Cmd::Quit, ["quit", "", ""]),
];

/// `ipset_match_cmd`: the argument (two leading dashes ignored) is a prefix of a name.
fn match_cmd(arg: &str) -> Option<Cmd> {
    let a = arg.strip_prefix("--").unwrap_or(arg);
    if a.is_empty() || arg == "-" {
        return None;
    }
    COMMANDS
        .iter()
        .find(|(_, names)| names.iter().any(|n| !n.is_empty() && n.starts_with(a)))
        .map(|(c, _)| *c)
}

/// Environment options: (name, alias, takes a value).
const ENVOPTS: [(&str, &str, bool); 8] = [
    ("-o", "-output", true),
    ("-s", "-sorted", false),
    ("-q", "-quiet", false),
    ("-r", "-resolve", false),
    ("-!", "-exist", false),
    ("-n", "-name", false),
    ("-t", "-terse", false),
    ("-f", "-file", true),
];

struct State<'a> {
    sets: IpSets,
    names: &'a Names,
    diags: Diagnostics,
    /// `-exist` seen (sticky).
    exist: bool,
    /// The current run of add/del lines: command, set, and the exist flag it started with.
    run: Option<(Cmd, String, bool)>,
    /// Sets whose create line failed: later lines naming them report nothing more.
    failed: HashSet<String>,
}

/// A problem found while running a line: the argument it is about (or the line) and text.
struct LineError {
    arg: Option<usize>,
    /// Extra columns into the argument (for an element part).
    offset: usize,
    message: String,
}

fn at(arg: usize, message: impl Into<String>) -> LineError {
    LineError {
        arg: Some(arg),
        offset: 0,
        message: message.into(),
    }
}

pub fn parse(text: &str, file: &str, names: &Names) -> Result<IpSets, Diagnostics> {
    let mut st = State {
        sets: IpSets::default(),
        names,
        diags: Diagnostics::new(file),
        exist: false,
        run: None,
        failed: HashSet::new(),
    };
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        st.line(i as u32 + 1, raw);
    }
    if st.diags.is_empty() {
        Ok(st.sets)
    } else {
        Err(st.diags)
    }
}

impl State<'_> {
    fn error(&mut self, line: u32, col: u32, src: &str, message: impl Into<String>) {
        let pos = Pos { line, col };
        self.diags.push(pos, src, message);
    }

    fn line(&mut self, lineno: u32, raw: &str) {
        let src = raw.trim_end_matches(['\n', '\r']);
        // fgets hands over at most 1023 bytes; only content beyond that is cut off.
        if raw.strip_suffix('\n').unwrap_or(raw).len() > MAX_LINE {
            let msg = format!("line is longer than the {MAX_LINE} bytes ipset restore reads");
            self.error(lineno, 1, src, msg);
            return;
        }
        let body = raw.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
        let lead = (raw.chars().count() - body.chars().count()) as u32;
        if body.is_empty() || body.starts_with('#') {
            return;
        }
        if body == "COMMIT\n" || body == "COMMIT\r\n" {
            self.run = None;
            return;
        }
        let mut args = match lex::split_line(body) {
            Ok(a) => a,
            Err((col, m)) => return self.error(lineno, lead + col, src, m),
        };
        for a in &mut args {
            a.col += lead;
        }
        if let Err(e) = self.env_options(&mut args) {
            return self.report(lineno, src, &args, e);
        }
        if let Err(e) = self.command(&args) {
            self.report(lineno, src, &args, e);
        }
    }

    fn report(&mut self, lineno: u32, src: &str, args: &[Arg], e: LineError) {
        let col = match e.arg.and_then(|i| args.get(i)) {
            Some(a) => a.col + e.offset as u32,
            None => args.first().map_or(1, |a| a.col),
        };
        self.error(lineno, col, src, e.message);
    }

    /// Takes the environment options out of the line, as `ipset_parse_argv` does first.
    fn env_options(&mut self, args: &mut Vec<Arg>) -> Result<(), LineError> {
        for (name, alias, with_value) in ENVOPTS {
            let mut i = 0;
            while i < args.len() {
                let t = args[i].text.as_str();
                let t = if t.starts_with("--") { &t[1..] } else { t };
                if t != name && t != alias {
                    i += 1;
                    continue;
                }
                args.remove(i);
                if name == "-!" {
                    self.exist = true;
                }
                if with_value {
                    if i >= args.len() {
                        return Err(LineError {
                            arg: None,
                            offset: 0,
                            message: format!("option {name} needs a value"),
                        });
                    }
                    let v = args.remove(i);
                    if name == "-o" && !matches!(v.text.as_str(), "plain" | "save" | "xml") {
                        args.insert(i, v);
                        return Err(at(i, "output mode must be plain, save or xml"));
                    }
                }
            }
        }
        Ok(())
    }

    fn command(&mut self, args: &[Arg]) -> Result<(), LineError> {
        let Some(first) = args.first() else {
            self.run = None;
            return Err(LineError {
                arg: None,
                offset: 0,
                message: "no command on the line".into(),
            });
        };
        let Some(cmd) = match_cmd(&first.text) else {
            self.run = None;
            return Err(at(
                0,
                format!(
                    "unknown command `{}' (expected create, add, del, flush, destroy, rename \
                     or swap)",
                    first.text
                ),
            ));
        };
        let name = args.get(1).map(|a| a.text.clone());
        match (cmd, &name) {
            (Cmd::Add | Cmd::Del, Some(n)) => {
                let same = self
                    .run
                    .as_ref()
                    .is_some_and(|(c, s, _)| *c == cmd && s == n);
                if !same {
                    self.run = Some((cmd, n.clone(), self.exist));
                }
            }
            _ => self.run = None,
        }
        let need = |n: usize, what: &str| -> Result<(), LineError> {
            if args.len() < n + 1 {
                return Err(at(0, format!("`{}' needs {what}", first.text)));
            }
            Ok(())
        };
        match cmd {
            Cmd::Create => {
                need(2, "a set name and a set type")?;
                self.create(args)
            }
            Cmd::Add | Cmd::Del => {
                need(2, "a set name and an element")?;
                self.add_del(cmd, args)
            }
            Cmd::Flush | Cmd::Destroy => {
                if args.len() > 2 {
                    return Err(at(2, format!("unexpected argument `{}'", args[2].text)));
                }
                self.flush_destroy(cmd, args)
            }
            Cmd::Rename | Cmd::Swap => {
                need(2, "two set names")?;
                if args.len() > 3 {
                    return Err(at(3, format!("unexpected argument `{}'", args[3].text)));
                }
                self.rename_swap(cmd, args)
            }
            Cmd::Test
            | Cmd::List
            | Cmd::Save
            | Cmd::Restore
            | Cmd::Help
            | Cmd::Version
            | Cmd::Quit => Err(at(
                0,
                format!("command `{}' does not belong in a restore file", first.text),
            )),
        }
    }

    fn check_name(args: &[Arg], i: usize) -> Result<&str, LineError> {
        let n = args[i].text.as_str();
        if n.len() > MAX_NAME {
            return Err(at(
                i,
                format!("set name `{n}' is longer than {MAX_NAME} characters"),
            ));
        }
        Ok(n)
    }

    fn create(&mut self, args: &[Arg]) -> Result<(), LineError> {
        let name = Self::check_name(args, 1)?.to_string();
        let result = self.create_inner(&name, args);
        if result.is_err() && self.sets.get(&name).is_none() {
            self.failed.insert(name);
        }
        result
    }

    fn create_inner(&mut self, name: &str, args: &[Arg]) -> Result<(), LineError> {
        let tname = args[2].text.as_str();
        let Some(t) = SetType::from_name(tname) else {
            let known = SetType::ALL.map(SetType::name).join(", ");
            let msg = if NOT_MODELLED.contains(&tname) {
                format!("set type {tname} is not modelled by fwbench (it models: {known})")
            } else {
                format!("unknown set type `{tname}' (expected one of: {known})")
            };
            return Err(at(2, msg));
        };
        let created = create::parse(t, args, 3, self.names).map_err(|(i, m)| LineError {
            arg: Some(i.unwrap_or(2)),
            offset: 0,
            message: m,
        })?;
        if let Some(old) = self.sets.get(name) {
            let old_created = Created {
                family: old.family,
                header: old.header.clone(),
                ext: old.ext.clone(),
            };
            if self.exist && create::same_set(old.set_type, &old_created, t, &created) {
                return Ok(());
            }
            return Err(at(
                1,
                format!("set `{name}' already exists (with other options, or without -exist)"),
            ));
        }
        if self.sets.len() >= MAX_SETS {
            return Err(at(1, format!("the kernel holds at most {MAX_SETS} sets")));
        }
        self.sets.insert(IpSet {
            name: name.to_string(),
            set_type: t,
            family: created.family,
            header: created.header,
            ext: created.ext,
            members: Members::default(),
        });
        Ok(())
    }

    fn add_del(&mut self, cmd: Cmd, args: &[Arg]) -> Result<(), LineError> {
        let name = Self::check_name(args, 1)?.to_string();
        let exist = self.run.as_ref().is_some_and(|r| r.2);
        let Some(set) = self.sets.get(&name) else {
            if self.failed.contains(&name) {
                return Ok(());
            }
            return Err(at(1, format!("set `{name}' does not exist")));
        };
        let (t, family) = (set.set_type, set.family);
        let spec =
            elem::parse(t, family, &args[2].text, self.names).map_err(|(off, m)| LineError {
                arg: Some(2),
                offset: off,
                message: m,
            })?;
        let opts = opts::parse(cmd == Cmd::Del, set, args).map_err(|(i, m)| at(i, m))?;
        let spec = match (spec, &opts.position) {
            (Spec::Set(n, Some(_)), Some(_)) => {
                return Err(at(2, format!("`{n}': before/after given twice")));
            }
            (Spec::Set(n, None), Some(p)) => Spec::Set(n, Some(p.clone())),
            (s, _) => s,
        };
        if let Spec::Set(member, pos) = &spec {
            return self.list_member(cmd, &name, member, pos.as_ref(), &opts, exist);
        }
        let Some(set) = self.sets.get_mut(&name) else {
            return Ok(());
        };
        let header = set.header.clone();
        let target = Target {
            set_type: set.set_type,
            family: set.family,
            header: &header,
        };
        let maxelem = match &set.header {
            Header::Hash(h) => Some((h.maxelem, h.forceadd)),
            _ => None,
        };
        let mut count: u64 = 0;
        let mut apply = |e: Elem| -> Result<(), String> {
            count += 1;
            if count > MAX_EXPAND {
                return Err(format!("more than {MAX_EXPAND} elements from one line"));
            }
            let found = set.members.find(&e);
            match (cmd, found) {
                (Cmd::Del, Some(i)) => {
                    set.members.remove(i);
                    Ok(())
                }
                (Cmd::Del, None) if exist => Ok(()),
                (Cmd::Del, None) => Err("element is not in the set".to_string()),
                (_, Some(i)) if exist => {
                    if let Some(entry) = set.members.get_mut(i) {
                        opts::overwrite(entry, &opts);
                    }
                    Ok(())
                }
                (_, Some(_)) => Err("element is already in the set".to_string()),
                (_, None) => {
                    if let Some((max, forceadd)) = maxelem {
                        if set.members.len() as u64 >= u64::from(max) {
                            return Err(if forceadd {
                                format!(
                                    "set is full (maxelem {max}); with forceadd the kernel \
                                     replaces an element of the new one's hash bucket if that \
                                     bucket is not empty, which fwbench cannot predict"
                                )
                            } else {
                                format!("set is full (maxelem {max})")
                            });
                        }
                    }
                    set.members.push(Entry {
                        elem: e,
                        nomatch: opts.nomatch,
                        ext: opts.ext.clone(),
                    });
                    Ok(())
                }
            }
        };
        let e = match (&spec, opts.wildcard) {
            (Spec::NetIface(a, i), true) => {
                let mut i = i.clone();
                i.wildcard = true;
                Spec::NetIface(*a, i)
            }
            (s, _) => s.clone(),
        };
        expand::expand(&target, &e, &mut apply).map_err(|m| at(2, m))
    }

    /// `add`/`del` of a `list:set` member (`list_set_uadd`, `list_set_udel`).
    fn list_member(
        &mut self,
        cmd: Cmd,
        list: &str,
        member: &str,
        pos: Option<&(bool, String)>,
        opts: &ElemOpts,
        exist: bool,
    ) -> Result<(), LineError> {
        match self.sets.get(member) {
            None => return Err(at(2, format!("set `{member}' does not exist"))),
            Some(m) if m.set_type == SetType::ListSet => {
                return Err(at(2, "list:set sets cannot be members of a list:set"))
            }
            Some(_) => {}
        }
        if let Some((_, r)) = pos {
            if self.sets.get(r).is_none() {
                return Err(at(2, format!("set `{r}' does not exist")));
            }
        }
        let Some(set) = self.sets.get_mut(list) else {
            return Ok(());
        };
        let key = Elem::Set(member.to_string());
        let found = set.members.find(&key);
        let refpos = pos.and_then(|(_, r)| set.members.find(&Elem::Set(r.clone())));
        if cmd == Cmd::Del {
            let Some(i) = found else {
                // list_set_udel: with before/after a missing member is a "reference" error,
                // which -exist does not excuse (checked).
                return if exist && pos.is_none() {
                    Ok(())
                } else {
                    Err(at(2, format!("`{member}' is not in the list")))
                };
            };
            if let Some((before, _)) = pos {
                let want = set.members.neighbour(i, *before);
                if refpos.is_none() || refpos != want {
                    return Err(at(
                        2,
                        "the set referred to with before/after is not next to it",
                    ));
                }
            }
            set.members.remove(i);
            return Ok(());
        }
        if pos.is_some() && refpos.is_none() {
            return Err(at(
                2,
                "the set referred to with before/after is not in the list",
            ));
        }
        if let Some(i) = found {
            if !exist {
                return Err(at(2, format!("`{member}' is already in the list")));
            }
            if let Some(entry) = set.members.get_mut(i) {
                opts::overwrite(entry, opts);
            }
            return Ok(());
        }
        let entry = Entry {
            elem: key,
            nomatch: false,
            ext: opts.ext.clone(),
        };
        match (pos, refpos) {
            (Some((true, _)), Some(r)) => set.members.insert_at(r, entry),
            (Some((false, _)), Some(r)) => set.members.insert_at(r + 1, entry),
            _ => set.members.push(entry),
        }
        Ok(())
    }

    fn flush_destroy(&mut self, cmd: Cmd, args: &[Arg]) -> Result<(), LineError> {
        let Some(a) = args.get(1) else {
            if cmd == Cmd::Flush {
                for s in self.sets.iter_mut() {
                    s.members.clear();
                }
            } else {
                // ip_set_destroy without a name first checks that no set is referenced.
                if let Some(s) = self.sets.iter().find(|s| self.sets.references(&s.name) > 0) {
                    let n = s.name.clone();
                    return Err(at(0, format!("set `{n}' is in use by a list:set")));
                }
                self.sets.clear();
            }
            return Ok(());
        };
        let name = a.text.clone();
        if self.sets.get(&name).is_none() {
            if self.failed.contains(&name) {
                return Ok(());
            }
            return Err(at(1, format!("set `{name}' does not exist")));
        };
        if cmd == Cmd::Flush {
            if let Some(s) = self.sets.get_mut(&name) {
                s.members.clear();
            }
        } else {
            if self.sets.references(&name) > 0 {
                return Err(at(1, format!("set `{name}' is in use by a list:set")));
            }
            self.sets.remove(&name);
        }
        Ok(())
    }

    fn rename_swap(&mut self, cmd: Cmd, args: &[Arg]) -> Result<(), LineError> {
        let from = args[1].text.clone();
        let to = Self::check_name(args, 2)?.to_string();
        let Some(x) = self.sets.get(&from) else {
            return Err(at(1, format!("set `{from}' does not exist")));
        };
        if cmd == Cmd::Rename {
            if self.sets.get(&to).is_some() {
                return Err(at(2, format!("a set named `{to}' already exists")));
            }
            if self.sets.references(&from) > 0 {
                return Err(at(1, format!("set `{from}' is in use by a list:set")));
            }
            self.sets.rename(&from, &to);
            return Ok(());
        }
        let Some(y) = self.sets.get(&to) else {
            return Err(at(2, format!("set `{to}' does not exist")));
        };
        // ip_set_swap compares the types' feature bits and the families, not the types.
        if x.set_type.features() != y.set_type.features() || x.family != y.family {
            return Err(at(
                2,
                format!(
                    "sets `{from}' ({}) and `{to}' ({}) cannot be swapped: their types or \
                     families differ",
                    x.set_type.name(),
                    y.set_type.name()
                ),
            ));
        }
        self.sets.swap(&from, &to);
        Ok(())
    }
}

/// ipset types the kernel may know that fwbench does not model.
const NOT_MODELLED: [&str; 6] = [
    "hash:net,net",
    "hash:net,port,net",
    "hash:ip,mark",
    "hash:ip,mac",
    "bitmap:ip,mac",
    "hash:ipmac",
];

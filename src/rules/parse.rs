//! Whole `iptables-save` / `iptables-restore` files → a [`Ruleset`].
//!
//! Follows `xtables-restore.c` (the nf_tables variant; legacy differences are noted):
//! - a line is a table header (`*filter`), a chain line (`:CHAIN POLICY [p:b]`), `COMMIT`, a
//!   comment (`#` first) or an empty line; anything else inside a table is a command
//!   (`-A`, `-I`, `-D`, `-R`, `-N`, `-X`, `-F`, `-Z`, `-P`, `-E`), optionally after `[p:b]`;
//! - each `*table` starts that table afresh (iptables-restore flushes it), so a table given
//!   twice keeps only its last block;
//! - lines must match exactly: `COMMIT ` (trailing space) and CRLF endings are refused, as
//!   iptables refuses them;
//! - a chain must be declared before a rule is added to it or jumps to it.
//!
//! Unlike iptables, parsing goes on after an error so that every problem is reported at once.

use super::diag::Diagnostics;
use super::lex::{split_args, Token};
use super::model::{
    Backend, Chain, Counters, Family, Hook, Policy, Pos, Rule, Ruleset, Table, TableKind,
};
use super::rule::{parse_rule, RuleInput};
use super::validate::validate;

/// How to read a file.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseOptions {
    pub family: Family,
    pub backend: Backend,
}

/// Longest chain name iptables accepts (`XT_EXTENSION_MAXNAMELEN` - 1).
pub const MAX_CHAIN_NAME: usize = 28;

/// Parses and validates a ruleset. `file` names it in error messages.
pub fn parse_ruleset(text: &str, file: &str, opts: ParseOptions) -> Result<Ruleset, Diagnostics> {
    let mut p = FileParser {
        opts,
        diags: Diagnostics::new(file),
        ruleset: Ruleset {
            family: opts.family,
            backend: opts.backend,
            tables: Vec::new(),
        },
        current: None,
    };
    let mut last_line = 0;
    for (idx, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = idx as u32 + 1;
        last_line = line_no;
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        p.line(line, line_no);
    }
    if let Some(open) = &p.current {
        let line = last_line + 1;
        p.diags.push(
            Pos { line, col: 1 },
            "",
            format!(
                "COMMIT expected at line {line}: the `*{}' table opened at line {} is never committed",
                open.kind, open.line
            ),
        );
    }
    if p.diags.is_empty() {
        validate(&p.ruleset, text, &mut p.diags);
    }
    if p.diags.is_empty() {
        Ok(p.ruleset)
    } else {
        Err(p.diags)
    }
}

struct OpenTable {
    kind: TableKind,
    line: u32,
}

struct FileParser {
    opts: ParseOptions,
    diags: Diagnostics,
    ruleset: Ruleset,
    current: Option<OpenTable>,
}

impl FileParser {
    fn error(&mut self, line: &str, line_no: u32, col: u32, message: impl Into<String>) {
        self.diags.push(Pos { line: line_no, col }, line, message);
    }

    /// The open table, created with its built-in chains on first use.
    fn table(&mut self) -> &mut Table {
        // Callers only get here with a table open; `Filter` is a harmless stand-in otherwise.
        let (kind, line) = self
            .current
            .as_ref()
            .map_or((TableKind::Filter, 0), |t| (t.kind, t.line));
        let index = match self.ruleset.tables.iter().position(|t| t.kind == kind) {
            Some(i) => i,
            None => {
                let mut table = Table::new(kind);
                for c in table.chains_mut() {
                    c.pos = Pos { line, col: 1 };
                }
                self.ruleset.tables.push(table);
                self.ruleset.tables.len() - 1
            }
        };
        &mut self.ruleset.tables[index]
    }

    fn line(&mut self, line: &str, n: u32) {
        if line.is_empty() || line.starts_with('#') {
            return;
        }
        if line.ends_with('\r') {
            self.error(
                line,
                n,
                line.chars().count() as u32,
                "line ends with a carriage return (CRLF line endings): iptables-restore refuses them; convert the file with dos2unix",
            );
            return;
        }
        if self.current.is_some() && line == "COMMIT" {
            self.current = None;
            return;
        }
        if let Some(rest) = line.strip_prefix('*') {
            if let Some(open) = &self.current {
                let msg = format!(
                    "COMMIT expected before a new table: `*{}' (line {}) is still open",
                    open.kind, open.line
                );
                self.error(line, n, 1, msg);
                return;
            }
            return self.table_line(line, rest, n);
        }
        if self.current.is_none() {
            let what = if line.trim_end() == "COMMIT" {
                "COMMIT outside a table"
            } else {
                "expected a table header such as `*filter' before this line"
            };
            self.error(line, n, 1, what);
            return;
        }
        if let Some(rest) = line.strip_prefix(':') {
            return self.chain_line(line, rest, n);
        }
        self.command_line(line, n);
    }

    fn table_line(&mut self, line: &str, rest: &str, n: u32) {
        let Some(name) = rest.split([' ', '\t']).find(|s| !s.is_empty()) else {
            self.error(line, n, 2, "no table name after `*'");
            return;
        };
        let Some(kind) = TableKind::from_name(name) else {
            let msg =
                format!("unknown table `{name}' (expected filter, nat, mangle, raw or security)");
            self.error(line, n, 2, msg);
            return;
        };
        // iptables-restore flushes the table: a second block replaces the first. The table
        // itself comes into being with its first chain line or command (`table()`): an empty
        // block creates nothing in iptables-nft.
        self.ruleset.tables.retain(|t| t.kind != kind);
        self.current = Some(OpenTable { kind, line: n });
        if self.opts.backend == Backend::Legacy {
            // iptables-legacy instantiates the table even for an empty block.
            self.table();
        }
    }

    fn chain_line(&mut self, line: &str, rest: &str, n: u32) {
        let words: Vec<(u32, &str)> = words_with_cols(rest, 2);
        let Some(&(_, name)) = words.first() else {
            self.error(line, n, 2, "no chain name after `:'");
            return;
        };
        let Some(&(pcol, policy)) = words.get(1) else {
            self.error(
                line,
                n,
                2,
                "chain line needs a policy: ACCEPT or DROP for a built-in chain, `-' for a user chain",
            );
            return;
        };
        let counters = match words.get(2) {
            None => Counters::ZERO,
            Some(&(ccol, text)) => match parse_counters(text) {
                Some(c) => c,
                None => {
                    let msg = format!("bad counters `{text}' (expected [packets:bytes])");
                    self.error(line, n, ccol, msg);
                    return;
                }
            },
        };
        if name.len() > MAX_CHAIN_NAME {
            let msg = format!("invalid chain name `{name}' ({MAX_CHAIN_NAME} characters at most)");
            self.error(line, n, 2, msg);
            return;
        }
        let backend = self.opts.backend;
        let table_kind = self.table().kind;
        let hook = Hook::from_chain_name(name).filter(|&h| table_kind.has_hook(h));
        // A hook name the table lacks (`:PREROUTING` in filter): iptables-legacy refuses it;
        // iptables-nft makes it a user chain and ignores the policy (measured).
        if hook.is_none() && Hook::from_chain_name(name).is_some() && backend == Backend::Legacy {
            let msg = format!("the {table_kind} table has no built-in chain {name}");
            self.error(line, n, 2, msg);
            return;
        }
        match hook {
            Some(_) => {
                let policy = match policy {
                    "ACCEPT" => Some(Policy::Accept),
                    "DROP" => Some(Policy::Drop),
                    // `-` keeps the current policy (both variants accept it).
                    "-" => None,
                    other => {
                        let msg = format!(
                            "bad policy `{other}' for built-in chain {name} (expected ACCEPT or DROP)"
                        );
                        self.error(line, n, pcol, msg);
                        return;
                    }
                };
                let table = self.table();
                if let Some(i) = table.chain_index(name) {
                    let c = &mut table.chains_mut()[i];
                    if let Some(p) = policy {
                        c.policy = p;
                    }
                    c.counters = counters;
                    c.pos = Pos { line: n, col: 1 };
                }
            }
            None => {
                if policy != "-" && backend == Backend::Legacy {
                    let msg = format!(
                        "can't set policy `{policy}' on user-defined chain {name} (write `-')"
                    );
                    self.error(line, n, pcol, msg);
                    return;
                }
                if let Some(msg) = bad_user_chain_name(name) {
                    self.error(line, n, 2, msg);
                    return;
                }
                let exists = self.table().chain(name).is_some();
                if exists {
                    // iptables-nft accepts a repeated declaration; legacy refuses it.
                    if backend == Backend::Legacy {
                        let msg = format!("chain {name} is declared twice");
                        self.error(line, n, 2, msg);
                    }
                    return;
                }
                let mut chain = Chain::user(name);
                chain.pos = Pos { line: n, col: 1 };
                self.table().add_chain(chain);
            }
        }
    }

    fn command_line(&mut self, line: &str, n: u32) {
        // tokenize_rule_counters: `[packets:bytes]` before the command.
        let (counters, rest, rest_col) = if line.starts_with('[') {
            let Some(end) = line.find(']') else {
                self.error(line, n, 1, "bad counters: `[' without `]'");
                return;
            };
            match parse_counters(&line[..=end]) {
                Some(c) => (c, &line[end + 1..], end as u32 + 2),
                None => {
                    self.error(line, n, 1, "bad counters (expected [packets:bytes])");
                    return;
                }
            }
        } else {
            (Counters::ZERO, line, 1)
        };
        let args = match split_args(rest, rest_col) {
            Ok(a) => a,
            Err(e) => {
                self.error(line, n, e.col, e.message);
                return;
            }
        };
        let Some(cmd) = args.first() else {
            self.error(line, n, 1, "no command specified (a line of only blanks)");
            return;
        };
        let command = match cmd.text.as_str() {
            "-A" | "--append" => Cmd::Append,
            "-I" | "--insert" => Cmd::Insert,
            "-D" | "--delete" => Cmd::Delete,
            "-R" | "--replace" => Cmd::Replace,
            "-N" | "--new-chain" | "--new" => Cmd::NewChain,
            "-X" | "--delete-chain" => Cmd::DeleteChain,
            "-F" | "--flush" => Cmd::Flush,
            "-Z" | "--zero" => Cmd::Zero,
            "-P" | "--policy" => Cmd::Policy,
            "-E" | "--rename-chain" => Cmd::Rename,
            "-t" | "--table" => {
                self.error(
                    line,
                    n,
                    cmd.col,
                    "the -t option cannot be used in iptables-restore files (use a `*table' line)",
                );
                return;
            }
            other => {
                let msg = format!(
                    "no command specified: expected -A, -I, -D, -R, -N, -X, -F, -Z, -P or -E first, found `{other}'"
                );
                self.error(line, n, cmd.col, msg);
                return;
            }
        };
        if let Err((col, msg)) = self.command(command, &args[1..], counters, cmd.col, n) {
            self.error(line, n, col, msg);
        }
    }

    fn command(
        &mut self,
        cmd: Cmd,
        args: &[Token],
        counters: Counters,
        cmd_col: u32,
        line_no: u32,
    ) -> Result<(), (u32, String)> {
        let chain_arg = |i: usize| -> Result<(&str, u32), (u32, String)> {
            args.get(i)
                .map(|t| (t.text.as_str(), t.col))
                .ok_or((cmd_col, "this command needs a chain name".to_string()))
        };
        let family = self.opts.family;
        let backend = self.opts.backend;
        let kind = self.table().kind;
        let find = |me: &mut FileParser, name: &str, col: u32| -> Result<usize, (u32, String)> {
            me.table().chain_index(name).ok_or((
                col,
                format!("chain `{name}' does not exist in the {kind} table"),
            ))
        };
        let chain_name = args.first().map_or("", |t| t.text.as_str());
        let rule_at = |me: &mut FileParser, rest: &[Token]| {
            let input = RuleInput {
                args: rest,
                family,
                backend,
                table: kind,
                counters,
                line: line_no,
            };
            let rule = parse_rule(&input).map_err(|e| (e.col, e.message))?;
            check_direction(chain_name, &rule, rest)?;
            me.check_target_chain(&rule, rest)?;
            Ok::<Rule, (u32, String)>(rule)
        };
        match cmd {
            Cmd::Append => {
                let (name, col) = chain_arg(0)?;
                let ci = find(self, name, col)?;
                let rule = rule_at(self, &args[1..])?;
                self.table().chains_mut()[ci].rules.push(rule);
            }
            Cmd::Insert => {
                let (name, col) = chain_arg(0)?;
                let ci = find(self, name, col)?;
                let (num, rest) = rule_number(&args[1..]);
                let num = num.unwrap_or(1);
                let len = self.table().chains_mut()[ci].rules.len();
                if num == 0 || num > len + 1 {
                    return Err((
                        col,
                        format!("index of insertion too big: {num} (chain {name} has {len} rules)"),
                    ));
                }
                let rule = rule_at(self, rest)?;
                self.table().chains_mut()[ci].rules.insert(num - 1, rule);
            }
            Cmd::Replace if backend == Backend::Nft => {
                // Every rule of a restored table comes from this restore (it was flushed),
                // and iptables-nft-restore 1.8.9 crashes replacing such a rule (SIGSEGV,
                // measured): no nft restore file with -R loads.
                return Err((
                    cmd_col,
                    "iptables-nft-restore 1.8.9 crashes on -R (a rule it added in the same restore); use -D and -I, or --backend legacy".to_string(),
                ));
            }
            Cmd::Replace | Cmd::Delete => {
                let (name, col) = chain_arg(0)?;
                let ci = find(self, name, col)?;
                let (num, rest) = rule_number(&args[1..]);
                let len = self.table().chains_mut()[ci].rules.len();
                let index = match num {
                    Some(k) if k >= 1 && k <= len => k - 1,
                    Some(k) => {
                        return Err((
                            col,
                            format!(
                                "index of {} too big: {k} (chain {name} has {len} rules)",
                                if cmd == Cmd::Delete {
                                    "deletion"
                                } else {
                                    "replacement"
                                }
                            ),
                        ))
                    }
                    None if cmd == Cmd::Replace => {
                        return Err((col, "-R needs a rule number".to_string()))
                    }
                    None => {
                        // Delete by specification: the first rule that reads the same.
                        let spec = rule_at(self, rest)?;
                        let rules = &self.table().chains_mut()[ci].rules;
                        rules
                            .iter()
                            .position(|r| {
                                r.ip == spec.ip
                                    && r.matches
                                        .iter()
                                        .map(|m| &m.ext)
                                        .eq(spec.matches.iter().map(|m| &m.ext))
                                    && r.target == spec.target
                            })
                            .ok_or((
                                col,
                                format!("bad rule (does a matching rule exist in chain {name}?)"),
                            ))?
                    }
                };
                if cmd == Cmd::Delete {
                    if num.is_some() && !rest.is_empty() {
                        return Err((
                            rest[0].col,
                            "-D with a rule number takes nothing after it".to_string(),
                        ));
                    }
                    self.table().chains_mut()[ci].rules.remove(index);
                } else {
                    let rule = rule_at(self, rest)?;
                    self.table().chains_mut()[ci].rules[index] = rule;
                }
            }
            Cmd::NewChain => {
                let (name, col) = chain_arg(0)?;
                if let Some(msg) = bad_user_chain_name(name) {
                    return Err((col, msg));
                }
                if self.table().chain(name).is_some() {
                    return Err((col, format!("chain `{name}' already exists")));
                }
                let mut chain = Chain::user(name);
                chain.pos = Pos {
                    line: line_no,
                    col: 1,
                };
                self.table().add_chain(chain);
            }
            Cmd::DeleteChain => match args.first() {
                Some(t) => {
                    let ci = find(self, &t.text, t.col)?;
                    let table = self.table();
                    let c = &table.chains()[ci];
                    if c.is_builtin() {
                        return Err((t.col, format!("cannot delete built-in chain {}", t.text)));
                    }
                    if !c.rules.is_empty() || table.references(&t.text) > 0 {
                        return Err((
                            t.col,
                            format!("chain {} is not empty or still referenced", t.text),
                        ));
                    }
                    table.retain_chains(|c| c.name != t.text);
                }
                None => {
                    let table = self.table();
                    let from_builtin = table
                        .chains()
                        .iter()
                        .filter(|c| c.is_builtin())
                        .flat_map(|c| &c.rules)
                        .any(|r| r.target.chain().is_some());
                    if from_builtin {
                        return Err((
                            cmd_col,
                            "-X: a user chain is still referenced from a built-in chain"
                                .to_string(),
                        ));
                    }
                    table.retain_chains(|c| c.is_builtin());
                }
            },
            Cmd::Flush | Cmd::Zero => {
                let zero = cmd == Cmd::Zero;
                let range = match args.first() {
                    Some(t) => {
                        let ci = find(self, &t.text, t.col)?;
                        ci..ci + 1
                    }
                    None => 0..self.table().chains().len(),
                };
                for c in &mut self.table().chains_mut()[range] {
                    if zero {
                        c.counters = Counters::ZERO;
                        c.rules.iter_mut().for_each(|r| r.counters = Counters::ZERO);
                    } else {
                        c.rules.clear();
                    }
                }
            }
            Cmd::Policy => {
                let (name, col) = chain_arg(0)?;
                let (policy, pcol) = chain_arg(1)?;
                let ci = find(self, name, col)?;
                let table = self.table();
                if !table.chains()[ci].is_builtin() {
                    return Err((
                        col,
                        format!("can't set policy on user-defined chain {name}"),
                    ));
                }
                // Setting a policy resets the chain's counters (both variants, measured).
                table.chains_mut()[ci].counters = Counters::ZERO;
                table.chains_mut()[ci].policy = match policy {
                    "ACCEPT" => Policy::Accept,
                    "DROP" => Policy::Drop,
                    other => {
                        return Err((
                            pcol,
                            format!("bad policy `{other}' (expected ACCEPT or DROP)"),
                        ))
                    }
                };
            }
            Cmd::Rename => {
                if backend == Backend::Nft {
                    // The table was flushed by this restore, so every chain was created in
                    // this batch, and iptables-nft-restore cannot rename such a chain
                    // ("CHAIN_RENAME failed (No such file or directory)", measured).
                    return Err((
                        cmd_col,
                        "iptables-nft-restore cannot rename a chain created by the same restore (use --backend legacy for a file meant for iptables-legacy)".to_string(),
                    ));
                }
                let (old, col) = chain_arg(0)?;
                let (new, ncol) = chain_arg(1)?;
                let ci = find(self, old, col)?;
                if let Some(msg) = bad_user_chain_name(new) {
                    return Err((ncol, msg));
                }
                let table = self.table();
                if table.chains()[ci].is_builtin() {
                    return Err((col, format!("cannot rename built-in chain {old}")));
                }
                if table.chain(new).is_some() {
                    return Err((ncol, format!("chain `{new}' already exists")));
                }
                table.rename_chain(ci, new);
            }
        }
        Ok(())
    }

    /// A jump or goto must name a user chain that already exists (iptables-nft: "Chain 'X'
    /// does not exist"; legacy: "Couldn't load target `X'").
    fn check_target_chain(&mut self, rule: &Rule, args: &[Token]) -> Result<(), (u32, String)> {
        let Some(name) = rule.target.chain() else {
            return Ok(());
        };
        let col = args
            .iter()
            .position(|t| {
                t.text == "-j" || t.text == "-g" || t.text == "--jump" || t.text == "--goto"
            })
            .and_then(|i| args.get(i + 1))
            .map_or(1, |t| t.col);
        match self.table().chain(name) {
            Some(c) if c.is_builtin() => Err((col, format!("cannot jump to built-in chain {name}"))),
            Some(_) => Ok(()),
            None => Err((col, format!("chain `{name}' does not exist (no such target extension either; chains must be declared before a rule jumps to them)"))),
        }
    }
}

/// iptables refuses `-o` in chains named PREROUTING or INPUT and `-i` in OUTPUT or
/// POSTROUTING (by name, in any table: `do_parse` in xshared.c), since such packets have no
/// output (or input) interface yet.
fn check_direction(chain: &str, rule: &Rule, args: &[Token]) -> Result<(), (u32, String)> {
    let (flag, long, set) = match chain {
        "PREROUTING" | "INPUT" => ("-o", "--out-interface", rule.ip.out_iface.is_some()),
        "OUTPUT" | "POSTROUTING" => ("-i", "--in-interface", rule.ip.in_iface.is_some()),
        _ => return Ok(()),
    };
    if !set {
        return Ok(());
    }
    let col = args
        .iter()
        .find(|t| t.text == flag || t.text == long || t.text.starts_with(flag))
        .map_or(1, |t| t.col);
    Err((
        col,
        format!(
            "can't use {flag} with {chain}: those packets have no {} interface",
            if flag == "-o" { "output" } else { "input" }
        ),
    ))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    Append,
    Insert,
    Delete,
    Replace,
    NewChain,
    DeleteChain,
    Flush,
    Zero,
    Policy,
    Rename,
}

/// `-I CHAIN 3 ...`: a leading rule number, if there is one.
fn rule_number(args: &[Token]) -> (Option<usize>, &[Token]) {
    match args.first() {
        Some(t) if !t.text.is_empty() && t.text.bytes().all(|b| b.is_ascii_digit()) => {
            (t.text.parse().ok(), &args[1..])
        }
        _ => (None, args),
    }
}

/// What iptables refuses in a new chain's name.
fn bad_user_chain_name(name: &str) -> Option<String> {
    if name.len() > MAX_CHAIN_NAME {
        return Some(format!(
            "invalid chain name `{name}' ({MAX_CHAIN_NAME} characters at most)"
        ));
    }
    if name.starts_with('-') || name.starts_with('!') {
        return Some(format!(
            "invalid chain name `{name}': it may not start with `-' or `!'"
        ));
    }
    if matches!(name, "ACCEPT" | "DROP" | "RETURN" | "QUEUE") {
        return Some(format!("chain name `{name}' is reserved for a verdict"));
    }
    None
}

/// `[packets:bytes]`.
fn parse_counters(text: &str) -> Option<Counters> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    let (p, b) = inner.split_once(':')?;
    Some(Counters::new(p.parse().ok()?, b.parse().ok()?))
}

/// Whitespace-separated words (strtok over " \t") with their 1-based columns.
fn words_with_cols(s: &str, first_col: u32) -> Vec<(u32, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c == ' ' || c == '\t' {
            if let Some(st) = start.take() {
                out.push((first_col + st as u32, &s[st..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push((first_col + st as u32, &s[st..]));
    }
    out
}

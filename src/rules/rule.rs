//! One rule's arguments → a [`Rule`], the way iptables' `do_parse` (xshared.c) reads them.
//!
//! The rule parser mirrors getopt over iptables' merged option table:
//! - the base options (`-s -d -i -o -p -f -j -g -m -c` and their long forms) come first;
//! - `-m NAME` loads a match; `-j NAME` a target (or names a chain);
//! - an option `--x` belongs to the newest loaded extension that declares it (the target
//!   counts as loaded from its `-j`); loading an extension again "completes" the earlier
//!   instance of the same extension, as `xtables_find_match` does;
//! - an option nobody declares loads the match named after `-p` once (the implicit
//!   `-p udp --dport 53`), then is tried again;
//! - long options may be abbreviated to a unique prefix, as getopt_long allows.

use super::addr::{Iface, Net};
use super::ext::{self, Arity, ExtError, MatchInfo, Opt, OptArg, ParseCtx, TargetInfo};
use super::lex::Token;
use super::model::{
    Backend, Counters, Family, IpHeaderMatch, Match, Neg, Pos, Proto, Rule, TableKind, Target,
};
use super::names::Names;

/// A problem in a rule, pointing at a column of its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub col: u32,
    pub message: String,
}

fn err<T>(col: u32, message: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError {
        col,
        message: message.into(),
    })
}

/// The base options, by canonical letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    Source,
    Destination,
    InIface,
    OutIface,
    Protocol,
    Fragment,
    Jump,
    Goto,
    Match,
    Counters,
}

const BASE_LONG: &[(&str, Base)] = &[
    ("source", Base::Source),
    ("src", Base::Source),
    ("destination", Base::Destination),
    ("dst", Base::Destination),
    ("in-interface", Base::InIface),
    ("out-interface", Base::OutIface),
    ("protocol", Base::Protocol),
    ("fragment", Base::Fragment),
    ("jump", Base::Jump),
    ("goto", Base::Goto),
    ("match", Base::Match),
    ("set-counters", Base::Counters),
];

fn base_short(c: char) -> Option<Base> {
    Some(match c {
        's' => Base::Source,
        'd' => Base::Destination,
        'i' => Base::InIface,
        'o' => Base::OutIface,
        'p' => Base::Protocol,
        'f' => Base::Fragment,
        'j' => Base::Jump,
        'g' => Base::Goto,
        'm' => Base::Match,
        'c' => Base::Counters,
        _ => return None,
    })
}

/// A loaded extension and the options collected for it so far.
struct Loaded {
    kind: LoadedKind,
    opts: Vec<OptArg>,
    /// A later `-m` of the same name took over its options.
    completed: bool,
    /// Column of its `-m` (or of the option that loaded it implicitly).
    col: u32,
}

/// What a long option word turned out to be.
enum Long {
    Base(Base),
    Ext(usize, &'static Opt),
    Unknown,
}

enum LoadedKind {
    Match(&'static MatchInfo),
    Target(&'static TargetInfo),
}

impl Loaded {
    fn options(&self) -> &'static [Opt] {
        match self.kind {
            LoadedKind::Match(m) => m.options,
            LoadedKind::Target(t) => t.options,
        }
    }
}

/// The rule's arguments after the command and chain, plus what the rule needs to know.
pub struct RuleInput<'a> {
    pub args: &'a [Token],
    pub family: Family,
    pub backend: Backend,
    pub table: TableKind,
    pub counters: Counters,
    pub line: u32,
}

struct Parser<'a> {
    input: &'a RuleInput<'a>,
    ip: IpHeaderMatch,
    /// Matches and (at most one) target, in load order.
    loaded: Vec<Loaded>,
    target_name: Option<(String, bool, u32)>, // (name, is_goto, col)
    counters: Counters,
    counters_seen: bool,
    /// The `-p` text, for the implicit protocol match.
    proto_name: Option<String>,
    proto_used: bool,
}

/// Parses one rule. `args` are the words after `-A CHAIN` (or `-I CHAIN [N]` ...).
pub fn parse_rule(input: &RuleInput) -> Result<Rule, RuleError> {
    let mut p = Parser {
        input,
        ip: IpHeaderMatch::default(),
        loaded: Vec::new(),
        target_name: None,
        counters: input.counters,
        counters_seen: false,
        proto_name: None,
        proto_used: false,
    };
    p.run()?;
    p.finish()
}

impl<'a> Parser<'a> {
    fn run(&mut self) -> Result<(), RuleError> {
        let args = self.input.args;
        let mut i = 0;
        let mut invert: Option<u32> = None; // column of a pending `!`
        while i < args.len() {
            let tok = &args[i];
            let word = tok.text.as_str();
            if word == "!" && !tok.quoted {
                if invert.is_some() {
                    return err(tok.col, "multiple `!' flags are not allowed");
                }
                invert = Some(tok.col);
                i += 1;
                continue;
            }
            let inv = invert.take().is_some();
            if let Some(long) = word.strip_prefix("--") {
                let (name, attached) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                i = match self.resolve_long(name, tok.col)? {
                    Long::Base(base) => self.base(base, inv, tok, attached, i)?,
                    Long::Ext(idx, opt) => self.ext_option(idx, opt, inv, tok, attached, i)?,
                    Long::Unknown => self.unknown_option(name, inv, tok, attached, i)?,
                };
            } else if let Some(short) = word.strip_prefix('-') {
                let mut chars = short.chars();
                let Some(c) = chars.next() else {
                    return err(tok.col, "a lone `-' is not an option");
                };
                let rest = chars.as_str();
                match base_short(c) {
                    Some(base) => {
                        let attached = (!rest.is_empty()).then_some(rest);
                        i = self.base(base, inv, tok, attached, i)?;
                    }
                    None if "AIDRNXFPZELSt".contains(c) => {
                        return err(
                            tok.col,
                            format!("`{word}' is a command: only one command per line"),
                        );
                    }
                    None => return err(tok.col, format!("unknown option `{word}'")),
                }
            } else if word == "!" {
                // A quoted "!" is text, and iptables refuses a stray argument.
                return err(tok.col, "stray argument `!' (quoted)");
            } else {
                return err(
                    tok.col,
                    format!("unexpected argument `{word}' (not an option, nor an option's value)"),
                );
            }
        }
        if let Some(col) = invert {
            return err(col, "`!' must be followed by an option it negates");
        }
        Ok(())
    }

    /// getopt_long's view of `--name`: an exact base option, else an exact extension option,
    /// else the one option it abbreviates.
    fn resolve_long(&self, name: &str, col: u32) -> Result<Long, RuleError> {
        if let Some((_, b)) = BASE_LONG.iter().find(|(n, _)| *n == name) {
            return Ok(Long::Base(*b));
        }
        if let Some((idx, opt)) = self.find_ext_exact(name) {
            return Ok(Long::Ext(idx, opt));
        }
        let mut bases: Vec<Base> = BASE_LONG
            .iter()
            .filter(|(n, _)| n.starts_with(name))
            .map(|(_, b)| *b)
            .collect();
        bases.dedup();
        let exts = self.ext_prefix(name);
        match (bases.as_slice(), exts.as_slice()) {
            ([], []) => Ok(Long::Unknown),
            ([b], []) => Ok(Long::Base(*b)),
            ([], [(idx, opt)]) => Ok(Long::Ext(*idx, opt)),
            _ => err(col, format!("option `--{name}' is ambiguous")),
        }
    }

    /// Reads the argument of an option: attached (`-s1.2.3.4`, `--src=x`) or the next word.
    fn value<'t>(
        &self,
        tok: &'t Token,
        attached: Option<&'t str>,
        i: &mut usize,
    ) -> Result<(&'t str, u32), RuleError>
    where
        'a: 't,
    {
        if let Some(v) = attached {
            return Ok((v, tok.col));
        }
        let args: &'t [Token] = self.input.args;
        match args.get(*i + 1) {
            Some(next) => {
                *i += 1;
                Ok((next.text.as_str(), next.col))
            }
            None => err(
                tok.col,
                format!("option `{}' requires an argument", tok.text),
            ),
        }
    }

    fn base(
        &mut self,
        base: Base,
        inv: bool,
        tok: &Token,
        attached: Option<&str>,
        mut i: usize,
    ) -> Result<usize, RuleError> {
        let v6 = self.input.family == Family::Ipv6;
        let dup =
            |what: &str| err::<usize>(tok.col, format!("multiple {what} flags are not allowed"));
        match base {
            Base::Source | Base::Destination => {
                let (text, col) = self.value(tok, attached, &mut i)?;
                check_intrapositioned(text, col)?;
                let net = Net::parse(text, v6).map_err(|m| RuleError { col, message: m })?;
                if inv && net.is_any() && self.input.backend == Backend::Nft {
                    // The kernel answers EINVAL for a negated zero-length prefix in nf_tables
                    // (measured; iptables-legacy accepts it).
                    return err(
                        col,
                        format!(
                            "iptables-nft refuses `! {} {text}': a negated /0 never matches",
                            tok.text
                        ),
                    );
                }
                let slot = if base == Base::Source {
                    &mut self.ip.src
                } else {
                    &mut self.ip.dst
                };
                if slot.is_some() {
                    return dup(if base == Base::Source { "-s" } else { "-d" });
                }
                *slot = Some(Neg::new(inv, net));
            }
            Base::InIface | Base::OutIface => {
                let (text, col) = self.value(tok, attached, &mut i)?;
                check_intrapositioned(text, col)?;
                let iface = Iface::parse(text).map_err(|m| RuleError { col, message: m })?;
                let slot = if base == Base::InIface {
                    &mut self.ip.in_iface
                } else {
                    &mut self.ip.out_iface
                };
                if slot.is_some() {
                    return dup(if base == Base::InIface { "-i" } else { "-o" });
                }
                *slot = Some(Neg::new(inv, iface));
            }
            Base::Protocol => {
                let (text, col) = self.value(tok, attached, &mut i)?;
                check_intrapositioned(text, col)?;
                if self.ip.proto.is_some() {
                    return dup("-p");
                }
                let proto = parse_protocol(text, Names::system()).ok_or_else(|| RuleError {
                    col,
                    message: format!("unknown protocol `{text}' specified"),
                })?;
                if inv && proto == Proto::ALL {
                    return err(col, "rule would never match protocol");
                }
                self.ip.proto = Some(Neg::new(inv, proto));
                self.proto_name = Some(text.to_ascii_lowercase());
            }
            Base::Fragment => {
                if v6 {
                    return err(tok.col, "-f is not available in ip6tables (use -m frag)");
                }
                if attached.is_some() {
                    return err(tok.col, "-f takes no argument");
                }
                if self.ip.fragment.is_some() {
                    return dup("-f");
                }
                self.ip.fragment = Some(Neg::new(inv, ()));
            }
            Base::Jump | Base::Goto => {
                if inv {
                    return err(tok.col, "cannot have ! before -j or -g");
                }
                let (text, col) = self.value(tok, attached, &mut i)?;
                if self.target_name.is_some() {
                    return err(tok.col, "multiple -j/-g flags are not allowed");
                }
                let is_goto = base == Base::Goto;
                self.target_name = Some((text.to_string(), is_goto, col));
                if !is_goto {
                    if let Some(why) = ext::removed_target(text) {
                        return err(col, format!("target `{text}' does not exist: {why}"));
                    }
                    if let Some(t) = ext::find_target(text)
                        .filter(|t| ext::family_has(t.name, self.input.family))
                    {
                        self.loaded.push(Loaded {
                            kind: LoadedKind::Target(t),
                            opts: Vec::new(),
                            completed: false,
                            col,
                        });
                    }
                }
            }
            Base::Match => {
                if inv {
                    return err(tok.col, "unexpected ! flag before --match");
                }
                let (name, col) = self.value(tok, attached, &mut i)?;
                let found =
                    ext::find_match(name).filter(|m| ext::family_has(m.name, self.input.family));
                let Some(m) = found else {
                    return err(
                        col,
                        format!("Couldn't load match `{name}': no such match extension"),
                    );
                };
                for l in &mut self.loaded {
                    if matches!(l.kind, LoadedKind::Match(x) if x.name == m.name) {
                        l.completed = true;
                    }
                }
                self.loaded.push(Loaded {
                    kind: LoadedKind::Match(m),
                    opts: Vec::new(),
                    completed: false,
                    col,
                });
            }
            Base::Counters => {
                if self.counters_seen {
                    return dup("-c");
                }
                let (p, pcol) = self.value(tok, attached, &mut i)?;
                let b = self.input.args.get(i + 1).ok_or_else(|| RuleError {
                    col: tok.col,
                    message: "-c needs two values: packets and bytes".into(),
                })?;
                i += 1;
                let packets = p.parse::<u64>().map_err(|_| RuleError {
                    col: pcol,
                    message: format!("packet counter `{p}' is not a number"),
                })?;
                let bytes = b.text.parse::<u64>().map_err(|_| RuleError {
                    col: b.col,
                    message: format!("byte counter `{}' is not a number", b.text),
                })?;
                self.counters = Counters::new(packets, bytes);
                self.counters_seen = true;
            }
        }
        Ok(i + 1)
    }

    /// The newest non-completed extension declaring exactly `name`.
    fn find_ext_exact(&self, name: &str) -> Option<(usize, &'static Opt)> {
        self.loaded
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, l)| !l.completed)
            .find_map(|(idx, l)| {
                l.options()
                    .iter()
                    .find(|o| o.answers_to(name))
                    .map(|o| (idx, o))
            })
    }

    /// Extensions declaring an option that `name` abbreviates.
    fn ext_prefix(&self, name: &str) -> Vec<(usize, &'static Opt)> {
        let mut found: Vec<(usize, &'static Opt)> = Vec::new();
        for (idx, l) in self.loaded.iter().enumerate().rev() {
            if l.completed {
                continue;
            }
            for o in l.options() {
                let hit = std::iter::once(o.name)
                    .chain(o.aliases.iter().copied())
                    .any(|n| n.starts_with(name));
                if hit && !found.iter().any(|(_, f)| f.name == o.name) {
                    found.push((idx, o));
                }
            }
        }
        found
    }

    /// An option no loaded extension declares: load the `-p` protocol's match once and try
    /// again (command_default → load_proto), else refuse it.
    fn unknown_option(
        &mut self,
        name: &str,
        inv: bool,
        tok: &Token,
        attached: Option<&str>,
        i: usize,
    ) -> Result<usize, RuleError> {
        if !self.proto_used {
            if let Some(m) = self
                .proto_name
                .as_deref()
                .and_then(|p| implicit_proto_match(p, self.input.family))
            {
                self.proto_used = true;
                self.loaded.push(Loaded {
                    kind: LoadedKind::Match(m),
                    opts: Vec::new(),
                    completed: false,
                    col: tok.col,
                });
                return match self.resolve_long(name, tok.col)? {
                    Long::Ext(idx, opt) => self.ext_option(idx, opt, inv, tok, attached, i),
                    _ => self.unknown_option(name, inv, tok, attached, i),
                };
            }
        }
        let hint = ext::MATCHES
            .iter()
            .find(|m| m.options.iter().any(|o| o.answers_to(name)))
            .map(|m| format!(" (it belongs to `-m {}')", m.name))
            .or_else(|| {
                ext::TARGETS
                    .iter()
                    .find(|t| t.options.iter().any(|o| o.answers_to(name)))
                    .map(|t| format!(" (it belongs to `-j {}')", t.name))
            })
            .unwrap_or_default();
        err(tok.col, format!("unknown option \"--{name}\"{hint}"))
    }

    fn ext_option(
        &mut self,
        idx: usize,
        opt: &'static Opt,
        inv: bool,
        tok: &Token,
        attached: Option<&str>,
        mut i: usize,
    ) -> Result<usize, RuleError> {
        if inv && !opt.invert {
            return err(
                tok.col,
                format!("--{} cannot be negated with `!'", opt.name),
            );
        }
        let mut args = Vec::new();
        let mut arg_cols = Vec::new();
        let wanted = match opt.arity {
            Arity::Zero => 0,
            Arity::One => 1,
            Arity::Two => 2,
            Arity::Optional => 0,
        };
        if let Some(v) = attached {
            if opt.arity == Arity::Zero {
                return err(
                    tok.col,
                    format!("option `--{}' takes no argument", opt.name),
                );
            }
            args.push(v.to_string());
            arg_cols.push(tok.col);
        }
        while args.len() < wanted {
            match self.input.args.get(i + 1) {
                Some(next) => {
                    if next.text == "!" && !next.quoted {
                        return err(
                            next.col,
                            "`!' must come before the option it negates (`! --opt value')",
                        );
                    }
                    args.push(next.text.clone());
                    arg_cols.push(next.col);
                    i += 1;
                }
                None => {
                    return err(
                        tok.col,
                        format!("option `--{}' requires {} argument(s)", opt.name, wanted),
                    )
                }
            }
        }
        self.loaded[idx].opts.push(OptArg {
            name: opt.name,
            invert: inv,
            args,
            col: tok.col,
            arg_cols,
        });
        Ok(i + 1)
    }

    fn finish(self) -> Result<Rule, RuleError> {
        let (proto, proto_inverted) = match &self.ip.proto {
            Some(p) => (p.value, p.invert),
            None => (Proto::ALL, false),
        };
        let ctx = ParseCtx {
            family: self.input.family,
            table: self.input.table,
            proto,
            proto_inverted,
        };
        let map = |col: u32| {
            move |e: ExtError| RuleError {
                col: e.col.unwrap_or(col),
                message: e.message,
            }
        };
        let mut matches = Vec::new();
        let mut target = None;
        for l in self.loaded {
            match l.kind {
                LoadedKind::Match(info) => {
                    let ext = (info.parse)(&l.opts, &ctx).map_err(map(l.col))?;
                    if let Some(p) = info.proto {
                        // iptables-nft turns tcp/udp matches into payload expressions and so
                        // accepts them after `! -p tcp` (measured); legacy's xt_check_match
                        // refuses any protocol but exactly `-p tcp`.
                        let nft_native = self.input.backend == Backend::Nft
                            && proto_inverted
                            && matches!(info.name, "tcp" | "udp");
                        if ctx.exact_proto() != Some(p) && !nft_native {
                            // xt_check_match: "%s match: only valid for protocol %u".
                            let pname = ext::util::proto_short_name(p).unwrap_or("?");
                            return err(
                                l.col,
                                format!(
                                    "the {} match needs `-p {pname}' (the kernel refuses it otherwise)",
                                    info.name
                                ),
                            );
                        }
                    }
                    matches.push(Match {
                        ext,
                        pos: Pos {
                            line: self.input.line,
                            col: l.col,
                        },
                    });
                }
                LoadedKind::Target(info) => {
                    target = Some(Target::Ext(
                        (info.parse)(&l.opts, &ctx).map_err(map(l.col))?,
                    ));
                }
            }
        }
        let target = match (target, self.target_name) {
            (Some(t), _) => t,
            (None, None) => Target::None,
            (None, Some((name, is_goto, col))) => standard_target(&name, is_goto, col)?,
        };
        Ok(Rule {
            counters: self.counters,
            ip: self.ip,
            matches,
            target,
            pos: Pos {
                line: self.input.line,
                col: 1,
            },
        })
    }
}

/// `-j ACCEPT`, `-j CHAIN`, `-g CHAIN`: verdicts and chains (checked to exist later).
fn standard_target(name: &str, is_goto: bool, col: u32) -> Result<Target, RuleError> {
    let verdict = match name {
        "ACCEPT" => Some(Target::Accept),
        "DROP" => Some(Target::Drop),
        "RETURN" => Some(Target::Return),
        "QUEUE" => Some(Target::Queue),
        _ => None,
    };
    match (verdict, is_goto) {
        (Some(_), true) => err(col, format!("-g needs a user-defined chain, not `{name}'")),
        (Some(v), false) => Ok(v),
        (None, _) if name.is_empty() => err(col, "empty target name"),
        (None, true) => Ok(Target::Goto(name.to_string())),
        (None, false) => Ok(Target::Jump(name.to_string())),
    }
}

/// iptables 1.4.3 dropped `-s ! addr`; 1.8 refuses it.
fn check_intrapositioned(text: &str, col: u32) -> Result<(), RuleError> {
    if text == "!" {
        return err(
            col,
            "`!' must come before the option it negates (`! -s addr', not `-s ! addr')",
        );
    }
    Ok(())
}

/// `-p` values: numbers, iptables' own short names, then the protocols file.
pub fn parse_protocol(text: &str, names: &Names) -> Option<Proto> {
    let lower = text.to_ascii_lowercase();
    if let Some(n) = ext::util::parse_uint(&lower, 255) {
        return Some(Proto(n as u8));
    }
    if lower == "icmpv6" {
        return Some(Proto::ICMPV6);
    }
    (0..=255u8)
        .find(|&n| ext::util::proto_short_name(n) == Some(lower.as_str()))
        .or_else(|| names.protocol_number(&lower))
        .map(Proto)
}

/// The match extension that `-p NAME` loads implicitly (iptables' `find_proto`).
fn implicit_proto_match(proto: &str, family: Family) -> Option<&'static MatchInfo> {
    let name = match proto {
        "6" => "tcp",
        "17" => "udp",
        "132" => "sctp",
        "1" => "icmp",
        "58" | "ipv6-icmp" | "icmpv6" => "icmp6",
        "33" => "dccp",
        "136" => "udplite",
        other => other,
    };
    ext::find_match(name).filter(|m| ext::family_has(m.name, family))
}

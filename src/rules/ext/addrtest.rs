//! Test support for the address, interface and socket matches: build an extension from option
//! text as the rule parser would hand it over, and check the kernel-verified tables in
//! `tests/ext/*.t` against `parse`, `save` and `hooks` until the shared rule parser's
//! runner takes over.
//!
//! The option splitting here is a small getopt over one extension's `OPTIONS` (the rule
//! parser proper does this for whole rules); the `.t` reader understands only rules made of
//! `-m NAME options...` sections, which is all these tables contain.

use std::path::Path;

use super::util::OptArg;
use super::{find_match, Arity, ExtError, Extension, MatchExt, Opt, ParseCtx, PrintCtx};
use crate::rules::lex::split_args;
use crate::rules::model::{Family, Hook, Proto, TableKind};
use crate::rules::names::Names;

/// Splits `text` into the options of an extension with option table `options`.
pub fn opts_for(options: &[Opt], text: &str) -> Result<Vec<OptArg>, String> {
    let tokens = split_args(text, 1).map_err(|e| e.message)?;
    let mut out = Vec::new();
    let mut invert = false;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        i += 1;
        if t.text == "!" && !t.quoted {
            invert = true;
            continue;
        }
        let name = t
            .text
            .strip_prefix("--")
            .ok_or_else(|| format!("not an option: {}", t.text))?;
        let opt = options
            .iter()
            .find(|o| o.answers_to(name))
            .ok_or_else(|| format!("unknown option --{name}"))?;
        if invert && !opt.invert {
            return Err(format!("option --{name} cannot be inverted"));
        }
        let wanted = match opt.arity {
            Arity::Zero => 0,
            Arity::One => 1,
            Arity::Two => 2,
            Arity::Optional => usize::from(
                tokens
                    .get(i)
                    .is_some_and(|n| !n.text.starts_with('-') && !n.text.starts_with('!')),
            ),
        };
        let args = tokens
            .get(i..i + wanted)
            .ok_or(format!("--{name} needs {wanted} arguments"))?;
        out.push(OptArg {
            name: opt.name,
            invert,
            args: args.iter().map(|a| a.text.clone()).collect(),
            col: t.col,
            arg_cols: args.iter().map(|a| a.col).collect(),
        });
        i += wanted;
        invert = false;
    }
    Ok(out)
}

pub fn ctx(family: Family, table: TableKind) -> ParseCtx {
    ParseCtx {
        family,
        table,
        proto: Proto::ALL,
        proto_inverted: false,
    }
}

/// `E` built from option text, in an IPv4 filter-table rule.
pub fn parse_with<E: Extension>(text: &str) -> Result<E, ExtError> {
    parse_in::<E>(text, &ctx(Family::Ipv4, TableKind::Filter))
}

pub fn parse_in<E: Extension>(text: &str, ctx: &ParseCtx) -> Result<E, ExtError> {
    let opts = opts_for(E::OPTIONS, text).map_err(ExtError::whole)?;
    E::parse(&opts, ctx)
}

fn print_ctx(numeric: bool, family: Family) -> PrintCtx<'static> {
    PrintCtx {
        numeric,
        family,
        proto: 0,
        names: Names::system(),
    }
}

/// Whether `e`'s hook mask lets it be reached from `hook`.
pub fn allows<E: Extension>(e: &E, hook: Hook) -> bool {
    e.hooks().map_or(true, |mask| mask & hook.bit() != 0)
}

pub fn save_of<E: Extension>(e: &E) -> String {
    let mut s = String::new();
    e.save(&mut s, &print_ctx(false, Family::Ipv4));
    s
}

pub fn list_of<E: Extension>(e: &E, numeric: bool) -> String {
    let mut s = String::new();
    e.list(&mut s, &print_ctx(numeric, Family::Ipv4));
    s
}

/// Parses a rule of `-m NAME options...` sections into its matches.
fn parse_rule(rule: &str, ctx: &ParseCtx) -> Result<Vec<MatchExt>, String> {
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut rest = rule.trim();
    while let Some(after) = rest.strip_prefix("-m ") {
        let (name, tail) = after.split_once(' ').unwrap_or((after, ""));
        let next = tail.find(" -m ").map_or(tail.len(), |p| p);
        sections.push((name.to_string(), tail[..next].to_string()));
        rest = tail[next..].trim_start();
    }
    if !rest.is_empty() {
        return Err(format!("the test reader only takes -m sections: {rest}"));
    }
    sections
        .iter()
        .map(|(name, text)| {
            let info = find_match(name).ok_or(format!("unknown match {name}"))?;
            let opts = opts_for(info.options, text)?;
            (info.parse)(&opts, ctx).map_err(|e| e.message)
        })
        .collect()
}

/// Checks every case of one table file; returns the disagreements.
fn check_table(path: &Path) -> Vec<String> {
    let family = if path.extension().is_some_and(|e| e == "t6") {
        Family::Ipv6
    } else {
        Family::Ipv4
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut table = TableKind::Filter;
    let mut chains: Vec<String> = vec!["INPUT".into(), "FORWARD".into(), "OUTPUT".into()];
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), n + 1);
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        if let Some(c) = line.strip_prefix(':') {
            chains = c.split(',').map(String::from).collect();
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            table = TableKind::from_name(t).unwrap_or(TableKind::Filter);
            continue;
        }
        let parts: Vec<&str> = line.rsplitn(3, ';').collect();
        let [verdict, expected, rule] = parts[..] else {
            bad.push(format!("{at}: not a case"));
            continue;
        };
        let expected = if expected == "=" { rule } else { expected };
        let parsed = parse_rule(rule, &ctx(family, table));
        for chain in &chains {
            let hook = Hook::from_chain_name(chain);
            let result = parsed.as_ref().map_err(Clone::clone).and_then(|ms| {
                for m in ms {
                    if hook.is_some_and(|h| m.hooks().is_some_and(|mask| mask & h.bit() == 0)) {
                        return Err(format!("{} is not valid in {chain}", m.name()));
                    }
                }
                let mut s = String::new();
                for m in ms {
                    s.push_str(" -m ");
                    s.push_str(m.name());
                    m.save(&mut s, &print_ctx(false, family));
                }
                Ok(s.trim_start().to_string())
            });
            match (verdict, result) {
                ("OK", Ok(saved)) if saved == expected => {}
                ("OK", Ok(saved)) => bad.push(format!("{at}: {chain}: saved `{saved}'")),
                ("OK", Err(e)) => bad.push(format!("{at}: {chain}: refused: {e}")),
                ("FAIL", Ok(saved)) => bad.push(format!("{at}: {chain}: accepted as `{saved}'")),
                ("FAIL", Err(_)) => {}
                _ => bad.push(format!("{at}: verdict must be OK or FAIL")),
            }
        }
    }
    bad
}

#[test]
fn kernel_verified_tables_agree() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ext");
    let names = [
        "addrtype.t",
        "addrtype.t6",
        "iprange.t",
        "iprange.t6",
        "mac.t",
        "set.t",
        "owner.t",
        "socket.t",
        "policy.t",
        "policy.t6",
        "physdev.t",
        "devgroup.t",
        "rpfilter.t",
    ];
    let mut bad = Vec::new();
    for name in names {
        let path = dir.join(name);
        assert!(path.exists(), "missing {}", path.display());
        bad.extend(check_table(&path));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

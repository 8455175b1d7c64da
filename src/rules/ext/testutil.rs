//! Test helpers for extension unit tests: build an extension from its options as written in a
//! rule (`--set-tos 0x10/0x3f`), the way the rule parser hands them over, and print it back.
//!
//! Only what the tests need: options are looked up in the extension's own `OPTIONS`, `!`
//! before an option inverts it, and arguments are taken by the option's arity.

use super::util::OptArg;
use super::{Arity, ExtError, Extension, Opt, ParseCtx, PrintCtx};
use crate::rules::lex::split_args;
use crate::rules::model::{Family, Proto, TableKind};
use crate::rules::names::Names;

/// A rule context: `family`, the mangle table, and `-p proto` (0: none), or `! -p proto`.
pub fn ctx(family: Family, proto: u8, proto_inverted: bool) -> ParseCtx {
    ParseCtx {
        family,
        table: TableKind::Mangle,
        proto: Proto(proto),
        proto_inverted,
    }
}

/// Splits `args` and groups the words into the extension's options.
pub fn opts_for<T: Extension>(args: &str) -> Result<Vec<OptArg>, ExtError> {
    group_words(T::OPTIONS, args)
}

/// Splits `args` and groups the words into `options`.
fn group_words(options: &[Opt], args: &str) -> Result<Vec<OptArg>, ExtError> {
    let words = split_args(args, 1).map_err(|e| ExtError::whole(e.message))?;
    let mut out = Vec::new();
    let mut i = 0;
    let mut invert = false;
    while i < words.len() {
        let w = &words[i];
        if w.text == "!" && !w.quoted {
            invert = true;
            i += 1;
            continue;
        }
        let name = w.text.strip_prefix("--").unwrap_or(&w.text);
        let opt = options
            .iter()
            .find(|o| o.answers_to(name))
            .ok_or_else(|| ExtError::whole(format!("unknown option \"{}\"", w.text)))?;
        if invert && !opt.invert {
            return Err(ExtError::whole(format!(
                "--{} cannot be inverted",
                opt.name
            )));
        }
        let n = match opt.arity {
            Arity::Zero => 0,
            Arity::One => 1,
            Arity::Two => 2,
            Arity::Optional => usize::from(
                words
                    .get(i + 1)
                    .is_some_and(|a| !a.text.starts_with('-') && a.text != "!"),
            ),
        };
        let args: Vec<_> = words[i + 1..].iter().take(n).collect();
        if args.len() < n {
            return Err(ExtError::whole(format!("--{} needs an argument", opt.name)));
        }
        out.push(OptArg {
            name: opt.name,
            invert,
            args: args.iter().map(|a| a.text.clone()).collect(),
            col: w.col,
            arg_cols: args.iter().map(|a| a.col).collect(),
        });
        invert = false;
        i += 1 + n;
    }
    Ok(out)
}

/// The extension built from `args` in `ctx`.
pub fn parse_in<T: Extension>(args: &str, ctx: ParseCtx) -> Result<T, ExtError> {
    T::parse(&opts_for::<T>(args)?, &ctx)
}

/// The extension built from `args` in an IPv4 rule without `-p`.
pub fn parse_target<T: Extension>(args: &str) -> Result<T, ExtError> {
    parse_in(args, ctx(Family::Ipv4, 0, false))
}

fn print_ctx(numeric: bool) -> PrintCtx<'static> {
    PrintCtx {
        numeric,
        family: Family::Ipv4,
        proto: 0,
        names: Names::system(),
    }
}

/// What `iptables-save` prints after `-j NAME`.
pub fn save<T: Extension>(t: &T) -> String {
    let mut out = String::new();
    t.save(&mut out, &print_ctx(false));
    out
}

/// What `iptables -L` (`numeric`: `-L -n`) prints after the destination column.
pub fn list<T: Extension>(t: &T, numeric: bool) -> String {
    let mut out = String::new();
    t.list(&mut out, &print_ctx(numeric));
    out
}

/// Runs the cases of `tests/ext/*.t` and `*.t6` whose target is one of `names` through the
/// registry: the target's options must parse and save as the file says, and a FAIL case must
/// be refused by the target's parse, its family, or its table and hook limits. (The rule
/// parser will run every case in full; this checks the target half until it exists.)
pub fn run_t_files(names: &[&str]) {
    use super::find_target;
    use crate::rules::model::Hook;

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ext");
    let mut seen = 0;
    for name in names {
        for (ext, family) in [("t", Family::Ipv4), ("t6", Family::Ipv6)] {
            let path = format!("{dir}/{name}.{ext}");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let (mut table, mut chains) = (TableKind::Filter, vec!["INPUT"]);
            for (n, line) in text.lines().enumerate() {
                let here = format!("{path}:{}", n + 1);
                if let Some(c) = line.strip_prefix(':') {
                    chains = c.split(',').collect();
                    continue;
                }
                if let Some(t) = line.strip_prefix('*') {
                    table = TableKind::from_name(t).expect("table name");
                    continue;
                }
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let mut fields = line.rsplitn(3, ';');
                let (ok, expected, rule) = (
                    fields.next() == Some("OK"),
                    fields.next().unwrap_or(""),
                    fields.next().unwrap_or(""),
                );
                let expected = if expected == "=" { rule } else { expected };
                // `[!] -p P` and `-j NAME OPTIONS`; matches in between are not ours.
                let (head, tail) = rule.split_once("-j ").expect("a -j in every case");
                let (proto, inverted) = match head.split_once("-p ") {
                    Some((before, p)) => {
                        let p = p.split_whitespace().next().unwrap_or("");
                        let num = match p {
                            "tcp" | "6" => 6,
                            "udp" | "17" => 17,
                            _ => panic!("{here}: protocol {p}"),
                        };
                        (num, before.trim_end().ends_with('!'))
                    }
                    None => (0, false),
                };
                let (target, args) = tail.split_once(' ').unwrap_or((tail, ""));
                seen += 1;
                let info = find_target(target).expect("a registered target");
                let mut c = ctx(family, proto, inverted);
                c.table = table;
                let parsed = group_words(info.options, args).and_then(|o| (info.parse)(&o, &c));
                let allowed = |v: &super::TargetExt| {
                    info.family.map_or(true, |f| f == family)
                        && info.tables.map_or(true, |t| t.contains(&table))
                        && chains.iter().all(|ch| {
                            let bit = Hook::from_chain_name(ch).expect("built-in chain").bit();
                            info.hooks.map_or(true, |m| m & bit != 0)
                                && v.hooks().map_or(true, |m| m & bit != 0)
                        })
                };
                match (ok, parsed) {
                    (true, Ok(v)) => {
                        assert!(allowed(&v), "{here}: refused by family/table/hook limits");
                        let mut out = String::new();
                        v.save(&mut out, &print_ctx(false));
                        let want = expected.split_once("-j ").map_or("", |x| x.1);
                        assert_eq!(format!("{target}{out}"), want, "{here}");
                    }
                    (true, Err(e)) => panic!("{here}: refused: {e:?}"),
                    (false, Ok(v)) => assert!(!allowed(&v), "{here}: accepted"),
                    (false, Err(_)) => {}
                }
            }
        }
    }
    assert!(seen > 0, "no cases found for {names:?}");
}

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

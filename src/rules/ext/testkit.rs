//! Test helpers for extensions (compiled for tests only).
//!
//! - [`check`] and friends hand one extension its options the way the rule parser does
//!   (canonical names, `!`, arity), then compare its save and `-L` output with what iptables
//!   printed;
//! - [`rule`] and [`assert_lists`] run a whole rule through the real rule parser and printers.
//!
//! Expected strings in tests must be copied from the real iptables, never invented.

use super::{Arity, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::model::{Family, Proto, TableKind, Target};
use crate::rules::names::Names;
use crate::rules::parse::{parse_ruleset, ParseOptions};
use crate::rules::save::save_rule_body;

/// Splits `--opt a ! --flag --two x y` into the extension's options, refusing what the rule
/// parser would refuse (unknown option, `!` on an option that takes none, missing argument).
/// Words are separated by single spaces; a word may not contain one.
pub fn opts_for<E: Extension>(args: &str) -> Result<Vec<OptArg>, String> {
    opts_from(E::OPTIONS, args)
}

/// [`opts_for`] with the option table given.
pub fn opts_from(options: &[Opt], args: &str) -> Result<Vec<OptArg>, String> {
    let words: Vec<&str> = args.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let invert = words[i] == "!";
        if invert {
            i += 1;
        }
        let word = words.get(i).ok_or("`!' at the end")?;
        let name = word
            .strip_prefix("--")
            .ok_or_else(|| format!("`{word}' is not an option"))?;
        let opt = options
            .iter()
            .find(|o| o.answers_to(name))
            .ok_or_else(|| format!("unknown option --{name}"))?;
        if invert && !opt.invert {
            return Err(format!("--{name} cannot be inverted"));
        }
        let col = i as u32 + 1;
        i += 1;
        let wanted = match opt.arity {
            Arity::Zero => 0,
            Arity::One => 1,
            Arity::Two => 2,
            Arity::Optional => usize::from(
                words
                    .get(i)
                    .is_some_and(|w| !w.starts_with('-') && *w != "!"),
            ),
        };
        if i + wanted > words.len() {
            return Err(format!("--{name} requires an argument"));
        }
        // `""` stands for an empty argument.
        let args: Vec<String> = words[i..i + wanted]
            .iter()
            .map(|w| {
                if *w == "\"\"" {
                    String::new()
                } else {
                    w.to_string()
                }
            })
            .collect();
        out.push(OptArg {
            name: opt.name,
            invert,
            args,
            col,
            arg_cols: (0..wanted).map(|k| (i + k) as u32 + 1).collect(),
        });
        i += wanted;
    }
    Ok(out)
}

pub fn parse_ctx(family: Family) -> ParseCtx {
    ParseCtx {
        family,
        table: TableKind::Filter,
        proto: Proto::ALL,
        proto_inverted: false,
    }
}

/// The fixed look-up tables tests print with (`localhost` is the only host known).
pub fn test_names() -> Names {
    Names::from_texts(
        "ssh 22/tcp\nhttp 80/tcp\ndomain 53/tcp\ndomain 53/udp\n",
        "127.0.0.1 localhost\n",
        "tcp 6 TCP\nudp 17 UDP\nicmp 1 ICMP\nesp 50 IPSEC-ESP\nah 51 IPSEC-AH\nipcomp 108 IPCOMP\n",
    )
}

/// Parses `args` for `family`, or says why not.
pub fn parse<E: Extension>(args: &str, family: Family) -> Result<E, String> {
    parse_in(args, parse_ctx(family))
}

/// Parses `args` in a rule described by `ctx` (for extensions that look at `-p` or the table).
pub fn parse_in<E: Extension>(args: &str, ctx: ParseCtx) -> Result<E, String> {
    let opts = opts_for::<E>(args)?;
    E::parse(&opts, &ctx).map_err(|e| e.message)
}

/// (save, `-L`, `-L -n`) text of an extension.
pub fn print<E: Extension>(ext: &E, family: Family) -> [String; 3] {
    let names = test_names();
    let ctx = |numeric| PrintCtx {
        numeric,
        family,
        proto: 0,
        names: &names,
    };
    let mut save = String::new();
    ext.save(&mut save, &ctx(true));
    let mut list = String::new();
    ext.list(&mut list, &ctx(false));
    let mut list_n = String::new();
    ext.list(&mut list_n, &ctx(true));
    [save, list, list_n]
}

fn check_family<E: Extension>(family: Family, args: &str, save: &str, list: &str, list_n: &str) {
    let ext = parse::<E>(args, family).unwrap_or_else(|e| panic!("{args}: {e}"));
    let got = print(&ext, family);
    assert_eq!(got, [save, list, list_n], "for `{args}'");
    // What iptables-save prints must read back to the same thing (iptables-restore of a
    // save file), unless the test says otherwise by using `check_once`.
    let again = parse::<E>(got[0].trim_start(), family)
        .unwrap_or_else(|e| panic!("re-reading `{}': {e}", got[0]));
    assert_eq!(print(&again, family), got, "re-reading `{}'", got[0]);
}

/// Checks an IPv4 rule's extension against iptables' save, `-L` and `-L -n` text.
pub fn check<E: Extension>(args: &str, save: &str, list: &str, list_n: &str) {
    check_family::<E>(Family::Ipv4, args, save, list, list_n);
}

/// The same for ip6tables.
pub fn check6<E: Extension>(args: &str, save: &str, list: &str, list_n: &str) {
    check_family::<E>(Family::Ipv6, args, save, list, list_n);
}

/// Like [`check`], for the cases where iptables' own save output does not read back the same
/// (a lossy printer); only the first round is compared.
pub fn check_once<E: Extension>(args: &str, save: &str, list: &str, list_n: &str) {
    let ext = parse::<E>(args, Family::Ipv4).unwrap_or_else(|e| panic!("{args}: {e}"));
    assert_eq!(
        print(&ext, Family::Ipv4),
        [save, list, list_n],
        "for `{args}'"
    );
}

/// Asserts that iptables (or the kernel) refuses these IPv4 options.
pub fn fails<E: Extension + std::fmt::Debug>(args: &str) {
    if let Ok(e) = parse::<E>(args, Family::Ipv4) {
        panic!("`{args}' was accepted: {e:?}");
    }
}

/// Asserts that ip6tables (or the kernel) refuses these options.
pub fn fails6<E: Extension + std::fmt::Debug>(args: &str) {
    if let Ok(e) = parse::<E>(args, Family::Ipv6) {
        panic!("`{args}' was accepted: {e:?}");
    }
}

/// The services `iptables -L` looked up on the machine the expectations were copied from
/// (Debian 12's `/etc/services`, the entries these tests meet).
pub fn names() -> Names {
    Names::from_texts(
        "tcpmux 1/tcp\necho 7/tcp\necho 7/udp\ndiscard 9/tcp\ndiscard 9/udp\nsystat 11/tcp\n\
         daytime 13/tcp\ndaytime 13/udp\nnetstat 15/tcp\nssh 22/tcp\ndomain 53/tcp\n\
         domain 53/udp\nhttp 80/tcp www\nntp 123/udp\nhttps 443/tcp\nhttps 443/udp\n\
         http-alt 8080/tcp webcache\namqp 5672/tcp\namqp 5672/sctp\n",
        "",
        "",
    )
}

/// A rule printed three ways.
#[derive(Debug)]
pub struct Printed {
    /// `iptables-save` text after `-A CHAIN `.
    pub save: String,
    /// The match part of an `iptables -L` row, without and with `-n`.
    pub list: String,
    pub list_n: String,
}

/// Parses one rule (`-A INPUT` of the filter table) with the real parser and prints it back.
pub fn rule(family: Family, text: &str) -> Result<Printed, String> {
    let file = format!("*filter\n-A INPUT {text}\nCOMMIT\n");
    let opts = ParseOptions {
        family,
        ..ParseOptions::default()
    };
    let ruleset = parse_ruleset(&file, "test", opts).map_err(|d| d.to_string())?;
    let table = ruleset.tables.first().ok_or("no table")?;
    let rule = table
        .chain("INPUT")
        .and_then(|c| c.rules.first())
        .ok_or("no rule")?;
    let names = names();
    let mut save = String::new();
    save_rule_body(&mut save, &ruleset, rule, &names);
    let proto = rule.ip.proto.as_ref().map_or(0, |p| p.value.0);
    let ctx = |numeric| PrintCtx {
        numeric,
        family,
        proto,
        names: &names,
    };
    let (mut list, mut list_n) = (String::new(), String::new());
    for m in &rule.matches {
        m.ext.list(&mut list, &ctx(false));
        m.ext.list(&mut list_n, &ctx(true));
    }
    if let Target::Ext(t) = &rule.target {
        t.list(&mut list, &ctx(false));
        t.list(&mut list_n, &ctx(true));
    }
    Ok(Printed {
        save: save.trim_start().to_string(),
        list,
        list_n,
    })
}

/// Asserts that `rule` lists as the kernel's iptables listed it, without and with `-n`.
pub fn assert_lists(family: Family, rule_text: &str, list: &str, list_n: &str) {
    let p = rule(family, rule_text).unwrap_or_else(|e| panic!("{rule_text}: {e}"));
    assert_eq!(p.list, list, "iptables -L of {rule_text}");
    assert_eq!(p.list_n, list_n, "iptables -L -n of {rule_text}");
}

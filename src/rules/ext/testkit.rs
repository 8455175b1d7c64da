//! Test support for extensions: one rule's `-p` and `-m` parts read from `iptables-restore`
//! text and printed back, and a runner for the kernel-verified case tables in `tests/ext/`.
//!
//! This is a small stand-in for the rule parser, enough to drive extensions the way it does:
//! options go to the newest loaded extension that declares them (as getopt over iptables'
//! merged option table), `!` before an option inverts it, and a match whose kernel module
//! requires a protocol is refused unless the rule names that protocol without `!`
//! (`xt_check_match`).

use super::{find_match, Arity, MatchExt, OptArg, ParseCtx, PrintCtx};
use crate::rules::lex::split_args;
use crate::rules::model::{Family, Proto, TableKind};
use crate::rules::names::Names;

/// A rule's protocol and matches, printed three ways.
#[derive(Debug)]
pub struct Printed {
    /// `iptables-save` text after `-A CHAIN `.
    pub save: String,
    /// The match part of an `iptables -L` row, without and with `-n`.
    pub list: String,
    pub list_n: String,
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

fn proto_number(name: &str) -> Option<(u8, &'static str)> {
    Some(match name {
        "all" => (0, "all"),
        "icmp" | "1" => (1, "icmp"),
        "tcp" | "6" => (6, "tcp"),
        "udp" | "17" => (17, "udp"),
        "dccp" | "33" => (33, "dccp"),
        "ipv6-icmp" | "icmpv6" | "58" => (58, "ipv6-icmp"),
        "sctp" | "132" => (132, "sctp"),
        "udplite" | "136" => (136, "udplite"),
        _ => return None,
    })
}

/// Parses `text` (only `-p`, `-m` and match options) and prints it back.
pub fn rule(family: Family, text: &str) -> Result<Printed, String> {
    let tokens = split_args(text, 1).map_err(|e| e.message)?;
    let mut proto = (0u8, "", false);
    let mut groups: Vec<(&'static super::MatchInfo, Vec<OptArg>)> = Vec::new();
    let mut invert = false;
    let mut i = 0;
    while i < tokens.len() {
        let word = tokens[i].text.as_str();
        i += 1;
        if word == "!" && !tokens[i - 1].quoted {
            invert = true;
            continue;
        }
        match word {
            "-p" | "--protocol" => {
                let name = tokens.get(i).ok_or("-p needs a protocol")?;
                i += 1;
                let (n, canon) = proto_number(&name.text).ok_or("unknown protocol")?;
                proto = (n, canon, invert);
            }
            "-m" | "--match" => {
                let name = tokens.get(i).ok_or("-m needs a name")?;
                i += 1;
                let info =
                    find_match(&name.text).ok_or_else(|| format!("unknown match {}", name.text))?;
                groups.push((info, Vec::new()));
            }
            _ => {
                let opt_name = word.strip_prefix("--").ok_or(format!("bad word {word}"))?;
                let (group, opt) = groups
                    .iter_mut()
                    .rev()
                    .find_map(|(info, opts)| {
                        let o = info.options.iter().find(|o| o.answers_to(opt_name))?;
                        Some((opts, o))
                    })
                    .ok_or_else(|| format!("unknown option --{opt_name}"))?;
                if invert && !opt.invert {
                    return Err(format!("--{opt_name} cannot be inverted"));
                }
                let wanted = match opt.arity {
                    Arity::Zero => 0,
                    Arity::One => 1,
                    Arity::Two => 2,
                    Arity::Optional => usize::from(
                        tokens
                            .get(i)
                            .is_some_and(|t| !t.text.starts_with('-') && t.text != "!"),
                    ),
                };
                let args: Vec<_> = tokens.iter().skip(i).take(wanted).collect();
                if args.len() < wanted {
                    return Err(format!("--{opt_name} needs {wanted} arguments"));
                }
                i += wanted;
                group.push(OptArg {
                    name: opt.name,
                    invert,
                    args: args.iter().map(|t| t.text.clone()).collect(),
                    col: tokens[i - wanted - 1].col,
                    arg_cols: args.iter().map(|t| t.col).collect(),
                });
            }
        }
        invert = false;
    }

    let ctx = ParseCtx {
        family,
        table: TableKind::Filter,
        proto: Proto(proto.0),
        proto_inverted: proto.2,
    };
    let mut matches: Vec<MatchExt> = Vec::new();
    for (info, opts) in &groups {
        let m = (info.parse)(opts, &ctx).map_err(|e| e.message)?;
        if let Some(p) = info.proto {
            if ctx.exact_proto() != Some(p) {
                return Err(format!("the kernel's {} match needs -p {p}", info.name));
            }
        }
        matches.push(m);
    }

    let names = names();
    let print = |numeric: bool| PrintCtx {
        numeric,
        family,
        proto: proto.0,
        names: &names,
    };
    let mut save = String::new();
    if proto.0 != 0 {
        save.push_str(if proto.2 { "! -p " } else { "-p " });
        save.push_str(proto.1);
    }
    let (mut list, mut list_n) = (String::new(), String::new());
    for m in &matches {
        save.push_str(" -m ");
        save.push_str(m.name());
        m.save(&mut save, &print(false));
        m.list(&mut list, &print(false));
        m.list(&mut list_n, &print(true));
    }
    Ok(Printed {
        save: save.trim_start().to_string(),
        list,
        list_n,
    })
}

/// Checks every case of a `tests/ext/*.t` table: OK cases must print back as expected, FAIL
/// cases must be refused. Returns the number of cases, so callers can see it was not empty.
pub fn check_table(family: Family, table: &str) -> usize {
    let mut cases = 0;
    for (n, line) in table.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ':', '*']) {
            continue;
        }
        let fields: Vec<&str> = line.rsplitn(3, ';').collect();
        let [verdict, expected, text] = fields[..] else {
            panic!("line {}: not rule;expected;OK|FAIL: {line}", n + 1);
        };
        cases += 1;
        let got = rule(family, text);
        match verdict {
            "OK" => {
                let want = if expected == "=" { text } else { expected };
                match got {
                    Ok(p) => assert_eq!(p.save, want, "line {}: {text}", n + 1),
                    Err(e) => panic!("line {}: {text}: refused: {e}", n + 1),
                }
            }
            "FAIL" => {
                if let Ok(p) = got {
                    panic!("line {}: {text}: accepted as {}", n + 1, p.save);
                }
            }
            _ => panic!("line {}: verdict must be OK or FAIL", n + 1),
        }
    }
    cases
}

/// Asserts that `rule` lists as the kernel's iptables listed it, without and with `-n`.
pub fn assert_lists(family: Family, rule_text: &str, list: &str, list_n: &str) {
    let p = rule(family, rule_text).unwrap_or_else(|e| panic!("{rule_text}: {e}"));
    assert_eq!(p.list, list, "iptables -L of {rule_text}");
    assert_eq!(p.list_n, list_n, "iptables -L -n of {rule_text}");
}

//! Parser cases as tables, in the style of iptables' own `extensions/*.t`:
//!
//! ```text
//! :INPUT,FORWARD,OUTPUT        chains the following cases are appended to
//! *nat                         table (default filter)
//! rule;expected;OK|FAIL        expected: `=` (printed back unchanged) or iptables-save's text
//! ```
//!
//! A comment line `# needs: COMMAND` names a kernel object the cases need (`ipset create ...`),
//! created in the namespace before the kernel loads them.
//!
//! Files are `tests/ext/*.t` (iptables) and `tests/ext/*.t6` (ip6tables). Every case is parsed
//! by fwbench and compared with the expectation. With the kernel available, every case is also
//! loaded into the real kernel, which must agree with the table (so the tables cannot drift
//! from the truth), and all OK cases of a file are loaded together with counters to compare
//! every `iptables -L` form and `iptables-save` byte for byte.

mod common;

use std::path::{Path, PathBuf};

use common::{compare_listings, kernel_available, skip, with_counters, Fam, Netns, V4, V6};
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::save::{save, SaveOptions};
use fwbench::rules::Family;

struct Case {
    file: String,
    line: usize,
    table: String,
    chain: String,
    rule: String,
    /// What iptables-save prints after `-A CHAIN `; `None` for FAIL cases.
    expected: Option<String>,
}

fn table_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ext");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/ext exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "t" || x == "t6"))
        .collect();
    files.sort();
    files
}

fn family_of(path: &Path) -> Family {
    if path.extension().is_some_and(|x| x == "t6") {
        Family::Ipv6
    } else {
        Family::Ipv4
    }
}

/// The `# needs: COMMAND` lines of a table file, joined into one shell command.
fn needs(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read .t file");
    let mut cmds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# needs:"))
        .map(str::trim)
        .collect();
    cmds.push("true");
    cmds.join(" && ")
}

fn read_cases(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).expect("read .t file");
    let file = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let mut chains: Vec<String> = vec!["INPUT".into()];
    let mut table = "filter".to_string();
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(c) = line.strip_prefix(':') {
            chains = c.split(',').map(str::to_string).collect();
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            table = t.to_string();
            continue;
        }
        // The rule may contain `;` inside quotes; the last two fields never do.
        let mut parts = line.rsplitn(3, ';');
        let (Some(status), Some(expected), Some(rule)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("{file}:{}: expected `rule;expected;OK|FAIL`", i + 1);
        };
        let expected = match status {
            "OK" if expected == "=" => Some(rule.to_string()),
            "OK" => Some(expected.to_string()),
            "FAIL" => None,
            other => panic!("{file}:{}: status must be OK or FAIL, not {other}", i + 1),
        };
        for chain in &chains {
            cases.push(Case {
                file: file.clone(),
                line: i + 1,
                table: table.clone(),
                chain: chain.clone(),
                rule: rule.to_string(),
                expected: expected.clone(),
            });
        }
    }
    cases
}

fn ruleset_text(cases: &[&Case], with_chain_lines: bool) -> String {
    let mut tables: Vec<&str> = cases.iter().map(|c| c.table.as_str()).collect();
    tables.dedup();
    tables.sort();
    tables.dedup();
    let mut text = String::new();
    for t in tables {
        text.push_str(&format!("*{t}\n"));
        if with_chain_lines {
            let mut chains: Vec<&str> = cases
                .iter()
                .filter(|c| c.table == t)
                .map(|c| c.chain.as_str())
                .collect();
            chains.sort();
            chains.dedup();
            for c in chains {
                text.push_str(&format!(":{c} ACCEPT [0:0]\n"));
            }
        }
        for c in cases.iter().filter(|c| c.table == t) {
            text.push_str(&format!("-A {} {}\n", c.chain, c.rule));
        }
        text.push_str("COMMIT\n");
    }
    text
}

/// `-A CHAIN rule` as iptables-save writes it (no trailing space for an empty rule).
fn rule_line(chain: &str, rule: &str) -> String {
    if rule.is_empty() {
        format!("-A {chain}")
    } else {
        format!("-A {chain} {rule}")
    }
}

/// The rule lines (`-A ...`) of iptables-save output.
fn rule_lines(save_text: &str) -> Vec<String> {
    save_text
        .lines()
        .filter(|l| l.starts_with("-A "))
        .map(str::to_string)
        .collect()
}

#[test]
fn ext_cases_parse_as_the_tables_say() {
    let mut problems = Vec::new();
    let mut count = 0;
    for path in table_files() {
        let family = family_of(&path);
        for case in read_cases(&path) {
            count += 1;
            let text = ruleset_text(&[&case], false);
            let opts = ParseOptions {
                family,
                ..ParseOptions::default()
            };
            let at = format!(
                "{}:{} ({} {})",
                case.file, case.line, case.table, case.chain
            );
            match (parse_ruleset(&text, &case.file, opts), &case.expected) {
                (Ok(rs), Some(expected)) => {
                    let got = rule_lines(&save(&rs, SaveOptions::default()));
                    let want = vec![rule_line(&case.chain, expected)];
                    if got != want {
                        problems.push(format!(
                            "{at}: `{}`\n  want: {:?}\n  got:  {:?}",
                            case.rule, want, got
                        ));
                    }
                }
                (Err(d), Some(_)) => problems.push(format!(
                    "{at}: `{}` should parse, fwbench says:\n{d}",
                    case.rule
                )),
                (Ok(_), None) => problems.push(format!(
                    "{at}: `{}` should be refused, fwbench accepts it",
                    case.rule
                )),
                (Err(_), None) => {}
            }
        }
    }
    eprintln!("{count} extension cases checked");
    assert!(count > 0, "no cases found under tests/ext");
    assert!(
        problems.is_empty(),
        "{} cases disagree:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn ext_cases_agree_with_the_kernel() {
    if let Err(why) = kernel_available() {
        return skip(&why);
    }
    let tmp = std::env::temp_dir().join(format!("fwbench-ext-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut problems = Vec::new();
    for path in table_files() {
        let fam: Fam = if family_of(&path) == Family::Ipv6 {
            V6
        } else {
            V4
        };
        let cases = read_cases(&path);
        let setup = needs(&path);
        let ns = Netns::new("ext");
        ns.out(&setup);
        for case in &cases {
            let at = format!(
                "{}:{} ({} {})",
                case.file, case.line, case.table, case.chain
            );
            let load = ns.sh(
                &format!(
                    "{}-restore && {}-save -t {}",
                    fam.tool, fam.tool, case.table
                ),
                &ruleset_text(&[case], false),
            );
            match (&case.expected, load.status.success()) {
                (Some(expected), true) => {
                    let got = rule_lines(&String::from_utf8_lossy(&load.stdout));
                    let want = vec![rule_line(&case.chain, expected)];
                    if got != want {
                        problems.push(format!(
                            "{at}: the kernel prints `{}` as {:?}, the table says {:?}",
                            case.rule, got, want
                        ));
                    }
                }
                (Some(_), false) => problems.push(format!(
                    "{at}: the table says OK but the kernel refuses `{}`: {}",
                    case.rule,
                    String::from_utf8_lossy(&load.stderr).trim()
                )),
                (None, true) => problems.push(format!(
                    "{at}: the table says FAIL but the kernel accepts `{}`",
                    case.rule
                )),
                (None, false) => {}
            }
        }
        // All accepted cases together, with counters: every listing must be identical.
        let ok: Vec<&Case> = cases.iter().filter(|c| c.expected.is_some()).collect();
        if ok.is_empty() {
            continue;
        }
        // ip6tables-nft 1.8.9 drops rule counters on restore -c (NETFILTER.md §8): load IPv6
        // tables without them.
        let text = ruleset_text(&ok, true);
        let (text, restore) = if fam.tool.starts_with("ip6") {
            (text, "")
        } else {
            (with_counters(&text), "-c")
        };
        let file = tmp.join(path.file_name().unwrap_or_default());
        std::fs::write(&file, &text).expect("write temp file");
        drop(ns);
        let ns = Netns::new("extall");
        ns.out(&setup);
        let load = ns.sh(&format!("{}-restore {restore}", fam.tool), &text);
        if !load.status.success() {
            problems.push(format!(
                "{}: the OK cases together do not load: {}",
                path.display(),
                String::from_utf8_lossy(&load.stderr).trim()
            ));
            continue;
        }
        problems.extend(compare_listings(
            &ns,
            &file,
            &path.file_name().unwrap_or_default().to_string_lossy(),
            fam,
        ));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        problems.is_empty(),
        "{} disagreements with the kernel:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

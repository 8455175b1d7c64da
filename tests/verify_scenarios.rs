//! Every scenario under `tests/scenarios/` through `fwbench verify` against the real kernel,
//! with both the nf_tables and the legacy backend: counters, emitted packets and connections
//! of the emulation must be exactly the kernel's.
//!
//! A scenario is a directory with:
//! - `rules` (iptables-restore text, IPv4) or `rules6` (IPv6), or `corpus`: one line naming
//!   a kube-proxy restore payload of the shared corpus (`kube-proxy/NAME.rules`), to which
//!   kube-proxy's hook rules are added (the corpus is read, never copied here);
//! - `traffic`: packets in the format of `fwbench::gen::script`;
//! - optional `host.toml` (default: the built-in Kubernetes node), `ipsets` (ipset save);
//! - optional `README`: what the scenario checks. A line `expect-difference: REASON` (or
//!   `expect-difference[nft]:` / `expect-difference[legacy]:` for one backend) marks a
//!   known difference: the runner then asserts that the difference is still there, so that
//!   fixing it is noticed and the mark removed.
//!
//! `FWBENCH_SCENARIO=a,b` runs only the named scenarios. Without root the kernel test skips
//! visibly (`FWBENCH_REQUIRE_KERNEL=1` makes that a failure); the parse test always runs.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{root_with, skip};
use fwbench::engine::Verdict;
use fwbench::gen::script;
use fwbench::host::Host;
use fwbench::netfilter::stack::Config;
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::{Backend, Family};
use fwbench::verify::{verify, Timed, VerifyInputs};

struct Scenario {
    name: String,
    rules_text: String,
    family: Family,
    host: Host,
    ipsets: Option<String>,
    traffic: Vec<Timed>,
    /// Per backend: the reason a difference is expected.
    expect_nft: Option<String>,
    expect_legacy: Option<String>,
}

fn scenario_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let only: Option<Vec<String>> = std::env::var("FWBENCH_SCENARIO")
        .ok()
        .map(|v| v.split(',').map(str::to_string).collect());
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/scenarios")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter(|p| {
            only.as_ref().map_or(true, |o| {
                p.file_name()
                    .is_some_and(|n| o.iter().any(|x| x == n.to_string_lossy().as_ref()))
            })
        })
        .collect();
    dirs.sort();
    dirs
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

/// kube-proxy's hook rules (the corpus README), per table and chain.
const HOOKS: &[(&str, &str, &str)] = &[
    ("nat", "PREROUTING", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("nat", "OUTPUT", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("nat", "POSTROUTING", "-m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING"),
    ("filter", "INPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"),
    ("filter", "INPUT", "-m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS"),
    ("filter", "INPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"),
    ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"),
    ("filter", "FORWARD", "-m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD"),
    ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"),
    ("filter", "OUTPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"),
    ("filter", "OUTPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
];

/// A kube-proxy restore payload with built-in chains and the hook rules into the chains it
/// declares.
fn with_hooks(text: &str) -> String {
    let mut out = String::new();
    let mut table = "";
    let mut declared: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = match t {
                "nat" => "nat",
                "filter" => "filter",
                _ => "",
            };
            declared.clear();
            out.push_str(line);
            out.push('\n');
            let builtins: &[&str] = match table {
                "nat" => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
                "filter" => &["INPUT", "FORWARD", "OUTPUT"],
                _ => &[],
            };
            if !text.contains(":PREROUTING ") && !text.contains(":INPUT ") {
                for b in builtins {
                    out.push_str(&format!(":{b} ACCEPT [0:0]\n"));
                }
            }
            continue;
        }
        if let Some(chain) = line.strip_prefix(':') {
            declared.extend(chain.split_whitespace().next().map(str::to_string));
        }
        if line == "COMMIT" {
            for (t, chain, rule) in HOOKS {
                let target = rule.rsplit(' ').next().unwrap_or("");
                if *t == table && declared.iter().any(|d| d == target) {
                    out.push_str(&format!("-A {chain} {rule}\n"));
                }
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn expectation(readme: &str, backend: &str) -> Option<String> {
    readme.lines().find_map(|l| {
        let l = l.trim();
        l.strip_prefix(&format!("expect-difference[{backend}]:"))
            .or_else(|| l.strip_prefix("expect-difference:"))
            .map(|r| r.trim().to_string())
    })
}

fn load(dir: &Path) -> Result<Scenario, String> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let at = |f: &str| format!("{}/{f}", dir.display());
    let (rules_text, family) = if let Some(r) = read(dir, "rules") {
        (r, Family::Ipv4)
    } else if let Some(r) = read(dir, "rules6") {
        (r, Family::Ipv6)
    } else if let Some(c) = read(dir, "corpus") {
        let corpus = common::corpus_dir()
            .or_else(|| Some(PathBuf::from("/work/shared/corpus")).filter(|p| p.is_dir()))
            .ok_or("the shared corpus is not there")?;
        let file = corpus.join(c.trim());
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        (with_hooks(&text), Family::Ipv4)
    } else {
        return Err(format!("{}: no rules, rules6 or corpus", dir.display()));
    };
    let host = match read(dir, "host.toml") {
        Some(t) => Host::from_toml_str(&at("host.toml"), &t).map_err(|e| e.to_string())?,
        None => Host::kubernetes_node(),
    };
    let traffic_text =
        read(dir, "traffic").ok_or_else(|| format!("{}: no traffic", dir.display()))?;
    let traffic = script::parse(&traffic_text, &at("traffic"), &host).map_err(|e| e.to_string())?;
    let readme = read(dir, "README").unwrap_or_default();
    Ok(Scenario {
        name,
        rules_text,
        family,
        host,
        ipsets: read(dir, "ipsets"),
        traffic,
        expect_nft: expectation(&readme, "nft"),
        expect_legacy: expectation(&readme, "legacy"),
    })
}

fn parse_rules(s: &Scenario, backend: Backend) -> Result<fwbench::rules::Ruleset, String> {
    parse_ruleset(
        &s.rules_text,
        &format!("{}/rules", s.name),
        ParseOptions {
            family: s.family,
            backend,
        },
    )
    .map_err(|d| d.to_string())
}

#[test]
fn every_scenario_parses() {
    let dirs = scenario_dirs();
    let mut errors = Vec::new();
    for dir in &dirs {
        match load(dir) {
            Ok(s) => {
                if s.traffic.is_empty() {
                    errors.push(format!("{}: no packets", s.name));
                }
                if let Err(e) = parse_rules(&s, Backend::Nft) {
                    errors.push(e);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    if std::env::var("FWBENCH_SCENARIO").is_err() {
        assert!(dirs.len() >= 50, "only {} scenarios", dirs.len());
    }
}

#[test]
fn every_scenario_matches_the_kernel_on_both_backends() {
    if let Err(why) = root_with(&[
        "ip",
        "iptables-nft-restore",
        "iptables-legacy-restore",
        "conntrack",
    ]) {
        skip(&why);
        return;
    }
    fwbench::verify::install_signal_cleanup();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for dir in scenario_dirs() {
        let s = match load(&dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{:<32} scenario does not load  [FAIL]", dir.display());
                failures.push(e);
                continue;
            }
        };
        for (backend, label, expected) in [
            (Backend::Nft, "nft", &s.expect_nft),
            (Backend::Legacy, "legacy", &s.expect_legacy),
        ] {
            let started = Instant::now();
            let ruleset = match parse_rules(&s, backend) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{:<32} {label:<6} rules do not parse  [FAIL]", s.name);
                    failures.push(e);
                    continue;
                }
            };
            let report = verify(VerifyInputs {
                packets: s.traffic.clone(),
                rules_text: &s.rules_text,
                ruleset: &ruleset,
                ipsets_text: s.ipsets.as_deref(),
                host: &s.host,
                config: Config {
                    backend,
                    // The lab has no program reading NFQUEUE queues.
                    queue_verdict: Verdict::Queue,
                    ..Config::default()
                },
            });
            let report = match report {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{:<32} {label:<6} verify failed: {e}  [FAIL]", s.name);
                    failures.push(format!("{} [{label}]: verify: {e}", s.name));
                    continue;
                }
            };
            let rendered = report.comparison.render();
            let score = rendered.lines().last().unwrap_or("").to_string();
            let exact = report.comparison.is_exact();
            let mark = match (exact, expected) {
                (true, None) => "ok",
                (false, Some(_)) => "expected difference",
                (true, Some(_)) => "FIXED? (marked expect-difference)",
                (false, None) => "FAIL",
            };
            let line = format!(
                "{:<32} {:<6} {:>5} ms  {score}  [{mark}]",
                s.name,
                label,
                started.elapsed().as_millis()
            );
            eprintln!("{line}");
            summary.push(line);
            match (exact, expected) {
                (false, None) => failures.push(format!(
                    "{} [{label}]: not exact\n{rendered}",
                    s.name
                )),
                (true, Some(reason)) => failures.push(format!(
                    "{} [{label}]: marked expect-difference ({reason}) but now exact: remove the mark",
                    s.name
                )),
                _ => {}
            }
        }
    }
    eprintln!("{} runs", summary.len());
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

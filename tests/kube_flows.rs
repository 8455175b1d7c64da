//! The 30 packet flows of kube-proxy's own unit tests (`../shared/corpus/kube-proxy/
//! flows.tsv`), each replayed as the first packet (a TCP SYN) of a new connection through
//! the full emulated host: the built-in Kubernetes node, all tables and hooks, conntrack and
//! NAT. For each flow: the DNAT destination is one of the expected endpoints, the verdict
//! (DROP, REJECT, ACCEPT) is the one expected, and masqueraded flows leave with the node's
//! address (unmasqueraded ones with their own).
//!
//! The five rulesets taken from kube-proxy's restore payloads have no built-in chains and
//! no hooks; the hook rules the corpus README lists are added (only those whose target chain
//! the file declares). `TestTracePacket.rules` has its unquoted multi-word comments quoted.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use fwbench::engine::LinkHeader;
use fwbench::host::Host;
use fwbench::netfilter::stack::{Config, Outcome, Processed, Stack};
use fwbench::rules::ipset::IpSets;
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::{Ruleset, TableKind};

const NODE_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 2);

/// kube-proxy's hook rules (corpus README), per table and chain.
const HOOKS: &[(&str, &str, &str)] = &[
    ("nat", "PREROUTING", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("nat", "OUTPUT", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("nat", "POSTROUTING", "-m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING"),
    ("filter", "INPUT", "-j KUBE-FIREWALL"),
    ("filter", "INPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"),
    ("filter", "INPUT", "-m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS"),
    ("filter", "INPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"),
    ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"),
    ("filter", "FORWARD", "-m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD"),
    ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"),
    ("filter", "OUTPUT", "-j KUBE-FIREWALL"),
    ("filter", "OUTPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"),
    ("filter", "OUTPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
];

/// Adds the hook rules to a restore payload that has none.
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

/// Quotes `--comment a b c` up to the next option.
fn quote_comments(text: &str) -> String {
    text.lines()
        .map(|line| {
            let Some(at) = line.find("--comment ") else {
                return line.to_string();
            };
            let rest = &line[at + 10..];
            if rest.starts_with('"') {
                return line.to_string();
            }
            let end = rest.find(" -").unwrap_or(rest.len());
            format!(
                "{}--comment \"{}\"{}",
                &line[..at],
                &rest[..end],
                &rest[end..]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn load(dir: &std::path::Path, file: &str) -> Ruleset {
    let text = std::fs::read_to_string(dir.join("kube-proxy").join(file)).expect("corpus file");
    let text = if file == "TestTracePacket.rules" {
        quote_comments(&text)
    } else {
        with_hooks(&text)
    };
    parse_ruleset(&text, file, ParseOptions::default()).unwrap_or_else(|d| panic!("{d}"))
}

/// A TCP SYN with valid checksums.
fn syn(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0];
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    fwbench::wire::verify::recompute(&mut p).expect("checksums");
    p
}

/// Sends the flow's first packet into a fresh host, as it arrives or leaves.
fn run(ruleset: &Ruleset, host: &Host, src: Ipv4Addr, dst: Ipv4Addr, dport: u16) -> Processed {
    let mut stack = Stack::new(
        ruleset,
        host,
        IpSets::parse("", "none").expect("empty"),
        Config {
            local_replies: false,
            ..Config::default()
        },
    );
    let packet = syn(src, dst, 43210, dport);
    if host.is_local(IpAddr::V4(src)) {
        return stack.send_local(1_000_000_000, &packet);
    }
    // Pods arrive from the pod network, everything else from the node's uplink.
    let (iface, mac) = if src.octets()[0] == 10 {
        ("cni0", [2, 0, 0, 0, 0, 2])
    } else {
        ("eth0", [2, 0, 0, 0, 0, 1])
    };
    let link = LinkHeader {
        src: [2, 0xaa, 0, 0, 0, 9],
        dst: mac,
    };
    stack.receive(1_000_000_000, iface, Some(link), &packet)
}

/// The destination and source the packet had when it left or was delivered.
fn final_ends(p: &Processed) -> Option<(IpAddr, u16, IpAddr)> {
    let bytes = p.final_bytes.as_ref()?;
    let info = fwbench::wire::ip::parse(bytes).ok()?;
    let (_, dport) = info.l4.ports()?;
    Some((info.dst, dport, info.src))
}

#[test]
fn kube_proxy_flows_come_out_as_its_tests_expect() {
    let Some(dir) = common::corpus_dir() else {
        common::skip("../shared/corpus is not there");
        return;
    };
    let host = Host::kubernetes_node();
    let tsv = std::fs::read_to_string(dir.join("kube-proxy/flows.tsv")).expect("flows.tsv");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, name, src, _proto, dst, dport, expected, masq] = cols[..] else {
            panic!("flows.tsv line with {} columns: {line}", cols.len());
        };
        let ruleset = load(&dir, file);
        let src: Ipv4Addr = src.parse().expect("source address");
        let dst: Ipv4Addr = dst.parse().expect("destination address");
        let dport: u16 = dport.parse().expect("port");
        let masq = masq == "true";
        let p = run(&ruleset, &host, src, dst, dport);
        checked += 1;
        let verdict_ok = |want: &str| -> Result<(), String> {
            match (want, &p.outcome) {
                ("DROP", Outcome::DroppedByRule(_)) => Ok(()),
                ("REJECT", Outcome::Rejected(_)) => Ok(()),
                ("ACCEPT", Outcome::Delivered | Outcome::Forwarded { .. }) => {
                    let accepted = accept_rule_hit(&p, &ruleset);
                    accepted
                        .then_some(())
                        .ok_or_else(|| "no ACCEPT rule counted".into())
                }
                _ => Err(format!("outcome {:?}", p.outcome)),
            }
        };
        let result: Result<(), String> = match expected {
            "DROP" | "REJECT" | "ACCEPT" => verdict_ok(expected),
            "" => match (&p.outcome, final_ends(&p)) {
                (
                    Outcome::Forwarded { .. } | Outcome::Delivered | Outcome::Sent { .. },
                    Some((d, port, _)),
                ) if d == IpAddr::V4(dst) && port == dport => Ok(()),
                other => Err(format!("expected no DNAT and no verdict, got {other:?}")),
            },
            endpoints => {
                let want: Vec<(IpAddr, u16)> = endpoints
                    .split(", ")
                    .map(|e| {
                        let (a, p) = e.rsplit_once(':').expect("ip:port");
                        (a.parse().expect("ip"), p.parse().expect("port"))
                    })
                    .collect();
                match (&p.outcome, final_ends(&p)) {
                    (
                        Outcome::Forwarded { .. } | Outcome::Sent { .. } | Outcome::Delivered,
                        Some((d, port, s)),
                    ) => {
                        if !want.contains(&(d, port)) {
                            Err(format!("DNAT to {d}:{port}, expected one of {endpoints}"))
                        } else if masq && s != IpAddr::V4(NODE_IP) {
                            Err(format!(
                                "left with source {s}, expected the node's {NODE_IP}"
                            ))
                        } else if !masq && s != IpAddr::V4(src) {
                            Err(format!("source rewritten to {s} though not masqueraded"))
                        } else {
                            Ok(())
                        }
                    }
                    other => Err(format!("outcome {other:?}")),
                }
            }
        };
        if let Err(why) = result {
            failures.push(format!("{file} / {name}: {why}"));
        }
    }
    assert_eq!(checked, 30, "flows.tsv has 30 flows");
    assert!(
        failures.is_empty(),
        "{} of 30 flows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Whether a rule of the filter table (not a policy) accepted the packet.
fn accept_rule_hit(p: &Processed, ruleset: &Ruleset) -> bool {
    p.accepted_by.iter().any(|r| {
        r.table == TableKind::Filter
            && r.rule.is_some_and(|n| {
                ruleset
                    .table(TableKind::Filter)
                    .and_then(|t| t.chains().get(r.chain))
                    .and_then(|c| c.rules.get(n))
                    .is_some_and(|rule| matches!(rule.target, fwbench::rules::Target::Accept))
            })
    })
}

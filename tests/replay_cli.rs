//! `fwbench replay` and `fwbench trace` from the command line: the summary accounts for
//! every packet read, bad input is an error naming the file, traces show the packet's way.

mod common;

use std::path::Path;

use common::fwbench;
use fwbench::host::Host;
use fwbench::netfilter::stack::Config;
use fwbench::replay::{replay, Inputs};
use fwbench::rules::ipset::IpSets;
use fwbench::rules::parse::{parse_ruleset, ParseOptions};

fn root(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(p)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_packet_read_lands_in_exactly_one_outcome() {
    let text = std::fs::read_to_string(root("rulesets/k8s-node.rules")).expect("ruleset");
    let ruleset = parse_ruleset(&text, "k8s-node.rules", ParseOptions::default())
        .unwrap_or_else(|d| panic!("{d}"));
    let host = Host::kubernetes_node();
    let captures = [root("captures/k8s-node.pcapng").into()];
    let report = replay(Inputs {
        captures: &captures,
        ruleset: &ruleset,
        host: &host,
        ipsets: IpSets::parse("", "none").expect("empty"),
        config: Config::default(),
        in_interface: None,
        out: None,
        drops: None,
        trace: None,
    })
    .expect("replays");
    let s = &report.summary;
    assert_eq!(s.read, 97);
    assert_eq!(s.outcomes.values().sum::<u64>(), s.read, "{:?}", s.outcomes);
    assert!(s.unsupported.is_empty(), "{:?}", s.unsupported);
    // The shipped traffic exercises every kind of outcome the README table lists.
    for category in [
        "forwarded",
        "delivered locally",
        "dropped by a rule",
        "rejected by a rule",
    ] {
        assert!(
            s.outcomes.contains_key(category),
            "no packet {category}: {:?}",
            s.outcomes
        );
    }
    let dropped: u64 = s.decided_by.values().sum();
    assert_eq!(
        dropped,
        s.outcomes["dropped by a rule"] + s.outcomes["rejected by a rule"],
        "every drop names its rule"
    );
}

#[test]
fn a_damaged_capture_is_an_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("fwbench-replay-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bytes = std::fs::read(root("captures/k8s-node.pcapng")).expect("capture");
    let cut = dir.join("cut.pcapng");
    std::fs::write(&cut, &bytes[..bytes.len() - 37]).expect("write");
    let o = fwbench(&[
        "replay",
        cut.to_str().expect("utf-8"),
        "--rules",
        &root("rulesets/k8s-node.rules"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cut.pcapng"), "{err}");
    assert!(err.contains("after 96 packets"), "{err}");
    // What was replayed before the damage is still reported.
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("# summary: 96 packets read"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn trace_shows_the_dnat_and_the_deciding_rule() {
    // Packet 1 of the shipped capture: a pod's DNS query to the cluster DNS service.
    let o = fwbench(&[
        "trace",
        &root("captures/k8s-node.pcapng"),
        "--rules",
        &root("rulesets/k8s-node.rules"),
        "--packet",
        "1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("packet 1 (in cni0): udp "), "{text}");
    assert!(text.contains("conntrack: New"), "{text}");
    assert!(text.contains("nat PREROUTING:"), "{text}");
    assert!(
        text.contains("NAT: destination rewritten to 10.180.0."),
        "{text}"
    );
    assert!(text.contains("outcome: forwarded out of cni0"), "{text}");
    let o = fwbench(&[
        "trace",
        &root("captures/k8s-node.pcapng"),
        "--rules",
        &root("rulesets/k8s-node.rules"),
        "--packet",
        "1000",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("97 packets"));
}

#[test]
fn trace_target_writes_trace_lines_for_traced_packets_only() {
    let dir = std::env::temp_dir().join(format!("fwbench-trace-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rules = dir.join("trace.rules");
    std::fs::write(
        &rules,
        "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp -j TRACE\nCOMMIT\n\
         *filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:U - [0:0]\n\
         -A FORWARD -p udp -j U\n-A FORWARD -j ACCEPT\n-A U -p tcp -j DROP\nCOMMIT\n",
    )
    .expect("write");
    let log = dir.join("log");
    let o = fwbench(&[
        "replay",
        &root("captures/k8s-node.pcapng"),
        "--rules",
        rules.to_str().expect("utf-8"),
        "--backend",
        "legacy",
        "--log",
        log.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&log).expect("log written");
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("TRACE: ") && l.contains("PROTO=UDP")),
        "{text}"
    );
    // The first traced DNS query: the rest of raw PREROUTING (its policy), FORWARD's jump,
    // U's end (return), FORWARD's unconditional ACCEPT (which the kernel reports as policy).
    let first: Vec<&str> = lines[..4]
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        first,
        [
            "raw:PREROUTING:policy:2",
            "filter:FORWARD:rule:1",
            "filter:U:return:2",
            "filter:FORWARD:policy:2"
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_iptables_ruleset_never_sees_ipv6_packets() {
    use fwbench::engine::LinkHeader;
    use fwbench::netfilter::stack::{Outcome, Stack};
    let ruleset = parse_ruleset(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n-A FORWARD\n\
         -A FORWARD -m conntrack --ctstate NEW\nCOMMIT\n",
        "v4",
        ParseOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let host = Host::kubernetes_node();
    let mut stack = Stack::new(
        &ruleset,
        &host,
        IpSets::parse("", "n").expect("empty"),
        Config::default(),
    );
    // 2001:db8::99 (on eth0's link) → 2001:db8:5::1 (via the default route): forwarded by
    // the empty ip6tables, whatever the IPv4 policies say.
    let mut p = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
    p.extend_from_slice(
        &"2001:db8::99"
            .parse::<std::net::Ipv6Addr>()
            .expect("v6")
            .octets(),
    );
    p.extend_from_slice(
        &"2001:db8:5::1"
            .parse::<std::net::Ipv6Addr>()
            .expect("v6")
            .octets(),
    );
    p.extend_from_slice(&[0x9c, 0x40, 0, 53, 0, 8, 0, 0]);
    fwbench::wire::verify::recompute(&mut p).expect("checksum");
    let link = LinkHeader {
        src: [2, 0xaa, 0, 0, 0, 9],
        dst: [2, 0, 0, 0, 0, 1],
    };
    let out = stack.receive(1, "eth0", Some(link), &p);
    assert!(
        matches!(out.outcome, Outcome::Forwarded { .. }),
        "{:?}",
        out.outcome
    );
    let counted = stack.counted_ruleset();
    let filter = counted
        .table(fwbench::rules::TableKind::Filter)
        .expect("filter");
    assert!(filter
        .chains()
        .iter()
        .all(|c| c.counters.packets == 0 && c.rules.iter().all(|r| r.counters.packets == 0)));
}

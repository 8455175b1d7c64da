//! Unit tests of the comparison: each kind of difference is found, each allowance accepts
//! only what it should.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::*;
use crate::rules::parse::{parse_ruleset, ParseOptions};
use crate::verify::observe::parse_conntrack;

fn ruleset(text: &str) -> Ruleset {
    parse_ruleset(text, "test.rules", ParseOptions::default()).expect("test ruleset parses")
}

const FILTER: &str = "\
*filter
:INPUT ACCEPT [4:240]
:FORWARD DROP [1:60]
:OUTPUT ACCEPT [0:0]
[3:180] -A FORWARD -p tcp -m tcp --dport 80 -j ACCEPT
[2:120] -A FORWARD -p udp -j ACCEPT
COMMIT
";

fn obs(rules: &str, emitted: &[(&str, Vec<Vec<u8>>)], ct: &str) -> Observation {
    Observation {
        ruleset: ruleset(rules),
        emitted: emitted
            .iter()
            .map(|(i, f)| (i.to_string(), f.clone()))
            .collect::<BTreeMap<_, _>>(),
        conntrack: parse_conntrack(ct).expect("conntrack text"),
    }
}

/// An Ethernet + IPv4 frame: protocol, TTL, id, source, destination, L4 bytes.
fn frame(proto: u8, ttl: u8, id: u16, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let len = (20 + l4.len()) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(&id.to_be_bytes());
    f.extend_from_slice(&[0, 0, ttl, proto, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    let c = crate::wire::checksum::finish(crate::wire::checksum::data(&f[14..34]));
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(l4);
    f
}

fn udp(sport: u16, dport: u16) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&[0, 12, 0x12, 0x34, 1, 2, 3, 4]);
    u
}

#[test]
fn equal_observations_are_exact() {
    let f = frame(17, 63, 7, [10, 1, 0, 5], [198, 51, 100, 7], &udp(1000, 53));
    let k = obs(FILTER, &[("eth0", vec![f.clone()])], "");
    let e = obs(FILTER, &[("eth0", vec![f])], "");
    let c = compare(&k, &e, &CompareOptions::default());
    assert!(c.is_exact(), "{}", c.render());
    // 3 built-in policies + 2 rules.
    assert_eq!(c.counters_compared, 5);
    assert_eq!(c.packets_compared, 1);
    assert!(c
        .render()
        .starts_with("EXACT: counters 5/5 equal, emitted packets 1/1 equal"));
}

#[test]
fn a_counter_difference_names_table_chain_rule_and_text() {
    let k = obs(FILTER, &[], "");
    let e = obs(&FILTER.replace("[3:180]", "[2:120]"), &[], "");
    let c = compare(&k, &e, &CompareOptions::default());
    assert_eq!(
        c.differences,
        vec![Difference::Counter(CounterDiff {
            table: TableKind::Filter,
            chain: "FORWARD".into(),
            rule: Some(1),
            text: "-A FORWARD -p tcp -m tcp --dport 80 -j ACCEPT".into(),
            kernel: Counters::new(3, 180),
            emulated: Counters::new(2, 120),
        })]
    );
    let text = c.render();
    assert!(text.contains("FORWARD") && text.contains("#1"), "{text}");
    assert!(text.contains("DIFFERENT: counters 4/5 equal"), "{text}");
    // Policies too.
    let e = obs(
        &FILTER.replace(":FORWARD DROP [1:60]", ":FORWARD DROP [0:0]"),
        &[],
        "",
    );
    let c = compare(&k, &e, &CompareOptions::default());
    assert!(matches!(
        &c.differences[..],
        [Difference::Counter(CounterDiff { rule: None, .. })]
    ));
}

#[test]
fn a_missing_or_extra_packet_is_found() {
    let a = frame(17, 63, 7, [10, 1, 0, 5], [198, 51, 100, 7], &udp(1000, 53));
    let b = frame(17, 63, 8, [10, 1, 0, 5], [198, 51, 100, 7], &udp(1001, 53));
    let k = obs(FILTER, &[("eth0", vec![a.clone(), b])], "");
    let e = obs(FILTER, &[("eth0", vec![a.clone()])], "");
    let c = compare(&k, &e, &CompareOptions::default());
    assert!(
        matches!(
            &c.differences[..],
            [Difference::Packet(PacketDiff::Missing { index: 1, .. })]
        ),
        "{}",
        c.render()
    );
    // A packet on an interface the kernel never used.
    let e = obs(
        FILTER,
        &[("eth0", vec![a.clone()]), ("cni0", vec![a.clone()])],
        "",
    );
    let k = obs(FILTER, &[("eth0", vec![a])], "");
    let c = compare(&k, &e, &CompareOptions::default());
    assert!(matches!(
        &c.differences[..],
        [Difference::Packet(PacketDiff::Extra { index: 0, .. })]
    ));
}

#[test]
fn a_changed_byte_is_named_by_field() {
    let k = frame(17, 63, 7, [10, 1, 0, 5], [198, 51, 100, 7], &udp(1000, 53));
    let e = frame(17, 64, 7, [10, 1, 0, 5], [198, 51, 100, 7], &udp(1000, 53));
    let c = compare(
        &obs(FILTER, &[("eth0", vec![k])], ""),
        &obs(FILTER, &[("eth0", vec![e])], ""),
        &CompareOptions::default(),
    );
    match &c.differences[..] {
        [Difference::Packet(PacketDiff::Bytes {
            offset,
            field,
            kernel,
            emulated,
            count,
            ..
        })] => {
            assert_eq!((*offset, field.as_str()), (22, "IPv4 ttl"));
            assert_eq!((*kernel, *emulated), (Some(63), Some(64)));
            assert_eq!(*count, 2, "the TTL and one byte of the header checksum");
        }
        d => panic!("{d:?}"),
    }
    // A NAT port that differs is a difference unless ports are allowed to be random.
    let k = frame(
        17,
        63,
        7,
        [192, 168, 0, 2],
        [198, 51, 100, 7],
        &udp(40000, 53),
    );
    let e = frame(
        17,
        63,
        7,
        [192, 168, 0, 2],
        [198, 51, 100, 7],
        &udp(51000, 53),
    );
    let (ko, eo) = (
        obs(FILTER, &[("eth0", vec![k.clone()])], ""),
        obs(FILTER, &[("eth0", vec![e])], ""),
    );
    let c = compare(&ko, &eo, &CompareOptions::default());
    assert!(
        matches!(&c.differences[..], [Difference::Packet(PacketDiff::Bytes { field, .. })] if field == "UDP source port"),
        "{}",
        c.render()
    );
    let opts = CompareOptions {
        nat_ports: Some((1024, 65535)),
        ..CompareOptions::default()
    };
    let c = compare(&ko, &eo, &opts);
    assert!(c.is_exact(), "{}", c.render());
    assert_eq!(c.allowed.get(NAT_PORT.name), Some(&1));
    // ... but only inside the range.
    let opts = CompareOptions {
        nat_ports: Some((50000, 60000)),
        ..CompareOptions::default()
    };
    assert!(!compare(&ko, &eo, &opts).is_exact());
    // Link-layer addresses count only when asked for.
    let mut other_mac = k.clone();
    other_mac[0] = 0x0a;
    let mo = obs(FILTER, &[("eth0", vec![other_mac])], "");
    assert!(compare(&ko, &mo, &CompareOptions::default()).is_exact());
    let opts = CompareOptions {
        link_layer: true,
        ..CompareOptions::default()
    };
    assert!(!compare(&ko, &mo, &opts).is_exact());
}

#[test]
fn the_ip_id_of_an_icmp_error_may_differ_but_not_that_of_other_packets() {
    // Port unreachable quoting a UDP datagram.
    let quoted = frame(17, 64, 1, [10, 1, 0, 5], [192, 168, 0, 2], &udp(1000, 9));
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&quoted[14..]);
    let k = frame(1, 64, 0x1111, [192, 168, 0, 2], [10, 1, 0, 5], &icmp);
    let e = frame(1, 64, 0x2222, [192, 168, 0, 2], [10, 1, 0, 5], &icmp);
    let c = compare(
        &obs(FILTER, &[("cni0", vec![k])], ""),
        &obs(FILTER, &[("cni0", vec![e])], ""),
        &CompareOptions::default(),
    );
    assert!(c.is_exact(), "{}", c.render());
    assert_eq!(c.allowed.get(ICMP_IP_ID.name), Some(&1));
    assert_eq!(c.allowed.get(CHECKSUM_FOLLOWS.name), Some(&1));
    assert!(c.render().contains("allowed 1x icmp-ip-id"));
    // An echo request's id is the sender's, not random.
    let k = frame(
        1,
        64,
        0x1111,
        [192, 168, 0, 2],
        [10, 1, 0, 5],
        &[8, 0, 0, 0, 0, 1, 0, 1],
    );
    let e = frame(
        1,
        64,
        0x2222,
        [192, 168, 0, 2],
        [10, 1, 0, 5],
        &[8, 0, 0, 0, 0, 1, 0, 1],
    );
    let c = compare(
        &obs(FILTER, &[("cni0", vec![k])], ""),
        &obs(FILTER, &[("cni0", vec![e])], ""),
        &CompareOptions::default(),
    );
    assert!(!c.is_exact());
}

const CT_KERNEL: &str = "\
udp      17 29 src=10.1.0.5 dst=10.96.0.10 sport=5353 dport=53 src=10.244.1.3 dst=10.1.0.5 sport=53 dport=5353 [ASSURED] mark=0 use=1
tcp      6 118 SYN_SENT src=10.1.0.5 dst=198.51.100.20 sport=40000 dport=80 [UNREPLIED] src=198.51.100.20 dst=192.168.0.2 sport=80 dport=40000 mark=0 use=1
";

#[test]
fn conntrack_entries_are_compared_field_by_field() {
    let k = obs(FILTER, &[], CT_KERNEL);
    // Timeouts tick: not compared.
    let e = obs(FILTER, &[], &CT_KERNEL.replace(" 29 ", " 30 "));
    assert!(compare(&k, &e, &CompareOptions::default()).is_exact());
    // A state that differs.
    let e = obs(FILTER, &[], &CT_KERNEL.replace("SYN_SENT", "SYN_RECV"));
    let c = compare(&k, &e, &CompareOptions::default());
    assert!(
        matches!(&c.differences[..], [Difference::Conntrack { what, .. }] if what == "state"),
        "{}",
        c.render()
    );
    // A missing entry.
    let e = obs(FILTER, &[], CT_KERNEL.lines().next().unwrap());
    let c = compare(&k, &e, &CompareOptions::default());
    assert!(matches!(
        &c.differences[..],
        [Difference::Conntrack { emulated: None, .. }]
    ));
    assert_eq!(c.connections_compared, 2);
    // A random backend choice: another endpoint in the reply tuple.
    let e = obs(
        FILTER,
        &[],
        &CT_KERNEL.replace("src=10.244.1.3", "src=10.244.2.7"),
    );
    assert!(!compare(&k, &e, &CompareOptions::default()).is_exact());
    let endpoints: BTreeSet<IpAddr> = ["10.244.1.3", "10.244.2.7"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    let opts = CompareOptions {
        random_endpoints: endpoints,
        ..CompareOptions::default()
    };
    let c = compare(&k, &e, &opts);
    assert!(c.is_exact(), "{}", c.render());
    assert_eq!(c.allowed.get(RANDOM_ENDPOINT.name), Some(&1));
    // A SNAT port chosen on a clash.
    let e = obs(
        FILTER,
        &[],
        &CT_KERNEL.replace("sport=80 dport=40000", "sport=80 dport=61000"),
    );
    assert!(!compare(&k, &e, &CompareOptions::default()).is_exact());
    let opts = CompareOptions {
        nat_ports: Some((1024, 65535)),
        ..CompareOptions::default()
    };
    assert!(compare(&k, &e, &opts).is_exact());
}

const RANDOM_NAT: &str = "\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
:SEP1 - [0:0]
:SEP2 - [0:0]
[10:600] -A PREROUTING -d 10.96.0.10/32 -j SVC
[4:240] -A SVC -m statistic --mode random --probability 0.50000000000 -j SEP1
[6:360] -A SVC -j SEP2
[4:240] -A SEP1 -p udp -j DNAT --to-destination 10.244.1.3:53
[6:360] -A SEP2 -p udp -j DNAT --to-destination 10.244.2.7:53
COMMIT
";

#[test]
fn random_chains_are_compared_by_totals() {
    let k = obs(RANDOM_NAT, &[], "");
    // Another split between the endpoints, same totals: accepted, with a note.
    let other = RANDOM_NAT
        .replace("[4:240] -A SVC", "[7:420] -A SVC")
        .replace("[6:360] -A SVC", "[3:180] -A SVC")
        .replace("[4:240] -A SEP1", "[7:420] -A SEP1")
        .replace("[6:360] -A SEP2", "[3:180] -A SEP2");
    let c = compare(&k, &obs(&other, &[], ""), &CompareOptions::default());
    assert!(c.is_exact(), "{}", c.render());
    assert!(c
        .notes
        .iter()
        .any(|n| n.contains("nat SVC uses -m statistic --mode random")));
    // A different total (one connection lost) is still found.
    let fewer = other.replace("[3:180] -A SEP2", "[2:120] -A SEP2");
    let c = compare(&k, &obs(&fewer, &[], ""), &CompareOptions::default());
    assert!(
        matches!(&c.differences[..], [Difference::Counter(CounterDiff { chain, rule: None, .. })] if chain == "SVC"),
        "{}",
        c.render()
    );
    // The jump into the random chain is still compared exactly.
    let c = compare(
        &k,
        &obs(&RANDOM_NAT.replace("[10:600]", "[9:540]"), &[], ""),
        &CompareOptions::default(),
    );
    assert!(matches!(
        &c.differences[..],
        [Difference::Counter(CounterDiff { rule: Some(1), .. })]
    ));
}

#[test]
fn options_follow_the_ruleset() {
    let opts = CompareOptions::for_ruleset(&ruleset(RANDOM_NAT));
    let want: BTreeSet<IpAddr> = ["10.244.1.3", "10.244.2.7"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    assert_eq!(opts.random_endpoints, want);
    assert_eq!(opts.nat_ports, None, "DNAT alone keeps source ports");
    assert!(!opts.link_layer);
    let masq = RANDOM_NAT.replace(
        "COMMIT",
        "-A POSTROUTING -o eth0 -j MASQUERADE\n-A POSTROUTING -o eth1 -p udp -j SNAT --to-source 192.0.2.1:500-600\nCOMMIT",
    );
    let opts = CompareOptions::for_ruleset(&ruleset(&masq));
    assert_eq!(opts.nat_ports, Some((500, 65535)));
    assert_eq!(
        CompareOptions::for_ruleset(&ruleset(FILTER)).nat_ports,
        None
    );
    assert_eq!(
        nat_address("10.0.0.1-10.0.0.9:80"),
        Some("10.0.0.1".parse().unwrap())
    );
    assert_eq!(
        nat_address("[2001:db8::7]:53"),
        Some("2001:db8::7".parse().unwrap())
    );
    assert_eq!(
        nat_address("2001:db8::7"),
        Some("2001:db8::7".parse().unwrap())
    );
    assert_eq!(range_low_port("192.0.2.1:500-600"), Some(500));
    // The options are named in the output.
    let c = compare(&obs(FILTER, &[], ""), &obs(FILTER, &[], ""), &opts);
    assert!(c
        .render()
        .contains("ports that differ are accepted when both are in 500-65535"));
}

#[test]
fn every_allowance_has_a_reason() {
    for a in ALLOWANCES {
        assert!(!a.reason.is_empty() && !a.name.contains(' '), "{a:?}");
    }
}

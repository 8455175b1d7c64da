//! `verify` notices a wrong emulation (issue 5): a small scenario (forwarded TCP and UDP
//! through filter FORWARD rules, a local ping) is exact against the kernel; the same
//! scenario with the test-only fault `Fault::MiscountRule` (the emulation reports one
//! packet more for one rule) is not, and the only difference names that rule.

mod common;

use common::{root_with, skip};
use fwbench::host::Host;
use fwbench::netfilter::stack::{Config, Fault};
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::{Backend, Family, TableKind};
use fwbench::verify::{verify, Difference, Injected, Timed, VerifyInputs};

const RULES: &str = "\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -p tcp -m tcp --dport 80 -j ACCEPT
-A FORWARD -p udp -m udp --dport 53 -j ACCEPT
COMMIT
";

const ETH0_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const CNI0_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const PEER: [u8; 6] = [2, 0xfb, 0, 0, 0, 0x10];

/// An IPv4 packet `src` → `dst` with the upper layer `l4`, checksums filled.
fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    ip.extend_from_slice(&[0, 7, 0x40, 0, 64, proto, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    ip.extend_from_slice(l4);
    fwbench::wire::verify::recompute(&mut ip).expect("valid lengths");
    ip
}

fn tcp(sport: u16, dport: u16, flags: u8, seq: u32, ack: u32) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    t
}

fn frame(iface: &str, ip: Vec<u8>) -> Timed {
    let dst = if iface == "eth0" { ETH0_MAC } else { CNI0_MAC };
    let mut f = dst.to_vec();
    f.extend_from_slice(&PEER);
    f.extend_from_slice(&[8, 0]);
    f.extend_from_slice(&ip);
    Timed {
        ts_ns: 0,
        packet: Injected::Frame {
            iface: iface.into(),
            frame: f,
        },
    }
}

/// A client on the uplink talks to a pod: a TCP handshake to port 80, a DNS query and its
/// answer, a UDP datagram FORWARD drops; the host pings the client.
fn packets() -> Vec<Timed> {
    let (client, pod) = ([192, 168, 0, 10], [10, 244, 0, 5]);
    let udp = |sport: u16, dport: u16| {
        let mut u = sport.to_be_bytes().to_vec();
        u.extend_from_slice(&dport.to_be_bytes());
        u.extend_from_slice(&[0, 13, 0, 0]);
        u.extend_from_slice(b"query");
        u
    };
    let ping = {
        let mut i = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
        i.extend_from_slice(&[0x61; 16]);
        i
    };
    let mut out = vec![
        frame("eth0", ipv4(client, pod, 6, &tcp(40000, 80, 0x02, 1000, 0))),
        frame(
            "cni0",
            ipv4(pod, client, 6, &tcp(80, 40000, 0x12, 5000, 1001)),
        ),
        frame(
            "eth0",
            ipv4(client, pod, 6, &tcp(40000, 80, 0x10, 1001, 5001)),
        ),
        frame("eth0", ipv4(client, pod, 17, &udp(40001, 53))),
        frame("cni0", ipv4(pod, client, 17, &udp(53, 40001))),
        frame("eth0", ipv4(client, pod, 17, &udp(40002, 9999))),
    ];
    out.push(Timed {
        ts_ns: 0,
        packet: Injected::Local {
            ip: ipv4([192, 168, 0, 2], client, 1, &ping),
        },
    });
    for (i, t) in out.iter_mut().enumerate() {
        t.ts_ns = i as i64 * 1_000_000;
    }
    out
}

#[test]
fn a_miscounted_rule_makes_verify_fail_and_is_named() {
    if let Err(why) = root_with(&[
        "ip",
        "ethtool",
        "iptables-nft-restore",
        "conntrack",
        "sysctl",
    ]) {
        skip(&why);
        return;
    }
    fwbench::verify::install_signal_cleanup();
    let ruleset = parse_ruleset(
        RULES,
        "miscount",
        ParseOptions {
            family: Family::Ipv4,
            backend: Backend::Nft,
        },
    )
    .expect("the ruleset parses");
    let host = Host::kubernetes_node();
    let run = |fault: Option<Fault>| {
        verify(VerifyInputs {
            packets: packets(),
            rules_text: RULES,
            ruleset: &ruleset,
            ipsets_text: None,
            host: &host,
            config: Config {
                fault,
                ..Config::default()
            },
        })
        .expect("verify runs")
    };
    let honest = run(None);
    assert!(
        honest.comparison.is_exact(),
        "without the fault the scenario must be exact:\n{}",
        honest.comparison.render()
    );
    let faulty = run(Some(Fault::MiscountRule {
        table: TableKind::Filter,
        chain: "FORWARD".into(),
        rule: 1,
    }));
    let rendered = faulty.comparison.render();
    assert!(!faulty.comparison.is_exact(), "the fault went unnoticed");
    let diffs = &faulty.comparison.differences;
    assert_eq!(diffs.len(), 1, "{rendered}");
    let Difference::Counter(c) = &diffs[0] else {
        panic!("expected a counter difference:\n{rendered}");
    };
    assert_eq!(
        (c.table, c.chain.as_str(), c.rule),
        (TableKind::Filter, "FORWARD", Some(2))
    );
    assert_eq!(c.text, "-A FORWARD -p tcp -m tcp --dport 80 -j ACCEPT");
    assert_eq!(c.emulated.packets, c.kernel.packets + 1);
    assert_eq!(c.kernel.packets, 1, "the SYN");
    assert!(rendered.contains("--dport 80"), "{rendered}");
}

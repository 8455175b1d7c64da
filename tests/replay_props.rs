//! No input makes the replay panic: arbitrary bytes behind a plausible IPv4 or IPv6 header,
//! on any interface of the built-in node, through the shipped node ruleset (conntrack, NAT,
//! REJECT, recent, statistic ...), and every packet still ends in one outcome.

use fwbench::engine::LinkHeader;
use fwbench::host::Host;
use fwbench::netfilter::stack::{Config, Stack};
use fwbench::rules::ipset::IpSets;
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use proptest::prelude::*;

fn packet() -> impl Strategy<Value = (bool, u8, Vec<u8>, Vec<u8>)> {
    (
        any::<bool>(),
        prop::sample::select(vec![1u8, 6, 17, 58, 132, 47, 0]),
        prop::collection::vec(any::<u8>(), 0..8),
        prop::collection::vec(any::<u8>(), 0..80),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn arbitrary_packets_end_in_an_outcome(
        packets in prop::collection::vec((packet(), 0usize..3, any::<bool>()), 1..12)
    ) {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rulesets/k8s-node.rules"),
        ).expect("ruleset");
        let rs = parse_ruleset(&text, "k8s-node.rules", ParseOptions::default()).expect("parses");
        let host = Host::kubernetes_node();
        let mut stack = Stack::new(&rs, &host, IpSets::parse("", "n").expect("empty"), Config::default());
        for (i, ((v6, proto, addr_bytes, rest), iface, from_host)) in packets.into_iter().enumerate() {
            // Addresses drawn from the node's own, its pods and services, or anything.
            let pick = |k: u8| -> [u8; 4] {
                match k % 5 {
                    0 => [192, 168, 0, 2],
                    1 => [10, 180, 0, k],
                    2 => [172, 30, 0, k],
                    3 => [203, 0, 113, k],
                    _ => [k, k.wrapping_mul(7), 1, 2],
                }
            };
            let a = addr_bytes.first().copied().unwrap_or(3);
            let b = addr_bytes.get(1).copied().unwrap_or(1);
            let mut ip = if v6 {
                let mut p = vec![0x60, 0, 0, 0];
                p.extend_from_slice(&(rest.len() as u16).to_be_bytes());
                p.extend_from_slice(&[proto, 64]);
                p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, a]);
                p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b]);
                p
            } else {
                let mut p = vec![0x45, 0];
                p.extend_from_slice(&((20 + rest.len()) as u16).to_be_bytes());
                p.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
                p.extend_from_slice(&pick(a));
                p.extend_from_slice(&pick(b));
                p
            };
            ip.extend_from_slice(&rest);
            let _ = fwbench::wire::verify::recompute(&mut ip);
            let ts = i as i64 * 1_000_000;
            let out = if from_host {
                stack.send_local(ts, &ip)
            } else {
                let name = ["eth0", "cni0", "lo"][iface];
                let link = LinkHeader { src: [2, 0xaa, 0, 0, 0, 9], dst: [2, 0, 0, 0, 0, 1 + iface as u8] };
                stack.receive(ts, name, Some(link), &ip)
            };
            prop_assert!(!out.outcome.category().is_empty());
        }
    }
}

//! The shipped example (rulesets/k8s-node.rules with captures/k8s-node.pcapng on the built-in
//! Kubernetes node) through `fwbench verify`: the real kernel and the emulation must agree on
//! every counter, every emitted packet and every connection, for both iptables variants.
//! Where the ruleset chooses backends at random, any of the listed endpoints is accepted
//! (verify's `random-endpoint` allowance).

mod common;

use std::path::Path;

use fwbench::host::Host;
use fwbench::netfilter::stack::Config;
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::Backend;
use fwbench::verify::{packets_of_capture, verify, VerifyInputs};

#[test]
fn shipped_example_agrees_with_the_kernel_on_both_backends() {
    if let Err(why) = common::kernel_available()
        .and_then(|()| common::root_with(&["iptables-legacy-restore", "conntrack", "ethtool"]))
    {
        common::skip(&why);
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("rulesets/k8s-node.rules")).expect("ruleset");
    let host = Host::kubernetes_node();
    let packets =
        packets_of_capture(&root.join("captures/k8s-node.pcapng"), &host, None).expect("capture");
    for backend in [Backend::Nft, Backend::Legacy] {
        let opts = ParseOptions {
            backend,
            ..ParseOptions::default()
        };
        let ruleset =
            parse_ruleset(&text, "k8s-node.rules", opts).unwrap_or_else(|d| panic!("{d}"));
        let report = verify(VerifyInputs {
            packets: packets.clone(),
            rules_text: &text,
            ruleset: &ruleset,
            ipsets_text: None,
            host: &host,
            config: Config {
                backend,
                ..Config::default()
            },
        })
        .unwrap_or_else(|e| panic!("{backend:?}: verify failed to run: {e}"));
        let c = &report.comparison;
        eprintln!("{backend:?}: {}", c.render().lines().last().unwrap_or(""));
        assert!(c.is_exact(), "{backend:?}:\n{}", c.render());
        assert!(
            c.packets_compared >= 80,
            "{} packets compared",
            c.packets_compared
        );
        assert!(c.connections_compared >= 20);
    }
}

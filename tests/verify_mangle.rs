//! Mangle targets that rewrite forwarded packets, against the kernel with `verify` on the
//! shipped capture: `-j TCPMSS --clamp-mss-to-pmtu` (pod traffic behind a 1400-byte MTU
//! interface gets its SYNs' MSS lowered to 1360 in both directions) and `-j ECN` on the TCP
//! ECE/CWR bits and the IP codepoint.

mod common;

use std::path::Path;

use fwbench::host::Host;
use fwbench::netfilter::stack::Config;
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::verify::{packets_of_capture, verify, VerifyInputs};

const HOST: &str = r#"
[sysctl]
route_localnet = true
[[interface]]
name = "eth0"
mac = "02:00:00:00:00:01"
addresses = ["192.168.0.2/24", "192.168.1.2/24", "192.168.99.11/24"]
[[interface]]
name = "cni0"
mac = "02:00:00:00:00:02"
mtu = 1400
[[route]]
destination = "0.0.0.0/0"
gateway = "192.168.0.1"
interface = "eth0"
[[route]]
destination = "10.0.0.0/8"
interface = "cni0"
"#;

const RULES: &str = "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n\
:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n\
*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
-A PREROUTING -d 172.30.0.0/16 -p tcp -j DNAT --to-destination 10.180.0.5\nCOMMIT\n";

#[test]
fn clamp_mss_to_pmtu_agrees_with_the_kernel() {
    if let Err(why) =
        common::kernel_available().and_then(|()| common::root_with(&["conntrack", "ethtool"]))
    {
        common::skip(&why);
        return;
    }
    let host = Host::from_toml_str("mtu-host.toml", HOST).expect("host");
    let ruleset = parse_ruleset(RULES, "mss.rules", ParseOptions::default())
        .unwrap_or_else(|d| panic!("{d}"));
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/k8s-node.pcapng");
    let packets = packets_of_capture(&capture, &host, None).expect("capture");
    let report = verify(VerifyInputs {
        packets,
        rules_text: RULES,
        ruleset: &ruleset,
        ipsets_text: None,
        host: &host,
        config: Config::default(),
    })
    .unwrap_or_else(|e| panic!("verify: {e}"));
    assert!(
        report.comparison.is_exact(),
        "{}",
        report.comparison.render()
    );
    // The clamp did something: SYNs leaving by either interface carry MSS 1360.
    let mss_1360 = report
        .emulated
        .emitted
        .values()
        .flatten()
        .filter(|f| f.windows(4).any(|w| w == [2, 4, 0x05, 0x50]))
        .count();
    assert!(mss_1360 >= 10, "{mss_1360} SYNs clamped to 1360");
}

#[test]
fn ecn_target_rewrites_tcp_bits_and_codepoint_as_the_kernel() {
    if let Err(why) =
        common::kernel_available().and_then(|()| common::root_with(&["conntrack", "ethtool"]))
    {
        common::skip(&why);
        return;
    }
    let rules = "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n\
                 :OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
                 -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j ECN --ecn-tcp-remove\n\
                 -A FORWARD -p tcp -m tcp --tcp-flags SYN,ACK ACK -j ECN --ecn-tcp-cwr 1 --ecn-ip-ect 2\n\
                 COMMIT\n";
    let host = Host::kubernetes_node();
    let ruleset = parse_ruleset(rules, "ecn.rules", ParseOptions::default())
        .unwrap_or_else(|d| panic!("{d}"));
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/k8s-node.pcapng");
    let packets = packets_of_capture(&capture, &host, None).expect("capture");
    let report = verify(VerifyInputs {
        packets,
        rules_text: rules,
        ruleset: &ruleset,
        ipsets_text: None,
        host: &host,
        config: Config::default(),
    })
    .unwrap_or_else(|e| panic!("verify: {e}"));
    assert!(
        report.comparison.is_exact(),
        "{}",
        report.comparison.render()
    );
    // ECT(0) codepoint 2 and CWR on forwarded ACKs: the rewrite happened.
    let rewritten = report
        .emulated
        .emitted
        .values()
        .flatten()
        .filter(|f| f.len() > 14 + 33 && f[14 + 1] & 3 == 2 && f[14 + 33] & 0x80 != 0)
        .count();
    assert!(rewritten >= 10, "{rewritten} ACKs rewritten");
}

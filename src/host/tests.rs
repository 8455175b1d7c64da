//! Unit tests of the host model against facts observed on Linux 6.18 (the kernel-differential
//! test in tests/host_kernel.rs checks the same questions in bulk).

use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn idx(h: &Host, name: &str) -> u32 {
    h.interface(name).unwrap().index
}

#[test]
fn kubernetes_node_routes_like_a_node() {
    let h = Host::kubernetes_node();
    let user: Vec<String> = h
        .routes()
        .iter()
        .filter(|r| r.protocol != Protocol::KERNEL)
        .map(|r| format!("{} {:?}", r.destination, r.gateway))
        .collect();
    assert_eq!(
        user,
        [
            "0.0.0.0/0 Some(192.168.0.1)",
            "10.0.0.0/8 None",
            "::/0 Some(2001:db8::fffe)"
        ]
    );
    let eth0 = idx(&h, "eth0");
    let cni0 = idx(&h, "cni0");
    let out = h.route_output(ip("8.8.8.8"), None, 0).unwrap();
    assert_eq!(out.kind, RouteType::Unicast);
    assert_eq!(
        (out.dev, out.gateway, out.src),
        (eth0, Some(ip("192.168.0.1")), Some(ip("192.168.0.2")))
    );
    let pod = h.route_output(ip("10.180.0.1"), None, 0).unwrap();
    assert_eq!(
        (pod.dev, pod.gateway, pod.src),
        (cni0, None, Some(ip("192.168.0.2")))
    );
    let local = h
        .route_input(ip("192.168.99.11"), ip("203.0.113.2"), eth0, 0)
        .unwrap();
    assert!(local.is_local_delivery());
    let fwd = h
        .route_input(ip("10.180.0.1"), ip("203.0.113.2"), eth0, 0)
        .unwrap();
    assert_eq!((fwd.kind, fwd.dev), (RouteType::Unicast, cni0));
    // route_localnet=1 (kube-proxy): 127.0.0.1 from the wire is delivered, not martian.
    let lo = h
        .route_input(ip("127.0.0.1"), ip("203.0.113.2"), eth0, 0)
        .unwrap();
    assert!(lo.is_local_delivery());
    for a in [
        "127.0.0.1",
        "::1",
        "192.168.0.2",
        "192.168.1.2",
        "192.168.99.11",
        "2001:db8::1",
        "2001:db8:1::2",
        "127.9.9.9",
    ] {
        assert!(h.is_local(ip(a)), "{a} is local");
        assert!(
            h.addrtype_matches(ip(a), addrtype_bits::LOCAL, None),
            "{a} LOCAL"
        );
    }
    for a in [
        "10.0.0.2",
        "192.168.0.1",
        "1.2.3.4",
        "2001:db8::2",
        "172.30.0.41",
    ] {
        assert!(!h.is_local(ip(a)), "{a} is not local");
    }
    assert_eq!(
        h.addr_type_v4("192.168.0.255".parse().unwrap(), None),
        RouteType::Broadcast
    );
    assert_eq!(
        h.addr_type_v4("192.168.0.0".parse().unwrap(), None),
        RouteType::Unicast
    );
    // Since Linux 5.x only 0.0.0.0 of 0.0.0.0/8 is special (checked with real counters).
    assert_eq!(
        h.addr_type_v4("0.0.0.0".parse().unwrap(), None),
        RouteType::Broadcast
    );
    assert_eq!(
        h.addr_type_v4("0.1.2.3".parse().unwrap(), None),
        RouteType::Unicast
    );
    assert_eq!(
        h.addr_type_v4("239.1.1.1".parse().unwrap(), None),
        RouteType::Multicast
    );
    // --limit-iface: 127.0.0.1 is LOCAL only "on lo".
    assert_eq!(
        h.addr_type_v4("127.0.0.1".parse().unwrap(), Some(eth0)),
        RouteType::Unicast
    );
    assert_eq!(
        h.addr_type_v4("192.168.0.2".parse().unwrap(), Some(eth0)),
        RouteType::Local
    );
    assert_eq!(
        h.masquerade_source(eth0, ip("192.168.0.1")),
        Some(ip("192.168.0.2"))
    );
    assert_eq!(
        h.masquerade_source(eth0, ip("192.168.1.7")),
        Some(ip("192.168.1.2"))
    );
    assert_eq!(
        h.masquerade_source(cni0, ip("10.180.0.1")),
        Some(ip("192.168.0.2"))
    );
}

#[test]
fn secondary_addresses_never_masquerade_and_share_the_primary_src() {
    let h = Host::from_toml_str(
        "t.toml",
        r#"
[[interface]]
name = "eth0"
addresses = ["192.168.0.3/24", "192.168.0.2/24", "10.1.0.1/16"]
[[route]]
destination = "default"
gateway = "192.168.0.1"
"#,
    )
    .unwrap();
    let eth0 = h.interface("eth0").unwrap();
    let order: Vec<(String, bool)> = eth0
        .v4_addresses()
        .map(|a| (a.local.to_string(), a.secondary))
        .collect();
    assert_eq!(
        order,
        [
            ("192.168.0.3".into(), false),
            ("10.1.0.1".into(), false),
            ("192.168.0.2".into(), true)
        ]
    );
    assert_eq!(
        h.masquerade_source(eth0.index, ip("192.168.0.1")),
        Some(ip("192.168.0.3"))
    );
    assert_eq!(
        h.masquerade_source(eth0.index, ip("8.8.8.8")),
        Some(ip("192.168.0.3"))
    );
    let local = h
        .routes()
        .iter()
        .find(|r| r.destination == Prefix::host(ip("192.168.0.2")))
        .unwrap();
    assert_eq!(local.prefsrc, Some(ip("192.168.0.3")));
}

#[test]
fn merged_tables_prefer_the_longer_main_prefix_until_a_rule_exists() {
    let base = r#"
[[interface]]
name = "eth0"
addresses = ["192.168.0.2/24"]
[[interface]]
name = "eth1"
addresses = ["10.0.0.1/8"]
[[route]]
destination = "default"
gateway = "192.168.0.1"
[[route]]
type = "local"
destination = "10.50.0.0/16"
interface = "lo"
[[route]]
destination = "10.50.1.0/24"
gateway = "192.168.0.1"
"#;
    let h = Host::from_toml_str("t.toml", base).unwrap();
    let r = h.route_output(ip("10.50.1.1"), None, 0).unwrap();
    assert_eq!(
        (r.kind, r.gateway),
        (RouteType::Unicast, Some(ip("192.168.0.1")))
    );
    assert_eq!(
        h.route_output(ip("10.50.2.1"), None, 0).unwrap().kind,
        RouteType::Local
    );
    let with_rule = format!(
        "{base}\n[[route]]\ndestination = \"default\"\ngateway = \"10.0.0.88\"\ntable = 100\n\
         [[rule]]\npriority = 100\nfwmark = \"0x5/0xf\"\ntable = 100\n"
    );
    let h = Host::from_toml_str("t.toml", &with_rule).unwrap();
    assert_eq!(
        h.route_output(ip("10.50.1.1"), None, 0).unwrap().kind,
        RouteType::Local
    );
    let marked = h.route_output(ip("8.8.8.8"), None, 5).unwrap();
    assert_eq!((marked.gateway, marked.table), (Some(ip("10.0.0.88")), 100));
    assert_eq!(marked.src, Some(ip("10.0.0.1")));
    assert_eq!(
        h.route_output(ip("8.8.8.8"), None, 0x15).unwrap().table,
        100
    );
    assert_eq!(
        h.route_output(ip("8.8.8.8"), None, 6).unwrap().table,
        TABLE_MAIN
    );
}

#[test]
fn input_errors_match_the_kernel() {
    let text = r#"
[[interface]]
name = "eth0"
addresses = ["192.168.0.2/24"]
[[interface]]
name = "eth1"
addresses = ["10.0.0.1/8"]
[[route]]
destination = "default"
gateway = "192.168.0.1"
[[route]]
type = "blackhole"
destination = "10.60.0.0/16"
[[route]]
type = "prohibit"
destination = "10.61.0.0/16"
"#;
    let h = Host::from_toml_str("t.toml", text).unwrap();
    let eth1 = idx(&h, "eth1");
    let e = |d: &str, s: &str| h.route_input(ip(d), ip(s), eth1, 0).unwrap_err().errno;
    assert_eq!(e("10.60.0.1", "10.0.0.5"), Errno::Invalid);
    assert_eq!(e("10.61.0.1", "10.0.0.5"), Errno::Access);
    assert_eq!(e("127.0.0.1", "10.0.0.5"), Errno::Invalid);
    assert_eq!(e("8.8.8.8", "192.168.0.2"), Errno::Invalid);
    assert_eq!(e("224.0.0.5", "10.0.0.5"), Errno::Invalid);
    assert!(h
        .route_input(ip("192.168.0.255"), ip("10.0.0.5"), eth1, 0)
        .unwrap()
        .is_local_delivery());
    assert!(h
        .route_input(ip("8.8.8.8"), ip("192.168.0.255"), eth1, 0)
        .is_ok());
    let off =
        Host::from_toml_str("t.toml", &format!("[sysctl]\nip_forward = false\n{text}")).unwrap();
    let e = off
        .route_input(ip("10.60.0.1"), ip("10.0.0.5"), eth1, 0)
        .unwrap_err();
    assert_eq!(
        (e.errno, e.reason),
        (Errno::HostUnreachable, NoRouteReason::ForwardingDisabled)
    );
    assert_eq!(e.icmp_unreachable_code(false), None);
    assert_eq!(
        h.route_output(ip("8.8.8.8"), Some(ip("1.2.3.4")), 0)
            .unwrap_err()
            .errno,
        Errno::NetUnreachable
    );
}

#[test]
fn toml_errors_name_line_and_column() {
    let cases = [
        (
            "[[interface]]\nname = \"eth0\"\naddresses = [\"192.168.0.300/24\"]\n",
            3,
            14,
            "not an IPv4",
        ),
        (
            "[[interface]]\nname = \"eth0\"\nmac = \"zz\"\n",
            3,
            7,
            "MAC",
        ),
        (
            "[[interface]]\nname = \"eth0\"\ncolour = 1\n",
            3,
            1,
            "unknown field",
        ),
        (
            "[[route]]\ndestination = \"10.0.0.0/8\"\ngateway = \"192.168.5.1\"\n",
            1,
            1,
            "not reachable",
        ),
        (
            "[[interface]]\nname = \"eth0\"\naddresses = [\"10.0.0.1/8\", \"10.0.0.1/8\"]\n",
            3,
            28,
            "already",
        ),
        (
            "[[interface]]\nname = \"eth0\"\n[[interface]]\nname = \"eth0\"\n",
            4,
            8,
            "twice",
        ),
        ("[sysctl]\nrp_filter = 3\n", 2, 13, "rp_filter"),
        ("[[route\n", 1, 8, ""),
    ];
    for (text, line, col, want) in cases {
        let e = Host::from_toml_str("h.toml", text).unwrap_err();
        assert_eq!((e.line, e.column), (line, col), "{text:?}: {e}");
        assert!(e.message.contains(want), "{text:?}: {e}");
        assert!(e
            .to_string()
            .starts_with(&format!("h.toml:{line}:{col}: error: ")));
    }
}

#[test]
fn ipv6_addrtype_as_observed_with_ip6tables() {
    // Observed on 6.18: ip6tables raw PREROUTING counters for datagrams sent into eth0.
    let h = Host::from_toml_str(
        "v6.toml",
        r#"
[[interface]]
name = "eth0"
addresses = ["2001:db8::1/64"]
[[route]]
type = "unreachable"
destination = "2001:db8:dead::/48"
[[route]]
type = "blackhole"
destination = "2001:db8:bad::/48"
[[route]]
destination = "2001:db8:beef::/48"
gateway = "2001:db8::fffe"
"#,
    )
    .unwrap();
    let eth0 = idx(&h, "eth0");
    use addrtype_bits::*;
    let all = [UNSPEC, UNICAST, LOCAL, ANYCAST, MULTICAST, UNREACHABLE];
    let seen = |a: &str, dev: Option<u32>| -> Vec<u16> {
        all.iter()
            .copied()
            .filter(|&b| h.addrtype_matches(ip(a), b, dev))
            .collect()
    };
    for dev in [None, Some(eth0)] {
        assert_eq!(seen("2001:db8::1", dev), [UNICAST, LOCAL]);
        assert_eq!(seen("2001:db8::", dev), [UNICAST, ANYCAST]);
        assert_eq!(seen("2001:db8::5", dev), [UNICAST]);
        assert_eq!(seen("2001:db8:dead::1", dev), [UNICAST, UNREACHABLE]);
        assert_eq!(seen("2001:db8:bad::1", dev), [UNICAST, UNREACHABLE]);
        assert_eq!(seen("2001:db8:beef::1", dev), [UNICAST]);
        assert_eq!(
            seen("2001:db8:beef::", dev),
            [UNICAST],
            "a gateway route is no anycast"
        );
        assert_eq!(
            seen("2600::1", dev),
            [UNICAST, UNREACHABLE],
            "no default route"
        );
        assert_eq!(seen("ff05::2", dev), [MULTICAST]);
    }
    assert_eq!(seen("::", None), [UNSPEC, UNREACHABLE]);
}

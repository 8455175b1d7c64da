//! Host inputs without a kernel: the TOML files of tests/data/host/ and the `ip -j` dumps
//! taken from the same hosts built in a namespace (`FWBENCH_HOST_DUMP`, see host_kernel.rs)
//! must describe the same machine: same routes, same answers. Answers the kernel gave for these
//! hosts (recorded from `ip route get`) are asserted literally. Errors name file, line, column.

use std::net::IpAddr;
use std::path::Path;

use fwbench::host::{addrtype_bits as bits, Errno, Host, RouteType, TABLE_MAIN};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/host")
        .join(name)
}

fn toml_host(name: &str) -> Host {
    Host::from_toml_file(&data(&format!("{name}.toml"))).unwrap_or_else(|e| panic!("{e}"))
}

fn json_host(name: &str, routes: &str) -> Host {
    let mut h = Host::from_ip_json_files(
        &data(&format!("{name}.addr.json")),
        &data(&format!("{name}.{routes}.json")),
        Some(&data(&format!("{name}.rule.json"))),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The dumps carry no sysctls: take them from the host they were made from.
    let model = match name {
        "kubernetes_node" => Host::kubernetes_node(),
        n => toml_host(n),
    };
    h.set_sysctl(model.sysctl().clone());
    for i in model.interfaces() {
        if let Some(c) = h.interface_conf_mut(&i.name) {
            *c = i.conf.clone();
        }
    }
    h
}

/// Everything the engine asks, as one comparable text per address.
fn answers(h: &Host, addrs: &[&str]) -> Vec<String> {
    let ifs: Vec<u32> = h.interfaces().iter().map(|i| i.index).collect();
    addrs
        .iter()
        .map(|a| {
            let a = ip(a);
            let src = if a.is_ipv4() {
                ip("203.0.113.9")
            } else {
                ip("2600::9")
            };
            let mut s = format!("{a}: out {:?}", h.route_output(a, None, 0));
            for &i in &ifs {
                s += &format!(" in{i} {:?}", h.route_input(a, src, i, 5));
                s += &format!(" at{i} {}", h.addrtype_matches(a, bits::LOCAL, Some(i)));
            }
            s += &format!(" local {}", h.is_local(a));
            s
        })
        .collect()
}

const PROBES: &[&str] = &[
    "192.168.0.2",
    "192.168.0.3",
    "192.168.0.255",
    "192.168.1.7",
    "10.9.9.9",
    "172.16.0.0",
    "172.17.1.255",
    "172.17.255.255",
    "10.0.0.1",
    "10.1.0.1",
    "10.200.0.1",
    "10.50.1.1",
    "10.50.2.1",
    "10.60.0.1",
    "10.72.0.1",
    "127.0.0.1",
    "8.8.8.8",
    "224.0.0.1",
    "0.1.2.3",
    "255.255.255.255",
    "172.20.5.5",
    "198.51.100.200",
    "203.0.113.7",
    "10.99.1.1",
    "2001:db8::1",
    "2001:db8::",
    "2001:db8:dead::1",
    "2600::1",
    "::1",
    "fd00::1",
];

#[test]
fn ip_json_dumps_describe_the_same_host_as_the_toml() {
    for name in ["multi", "policy"] {
        let toml = answers(&toml_host(name), PROBES);
        let all = answers(&json_host(name, "route-all"), PROBES);
        for (t, j) in toml.iter().zip(&all) {
            assert_eq!(t, j, "{name}: TOML vs `ip -j route show table all`");
        }
    }
    let kube = answers(&Host::kubernetes_node(), PROBES);
    let dumped = answers(&json_host("kubernetes_node", "route-all"), PROBES);
    assert_eq!(kube, dumped);
    // `ip route show` (main only) knows the IPv4 side of a host without custom tables.
    let v4: Vec<&str> = PROBES
        .iter()
        .copied()
        .filter(|p| !p.contains(':'))
        .collect();
    assert_eq!(
        answers(&Host::kubernetes_node(), &v4),
        answers(&json_host("kubernetes_node", "route"), &v4)
    );
}

#[test]
fn answers_the_kernel_gave() {
    let h = toml_host("multi");
    let eth0 = h.interface("eth0").expect("eth0").index;
    let eth1 = h.interface("eth1").expect("eth1").index;
    // Merged local/main: the main /24 beats the local /16.
    let r = h.route_output(ip("10.50.1.1"), None, 0).expect("route");
    assert_eq!(
        (r.kind, r.gateway),
        (RouteType::Unicast, Some(ip("192.168.0.1")))
    );
    // The secondary 192.168.0.3 answers with the primary as source.
    let r = h.route_output(ip("192.168.0.3"), None, 0).expect("route");
    assert_eq!((r.kind, r.src), (RouteType::Local, Some(ip("192.168.0.2"))));
    // `src` on the route wins for output; MASQUERADE ignores it.
    let r = h.route_output(ip("10.71.0.1"), None, 0).expect("route");
    assert_eq!(r.src, Some(ip("192.168.0.3")));
    assert_eq!(
        h.masquerade_source(eth0, ip("192.168.0.9")),
        Some(ip("192.168.0.2"))
    );
    // Lowest metric wins.
    let r = h.route_output(ip("10.72.0.1"), None, 0).expect("route");
    assert_eq!(r.gateway, Some(ip("192.168.0.254")));
    // An address on a down interface is still local.
    assert_eq!(
        h.route_output(ip("10.200.0.1"), None, 0)
            .expect("route")
            .kind,
        RouteType::Local
    );
    // Reject routes.
    let e = |d: &str| h.route_output(ip(d), None, 0).expect_err("reject").errno;
    assert_eq!(e("10.60.0.1"), Errno::Invalid);
    assert_eq!(e("10.61.0.1"), Errno::Access);
    assert_eq!(e("10.62.0.1"), Errno::HostUnreachable);
    // Forwarding on the same interface, and the IPv6 subnet-router anycast address.
    let r = h
        .route_input(ip("10.0.0.9"), ip("10.0.0.5"), eth1, 0)
        .expect("route");
    assert_eq!((r.kind, r.dev), (RouteType::Unicast, eth1));
    let r = h
        .route_input(ip("2001:db8::"), ip("fd00::5"), eth1, 0)
        .expect("route");
    assert_eq!(
        (r.kind, r.table),
        (RouteType::Anycast, fwbench::host::TABLE_LOCAL)
    );
    assert_eq!(
        h.route_output(ip("2600::1"), None, 0).expect("route").src,
        Some(ip("2001:db8:1::2")),
        "the newest of equally good IPv6 addresses"
    );

    let p = toml_host("policy");
    let r = p.route_output(ip("8.8.8.8"), None, 0x15).expect("route");
    assert_eq!((r.gateway, r.table), (Some(ip("10.0.0.88")), 100));
    let r = p.route_output(ip("8.8.8.8"), None, 0).expect("route");
    assert_eq!(r.table, TABLE_MAIN);
    // `not fwmark 0x0/0x8`: marks with bit 3 set.
    let r = p.route_output(ip("8.8.8.8"), None, 0x8).expect("route");
    assert_eq!(r.table, 100);
    let eth2 = p.interface("eth2").expect("eth2").index;
    let e = p
        .route_input(ip("203.0.113.7"), ip("172.20.0.9"), eth2, 0)
        .expect_err("unreachable rule");
    // eth2 does not forward: the rule's ENETUNREACH becomes EHOSTUNREACH.
    assert_eq!(e.errno, Errno::HostUnreachable);
    // `throw` in table 100 sends 10.99/16 back to the next rules (main: eth1's 10/8).
    let r = p.route_output(ip("10.99.1.1"), None, 5).expect("route");
    let eth1 = p.interface("eth1").expect("eth1").index;
    assert_eq!((r.gateway, r.dev, r.table), (None, eth1, TABLE_MAIN));
    let r = p.route_output(ip("10.98.1.1"), None, 5).expect("route");
    assert_eq!((r.gateway, r.table), (Some(ip("10.0.0.88")), 100));
    let e = p
        .route_output(ip("198.51.100.200"), None, 0)
        .expect_err("prohibit rule");
    assert_eq!(e.errno, Errno::Access);
}

#[test]
fn the_shape_in_issue_4_loads() {
    let h = Host::from_toml_str(
        "issue4.toml",
        r#"
[[interface]]
name = "eth0"
mac = "02:00:00:00:00:01"
addresses = ["192.168.0.2/24"]
[[route]]
destination = "0.0.0.0/0"
gateway = "192.168.0.1"
interface = "eth0"
"#,
    )
    .expect("issue 4's example");
    assert_eq!(h.first_interface().map(|i| i.name.as_str()), Some("eth0"));
    let r = h
        .route_output(ip("1.1.1.1"), None, 0)
        .expect("default route");
    assert_eq!(r.src, Some(ip("192.168.0.2")));
    assert!(h.is_local(ip("127.0.0.1")), "lo is implicit");
}

#[test]
fn errors_name_the_file_and_position() {
    let e = Host::from_toml_str(
        "h.toml",
        "[[interface]]\nname = \"eth0\"\naddresses = [\"10.0.0.1/8\"]\n\n[[route]]\ndestination = \"1.0.0.0/8\"\ninterface = \"eth9\"\n",
    )
    .expect_err("unknown interface");
    assert_eq!((e.line, e.column), (5, 1), "{e}");
    assert!(e.message.contains("eth9"), "{e}");

    let e = Host::from_ip_json(
        ["a.json", "r.json", ""],
        "[\n{\"ifindex\": 1,,}]",
        "[]",
        None,
    )
    .expect_err("bad JSON");
    assert_eq!(
        (e.file.as_str(), e.line, e.column),
        ("a.json", 2, 15),
        "{e}"
    );

    let addr = std::fs::read_to_string(data("multi.addr.json")).expect("fixture");
    let e = Host::from_ip_json(
        ["a.json", "r.json", ""],
        &addr,
        r#"[{"dst":"10.0.0.0/8","dev":"eth9"}]"#,
        None,
    )
    .expect_err("unknown interface");
    assert!(e.to_string().starts_with("r.json: error: route #1"), "{e}");

    let e = Host::from_toml_file(Path::new("/nonexistent/host.toml")).expect_err("missing file");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/host.toml: error: cannot read"),
        "{e}"
    );
}

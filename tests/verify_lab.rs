//! The kernel side of `fwbench verify` (src/verify/) against the real kernel:
//! - a [`Lab`] is a faithful copy of the host model: `ip -j addr/route/rule` inside its DUT
//!   namespace, read back with `Host::from_ip_json`, give the model's interfaces, MACs,
//!   addresses and routes, and its sysctls are the model's;
//! - dropping a lab leaves no namespace and no root interface behind; so does SIGINT to a
//!   process that holds one (it exits with 130);
//! - a small ruleset and a handful of frames (forwarded, dropped, locally generated, answered
//!   by the host) give the counters, emitted frames and connection table that NETFILTER.md
//!   predicts, written down here by hand.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Command, Stdio};

use common::{root_with, skip};
use fwbench::host::{Host, Protocol};
use fwbench::rules::{Backend, Counters, Family, Ruleset, TableKind};
use fwbench::verify::{Injected, Lab};

fn kernel_ok() -> bool {
    match root_with(&[
        "ip",
        "ethtool",
        "iptables-nft-restore",
        "conntrack",
        "sysctl",
    ]) {
        Ok(()) => true,
        Err(why) => {
            skip(&why);
            false
        }
    }
}

fn root_links() -> BTreeSet<String> {
    let out = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip link");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect()
}

fn netns_list() -> String {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The comparable facts of a host: interfaces with MAC, MTU and addresses; routes.
fn facts(h: &Host) -> (BTreeSet<String>, BTreeSet<String>) {
    let ifaces = h
        .interfaces()
        .iter()
        .map(|i| {
            let addrs: Vec<String> = i
                .addresses
                .iter()
                .map(|a| format!("{}/{}", a.local, a.prefix_len))
                .collect();
            format!(
                "{} index {} mac {:?} mtu {} up {} addrs {}",
                i.name,
                i.index,
                i.mac,
                i.mtu,
                i.up,
                addrs.join(",")
            )
        })
        .collect();
    let routes = h
        .routes()
        .iter()
        .map(|r| {
            let dev = r
                .dev
                .and_then(|d| h.interface_by_index(d))
                .map_or("-".to_string(), |i| i.name.clone());
            format!(
                "table {} {} {} via {:?} dev {dev} metric {} src {:?} scope {} {}",
                r.table,
                r.kind.name(),
                r.destination,
                r.gateway,
                r.metric,
                r.prefsrc,
                r.scope.0,
                if r.protocol == Protocol::KERNEL {
                    "kernel"
                } else {
                    "user"
                }
            )
        })
        .collect();
    (ifaces, routes)
}

fn check_copy(label: &str, host: &Host) {
    let links_before = root_links();
    let names;
    {
        let lab = Lab::new(host, &[]).unwrap_or_else(|e| panic!("{label}: {e}"));
        names = lab.namespaces();
        assert!(names.iter().all(|n| n.starts_with("fwb-v")), "{names:?}");
        let listed = netns_list();
        for n in &names {
            assert!(
                listed.contains(n.as_str()),
                "{label}: {n} not in ip netns list"
            );
        }
        let ip = |args: &[&str]| {
            let mut argv = vec!["ip", "-j"];
            argv.extend_from_slice(args);
            lab.exec(&argv, None).expect("ip -j in the DUT")
        };
        let (addr, route, rule) = (
            ip(&["addr", "show"]),
            ip(&["route", "show", "table", "all"]),
            ip(&["rule", "show"]),
        );
        let kernel = Host::from_ip_json(["addr", "route", "rule"], &addr, &route, Some(&rule))
            .unwrap_or_else(|e| panic!("{label}: reading the DUT's ip -j output: {e}"));
        let (ki, kr) = facts(&kernel);
        let (mi, mr) = facts(host);
        assert_eq!(ki, mi, "{label}: interfaces differ");
        let only_kernel: Vec<_> = kr.difference(&mr).collect();
        let only_model: Vec<_> = mr.difference(&kr).collect();
        assert!(
            only_kernel.is_empty() && only_model.is_empty(),
            "{label}: routes differ\n  only in the DUT: {only_kernel:#?}\n  only in the model: {only_model:#?}"
        );
        assert_eq!(kernel.rules(), host.rules(), "{label}: ip rules differ");
        // Sysctls (not in the dumps).
        let s = host.sysctl();
        let sysctl = |k: &str| {
            lab.exec(&["sysctl", "-n", k], None)
                .expect("sysctl -n")
                .trim()
                .to_string()
        };
        assert_eq!(
            sysctl("net.ipv4.ip_forward"),
            if s.ip_forward { "1" } else { "0" }
        );
        assert_eq!(
            sysctl("net.ipv4.conf.all.rp_filter"),
            s.rp_filter.to_string()
        );
        assert_eq!(
            sysctl("net.ipv4.conf.all.route_localnet"),
            if s.route_localnet { "1" } else { "0" }
        );
        assert_eq!(sysctl("net.ipv4.icmp_ratelimit"), "0");
        for i in host.interfaces().iter().filter(|i| !i.loopback) {
            let rp = sysctl(&format!("net.ipv4.conf.{}.rp_filter", i.name));
            assert_eq!(
                rp,
                i.conf.rp_filter.unwrap_or(s.rp_filter).to_string(),
                "{label}: {}",
                i.name
            );
            let features = lab
                .exec(&["ethtool", "-k", &i.name], None)
                .expect("ethtool -k");
            assert!(
                features.contains("tx-checksumming: off")
                    && features.contains("rx-checksumming: off"),
                "{label}: offloads of {}: {features}",
                i.name
            );
        }
        assert!(lab
            .settings()
            .iter()
            .any(|s| s.contains("icmp_ratelimit=0")));
        for i in host.interfaces().iter().filter(|i| !i.loopback) {
            assert_eq!(
                lab.interface_mac(&i.name).ok(),
                i.mac,
                "{label}: {}",
                i.name
            );
        }
    }
    let listed = netns_list();
    for n in &names {
        assert!(!listed.contains(n.as_str()), "{label}: {n} left behind");
    }
    assert_eq!(
        root_links(),
        links_before,
        "{label}: root namespace links changed"
    );
}

#[test]
fn lab_is_a_copy_of_the_host_model() {
    if !kernel_ok() {
        return;
    }
    check_copy("kubernetes node", &Host::kubernetes_node());
    let toml = r#"
[sysctl]
rp_filter = 2
route_localnet = false

[[interface]]
name = "wan0"
mac = "02:00:00:00:10:01"
mtu = 1400
addresses = ["203.0.113.2/24", "203.0.113.9/24", "10.9.0.1/16"]

[[interface]]
name = "lan0"
mac = "02:00:00:00:10:02"
addresses = ["172.16.5.1/24", "2001:db8:5::1/64"]
rp_filter = 1

[[route]]
destination = "0.0.0.0/0"
gateway = "203.0.113.1"

[[route]]
destination = "198.51.100.0/24"
gateway = "172.16.5.254"
metric = 50
table = 100

[[rule]]
priority = 100
fwmark = "0x4000/0x4000"
table = 100
"#;
    let host = Host::from_toml_str("small.toml", toml).expect("small host");
    check_copy("small TOML host", &host);
}

// ---- frames ---------------------------------------------------------------------------------

fn sum16(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// An IPv4 packet (no options, DF, id 0x1234) with a valid header checksum.
fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, ttl: u8, l4: &[u8]) -> Vec<u8> {
    let len = (20 + l4.len()) as u16;
    let mut p = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, ttl, proto, 0, 0];
    p[2..4].copy_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let c = fold(sum16(&p));
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(l4);
    p
}

/// UDP without a checksum (0 = none, allowed for IPv4).
fn udp(sport: u16, dport: u16, payload: usize) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.resize(8 + payload, 0xab);
    u
}

fn echo_request(payload: usize) -> Vec<u8> {
    let mut i = vec![8, 0, 0, 0, 0x42, 0x42, 0, 1];
    i.resize(8 + payload, 0x5a);
    let c = fold(sum16(&i));
    i[2..4].copy_from_slice(&c.to_be_bytes());
    i
}

fn eth(dst: [u8; 6], src: [u8; 6], ip: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(ip);
    f
}

const ETH0_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const CNI0_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const GATEWAY_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xfe];
const POD_MAC: [u8; 6] = [2, 0, 0, 0, 1, 5];

const RULES: &str = "\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p icmp -j ACCEPT
-A FORWARD -p udp -m udp --dport 9 -j DROP
-A FORWARD -p udp -j ACCEPT
-A OUTPUT -p udp -j ACCEPT
COMMIT
";

fn counters(r: &Ruleset, chain: &str) -> (Vec<Counters>, Counters) {
    let c = r
        .table(TableKind::Filter)
        .and_then(|t| t.chain(chain))
        .unwrap_or_else(|| panic!("no filter {chain} in the kernel's save"));
    (c.rules.iter().map(|r| r.counters).collect(), c.counters)
}

fn observe(backend: Backend) -> fwbench::verify::Observation {
    let host = Host::kubernetes_node();
    let pod: IpAddr = "10.1.0.5".parse().unwrap();
    let gw: IpAddr = "192.168.0.1".parse().unwrap();
    let lab = Lab::new(
        &host,
        &[
            ("eth0".to_string(), gw, Some(GATEWAY_MAC)),
            ("cni0".to_string(), pod, Some(POD_MAC)),
        ],
    )
    .expect("lab");
    lab.load(RULES, None, Family::Ipv4, backend).expect("load");
    let forwarded = ipv4([10, 1, 0, 5], [198, 51, 100, 7], 17, 64, &udp(1000, 53, 10));
    let dropped = ipv4([10, 1, 0, 5], [198, 51, 100, 7], 17, 64, &udp(1000, 9, 10));
    let local = ipv4([192, 168, 0, 2], [192, 168, 0, 1], 17, 64, &udp(5000, 7, 4));
    let ping = ipv4([203, 0, 113, 9], [192, 168, 0, 2], 1, 50, &echo_request(8));
    let packets = vec![
        Injected::Frame {
            iface: "cni0".into(),
            frame: eth(CNI0_MAC, POD_MAC, &forwarded),
        },
        Injected::Frame {
            iface: "cni0".into(),
            frame: eth(CNI0_MAC, POD_MAC, &dropped),
        },
        Injected::Local { ip: local.clone() },
        Injected::Frame {
            iface: "eth0".into(),
            frame: eth(ETH0_MAC, GATEWAY_MAC, &ping),
        },
    ];
    let seen = lab.run(&packets).expect("run");
    let k = &seen.observation;
    assert!(seen.local_errors.is_empty(), "{:?}", seen.local_errors);

    // Counters: bytes are IP total lengths (NETFILTER.md §5).
    let (input, input_policy) = counters(&k.ruleset, "INPUT");
    assert_eq!(input, vec![Counters::new(1, 36)], "INPUT: the echo request");
    assert_eq!(input_policy, Counters::ZERO);
    let (forward, forward_policy) = counters(&k.ruleset, "FORWARD");
    assert_eq!(
        forward,
        vec![Counters::new(1, 38), Counters::new(1, 38)],
        "FORWARD"
    );
    assert_eq!(forward_policy, Counters::ZERO);
    // The local datagram matches OUTPUT's rule; the host's echo reply passes filter OUTPUT
    // and ends on its policy (NETFILTER.md §1: packets the kernel emits take OUTPUT).
    let (output, output_policy) = counters(&k.ruleset, "OUTPUT");
    assert_eq!(output, vec![Counters::new(1, 32)], "OUTPUT rule");
    assert_eq!(
        output_policy,
        Counters::new(1, 36),
        "OUTPUT policy: the echo reply"
    );

    // Emitted frames: everything left by eth0 towards the gateway; nothing on cni0.
    assert_eq!(
        k.emitted.get("cni0").map(Vec::len),
        Some(0),
        "cni0: {:02x?}",
        k.emitted.get("cni0")
    );
    let out = &k.emitted["eth0"];
    assert_eq!(out.len(), 3, "eth0 emitted {out:02x?}");
    for f in out {
        assert_eq!(f[0..6], GATEWAY_MAC, "to the gateway");
        assert_eq!(f[6..12], ETH0_MAC, "from eth0's MAC");
    }
    // 1. the forwarded datagram: TTL-1, IP checksum updated, the rest unchanged.
    let fwd = &out[0][14..];
    assert_eq!(fwd.len(), forwarded.len());
    assert_eq!(fwd[8], 63, "TTL decremented");
    assert_eq!(fold(sum16(&fwd[..20])), 0, "IP checksum valid");
    assert_eq!(fwd[20..], forwarded[20..]);
    assert_eq!(fwd[12..20], forwarded[12..20]);
    // 2. the local datagram as sent (its TTL is not decremented).
    assert_eq!(out[1][14..], local[..], "local packet leaves unchanged");
    // 3. the echo reply from the pinged address back towards the sender.
    let reply = &out[2][14..];
    assert_eq!(reply[9], 1);
    assert_eq!(reply[12..16], [192, 168, 0, 2]);
    assert_eq!(reply[16..20], [203, 0, 113, 9]);
    assert_eq!(reply[20], 0, "echo reply");
    assert_eq!(reply[24..], echo_request(8)[4..], "id, seq and data echoed");
    // A filter-only ruleset creates no connection (NETFILTER.md §2).
    assert!(k.conntrack.is_empty(), "{:?}", k.conntrack);
    seen.observation
}

#[test]
fn kernel_observation_nft() {
    if !kernel_ok() {
        return;
    }
    // Twice: the kernel agrees with itself up to the listed allowances (the echo reply's
    // IPv4 id is chosen by ip_select_ident).
    let (a, b) = (observe(Backend::Nft), observe(Backend::Nft));
    let c = fwbench::verify::compare(&a, &b, &Default::default());
    assert!(c.is_exact(), "{}", c.render());
    eprintln!("kernel against kernel:\n{}", c.render());
}

#[test]
fn kernel_observation_legacy() {
    if !kernel_ok() {
        return;
    }
    if root_with(&["iptables-legacy-restore"]).is_err() {
        return skip("iptables-legacy is not installed");
    }
    observe(Backend::Legacy);
}

// ---- interruption ---------------------------------------------------------------------------

/// Run by `interrupted_process_leaves_nothing` as a child process: holds a lab, prints its
/// namespaces, and waits to be interrupted.
#[test]
#[ignore = "a child process of interrupted_process_leaves_nothing"]
fn child_holding_a_lab() {
    if std::env::var_os("FWBENCH_VERIFY_CHILD").is_none() {
        return;
    }
    let lab = Lab::new(&Host::kubernetes_node(), &[]).expect("lab");
    println!("NAMESPACES {}", lab.namespaces().join(" "));
    std::thread::sleep(std::time::Duration::from_secs(60));
    drop(lab);
    std::process::exit(3);
}

#[test]
fn interrupted_process_leaves_nothing() {
    if !kernel_ok() {
        return;
    }
    let links_before = root_links();
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_holding_a_lab",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FWBENCH_VERIFY_CHILD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("child");
    let stdout = child.stdout.take().expect("stdout");
    let mut names = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        // libtest has printed `test NAME ... ` without a newline before it.
        if let Some((_, rest)) = line.split_once("NAMESPACES ") {
            names = rest.split(' ').map(str::to_string).collect();
            break;
        }
    }
    if names.is_empty() {
        let _ = child.kill();
        let out = child.wait_with_output().expect("wait");
        panic!(
            "the child made no lab: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listed = netns_list();
    assert!(
        names.iter().all(|n| listed.contains(n.as_str())),
        "{names:?} not live"
    );
    // SAFETY: kill(2) of our own child.
    let pid = child.id() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0, "SIGINT");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "exit status after SIGINT");
    let listed = netns_list();
    for n in &names {
        assert!(!listed.contains(n.as_str()), "{n} left behind after SIGINT");
    }
    assert_eq!(root_links(), links_before);
}

// ---- NAT, REJECT, conntrack; the kernel against itself -------------------------------------

const NAT_RULES: &str = "\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.96.0.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.1.0.7:53
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p udp -m udp --dport 9 -j REJECT
COMMIT
";

const POD7_MAC: [u8; 6] = [2, 0, 0, 0, 1, 7];

fn nat_run() -> fwbench::verify::Observation {
    let host = Host::kubernetes_node();
    let lab = Lab::new(
        &host,
        &[
            (
                "eth0".to_string(),
                "192.168.0.1".parse().unwrap(),
                Some(GATEWAY_MAC),
            ),
            (
                "cni0".to_string(),
                "10.1.0.5".parse().unwrap(),
                Some(POD_MAC),
            ),
            (
                "cni0".to_string(),
                "10.1.0.7".parse().unwrap(),
                Some(POD7_MAC),
            ),
        ],
    )
    .expect("lab");
    lab.load(NAT_RULES, None, Family::Ipv4, Backend::Nft)
        .expect("load");
    let from_pod = |dst: [u8; 4], sport: u16, dport: u16| {
        let ip = ipv4([10, 1, 0, 5], dst, 17, 64, &udp(sport, dport, 10));
        Injected::Frame {
            iface: "cni0".into(),
            frame: eth(CNI0_MAC, POD_MAC, &ip),
        }
    };
    let answer = ipv4([10, 1, 0, 7], [10, 1, 0, 5], 17, 64, &udp(53, 1000, 10));
    let packets = vec![
        from_pod([10, 96, 0, 10], 1000, 53),
        Injected::Frame {
            iface: "cni0".into(),
            frame: eth(CNI0_MAC, POD7_MAC, &answer),
        },
        from_pod([198, 51, 100, 7], 2000, 80),
        from_pod([198, 51, 100, 7], 3000, 9),
    ];
    lab.run(&packets).expect("run").observation
}

fn chain_counts(r: &Ruleset, table: TableKind, chain: &str) -> (Vec<u64>, u64) {
    let c = r
        .table(table)
        .and_then(|t| t.chain(chain))
        .unwrap_or_else(|| panic!("no {chain}"));
    (
        c.rules.iter().map(|r| r.counters.packets).collect(),
        c.counters.packets,
    )
}

#[test]
fn nat_reject_and_conntrack_as_netfilter_md_says() {
    if !kernel_ok() {
        return;
    }
    let k = nat_run();
    // nat chains count connections: the DNAT, the masqueraded flow, the rejected flow's
    // first packet (NEW in PREROUTING before FORWARD rejects it); the reply and REJECT's
    // ICMP error never see nat (NETFILTER.md §1, §2).
    assert_eq!(
        chain_counts(&k.ruleset, TableKind::Nat, "PREROUTING"),
        (vec![1], 2)
    );
    assert_eq!(
        chain_counts(&k.ruleset, TableKind::Nat, "POSTROUTING"),
        (vec![1], 1)
    );
    assert_eq!(
        chain_counts(&k.ruleset, TableKind::Nat, "OUTPUT"),
        (vec![], 0)
    );
    assert_eq!(
        chain_counts(&k.ruleset, TableKind::Filter, "FORWARD"),
        (vec![1], 3)
    );
    assert_eq!(
        chain_counts(&k.ruleset, TableKind::Filter, "OUTPUT"),
        (vec![], 1)
    );
    // The rejected flow leaves no entry (its first packet never got confirmed).
    let ct: Vec<String> = k.conntrack.iter().map(|e| e.to_string()).collect();
    assert_eq!(k.conntrack.len(), 2, "{ct:#?}");
    let dns = k
        .conntrack
        .iter()
        .find(|e| e.original.dport == Some(53))
        .expect("the DNATed flow");
    assert_eq!(dns.reply.src, "10.1.0.7".parse::<IpAddr>().unwrap());
    assert!(!dns.unreplied);
    let masq = k
        .conntrack
        .iter()
        .find(|e| e.original.dport == Some(80))
        .expect("the masqueraded flow");
    assert_eq!(masq.reply.dst, "192.168.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(masq.reply.dport, Some(2000), "port kept: no clash");
    assert!(masq.unreplied);
    // Emitted: on cni0 the DNATed query, the un-DNATed answer, the ICMP error; on eth0 the
    // masqueraded datagram.
    let cni0 = &k.emitted["cni0"];
    assert_eq!(cni0.len(), 3, "{cni0:02x?}");
    assert_eq!(cni0[0][0..6], POD7_MAC);
    assert_eq!(cni0[0][14 + 16..14 + 20], [10, 1, 0, 7], "DNAT");
    assert_eq!(
        cni0[1][14 + 12..14 + 16],
        [10, 96, 0, 10],
        "reply un-DNATed"
    );
    assert_eq!(cni0[2][14 + 9], 1, "ICMP");
    assert_eq!(cni0[2][14 + 20..14 + 22], [3, 3], "port unreachable");
    assert_eq!(cni0[2].len(), 14 + 20 + 8 + 38, "quotes the whole datagram");
    let eth0 = &k.emitted["eth0"];
    assert_eq!(eth0.len(), 1);
    assert_eq!(eth0[0][14 + 12..14 + 16], [192, 168, 0, 2], "MASQUERADE");

    // The same input through a second lab: equal up to the listed randomness, and a
    // changed byte is found.
    let again = nat_run();
    let opts = fwbench::verify::CompareOptions::default();
    let c = fwbench::verify::compare(&k, &again, &opts);
    assert!(c.is_exact(), "{}", c.render());
    eprintln!("kernel against kernel:\n{}", c.render());
    let mut broken = again.clone();
    if let Some(f) = broken.emitted.get_mut("eth0").and_then(|v| v.first_mut()) {
        f[14 + 8] -= 1;
    }
    let c = fwbench::verify::compare(&k, &broken, &opts);
    assert!(
        !c.is_exact() && c.render().contains("IPv4 ttl"),
        "{}",
        c.render()
    );
}

// ---- IPv6 -----------------------------------------------------------------------------------

const V6_RULES: &str = "\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT
COMMIT
";

/// An IPv6 packet carrying an ICMPv6 message of `typ` (id 0x4242, seq 1, 8 data bytes),
/// checksum filled.
fn icmpv6(src: std::net::Ipv6Addr, dst: std::net::Ipv6Addr, typ: u8) -> Vec<u8> {
    use fwbench::wire::checksum;
    let mut icmp = vec![typ, 0, 0, 0, 0x42, 0x42, 0, 1];
    icmp.resize(16, 0x5a);
    let pseudo = checksum::pseudo_header_v6(&src.octets(), &dst.octets(), 58, icmp.len() as u32);
    let c = checksum::finish(checksum::combine(&[pseudo, checksum::data(&icmp)]));
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut ip = vec![0x60, 0, 0, 0, 0, icmp.len() as u8, 58, 64];
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    ip.extend_from_slice(&icmp);
    ip
}

#[test]
fn ipv6_echo_is_answered_and_nothing_else_is_emitted() {
    if !kernel_ok() {
        return;
    }
    let host = Host::kubernetes_node();
    // The model's IPv6 gateway gets a made-up MAC; the lab says which.
    let lab = Lab::new(&host, &[]).expect("lab");
    let gw: IpAddr = "2001:db8::fffe".parse().unwrap();
    let gw_mac = lab
        .neighbours()
        .iter()
        .find(|(i, a, _)| i == "eth0" && *a == gw)
        .map(|(_, _, m)| *m)
        .expect("the IPv6 gateway is a neighbour");
    lab.load(V6_RULES, None, Family::Ipv6, Backend::Nft)
        .expect("load");
    let far: std::net::Ipv6Addr = "2001:db8:5::9".parse().unwrap();
    let node: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    let request = icmpv6(far, node, 128);
    let mut frame = Vec::new();
    frame.extend_from_slice(&ETH0_MAC);
    frame.extend_from_slice(&gw_mac);
    frame.extend_from_slice(&[0x86, 0xdd]);
    frame.extend_from_slice(&request);
    // A locally generated echo request the other way (raw IPv6 socket, IPV6_HDRINCL).
    let local = icmpv6(node, far, 128);
    let seen = lab
        .run(&[
            Injected::Frame {
                iface: "eth0".into(),
                frame,
            },
            Injected::Local { ip: local.clone() },
        ])
        .expect("run");
    let k = &seen.observation;
    assert_eq!(seen.resent, 0);
    assert!(seen.local_errors.is_empty(), "{:?}", seen.local_errors);
    // Bytes = IPv6 header + payload (NETFILTER.md §5 for IPv6).
    assert_eq!(
        counters(&k.ruleset, "INPUT"),
        (vec![Counters::new(1, 56)], Counters::ZERO)
    );
    assert_eq!(
        counters(&k.ruleset, "OUTPUT"),
        (vec![], Counters::new(2, 112)),
        "the echo reply and the local request"
    );
    // Exactly those two: no MLD report, neighbour solicitation or router solicitation of
    // the set-up leaks into the capture.
    assert_eq!(k.emitted["cni0"].len(), 0, "{:02x?}", k.emitted["cni0"]);
    let out = &k.emitted["eth0"];
    assert_eq!(out.len(), 2, "{out:02x?}");
    let reply = &out[0];
    assert_eq!(reply[0..6], gw_mac);
    assert_eq!(
        reply[14 + 8..14 + 24],
        node.octets(),
        "from the pinged address"
    );
    assert_eq!(reply[14 + 24..14 + 40], far.octets());
    assert_eq!(reply[14 + 40], 129, "echo reply");
    // With auto_flowlabels=0 (a lab setting) the host's own IPv6 packets carry flow label 0
    // instead of a hash keyed per boot (stock: 1, seen here as 0x2f1dc).
    assert_eq!(
        reply[14..18],
        [0x60, 0, 0, 0],
        "traffic class 0, flow label 0"
    );
    assert_eq!(out[1][0..6], gw_mac);
    assert_eq!(out[1][14..], local[..], "the local packet leaves as given");
}

#[test]
fn a_frame_that_cannot_arrive_is_reported_lost() {
    if !kernel_ok() {
        return;
    }
    let toml = r#"
[[interface]]
name = "up0"
addresses = ["192.0.2.1/24"]

[[interface]]
name = "down0"
up = false
addresses = ["198.51.100.1/24"]
"#;
    let host = Host::from_toml_str("down.toml", toml).expect("host");
    let lab = Lab::new(&host, &[]).expect("lab");
    // No MAC in the model: the kernel chose one, and the lab tells it.
    let mac = lab.interface_mac("up0").expect("a MAC");
    assert!(mac != [0; 6] && mac[0] & 1 == 0, "{mac:02x?}");
    let ip = ipv4([198, 51, 100, 9], [192, 0, 2, 1], 17, 64, &udp(1, 2, 0));
    let frame = eth([2, 0, 0, 0, 0, 9], [2, 0, 0, 0, 0, 8], &ip);
    let err = lab
        .run(&[Injected::Frame {
            iface: "down0".into(),
            frame,
        }])
        .expect_err("a frame into a down interface never arrives");
    assert!(
        matches!(err, fwbench::verify::VerifyError::Lost(_)),
        "{err}"
    );
    assert!(err.to_string().contains("packet 1"), "{err}");
    let err = lab
        .run(&[Injected::Frame {
            iface: "eth7".into(),
            frame: vec![0; 60],
        }])
        .expect_err("no such interface");
    assert!(err.to_string().contains("eth7"), "{err}");
}

// ---- TCP states as conntrack -L prints them ------------------------------------------------

/// A TCP segment with a valid checksum: ports, seq, ack, flags, no options, no data.
fn tcp(src: [u8; 4], dst: [u8; 4], ports: (u16, u16), seq: u32, ack: u32, flags: u8) -> Vec<u8> {
    use fwbench::wire::checksum;
    let mut t = Vec::new();
    t.extend_from_slice(&ports.0.to_be_bytes());
    t.extend_from_slice(&ports.1.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
    let pseudo = checksum::pseudo_header_v4(&src, &dst, 6, t.len() as u16);
    let c = checksum::finish(checksum::combine(&[pseudo, checksum::data(&t)]));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, 6, 64, &t)
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

#[test]
fn tcp_handshake_through_masquerade_reads_back_with_states() {
    if !kernel_ok() {
        return;
    }
    let host = Host::kubernetes_node();
    let lab = Lab::new(
        &host,
        &[
            (
                "eth0".to_string(),
                "192.168.0.1".parse().unwrap(),
                Some(GATEWAY_MAC),
            ),
            (
                "cni0".to_string(),
                "10.1.0.5".parse().unwrap(),
                Some(POD_MAC),
            ),
        ],
    )
    .expect("lab");
    let rules = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                 :POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n";
    lab.load(rules, None, Family::Ipv4, Backend::Nft)
        .expect("load");
    let (pod, far, node) = ([10, 1, 0, 5], [198, 51, 100, 7], [192, 168, 0, 2]);
    let from_pod = |ip: Vec<u8>| Injected::Frame {
        iface: "cni0".into(),
        frame: eth(CNI0_MAC, POD_MAC, &ip),
    };
    let from_far = |ip: Vec<u8>| Injected::Frame {
        iface: "eth0".into(),
        frame: eth(ETH0_MAC, GATEWAY_MAC, &ip),
    };
    let state = |packets: Vec<Injected>| {
        let o = lab.run(&packets).expect("run").observation;
        assert_eq!(o.conntrack.len(), 1, "{:?}", o.conntrack);
        o.conntrack[0].clone()
    };
    let syn = state(vec![from_pod(tcp(pod, far, (40000, 80), 100, 0, SYN))]);
    assert_eq!(syn.state.as_deref(), Some("SYN_SENT"));
    assert!(syn.unreplied && !syn.assured);
    assert!((110..=120).contains(&syn.timeout), "{syn}");
    assert_eq!(syn.reply.dst, IpAddr::from(node));
    assert_eq!(syn.reply.dport, Some(40000));
    let synack = state(vec![from_far(tcp(
        far,
        node,
        (80, 40000),
        500,
        101,
        SYN | ACK,
    ))]);
    assert_eq!(synack.state.as_deref(), Some("SYN_RECV"));
    assert!(!synack.unreplied && !synack.assured);
    let est = state(vec![from_pod(tcp(pod, far, (40000, 80), 101, 501, ACK))]);
    assert_eq!(est.state.as_deref(), Some("ESTABLISHED"));
    assert!(est.assured, "{est}");
    assert!(est.timeout > 431000, "{est}");
    // The masqueraded counter counted the connection once.
    let r = lab.read_counters().expect("counters");
    assert_eq!(
        chain_counts(&r, TableKind::Nat, "POSTROUTING"),
        (vec![1], 0)
    );
}

#[test]
fn ipsets_are_loaded_before_the_rules_that_use_them() {
    if !kernel_ok() {
        return;
    }
    if root_with(&["ipset"]).is_err() {
        return skip("ipset is not installed");
    }
    let lab = Lab::new(
        &Host::kubernetes_node(),
        &[(
            "eth0".to_string(),
            "192.168.0.1".parse().unwrap(),
            Some(GATEWAY_MAC),
        )],
    )
    .expect("lab");
    let sets =
        "create BLOCKED hash:ip family inet hashsize 1024 maxelem 65536\nadd BLOCKED 10.1.0.5\n";
    let rules = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                 -A FORWARD -m set --match-set BLOCKED src -j DROP\nCOMMIT\n";
    lab.load(rules, Some(sets), Family::Ipv4, Backend::Nft)
        .expect("load");
    let blocked = ipv4([10, 1, 0, 5], [198, 51, 100, 7], 17, 64, &udp(1, 2, 0));
    let passed = ipv4([10, 1, 0, 6], [198, 51, 100, 7], 17, 64, &udp(1, 2, 0));
    let k = lab
        .run(&[
            Injected::Frame {
                iface: "cni0".into(),
                frame: eth(CNI0_MAC, POD_MAC, &blocked),
            },
            Injected::Frame {
                iface: "cni0".into(),
                frame: eth(CNI0_MAC, POD_MAC, &passed),
            },
        ])
        .expect("run")
        .observation;
    assert_eq!(
        counters(&k.ruleset, "FORWARD"),
        (vec![Counters::new(1, 28)], Counters::new(1, 28))
    );
    assert_eq!(k.emitted["eth0"].len(), 1);
    assert_eq!(k.emitted["eth0"][0][14 + 12..14 + 16], [10, 1, 0, 6]);
}

#[test]
fn host_file_lab_section_overrides_the_lab_settings() {
    if !kernel_ok() {
        return;
    }
    let host = Host::from_toml_str(
        "lab.toml",
        "[lab]\n\"net.ipv4.icmp_ratelimit\" = 1000\n\"net.ipv4.conf.all.send_redirects\" = true\n\
         [[interface]]\nname = \"eth0\"\naddresses = [\"192.0.2.1/24\"]\n",
    )
    .expect("host file");
    assert_eq!(
        host.lab_sysctls(),
        [
            (
                "net.ipv4.conf.all.send_redirects".to_string(),
                "1".to_string()
            ),
            ("net.ipv4.icmp_ratelimit".to_string(), "1000".to_string()),
        ]
    );
    let lab = Lab::new(&host, &[]).expect("lab");
    let read = |k: &str| {
        lab.exec(&["sysctl", "-n", k], None)
            .expect("sysctl")
            .trim()
            .to_string()
    };
    assert_eq!(read("net.ipv4.icmp_ratelimit"), "1000");
    assert_eq!(read("net.ipv4.conf.all.send_redirects"), "1");
    // Settings the file does not name keep the lab's exact-comparison values.
    assert_eq!(read("net.ipv4.icmp_msgs_per_sec"), "100000000");
    assert!(lab
        .settings()
        .iter()
        .any(|s| s.starts_with("net.ipv4.icmp_ratelimit=1000: set by the host file's [lab]")));
}

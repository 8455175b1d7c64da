//! The shipped examples (rulesets/k8s-node.rules, captures/k8s-node.pcapng): they are what
//! the generator makes today, the ruleset is what the kernel's `iptables-save` prints back,
//! every packet parses with the checksums the README promises, and the kernel gives every
//! flow the outcome `fwbench::gen::traffic::example_flows` (and captures/README.md) states.

mod common;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;

use common::{root_with, skip, strip_save_comments, Netns};
use fwbench::gen::cluster::example_ruleset;
use fwbench::gen::traffic::{example_flows, example_frames, write_example_capture, Expect};

fn shipped(path: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const REGENERATE: &str =
    "regenerate with `fwbench generate --example-ruleset > rulesets/k8s-node.rules` \
     and `fwbench generate --example-capture captures/k8s-node.pcapng`";

#[test]
fn shipped_ruleset_is_what_the_generator_makes() {
    assert!(
        shipped("rulesets/k8s-node.rules") == example_ruleset().as_bytes(),
        "rulesets/k8s-node.rules is stale: {REGENERATE}"
    );
}

#[test]
fn shipped_capture_is_what_the_generator_makes() {
    let fresh = write_example_capture(Vec::new(), 1).expect("write to memory");
    assert!(
        shipped("captures/k8s-node.pcapng") == fresh,
        "captures/k8s-node.pcapng is stale: {REGENERATE}"
    );
}

#[test]
fn fwbench_generate_writes_the_shipped_files() {
    let out = common::fwbench(&["generate", "--example-ruleset"]);
    assert!(out.status.success());
    assert_eq!(out.stdout, shipped("rulesets/k8s-node.rules"));
    let path = std::env::temp_dir().join(format!("fwb-examples-{}.pcapng", std::process::id()));
    let path_s = path.to_str().expect("utf-8 temp path");
    let out = common::fwbench(&["generate", "--example-capture", path_s]);
    let written = std::fs::read(&path);
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(written.expect("capture written") == shipped("captures/k8s-node.pcapng"));
}

#[test]
fn capture_reads_back_and_only_the_deliberate_checksum_is_bad() {
    use fwbench::capture;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/k8s-node.pcapng");
    let mut r = capture::open(&path).expect("open the capture");
    let names: Vec<Option<String>> = r.interfaces().iter().map(|i| i.name.clone()).collect();
    assert_eq!(names, [Some("eth0".to_string()), Some("cni0".to_string())]);
    let frames = example_frames(1);
    let mut n = 0;
    let mut bad = Vec::new();
    let mut last_ts = i64::MIN;
    while let Some(p) = r.next_packet().expect("read a packet") {
        let link = p.link_info().expect("Ethernet header");
        let ip = &p.data[link.network..];
        let info = fwbench::wire::ip::parse(ip).unwrap_or_else(|e| panic!("packet {n}: {e}"));
        assert!(!info.is_ipv6());
        let mac: [u8; 6] = p.data[..6].try_into().expect("6 bytes");
        let iface = p.interface.expect("interface");
        assert_eq!(
            mac,
            [2, 0, 0, 0, 0, 1 + iface as u8],
            "packet {n}: destination MAC"
        );
        assert!(p.ts_ns > last_ts, "packet {n}: timestamps go forward");
        last_ts = p.ts_ns;
        let ok = fwbench::wire::verify::verify(ip).is_ok_and(|c| c.all_ok());
        if !ok {
            bad.push(frames[n].comment.clone());
        }
        n += 1;
    }
    assert_eq!(n, frames.len());
    assert_eq!(bad, ["bad-checksum: SYN with a bad TCP checksum"]);
}

fn restore_and_save_back(tool: &str) {
    if let Err(why) = root_with(&["ip", &format!("{tool}-restore"), &format!("{tool}-save")]) {
        return skip(&why);
    }
    let ns = Netns::new("examples");
    let text = example_ruleset();
    let o = ns.sh(&format!("{tool}-restore"), &text);
    assert!(
        o.status.success(),
        "{tool}-restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Table by table: legacy orders tables by module registration, which varies.
    let saved: String = ["mangle", "filter", "nat"]
        .iter()
        .map(|t| strip_save_comments(&ns.out(&format!("{tool}-save -t {t}"))))
        .collect();
    let ours = strip_save_comments(&text);
    assert!(
        saved == ours,
        "{tool}-save differs from the file at {}",
        common::first_difference(&saved, &ours)
    );
}

#[test]
fn ruleset_loads_and_saves_back_identically_nft() {
    restore_and_save_back("iptables-nft");
}

#[test]
fn ruleset_loads_and_saves_back_identically_legacy() {
    restore_and_save_back("iptables-legacy");
}

/// One `conntrack -L` line: the original and reply tuples (src, dst, sport, dport; ports 0
/// for ICMP), the TCP state, and whether a reply was seen.
#[derive(Debug)]
struct Entry {
    proto: String,
    state: String,
    orig: (Ipv4Addr, Ipv4Addr, u16, u16),
    reply: (Ipv4Addr, Ipv4Addr, u16, u16),
    unreplied: bool,
}

fn parse_conntrack(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for line in text.lines() {
        // `conntrack -E` lines start with the event type: `[NEW] tcp 6 ...`.
        let words: Vec<&str> = line
            .split_whitespace()
            .skip_while(|w| w.starts_with('['))
            .collect();
        let Some(proto) = words.first() else { continue };
        let state = words
            .get(3)
            .filter(|w| !w.contains('='))
            .map_or(String::new(), |w| w.to_string());
        let mut tuples: Vec<HashMap<&str, &str>> = vec![HashMap::new()];
        for w in &words {
            if let Some((k, v)) = w.split_once('=') {
                if tuples.last().is_some_and(|t| t.contains_key(k)) {
                    tuples.push(HashMap::new());
                }
                tuples.last_mut().expect("one tuple").insert(k, v);
            }
        }
        let tuple = |t: &HashMap<&str, &str>| {
            let ip = |k: &str| t.get(k).and_then(|v| v.parse().ok()).expect("address");
            let port = |k: &str| t.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
            (ip("src"), ip("dst"), port("sport"), port("dport"))
        };
        if tuples.len() < 2 {
            continue;
        }
        out.push(Entry {
            proto: proto.to_string(),
            state,
            orig: tuple(&tuples[0]),
            reply: tuple(&tuples[1]),
            unreplied: line.contains("[UNREPLIED]"),
        });
    }
    out
}

/// Sends `"o HEX"` / `"p HEX"` lines out of the veth ends `o` (towards eth0) and `p`
/// (towards cni0), in order.
const SENDER: &str = r#"
import socket, sys, time
socks = {}
for name in ("o", "p"):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((name, 0))
    socks[name] = s
for line in sys.stdin:
    dev, _, frame = line.strip().partition(" ")
    if frame:
        socks[dev].send(bytes.fromhex(frame))
        time.sleep(0.003)
"#;

/// The built-in host (src/host/default.rs) in a namespace, with the example ruleset loaded;
/// the capture is sent from a peer namespace, in order, each frame on its interface. Then
/// conntrack's table and the rule counters must show each flow's expected outcome.
#[test]
fn kernel_gives_every_flow_its_expected_outcome() {
    if let Err(why) = root_with(&[
        "ip",
        "iptables-nft-restore",
        "iptables-nft-save",
        "conntrack",
        "python3",
        "ethtool",
    ]) {
        return skip(&why);
    }
    let node = Netns::new("exnode");
    let peer = Netns::new("expeer");
    let mut setup = format!(
        "set -e
         ip link set lo up
         sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
         ip link add eth0 type veth peer name o netns {p}
         ip link add cni0 type veth peer name p netns {p}
         ip link set eth0 address 02:00:00:00:00:01
         ip link set cni0 address 02:00:00:00:00:02
         ip addr add 192.168.0.2/24 dev eth0
         ip addr add 192.168.1.2/24 dev eth0
         ip addr add 192.168.99.11/24 dev eth0
         ip link set eth0 up
         ip link set cni0 up
         ip route add default via 192.168.0.1 dev eth0
         ip route add 10.0.0.0/8 dev cni0
         sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
         for i in all default eth0 cni0; do
           sysctl -qw net.ipv4.conf.$i.rp_filter=0 net.ipv4.conf.$i.send_redirects=0 net.ipv4.conf.$i.route_localnet=1
         done
         ethtool -K eth0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
         ethtool -K cni0 rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
         ip neigh replace 192.168.0.1 lladdr 02:00:00:00:00:fe dev eth0 nud permanent
         ip neigh replace 192.168.99.50 lladdr 02:00:c0:a8:63:32 dev eth0 nud permanent
",
        p = peer.name
    );
    for n in 1..=254u8 {
        setup.push_str(&format!(
            "ip neigh replace 10.180.0.{n} lladdr 0a:58:0a:b4:00:{n:02x} dev cni0 nud permanent\n"
        ));
    }
    for ip in ["10.181.1.4", "10.181.2.4", "10.181.1.8", "10.181.3.7"] {
        setup.push_str(&format!(
            "ip neigh replace {ip} lladdr 02:00:00:00:01:81 dev cni0 nud permanent\n"
        ));
    }
    node.out(&setup);
    peer.out(
        "set -e
         ip link set lo up
         sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
         for d in o p; do
           sysctl -qw net.ipv6.conf.$d.disable_ipv6=1
           ip link set $d up
           ethtool -K $d rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
         done",
    );
    let o = node.sh("iptables-nft-restore", &example_ruleset());
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    // NEW events show every connection's NAT, also of those a RST ends at once (the node
    // answers SYNs to ports nobody listens on, and a RST removes an unassured entry).
    let events = std::env::temp_dir().join(format!("fwb-examples-events-{}", std::process::id()));
    let pid = node.out(&format!(
        "stdbuf -oL conntrack -E -e NEW >{} 2>/dev/null & echo $!",
        events.display()
    ));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let input: String = example_frames(1)
        .iter()
        .map(|f| {
            let dev = if f.interface == 0 { "o" } else { "p" };
            let hex: String = f.data.iter().map(|b| format!("{b:02x}")).collect();
            format!("{dev} {hex}\n")
        })
        .collect();
    let script =
        std::env::temp_dir().join(format!("fwb-examples-sender-{}.py", std::process::id()));
    std::fs::write(&script, SENDER).expect("write sender");
    let o = peer.sh(&format!("python3 {}", script.display()), &input);
    let _ = std::fs::remove_file(&script);
    assert!(
        o.status.success(),
        "sender: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(500));

    let _ = node.sh(&format!("kill -INT {}", pid.trim()), "");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let news = parse_conntrack(&std::fs::read_to_string(&events).unwrap_or_default());
    let _ = std::fs::remove_file(&events);
    let table = parse_conntrack(&node.out("conntrack -L 2>/dev/null"));
    let entries = news;
    let saved = node.out("iptables-nft-save -c -t filter");
    let mut problems = Vec::new();
    let node_ip = Ipv4Addr::new(192, 168, 0, 2);
    // Per (chain, rule text), packets the flows expect it to count.
    let mut expected_counts: HashMap<(String, String), u64> = HashMap::new();
    for f in example_flows() {
        let (dst_ip, dst_port) = match f.dst.split_once(':') {
            Some((ip, port)) => (
                ip.parse::<Ipv4Addr>().expect("ip"),
                port.parse::<u16>().expect("port"),
            ),
            None => (f.dst.parse().expect("ip"), 0),
        };
        let mine: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.proto == f.proto && e.orig.0 == f.client && e.orig.1 == dst_ip)
            .filter(|e| f.proto == "icmp" || e.orig.3 == dst_port)
            .collect();
        let says = |what: String| format!("{}: {what}; entries {mine:?}", f.name);
        match &f.expect {
            Expect::Dnat {
                to,
                masquerade,
                same_endpoint,
                ..
            } => {
                if mine.len() != f.connections {
                    problems.push(says(format!(
                        "{} entries, expected {}",
                        mine.len(),
                        f.connections
                    )));
                }
                for e in &mine {
                    let dest = std::net::SocketAddrV4::new(e.reply.0, e.reply.2);
                    if !to.contains(&dest) {
                        problems.push(says(format!("DNAT to {dest}, expected one of {to:?}")));
                    }
                    let want = if *masquerade { node_ip } else { f.client };
                    if e.reply.1 != want || e.reply.3 != e.orig.2 {
                        problems.push(says(format!(
                            "replies go to {}:{}, expected {want}:{}",
                            e.reply.1, e.reply.3, e.orig.2
                        )));
                    }
                    // A whole conversation ends in TIME_WAIT: the backend's replies matched.
                    let conversation = f.packets > f.connections;
                    let now = table.iter().find(|t| t.orig == e.orig);
                    if conversation
                        && f.proto == "tcp"
                        && now.map_or(true, |t| t.state != "TIME_WAIT")
                    {
                        problems.push(says(format!("now {now:?}, expected TIME_WAIT")));
                    }
                    if conversation && now.map_or(true, |t| t.unreplied) {
                        problems.push(says(format!("now {now:?}: no reply seen")));
                    }
                }
                if *same_endpoint && mine.windows(2).any(|w| w[0].reply.0 != w[1].reply.0) {
                    problems.push(says("affinity broken: endpoints differ".into()));
                }
            }
            Expect::Accept { masquerade, .. } => {
                if mine.len() != f.connections {
                    problems.push(says(format!(
                        "{} entries, expected {}",
                        mine.len(),
                        f.connections
                    )));
                }
                for e in &mine {
                    let want = if *masquerade { node_ip } else { f.client };
                    if e.reply.0 != dst_ip || e.reply.1 != want {
                        problems.push(says(format!(
                            "reply tuple {:?}, expected from {dst_ip} to {want}",
                            e.reply
                        )));
                    }
                }
            }
            Expect::Reject { chain } | Expect::Drop { chain } => {
                if !mine.is_empty() {
                    problems.push(says("a refused flow left a conntrack entry".into()));
                }
                let verdict = if matches!(f.expect, Expect::Reject { .. }) {
                    "-j REJECT"
                } else {
                    "-j DROP"
                };
                let rule = saved
                    .lines()
                    .filter(|l| l.contains(&format!("-A {chain} ")) && l.contains(verdict))
                    .filter(|l| l.contains(&format!("--dport {dst_port} ")))
                    .find(|l| {
                        l.contains(&format!("-d {dst_ip}/32 "))
                            || (dst_ip == node_ip && l.contains("--dst-type LOCAL"))
                    });
                match rule {
                    Some(r) => {
                        *expected_counts
                            .entry((chain.to_string(), rule_text(r)))
                            .or_default() += f.connections as u64
                    }
                    None => {
                        problems.push(says(format!("no {verdict} rule in {chain} for {}", f.dst)))
                    }
                }
            }
            Expect::Invalid { chain } => {
                if !mine.is_empty() {
                    problems.push(says("an INVALID packet left a conntrack entry".into()));
                }
                let rule = saved.lines().find(|l| {
                    l.contains(&format!(
                        "-A {chain} -m conntrack --ctstate INVALID -j DROP"
                    ))
                });
                match rule {
                    Some(r) => {
                        *expected_counts
                            .entry((chain.to_string(), rule_text(r)))
                            .or_default() += f.packets as u64
                    }
                    None => problems.push(says(format!("no INVALID drop in {chain}"))),
                }
            }
        }
    }
    for ((chain, rule), want) in &expected_counts {
        let got = saved
            .lines()
            .find(|l| rule_text(l) == *rule)
            .and_then(|l| l.strip_prefix('['))
            .and_then(|l| l.split(':').next())
            .and_then(|n| n.parse::<u64>().ok());
        if got != Some(*want) {
            problems.push(format!(
                "{chain}: `{rule}` counted {got:?} packets, expected {want}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A saved rule line without its `[p:b]` counter.
fn rule_text(line: &str) -> String {
    match line.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or(line, |(_, r)| r).to_string(),
        None => line.to_string(),
    }
}

#[test]
fn readme_flow_table_is_current() {
    let readme = String::from_utf8(shipped("captures/README.md")).expect("UTF-8");
    let table = fwbench::gen::traffic::flows_markdown();
    assert!(
        readme.contains(&table),
        "captures/README.md lacks the current flow table; paste this:\n{table}"
    );
}

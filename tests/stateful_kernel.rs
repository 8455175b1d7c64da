//! Truth test of the stateful matches: the same UDP frames go through the real kernel's
//! filter INPUT chain (a throwaway pair of namespaces joined by a veth, frames injected from
//! the peer with AF_PACKET) and through fwbench's `Stack`; every INPUT rule counter must
//! agree. Run once with iptables-nft and once with iptables-legacy, since the two load some
//! of these matches differently (nft's own `numgen`, `quota` and `limit` expressions against
//! xt_statistic, xt_quota and xt_limit).
//!
//! The rules are chosen so that time on the wire does not matter: limits are per hour and
//! recent windows an hour long, so the frames' real spacing cannot change an answer.

mod common;
mod engine_support;

use common::{kernel_available, skip, Netns};
use engine_support::{compare_counters, mac_of, send_frames, udp};
use fwbench::engine::LinkHeader;
use fwbench::host::{AddressSpec, HostBuilder, Sysctls};
use fwbench::netfilter::stack::{Config, Stack};
use fwbench::rules::ipset::IpSets;
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::{Backend, TableKind};

const RULES: &str = "\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -m statistic --mode nth --every 3 --packet 1
-A INPUT -p udp -m statistic --mode nth ! --every 4 --packet 3
-A INPUT -p udp -m udp --dport 9 -m statistic --mode nth --every 2 --packet 0
-A INPUT -p udp -m statistic --mode random --probability 1
-A INPUT -p udp -m statistic --mode random ! --probability 1
-A INPUT -p udp -m statistic --mode random --probability 0
-A INPUT -p udp -m quota --quota 500
-A INPUT -p udp -m quota ! --quota 300
-A INPUT -p udp -m udp --dport 9 -m quota --quota 150
-A INPUT -p udp -m limit --limit 1/hour --limit-burst 4
-A INPUT -p udp -m udp --dport 8 -m limit --limit 2/hour --limit-burst 1
-A INPUT -p udp -m recent --set --name A --mask 255.255.255.254 --rsource
-A INPUT -p udp -m recent --rcheck --hitcount 3 --name A --mask 255.255.255.255 --rsource
-A INPUT -p udp -m recent --update --seconds 3600 --hitcount 5 --name A --mask 255.255.255.255 --rsource
-A INPUT -p udp -m udp --dport 7 -m recent --remove --name A --mask 255.255.255.255 --rsource
-A INPUT -p udp -m recent --rcheck --rttl --name A --mask 255.255.255.255 --rsource
-A INPUT -p udp -m recent ! --rcheck --name B --mask 255.255.255.255 --rdest
-A INPUT -p udp -m udp --dport 8 -m recent --set --name B --mask 255.255.255.255 --rdest
-A INPUT -p udp -m recent --rcheck --seconds 3600 --reap --name B --mask 255.255.255.255 --rdest
-A INPUT -p udp -m hashlimit --hashlimit-upto 1/hour --hashlimit-burst 3 --hashlimit-mode srcip --hashlimit-name H1
-A INPUT -p udp -m hashlimit --hashlimit-above 1/hour --hashlimit-burst 2 --hashlimit-mode srcip,dstport --hashlimit-name H2 --hashlimit-srcmask 31
-A INPUT -p udp -m hashlimit --hashlimit-upto 1/hour --hashlimit-burst 1 --hashlimit-name H3
-A INPUT -p udp -m hashlimit --hashlimit-upto 2/hour --hashlimit-burst 4 --hashlimit-mode dstip,srcport --hashlimit-name H2b
-A INPUT -p udp -m hashlimit --hashlimit-upto 16b/s --hashlimit-burst 32b --hashlimit-mode srcip --hashlimit-name H4
COMMIT
";

/// 10.9.0.`src` → 10.9.0.1, UDP to `dport` with `payload` bytes, TTL `ttl`.
fn frame(src: u8, dport: u16, payload: usize, ttl: u8) -> Vec<u8> {
    let mut l4 = udp(4000 + u16::from(src), dport, payload);
    let s = [10, 9, 0, src];
    let d = [10, 9, 0, 1];
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&s);
    pseudo.extend_from_slice(&d);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&(l4.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(&l4);
    let sum = checksum(&pseudo);
    l4[6..8].copy_from_slice(&sum.to_be_bytes());
    let mut p = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, ttl, 17, 0, 0];
    p[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    p.extend_from_slice(&s);
    p.extend_from_slice(&d);
    let sum = checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&l4);
    p
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The frames: a few sources (two sharing a /31), ports that single out rules, sizes that
/// run the quotas out mid-way, TTLs that differ for `--rttl`.
fn packets() -> Vec<Vec<u8>> {
    let plan: &[(u8, u16, usize, u8)] = &[
        (2, 5, 10, 64),
        (2, 5, 30, 64),
        (3, 9, 10, 64),
        (2, 8, 50, 64),
        (4, 9, 0, 64),
        (2, 5, 10, 63),
        (3, 5, 70, 64),
        (2, 7, 10, 64),
        (2, 5, 10, 64),
        (5, 8, 10, 64),
        (4, 5, 20, 64),
        (3, 9, 10, 64),
        (2, 5, 10, 64),
        (2, 5, 90, 64),
        (4, 9, 10, 30),
        (3, 8, 10, 64),
        (2, 5, 10, 64),
        (4, 5, 10, 64),
        (4, 7, 10, 64),
        (5, 9, 10, 64),
        (3, 5, 10, 64),
        (2, 5, 10, 64),
        (4, 5, 10, 64),
        (3, 8, 10, 64),
    ];
    plan.iter()
        .map(|&(src, dport, payload, ttl)| frame(src, dport, payload, ttl))
        .collect()
}

/// Set membership, `-j SET` and connection byte counts (UDP flows are source and port).
const SET_RULES: &str = "\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -m set --match-set S src
-A INPUT -p udp -m set ! --match-set P src,dst
-A INPUT -p udp -m udp --dport 8 -j SET --add-set S src
-A INPUT -p udp -m udp --dport 7 -j SET --del-set S src
-A INPUT -p udp -m udp --dport 9 -j SET --add-set P src,dst --exist --timeout 600
-A INPUT -p udp -m set --match-set P src,dst
-A INPUT -p udp -m set --match-set L src,dst
-A INPUT -p udp -m set --match-set N src
-A INPUT -p udp -m set --match-set S src --packets-gt 2
-A INPUT -p udp -m set --match-set S src ! --update-counters --bytes-lt 300
-A INPUT -p udp -m set ! --match-set P src,dst --packets-eq 1
-A INPUT -m connbytes --connbytes 3 --connbytes-mode packets --connbytes-dir original
-A INPUT -m connbytes ! --connbytes 2:4 --connbytes-mode packets --connbytes-dir both
-A INPUT -m connbytes --connbytes 40:60 --connbytes-mode avgpkt --connbytes-dir original
-A INPUT -m connbytes --connbytes 100 --connbytes-mode bytes --connbytes-dir original
-A INPUT -m connbytes --connbytes 1:1 --connbytes-mode packets --connbytes-dir reply
COMMIT
";

const SETS: &str = "\
create S hash:ip family inet hashsize 1024 maxelem 65536 counters
add S 10.9.0.3 packets 0 bytes 0
create P hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 3600 counters
add P 10.9.0.4,udp:5 timeout 3000 packets 0 bytes 0
create N hash:net family inet hashsize 1024 maxelem 65536
add N 10.9.0.0/29
add N 10.9.0.4/30 nomatch
create L list:set size 8
add L S
add L P
";

/// Time-driven matches, with frames sent 70 ms apart and replayed at the times they were
/// sent. Rates of 10/s with a burst of 2 (and 5/s with 1) leave every packet at least
/// 10 ms away from the moment its answer would change, far more than the sender's jitter;
/// the recent window of 1 s holds the last 15 packets with 20 ms to spare.
const PACED_RULES: &str = "\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -m limit --limit 10/sec --limit-burst 2
-A INPUT -p udp -m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 2 --hashlimit-mode srcip --hashlimit-name P
-A INPUT -p udp -m hashlimit --hashlimit-above 5/sec --hashlimit-burst 1 --hashlimit-name Q
-A INPUT -p udp -m recent --set --name T --mask 255.255.255.255 --rdest
-A INPUT -p udp -m recent --rcheck --seconds 1 --hitcount 15 --name T --mask 255.255.255.255 --rdest
COMMIT
";

/// Gap between paced frames, in seconds.
const PACE: f64 = 0.07;

fn run(backend: Backend) -> Result<(), String> {
    compare(backend, RULES, "", 2, None)
}

/// Sends the frames out of `dev` in `peer` `gap` seconds apart and returns when each was
/// sent (monotonic nanoseconds, taken just before the send).
fn send_paced(peer: &Netns, dev: &str, frames: &[(LinkHeader, &[u8])], gap: f64) -> Vec<i64> {
    const PACED: &str = r#"
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
gap = float(sys.argv[2])
start = time.monotonic()
for n, line in enumerate(l for l in sys.stdin if l.strip()):
    while time.monotonic() < start + n * gap:
        time.sleep(0.0005)
    t = time.monotonic_ns()
    s.send(bytes.fromhex(line.strip()))
    print(t, flush=True)
"#;
    let hex: String = frames
        .iter()
        .map(|(l, ip)| {
            let mut frame = [l.dst, l.src].concat();
            frame.extend_from_slice(&0x0800u16.to_be_bytes());
            frame.extend_from_slice(ip);
            frame.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n"
        })
        .collect();
    let script =
        std::env::temp_dir().join(format!("fwb-paced-{}-{}.py", std::process::id(), peer.name));
    std::fs::write(&script, PACED).expect("write sender");
    let o = peer.sh(&format!("python3 {} {dev} {gap}", script.display()), &hex);
    let _ = std::fs::remove_file(&script);
    assert!(
        o.status.success(),
        "sender: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.trim().parse::<i64>().expect("a time stamp"))
        .collect()
}

/// Loads `rules` (and `sets`, when not empty, with `ipset restore`) into a namespace,
/// sends [`packets`] to it, and compares every INPUT counter with a replay. `idle` rules
/// are expected never to match.
fn compare(
    backend: Backend,
    rules: &str,
    sets: &str,
    idle: usize,
    paced: Option<f64>,
) -> Result<(), String> {
    let (restore, save) = match backend {
        Backend::Nft => ("iptables-nft-restore", "iptables-nft-save"),
        Backend::Legacy => ("iptables-legacy-restore", "iptables-legacy-save"),
    };
    common::root_with(&[restore, save, "python3"])?;
    if !sets.is_empty() {
        common::root_with(&["ipset"])?;
    }
    let opts = ParseOptions {
        backend,
        ..ParseOptions::default()
    };
    let rs = parse_ruleset(rules, "rules", opts).unwrap_or_else(|d| panic!("{d}"));
    let table = rs.table(TableKind::Filter).expect("filter table");
    let input = table.chain_index("INPUT").expect("INPUT");

    // Both namespaces are deleted by Drop, also when an assertion below fails.
    let dev = Netns::new("stateful");
    let peer = Netns::new("stateful");
    dev.out(&format!(
        "set -e
         ip link set lo up
         ip link add d0 type veth peer name p0 netns {peer}
         ip addr add 10.9.0.1/24 brd + dev d0
         ip link set d0 up
         sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.d0.rp_filter=0
         sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
        peer = peer.name,
    ));
    peer.out(
        "set -e
         ip link set lo up
         sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.p0.disable_ipv6=1
         ip addr add 10.9.0.2/24 dev p0
         ip link set p0 up",
    );
    let d0_mac = mac_of(&dev.out("cat /sys/class/net/d0/address"));
    let p0_mac = mac_of(&peer.out("cat /sys/class/net/p0/address"));
    if !sets.is_empty() {
        let o = dev.sh("ipset restore", sets);
        assert!(
            o.status.success(),
            "ipset restore: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = dev.sh(restore, rules);
    assert!(
        o.status.success(),
        "{restore}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let pkts = packets();
    let link = LinkHeader {
        dst: d0_mac,
        src: p0_mac,
    };
    let frames: Vec<(LinkHeader, &[u8])> = pkts.iter().map(|p| (link, &p[..])).collect();
    let times: Vec<i64> = match paced {
        Some(gap) => send_paced(&peer, "p0", &frames, gap),
        None => {
            send_frames(&peer, "p0", 0x0800, &frames);
            (0..frames.len() as i64).map(|i| i * 2_000_000).collect()
        }
    };
    assert_eq!(times.len(), frames.len(), "a send time per frame");
    let saved = dev.out(&format!("{save} -c -t filter"));

    let mut hb = HostBuilder::new(Sysctls::default());
    hb.add_interface("d0", None, None, true).expect("d0");
    hb.add_address(
        "d0",
        AddressSpec {
            local: "10.9.0.1".parse().expect("addr"),
            prefix_len: 24,
            broadcast: Some("10.9.0.255".parse().expect("brd")),
            scope: None,
            noprefixroute: false,
        },
    )
    .expect("address");
    let host = hb.build();
    let config = Config {
        backend,
        local_replies: false,
        ..Config::default()
    };
    let ipsets = IpSets::parse(sets, "sets").unwrap_or_else(|d| panic!("{d}"));
    let mut stack = Stack::new(&rs, &host, ipsets, config);
    for (p, &t) in pkts.iter().zip(&times) {
        stack.receive(t, "d0", Some(link), p);
    }
    let counts = stack.counts(TableKind::Filter).expect("filter counts");

    let kernel = parse_ruleset(&saved, "kernel", opts).unwrap_or_else(|d| panic!("{d}\n{saved}"));
    let ktable = kernel.table(TableKind::Filter).expect("kernel filter");
    let (agreed, problems) = compare_counters(table, counts, ktable, &[input]);
    if !problems.is_empty() {
        return Err(format!("{backend:?}:\n{}\n{saved}", problems.join("\n")));
    }
    // Guard against a vacuous pass: every rule that should see traffic did.
    let kin = ktable.chain("INPUT").expect("INPUT");
    let never = kin.rules.iter().filter(|r| r.counters.packets == 0).count();
    assert_eq!(
        never, idle,
        "{backend:?}: rules that never matched\n{saved}"
    );
    if !sets.is_empty() {
        // The sets as -j SET and the matches left them: members and counters (not the
        // timeouts left, which differ by the run time).
        let members = |text: &str| {
            let mut m: Vec<String> = text
                .lines()
                .filter(|l| l.starts_with("add "))
                .map(|l| {
                    let words: Vec<&str> = l.split(' ').collect();
                    let mut kept = Vec::new();
                    let mut i = 0;
                    while i < words.len() {
                        if words[i] == "timeout" {
                            i += 2;
                            continue;
                        }
                        kept.push(words[i]);
                        i += 1;
                    }
                    kept.join(" ")
                })
                .collect();
            m.sort();
            m
        };
        let kernel_sets = dev.out("ipset save");
        assert_eq!(
            members(&kernel_sets),
            members(&stack.ipsets().save()),
            "{backend:?}: set members after the run"
        );
    }
    eprintln!("{backend:?}: {agreed} counters agree with the kernel");
    if std::env::var_os("FWBENCH_SHOW_KERNEL").is_some() {
        eprintln!("{saved}");
    }
    Ok(())
}

#[test]
fn stateful_matches_agree_with_kernel_counters() {
    if let Err(why) = kernel_available() {
        return skip(&why);
    }
    for backend in [Backend::Nft, Backend::Legacy] {
        match run(backend)
            .and_then(|()| compare(backend, SET_RULES, SETS, 1, None))
            .and_then(|()| compare(backend, PACED_RULES, "", 0, Some(PACE)))
        {
            Ok(()) => {}
            Err(why) if why.contains("is not installed") => skip(&why),
            Err(why) => panic!("{why}"),
        }
    }
}

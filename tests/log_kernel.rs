//! nft TRACE output against the kernel: a device namespace traces every packet that arrives on
//! d0 (`raw PREROUTING -j TRACE`), `xtables-monitor --trace` records the events, and
//! `engine::nft_trace_packet_line` / `nft_trace_event_line` must print the same lines for the
//! walk each packet takes (goto + RETURN, jump + MARK + ACCEPT, LOG + REJECT, mangle MARK,
//! a later fragment, ICMP, IPv6). The per-packet trace id is the kernel's hash and is
//! blanked on both sides.
//!
//! `-j LOG` lines themselves cannot be read back here: the kernel writes them for a
//! namespace other than the initial one only when `net.netfilter.nf_log_all_netns` is 1, a
//! setting of the root namespace that these tests must not change. engine::log's unit tests
//! hold them to nf_log_syslog.c.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::{kernel_available, skip, Netns};
use fwbench::engine::{
    nft_trace_event_line, nft_trace_packet_line, LogContext, NftTraceEvent, NftVerdict, TraceKind,
};
use fwbench::wire::verify;

const RULES_V4: &str = "*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i d0 -j TRACE
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -j MARK --set-mark 0x2a
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:A - [0:0]
:B - [0:0]
-A INPUT -p udp --dport 5000 -g A
-A INPUT -p udp --dport 5001 -j B
-A INPUT -p udp -j LOG --log-prefix \"x: \"
-A INPUT -p udp --dport 5002 -j REJECT
-A INPUT -p udp -j DROP
-A A -j RETURN
-A B -j MARK --set-mark 7
-A B -j ACCEPT
COMMIT
";

const RULES_V6: &str = "*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i d0 -j TRACE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -j DROP
COMMIT
";

/// The rule texts as iptables-nft-save prints them, by table and handle.
const RULE_TEXT: &[(&str, u64, &str)] = &[
    ("raw", 3, "-A PREROUTING -i d0 -j TRACE"),
    (
        "mangle",
        2,
        "-A PREROUTING -p tcp -j MARK --set-xmark 0x2a/0xffffffff",
    ),
    ("filter", 6, "-A INPUT -p udp -m udp --dport 5000 -g A"),
    ("filter", 7, "-A INPUT -p udp -m udp --dport 5001 -j B"),
    ("filter", 8, "-A INPUT -p udp -j LOG --log-prefix \"x: \""),
    (
        "filter",
        9,
        "-A INPUT -p udp -m udp --dport 5002 -j REJECT --reject-with icmp-port-unreachable",
    ),
    ("filter", 10, "-A INPUT -p udp -j DROP"),
    ("filter", 11, "-A A -j RETURN"),
    ("filter", 12, "-A B -j MARK --set-xmark 0x7/0xffffffff"),
    ("filter", 13, "-A B -j ACCEPT"),
];

const RULE_TEXT_V6: &[(&str, u64, &str)] = &[
    ("raw", 3, "-A PREROUTING -i d0 -j TRACE"),
    ("filter", 4, "-A INPUT -p udp -j DROP"),
];

/// One base chain's part of a packet's trace: the mark at its first event, then the events
/// as (chain, kind, handle, verdict).
struct Hook {
    table: &'static str,
    mark: u32,
    events: Vec<(&'static str, TraceKind, u64, NftVerdict<'static>)>,
}

fn hook(
    table: &'static str,
    mark: u32,
    events: Vec<(&'static str, TraceKind, u64, NftVerdict<'static>)>,
) -> Hook {
    Hook {
        table,
        mark,
        events,
    }
}

fn v4(proto: u8, tos: u8, frag: u16, l4: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, tos];
    p.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34]);
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0, 10, 9, 0, 2, 10, 9, 0, 1]);
    p.extend_from_slice(l4);
    if frag & 0x1fff == 0 {
        verify::recompute(&mut p).expect("recompute");
    } else {
        let mut sum = 0u32;
        for w in p[..20].chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        p[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    }
    p
}

fn udp(dport: u16) -> Vec<u8> {
    let mut u = vec![0x0f, 0xa0];
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&[0, 12, 0xff, 0xff, b'a', b'b', b'c', b'd']);
    u
}

fn v6_udp(dport: u16) -> Vec<u8> {
    let mut p = ((6u32 << 28) | (0x12 << 20) | 0x12345)
        .to_be_bytes()
        .to_vec();
    p.extend_from_slice(&[0, 12, 17, 63]);
    p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p.extend_from_slice(&udp(dport));
    verify::recompute(&mut p).expect("recompute");
    p
}

fn mac_of(s: &str) -> [u8; 6] {
    let mut m = [0u8; 6];
    for (i, part) in s.trim().split(':').enumerate() {
        m[i] = u8::from_str_radix(part, 16).expect("mac");
    }
    m
}

fn hex(p: &[u8]) -> String {
    p.iter().map(|b| format!("{b:02x}")).collect()
}

/// Blanks the trace id (third word of every line).
fn without_id(line: &str) -> String {
    let mut words: Vec<&str> = line.trim_start().splitn(4, ' ').collect();
    if words.len() >= 3 {
        words[2] = "ID";
    }
    let lead = if line.starts_with(' ') { " " } else { "" };
    format!("{lead}{}", words.join(" "))
}

const SEND: &str = r#"
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin:
    line = line.strip()
    if line:
        s.send(bytes.fromhex(line))
        time.sleep(0.1)
"#;

#[test]
fn nft_trace_lines_agree_with_xtables_monitor() {
    if let Err(why) = kernel_available()
        .and_then(|()| common::root_with(&["xtables-monitor", "ip6tables-nft-restore", "python3"]))
    {
        return skip(&why);
    }
    let dev = Netns::new("trace");
    let peer = Netns::new("trace");
    dev.out(&format!(
        "set -e
         ip link set lo up
         ip link add d0 type veth peer name p0 netns {peer}
         sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
         ip addr add 10.9.0.1/24 dev d0
         ip addr add 2001:db8:9::1/64 dev d0 nodad
         ip link set d0 up",
        peer = peer.name
    ));
    peer.out(
        "set -e
         ip link set lo up
         sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.p0.disable_ipv6=1
         ip link set p0 up",
    );
    let d0 = mac_of(&dev.out("cat /sys/class/net/d0/address"));
    let p0_text = peer.out("cat /sys/class/net/p0/address");
    let p0 = mac_of(&p0_text);
    dev.out(&format!(
        "ip neigh replace 10.9.0.2 lladdr {m} dev d0 nud permanent
         ip neigh replace 2001:db8:9::2 lladdr {m} dev d0 nud permanent",
        m = p0_text.trim()
    ));
    for (tool, rules) in [
        ("iptables-nft-restore", RULES_V4),
        ("ip6tables-nft-restore", RULES_V6),
    ] {
        let o = dev.sh(tool, rules);
        assert!(
            o.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    use NftVerdict::{Accept, Continue, Drop, Goto, Jump, Return};
    use TraceKind::{Policy, Rule};
    let raw = || {
        hook(
            "raw",
            0,
            vec![
                ("PREROUTING", Rule, 3, Continue),
                ("PREROUTING", Policy, 0, Accept),
            ],
        )
    };
    let mangle_policy = || hook("mangle", 0, vec![("PREROUTING", Policy, 0, Accept)]);
    let mut syn = vec![
        0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff,
    ];
    syn.extend_from_slice(&[0, 0, 0, 0]);
    let packets: Vec<(Vec<u8>, Vec<Hook>)> = vec![
        (
            v4(17, 0x12, 0x4000, &udp(5000)),
            vec![
                raw(),
                mangle_policy(),
                hook(
                    "filter",
                    0,
                    vec![
                        ("INPUT", Rule, 6, Goto("A")),
                        ("A", Rule, 11, Return),
                        ("INPUT", Policy, 0, Accept),
                    ],
                ),
            ],
        ),
        (
            v4(17, 0, 0, &udp(5001)),
            vec![
                raw(),
                mangle_policy(),
                hook(
                    "filter",
                    0,
                    vec![
                        ("INPUT", Rule, 7, Jump("B")),
                        ("B", Rule, 12, Continue),
                        ("B", Rule, 13, Accept),
                    ],
                ),
            ],
        ),
        (
            v4(17, 0, 0x4000, &udp(5002)),
            vec![
                raw(),
                mangle_policy(),
                hook(
                    "filter",
                    0,
                    vec![("INPUT", Rule, 8, Continue), ("INPUT", Rule, 9, Drop)],
                ),
            ],
        ),
        (
            v4(6, 0, 0x4000, &syn),
            vec![
                raw(),
                hook(
                    "mangle",
                    0x2a,
                    vec![
                        ("PREROUTING", Rule, 2, Continue),
                        ("PREROUTING", Policy, 0, Accept),
                    ],
                ),
                hook("filter", 0x2a, vec![("INPUT", Policy, 0, Accept)]),
            ],
        ),
        (
            v4(1, 0, 0, &[8, 0, 0, 0, 0x42, 0x42, 0, 1, 1, 2, 3, 4]),
            vec![
                raw(),
                mangle_policy(),
                hook("filter", 0, vec![("INPUT", Policy, 0, Accept)]),
            ],
        ),
        (
            // A later fragment addressed to the host: it is seen in PREROUTING, then
            // ip_local_deliver holds it for reassembly (ip_defrag) before INPUT, also
            // without conntrack, so filter INPUT never sees it. xtables-monitor shows its
            // first data bytes as ports.
            v4(17, 0, 0x0010, &[0x55; 16]),
            vec![raw(), mangle_policy()],
        ),
        (
            v6_udp(6000),
            vec![raw(), hook("filter", 0, vec![("INPUT", Rule, 4, Drop)])],
        ),
    ];

    let mut child = Command::new("ip")
        .args(["netns", "exec", &dev.name, "xtables-monitor", "--trace"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("xtables-monitor");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let frames: String = packets
        .iter()
        .map(|(p, _)| {
            let et = if p[0] >> 4 == 6 { "86dd" } else { "0800" };
            format!("{}{}{et}{}\n", hex(&d0), hex(&p0), hex(p))
        })
        .collect();
    let script = std::env::temp_dir().join(format!("fwb-trace-{}.py", std::process::id()));
    std::fs::write(&script, SEND).expect("write sender");
    let o = peer.sh(&format!("python3 {} p0", script.display()), &frames);
    let _ = std::fs::remove_file(&script);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let _ = child.kill();
    let mut out = String::new();
    if let Some(mut so) = child.stdout.take() {
        let _ = so.read_to_string(&mut out);
    }
    let _ = child.wait();
    assert!(
        o.status.success(),
        "sender: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let mut ours = Vec::new();
    for (p, hooks) in &packets {
        let v6 = p[0] >> 4 == 6;
        let texts = if v6 { RULE_TEXT_V6 } else { RULE_TEXT };
        for h in hooks {
            let ctx = LogContext {
                in_iface: Some("d0"),
                out_iface: None,
                link: Some((d0, p0, if v6 { 0x86dd } else { 0x0800 })),
                mark: h.mark,
            };
            ours.push(nft_trace_packet_line(0, &ctx, p));
            for &(chain, kind, handle, verdict) in &h.events {
                let rule = texts
                    .iter()
                    .find(|t| t.0 == h.table && t.1 == handle)
                    .map_or("", |t| t.2);
                let ev = NftTraceEvent {
                    table: h.table,
                    chain,
                    kind,
                    handle,
                    verdict,
                    rule,
                };
                ours.push(nft_trace_event_line(v6, 0, &ev));
            }
        }
    }
    let kernel: Vec<String> = out.lines().map(without_id).collect();
    let ours: Vec<String> = ours.iter().map(|l| without_id(l)).collect();
    assert!(!kernel.is_empty(), "xtables-monitor printed nothing");
    assert_eq!(
        kernel.join("\n"),
        ours.join("\n"),
        "\n{}",
        common::first_difference(&kernel.join("\n"), &ours.join("\n"))
    );
}

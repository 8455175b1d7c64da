//! Kernel-differential test of the ipset model.
//!
//! For each restore file below, in a throwaway network namespace: `ipset restore` it, then
//! - fwbench's `save` of its model of the file must equal the kernel's `ipset save` (element
//!   order aside, which follows the kernel's random hash seed; the random `initval` aside
//!   where the file does not fix it; element timeouts within a few seconds, as the kernel
//!   counts them down);
//! - for each probe, `ipset test` in the kernel and fwbench's packet test must agree;
//! - the kernel's `ipset save` output, restored into a fresh namespace: when ipset takes it,
//!   fwbench must read it and print it back byte for byte; when ipset refuses it (it can:
//!   see `hash:ip` with `bitmask` below), fwbench must refuse it at the same line.
//!
//! Files the kernel refuses must be refused by fwbench, at the same line when ipset names one.
//!
//! Needs root, `ip netns` and `ipset`; otherwise prints `SKIPPED:` (or fails under
//! `FWBENCH_REQUIRE_KERNEL=1`).

mod common;

use std::collections::HashSet;
use std::net::IpAddr;

use common::{first_difference, skip, Netns};
use fwbench::rules::ipset::{IpSets, SetPart};

fn ipset_available() -> Result<(), String> {
    common::root_with(&["ip", "ipset"])
}

/// Valid files (tests/ipset/*.restore), each loaded in its own namespace. Probes refer to
/// them by position.
const FILES: &[(&str, &str)] = &[
    ("hash:ip", include_str!("ipset/hash_ip.restore")),
    ("hash:net", include_str!("ipset/hash_net.restore")),
    ("hash:ip,port", include_str!("ipset/hash_ip_port.restore")),
    (
        "hash:net,port and hash:ip,port,ip/net",
        include_str!("ipset/net_port_and_ip_port_ip_net.restore"),
    ),
    (
        "hash:net,iface",
        include_str!("ipset/hash_net_iface.restore"),
    ),
    (
        "bitmaps and list:set",
        include_str!("ipset/bitmaps_and_list_set.restore"),
    ),
    (
        "ICMP and ICMPv6 names",
        include_str!("ipset/icmp_names.restore"),
    ),
    (
        "masked range walks",
        include_str!("ipset/masked_range_walks.restore"),
    ),
    ("commands", include_str!("ipset/commands.restore")),
];

/// A probe: set, the element for `ipset test`, and the same as packet parts.
struct Probe {
    file: usize,
    set: &'static str,
    elem: &'static str,
    parts: Vec<SetPart<'static>>,
}

fn ip(s: &str) -> SetPart<'static> {
    SetPart::Addr(s.parse::<IpAddr>().expect("test address"))
}

fn tcp(p: u16) -> SetPart<'static> {
    SetPart::Port { proto: 6, port: p }
}

fn udp(p: u16) -> SetPart<'static> {
    SetPart::Port { proto: 17, port: p }
}

fn dev(name: &'static str) -> SetPart<'static> {
    SetPart::Iface {
        name,
        physdev: false,
    }
}

fn probes() -> Vec<Probe> {
    let p = |file, set, elem, parts| Probe {
        file,
        set,
        elem,
        parts,
    };
    let icmp = |t: u16, c: u16| SetPart::Port {
        proto: 1,
        port: t << 8 | c,
    };
    vec![
        p(0, "ip4", "10.0.0.3", vec![ip("10.0.0.3")]),
        p(0, "ip4", "10.0.0.5", vec![ip("10.0.0.5")]),
        p(0, "ip4", "1.2.0.3", vec![ip("1.2.0.3")]),
        p(0, "ip4nm", "1.2.4.200", vec![ip("1.2.4.200")]),
        p(0, "ip4nm", "1.2.6.1", vec![ip("1.2.6.1")]),
        p(0, "ip4bm", "1.2.77.4", vec![ip("1.2.77.4")]),
        p(0, "ip4bm", "1.2.3.5", vec![ip("1.2.3.5")]),
        p(0, "ip6", "2001:db8::ffff", vec![ip("2001:db8::ffff")]),
        p(0, "ip6", "2001:db9::1", vec![ip("2001:db9::1")]),
        // Longest prefix decides; a nomatch /16 inside a matching /8.
        p(1, "net4", "10.9.9.9", vec![ip("10.9.9.9")]),
        p(1, "net4", "10.1.9.9", vec![ip("10.1.9.9")]),
        p(1, "net4", "10.1.2.9", vec![ip("10.1.2.9")]),
        p(1, "net4", "10.1.2.3", vec![ip("10.1.2.3")]),
        p(1, "net4", "172.16.0.11", vec![ip("172.16.0.11")]),
        p(1, "net4", "172.16.0.9", vec![ip("172.16.0.9")]),
        p(1, "net4", "5.6.15.255", vec![ip("5.6.15.255")]),
        p(1, "net6", "2001:db8:1::5", vec![ip("2001:db8:1::5")]),
        p(1, "net6", "2001:db8:1:2::1", vec![ip("2001:db8:1:2::1")]),
        p(1, "net6", "2001:db8:2::1", vec![ip("2001:db8:2::1")]),
        // Port ranges, protocols, ICMP type/code.
        p(2, "ipp", "10.0.0.1,tcp:81", vec![ip("10.0.0.1"), tcp(81)]),
        p(2, "ipp", "10.0.0.1,tcp:83", vec![ip("10.0.0.1"), tcp(83)]),
        p(2, "ipp", "10.0.0.1,udp:81", vec![ip("10.0.0.1"), udp(81)]),
        p(
            2,
            "ipp",
            "10.0.0.2,icmp:8/0",
            vec![ip("10.0.0.2"), icmp(8, 0)],
        ),
        p(
            2,
            "ipp",
            "10.0.0.2,icmp:8/1",
            vec![ip("10.0.0.2"), icmp(8, 1)],
        ),
        p(2, "ipp", "10.0.0.5,udp:53", vec![ip("10.0.0.5"), udp(53)]),
        p(2, "ipp", "10.0.0.7,udp:22", vec![ip("10.0.0.7"), udp(22)]),
        p(
            2,
            "ipp",
            "10.0.0.3,gre:0",
            vec![ip("10.0.0.3"), SetPart::Port { proto: 47, port: 0 }],
        ),
        p(
            2,
            "ippnm",
            "1.2.3.200,tcp:80",
            vec![ip("1.2.3.200"), tcp(80)],
        ),
        p(2, "ippnm", "1.2.4.5,udp:1", vec![ip("1.2.4.5"), udp(1)]),
        p(2, "ippnm", "1.2.4.9,udp:1", vec![ip("1.2.4.9"), udp(1)]),
        p(2, "ippbm", "1.2.3.9,tcp:80", vec![ip("1.2.3.9"), tcp(80)]),
        p(3, "np", "10.9.9.9,tcp:22", vec![ip("10.9.9.9"), tcp(22)]),
        p(3, "np", "10.1.9.9,tcp:22", vec![ip("10.1.9.9"), tcp(22)]),
        p(3, "np", "10.1.9.9,tcp:23", vec![ip("10.1.9.9"), tcp(23)]),
        p(3, "np", "10.0.0.2,udp:6", vec![ip("10.0.0.2"), udp(6)]),
        p(3, "np", "10.0.0.4,udp:6", vec![ip("10.0.0.4"), udp(6)]),
        p(
            3,
            "np",
            "10.0.0.9,icmp:echo-request",
            vec![ip("10.0.0.9"), icmp(8, 0)],
        ),
        p(
            3,
            "ipi",
            "10.0.0.1,tcp:2,1.1.1.1",
            vec![ip("10.0.0.1"), tcp(2), ip("1.1.1.1")],
        ),
        p(
            3,
            "ipi",
            "10.0.0.1,tcp:3,1.1.1.1",
            vec![ip("10.0.0.1"), tcp(3), ip("1.1.1.1")],
        ),
        p(
            3,
            "ipn",
            "10.0.0.1,sctp:5,10.9.9.9",
            vec![
                ip("10.0.0.1"),
                SetPart::Port {
                    proto: 132,
                    port: 5,
                },
                ip("10.9.9.9"),
            ],
        ),
        p(
            3,
            "ipn",
            "10.0.0.1,tcp:0,10.9.9.9",
            vec![ip("10.0.0.1"), tcp(0), ip("10.9.9.9")],
        ),
        p(
            3,
            "ipn",
            "10.0.0.1,tcp:80,10.0.0.5",
            vec![ip("10.0.0.1"), tcp(80), ip("10.0.0.5")],
        ),
        p(
            3,
            "ipn",
            "10.0.0.1,tcp:80,10.0.0.6",
            vec![ip("10.0.0.1"), tcp(80), ip("10.0.0.6")],
        ),
        p(
            3,
            "ipn6",
            "2001:db8::1,tcp:1,2001:db8:ff::1",
            vec![ip("2001:db8::1"), tcp(1), ip("2001:db8:ff::1")],
        ),
        p(
            3,
            "ipn6",
            "2001:db8::1,tcp:1,2001:db8:fe::1",
            vec![ip("2001:db8::1"), tcp(1), ip("2001:db8:fe::1")],
        ),
        // hash:net,iface: wildcard, physdev, nomatch, and the "same network, other
        // interface ends the search" rule.
        p(4, "ni", "10.9.9.9,eth0", vec![ip("10.9.9.9"), dev("eth0")]),
        p(4, "ni", "10.9.9.9,eth7", vec![ip("10.9.9.9"), dev("eth7")]),
        p(
            4,
            "ni",
            "10.9.9.9,wlan0",
            vec![ip("10.9.9.9"), dev("wlan0")],
        ),
        p(
            4,
            "ni",
            "10.1.9.9,eth+1",
            vec![ip("10.1.9.9"), dev("eth+1")],
        ),
        p(4, "ni", "10.1.9.9,eth+", vec![ip("10.1.9.9"), dev("eth+")]),
        p(4, "ni", "10.1.9.9,eth0", vec![ip("10.1.9.9"), dev("eth0")]),
        p(4, "ni", "10.1.9.9,eth9", vec![ip("10.1.9.9"), dev("eth9")]),
        p(4, "ni", "10.1.9.9,lo", vec![ip("10.1.9.9"), dev("lo")]),
        p(4, "ni", "10.2.0.3,lo", vec![ip("10.2.0.3"), dev("lo")]),
        p(4, "ni", "11.0.0.1,lo", vec![ip("11.0.0.1"), dev("lo")]),
        p(
            4,
            "ni",
            "10.9.9.9,physdev:eth0",
            vec![
                ip("10.9.9.9"),
                SetPart::Iface {
                    name: "eth0",
                    physdev: true,
                },
            ],
        ),
        p(
            4,
            "ni6",
            "2001:db8::1,eth0",
            vec![ip("2001:db8::1"), dev("eth0")],
        ),
        p(
            4,
            "ni6",
            "2001:db9::1,eth1",
            vec![ip("2001:db9::1"), dev("eth1")],
        ),
        // Bitmaps.
        p(5, "bp", "tcp:103", vec![tcp(103)]),
        p(5, "bp", "tcp:106", vec![tcp(106)]),
        p(5, "bp", "udp:53", vec![udp(53)]),
        p(5, "bi", "10.0.2.77", vec![ip("10.0.2.77")]),
        p(5, "bi", "10.0.6.1", vec![ip("10.0.6.1")]),
        p(5, "bi", "10.0.5.1", vec![ip("10.0.5.1")]),
        p(5, "bi2", "10.0.0.19", vec![ip("10.0.0.19")]),
        p(5, "bi2", "10.0.0.20", vec![ip("10.0.0.20")]),
    ]
}

/// Files ipset refuses, with the line it names (`None`: it names no line).
const BAD_FILES: &[(&str, Option<u32>)] = &[
    ("create a hash:ip\nadd a 0.0.0.0\n", Some(2)),
    ("create a hash:net\nadd a 0.0.0.0/0\n", Some(2)),
    ("create a hash:ip\nadd a 1.1.1.1\nadd a 1.1.1.1\n", Some(3)),
    (
        "create a hash:ip\nadd a 1.1.1.1\nadd a 1.1.1.2 -exist\nadd a 1.1.1.1\n",
        Some(4),
    ),
    ("create a hash:ip\ncreate a hash:net -exist\n", Some(2)),
    ("create a hash:ip\nadd a 1.1.1.1 timeout 5\n", Some(2)),
    ("create a hash:ip\nadd a 1.1.1.1 comment x\n", Some(2)),
    (
        "create a hash:ip counters\nadd a 1.1.1.1 skbmark 0x1\n",
        Some(2),
    ),
    ("create b bitmap:port range 10-20\nadd b 9\n", Some(2)),
    ("create b hash:ip\ncreate l list:set\nadd l x\n", Some(3)),
    (
        "create b hash:ip\ncreate l list:set\nadd l b\ndestroy b\n",
        Some(4),
    ),
    (
        "create b hash:ip\ncreate l list:set\nadd l b\nrename b z\n",
        Some(4),
    ),
    ("create l list:set\ncreate m list:set\nadd l m\n", Some(3)),
    (
        "create b hash:ip\ncreate c hash:ip\ncreate l list:set\nadd l b before c\n",
        Some(4),
    ),
    (
        "create a hash:ip maxelem 2\nadd a 1.1.1.1-1.1.1.3\n",
        Some(2),
    ),
    ("create a hash:ip\ncreate b hash:net\nswap a b\n", Some(3)),
    (
        "create a hash:ip\ncreate b hash:ip family inet6\nswap a b\n",
        Some(3),
    ),
    ("create a bitmap:ip range 10.0.0.0/8\n", Some(1)),
    ("create a bitmap:ip range 10.0.0.0/24 netmask 24\n", Some(1)),
    ("create a bitmap:ip range 10.0.0.1/32\n", Some(1)),
    (
        "create a hash:ip family inet6\nadd a 2001:db8::/126\n",
        Some(2),
    ),
    ("create a hash:ip family inet6\nadd a 1.1.1.1\n", Some(2)),
    ("create a hash:ip\nadd a 1.1.1.1 timeout 2147484\n", Some(2)),
    ("create a hash:ip\ncreate a hash:ip\n", Some(2)),
    ("create a hash:ip netmask 0\n", Some(1)),
    ("create a hash:ip family inet family inet6\n", Some(1)),
    (
        "create a hash:net,iface\nadd a 10.0.0.0/8,eth wildcard\nadd a 10.0.0.0/8,eth0\n",
        Some(3),
    ),
    ("create a hash:ip,port\nadd a 1.2.3.4,icmp:1-2\n", Some(2)),
    (
        "create a hash:net family inet6\nadd a 2001:db8::1-2001:db8::5\n",
        Some(2),
    ),
    ("create abcdefghijabcdefghijabcdefghij12 hash:ip\n", Some(1)),
    ("add nosuch 1.1.1.1\n", Some(1)),
    ("create a hash:ip foo\n", None),
    (
        "create b hash:ip\ncreate c hash:ip\ncreate l list:set\nadd l b\nadd l c\n\
         del l c before b\n",
        Some(6),
    ),
    (
        "create b hash:ip\ncreate c hash:ip\ncreate l list:set\nadd l b\n-exist del l c after b\n",
        Some(5),
    ),
    (
        "create b hash:ip\ncreate l list:set\nadd l b\ndestroy\n",
        Some(4),
    ),
    ("create b hash:ip\ncreate c hash:ip\nrename b c\n", Some(3)),
    ("create a hash:ip maxelem 0\nadd a 1.1.1.1\n", Some(2)),
    (
        "create b hash:ip\nadd b 1.1.1.1\nadd b 1.1.1.2\ndel b 1.1.1.3\n",
        Some(4),
    ),
    ("create a hash:ip,port\nadd a 1.2.3.4,UDP:domain\n", None),
    (
        "create a hash:ip comment\nadd a 1.1.1.1 comment \"\"\n",
        None,
    ),
    ("create a hash:ip\nadd a 1.1.1.1 nomatch\n", None),
    ("create a bitmap:port\n", None),
    ("create a hash:ip,port,ip netmask 24\n", None),
];

/// `ipset save` text as comparable lines: element lines sorted within their set (the kernel
/// prints hash sets in an order that depends on its random seed), element timeouts taken out
/// (the kernel counts them down) and `initval` dropped from the sets named in `no_initval`.
fn comparable(text: &str, no_initval: &HashSet<String>) -> Vec<(String, Option<u32>)> {
    let mut out = Vec::new();
    let mut group: Vec<(String, Option<u32>)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("create ") {
            group.sort();
            out.append(&mut group);
            let name = rest.split(' ').next().unwrap_or("");
            let mut l = line.to_string();
            if no_initval.contains(name) {
                if let Some(i) = l.find(" initval 0x") {
                    l.replace_range(i..(i + 19).min(l.len()), "");
                }
            }
            out.push((l, None));
        } else {
            let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
            let mut timeout = None;
            if let Some(i) = words.iter().position(|w| w == "timeout") {
                if let Some(v) = words.get_mut(i + 1) {
                    timeout = v.parse().ok();
                    *v = "_".to_string();
                }
            }
            group.push((words.join(" "), timeout));
        }
    }
    group.sort();
    out.append(&mut group);
    out
}

/// Differences between fwbench's `save` of its model and the kernel's `ipset save`.
fn compare_saves(ours: &str, kernel: &str) -> Vec<String> {
    let no_initval: HashSet<String> = ours
        .lines()
        .filter(|l| l.starts_with("create ") && !l.contains(" initval "))
        .filter_map(|l| l.split(' ').nth(1).map(str::to_string))
        .collect();
    let (a, b) = (
        comparable(ours, &no_initval),
        comparable(kernel, &no_initval),
    );
    let mut problems = Vec::new();
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some((x, t)), Some((y, u))) => {
                let close = match (t, u) {
                    (Some(t), Some(u)) => u <= t && t - u <= 3,
                    (t, u) => t == u,
                };
                if x != y || !close {
                    problems.push(format!("fwbench `{x}' {t:?}, kernel `{y}' {u:?}"));
                }
            }
            (x, y) => problems.push(format!("fwbench {x:?}, kernel {y:?}")),
        }
        if problems.len() > 5 {
            break;
        }
    }
    problems
}

/// The line of `ipset restore`'s first error, if it names one.
fn kernel_error_line(stderr: &str) -> Option<u32> {
    stderr
        .split("Error in line ")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse::<u32>().ok())
}

#[test]
fn ipset_save_round_trip_and_model_match_the_kernel() {
    if let Err(why) = ipset_available() {
        return skip(&why);
    }
    let probes = probes();
    let mut problems = Vec::new();
    for (fi, (label, text)) in FILES.iter().enumerate() {
        let ns = Netns::new("ipset");
        let r = ns.sh("ipset restore", text);
        assert!(
            r.status.success(),
            "{label}: the kernel refused the file: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        let saved = ns.out("ipset save");
        let ours = match IpSets::parse(text, label) {
            Ok(s) => s,
            Err(d) => {
                problems.push(format!("{label}: fwbench refuses the file:\n{d}"));
                continue;
            }
        };
        problems.extend(
            compare_saves(&ours.save(), &saved)
                .into_iter()
                .map(|p| format!("{label}: {p}")),
        );
        for p in probes.iter().filter(|p| p.file == fi) {
            let k = ns.sh(&format!("ipset -q test {} {}", p.set, p.elem), "");
            let in_kernel = k.status.success();
            let got = ours.test(p.set, &p.parts);
            if got != Some(in_kernel) {
                problems.push(format!(
                    "{label}: `ipset test {} {}` says {in_kernel}, fwbench {got:?}",
                    p.set, p.elem
                ));
            }
        }
        // Reading the kernel's own output back: where `ipset restore` takes it, fwbench must
        // too and print it unchanged; where it does not (ranges walked from a masked start
        // store unmasked addresses that a restore masks again), fwbench must refuse it at the
        // same line.
        let again = Netns::new("ipsetre");
        let r = again.sh("ipset restore", &saved);
        match (r.status.success(), IpSets::parse(&saved, "kernel-save")) {
            (true, Ok(sets)) => {
                let printed = sets.save();
                if printed != saved {
                    problems.push(format!(
                        "{label}: save round trip differs at {}",
                        first_difference(&saved, &printed)
                    ));
                }
            }
            (true, Err(d)) => {
                problems.push(format!("{label}: fwbench cannot read `ipset save`:\n{d}"))
            }
            (false, Ok(_)) => problems.push(format!(
                "{label}: ipset cannot restore its own save but fwbench reads it: {}",
                String::from_utf8_lossy(&r.stderr)
            )),
            (false, Err(d)) => {
                let k = kernel_error_line(&String::from_utf8_lossy(&r.stderr));
                let f = d.errors.first().map(|e| e.pos.line);
                if k != f {
                    problems.push(format!(
                        "{label}: restoring `ipset save` fails at line {k:?} in the kernel, \
                         {f:?} in fwbench"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn files_the_kernel_refuses_are_refused_at_the_same_line() {
    if let Err(why) = ipset_available() {
        return skip(&why);
    }
    let mut problems = Vec::new();
    let mut cases: Vec<(String, Option<u32>)> =
        BAD_FILES.iter().map(|(t, l)| (t.to_string(), *l)).collect();
    // ipset reads lines into a 1024-byte buffer: a longer line is cut into pieces.
    cases.push((
        format!(
            "create a hash:ip comment\nadd a 1.1.1.1 comment \"{}\"\n",
            "x".repeat(1000)
        ),
        None,
    ));
    // At most 30 arguments, and not one character more after the 30th (`build_argv`).
    let thirty = format!("create a hash:ip{}", " -q".repeat(27));
    cases.push((format!("{thirty} \n"), None));
    cases.push((format!("{thirty} -q\n"), None));
    for (text, line) in &cases {
        let text = text.as_str();
        let ns = Netns::new("ipsetbad");
        let r = ns.sh("ipset restore", text);
        let err = String::from_utf8_lossy(&r.stderr).into_owned();
        if r.status.success() {
            problems.push(format!("the kernel accepts {text:?}"));
            continue;
        }
        let kernel_line = kernel_error_line(&err);
        if kernel_line != *line {
            problems.push(format!(
                "{text:?}: expected kernel line {line:?}, got {kernel_line:?} ({err})"
            ));
        }
        match IpSets::parse(text, "bad") {
            Ok(_) => problems.push(format!("fwbench accepts {text:?} (kernel: {err})")),
            Err(d) => {
                let first = d.errors.first().map(|e| e.pos.line);
                if let Some(l) = line {
                    if first != Some(*l) {
                        problems.push(format!(
                            "{text:?}: kernel fails at line {l}, fwbench at {first:?}:\n{d}"
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Sets for the packet-path test; the namespace's only route is 10.0.0.0/8 out of `v0`,
/// whose address is 10.0.0.1.
const PACKET_FILE: &str = "\
create net4 hash:net
add net4 10.0.0.0/8
add net4 10.1.0.0/16 nomatch
create bi bitmap:ip range 10.0.0.0/16 netmask 24
add bi 10.0.7.9
create l list:set
add l net4
add l bi
create ni hash:net,iface
add ni 10.0.0.0/8,v0
add ni 10.1.0.0/16,other
add ni 10.3.0.0/16,v wildcard
create np hash:net,port
add np 10.0.0.0/8,udp:50-60
add np 10.2.0.0/16,udp:53 nomatch
create bp bitmap:port range 1-1000
add bp 100-200
create ipn hash:ip,port,net
add ipn 10.0.0.1,udp:53,10.4.0.0/16
add ipn 10.0.0.1,udp:53,10.4.4.0/24 nomatch
";

/// (set, match flags, destination, UDP port): one UDP packet from 10.0.0.1 each.
const PACKETS: &[(&str, &str, &str, u16)] = &[
    ("l", "dst", "10.9.9.9", 53),
    ("l", "dst", "10.1.9.9", 53),
    ("l", "dst", "10.0.7.1", 53),
    ("ni", "dst,dst", "10.1.2.3", 53),
    ("ni", "dst,dst", "10.5.5.5", 53),
    ("ni", "dst,dst", "10.3.3.3", 53),
    ("np", "dst,dst", "10.6.0.1", 55),
    ("np", "dst,dst", "10.6.0.2", 61),
    ("np", "dst,dst", "10.2.0.1", 53),
    ("np", "dst,dst", "10.2.0.2", 54),
    ("bp", "dst", "10.7.0.1", 150),
    ("bp", "dst", "10.7.0.2", 250),
    ("ipn", "src,dst,dst", "10.4.1.1", 53),
    ("ipn", "src,dst,dst", "10.4.4.4", 53),
    ("ipn", "src,dst,dst", "10.4.1.2", 54),
];

/// The packet path itself: iptables rules with `-m set` in a namespace, one UDP packet per
/// rule, and the rule's counter against fwbench's answer for the same packet.
#[test]
fn packet_path_matches_the_kernel() {
    if let Err(why) = ipset_available() {
        return skip(&why);
    }
    let ns = Netns::new("ipsetpkt");
    let setup = "ip link add v0 type veth peer name v1 && ip link set v0 up && \
                 ip link set v1 up && ip link set lo up && ip addr add 10.0.0.1/8 dev v0";
    if !ns.sh(setup, "").status.success() {
        return skip("cannot create a veth pair in a network namespace");
    }
    if !ns
        .sh("command -v iptables && command -v bash", "")
        .status
        .success()
    {
        return skip("iptables or bash is not installed");
    }
    let r = ns.sh("ipset restore", PACKET_FILE);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let mut script = String::new();
    for (set, flags, dst, port) in PACKETS {
        script.push_str(&format!(
            "iptables -A OUTPUT -p udp -d {dst} --dport {port} -m set --match-set {set} {flags} \
             -j ACCEPT\n"
        ));
    }
    for (_, _, dst, port) in PACKETS {
        script.push_str(&format!("bash -c 'echo x > /dev/udp/{dst}/{port}'\n"));
    }
    let r = ns.sh(&script, "");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let listing = ns.out("iptables -L OUTPUT -v -n -x");
    let counts: Vec<u64> = listing
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next().and_then(|n| n.parse().ok()))
        .collect();
    assert_eq!(counts.len(), PACKETS.len(), "{listing}");
    let sets = IpSets::parse(PACKET_FILE, "packets").expect("fwbench reads the file");
    let mut problems = Vec::new();
    for ((set, flags, dst, port), count) in PACKETS.iter().zip(&counts) {
        let udp = SetPart::Port {
            proto: 17,
            port: *port,
        };
        let parts: Vec<SetPart<'_>> = flags
            .split(',')
            .enumerate()
            .map(|(i, f)| match (*set, i, f) {
                ("ni", 1, _) => dev("v0"),
                ("np", 1, _) | ("ipn", 1, _) | ("bp", 0, _) => udp,
                (_, _, "src") => ip("10.0.0.1"),
                _ => ip(dst),
            })
            .collect();
        let ours = sets.test(set, &parts);
        if ours != Some(*count == 1) {
            problems.push(format!(
                "{set} {flags} to {dst}:{port}: kernel counted {count}, fwbench {ours:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

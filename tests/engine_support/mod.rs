//! Shared by the stateless-engine truth tests (IPv4 and IPv6): L4 payload builders, sending
//! Ethernet frames from a peer namespace over AF_PACKET, and comparing fwbench's counters
//! with the kernel's `iptables-save -c`.

#![allow(dead_code)]

use crate::common::Netns;
use fwbench::engine::{Counts, LinkHeader};
use fwbench::rules::Table;

/// A TCP segment: ports, flags, options (padded to 4 bytes), `payload` zero bytes. The
/// checksum field is left zero for the caller to fill.
pub fn tcp(sport: u16, dport: u16, flags: u8, options: &[u8], payload: usize) -> Vec<u8> {
    let mut opts = options.to_vec();
    while opts.len() % 4 != 0 {
        opts.push(0);
    }
    let doff = ((20 + opts.len()) / 4) as u8;
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    // seq 1, ack 0, data offset, flags, window 0xffff, checksum 0, urgent 0.
    t.extend_from_slice(&[
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        doff << 4,
        flags,
        0xff,
        0xff,
        0,
        0,
        0,
        0,
    ]);
    t.extend_from_slice(&opts);
    t.resize(t.len() + payload, 0);
    t
}

/// A UDP datagram with `payload` zero bytes (checksum left zero).
pub fn udp(sport: u16, dport: u16, payload: usize) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.resize(u.len() + payload, 0);
    u
}

/// An ICMP or ICMPv6 message (same 8-byte header): type, code, id 1, seq 1, checksum left
/// zero, `payload` zero bytes.
pub fn icmp(typ: u8, code: u8, payload: usize) -> Vec<u8> {
    let mut i = vec![typ, code, 0, 0, 0, 1, 0, 1];
    i.resize(i.len() + payload, 0);
    i
}

/// Sends the hex-encoded Ethernet frames on stdin out of `argv[1]`.
const SENDER: &str = r#"
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin:
    line = line.strip()
    if line:
        s.send(bytes.fromhex(line))
        time.sleep(0.002)
"#;

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn mac_of(s: &str) -> [u8; 6] {
    let mut m = [0u8; 6];
    for (i, part) in s.trim().split(':').enumerate() {
        m[i] = u8::from_str_radix(part, 16).expect("mac");
    }
    m
}

/// Sends each packet as an Ethernet frame (its link header, `ethertype`) out of `dev` in
/// `peer`, then waits for the kernel to count them.
pub fn send_frames(peer: &Netns, dev: &str, ethertype: u16, frames: &[(LinkHeader, &[u8])]) {
    let hex: String = frames
        .iter()
        .map(|(l, ip)| {
            let mut frame = [l.dst, l.src].concat();
            frame.extend_from_slice(&ethertype.to_be_bytes());
            frame.extend_from_slice(ip);
            frame.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n"
        })
        .collect();
    let script = std::env::temp_dir().join(format!(
        "fwb-sender-{}-{}.py",
        std::process::id(),
        peer.name
    ));
    std::fs::write(&script, SENDER).expect("write sender");
    let o = peer.sh(&format!("python3 {} {dev}", script.display()), &hex);
    let _ = std::fs::remove_file(&script);
    assert!(
        o.status.success(),
        "sender: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
}

/// Compares every rule counter, and the policy counters of `policies` (chain indexes), of
/// fwbench's `counts` for `table` with the kernel's `ktable`. Returns how many agree and a
/// line per difference.
pub fn compare_counters(
    table: &Table,
    counts: &Counts,
    ktable: &Table,
    policies: &[usize],
) -> (usize, Vec<String>) {
    let mut problems = Vec::new();
    let mut agreed = 0;
    for (ci, chain) in table.chains().iter().enumerate() {
        let kchain = ktable.chain(&chain.name).expect("chain in kernel");
        assert_eq!(kchain.rules.len(), chain.rules.len(), "{}", chain.name);
        if policies.contains(&ci) {
            if kchain.counters == counts.policy[ci] {
                agreed += 1;
            } else {
                problems.push(format!(
                    "{} policy: kernel {:?}, fwbench {:?}",
                    chain.name, kchain.counters, counts.policy[ci]
                ));
            }
        }
        for (ri, kr) in kchain.rules.iter().enumerate() {
            if kr.counters == counts.rules[ci][ri] {
                agreed += 1;
            } else {
                problems.push(format!(
                    "{} rule {}: kernel {:?}, fwbench {:?}",
                    chain.name,
                    ri + 1,
                    kr.counters,
                    counts.rules[ci][ri]
                ));
            }
        }
    }
    (agreed, problems)
}

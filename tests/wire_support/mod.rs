//! Helpers for the wire tests: packet builders, a pcapng written by fwbench's own writer, tshark
//! as an independent checksum judge, and a deliberately naive reference checksum that shares
//! no code with `fwbench::wire::checksum`.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use fwbench::capture::{LinkType, OutPacket, OutputFormat, Writer};
use fwbench::wire::verify;

pub const A: [u8; 4] = [10, 0, 0, 1];
pub const B: [u8; 4] = [192, 168, 7, 9];
pub const A6: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11];
pub const B6: [u8; 16] = [
    0x20, 1, 0xd, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2, 0x22,
];

/// An IPv4 datagram: DF, TTL 64, id 0x1234, TOS 0x10, with `options` (a multiple of 4).
pub fn v4(proto: u8, options: &[u8], l4: &[u8], src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    let hl = 20 + options.len();
    let total = (hl + l4.len()) as u16;
    let mut v = vec![0x40 | (hl / 4) as u8, 0x10];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&[0x12, 0x34, 0x40, 0x00, 64, proto, 0, 0]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(options);
    v.extend_from_slice(l4);
    v
}

/// An IPv6 packet whose first header is `next` and whose payload (extension headers and
/// upper layer) is `rest`.
pub fn v6(next: u8, rest: &[u8], src: [u8; 16], dst: [u8; 16]) -> Vec<u8> {
    let mut v = vec![0x60, 0x00, 0x00, 0x00];
    v.extend_from_slice(&(rest.len() as u16).to_be_bytes());
    v.extend_from_slice(&[next, 64]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(rest);
    v
}

/// A TCP segment; `options` must be a multiple of 4 bytes.
pub fn tcp(sport: u16, dport: u16, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let doff = ((20 + options.len()) / 4) as u8;
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&[
        0x11,
        0x22,
        0x33,
        0x44,
        0,
        0,
        0,
        0,
        doff << 4,
        flags,
        0xfa,
        0xf0,
    ]);
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(options);
    v.extend_from_slice(payload);
    v
}

pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    // Not zero, so that `finish` computes it (a zero UDP checksum is left alone).
    v.extend_from_slice(&[0xde, 0xad]);
    v.extend_from_slice(payload);
    v
}

pub fn udplite(sport: u16, dport: u16, coverage: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = udp(sport, dport, payload);
    v[4..6].copy_from_slice(&coverage.to_be_bytes());
    v
}

/// An SCTP packet with one INIT chunk.
pub fn sctp_init(sport: u16, dport: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&[
        1, 0, 0, 20, 0xaa, 0xbb, 0xcc, 0xdd, 0, 1, 0, 0, 0, 10, 0, 10,
    ]);
    v.extend_from_slice(&[0x01, 0x02, 0x03, 0x04]);
    v
}

/// An ICMP (or ICMPv6) message: type, code, rest-of-header, data.
pub fn icmp(ty: u8, code: u8, rest: u32, data: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, code, 0, 0];
    v.extend_from_slice(&rest.to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// Fills every checksum (with the crate's full recomputation) and returns the packet.
pub fn finish(mut p: Vec<u8>) -> Vec<u8> {
    verify::recompute(&mut p).expect("built packet parses");
    p
}

// ---- reference checksum, independent of the crate -------------------------------------------

/// RFC 1071 sum, word by word, as plainly as possible.
pub fn ref_sum(parts: &[&[u8]]) -> u16 {
    let mut bytes = Vec::new();
    for p in parts {
        bytes.extend_from_slice(p);
    }
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    let mut s: u32 = 0;
    for w in bytes.chunks(2) {
        s += u32::from(w[0]) << 8 | u32::from(w[1]);
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Checks the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksum of an unfragmented
/// packet with the reference sum. Returns a description of the first failure.
pub fn ref_check(p: &[u8]) -> Result<(), String> {
    let (proto, l4, pseudo_src_dst): (u8, &[u8], Vec<u8>) = match p[0] >> 4 {
        4 => {
            let hl = usize::from(p[0] & 15) * 4;
            let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
            if ref_sum(&[&p[..hl]]) != 0xffff {
                return Err("IPv4 header checksum".into());
            }
            (p[9], &p[hl..total], p[12..20].to_vec())
        }
        _ => {
            // Walk extension headers the simple way (hop-by-hop, routing, dest opts, frag).
            let total = 40 + usize::from(u16::from_be_bytes([p[4], p[5]]));
            let (mut nh, mut off) = (p[6], 40);
            while matches!(nh, 0 | 43 | 60 | 44) {
                let len = if nh == 44 {
                    8
                } else {
                    (usize::from(p[off + 1]) + 1) * 8
                };
                nh = p[off];
                off += len;
            }
            (nh, &p[off..total], p[8..40].to_vec())
        }
    };
    let len = l4.len() as u32;
    let v6 = p[0] >> 4 == 6;
    let pseudo = |proto: u8, len: u32| -> Vec<u8> {
        let mut ph = pseudo_src_dst.clone();
        if v6 {
            ph.extend_from_slice(&len.to_be_bytes());
            ph.extend_from_slice(&[0, 0, 0, proto]);
        } else {
            ph.extend_from_slice(&[0, proto]);
            ph.extend_from_slice(&(len as u16).to_be_bytes());
        }
        ph
    };
    let ok = match proto {
        6 => ref_sum(&[&pseudo(6, len), l4]) == 0xffff,
        17 => {
            let ulen = u32::from(u16::from_be_bytes([l4[4], l4[5]]));
            let c = u16::from_be_bytes([l4[6], l4[7]]);
            (c == 0 && !v6) || ref_sum(&[&pseudo(17, ulen), &l4[..ulen as usize]]) == 0xffff
        }
        1 if !v6 => ref_sum(&[l4]) == 0xffff,
        58 if v6 => ref_sum(&[&pseudo(58, len), l4]) == 0xffff,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("protocol {proto} checksum"))
    }
}

// ---- pcap + tshark ---------------------------------------------------------------------------

/// Writes packets the way fwbench writes its output: a pcapng through `capture::Writer`,
/// raw IP (LINKTYPE_RAW), nanosecond timestamps, and a comment per packet (`rewrite N`), so
/// the tshark judge checks the writer and the rewrites together (issue 3).
pub fn write_pcapng(path: &Path, packets: &[Vec<u8>]) {
    let mut w = Writer::create(path, OutputFormat::PcapNg).expect("create pcapng");
    let iface = w
        .add_interface("rewritten", LinkType::Raw)
        .expect("interface");
    for (i, p) in packets.iter().enumerate() {
        let comment = format!("rewrite {i}");
        w.write_packet(&OutPacket {
            interface: iface,
            ts_ns: 1_700_000_000_000_000_000 + i as i64 * 1_000_123,
            data: p,
            orig_len: p.len() as u32,
            comment: Some(&comment),
        })
        .expect("write packet");
    }
    w.finish().expect("finish pcapng");
}

pub fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What tshark says about one frame's checksums.
#[derive(Debug, Default)]
pub struct Verdict {
    /// `field` for each checksum tshark found good (a field can repeat: inner headers).
    pub good: Vec<String>,
    /// Each checksum found bad or not verified, with its status.
    pub other: Vec<String>,
    /// Expert messages of warning or error severity.
    pub complaints: Vec<String>,
}

const STATUS_FIELDS: [&str; 7] = [
    "ip.checksum.status",
    "tcp.checksum.status",
    "udp.checksum.status",
    "icmp.checksum.status",
    "icmpv6.checksum.status",
    "sctp.checksum.status",
    "dccp.checksum.status",
];

/// Runs tshark over `packets` with checksum validation on for every protocol, one verdict
/// per frame. `None` when tshark is missing (the caller skips).
pub fn judge(name: &str, packets: &[Vec<u8>]) -> Option<Vec<Verdict>> {
    if !tshark_available() {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("fwb-wire-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("judge.pcapng");
    write_pcapng(&file, packets);
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(&file);
    for o in [
        "ip.check_checksum:TRUE",
        "tcp.check_checksum:TRUE",
        "udp.check_checksum:TRUE",
        "udplite.check_checksum:TRUE",
        "udplite.ignore_checksum_coverage:FALSE",
        "sctp.checksum:CRC 32c",
        "dccp.check_checksum:TRUE",
        "tcp.analyze_sequence_numbers:FALSE",
    ] {
        cmd.arg("-o").arg(o);
    }
    cmd.args([
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=~",
    ]);
    for f in STATUS_FIELDS {
        cmd.args(["-e", f]);
    }
    cmd.args(["-e", "_ws.expert.severity", "-e", "_ws.expert.message"]);
    let out = cmd.output().expect("run tshark");
    let _ = std::fs::remove_dir_all(&dir);
    // Running as root, tshark prints one line about it; anything else is a complaint.
    let stderr: String = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("Running as user \"root\""))
        .collect();
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "tshark complained: {stderr}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let verdicts: Vec<Verdict> = text
        .lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('|').collect();
            let mut v = Verdict::default();
            for (i, f) in STATUS_FIELDS.iter().enumerate() {
                for s in cols
                    .get(i)
                    .unwrap_or(&"")
                    .split('~')
                    .filter(|s| !s.is_empty())
                {
                    // 0 = bad, 1 = good, 2 = unverified (epan/proto.h PROTO_CHECKSUM_E_*).
                    if s == "1" {
                        v.good.push(f.to_string());
                    } else {
                        v.other.push(format!("{f}={s}"));
                    }
                }
            }
            let sev: Vec<&str> = cols.get(7).unwrap_or(&"").split('~').collect();
            let msg: Vec<&str> = cols.get(8).unwrap_or(&"").split('~').collect();
            for (s, m) in sev.iter().zip(msg.iter()).filter(|(s, _)| !s.is_empty()) {
                // PI_WARN = 0x00600000, PI_ERROR = 0x00800000 (printed in decimal or hex).
                let level = match s.strip_prefix("0x") {
                    Some(hex) => u32::from_str_radix(hex, 16).unwrap_or(u32::MAX),
                    None => s.parse().unwrap_or(u32::MAX),
                };
                if level >= 0x0060_0000 {
                    v.complaints.push(m.to_string());
                }
            }
            v
        })
        .collect();
    assert_eq!(verdicts.len(), packets.len(), "tshark saw every frame");
    Some(verdicts)
}

//! Helpers shared by the capture tests: tshark as the judge of what a capture file holds,
//! and reading every packet of a file with fwbench's reader.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use fwbench::capture::{Error, Reader};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/capture")
}

/// Whether tshark runs here.
pub fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// tshark's stderr without the line it prints whenever it runs as root (a notice about
/// privileges, not about the file).
pub fn tshark_stderr(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.starts_with("Running as user \"root\""))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// One frame as tshark's PDML shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TsharkFrame {
    /// `frame.time_epoch` in nanoseconds; `None` when the record has no timestamp.
    pub ts_ns: Option<i128>,
    pub len: u32,
    pub cap_len: usize,
    /// `frame.interface_id`; absent for classic pcap.
    pub interface_id: Option<u32>,
    /// A pcapng custom block, which Wireshark lists as a frame (`frame.cb_pen`).
    pub custom_block: bool,
    pub interface_name: Option<String>,
    pub file_off: u64,
    /// `pos` of the first `ip` or `ipv6` protocol: where the network layer starts.
    pub network: Option<usize>,
    /// `ieee8021ad.id` and `vlan.id` values, outermost first.
    pub vlan_ids: Vec<u16>,
    /// `ieee8021ad.priority` and `vlan.priority`, outermost first.
    pub vlan_pcps: Vec<u8>,
    pub sll_ifindex: Option<u32>,
    pub sll_pkttype: Option<u16>,
    /// The captured bytes (`frame_raw` of `-T json -x`).
    pub raw: Vec<u8>,
}

/// `"1795692153.481783866"` to nanoseconds, exactly.
pub fn epoch_ns(s: &str) -> i128 {
    let (sec, frac) = s.split_once('.').unwrap_or((s, "0"));
    let neg = sec.starts_with('-');
    let sec: i128 = sec.trim_start_matches('-').parse().expect("seconds");
    let mut frac = frac.to_string();
    assert!(frac.len() <= 9, "more than nanoseconds: {s}");
    while frac.len() < 9 {
        frac.push('0');
    }
    let ns = sec * 1_000_000_000 + frac.parse::<i128>().expect("fraction");
    if neg {
        -ns
    } else {
        ns
    }
}

fn attr<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = line.find(&key)? + key.len();
    let end = line[start..].find('"')? + start;
    Some(&line[start..end])
}

/// Every frame tshark reads from `path`, with the fields the tests compare.
pub fn tshark_frames(path: &Path) -> Vec<TsharkFrame> {
    let out = Command::new("tshark")
        .args(["-o", "frame.show_file_off:TRUE", "-T", "pdml", "-r"])
        .arg(path)
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark -r {} failed: {}",
        path.display(),
        tshark_stderr(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut frames = Vec::new();
    let mut cur: Option<TsharkFrame> = None;
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("<packet>") {
            cur = Some(TsharkFrame::default());
            continue;
        }
        if line.starts_with("</packet>") {
            frames.extend(cur.take());
            continue;
        }
        let Some(f) = cur.as_mut() else { continue };
        if line.starts_with("<proto ") {
            let name = attr(line, "name").unwrap_or("");
            if (name == "ip" || name == "ipv6") && f.network.is_none() {
                f.network = attr(line, "pos").and_then(|p| p.parse().ok());
            }
            continue;
        }
        if !line.starts_with("<field ") {
            continue;
        }
        let (Some(name), Some(show)) = (attr(line, "name"), attr(line, "show")) else {
            continue;
        };
        match name {
            "frame.time_epoch" => f.ts_ns = Some(epoch_ns(show)),
            "frame.len" => f.len = show.parse().expect("frame.len"),
            "frame.cap_len" => f.cap_len = show.parse().expect("frame.cap_len"),
            "frame.interface_id" => f.interface_id = show.parse().ok(),
            "frame.interface_name" => f.interface_name = Some(show.to_string()),
            "frame.file_off" => f.file_off = show.parse().expect("frame.file_off"),
            "vlan.id" | "ieee8021ad.id" => f.vlan_ids.push(show.parse().expect("vlan id")),
            "vlan.priority" | "ieee8021ad.priority" => {
                f.vlan_pcps.push(show.parse().expect("vlan priority"))
            }
            "frame.cb_pen" => f.custom_block = true,
            "sll.ifindex" => f.sll_ifindex = show.parse().ok(),
            "sll.pkttype" => f.sll_pkttype = show.parse().ok(),
            _ => {}
        }
    }
    // The captured bytes, from the JSON form.
    let out = Command::new("tshark")
        .args(["-T", "json", "-x", "-r"])
        .arg(path)
        .output()
        .expect("tshark runs");
    let json = String::from_utf8_lossy(&out.stdout);
    let mut raws = json.split("\"frame_raw\": [").skip(1);
    for f in &mut frames {
        let chunk = raws.next().expect("a frame_raw per frame");
        let hex = chunk.split('"').nth(1).unwrap_or("");
        f.raw = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect();
    }
    frames
}

/// A packet as fwbench's reader returned it, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Got {
    pub ts_ns: i64,
    pub data: Vec<u8>,
    pub orig_len: u32,
    pub interface: Option<u32>,
    pub offset: u64,
}

/// Every packet of a reader, and how it ended.
pub fn read_all(mut r: Reader) -> (Vec<Got>, Option<Error>, Reader) {
    let mut got = Vec::new();
    loop {
        match r.next_packet() {
            Ok(Some(p)) => got.push(Got {
                ts_ns: p.ts_ns,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
                interface: p.interface,
                offset: p.offset,
            }),
            Ok(None) => return (got, None, r),
            Err(e) => return (got, Some(e), r),
        }
    }
}

/// The byte offsets where each pcapng section starts (a classic pcap file is one section
/// at 0). A walk over block lengths only, written apart from the reader under test.
pub fn sections(bytes: &[u8]) -> Vec<usize> {
    if bytes.get(..4) != Some(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        return vec![0];
    }
    let mut starts = Vec::new();
    let mut p = 0;
    let mut big = false;
    while p + 12 <= bytes.len() {
        let t = &bytes[p..p + 4];
        if t == [0x0a, 0x0d, 0x0d, 0x0a] {
            big = bytes[p + 8..p + 12] == [0x1a, 0x2b, 0x3c, 0x4d];
            starts.push(p);
        }
        let l: [u8; 4] = bytes[p + 4..p + 8].try_into().expect("4 bytes");
        let len = if big {
            u32::from_be_bytes(l)
        } else {
            u32::from_le_bytes(l)
        };
        p += len as usize;
    }
    starts
}

//! The writer: reading a file and writing it back unchanged gives the same packets,
//! timestamps to the nanosecond and interface names; tshark reads everything fwbench writes
//! without an error or a warning, sees the nanoseconds, and finds the per-packet comments
//! with a `frame.comment` display filter.

mod capture_common;
#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use capture_common::*;
use fwbench::capture::{LinkType, OutPacket, OutputFormat, Reader, WriteError, Writer};

const FIXTURES: &[&str] = &[
    "eth.pcap",
    "eth_ns.pcap",
    "eth_be.pcap",
    "eth_ns_be.pcap",
    "eth_mod.pcap",
    "eth.pcapng",
    "eth_snap60.pcapng",
    "multi.pcapng",
    "sections.pcapng",
    "exotic.pcapng",
    "sll.pcap",
    "sll2.pcap",
    "raw.pcap",
    "raw4.pcapng",
    "raw6.pcapng",
    "null.pcap",
    "loop.pcapng",
];

/// A folder of the test's own (tests run in parallel and each removes its folder).
fn out_dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fwb-capture-writer-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A comment for some packets, none for others: "fwbench KUBE-SEP-<n>" on every third.
fn comment_for(i: usize) -> Option<String> {
    (i % 3 == 0).then(|| format!("FORWARD ACCEPT; DNAT by nat KUBE-SEP-{i} rule 2"))
}

/// Copies `input` to `out` in `format`: one output interface per input interface, with its
/// name and link type; returns the packets read.
fn copy(input: &Path, out: &Path, format: OutputFormat) -> Result<Vec<Got>, WriteError> {
    let (got, err, reader) = read_all(Reader::open(input).unwrap());
    assert!(err.is_none(), "{}: {}", input.display(), err.unwrap());
    let mut w = Writer::create(out, format)?;
    for iface in reader.interfaces() {
        w.add_interface(iface.name.as_deref().unwrap_or(""), iface.link)?;
    }
    for (i, g) in got.iter().enumerate() {
        let c = comment_for(i);
        w.write_packet(&OutPacket {
            interface: g.interface.unwrap(),
            ts_ns: g.ts_ns,
            data: &g.data,
            orig_len: g.orig_len,
            comment: c.as_deref(),
        })?;
    }
    w.finish()?;
    Ok(got)
}

#[test]
fn round_trip_keeps_packets_timestamps_and_names() {
    let dir = out_dir("round-trip");
    for name in FIXTURES {
        let input = data_dir().join(name);
        for format in [OutputFormat::PcapNg, OutputFormat::Pcap] {
            let out = dir.join(format!("{name}.{format:?}"));
            let before = match copy(&input, &out, format) {
                Ok(g) => g,
                // Classic pcap cannot hold two link types; every fixture has one.
                Err(e) => panic!("{name} as {format:?}: {e}"),
            };
            let (after, err, r2) = read_all(Reader::open(&out).unwrap());
            assert!(err.is_none(), "{name} {format:?}: {}", err.unwrap());
            assert_eq!(before.len(), after.len(), "{name} {format:?}: count");
            let r1 = Reader::open(&input).unwrap();
            let (_, _, r1) = read_all(r1);
            for (k, (a, b)) in before.iter().zip(&after).enumerate() {
                let at = format!("{name} {format:?} packet {}", k + 1);
                assert_eq!(a.data, b.data, "{at}: bytes");
                assert_eq!(a.ts_ns, b.ts_ns, "{at}: timestamp");
                assert_eq!(a.orig_len, b.orig_len, "{at}: original length");
                let n1 = &r1.interfaces()[a.interface.unwrap() as usize];
                match format {
                    OutputFormat::PcapNg => {
                        let n2 = &r2.interfaces()[b.interface.unwrap() as usize];
                        assert_eq!(n1.name, n2.name, "{at}: interface name");
                        assert_eq!(n1.link, n2.link, "{at}: link type");
                    }
                    OutputFormat::Pcap => assert_eq!(b.interface, Some(0)),
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tshark(args: &[&str], file: &Path) -> (bool, String, String) {
    let o = Command::new("tshark")
        .args(args)
        .arg("-r")
        .arg(file)
        .output()
        .expect("tshark runs");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        tshark_stderr(&o.stderr),
    )
}

#[test]
fn tshark_reads_what_fwbench_writes_without_complaint() {
    if !tshark_available() {
        common::skip("tshark is not installed");
        return;
    }
    let dir = out_dir("tshark");
    let mut files = 0;
    for name in FIXTURES {
        let input = data_dir().join(name);
        for format in [OutputFormat::PcapNg, OutputFormat::Pcap] {
            let out = dir.join(format!("{name}.{format:?}"));
            let written = copy(&input, &out, format).unwrap();
            let (ok, _, err) = tshark(&["-V"], &out);
            assert!(ok && err.is_empty(), "{name} {format:?}: tshark -V: {err}");

            // The nanoseconds and lengths as tshark reads them back.
            let frames = tshark_frames(&out);
            assert_eq!(frames.len(), written.len(), "{name} {format:?}: count");
            for (k, (f, g)) in frames.iter().zip(&written).enumerate() {
                let at = format!("{name} {format:?} packet {}", k + 1);
                assert_eq!(f.ts_ns, Some(g.ts_ns as i128), "{at}: frame.time_epoch");
                assert_eq!(f.len, g.orig_len, "{at}: frame.len");
                assert_eq!(f.raw, g.data, "{at}: bytes");
            }

            // Comments: every third packet, found by the display filter.
            let (ok, out_text, err) = tshark(
                &[
                    "-Y",
                    "frame.comment contains \"KUBE-SEP\"",
                    "-T",
                    "fields",
                    "-e",
                    "frame.number",
                ],
                &out,
            );
            assert!(ok && err.is_empty(), "{name} {format:?}: -Y: {err}");
            let found: Vec<usize> = out_text.lines().map(|l| l.parse().unwrap()).collect();
            let want: Vec<usize> = match format {
                OutputFormat::PcapNg => (0..written.len())
                    .filter(|i| comment_for(*i).is_some())
                    .map(|i| i + 1)
                    .collect(),
                // Classic pcap has nowhere to put a comment.
                OutputFormat::Pcap => Vec::new(),
            };
            assert_eq!(found, want, "{name} {format:?}: commented frames");
            files += 1;
        }
    }
    // One comment's full text, as tshark prints it.
    let out = dir.join("eth.pcap.PcapNg");
    let (_, text, _) = tshark(&["-c", "1", "-T", "fields", "-e", "frame.comment"], &out);
    assert_eq!(text.trim_end(), comment_for(0).unwrap());
    eprintln!("tshark -V read {files} files written by fwbench");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interface_names_reach_tshark() {
    if !tshark_available() {
        common::skip("tshark is not installed");
        return;
    }
    let dir = out_dir("names");
    let out = dir.join("names.pcapng");
    let mut w = Writer::create(&out, OutputFormat::PcapNg).unwrap();
    let (got, _, _) = read_all(Reader::open(data_dir().join("raw.pcap")).unwrap());
    let ids: Vec<u32> = ["eth0", "cni0", "vxlan.calico"]
        .iter()
        .map(|n| w.add_interface(n, LinkType::Raw).unwrap())
        .collect();
    for (i, id) in ids.iter().enumerate() {
        w.write_packet(&OutPacket {
            interface: *id,
            ts_ns: 1_700_000_000_123_456_789 + i as i64,
            data: &got[0].data,
            orig_len: got[0].orig_len,
            comment: None,
        })
        .unwrap();
    }
    w.finish().unwrap();
    let (ok, text, err) = tshark(
        &[
            "-T",
            "fields",
            "-e",
            "frame.interface_name",
            "-e",
            "frame.time_epoch",
        ],
        &out,
    );
    assert!(ok && err.is_empty(), "{err}");
    assert_eq!(
        text,
        "eth0\t1700000000.123456789\ncni0\t1700000000.123456790\nvxlan.calico\t1700000000.123456791\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn writer_refuses_what_the_formats_cannot_hold() {
    let mut w = Writer::new(Vec::new(), OutputFormat::Pcap).unwrap();
    w.add_interface("a", LinkType::Ethernet).unwrap();
    assert!(matches!(
        w.add_interface("b", LinkType::LinuxSll2),
        Err(WriteError::LinkTypeMismatch { .. })
    ));
    let p = |interface, ts_ns, data: &'static [u8]| OutPacket {
        interface,
        ts_ns,
        data,
        orig_len: 0,
        comment: None,
    };
    assert!(matches!(
        w.write_packet(&p(1, 0, b"x")),
        Err(WriteError::NoInterface(1))
    ));
    assert!(matches!(
        w.write_packet(&p(0, -1, b"x")),
        Err(WriteError::Timestamp(-1))
    ));
    // Past 2106 the seconds no longer fit classic pcap's 32 bits.
    assert!(matches!(
        w.write_packet(&p(0, 5_000_000_000 * 1_000_000_000, b"x")),
        Err(WriteError::Timestamp(_))
    ));
    let big = vec![0u8; 262_145];
    let r = w.write_packet(&OutPacket {
        interface: 0,
        ts_ns: 0,
        data: &big,
        orig_len: 0,
        comment: None,
    });
    assert!(matches!(r, Err(WriteError::TooLong(262_145))));
    // Nothing but the file header was written.
    assert_eq!(w.finish().unwrap().len(), 24);

    let mut w = Writer::new(Vec::new(), OutputFormat::PcapNg).unwrap();
    w.add_interface("a", LinkType::Ethernet).unwrap();
    let long = "x".repeat(70_000);
    let r = w.write_packet(&OutPacket {
        interface: 0,
        ts_ns: 0,
        data: b"x",
        orig_len: 1,
        comment: Some(&long),
    });
    assert!(matches!(r, Err(WriteError::OptionTooLong(70_000))));
}

//! Files written by real tools (tcpdump, dumpcap, editcap, text2pcap; see
//! tests/data/capture/make.sh) read exactly as tshark reads them: every packet's timestamp to
//! the nanosecond, lengths, bytes, file offset and interface name, and the link-layer facts
//! (where IP starts, VLAN ids, the SLL2 interface index and packet type).
//!
//! tshark 4.0 names the interfaces of a second pcapng section as if its interface ids
//! counted from the first section's, so each section is handed to tshark as a file of its
//! own (a section is a complete pcapng file) and offsets are shifted back.

mod capture_common;
#[path = "common/mod.rs"]
mod common;

use std::fs::File;

use capture_common::*;
use fwbench::capture::{FileFormat, LinkType, Protocol, Reader};

const FIXTURES: &[(&str, LinkType)] = &[
    ("eth.pcap", LinkType::Ethernet),
    ("eth_ns.pcap", LinkType::Ethernet),
    ("eth_be.pcap", LinkType::Ethernet),
    ("eth_ns_be.pcap", LinkType::Ethernet),
    ("eth_mod.pcap", LinkType::Ethernet),
    ("eth.pcapng", LinkType::Ethernet),
    ("eth_snap60.pcapng", LinkType::Ethernet),
    ("multi.pcapng", LinkType::Ethernet),
    ("sections.pcapng", LinkType::Ethernet),
    ("exotic.pcapng", LinkType::Ethernet),
    ("sll.pcap", LinkType::LinuxSll),
    ("sll2.pcap", LinkType::LinuxSll2),
    ("raw.pcap", LinkType::Raw),
    ("raw4.pcapng", LinkType::Ipv4),
    ("raw6.pcapng", LinkType::Ipv6),
    ("null.pcap", LinkType::Null),
    ("loop.pcapng", LinkType::Loop),
];

/// tshark's frames for a whole file, section by section, with file offsets and interface
/// ids made file-wide again; records that are no packet (custom blocks) left out.
fn expected(name: &str, bytes: &[u8]) -> Vec<(usize, TsharkFrame)> {
    let starts = sections(bytes);
    let dir = std::env::temp_dir().join(format!("fwb-capture-tools-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut all = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
        let part = dir.join(format!("{name}.{i}"));
        std::fs::write(&part, &bytes[s..end]).unwrap();
        for mut f in tshark_frames(&part) {
            // Wireshark shows pcapng custom blocks as frames; fwbench skips them as the
            // format allows.
            if f.custom_block {
                continue;
            }
            f.file_off += s as u64;
            all.push((i, f));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    all
}

#[test]
fn tool_written_files_read_as_tshark_reads_them() {
    if !tshark_available() {
        common::skip("tshark is not installed");
        return;
    }
    let mut checked = 0;
    for &(name, link) in FIXTURES {
        let path = data_dir().join(name);
        let bytes = std::fs::read(&path).unwrap();
        let want = expected(name, &bytes);
        assert!(!want.is_empty(), "{name}: tshark sees no packets");

        let (got, err, reader) = read_all(Reader::open(&path).unwrap());
        assert!(err.is_none(), "{name}: {}", err.unwrap());
        assert_eq!(got.len(), want.len(), "{name}: packet count");
        let ifaces = reader.interfaces();

        for (k, (g, (section, w))) in got.iter().zip(&want).enumerate() {
            let at = format!("{name} packet {}", k + 1);
            assert_eq!(g.ts_ns as i128, w.ts_ns.unwrap_or(0), "{at}: timestamp");
            assert_eq!(g.orig_len, w.len, "{at}: frame.len");
            assert_eq!(g.data.len(), w.cap_len, "{at}: frame.cap_len");
            assert_eq!(g.data, w.raw, "{at}: bytes");
            assert_eq!(g.offset, w.file_off, "{at}: frame.file_off");
            let gi = g.interface.expect("the reader always names the interface") as usize;
            let iface = &ifaces[gi];
            assert_eq!(iface.section as usize, *section, "{at}: section");
            let first = ifaces
                .iter()
                .position(|i| i.section == iface.section)
                .unwrap();
            // tshark has no interface id field for classic pcap: its one interface is 0.
            assert_eq!(
                (gi - first) as u32,
                w.interface_id.unwrap_or(0),
                "{at}: interface id"
            );
            // tshark has no name field for classic pcap, and shows "unknown" for a pcapng
            // interface without `if_name`.
            let unnamed = match reader.format() {
                FileFormat::PcapNg => "unknown",
                FileFormat::Pcap { .. } => "",
            };
            assert_eq!(
                iface.name.as_deref().unwrap_or(unnamed),
                w.interface_name.as_deref().unwrap_or(""),
                "{at}: interface name"
            );
            assert_eq!(iface.link, link, "{at}: link type");

            let l = fwbench::capture::link::decode(link, &g.data)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            match w.network {
                Some(n) => {
                    assert_eq!(l.network, n, "{at}: network-layer offset");
                    let v = g.data[n] >> 4;
                    let want_proto = if v == 4 {
                        Protocol::Ipv4
                    } else {
                        Protocol::Ipv6
                    };
                    assert_eq!(l.protocol, want_proto, "{at}: protocol");
                }
                None => assert!(
                    !matches!(l.protocol, Protocol::Ipv4 | Protocol::Ipv6),
                    "{at}: fwbench sees IP where tshark does not"
                ),
            }
            let vids: Vec<u16> = l.vlans.as_slice().iter().map(|t| t.vid()).collect();
            assert_eq!(vids, w.vlan_ids, "{at}: VLAN ids");
            let pcps: Vec<u8> = l.vlans.as_slice().iter().map(|t| t.pcp()).collect();
            assert_eq!(pcps, w.vlan_pcps, "{at}: VLAN priorities");
            if link == LinkType::LinuxSll2 {
                assert_eq!(l.if_index, w.sll_ifindex, "{at}: SLL2 interface index");
            }
            if matches!(link, LinkType::LinuxSll | LinkType::LinuxSll2) {
                let pt = l.packet_type.map(|p| match p {
                    fwbench::capture::PacketType::Host => 0,
                    fwbench::capture::PacketType::Broadcast => 1,
                    fwbench::capture::PacketType::Multicast => 2,
                    fwbench::capture::PacketType::OtherHost => 3,
                    fwbench::capture::PacketType::Outgoing => 4,
                    fwbench::capture::PacketType::Unknown(n) => n,
                    other => panic!("{at}: unexpected packet type {other:?}"),
                });
                assert_eq!(pt, w.sll_pkttype, "{at}: packet type");
            }
            checked += 1;
        }
    }
    eprintln!(
        "compared {checked} packets of {} files with tshark",
        FIXTURES.len()
    );
}

/// The fixtures cover what they claim to (so the comparison above means something).
#[test]
fn fixtures_cover_the_formats() {
    let fmt = |n: &str| Reader::open(data_dir().join(n)).unwrap().format();
    assert_eq!(
        fmt("eth_be.pcap"),
        FileFormat::Pcap {
            nanosecond: false,
            big_endian: true,
            modified: false
        }
    );
    assert_eq!(
        fmt("eth_ns.pcap"),
        FileFormat::Pcap {
            nanosecond: true,
            big_endian: false,
            modified: false
        }
    );
    assert_eq!(
        fmt("eth_ns_be.pcap"),
        FileFormat::Pcap {
            nanosecond: true,
            big_endian: true,
            modified: false
        }
    );
    assert!(matches!(
        fmt("eth_mod.pcap"),
        FileFormat::Pcap { modified: true, .. }
    ));
    let r = Reader::open(data_dir().join("exotic.pcapng")).unwrap();
    let (_, err, r) = read_all(r);
    assert!(err.is_none());
    let units: Vec<(u64, i64)> = r
        .interfaces()
        .iter()
        .map(|i| (i.ts_units_per_sec, i.ts_offset_s))
        .collect();
    assert_eq!(
        units,
        [(1 << 20, -3600), (1000, 86400), (1_000_000_000, 0)],
        "exotic.pcapng: if_tsresol/if_tsoffset per interface"
    );
    let r = Reader::open(data_dir().join("multi.pcapng")).unwrap();
    let names: Vec<_> = r.interfaces().iter().map(|i| i.name.clone()).collect();
    assert_eq!(names, [Some("veth0".to_string()), Some("lo".to_string())]);
    // VLAN tags, single and double, are in eth.pcap.
    let (got, _, _) = read_all(Reader::open(data_dir().join("eth.pcap")).unwrap());
    let depths: Vec<usize> = got
        .iter()
        .map(|g| {
            fwbench::capture::link::decode(LinkType::Ethernet, &g.data)
                .unwrap()
                .vlans
                .len()
        })
        .collect();
    assert!(depths.contains(&1) && depths.contains(&2), "{depths:?}");
}

/// A mapped file, the same bytes in memory, and the same bytes as a stream give the same
/// packets.
#[test]
fn mapped_memory_and_stream_agree() {
    for &(name, _) in FIXTURES {
        let path = data_dir().join(name);
        let (a, ea, _) = read_all(Reader::open(&path).unwrap());
        let (b, eb, _) = read_all(Reader::from_bytes(name, std::fs::read(&path).unwrap()).unwrap());
        let (c, ec, _) = read_all(Reader::from_read(name, File::open(&path).unwrap()).unwrap());
        assert!(ea.is_none() && eb.is_none() && ec.is_none(), "{name}");
        assert_eq!(a, b, "{name}: memory");
        assert_eq!(a, c, "{name}: stream");
    }
}

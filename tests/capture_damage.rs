//! Damaged files: every packet before the damage is delivered, then one error names the
//! byte offset of the first record that could not be read; no panic, no hang, and no
//! allocation sized by a length field. Record boundaries come from a walk over the length
//! fields written apart from the reader, and are checked against tshark's `frame.file_off`.

mod capture_common;
#[path = "common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;
use std::process::Command;

use capture_common::*;
use fwbench::capture::{Error, Reader};

/// Records the largest single allocation of the current thread, so a test can show that a
/// huge length field did not turn into a huge buffer.
struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|m| {
        if size > m.get() {
            m.set(size)
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; the bookkeeping only
// touches a const-initialised thread-local Cell, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note(l.size());
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note(l.size());
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        note(new);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static A: Counting = Counting;

/// One record of a file: where it starts and ends, and whether it holds a packet.
#[derive(Clone, Copy, Debug)]
struct Rec {
    start: usize,
    end: usize,
    packet: bool,
}

/// The records of a valid file, by their length fields. The first record is the file
/// header (pcap) or the first section header (pcapng).
fn records(b: &[u8]) -> Vec<Rec> {
    let mut out = Vec::new();
    if b[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        let (mut p, mut big) = (0, false);
        while p < b.len() {
            if b[p..p + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
                big = b[p + 8..p + 12] == [0x1a, 0x2b, 0x3c, 0x4d];
            }
            let rd = |at: usize| {
                let v: [u8; 4] = b[at..at + 4].try_into().unwrap();
                if big {
                    u32::from_be_bytes(v)
                } else {
                    u32::from_le_bytes(v)
                }
            };
            let (ty, len) = (rd(p), rd(p + 4) as usize);
            out.push(Rec {
                start: p,
                end: p + len,
                packet: matches!(ty, 2 | 3 | 6),
            });
            p += len;
        }
    } else {
        let big = b[..4] == [0xa1, 0xb2, 0xc3, 0xd4] || b[..4] == [0xa1, 0xb2, 0x3c, 0x4d];
        let hdr = if b[..4] == [0x34, 0xcd, 0xb2, 0xa1] {
            24
        } else {
            16
        };
        out.push(Rec {
            start: 0,
            end: 24,
            packet: false,
        });
        let mut p = 24;
        while p < b.len() {
            let v: [u8; 4] = b[p + 8..p + 12].try_into().unwrap();
            let cap = if big {
                u32::from_be_bytes(v)
            } else {
                u32::from_le_bytes(v)
            } as usize;
            out.push(Rec {
                start: p,
                end: p + hdr + cap,
                packet: true,
            });
            p += hdr + cap;
        }
    }
    out
}

/// Reads `bytes` from memory and as a stream; both must agree. `Err` is an open failure.
fn read_both(bytes: &[u8]) -> Result<(Vec<Got>, Option<Error>), Error> {
    let mem = Reader::from_bytes("t", bytes.to_vec()).map(read_all);
    let stream = Reader::from_read("t", Cursor::new(bytes.to_vec())).map(read_all);
    match (mem, stream) {
        (Ok((g1, e1, _)), Ok((g2, e2, _))) => {
            assert_eq!(g1, g2, "memory and stream differ in packets");
            assert_eq!(
                e1.as_ref().map(|e| e.offset()),
                e2.as_ref().map(|e| e.offset()),
                "memory and stream differ in the error"
            );
            Ok((g1, e1))
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.offset(), b.offset());
            Err(a)
        }
        (a, b) => panic!(
            "memory and stream disagree on opening: {:?} / {:?}",
            a.err(),
            b.err()
        ),
    }
}

const FILES: &[&str] = &[
    "eth.pcap",
    "eth_mod.pcap",
    "eth.pcapng",
    "exotic.pcapng",
    "sll2.pcap",
];

/// The record walk above finds the packets where tshark does.
#[test]
fn record_walk_matches_tshark() {
    if !tshark_available() {
        common::skip("tshark is not installed");
        return;
    }
    for name in FILES {
        let b = std::fs::read(data_dir().join(name)).unwrap();
        let walk: Vec<u64> = records(&b)
            .iter()
            .filter(|r| r.packet)
            .map(|r| r.start as u64)
            .collect();
        let ts: Vec<u64> = tshark_frames(&data_dir().join(name))
            .iter()
            .filter(|f| !f.custom_block)
            .map(|f| f.file_off)
            .collect();
        assert_eq!(walk, ts, "{name}");
    }
}

#[test]
fn truncation_at_every_offset() {
    let mut cases = 0;
    for name in FILES {
        let b = std::fs::read(data_dir().join(name)).unwrap();
        let recs = records(&b);
        let (all, err) = read_both(&b).unwrap();
        assert!(err.is_none());
        for n in 0..=b.len() {
            let cut = &b[..n];
            let whole = recs.iter().filter(|r| r.packet && r.end <= n).count();
            let broken = recs.iter().find(|r| r.start < n && n < r.end);
            match read_both(cut) {
                Err(e) => {
                    // Only a cut inside the file header (or first section header) fails
                    // the open, and it names offset 0.
                    assert!(n < recs[0].end, "{name} cut at {n}: open failed: {e}");
                    assert_eq!(e.offset(), Some(0), "{name} cut at {n}");
                }
                Ok((got, err)) => {
                    assert!(n >= recs[0].end, "{name} cut at {n}: opened");
                    assert_eq!(got[..], all[..whole], "{name} cut at {n}: packets");
                    match (broken, err) {
                        (None, None) => {}
                        (Some(r), Some(e)) => {
                            assert!(e.is_damage(), "{name} cut at {n}: {e}");
                            assert_eq!(e.offset(), Some(r.start as u64), "{name} cut at {n}");
                        }
                        (r, e) => panic!("{name} cut at {n}: record {r:?}, error {e:?}"),
                    }
                }
            }
            cases += 1;
        }
    }
    eprintln!("{cases} truncated files read");
}

/// tshark, reading the same truncated files, sees the same number of packets and also
/// complains exactly when fwbench reports damage.
#[test]
fn truncation_agrees_with_tshark() {
    if !tshark_available() {
        common::skip("tshark is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("fwb-capture-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["eth.pcap", "eth.pcapng"] {
        let b = std::fs::read(data_dir().join(name)).unwrap();
        let recs = records(&b);
        let pk: Vec<&Rec> = recs.iter().filter(|r| r.packet).collect();
        // Inside the first, a middle and the last packet; on a boundary; inside a header.
        let mid = pk[pk.len() / 2];
        let last = pk[pk.len() - 1];
        for n in [
            pk[0].start + 5,
            pk[0].start + 20,
            mid.start + 9,
            mid.end,
            last.end - 1,
            last.start + 3,
        ] {
            let f = dir.join(format!("{name}.{n}"));
            std::fs::write(&f, &b[..n]).unwrap();
            let (got, err) = read_both(&b[..n]).unwrap();
            let o = Command::new("tshark")
                .args(["-T", "fields", "-e", "frame.number", "-r"])
                .arg(&f)
                .output()
                .unwrap();
            let frames = String::from_utf8_lossy(&o.stdout).lines().count();
            let complaint = tshark_stderr(&o.stderr);
            assert_eq!(got.len(), frames, "{name} cut at {n}: packets");
            assert_eq!(
                err.is_some(),
                !complaint.is_empty(),
                "{name} cut at {n}: fwbench {err:?}, tshark {complaint:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flipped_bytes_keep_the_packets_before_them() {
    let mut cases = 0;
    for name in FILES {
        let b = std::fs::read(data_dir().join(name)).unwrap();
        let recs = records(&b);
        let (all, _) = read_both(&b).unwrap();
        for i in 0..b.len() {
            let mut d = b.clone();
            d[i] ^= 0xff;
            let r = recs.iter().find(|r| r.start <= i && i < r.end).unwrap();
            let before = recs.iter().filter(|x| x.packet && x.end <= r.start).count();
            match read_both(&d) {
                Err(e) => assert!(
                    r.start == 0 && e.offset() == Some(0),
                    "{name} byte {i} flipped: open failed: {e}"
                ),
                Ok((got, err)) => {
                    assert!(got.len() >= before, "{name} byte {i}: lost packets");
                    assert_eq!(got[..before], all[..before], "{name} byte {i}");
                    // Nothing before the flipped record can be damaged.
                    if let Some(e) = err {
                        assert!(
                            e.offset().unwrap() >= r.start as u64,
                            "{name} byte {i}: {e}"
                        );
                    }
                    assert!(got.len() <= d.len() / 12);
                }
            }
            cases += 1;
        }
    }
    eprintln!("{cases} files with a flipped byte read");
}

fn set_u32(b: &mut [u8], at: usize, v: u32, big: bool) {
    let bytes = if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    };
    b[at..at + 4].copy_from_slice(&bytes);
}

/// Reads `bytes` as a stream and returns the packets, the error and the largest single
/// allocation made meanwhile.
fn stream_largest(bytes: Vec<u8>) -> (usize, Option<Error>, usize) {
    LARGEST.with(|m| m.set(0));
    let r = Reader::from_read("t", Cursor::new(bytes)).unwrap();
    let (got, err, _) = read_all(r);
    (got.len(), err, LARGEST.with(|m| m.get()))
}

#[test]
fn huge_length_fields_are_damage_not_allocations() {
    // Classic pcap: the third record claims 4 GiB.
    let mut b = std::fs::read(data_dir().join("eth.pcap")).unwrap();
    let recs = records(&b);
    let r = recs[3];
    set_u32(&mut b, r.start + 8, u32::MAX, false);
    let input_len = b.len();
    let (n, err, largest) = stream_largest(b);
    let err = err.expect("damage");
    assert_eq!((n, err.offset()), (2, Some(r.start as u64)), "{err}");
    assert!(err.to_string().contains("4294967295"), "{err}");
    assert!(
        largest < 2 * input_len + (1 << 20),
        "largest allocation {largest}"
    );

    let ng = std::fs::read(data_dir().join("eth.pcapng")).unwrap();
    let recs = records(&ng);
    let pk: Vec<Rec> = recs.iter().copied().filter(|r| r.packet).collect();
    let idb = recs[1];
    assert_eq!(
        &ng[idb.start..idb.start + 4],
        &[1, 0, 0, 0],
        "eth.pcapng: IDB second"
    );

    // pcapng: a block length past every limit, one just under the 16 MiB limit (more than
    // the file holds: truncation), an EPB captured length larger than its block, an IDB
    // option longer than its block, and a packet naming a missing interface.
    let cases: [(&str, usize, u32, Rec); 5] = [
        ("block length 4 GiB", 4, 0xffff_fff0, pk[1]),
        ("block length 16 MiB - 16", 4, (16 << 20) - 16, pk[1]),
        ("captured length", 20, 0x7fff_ffff, pk[2]),
        ("interface id", 8, 7, pk[3]),
        ("option length", 16, 0xffff_0002, idb),
    ];
    for (what, field, value, rec) in cases {
        let mut b = ng.clone();
        set_u32(&mut b, rec.start + field, value, false);
        let expect = pk.iter().filter(|r| r.end <= rec.start).count();
        let (n, err, largest) = stream_largest(b.clone());
        let err = err.unwrap_or_else(|| panic!("{what}: no damage reported"));
        assert!(err.is_damage(), "{what}: {err}");
        assert_eq!(n, expect, "{what}: packets before the damage");
        assert_eq!(err.offset(), Some(rec.start as u64), "{what}: {err}");
        assert!(
            largest < 2 * ng.len() + (1 << 20),
            "{what}: largest allocation {largest}"
        );
        // The same from memory.
        let (got, e2) = read_both(&b).unwrap();
        assert_eq!((got.len(), e2.and_then(|e| e.offset())), (n, err.offset()));
    }
}

#[test]
fn not_a_capture_file() {
    for (bytes, what) in [
        (&b""[..], "too short"),
        (&b"\xd4\xc3\xb2"[..], "too short"),
        (
            &b"GIF89a......................"[..],
            "neither pcap nor pcapng",
        ),
        (&b"\xd4\xc3\xb2\xa1\x02\x00"[..], "truncated"),
        (
            &b"\xd4\xc3\xb2\xa1\x09\x00\x04\x00\0\0\0\0\0\0\0\0\0\0\x04\x00\x01\0\0\0"[..],
            "version 9.4",
        ),
        (
            &b"\x0a\x0d\x0d\x0a\x1c\0\0\0\x11\x22\x33\x44"[..],
            "byte-order magic",
        ),
    ] {
        let e = Reader::from_bytes("t", bytes.to_vec()).err().expect(what);
        assert_eq!(e.offset(), Some(0), "{what}");
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
    let missing = Reader::open("/nonexistent/fwbench.pcap").err().unwrap();
    assert!(matches!(missing, Error::Open { .. }), "{missing}");
}

//! Reading a capture of one million small packets from the page cache (issue 3: at least 20
//! million packets per second on one core, link layer decoded and the network-layer offset
//! found). The same run times references on the same bytes, so the results read as ratios
//! that do not depend on how busy the machine is:
//!
//! - a bare walk over the records: the file mapped, then only the length fields read, no
//!   timestamps, no checks (the floor any reader of a mapped file stands on); the summary
//!   also shows it over a mapping made beforehand, which leaves out the page faults and
//!   shows what memory alone costs;
//! - fwbench reading without decoding, to split the cost between file and link layer;
//! - pcap-file 3.0.0-rc1 parsing the same file, mapped (the crate ARCHITECTURE.md names).
//!
//! Every pass starts from the path (open, map, read), as a replay does.
//!
//! The files (classic pcap and pcapng, about 80 MB each) are written under
//! target/fwbench-bench/ by fwbench's writer on the first run and read once before timing.
//! Packets: 80% Ethernet/IPv4/UDP (60 bytes), 10% with an 802.1Q tag, 10% IPv6/UDP.
//! After criterion's report, a summary prints packets per second (median of 7 passes) and
//! the ratio to the bare walk. `cargo test` runs it on 10,000 packets as a smoke test.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use fwbench::capture::{self, LinkType, OutPacket, OutputFormat, Writer};
use memmap2::Mmap;

fn frame(i: usize) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    match i % 10 {
        8 => {
            // IPv6/UDP
            f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 16, 17, 64]);
            f.extend_from_slice(&[0xfd; 32]);
            f.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 16, 0, 0]);
            f.extend_from_slice(&(i as u64).to_be_bytes());
        }
        9 => {
            // 802.1Q VID 100, then IPv4/UDP
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
            f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0]);
            f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 53, 0, 26, 0, 0]);
            f.extend_from_slice(&[0; 18]);
        }
        _ => {
            f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0]);
            f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 53, 0, 26, 0, 0]);
            f.extend_from_slice(&[0; 18]);
        }
    }
    f
}

/// Writes the capture unless a complete one is already there.
fn capture_file(format: OutputFormat, packets: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fwbench-bench");
    std::fs::create_dir_all(&dir).expect("create target/fwbench-bench");
    let ext = match format {
        OutputFormat::PcapNg => "pcapng",
        OutputFormat::Pcap => "pcap",
    };
    let path = dir.join(format!("small-{packets}.{ext}"));
    let done = dir.join(format!("small-{packets}.{ext}.done"));
    if done.exists() && path.exists() {
        return path;
    }
    let frames: Vec<Vec<u8>> = (0..10).map(frame).collect();
    let mut w = Writer::create(&path, format).expect("create the bench capture");
    let eth = w.add_interface("eth0", LinkType::Ethernet).unwrap();
    for i in 0..packets {
        let data = &frames[i % 10];
        w.write_packet(&OutPacket {
            interface: eth,
            ts_ns: 1_700_000_000_000_000_000 + i as i64 * 1_237,
            data,
            orig_len: data.len() as u32,
            comment: None,
        })
        .unwrap();
    }
    w.finish().unwrap();
    std::fs::write(done, b"").unwrap();
    path
}

fn map(path: &Path) -> Mmap {
    let f = std::fs::File::open(path).unwrap();
    // SAFETY: a file this benchmark wrote and nobody changes while it runs.
    unsafe { Mmap::map(&f) }.unwrap()
}

/// The floor: the file mapped, then record lengths only.
fn bare_walk(path: &Path, format: OutputFormat) -> u64 {
    let m = map(path);
    bare_walk_bytes(&m, format)
}

fn bare_walk_bytes(b: &[u8], format: OutputFormat) -> u64 {
    let rd = |p: usize| u32::from_le_bytes([b[p], b[p + 1], b[p + 2], b[p + 3]]) as usize;
    let mut n = 0;
    match format {
        OutputFormat::Pcap => {
            let mut p = 24;
            while p + 16 <= b.len() {
                p += 16 + rd(p + 8);
                n += 1;
            }
        }
        OutputFormat::PcapNg => {
            let mut p = 0;
            while p + 12 <= b.len() {
                n += (rd(p) == 6) as u64;
                p += rd(p + 4);
            }
        }
    }
    n
}

/// fwbench: every packet read, its link layer decoded, the network offsets summed.
fn read_decode(path: &Path) -> (u64, u64) {
    let mut r = capture::open(path).unwrap();
    let (mut n, mut sum) = (0u64, 0u64);
    while let Ok(Some(p)) = r.next_packet() {
        if let Ok(l) = p.link_info() {
            sum += l.network as u64;
        }
        n += 1;
    }
    (n, sum)
}

/// fwbench reading only (timestamps, lengths, interface; no link layer).
fn read_only(path: &Path) -> (u64, u64) {
    let mut r = capture::open(path).unwrap();
    let (mut n, mut sum) = (0u64, 0u64);
    while let Ok(Some(p)) = r.next_packet() {
        sum = sum.wrapping_add(p.ts_ns as u64);
        n += 1;
    }
    (n, sum)
}

/// pcap-file 3.0.0-rc1 over the same file, mapped: packets parsed (timestamps included), no
/// link layer.
fn pcap_file(path: &Path, format: OutputFormat) -> u64 {
    let m = map(path);
    let b: &[u8] = &m;
    let mut n = 0;
    match format {
        OutputFormat::Pcap => {
            let (mut rest, parser) = pcap_file::pcap::PcapParser::new(b).unwrap();
            while let Ok((r, p)) = parser.next_packet(rest) {
                black_box(p.timestamp);
                rest = r;
                n += 1;
            }
        }
        OutputFormat::PcapNg => {
            let (mut rest, mut parser) = pcap_file::pcapng::PcapNgParser::new(b).unwrap();
            while let Ok((r, block)) = parser.next_block(rest) {
                if let pcap_file::pcapng::Block::EnhancedPacket(e) = block {
                    black_box(e.timestamp);
                    n += 1;
                }
                rest = r;
            }
        }
    }
    n
}

struct Case {
    format: OutputFormat,
    path: PathBuf,
}

fn bench(c: &mut Criterion, cases: &[Case], packets: usize) {
    for case in cases {
        let mut g = c.benchmark_group(format!("{packets} small packets, {:?}", case.format));
        g.throughput(Throughput::Elements(packets as u64));
        g.sample_size(20).measurement_time(Duration::from_secs(4));
        g.bench_function("reference: bare walk over record lengths", |b| {
            b.iter(|| bare_walk(black_box(&case.path), case.format))
        });
        g.bench_function("reference: pcap-file 3.0.0-rc1 parse", |b| {
            b.iter(|| pcap_file(black_box(&case.path), case.format))
        });
        g.bench_function("fwbench read", |b| {
            b.iter(|| read_only(black_box(&case.path)))
        });
        g.bench_function("fwbench read + link decode", |b| {
            b.iter(|| read_decode(black_box(&case.path)))
        });
        g.finish();
    }
}

/// Median seconds of `runs` passes.
fn median(runs: usize, mut f: impl FnMut() -> u64, expect: u64) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            let n = black_box(f());
            let e = s.elapsed().as_secs_f64();
            assert_eq!(n, expect, "a pass saw a different packet count");
            e
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[runs / 2]
}

fn summary(cases: &[Case], packets: usize, runs: usize) {
    let n = packets as u64;
    println!("\nsummary: {packets} packets, median of {runs} passes, one core");
    println!(
        "{:<8} {:<40} {:>12} {:>12}",
        "format", "what", "Mpackets/s", "vs bare walk"
    );
    for case in cases {
        let walk = median(runs, || bare_walk(&case.path, case.format), n);
        let mapped = map(&case.path);
        let rows = [
            (
                "reference: bare walk, file already mapped",
                median(runs, || bare_walk_bytes(&mapped, case.format), n),
            ),
            ("reference: bare walk", walk),
            (
                "reference: pcap-file 3.0.0-rc1 parse",
                median(runs, || pcap_file(&case.path, case.format), n),
            ),
            ("fwbench read", median(runs, || read_only(&case.path).0, n)),
            (
                "fwbench read + link decode",
                median(runs, || read_decode(&case.path).0, n),
            ),
        ];
        for (what, secs) in rows {
            println!(
                "{:<8} {:<40} {:>12.1} {:>11.2}x",
                format!("{:?}", case.format),
                what,
                n as f64 / secs / 1e6,
                secs / walk
            );
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test` runs this as a quick smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let packets = if full { 1_000_000 } else { 10_000 };
    let cases: Vec<Case> = [OutputFormat::Pcap, OutputFormat::PcapNg]
        .into_iter()
        .map(|format| {
            let path = capture_file(format, packets);
            // Into the page cache, and a check that all four readers agree.
            let n = packets as u64;
            assert_eq!(bare_walk(&path, format), n);
            assert_eq!(pcap_file(&path, format), n);
            assert_eq!(read_only(&path).0, n);
            let (got, sum) = read_decode(&path);
            assert_eq!(got, n);
            // 14 for plain Ethernet, 18 behind the VLAN tag.
            let tagged = (0..packets).filter(|i| i % 10 == 9).count() as u64;
            assert_eq!(sum, 14 * n + 4 * tagged);
            Case { format, path }
        })
        .collect();
    if !full {
        summary(&cases, packets, 1);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &cases, packets);
    c.final_summary();
    summary(&cases, packets, 7);
}

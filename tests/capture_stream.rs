//! `-` reads standard input as a stream with bounded memory: a child process (this test
//! binary again, running only `stdin_child`) reads tens of megabytes that the parent writes
//! into its standard input with fwbench's writer, and reports its peak heap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use fwbench::capture::{self, LinkType, OutPacket, OutputFormat, Writer};

/// Live heap bytes and their peak, for the whole process.
struct Peak;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: forwards every call unchanged to the system allocator; the counters are atomics.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        grew(new);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static A: Peak = Peak;

const CHILD: &str = "FWB_CAPTURE_STDIN_CHILD";

/// The child's side, not a test of its own: it does nothing unless the parent tests below
/// start it; then it reads `-` and prints what it saw.
#[test]
fn stdin_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut r = capture::open("-").unwrap();
    let (mut n, mut bytes, mut ts) = (0u64, 0u64, 0i64);
    let err = loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                n += 1;
                bytes += p.data.len() as u64;
                ts = ts.wrapping_add(p.ts_ns);
            }
            Ok(None) => break None,
            Err(e) => break e.offset(),
        }
    };
    let peak = PEAK.load(Ordering::Relaxed) - base;
    println!("RESULT {n} {bytes} {ts} {peak} {err:?}");
}

/// Sizes from small to a 250,000-byte record, so the buffer has to grow once.
fn size(i: usize) -> usize {
    match i % 1000 {
        0 => 9000,
        500 if i == 500 => 250_000,
        k => 40 + k % 90,
    }
}

/// Counts the bytes written through it.
struct Count<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Count<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(b)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `packets` packets in `format` into a child's standard input, then `tail`; returns
/// the child's `RESULT` line and the number of bytes before `tail`.
fn run_child(format: OutputFormat, packets: usize, tail: &'static [u8]) -> (String, u64) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "stdin_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let sink = Count {
            inner: std::io::BufWriter::new(stdin),
            n: 0,
        };
        let mut w = Writer::new(sink, format).unwrap();
        w.add_interface("eth0", LinkType::Ethernet).unwrap();
        let buf = vec![0x5au8; 250_000];
        for i in 0..packets {
            w.write_packet(&OutPacket {
                interface: 0,
                ts_ns: 1_700_000_000_000_000_000 + i as i64 * 1_001,
                data: &buf[..size(i)],
                orig_len: size(i) as u32,
                comment: None,
            })
            .unwrap();
        }
        let mut out = w.finish().unwrap();
        let before_tail = out.n;
        out.write_all(tail).unwrap();
        out.flush().unwrap();
        // Dropping `out` closes the child's standard input.
        before_tail
    });
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = stdout.lines().map(|l| l.unwrap()).collect();
    let before_tail = writer.join().unwrap();
    assert!(child.wait().unwrap().success(), "child failed: {lines:?}");
    // The harness prints "test stdin_child ... " on the same line, before the result.
    let line = lines
        .iter()
        .find_map(|l| l.find("RESULT ").map(|i| l[i..].to_string()))
        .unwrap_or_else(|| panic!("the child did not report: {lines:?}"));
    (line, before_tail)
}

#[test]
fn stdin_streams_in_bounded_memory() {
    let packets = 400_000;
    let bytes: u64 = (0..packets).map(|i| size(i) as u64).sum();
    let ts: i64 = (0..packets).fold(0i64, |a, i| {
        a.wrapping_add(1_700_000_000_000_000_000 + i as i64 * 1_001)
    });
    for format in [OutputFormat::PcapNg, OutputFormat::Pcap] {
        let (line, _) = run_child(format, packets, &[]);
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[1], packets.to_string(), "{format:?}: {line}");
        assert_eq!(f[2], bytes.to_string(), "{format:?}: {line}");
        assert_eq!(f[3], ts.to_string(), "{format:?}: {line}");
        assert_eq!(f[5], "None", "{format:?}: {line}");
        let peak: usize = f[4].parse().unwrap();
        // One 256 KiB read chunk holds everything, the 250,000-byte record included; the
        // input is over 30 MB.
        assert!(bytes > 30_000_000);
        assert!(
            peak <= 1 << 20,
            "{format:?}: peak heap {peak} bytes for a stream"
        );
        eprintln!("{format:?}: {bytes} packet bytes through standard input, peak heap {peak}");
    }
}

/// A stream that ends inside a record reports the record's offset after all packets.
#[test]
fn stdin_damage_reports_the_offset() {
    // Half an Enhanced Packet Block header (pcapng) and half a record header (pcap).
    for (format, tail) in [
        (OutputFormat::PcapNg, &b"\x06\0\0\0\x40\0\0\0\0\0"[..]),
        (OutputFormat::Pcap, &b"\0\0\0\0\0\0"[..]),
    ] {
        let (line, offset) = run_child(format, 2_000, tail);
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[1], "2000", "{format:?}: {line}");
        assert_eq!(f[5], format!("Some({offset})"), "{format:?}: {line}");
    }
}

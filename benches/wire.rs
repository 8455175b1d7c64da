//! `wire` on one million small packets held in memory (the capture module's records are
//! borrowed slices like these): the summary parse every packet gets, an incremental NAT +
//! TTL rewrite, and a full checksum verification. The same run times a reference, a bare walk
//! over the same slices that reads one byte of each, so results read as ratios that do not
//! depend on how busy the machine is. Issue 3 asks for 20 million packets per second on one
//! core for reading and parsing together.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fwbench::wire::rewrite::{nat, Manip};
use fwbench::wire::{ip, mangle, verify};

/// A mix: IPv4 TCP with options, IPv4 UDP, IPv4 ICMP echo, IPv6 TCP behind a hop-by-hop
/// header, IPv6 UDP; 60 to 100 bytes each.
fn packets(n: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut buf = Vec::new();
    let mut spans = Vec::with_capacity(n);
    for i in 0..n {
        let port = (i % 60000) as u16 + 1024;
        let mut l4 = Vec::new();
        let (v6, proto) = match i % 5 {
            0 | 3 => {
                l4.extend_from_slice(&port.to_be_bytes());
                l4.extend_from_slice(&[0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0x02, 0xff, 0xff]);
                l4.extend_from_slice(&[0, 0, 0, 0, 2, 4, 5, 0xb4, 1, 1, 4, 2]);
                l4.extend_from_slice(&[1, 3, 3, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
                (i % 5 == 3, 6)
            }
            1 | 4 => {
                l4.extend_from_slice(&port.to_be_bytes());
                l4.extend_from_slice(&[0, 53, 0, 40, 0xde, 0xad]);
                l4.extend_from_slice(&[7; 32]);
                (i % 5 == 4, 17)
            }
            _ => {
                l4.extend_from_slice(&[8, 0, 0, 0]);
                l4.extend_from_slice(&port.to_be_bytes());
                l4.extend_from_slice(&[0, 1]);
                l4.extend_from_slice(&[9; 48]);
                (false, 1)
            }
        };
        let mut p = if v6 {
            let mut p = vec![0x60, 0, 0, 0];
            p.extend_from_slice(&((l4.len() + 8) as u16).to_be_bytes());
            p.extend_from_slice(&[0, 64]);
            p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
            p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
            p.extend_from_slice(&[proto, 0, 1, 4, 0, 0, 0, 0]);
            p
        } else {
            let mut p = vec![0x45, 0];
            p.extend_from_slice(&((l4.len() + 20) as u16).to_be_bytes());
            p.extend_from_slice(&[
                0,
                0,
                0x40,
                0,
                64,
                proto,
                0,
                0,
                10,
                0,
                (i >> 8) as u8,
                i as u8,
            ]);
            p.extend_from_slice(&[10, 96, 0, 10]);
            p
        };
        p.extend_from_slice(&l4);
        verify::recompute(&mut p).expect("valid");
        spans.push((buf.len(), p.len()));
        buf.extend_from_slice(&p);
    }
    (buf, spans)
}

fn wire(c: &mut Criterion) {
    const N: usize = 1_000_000;
    let (buf, spans) = packets(N);
    let mut group = c.benchmark_group(format!("wire, {N} packets, {} bytes", buf.len()));
    group.sample_size(10);
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("reference: bare walk over the packets", |b| {
        b.iter(|| {
            let buf = black_box(&buf[..]);
            spans
                .iter()
                .map(|&(at, len)| usize::from(buf[at]) + len)
                .sum::<usize>()
        })
    });
    group.bench_function("ip::parse", |b| {
        b.iter(|| {
            let buf = black_box(&buf[..]);
            spans
                .iter()
                .filter_map(|&(at, len)| ip::parse(&buf[at..at + len]).ok())
                .map(|i| usize::from(i.l4_offset) + i.l4.ports().map_or(0, |p| usize::from(p.1)))
                .sum::<usize>()
        })
    });
    let mut work = buf.clone();
    let (a4, a6) = (
        IpAddr::V4(Ipv4Addr::new(10, 244, 1, 5)),
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 5)),
    );
    group.bench_function("DNAT + TTL decrement, in place", |b| {
        b.iter(|| {
            for &(at, len) in &spans {
                let p = &mut work[at..at + len];
                let to = if p[0] >> 4 == 4 { a4 } else { a6 };
                let _ = nat(p, Manip::Dst, to, Some(8053));
                let _ = mangle::hop_limit(p, mangle::HopLimitOp::Set(63));
            }
        })
    });
    group.bench_function("verify every checksum", |b| {
        b.iter(|| {
            let buf = black_box(&buf[..]);
            spans
                .iter()
                .filter(|&&(at, len)| verify::verify(&buf[at..at + len]).is_ok_and(|c| c.all_ok()))
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, wire);
criterion_main!(benches);

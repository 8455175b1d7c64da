//! Defragmentation and refragmentation against the kernel.
//!
//! `tests/data/wire/defrag_experiment.py` sends hand-made fragments through a router
//! namespace with conntrack on and records what comes out (`defrag_kernel.txt`). Here the
//! same fragments go through `wire::defrag`, the TTL is decremented as forwarding does, and
//! `wire::refrag` cuts the datagram again; the printed result must equal the kernel's line
//! for line. As root, the experiment is also rerun to check the recorded file still holds.

mod common;
mod wire_support;

use std::process::Command;

use fwbench::wire::defrag::{Defrag, DropReason, Limits, Outcome};
use fwbench::wire::mangle::{self, HopLimitOp};
use fwbench::wire::refrag::{self, Config, Refrag};
use wire_support::ref_sum;

const SRC4: [u8; 4] = [10, 1, 0, 2];
const DST4: [u8; 4] = [10, 2, 0, 2];
const SRC6: [u8; 16] = [0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const DST6: [u8; 16] = [0xfd, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const OPTS: [u8; 8] = [0x9e, 4, 0, 0, 0x1e, 4, 0, 0];

/// What a piece carries: the datagram's bytes or 0xee filler, and whether MF is set.
#[derive(Clone, Copy)]
enum Kind {
    More,
    Last,
    /// 0xee bytes, MF set.
    X,
    /// 0xee bytes, MF clear.
    XL,
    /// Real bytes, MF clear (a second, different last fragment).
    L,
}

#[derive(Clone, Copy, Default)]
struct Extra {
    tos: u8,
    opts: bool,
    df: bool,
}

type PieceSpec = (usize, usize, Kind, Extra);

const fn p(off: usize, len: usize, k: Kind) -> PieceSpec {
    (
        off,
        len,
        k,
        Extra {
            tos: 0,
            opts: false,
            df: false,
        },
    )
}

const fn e(off: usize, len: usize, k: Kind, tos: u8, opts: bool, df: bool) -> PieceSpec {
    (off, len, k, Extra { tos, opts, df })
}

use Kind::*;

/// The experiment's cases, in its order (the index gives the IP id and the source port).
fn cases() -> Vec<(&'static str, u8, usize, Vec<PieceSpec>)> {
    vec![
        (
            "in-order",
            4,
            48,
            vec![p(0, 24, More), p(24, 16, More), p(40, 16, Last)],
        ),
        (
            "reversed",
            4,
            48,
            vec![p(40, 16, Last), p(24, 16, More), p(0, 24, More)],
        ),
        (
            "uneven-sizes",
            4,
            120,
            vec![p(0, 16, More), p(16, 96, More), p(112, 16, Last)],
        ),
        (
            "exact-duplicate",
            4,
            48,
            vec![
                p(0, 24, More),
                p(0, 24, More),
                p(24, 16, More),
                p(40, 16, Last),
            ],
        ),
        (
            "inside-a-run",
            4,
            48,
            vec![
                p(0, 24, More),
                p(24, 16, More),
                p(8, 24, X),
                p(40, 16, Last),
            ],
        ),
        (
            "partial-overlap-then-resend",
            4,
            48,
            vec![
                p(0, 24, More),
                p(16, 24, X),
                p(40, 16, Last),
                p(24, 16, More),
                p(0, 24, More),
            ],
        ),
        (
            "overlap-with-last",
            4,
            48,
            vec![
                p(40, 16, Last),
                p(32, 24, XL),
                p(0, 24, More),
                p(24, 16, More),
            ],
        ),
        (
            "two-different-lasts",
            4,
            48,
            vec![
                p(40, 16, Last),
                p(0, 24, More),
                p(24, 8, L),
                p(24, 16, More),
            ],
        ),
        (
            "partial-overlap-no-resend",
            4,
            48,
            vec![
                p(0, 24, More),
                p(16, 24, X),
                p(40, 16, Last),
                p(24, 16, More),
            ],
        ),
        (
            "overlap-across-a-gap",
            4,
            48,
            vec![
                p(0, 16, More),
                p(24, 16, More),
                p(8, 24, X),
                p(16, 8, More),
                p(40, 16, Last),
            ],
        ),
        (
            "unaligned-middle",
            4,
            48,
            vec![p(0, 20, More), p(16, 24, More), p(40, 16, Last)],
        ),
        (
            "ecn-ce-with-ect0",
            4,
            48,
            vec![
                e(0, 24, More, 2, false, false),
                e(24, 16, More, 3, false, false),
                e(40, 16, Last, 2, false, false),
            ],
        ),
        (
            "ecn-not-ect-with-ect0",
            4,
            48,
            vec![
                p(0, 24, More),
                e(24, 16, More, 2, false, false),
                p(40, 16, Last),
            ],
        ),
        (
            "options",
            4,
            48,
            vec![
                e(0, 24, More, 0, true, false),
                e(24, 16, More, 0, true, false),
                p(40, 16, Last),
            ],
        ),
        (
            "df-on-every-fragment",
            4,
            48,
            vec![
                e(0, 24, More, 0, false, true),
                e(24, 16, More, 0, false, true),
                e(40, 16, Last, 0, false, true),
            ],
        ),
        (
            "v6-in-order",
            6,
            48,
            vec![p(0, 24, More), p(24, 16, More), p(40, 16, Last)],
        ),
        (
            "v6-partial-overlap-then-resend",
            6,
            48,
            vec![
                p(0, 24, More),
                p(16, 24, X),
                p(40, 16, Last),
                p(24, 16, More),
                p(0, 24, More),
            ],
        ),
        (
            "v6-inside-a-run",
            6,
            48,
            vec![
                p(0, 24, More),
                p(24, 16, More),
                p(8, 24, X),
                p(40, 16, Last),
            ],
        ),
        (
            "v6-partial-overlap-no-resend",
            6,
            48,
            vec![
                p(0, 24, More),
                p(16, 24, X),
                p(40, 16, Last),
                p(24, 16, More),
            ],
        ),
        (
            "v6-two-different-lasts",
            6,
            48,
            vec![
                p(40, 16, Last),
                p(0, 24, More),
                p(24, 8, L),
                p(24, 16, More),
            ],
        ),
        (
            "v6-uneven-sizes",
            6,
            120,
            vec![p(0, 16, More), p(16, 96, More), p(112, 16, Last)],
        ),
        (
            "v6-unaligned-middle",
            6,
            48,
            vec![p(0, 20, More), p(16, 24, More), p(40, 16, Last)],
        ),
        (
            "v6-unaligned-then-resend",
            6,
            48,
            vec![
                p(0, 20, More),
                p(0, 24, More),
                p(24, 16, More),
                p(40, 16, Last),
            ],
        ),
    ]
}

/// The UDP datagram `sport → 9` with `n` payload bytes 0, 1, 2, ... (checksum by the
/// test's own reference sum).
fn udp_datagram(v6: bool, n: usize, sport: u16) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&9u16.to_be_bytes());
    u.extend_from_slice(&((8 + n) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend((0..n).map(|i| i as u8));
    let mut ph = Vec::new();
    if v6 {
        ph.extend_from_slice(&SRC6);
        ph.extend_from_slice(&DST6);
        ph.extend_from_slice(&(u.len() as u32).to_be_bytes());
        ph.extend_from_slice(&[0, 0, 0, 17]);
    } else {
        ph.extend_from_slice(&SRC4);
        ph.extend_from_slice(&DST4);
        ph.extend_from_slice(&[0, 17]);
        ph.extend_from_slice(&(u.len() as u16).to_be_bytes());
    }
    let c = !ref_sum(&[&ph, &u]);
    let c = if c == 0 { 0xffff } else { c };
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

fn v4_frag(id: u16, off: usize, mf: bool, data: &[u8], x: Extra) -> Vec<u8> {
    let opts: &[u8] = if x.opts { &OPTS } else { &[] };
    let hl = 20 + opts.len();
    let flags = (if mf { 0x2000 } else { 0 }) | (if x.df { 0x4000 } else { 0 }) | (off / 8) as u16;
    let mut h = vec![0x40 | (hl / 4) as u8, x.tos];
    h.extend_from_slice(&((hl + data.len()) as u16).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&flags.to_be_bytes());
    h.extend_from_slice(&[64, 17, 0, 0]);
    h.extend_from_slice(&SRC4);
    h.extend_from_slice(&DST4);
    h.extend_from_slice(opts);
    let c = !ref_sum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(data);
    h
}

fn v6_frag(id: u32, off: usize, mf: bool, data: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[44, 64]);
    h.extend_from_slice(&SRC6);
    h.extend_from_slice(&DST6);
    h.extend_from_slice(&[17, 0]);
    h.extend_from_slice(&(off as u16 | u16::from(mf)).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(data);
    h
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn describe(frag: &[u8]) -> String {
    if frag[0] >> 4 == 4 {
        let hl = usize::from(frag[0] & 15) * 4;
        let tl = usize::from(u16::from_be_bytes([frag[2], frag[3]]));
        let w = u16::from_be_bytes([frag[6], frag[7]]);
        let opts = if hl > 20 {
            hex(&frag[20..hl])
        } else {
            "-".into()
        };
        format!(
            "  off={} mf={} df={} tos={:#04x} ttl={} len={tl} opts={opts} data={}",
            (w & 0x1fff) * 8,
            u8::from(w & 0x2000 != 0),
            u8::from(w & 0x4000 != 0),
            frag[1],
            frag[8],
            hex(&frag[hl..tl])
        )
    } else {
        let plen = usize::from(u16::from_be_bytes([frag[4], frag[5]]));
        let w = u16::from_be_bytes([frag[42], frag[43]]);
        let fid = u32::from_be_bytes([frag[44], frag[45], frag[46], frag[47]]);
        let new = if (0x4a00..0x4b00).contains(&fid) {
            ""
        } else {
            "new-id "
        };
        format!(
            "  {new}off={} m={} hlim={} len={} data={}",
            w & 0xfff8,
            w & 1,
            frag[7],
            40 + plen,
            hex(&frag[48..40 + plen])
        )
    }
}

/// Runs every case through defrag → forward (TTL - 1) → refrag; the experiment's output
/// format.
fn emulate() -> String {
    let mut defrag = Defrag::new(Limits::IPV4, Limits::IPV6);
    let mut now = 1_000_000_000i64;
    let mut out = String::new();
    for (i, (name, fam, n, plan)) in cases().into_iter().enumerate() {
        out.push_str(&format!("case {name}\n"));
        let id = 0x4a00 + i as u16;
        let dgram = udp_datagram(fam == 6, n, 40000 + i as u16);
        for (off, len, kind, x) in plan {
            let (data, mf) = match kind {
                More => (dgram[off..off + len].to_vec(), true),
                Last => (dgram[off..off + len].to_vec(), false),
                X => (vec![0xee; len], true),
                XL => (vec![0xee; len], false),
                L => (dgram[off..off + len].to_vec(), false),
            };
            let frag = if fam == 4 {
                v4_frag(id, off, mf, &data, x)
            } else {
                v6_frag(u32::from(id), off, mf, &data)
            };
            now += 20_000_000;
            let outcome = defrag.push(now, &frag);
            if outcome == Outcome::PassedMalformed {
                let mut f = frag.clone();
                mangle::hop_limit(&mut f, HopLimitOp::Dec(1)).unwrap();
                out.push_str(&describe(&f));
                out.push('\n');
            }
            if let Outcome::Complete(r) = outcome {
                let mut packet = r.packet.clone();
                mangle::hop_limit(&mut packet, HopLimitOp::Dec(1)).unwrap();
                let cfg = Config {
                    mtu: 1500,
                    veth_headroom: true,
                    ipv6_ident: 0xdead_beef,
                };
                match refrag::refragment(&packet, &r, &cfg).unwrap() {
                    Refrag::Fragments(fs) => {
                        for f in fs {
                            out.push_str(&describe(&f));
                            out.push('\n');
                        }
                    }
                    Refrag::TooBig(m) => panic!("{name}: too big for {m}"),
                }
            }
        }
        now += 100_000_000;
    }
    out
}

fn recorded() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/wire/defrag_kernel.txt"
    );
    std::fs::read_to_string(path).expect("tests/data/wire/defrag_kernel.txt")
}

#[test]
fn defrag_and_refrag_match_the_recorded_kernel() {
    let ours = emulate();
    let kernel = recorded();
    assert!(
        ours == kernel,
        "differs from the kernel at {}",
        common::first_difference(&kernel, &ours)
    );
}

#[test]
fn the_recorded_kernel_output_still_holds() {
    if let Err(why) = common::kernel_available() {
        common::skip(&format!("defrag experiment: {why}"));
        return;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/wire/defrag_experiment.py"
    );
    let out = match Command::new("python3").arg(script).output() {
        Ok(o) => o,
        Err(e) => {
            common::skip(&format!("python3 cannot run: {e}"));
            return;
        }
    };
    assert!(
        out.status.success(),
        "experiment failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = String::from_utf8_lossy(&out.stdout);
    let kernel = recorded();
    assert!(
        live == kernel,
        "the live kernel differs from the recording at {}",
        common::first_difference(&kernel, &live)
    );
}

// ---- behaviour the experiment does not reach -----------------------------------------------

fn frag4(id: u16, off: usize, mf: bool, len: usize) -> Vec<u8> {
    v4_frag(id, off, mf, &vec![0x5a; len], Extra::default())
}

#[test]
fn queues_expire_by_capture_time() {
    let mut d = Defrag::default();
    assert_eq!(d.push(0, &frag4(1, 0, true, 16)), Outcome::Queued);
    // 30 s later the queue is gone: the last fragment starts a new, incomplete one.
    assert_eq!(
        d.push(30_000_000_000, &frag4(1, 16, false, 8)),
        Outcome::Queued
    );
    assert_eq!(d.stats.timeouts, 1);
    assert_eq!(d.pending(), 1);
    // Just within the lifetime, it completes.
    let mut d = Defrag::default();
    d.push(0, &frag4(2, 0, true, 16));
    assert!(matches!(
        d.push(29_999_999_999, &frag4(2, 16, false, 8)),
        Outcome::Complete(_)
    ));
}

#[test]
fn not_fragments_pass() {
    let mut d = Defrag::default();
    let whole = v4_frag(3, 0, false, &[1, 2, 3, 4, 5, 6, 7, 8], Extra::default());
    assert_eq!(d.push(0, &whole), Outcome::NotFragment);
    assert_eq!(d.push(0, &[0x45, 0]), Outcome::NotFragment);
}

#[test]
fn memory_limit_drops_everything_above_it() {
    let limits = Limits {
        high_thresh: 2000,
        ..Limits::IPV4
    };
    let mut d = Defrag::new(limits, Limits::IPV6);
    // Each fragment counts 512 + 20 + FRAG_OVERHEAD bytes; the check comes before adding.
    for id in 0..2 {
        assert_eq!(d.push(0, &frag4(id, 0, true, 512)), Outcome::Queued);
    }
    assert_eq!(
        d.push(0, &frag4(9, 0, true, 512)),
        Outcome::Dropped(DropReason::Memory)
    );
    // Expiry frees the memory again.
    d.expire(31_000_000_000);
    assert_eq!(d.memory(), 0);
    assert_eq!(
        d.push(31_000_000_000, &frag4(9, 0, true, 512)),
        Outcome::Queued
    );
}

#[test]
fn max_dist_restarts_a_starved_queue() {
    let mut d = Defrag::default();
    assert_eq!(d.push(0, &frag4(100, 0, true, 16)), Outcome::Queued);
    // 65 fragments of other datagrams from the same source in between.
    for id in 0..65 {
        d.push(1, &frag4(200 + id, 0, true, 8));
    }
    // The first fragment of id 100 was forgotten: the last one does not complete it.
    assert_eq!(d.push(2, &frag4(100, 16, false, 8)), Outcome::Queued);
    assert_eq!(d.stats.too_far, 1);
    // With 63 in between (a distance of 64) it would have.
    let mut d = Defrag::default();
    d.push(0, &frag4(100, 0, true, 16));
    for id in 0..63 {
        d.push(1, &frag4(200 + id, 0, true, 8));
    }
    assert!(matches!(
        d.push(2, &frag4(100, 16, false, 8)),
        Outcome::Complete(_)
    ));
}

#[test]
fn ipv6_misaligned_middle_fragment_drops_the_queue_and_passes() {
    let mut d = Defrag::default();
    assert_eq!(d.push(0, &v6_frag(7, 0, true, &[0; 16])), Outcome::Queued);
    assert_eq!(
        d.push(0, &v6_frag(7, 16, true, &[0; 12])),
        Outcome::PassedMalformed
    );
    assert_eq!(d.pending(), 0);
    // An IPv4 one is cut to a multiple of 8 and queued.
    assert_eq!(d.push(0, &frag4(7, 0, true, 12)), Outcome::Queued);
    assert_eq!(d.stats.malformed, 1);
    let _ = DropReason::Malformed;
}

#[test]
fn refrag_recuts_when_the_mtu_is_smaller_and_refuses_df() {
    let mut d = Defrag::default();
    let dgram = udp_datagram(false, 200, 1);
    d.push(0, &v4_frag(5, 0, true, &dgram[..104], Extra::default()));
    let Outcome::Complete(r) = d.push(0, &v4_frag(5, 104, false, &dgram[104..], Extra::default()))
    else {
        panic!("not complete");
    };
    assert_eq!(&r.packet[20..], &dgram[..]);
    let cfg = Config {
        mtu: 68,
        ..Config::default()
    };
    let Refrag::Fragments(fs) = refrag::refragment(&r.packet, &r, &cfg).unwrap() else {
        panic!("too big");
    };
    // 68 - 20 = 48 data bytes per piece: 208 bytes → 48 × 4 + 16.
    let sizes: Vec<usize> = fs.iter().map(|f| f.len() - 20).collect();
    assert_eq!(sizes, [48, 48, 48, 48, 16]);
    for f in &fs {
        assert!(fwbench::wire::ipv4::Packet::new_checked(&f[..])
            .unwrap()
            .verify_checksum());
    }
    let mut df = r.packet.clone();
    df[6] |= 0x40;
    assert_eq!(
        refrag::refragment(&df, &r, &cfg).unwrap(),
        Refrag::TooBig(68)
    );
}

//! IPv4/IPv6 fragment reassembly as netfilter's defragmentation does it before conntrack
//! (`nf_defrag_ipv4` → `ip_defrag`, `nf_defrag_ipv6` → `nf_ct_frag6_gather`), with time taken
//! from capture timestamps.
//!
//! Behaviour, from the kernel sources (`net/ipv4/ip_fragment.c`, `net/ipv4/inet_fragment.c`,
//! `net/ipv6/netfilter/nf_conntrack_reasm.c`) and checked against the kernel by the
//! experiment in `tests/data/wire/` (see `tests/wire_defrag.rs`):
//! - Queues are keyed by (source, destination, id, protocol) for IPv4 and (source,
//!   destination, id) for IPv6. A queue lives `timeout` from its first fragment (the timer is
//!   never pushed back); a fragment arriving after that finds it gone.
//! - Fragments are kept as *runs*: a fragment that starts exactly where the highest one ends
//!   joins that run; any other becomes a run of its own. A fragment that lies wholly inside
//!   one run is a duplicate: it is dropped and the queue kept. A fragment that overlaps
//!   anything otherwise drops *the whole queue* (RFC 5722; the kernel does it for IPv4 too).
//! - The last fragment (no MF) fixes the length: a last fragment ending before data already
//!   seen, or a second last fragment with another end, drops the IPv4 queue but only the
//!   fragment for IPv6. A non-last IPv4 fragment whose data is not a multiple of 8 is cut to
//!   one; the same for IPv6 drops the queue and lets that fragment through *as it is*
//!   (`nf_ct_frag6_queue` returns `-EPROTO`, which `nf_ct_frag6_gather` turns into accept,
//!   so the stack can answer with a parameter problem; measured). An empty fragment drops the
//!   IPv4 queue (IPv6: only the fragment).
//! - ECN (RFC 3168 §5.3, `ip_frag_ecn_table`): if some fragments are Not-ECT and others ECT
//!   or CE, the datagram is dropped; if any fragment is CE, the result is CE.
//! - IPv4 only, `ipfrag_max_dist` (64): each fragment from a source counts; a queue that sees
//!   more than 64 fragments from its source between two of its own is emptied and restarted
//!   (timer included).
//! - Memory: over `high_thresh`, every fragment is dropped (the kernel's `inet_frag_find`
//!   returns nothing). The kernel counts `skb->truesize`, which depends on the driver, per
//!   family; here a fragment counts its bytes plus [`FRAG_OVERHEAD`], an approximation, and
//!   both families share one count.
//! - The reassembled IPv4 datagram has the first fragment's header (options included), the
//!   full length, DF set only if the largest fragment had DF, and a fresh header checksum. The
//!   IPv6 one has the first fragment's headers without the fragment header.
//!
//! Not modelled: the IPv6 key's interface for link-local/multicast destinations, the ICMP
//! "reassembly time exceeded" the kernel may send for a local destination, conntrack zones
//! (use one `Defrag` per zone/hook user).

use std::collections::HashMap;

use super::ip::IpProtocol;
use super::{be, ipv4, ipv6};

/// Approximate per-fragment memory overhead (an `sk_buff` and its shared info), in bytes.
pub const FRAG_OVERHEAD: usize = 768;

/// Limits, with the kernel's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Queue lifetime in nanoseconds: `net.ipv4.ipfrag_time` (30 s) for IPv4,
    /// `net.netfilter.nf_conntrack_frag6_timeout` (60 s) for IPv6.
    pub timeout_ns: i64,
    /// `ipfrag_high_thresh` / `nf_conntrack_frag6_high_thresh`: 4 MiB.
    pub high_thresh: usize,
    /// `ipfrag_max_dist` (64; 0 turns the check off). IPv4 only.
    pub max_dist: u32,
}

impl Limits {
    pub const IPV4: Limits = Limits {
        timeout_ns: 30_000_000_000,
        high_thresh: 4 * 1024 * 1024,
        max_dist: 64,
    };
    pub const IPV6: Limits = Limits {
        timeout_ns: 60_000_000_000,
        high_thresh: 4 * 1024 * 1024,
        max_dist: 0,
    };
}

/// One original fragment, as refragmentation needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Offset of its data in the datagram's fragmentable part.
    pub offset: u32,
    /// Bytes of data it carried (after the kernel's trimming to a multiple of 8).
    pub len: u32,
    /// Its own header length: IPv4 header with options; IPv6 unfragmentable part plus the
    /// fragment header.
    pub header_len: u16,
}

/// A reassembled datagram and the shape it arrived in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled {
    pub packet: Vec<u8>,
    /// The original fragments, in offset order, duplicates left out.
    pub pieces: Vec<Piece>,
    /// The kernel's `frag_max_size`: the largest fragment (IPv4: header + data; IPv6:
    /// 40 + its payload length). Refragmentation never makes pieces larger.
    pub max_frag_size: u32,
    /// The id the fragments carried (IPv4: 16 bits).
    pub ident: u32,
}

/// Why a fragment was consumed without completing a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Lies within data already queued; the queue is kept.
    Duplicate,
    /// Overlaps queued data partially: the queue is dropped with it.
    Overlap,
    /// Inconsistent with the queue's length (a second last fragment, data past the end);
    /// IPv4 drops the queue, IPv6 only the fragment.
    BadLength,
    /// Empty, misaligned (IPv6), or longer than 65535 in total.
    Malformed,
    /// The fragments' ECN codepoints cannot be combined: the datagram is dropped.
    Ecn,
    /// Memory above `high_thresh`.
    Memory,
}

/// What became of a packet handed to [`Defrag::push`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not a fragment (or not parseable as IP): it goes on as it is.
    NotFragment,
    /// Queued; the datagram is not complete yet.
    Queued,
    Dropped(DropReason),
    /// An IPv6 fragment whose data is not a multiple of 8 though more follow: its queue is
    /// dropped and the fragment itself goes on unreassembled, as the kernel lets it.
    PassedMalformed,
    Complete(Reassembled),
}

/// Counters, merged with `+=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub fragments: u64,
    pub reassembled: u64,
    pub duplicates: u64,
    pub overlaps: u64,
    pub bad_length: u64,
    pub malformed: u64,
    pub ecn: u64,
    pub memory: u64,
    /// Queues that expired unfinished.
    pub timeouts: u64,
    /// IPv4 queues emptied by `ipfrag_max_dist`.
    pub too_far: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.fragments += o.fragments;
        self.reassembled += o.reassembled;
        self.duplicates += o.duplicates;
        self.overlaps += o.overlaps;
        self.bad_length += o.bad_length;
        self.malformed += o.malformed;
        self.ecn += o.ecn;
        self.memory += o.memory;
        self.timeouts += o.timeouts;
        self.too_far += o.too_far;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    V4 {
        src: [u8; 4],
        dst: [u8; 4],
        id: u16,
        proto: u8,
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
        id: u32,
    },
}

#[derive(Clone, Debug)]
struct Frag {
    offset: u32,
    data: Vec<u8>,
    header_len: u16,
}

#[derive(Clone, Debug)]
struct Run {
    start: u32,
    end: u32,
    frags: Vec<Frag>,
}

#[derive(Clone, Debug, Default)]
struct Queue {
    deadline: i64,
    /// The datagram end known so far (`q.len`).
    len: u32,
    first_in: bool,
    last_in: bool,
    meat: u32,
    runs: Vec<Run>,
    /// The headers of the offset-0 fragment, up to its data.
    first_header: Vec<u8>,
    /// IPv6: offset, in `first_header`, of the next-header byte that names the fragment
    /// header.
    nh_offset: usize,
    /// ECN codepoints seen, as the kernel's bit set (1 << ecn).
    ecn: u8,
    max_size: u32,
    max_df_size: u32,
    /// `ipfrag_max_dist` bookkeeping.
    rid: u32,
    mem: usize,
}

/// One defragmentation context (the kernel's per-namespace `fqdir` for one family and
/// defrag user).
#[derive(Clone, Debug)]
pub struct Defrag {
    v4: Limits,
    v6: Limits,
    queues: HashMap<Key, Queue>,
    peers: HashMap<[u8; 4], u32>,
    mem: usize,
    pub stats: Stats,
}

impl Default for Defrag {
    fn default() -> Defrag {
        Defrag::new(Limits::IPV4, Limits::IPV6)
    }
}

/// The parsed facts of one fragment.
struct Fragment<'a> {
    key: Key,
    offset: u32,
    more: bool,
    /// Data after all headers (cut to the IP length).
    data: &'a [u8],
    /// Everything before the data (IPv6: unfragmentable part + fragment header).
    header: &'a [u8],
    /// IPv6: where the next-header byte pointing at the fragment header is.
    nh_offset: usize,
    ecn: u8,
    df: bool,
    /// IPv6: the payload length, which counts toward `max_size`.
    size: u32,
}

impl Defrag {
    pub fn new(v4: Limits, v6: Limits) -> Defrag {
        Defrag {
            v4,
            v6,
            queues: HashMap::new(),
            peers: HashMap::new(),
            mem: 0,
            stats: Stats::default(),
        }
    }

    /// Queues in progress.
    pub fn pending(&self) -> usize {
        self.queues.len()
    }

    /// Approximate memory held by queued fragments.
    pub fn memory(&self) -> usize {
        self.mem
    }

    /// Drops every queue whose lifetime ended at or before `now_ns`.
    pub fn expire(&mut self, now_ns: i64) {
        let before = self.queues.len();
        let mut freed = 0;
        self.queues.retain(|_, q| {
            let keep = q.deadline > now_ns;
            if !keep {
                freed += q.mem;
            }
            keep
        });
        self.mem -= freed;
        self.stats.timeouts += (before - self.queues.len()) as u64;
    }

    /// Hands one IP packet (network layer, trailers allowed) seen at `now_ns` to the
    /// reassembler.
    pub fn push(&mut self, now_ns: i64, packet: &[u8]) -> Outcome {
        self.expire(now_ns);
        let Some(f) = fragment(packet) else {
            return Outcome::NotFragment;
        };
        self.stats.fragments += 1;
        let v6 = matches!(f.key, Key::V6 { .. });
        let limits = if v6 { self.v6 } else { self.v4 };
        if limits.high_thresh == 0 || self.mem > limits.high_thresh {
            self.stats.memory += 1;
            return Outcome::Dropped(DropReason::Memory);
        }
        let rid = match f.key {
            Key::V4 { src, .. } if limits.max_dist > 0 => {
                let r = self.peers.entry(src).or_insert(0);
                *r = r.wrapping_add(1);
                Some(*r)
            }
            _ => None,
        };
        let q = self.queues.entry(f.key).or_insert_with(|| Queue {
            deadline: now_ns.saturating_add(limits.timeout_ns),
            ..Queue::default()
        });
        if let Some(end_rid) = rid {
            let start = std::mem::replace(&mut q.rid, end_rid);
            if !q.runs.is_empty() && end_rid.wrapping_sub(start) > limits.max_dist {
                // `ip_frag_reinit`: forget the fragments, restart the timer.
                self.mem -= q.mem;
                *q = Queue {
                    deadline: now_ns.saturating_add(limits.timeout_ns),
                    rid: end_rid,
                    ..Queue::default()
                };
                self.stats.too_far += 1;
            }
        }
        let result = queue_fragment(q, &f, v6);
        match result {
            Step::Keep(kept_mem) => {
                self.mem += kept_mem;
                if q.first_in && q.last_in && q.meat == q.len {
                    let q = self.queues.remove(&f.key).unwrap_or_default();
                    self.mem -= q.mem;
                    match reassemble(q, f.key) {
                        Ok(r) => {
                            self.stats.reassembled += 1;
                            Outcome::Complete(r)
                        }
                        Err(d) => self.count(d),
                    }
                } else {
                    Outcome::Queued
                }
            }
            Step::DropFragment(d) => self.count(d),
            Step::KillQueue(d) => {
                if let Some(q) = self.queues.remove(&f.key) {
                    self.mem -= q.mem;
                }
                self.count(d)
            }
            Step::KillQueueAndPass => {
                if let Some(q) = self.queues.remove(&f.key) {
                    self.mem -= q.mem;
                }
                self.stats.malformed += 1;
                Outcome::PassedMalformed
            }
        }
    }

    fn count(&mut self, d: DropReason) -> Outcome {
        let s = &mut self.stats;
        match d {
            DropReason::Duplicate => s.duplicates += 1,
            DropReason::Overlap => s.overlaps += 1,
            DropReason::BadLength => s.bad_length += 1,
            DropReason::Malformed => s.malformed += 1,
            DropReason::Ecn => s.ecn += 1,
            DropReason::Memory => s.memory += 1,
        }
        Outcome::Dropped(d)
    }
}

enum Step {
    /// Queued; this much memory added.
    Keep(usize),
    DropFragment(DropReason),
    KillQueue(DropReason),
    /// IPv6's `-EPROTO`: queue dropped, fragment accepted as it is.
    KillQueueAndPass,
}

/// Reads a fragment's facts, or `None` for anything that is not a well-formed fragment.
fn fragment(packet: &[u8]) -> Option<Fragment<'_>> {
    match packet.first()? >> 4 {
        4 => {
            let p = ipv4::Packet::new_checked(packet).ok()?;
            if !p.is_fragment() {
                return None;
            }
            let hl = p.header_len();
            let end = p.datagram().len();
            Some(Fragment {
                key: Key::V4 {
                    src: p.src_bytes(),
                    dst: p.dst_bytes(),
                    id: p.ident(),
                    proto: u8::from(p.protocol()),
                },
                offset: u32::from(p.frag_offset()),
                more: p.more_frags(),
                data: &packet[hl..end],
                header: &packet[..hl],
                nh_offset: 0,
                ecn: p.ecn(),
                df: p.dont_frag(),
                size: 0,
            })
        }
        6 => {
            let p = ipv6::Packet::new_checked(packet).ok()?;
            // The first fragment header found (the kernel's `find_prev_fhdr`).
            let mut prev_nh = 6;
            let mut frag = None;
            for h in p.ext_headers() {
                let h = h.ok()?;
                if h.kind == IpProtocol::Ipv6Frag {
                    frag = Some(h);
                    break;
                }
                prev_nh = h.offset;
            }
            let h = frag?;
            let fh = ipv6::fragment_header(packet, &h)?;
            let data_start = h.offset + h.len;
            let end = p.datagram().len();
            Some(Fragment {
                key: Key::V6 {
                    src: p.src_bytes(),
                    dst: p.dst_bytes(),
                    id: fh.ident,
                },
                offset: u32::from(fh.offset),
                more: fh.more,
                data: &packet[data_start..end],
                header: &packet[..data_start],
                nh_offset: prev_nh,
                ecn: p.traffic_class() & 3,
                df: false,
                size: u32::from(p.payload_len()),
            })
        }
        _ => None,
    }
}

/// The kernel's `ip_frag_queue` / `nf_ct_frag6_queue` on one queue.
fn queue_fragment(q: &mut Queue, f: &Fragment<'_>, v6: bool) -> Step {
    let kill_or_drop = |d| {
        if v6 {
            Step::DropFragment(d)
        } else {
            Step::KillQueue(d)
        }
    };
    let offset = f.offset;
    let mut end = offset + f.data.len() as u32;
    if v6 && end > 65535 {
        return Step::DropFragment(DropReason::Malformed);
    }
    if !f.more {
        if end < q.len || (q.last_in && end != q.len) {
            return kill_or_drop(DropReason::BadLength);
        }
        q.last_in = true;
        q.len = end;
    } else {
        if end & 7 != 0 {
            if v6 {
                return Step::KillQueueAndPass;
            }
            end &= !7;
        }
        if end > q.len {
            if q.last_in {
                return kill_or_drop(DropReason::BadLength);
            }
            q.len = end;
        }
    }
    if end == offset {
        return kill_or_drop(DropReason::Malformed);
    }
    let data = &f.data[..(end - offset) as usize];

    // `inet_frag_queue_insert`.
    let frag = Frag {
        offset,
        data: data.to_vec(),
        header_len: f.header.len() as u16,
    };
    match q.runs.last_mut() {
        None => q.runs.push(Run {
            start: offset,
            end,
            frags: vec![frag],
        }),
        Some(tail) if tail.end < end => {
            if offset < tail.end {
                return Step::KillQueue(DropReason::Overlap);
            }
            if offset == tail.end {
                tail.end = end;
                tail.frags.push(frag);
            } else {
                q.runs.push(Run {
                    start: offset,
                    end,
                    frags: vec![frag],
                });
            }
        }
        Some(_) => {
            let hits: Vec<usize> = (0..q.runs.len())
                .filter(|&i| q.runs[i].start < end && offset < q.runs[i].end)
                .collect();
            match hits.as_slice() {
                [] => {
                    let at = q.runs.partition_point(|r| r.end <= offset);
                    q.runs.insert(
                        at,
                        Run {
                            start: offset,
                            end,
                            frags: vec![frag],
                        },
                    );
                }
                [i] if q.runs[*i].start <= offset && end <= q.runs[*i].end => {
                    return Step::DropFragment(DropReason::Duplicate);
                }
                _ => return Step::KillQueue(DropReason::Overlap),
            }
        }
    }

    q.meat += end - offset;
    q.ecn |= 1 << f.ecn;
    if offset == 0 {
        q.first_in = true;
        q.first_header = f.header.to_vec();
        q.nh_offset = f.nh_offset;
    }
    // IPv4 counts header + (trimmed) data, IPv6 the payload length.
    let size = if v6 {
        f.size
    } else {
        f.header.len() as u32 + (end - offset)
    };
    q.max_size = q.max_size.max(size);
    if f.df {
        q.max_df_size = q.max_df_size.max(size);
    }
    let mem = data.len() + f.header.len() + FRAG_OVERHEAD;
    q.mem += mem;
    Step::Keep(mem)
}

/// `ip_frag_ecn_table`: the ECN bits to OR into the result, or `None` to drop.
fn ecn_merge(seen: u8) -> Option<u8> {
    const NOT_ECT: u8 = 1;
    const CE: u8 = 1 << 3;
    if seen & NOT_ECT != 0 && seen != NOT_ECT {
        None
    } else if seen & CE != 0 && seen != CE {
        Some(3)
    } else {
        Some(0)
    }
}

fn reassemble(q: Queue, key: Key) -> Result<Reassembled, DropReason> {
    let ecn = ecn_merge(q.ecn).ok_or(DropReason::Ecn)?;
    let mut pieces = Vec::new();
    let mut data = Vec::with_capacity(q.len as usize);
    for run in &q.runs {
        for f in &run.frags {
            pieces.push(Piece {
                offset: f.offset,
                len: f.data.len() as u32,
                header_len: f.header_len,
            });
            data.extend_from_slice(&f.data);
        }
    }
    let mut packet = q.first_header;
    match key {
        Key::V4 { id, .. } => {
            let total = packet.len() + data.len();
            if total > 65535 {
                return Err(DropReason::Malformed);
            }
            packet.extend_from_slice(&data);
            let mut p = ipv4::Packet::new_unchecked(&mut packet[..]);
            p.set_total_len(total as u16);
            let tos = p.tos() | ecn;
            p.set_tos(tos);
            let df = q.max_df_size == q.max_size;
            p.set_flags_offset(false, df, false, 0);
            p.fill_checksum();
            Ok(Reassembled {
                packet,
                pieces,
                max_frag_size: q.max_size,
                ident: u32::from(id),
            })
        }
        Key::V6 { id, .. } => {
            // Remove the fragment header: its next header moves into the byte that named it.
            let fh = packet.len() - 8;
            let next = packet[fh];
            packet[q.nh_offset] = next;
            packet.truncate(fh);
            let payload = packet.len() - ipv6::HEADER_LEN + data.len();
            if payload > 65535 {
                return Err(DropReason::Malformed);
            }
            packet.extend_from_slice(&data);
            be::set_u16(&mut packet, 4, payload as u16);
            let mut p = ipv6::Packet::new_unchecked(&mut packet[..]);
            let tc = p.traffic_class() | ecn;
            p.set_traffic_class(tc);
            Ok(Reassembled {
                packet,
                pieces,
                max_frag_size: ipv6::HEADER_LEN as u32 + q.max_size,
                ident: id,
            })
        }
    }
}

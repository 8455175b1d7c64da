//! The connection table and `nf_conntrack_in`.
//!
//! Connections live in a map by id; an index maps each tuple of a confirmed connection to
//! it and the direction that tuple stands for. A new connection is unconfirmed (not in the
//! index) until [`Table::confirm`]. A killed or expired connection leaves the index at once;
//! its `Conn` stays readable until the next packet, since the packet that killed it still
//! carries it through the hooks (the kernel's skb holds a reference).

use std::collections::HashMap;
use std::net::IpAddr;

use super::nat::{self, NatError, NatRange, Taken};
use super::proto;
use super::sctp::{self, SctpTrack};
use super::tcp::{self, Segment, TcpState, TcpTrack};
use super::tuple::{self, Tuple, GRE, ICMP, ICMPV6, SCTP, TCP, UDP, UDPLITE};
use super::{Config, ConnId, CtHook, CtState, Dir, Lookup, Status};
use crate::wire::ip::{self, IpInfo, L4Info};
use crate::wire::rewrite::Manip;
use crate::wire::verify;

const NS: i64 = 1_000_000_000;

/// Protocol-specific state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProtoState {
    Tcp(TcpTrack),
    Sctp(SctpTrack),
    /// UDP/UDP-Lite: when the connection counts as a stream (`stream_ts`).
    Udp {
        stream_after_ns: i64,
    },
    Other,
}

/// One tracked connection (`struct nf_conn`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conn {
    pub original: Tuple,
    /// The current reply tuple (after NAT bindings).
    pub reply: Tuple,
    /// The connection mark (CONNMARK, `-m connmark`).
    pub mark: u32,
    pub status: Status,
    /// Packets and bytes (IP length) per direction (`Dir::index`), for `-m connbytes`.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// TCP's state, for traces and `conntrack -L`.
    pub tcp_state: Option<TcpState>,
    pub expires_ns: i64,
    proto: ProtoState,
}

impl Conn {
    /// The tuple of direction `dir`.
    pub fn tuple(&self, dir: Dir) -> &Tuple {
        match dir {
            Dir::Original => &self.original,
            Dir::Reply => &self.reply,
        }
    }

    /// The protocol state `conntrack -L` prints (TCP and SCTP), if any.
    pub fn state_name(&self) -> Option<&'static str> {
        match &self.proto {
            ProtoState::Tcp(t) => Some(t.state.name()),
            ProtoState::Sctp(s) => Some(s.state.name()),
            _ => None,
        }
    }

    pub fn is_confirmed(&self) -> bool {
        self.status.has(Status::CONFIRMED)
    }

    /// Whether the connection is alive at `now_ns` (`!nf_ct_is_expired`).
    pub fn alive(&self, now_ns: i64) -> bool {
        !self.status.has(Status::DYING) && self.expires_ns > now_ns
    }

    fn refresh(&mut self, now_ns: i64, secs: u32) {
        self.expires_ns = now_ns + i64::from(secs) * NS;
    }

    fn account(&mut self, dir: Dir, len: u32) {
        self.packets[dir.index()] += 1;
        self.bytes[dir.index()] += u64::from(len);
    }
}

/// The connection table.
#[derive(Clone, Debug)]
pub struct Table {
    config: Config,
    conns: HashMap<u32, Conn>,
    index: HashMap<Tuple, (u32, Dir)>,
    /// Connections with a source manip set up, by original (protocol, source, source port):
    /// the kernel's `nat_bysource` hash that `find_appropriate_src` walks, newest first.
    bysource: HashMap<(u8, IpAddr, u16), Vec<u32>>,
    next_id: u32,
    /// Killed connections still readable until the next packet.
    dead: Vec<u32>,
    /// The latest packet's time, for NAT's "tuple in use" checks.
    now_ns: i64,
    /// Packets since the last sweep of expired connections.
    since_sweep: usize,
}

/// Where the packet's tuple led.
enum Found {
    Existing(u32, Dir),
    None,
}

impl Table {
    pub fn new(config: Config) -> Table {
        Table {
            config,
            conns: HashMap::new(),
            index: HashMap::new(),
            bysource: HashMap::new(),
            next_id: 1,
            dead: Vec::new(),
            now_ns: i64::MIN,
            since_sweep: 0,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `nf_conntrack_in` at PREROUTING (checksums verified when `config.checksum`).
    pub fn packet_in(&mut self, now_ns: i64, bytes: &[u8], info: &IpInfo) -> Lookup {
        self.packet_in_at(CtHook::Prerouting, now_ns, bytes, info)
    }

    /// `nf_conntrack_in` at `hook`: PREROUTING for packets from the wire, OUTPUT for
    /// locally generated ones (no checksum check there).
    pub fn packet_in_at(
        &mut self,
        hook: CtHook,
        now_ns: i64,
        bytes: &[u8],
        info: &IpInfo,
    ) -> Lookup {
        self.now_ns = now_ns;
        self.purge_dead();
        // Sweep expired connections once per table-size packets: amortised O(1), and
        // memory stays proportional to live connections (the kernel's gc worker).
        self.since_sweep += 1;
        if self.since_sweep > self.conns.len().max(1024) {
            self.since_sweep = 0;
            self.expire(now_ns);
        }
        let checksum = self.config.checksum && hook == CtHook::Prerouting;
        let t = match tuple::of_packet(info) {
            Ok(t) => t,
            Err(reason) => return Lookup::Invalid { reason },
        };
        if t.protocol == ICMP || t.protocol == ICMPV6 {
            if let Some(answer) = self.icmp_error(bytes, info, &t, checksum) {
                return answer;
            }
        }
        if let Some(reason) = self.l4_error(bytes, info, &t, checksum) {
            return Lookup::Invalid { reason };
        }
        // A SYN reopening a closed connection kills it and looks up again.
        for _ in 0..2 {
            match self.resolve(now_ns, bytes, info, &t) {
                Step::Done(l) => return l,
                Step::Repeat => continue,
            }
        }
        Lookup::Invalid {
            reason: "connection reopened twice",
        }
    }

    /// Checks the trackers' `*_error` functions make before any lookup.
    fn l4_error(
        &self,
        bytes: &[u8],
        info: &IpInfo,
        t: &Tuple,
        checksum: bool,
    ) -> Option<&'static str> {
        match t.protocol {
            TCP => {
                let L4Info::Tcp { flags, .. } = info.l4 else {
                    return Some("truncated TCP header");
                };
                if checksum && l4_checksum_bad(bytes) {
                    return Some("bad TCP checksum");
                }
                if !tcp::flags_valid(flags) {
                    return Some("invalid TCP flag combination");
                }
                None
            }
            SCTP => {
                if checksum && l4_checksum_bad(bytes) {
                    return Some("bad SCTP checksum");
                }
                None
            }
            UDP | UDPLITE => {
                // udp_error: a zero checksum means "none" and is accepted, over IPv6 too
                // (measured); UDP-Lite requires one (udplite_error).
                let at = usize::from(info.l4_offset) + 6;
                let zero = bytes.get(at..at + 2).is_some_and(|c| c == [0, 0]);
                if zero {
                    return (t.protocol == UDPLITE).then_some("UDP-Lite checksum missing");
                }
                if checksum && l4_checksum_bad(bytes) {
                    return Some("bad UDP checksum");
                }
                None
            }
            _ => None,
        }
    }

    /// `nf_conntrack_icmpv4_error` / `nf_conntrack_icmpv6_error`: checksum, type checks,
    /// and for an error message the RELATED lookup of the quoted flow. `None`: not an
    /// error, go on as usual.
    fn icmp_error(&self, bytes: &[u8], info: &IpInfo, t: &Tuple, checksum: bool) -> Option<Lookup> {
        let L4Info::Icmp { msg_type, .. } = info.l4 else {
            return Some(Lookup::Invalid {
                reason: "short ICMP header",
            });
        };
        if checksum && l4_checksum_bad(bytes) {
            return Some(Lookup::Invalid {
                reason: "bad ICMP checksum",
            });
        }
        let is_error = if t.protocol == ICMP {
            if msg_type > 18 {
                return Some(Lookup::Invalid {
                    reason: "invalid ICMP type",
                });
            }
            proto::icmp_is_error(msg_type)
        } else {
            if proto::icmpv6_untracked(msg_type) {
                return Some(Lookup::Untracked);
            }
            msg_type < 128
        };
        if !is_error {
            return None;
        }
        let invalid = |reason| Some(Lookup::Invalid { reason });
        let Some((_, Ok(inner))) = ip::parse_embedded(bytes, info) else {
            return invalid("ICMP error quoting no readable packet");
        };
        let Ok(quoted) = tuple::of_packet(&inner) else {
            return invalid("ICMP error quoting a packet without a readable tuple");
        };
        let Some(wanted) = quoted.try_invert() else {
            return invalid("ICMP error quoting a packet without a reply");
        };
        let Some(&(id, dir)) = self.index.get(&wanted) else {
            return invalid("ICMP error quoting an unknown connection");
        };
        let Some(conn) = self.conns.get(&id) else {
            return invalid("ICMP error quoting an unknown connection");
        };
        if !conn.alive(self.now_ns) {
            return invalid("ICMP error quoting an expired connection");
        }
        // The error must go to where the quoted packet came from (the kernel's
        // "outer daddr != inner" check).
        if conn.tuple(dir).dst != info.dst {
            return invalid("ICMP error sent elsewhere than the quoted packet's source");
        }
        Some(Lookup::Tracked {
            id: ConnId(id),
            dir,
            state: CtState::Related,
        })
    }

    /// `resolve_normal_ct` and `nf_conntrack_handle_packet`.
    fn resolve(&mut self, now_ns: i64, bytes: &[u8], info: &IpInfo, t: &Tuple) -> Step {
        match self.find(t, now_ns) {
            Found::Existing(id, dir) => self.existing(id, dir, now_ns, bytes, info),
            Found::None => Step::Done(self.create(now_ns, bytes, info, t)),
        }
    }

    /// The live, confirmed connection that has `t` as one of its tuples (what
    /// nf_conncount's `find_or_evict` looks up).
    pub fn find_confirmed(&self, t: &Tuple, now_ns: i64) -> Option<&Conn> {
        let &(id, _) = self.index.get(t)?;
        self.conns
            .get(&id)
            .filter(|c| c.alive(now_ns) && c.is_confirmed())
    }

    fn find(&mut self, t: &Tuple, now_ns: i64) -> Found {
        let Some(&(id, dir)) = self.index.get(t) else {
            return Found::None;
        };
        let alive = self.conns.get(&id).is_some_and(|c| c.alive(now_ns));
        if alive {
            Found::Existing(id, dir)
        } else {
            self.remove(id);
            Found::None
        }
    }

    /// A packet of a known, confirmed connection.
    fn existing(&mut self, id: u32, dir: Dir, now_ns: i64, bytes: &[u8], info: &IpInfo) -> Step {
        let config = self.config;
        let len = info.total_len;
        let Some(conn) = self.conns.get_mut(&id) else {
            return Step::Done(Lookup::Invalid {
                reason: "connection vanished",
            });
        };
        let state = if dir == Dir::Reply || conn.status.has(Status::SEEN_REPLY) {
            CtState::Established
        } else if conn.status.has(Status::EXPECTED) {
            CtState::Related
        } else {
            CtState::New
        };
        let tracked = Lookup::Tracked {
            id: ConnId(id),
            dir,
            state,
        };
        let mut kill = false;
        match &mut conn.proto {
            ProtoState::Tcp(track) => {
                let seg = segment(bytes, info);
                match track.packet(&seg, dir, conn.status, &config) {
                    tcp::Verdict::Invalid { reason, shorten } => {
                        let left = conn.expires_ns - now_ns;
                        let unack = i64::from(tcp::TIMEOUT_UNACK) * NS;
                        if shorten && left >= 120 * NS && left > unack {
                            conn.expires_ns = now_ns + unack;
                        }
                        return Step::Done(Lookup::Invalid { reason });
                    }
                    tcp::Verdict::Reopen => {
                        self.remove(id);
                        return Step::Repeat;
                    }
                    tcp::Verdict::Ignore => {}
                    tcp::Verdict::Accept {
                        timeout,
                        kill: k,
                        assured,
                    } => {
                        conn.tcp_state = Some(track.state);
                        if assured {
                            conn.status.set(Status::ASSURED);
                        }
                        if k {
                            conn.account(dir, len);
                            kill = true;
                        } else if let Some(secs) = timeout {
                            conn.refresh(now_ns, secs);
                            conn.account(dir, len);
                        }
                    }
                }
            }
            ProtoState::Sctp(track) => {
                match track.packet(l4_bytes(bytes, info), dir, &mut conn.status) {
                    sctp::Verdict::Invalid(reason) => {
                        return Step::Done(Lookup::Invalid { reason })
                    }
                    sctp::Verdict::Ignore => {}
                    sctp::Verdict::Accept { timeout } => {
                        conn.refresh(now_ns, timeout);
                        conn.account(dir, len);
                    }
                }
            }
            ProtoState::Udp { stream_after_ns } => {
                let stream_after_ns = *stream_after_ns;
                if conn.status.has(Status::SEEN_REPLY) {
                    if now_ns > stream_after_ns {
                        conn.refresh(now_ns, proto::UDP_REPLIED);
                        conn.status.set(Status::ASSURED);
                    } else {
                        conn.refresh(now_ns, proto::UDP_UNREPLIED);
                    }
                } else {
                    conn.refresh(now_ns, proto::UDP_UNREPLIED);
                }
                conn.account(dir, len);
            }
            ProtoState::Other => {
                let secs = match conn.original.protocol {
                    ICMP | ICMPV6 => proto::ICMP_TIMEOUT,
                    GRE if conn.status.has(Status::SEEN_REPLY) => {
                        conn.status.set(Status::ASSURED);
                        proto::GRE_STREAM
                    }
                    GRE => proto::GRE_UNREPLIED,
                    _ => proto::GENERIC_TIMEOUT,
                };
                conn.refresh(now_ns, secs);
                conn.account(dir, len);
            }
        }
        if dir == Dir::Reply {
            conn.status.set(Status::SEEN_REPLY);
        }
        if kill {
            self.kill(id);
        }
        Step::Done(tracked)
    }

    /// `init_conntrack` and the tracker's first-packet checks: a new, unconfirmed entry.
    fn create(&mut self, now_ns: i64, bytes: &[u8], info: &IpInfo, t: &Tuple) -> Lookup {
        let Some(reply) = t.try_invert() else {
            return Lookup::Invalid {
                reason: "packet type cannot start a connection",
            };
        };
        let (proto_state, tcp_state, secs) = match t.protocol {
            TCP => {
                let seg = segment(bytes, info);
                let mut track = match TcpTrack::new(&seg, &self.config) {
                    Ok(track) => track,
                    Err(reason) => return Lookup::Invalid { reason },
                };
                match track.packet(&seg, Dir::Original, Status::default(), &self.config) {
                    tcp::Verdict::Accept {
                        timeout: Some(secs),
                        kill: false,
                        ..
                    } => (ProtoState::Tcp(track), Some(track.state), secs),
                    tcp::Verdict::Invalid { reason, .. } => return Lookup::Invalid { reason },
                    _ => {
                        return Lookup::Invalid {
                            reason: "TCP segment cannot start a connection",
                        }
                    }
                }
            }
            SCTP => {
                let l4 = l4_bytes(bytes, info);
                let mut track = match SctpTrack::new(l4) {
                    Ok(track) => track,
                    Err(reason) => return Lookup::Invalid { reason },
                };
                let mut status = Status::default();
                match track.packet(l4, Dir::Original, &mut status) {
                    sctp::Verdict::Accept { timeout } => (ProtoState::Sctp(track), None, timeout),
                    sctp::Verdict::Invalid(reason) => return Lookup::Invalid { reason },
                    sctp::Verdict::Ignore => {
                        return Lookup::Invalid {
                            reason: "SCTP packet cannot start an association",
                        }
                    }
                }
            }
            UDP | UDPLITE => (
                ProtoState::Udp {
                    stream_after_ns: now_ns + proto::UDP_STREAM_AFTER_NS,
                },
                None,
                proto::UDP_UNREPLIED,
            ),
            ICMP | ICMPV6 => {
                let ty = t.icmp_type();
                let ok = if t.protocol == ICMP {
                    proto::icmp_valid_new(ty)
                } else {
                    proto::icmpv6_valid_new(ty)
                };
                if !ok {
                    return Lookup::Invalid {
                        reason: "ICMP type cannot start a connection",
                    };
                }
                (ProtoState::Other, None, proto::ICMP_TIMEOUT)
            }
            GRE => (ProtoState::Other, None, proto::GRE_UNREPLIED),
            _ => (ProtoState::Other, None, proto::GENERIC_TIMEOUT),
        };
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let mut conn = Conn {
            original: *t,
            reply,
            mark: 0,
            status: Status::default(),
            packets: [0; 2],
            bytes: [0; 2],
            tcp_state,
            expires_ns: 0,
            proto: proto_state,
        };
        conn.refresh(now_ns, secs);
        conn.account(Dir::Original, info.total_len);
        self.conns.insert(id, conn);
        Lookup::Tracked {
            id: ConnId(id),
            dir: Dir::Original,
            state: CtState::New,
        }
    }

    /// `__nf_conntrack_confirm`: the connection enters the table. A connection whose
    /// tuples clash with a live one is dropped instead (the kernel drops the packet).
    pub fn confirm(&mut self, id: ConnId) {
        let now = self.now_ns;
        let Some(conn) = self.conns.get(&id.0) else {
            return;
        };
        if conn.is_confirmed() || conn.status.has(Status::DYING) {
            return;
        }
        let (o, r) = (conn.original, conn.reply);
        for t in [o, r] {
            if let Some(&(other, _)) = self.index.get(&t) {
                if self.conns.get(&other).is_some_and(|c| c.alive(now)) {
                    self.remove(id.0);
                    return;
                }
                self.remove(other);
            }
        }
        if let Some(conn) = self.conns.get_mut(&id.0) {
            conn.status.set(Status::CONFIRMED);
        }
        self.index.insert(o, (id.0, Dir::Original));
        self.index.insert(r, (id.0, Dir::Reply));
    }

    /// The first packet did not survive: forget the unconfirmed entry.
    pub fn drop_unconfirmed(&mut self, id: ConnId) {
        if self.conns.get(&id.0).is_some_and(|c| !c.is_confirmed()) {
            self.remove(id.0);
        }
    }

    /// `nf_ct_set_closing` (nf_send_reset, after REJECT's reset): a confirmed TCP
    /// connection goes to CLOSE, with CLOSE's timeout unless it was there already.
    pub fn set_closing(&mut self, id: ConnId, now_ns: i64) {
        let Some(conn) = self.conns.get_mut(&id.0) else {
            return;
        };
        if !conn.is_confirmed() {
            return;
        }
        if let ProtoState::Tcp(track) = &mut conn.proto {
            let old = track.state;
            track.state = TcpState::Close;
            conn.tcp_state = Some(TcpState::Close);
            if old != TcpState::Close {
                conn.refresh(now_ns, TcpState::Close.timeout_secs());
            }
        }
    }

    /// The connection `id`. Panics when there is none: ids come from [`Table::packet_in`]
    /// and stay valid until the connection is dropped, expires or is killed and a later
    /// packet arrives.
    pub fn conn(&self, id: ConnId) -> &Conn {
        &self.conns[&id.0]
    }

    pub fn conn_mut(&mut self, id: ConnId) -> &mut Conn {
        self.conns.get_mut(&id.0).expect("a live connection id")
    }

    /// The connection `id` to change, if it is still held.
    pub fn get_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.conns.get_mut(&id.0)
    }

    /// The connection `id`, if it is still held.
    pub fn get(&self, id: ConnId) -> Option<&Conn> {
        self.conns.get(&id.0)
    }

    /// `nf_nat_setup_info` (see the module notes of `nat`). `range = None` is the null
    /// binding (`nf_nat_alloc_null_binding`).
    pub fn setup_nat(
        &mut self,
        id: ConnId,
        manip: Manip,
        range: Option<&NatRange>,
    ) -> Result<(), NatError> {
        let Some(conn) = self.conns.get(&id.0) else {
            return Err(NatError(format!("no connection {}", id.0)));
        };
        if conn.is_confirmed() {
            return Err(NatError("NAT set up on a confirmed connection".into()));
        }
        if self.nat_done(id, manip) {
            return Err(NatError(format!("{manip:?} NAT already set up")));
        }
        // The tuple as the connection looks now, after earlier manips.
        let current = conn.reply.invert();
        let null;
        let range = match range {
            Some(r) => r,
            None => {
                let keep = if manip == Manip::Src {
                    conn.reply.dst
                } else {
                    conn.reply.src
                };
                null = NatRange::single(keep);
                &null
            }
        };
        if range.min_addr.is_ipv4() != current.src.is_ipv4()
            || range.max_addr.is_ipv4() != current.src.is_ipv4()
        {
            return Err(NatError("NAT range of the other address family".into()));
        }
        let chosen = nat::unique_tuple(
            &current,
            range,
            manip,
            &Usage {
                table: self,
                id: id.0,
            },
            self.config.seed,
        );
        let conn = self.conns.get_mut(&id.0).expect("checked above");
        if chosen != current {
            conn.reply = chosen.invert();
            conn.status.set(if manip == Manip::Src {
                Status::SRC_NAT
            } else {
                Status::DST_NAT
            });
        }
        conn.status.set(if manip == Manip::Src {
            Status::SRC_NAT_DONE
        } else {
            Status::DST_NAT_DONE
        });
        if manip == Manip::Src {
            let o = conn.original;
            self.bysource
                .entry((o.protocol, o.src, o.src_port))
                .or_default()
                .push(id.0);
        }
        Ok(())
    }

    /// `nf_nat_initialized`.
    pub fn nat_done(&self, id: ConnId, manip: Manip) -> bool {
        let bit = if manip == Manip::Src {
            Status::SRC_NAT_DONE
        } else {
            Status::DST_NAT_DONE
        };
        self.conns.get(&id.0).is_some_and(|c| c.status.has(bit))
    }

    /// `nf_nat_packet`: the address and port (or ICMP id) to write into the `manip` end of
    /// a packet travelling in `dir`, or `None` when that end is not translated.
    pub fn nat_rewrite(&self, id: ConnId, dir: Dir, manip: Manip) -> Option<(IpAddr, Option<u16>)> {
        let conn = self.conns.get(&id.0)?;
        // The reply direction undoes the other manip.
        let bit = match (manip, dir) {
            (Manip::Src, Dir::Original) | (Manip::Dst, Dir::Reply) => Status::SRC_NAT,
            (Manip::Dst, Dir::Original) | (Manip::Src, Dir::Reply) => Status::DST_NAT,
        };
        if !conn.status.has(bit) {
            return None;
        }
        let target = conn.tuple(dir.opposite()).invert();
        let (addr, port) = match manip {
            Manip::Src => (target.src, target.src_port),
            Manip::Dst => (target.dst, target.dst_port),
        };
        let port = match target.protocol {
            ICMP | ICMPV6 => Some(target.src_port),
            p if tuple::has_ports(p) => Some(port),
            _ => None,
        };
        Some((addr, port))
    }

    /// `nf_nat_icmp_reply_translation` for an ICMP error RELATED to `id`, travelling in
    /// `dir`, at a hook doing `manip`: the address and port (or ICMP id) to write into the
    /// `manip.invert()` end of the *quoted* datagram (`wire::rewrite::nat_embedded`), or
    /// `None` when nothing changes. The outer header takes the address of
    /// [`Table::nat_rewrite`]`(id, dir, manip)` and no port (it is ICMP).
    pub fn nat_rewrite_embedded(
        &self,
        id: ConnId,
        dir: Dir,
        manip: Manip,
    ) -> Option<(IpAddr, Option<u16>)> {
        self.nat_rewrite(id, dir, manip)?;
        let conn = self.conns.get(&id.0)?;
        // The quoted packet travelled the other way: it gets the other direction's tuple.
        let inner = conn.tuple(dir.opposite());
        let (addr, port) = match manip.invert() {
            Manip::Src => (inner.src, inner.src_port),
            Manip::Dst => (inner.dst, inner.dst_port),
        };
        let port = match inner.protocol {
            ICMP | ICMPV6 => Some(inner.src_port),
            p if tuple::has_ports(p) => Some(port),
            _ => None,
        };
        Some((addr, port))
    }

    /// `conntrack -L`: confirmed live connections at `now_ns`, sorted.
    pub fn list(&self, now_ns: i64) -> Vec<String> {
        let mut lines: Vec<String> = self
            .conns
            .values()
            .filter(|c| c.is_confirmed() && c.alive(now_ns))
            .map(|c| list_line(c, now_ns))
            .collect();
        lines.sort();
        lines
    }

    /// Confirmed connections held (expired ones are removed lazily: see [`Table::expire`]).
    pub fn len(&self) -> usize {
        self.conns
            .values()
            .filter(|c| c.is_confirmed() && !c.status.has(Status::DYING))
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every connection expired at `now_ns` (the kernel's garbage collector).
    pub fn expire(&mut self, now_ns: i64) {
        let gone: Vec<u32> = self
            .conns
            .iter()
            .filter(|(_, c)| c.is_confirmed() && !c.alive(now_ns))
            .map(|(&id, _)| id)
            .collect();
        for id in gone {
            self.remove(id);
        }
    }

    /// `nf_ct_kill`: out of the index now, readable until the next packet.
    fn kill(&mut self, id: u32) {
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.status.set(Status::DYING);
            let (o, r) = (conn.original, conn.reply);
            self.unindex(id, &o);
            self.unindex(id, &r);
            self.dead.push(id);
        }
    }

    fn remove(&mut self, id: u32) {
        if let Some(conn) = self.conns.remove(&id) {
            self.unindex(id, &conn.original);
            self.unindex(id, &conn.reply);
            let o = conn.original;
            let key = (o.protocol, o.src, o.src_port);
            if let Some(ids) = self.bysource.get_mut(&key) {
                ids.retain(|&i| i != id);
                if ids.is_empty() {
                    self.bysource.remove(&key);
                }
            }
        }
    }

    fn unindex(&mut self, id: u32, t: &Tuple) {
        if self.index.get(t).is_some_and(|&(i, _)| i == id) {
            self.index.remove(t);
        }
    }

    fn purge_dead(&mut self) {
        for id in std::mem::take(&mut self.dead) {
            self.remove(id);
        }
    }
}

enum Step {
    Done(Lookup),
    Repeat,
}

/// The table as NAT's uniqueness checks see it.
struct Usage<'a> {
    table: &'a Table,
    id: u32,
}

impl Taken for Usage<'_> {
    fn used(&self, candidate: &Tuple) -> bool {
        let reply = candidate.invert();
        self.table.index.get(&reply).is_some_and(|&(other, _)| {
            other != self.id
                && self
                    .table
                    .conns
                    .get(&other)
                    .is_some_and(|c| c.alive(self.table.now_ns))
        })
    }

    fn existing_src_mapping(&self, original: &Tuple) -> Vec<(IpAddr, u16)> {
        let key = (original.protocol, original.src, original.src_port);
        let Some(ids) = self.table.bysource.get(&key) else {
            return Vec::new();
        };
        ids.iter()
            .rev()
            .filter(|&&id| id != self.id)
            .filter_map(|id| self.table.conns.get(id))
            .filter(|c| c.alive(self.table.now_ns))
            .map(|c| {
                let mapped = c.reply.invert();
                (mapped.src, mapped.src_port)
            })
            .collect()
    }
}

/// Whether the upper-layer checksum is present and wrong.
fn l4_checksum_bad(bytes: &[u8]) -> bool {
    verify::verify(bytes).is_ok_and(|c| c.l4 == Some(false))
}

/// The upper-layer bytes of the datagram (header and payload).
fn l4_bytes<'a>(bytes: &'a [u8], info: &IpInfo) -> &'a [u8] {
    let end = (info.total_len as usize).min(bytes.len());
    bytes.get(usize::from(info.l4_offset)..end).unwrap_or(&[])
}

/// The tracker's view of a TCP segment.
fn segment<'a>(bytes: &'a [u8], info: &IpInfo) -> Segment<'a> {
    let (seq, ack, flags, window, header_len) = match info.l4 {
        L4Info::Tcp {
            seq,
            ack,
            flags,
            window,
            header_len,
            ..
        } => (seq, ack, flags, window, header_len),
        _ => (0, 0, 0, 0, 20),
    };
    let start = usize::from(info.l4_offset) + 20;
    let end = usize::from(info.l4_offset) + usize::from(header_len);
    let options = bytes.get(start..end).unwrap_or(&[]);
    let payload_len = info
        .total_len
        .saturating_sub(u32::from(info.l4_offset))
        .saturating_sub(u32::from(header_len));
    Segment {
        seq,
        ack,
        flags,
        window,
        payload_len,
        options,
    }
}

/// One `conntrack -L` line.
fn list_line(c: &Conn, now_ns: i64) -> String {
    let secs = (c.expires_ns - now_ns).max(0) / NS;
    let p = c.original.protocol;
    let mut s = format!("{:<8} {} {} ", proto::name(p), p, secs);
    if let Some(state) = c.state_name() {
        s.push_str(state);
        s.push(' ');
    }
    s.push_str(&tuple_text(&c.original));
    if !c.status.has(Status::SEEN_REPLY) {
        s.push_str("[UNREPLIED] ");
    }
    s.push_str(&tuple_text(&c.reply));
    if c.status.has(Status::ASSURED) {
        s.push_str("[ASSURED] ");
    }
    s.push_str(&format!("mark={} use=1", c.mark));
    s
}

fn tuple_text(t: &Tuple) -> String {
    let mut s = format!("src={} dst={} ", t.src, t.dst);
    match t.protocol {
        ICMP | ICMPV6 => s.push_str(&format!(
            "type={} code={} id={} ",
            t.dst_port >> 8,
            t.dst_port & 0xff,
            t.src_port
        )),
        GRE => s.push_str("srckey=0x0 dstkey=0x0 "),
        p if tuple::has_ports(p) => {
            s.push_str(&format!("sport={} dport={} ", t.src_port, t.dst_port))
        }
        _ => {}
    }
    s
}

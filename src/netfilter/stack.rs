//! The host's network stack as netfilter sees it: one packet at a time through the hooks of
//! its path, with conntrack and NAT at the kernel's points, routing by the host model, and
//! the packets the host sends itself (REJECT answers, resets for closed ports, ICMP errors,
//! echo replies) sent through OUTPUT.
//!
//! What happens where (NETFILTER.md §1–§6, measured on Linux 6.18):
//! - arriving: raw PREROUTING, conntrack, mangle PREROUTING, nat PREROUTING (DNAT), routing;
//!   then INPUT (mangle, filter, nat and security in the variant's order) or FORWARD (TTL
//!   decremented first, as `ip_forward` does before the hook; mangle, filter, security)
//!   followed by POSTROUTING (mangle, nat SNAT); conntrack confirms a new entry at the end;
//! - locally generated (source is a local address): routing, raw OUTPUT, conntrack, mangle
//!   OUTPUT, nat OUTPUT, filter OUTPUT, security OUTPUT, POSTROUTING; to a local address it
//!   then loops back through `lo`;
//! - conntrack runs only when a rule needs it (a NAT target, a conntrack match, ...): the
//!   kernel loads it on demand. Without it the nat chains see no packet at all;
//! - the nat chains run only for the first packet of a connection; every packet of a
//!   translated connection is rewritten by its binding, replies un-NATed.
//!
//! Invariant: every packet handed to [`Stack::receive`] or [`Stack::send_local`] ends in
//! exactly one [`Outcome`].

use std::collections::HashMap;
use std::net::IpAddr;

use crate::conntrack::{self, ConnId, CtState, Dir, Lookup};
use crate::engine::ct::{CtConn, CtTuple, CtView};
use crate::engine::stateful::MatchState;
use crate::engine::{walk, Counts, DecidedBy, Effect, EvalPacket, LinkHeader, Verdict};
use crate::host::{Host, RouteDecision};
use crate::rules::ext::{CtStates, MatchExt, TargetExt};
use crate::rules::ipset::IpSets;
use crate::rules::{Backend, Hook, Rule, Ruleset, TableKind, Target};
use crate::wire::ip::{IpInfo, IpProtocol};
use crate::wire::rewrite::Manip;

use super::nat::nat_range;
pub use super::outcome::{
    Config, EmitKind, Emitted, Fault, Outcome, Processed, RuleRef, TraceStep,
};
use super::tracelog::{trace_lines, uses_trace};

/// Per-packet state carried from hook to hook (`struct sk_buff`'s relevant fields).
pub(super) struct Flight<'h> {
    pub(super) bytes: Vec<u8>,
    pub(super) info: IpInfo,
    pub(super) mark: u32,
    pub(super) link: Option<LinkHeader>,
    pub(super) in_iface: Option<&'h str>,
    pub(super) out_iface: Option<&'h str>,
    /// The conntrack entry and this packet's direction in it.
    pub(super) conn: Option<(ConnId, Dir)>,
    pub(super) ct: Option<CtView>,
    /// The first packet of a connection not confirmed yet.
    pub(super) unconfirmed: bool,
    pub(super) untracked: bool,
    /// Made by the host itself (REJECT, reset, ICMP): never NEW, never meets nat chains.
    pub(super) host_made: bool,
    /// POSTROUTING: the output interface and next hop (MASQUERADE's source choice).
    pub(super) route: Option<(u32, IpAddr)>,
    /// `skb->nf_trace`: a `-j TRACE` hit; every rule from then on writes a TRACE line.
    pub(super) nf_trace: bool,
    /// The fragments conntrack reassembled this datagram from: it leaves cut the same way.
    pub(super) frags: Option<Box<crate::wire::defrag::Reassembled>>,
}

impl Flight<'_> {
    /// Changes the bytes and re-reads the header summary.
    pub(super) fn rewrite<T>(
        &mut self,
        f: impl FnOnce(&mut Vec<u8>) -> crate::wire::Result<T>,
    ) -> crate::wire::Result<T> {
        let mut bytes = self.bytes.clone();
        let out = f(&mut bytes)?;
        self.info = crate::wire::ip::parse(&bytes)?;
        self.bytes = bytes;
        Ok(out)
    }
}

/// How a hook's chains ended for a packet.
pub(super) enum HookEnd {
    Accept,
    Stop(Outcome),
}

/// The emulated host: ruleset, host model, connection table, counters.
pub struct Stack<'r> {
    pub(super) ruleset: &'r Ruleset,
    pub(super) host: &'r Host,
    pub(super) config: Config,
    /// Counters per table present in the ruleset.
    pub(super) counts: HashMap<TableKind, Counts>,
    pub(super) conntrack: Option<conntrack::Table>,
    pub(super) state: MatchState,
    pub(super) defrag: crate::wire::defrag::Defrag,
    /// Link-layer addresses learned from frames read: source IP → MAC.
    pub(super) neighbours: HashMap<IpAddr, [u8; 6]>,
    /// Packets read so far (for per-packet randomness and traces).
    pub(super) index: u64,
    /// Packets the host made itself, by outcome category.
    pub(super) host_replies: HashMap<&'static str, u64>,
    pub(super) tracing: bool,
    /// Some rule uses `-j TRACE`: walks record their visits for TRACE lines.
    pub(super) has_trace_rules: bool,
}

impl<'r> Stack<'r> {
    pub fn new(ruleset: &'r Ruleset, host: &'r Host, ipsets: IpSets, config: Config) -> Stack<'r> {
        let counts = ruleset
            .tables
            .iter()
            .map(|t| (t.kind, Counts::new(t)))
            .collect();
        let conntrack = needs_conntrack(ruleset).then(|| {
            conntrack::Table::new(conntrack::Config {
                seed: config.seed,
                ..conntrack::Config::default()
            })
        });
        let mut state = MatchState::new(config.seed, ipsets);
        state.prepare(ruleset);
        Stack {
            ruleset,
            host,
            state,
            config,
            counts,
            conntrack,
            defrag: Default::default(),
            neighbours: HashMap::new(),
            index: 0,
            host_replies: HashMap::new(),
            tracing: false,
            has_trace_rules: uses_trace(ruleset),
        }
    }

    /// The ipsets as `-j SET` and element timeouts have left them.
    pub fn ipsets(&self) -> &IpSets {
        self.state.ipsets()
    }

    /// The counters of `table` (shaped by [`Counts::new`]), if the ruleset has it.
    pub fn counts(&self, table: TableKind) -> Option<&Counts> {
        self.counts.get(&table)
    }

    /// The ruleset with the replay's counters in place of the file's.
    pub fn counted_ruleset(&self) -> Ruleset {
        let mut rs = self.ruleset.clone();
        for table in &mut rs.tables {
            let Some(c) = self.counts.get(&table.kind) else {
                continue;
            };
            for (i, chain) in table.chains_mut().iter_mut().enumerate() {
                chain.counters = c.policy[i];
                for (j, rule) in chain.rules.iter_mut().enumerate() {
                    rule.counters = c.rules[i][j];
                }
            }
        }
        if let Some(Fault::MiscountRule { table, chain, rule }) = &self.config.fault {
            let r = rs
                .tables
                .iter_mut()
                .filter(|t| t.kind == *table)
                .flat_map(|t| t.chains_mut().iter_mut())
                .filter(|c| c.name == *chain)
                .find_map(|c| c.rules.get_mut(*rule));
            if let Some(r) = r {
                r.counters.packets += 1;
                r.counters.bytes += 100;
            }
        }
        rs
    }

    /// Records every step of the packets processed from now on in [`Processed::trace`].
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    /// Whether conntrack runs (some rule needs it).
    pub fn tracks_connections(&self) -> bool {
        self.conntrack.is_some()
    }

    /// `conntrack -L` lines at capture time `now_ns`.
    pub fn conntrack_list(&self, now_ns: i64) -> Vec<String> {
        self.conntrack
            .as_ref()
            .map_or_else(Vec::new, |t| t.list(now_ns))
    }

    /// Packets the host made itself, per outcome category.
    pub fn host_replies(&self) -> &HashMap<&'static str, u64> {
        &self.host_replies
    }

    /// A frame received on `iface` at capture time `now_ns`. `ip` starts at the IP header;
    /// `link` is its Ethernet header when it had one.
    pub fn receive(
        &mut self,
        now_ns: i64,
        iface: &str,
        link: Option<LinkHeader>,
        ip: &[u8],
    ) -> Processed {
        self.index += 1;
        let mut out = Processed::new();
        out.outcome = self.receive_inner(now_ns, iface, link, ip, &mut out);
        out
    }

    /// A packet a local process sent (its source is an address of this host).
    pub fn send_local(&mut self, now_ns: i64, ip: &[u8]) -> Processed {
        self.index += 1;
        let mut out = Processed::new();
        out.outcome = match crate::wire::ip::parse(ip) {
            Ok(info) => {
                let f = self.flight(ip, info, None, None);
                self.output(now_ns, f, &mut out)
            }
            Err(e) => Outcome::InvalidHeader(e.to_string()),
        };
        out
    }

    pub(super) fn flight<'h>(
        &self,
        ip: &[u8],
        info: IpInfo,
        link: Option<LinkHeader>,
        in_iface: Option<&'h str>,
    ) -> Flight<'h> {
        let len = (info.total_len as usize).min(ip.len());
        Flight {
            bytes: ip[..len].to_vec(),
            info,
            mark: 0,
            link,
            in_iface,
            out_iface: None,
            conn: None,
            ct: None,
            unconfirmed: false,
            untracked: false,
            host_made: false,
            route: None,
            nf_trace: false,
            frags: None,
        }
    }

    fn receive_inner(
        &mut self,
        now_ns: i64,
        iface: &str,
        link: Option<LinkHeader>,
        ip: &[u8],
        out: &mut Processed,
    ) -> Outcome {
        let host = self.host;
        let Some(dev) = host.interface(iface) else {
            return Outcome::NoRoute(format!("no interface `{iface}' in the host model"));
        };
        // ip_rcv: frames for another host's MAC are dropped before IP.
        if let (Some(l), Some(mac)) = (link, dev.mac) {
            if l.dst[0] & 1 == 0 && l.dst != mac {
                return Outcome::OtherHost;
            }
        }
        let info = match ip_rcv_checks(ip) {
            Ok(info) => info,
            Err(why) => return Outcome::InvalidHeader(why),
        };
        if let Some(l) = link {
            self.neighbours.insert(info.src, l.src);
        }
        let mut f = self.flight(ip, info, link, Some(dev.name.as_str()));
        // Conntrack reassembles before raw PREROUTING (nf_defrag_ipv4/ipv6).
        if self.conntrack.is_some() && info.frag.is_some() {
            use crate::wire::defrag::Outcome as D;
            match self.defrag.push(now_ns, &f.bytes) {
                D::NotFragment | D::PassedMalformed => {}
                D::Queued => return Outcome::FragmentHeld,
                D::Dropped(why) => return Outcome::FragmentDropped(format!("{why:?}")),
                D::Complete(whole) => {
                    let Ok(info) = crate::wire::ip::parse(&whole.packet) else {
                        return Outcome::FragmentDropped("reassembled datagram unreadable".into());
                    };
                    f.bytes = whole.packet.clone();
                    f.info = info;
                    f.frags = Some(Box::new(whole));
                }
            }
        }
        if let HookEnd::Stop(o) = self.prerouting(now_ns, &mut f, out) {
            return o;
        }
        // The routing decision, after DNAT and with the mark mangle set.
        let route = host.route_input(f.info.dst, f.info.src, dev.index, f.mark);
        let route = match route {
            Ok(r) => r,
            Err(e) => {
                if let Some(code) = e.icmp_unreachable_code(host.forwarding(dev)) {
                    self.host_icmp_error(now_ns, &f, 3, code, out);
                }
                self.forget(&f);
                return Outcome::NoRoute(format!("{} ({:?})", e.errno.message(), e.reason));
            }
        };
        if self.tracing {
            let what = if route.is_local_delivery() {
                "deliver locally".to_string()
            } else {
                let dev = host
                    .interface_by_index(route.dev)
                    .map_or("?", |d| d.name.as_str());
                format!("forward out of {dev} via {}", route.next_hop(f.info.dst))
            };
            out.trace.push(TraceStep::Note(format!("routing: {what}")));
        }
        if route.is_local_delivery() {
            self.input(now_ns, f, out)
        } else {
            self.forward(now_ns, f, &route, out)
        }
    }

    /// raw, conntrack, mangle and nat PREROUTING.
    fn prerouting(&mut self, now_ns: i64, f: &mut Flight<'r>, out: &mut Processed) -> HookEnd {
        // A looped-back packet still carries the connection OUTPUT gave it (loopback_xmit
        // keeps skb->_nfct) and nf_conntrack_in leaves a packet that has one alone: no new
        // lookup (which would miss after OUTPUT NAT), no second accounting.
        let carried = f.conn.is_some();
        if carried {
            self.refresh_view(now_ns, f);
        } else {
            self.enter_hook_untracked(f);
        }
        if let HookEnd::Stop(o) = self.chain(now_ns, TableKind::Raw, Hook::Prerouting, f, out) {
            return HookEnd::Stop(o);
        }
        if !carried {
            self.conntrack_in(now_ns, f, out);
        }
        if let HookEnd::Stop(o) = self.chain(now_ns, TableKind::Mangle, Hook::Prerouting, f, out) {
            return HookEnd::Stop(o);
        }
        self.nat_hook(now_ns, Hook::Prerouting, Manip::Dst, f, out)
    }

    fn input(&mut self, now_ns: i64, mut f: Flight<'r>, out: &mut Processed) -> Outcome {
        use TableKind::*;
        let order: [(TableKind, Hook); 4] = match self.config.backend {
            Backend::Nft => [
                (Mangle, Hook::Input),
                (Filter, Hook::Input),
                (Nat, Hook::Input),
                (Security, Hook::Input),
            ],
            Backend::Legacy => [
                (Mangle, Hook::Input),
                (Filter, Hook::Input),
                (Security, Hook::Input),
                (Nat, Hook::Input),
            ],
        };
        for (table, hook) in order {
            let end = if table == Nat {
                self.nat_hook(now_ns, hook, Manip::Src, &mut f, out)
            } else {
                self.chain(now_ns, table, hook, &mut f, out)
            };
            if let HookEnd::Stop(o) = end {
                return o;
            }
        }
        self.confirm(&mut f);
        if self.config.local_replies && !f.host_made {
            self.local_stack_reply(now_ns, &f, out);
        }
        out.final_bytes = Some(f.bytes);
        Outcome::Delivered
    }

    fn forward(
        &mut self,
        now_ns: i64,
        mut f: Flight<'r>,
        route: &RouteDecision,
        out: &mut Processed,
    ) -> Outcome {
        let host = self.host;
        let Some(odev) = host.interface_by_index(route.dev) else {
            self.forget(&f);
            return Outcome::NoRoute("route to an unknown interface".into());
        };
        // ip_forward / ip6_forward: a frame sent to a link-layer broadcast or multicast
        // address (pkt_type not PACKET_HOST) is never forwarded, also when DNAT gave it a
        // unicast destination.
        if f.link.is_some_and(|l| l.dst[0] & 1 == 1) {
            self.forget(&f);
            return Outcome::NoRoute("ip_forward: not addressed to this host (pkt_type)".into());
        }
        // ip_forward / ip6_forward: a TTL that would reach 0 is answered with time exceeded
        // and the packet never meets FORWARD; otherwise it is decremented before the hook.
        if f.info.ttl <= 1 {
            self.time_exceeded(now_ns, &f, out);
            self.forget(&f);
            return Outcome::TtlExceeded;
        }
        if let Err(e) = f
            .rewrite(|b| crate::wire::mangle::hop_limit(b, crate::wire::mangle::HopLimitOp::Dec(1)))
        {
            self.forget(&f);
            return Outcome::InvalidHeader(e.to_string());
        }
        f.out_iface = Some(odev.name.as_str());
        for table in [TableKind::Mangle, TableKind::Filter, TableKind::Security] {
            if let HookEnd::Stop(o) = self.chain(now_ns, table, Hook::Forward, &mut f, out) {
                return o;
            }
        }
        let next_hop = route.next_hop(f.info.dst);
        if let HookEnd::Stop(o) = self.postrouting(now_ns, &mut f, odev.index, next_hop, out) {
            return o;
        }
        let name = odev.name.clone();
        match self.refragment(&f, odev.mtu) {
            Ok(pieces) => {
                for p in &pieces {
                    self.emit(&name, next_hop, p, EmitKind::Packet, out);
                }
            }
            Err(mtu) => {
                // ip_fragment: too big with DF set (IPv6: always): fragmentation needed /
                // packet too big, and the datagram is not sent.
                let (typ, code) = if f.info.is_ipv6() { (2, 0) } else { (3, 4) };
                let local = self.host.is_local(f.info.dst);
                if let Some(src) = crate::engine::error_source(&f.info, self.host, local) {
                    if let Some(r) =
                        crate::wire::reply::icmp_error_info(&f.bytes, typ, code, mtu, src)
                    {
                        self.send_from_host(now_ns, r, out);
                    }
                }
            }
        }
        out.final_bytes = Some(f.bytes);
        Outcome::Forwarded { out: name }
    }

    /// A datagram conntrack reassembled leaves as the fragments it came in (ip_do_fragment /
    /// ip6_fragment with frag_max_size, see wire::refrag); any other leaves whole. `Err`
    /// carries the MTU when it cannot be sent.
    fn refragment(&self, f: &Flight<'r>, mtu: u32) -> Result<Vec<Vec<u8>>, u32> {
        use crate::wire::refrag::{refragment, Config, Refrag};
        let Some(shape) = f.frags.as_deref() else {
            return Ok(vec![f.bytes.clone()]);
        };
        let cfg = Config {
            mtu,
            veth_headroom: false,
            ipv6_ident: shape.ident,
        };
        match refragment(&f.bytes, shape, &cfg) {
            Ok(Refrag::Fragments(pieces)) => Ok(pieces),
            Ok(Refrag::TooBig(mtu)) => Err(mtu),
            Err(_) => Ok(vec![f.bytes.clone()]),
        }
    }

    /// mangle and nat POSTROUTING, then conntrack confirms.
    fn postrouting(
        &mut self,
        now_ns: i64,
        f: &mut Flight<'r>,
        out_dev: u32,
        next_hop: IpAddr,
        out: &mut Processed,
    ) -> HookEnd {
        if let HookEnd::Stop(o) = self.chain(now_ns, TableKind::Mangle, Hook::Postrouting, f, out) {
            return HookEnd::Stop(o);
        }
        f.route = Some((out_dev, next_hop));
        if let HookEnd::Stop(o) = self.nat_hook(now_ns, Hook::Postrouting, Manip::Src, f, out) {
            return HookEnd::Stop(o);
        }
        self.confirm(f);
        HookEnd::Accept
    }

    /// A locally generated packet: routing, OUTPUT, POSTROUTING; to a local address it
    /// loops back through `lo` into PREROUTING and INPUT.
    pub(super) fn output(
        &mut self,
        now_ns: i64,
        mut f: Flight<'r>,
        out: &mut Processed,
    ) -> Outcome {
        let host = self.host;
        // A reset REJECT sends for a forwarded segment comes from that segment's destination,
        // not a host address: nf_send_reset routes it with ip_route_me_harder, which sets
        // FLOWI_FLAG_ANYSRC for a unicast source, so the source is not required to be local.
        let src = Some(f.info.src).filter(|s| !f.host_made || host.is_local(*s));
        let route = match host.route_output(f.info.dst, src, f.mark) {
            Ok(r) => r,
            Err(e) => return Outcome::NoRoute(format!("{} ({:?})", e.errno.message(), e.reason)),
        };
        let Some(mut odev) = host.interface_by_index(route.dev) else {
            return Outcome::NoRoute("route to an unknown interface".into());
        };
        f.out_iface = Some(odev.name.as_str());
        self.enter_hook_untracked(&mut f);
        if let HookEnd::Stop(o) = self.chain(now_ns, TableKind::Raw, Hook::Output, &mut f, out) {
            return o;
        }
        self.conntrack_in(now_ns, &mut f, out);
        let before = (f.info.dst, f.mark);
        if let HookEnd::Stop(o) = self.chain(now_ns, TableKind::Mangle, Hook::Output, &mut f, out) {
            return o;
        }
        if let HookEnd::Stop(o) = self.nat_hook(now_ns, Hook::Output, Manip::Dst, &mut f, out) {
            return o;
        }
        let mut route = route;
        // ip_route_me_harder: a changed destination or mark routes the packet again.
        if (f.info.dst, f.mark) != before {
            route = match host.route_output(f.info.dst, src, f.mark) {
                Ok(r) => r,
                Err(e) => {
                    self.forget(&f);
                    return Outcome::NoRoute(format!("{} ({:?})", e.errno.message(), e.reason));
                }
            };
            match host.interface_by_index(route.dev) {
                Some(d) => odev = d,
                None => return Outcome::NoRoute("route to an unknown interface".into()),
            }
        }
        // The rest of LOCAL_OUT still names the device the hook was entered with
        // (`state->out`, set once by __ip_local_out): `-o` in filter OUTPUT sees it after
        // a DNAT or REDIRECT in nat OUTPUT rerouted the packet (measured: a REJECT on
        // `-o cni0` caught local packets REDIRECTed to lo, verify_random seed
        // 253309092679867). POSTROUTING is a new hook with the new device.
        for table in [TableKind::Filter, TableKind::Security] {
            if let HookEnd::Stop(o) = self.chain(now_ns, table, Hook::Output, &mut f, out) {
                return o;
            }
        }
        f.out_iface = Some(odev.name.as_str());
        let next_hop = route.next_hop(f.info.dst);
        if let HookEnd::Stop(o) = self.postrouting(now_ns, &mut f, odev.index, next_hop, out) {
            return o;
        }
        if odev.loopback {
            return self.loop_back(now_ns, f, out);
        }
        let name = odev.name.clone();
        self.emit(&name, next_hop, &f.bytes, EmitKind::Packet, out);
        out.final_bytes = Some(f.bytes);
        Outcome::Sent { out: name }
    }

    /// A packet sent to a local address comes back in through `lo`.
    fn loop_back(&mut self, now_ns: i64, f: Flight<'r>, out: &mut Processed) -> Outcome {
        let host = self.host;
        let Some(lo) = host.interface_by_index(crate::host::LOOPBACK_IFINDEX) else {
            return Outcome::NoRoute("no loopback interface".into());
        };
        let f_dst = f.info.dst;
        // The connection (or untracked mark) stays with the packet: see `prerouting`.
        let mut g = Flight {
            in_iface: Some(lo.name.as_str()),
            out_iface: None,
            link: None,
            unconfirmed: false,
            route: None,
            ..f
        };
        g.host_made = f.host_made;
        if let HookEnd::Stop(o) = self.prerouting(now_ns, &mut g, out) {
            return o;
        }
        // The output route stays attached to a looped-back packet (ip_rcv_finish routes
        // only packets without one), unless nat PREROUTING changed its destination
        // (nf_nat_ipv4_in drops the route then).
        if g.info.dst == f_dst {
            return self.input(now_ns, g, out);
        }
        match host.route_input(g.info.dst, g.info.src, lo.index, g.mark) {
            Ok(r) if r.is_local_delivery() => self.input(now_ns, g, out),
            Ok(r) => self.forward(now_ns, g, &r, out),
            Err(e) => {
                self.forget(&g);
                Outcome::NoRoute(format!("{} ({:?})", e.errno.message(), e.reason))
            }
        }
    }

    /// Walks one built-in chain, applies what its targets asked for, and says whether the
    /// packet goes on.
    fn chain(
        &mut self,
        now_ns: i64,
        table: TableKind,
        hook: Hook,
        f: &mut Flight<'r>,
        out: &mut Processed,
    ) -> HookEnd {
        let host = self.host;
        // An iptables ruleset never sees IPv6 packets and an ip6tables one never IPv4: the
        // other family's tables are empty, so its packets pass every hook.
        if !self.same_family(f) {
            return HookEnd::Accept;
        }
        let Some(t) = self.ruleset.table(table) else {
            return HookEnd::Accept;
        };
        let Some(start) = t.chains().iter().position(|c| c.hook == Some(hook)) else {
            return HookEnd::Accept;
        };
        let Some(counts) = self.counts.get_mut(&table) else {
            return HookEnd::Accept;
        };
        // `-m connlimit` asks the connection table whether a tuple is a live connection,
        // and whether it is closing (TCP TIME_WAIT or CLOSE).
        let table_ref = self.conntrack.as_ref();
        let lookup = move |t: &CtTuple| -> Option<bool> {
            let tuple = conntrack::Tuple {
                src: t.src,
                dst: t.dst,
                protocol: t.protocol,
                src_port: t.src_port,
                dst_port: t.dst_port,
            };
            let c = table_ref?.find_confirmed(&tuple, now_ns)?;
            Some(matches!(c.state_name(), Some("TIME_WAIT") | Some("CLOSE")))
        };
        let mut p = EvalPacket::owned(std::mem::take(&mut f.bytes), f.info, host)
            .with_state(&mut self.state, now_ns, self.index)
            .with_conns(&lookup);
        if let Some(l) = f.link {
            p = p.with_link(l);
        }
        p.set_interfaces(f.in_iface, f.out_iface);
        p.mark = f.mark;
        p.ct = f.ct.take();
        if self.tracing || self.has_trace_rules {
            p.trace = Some(Vec::new());
        }
        let decision = walk(t, start, &mut p, counts);
        let traced_from = p.traced_from.take();
        if let Some(visits) = p.trace.take() {
            let from = if f.nf_trace { Some(0) } else { traced_from };
            if let Some(from) = from {
                let ctx = crate::engine::LogContext {
                    in_iface: f.in_iface,
                    out_iface: f.out_iface,
                    link: f.link.map(|l| {
                        let ethertype = if f.info.is_ipv6() { 0x86dd } else { 0x0800 };
                        (l.dst, l.src, ethertype)
                    }),
                    mark: p.mark,
                };
                let lines = trace_lines(
                    self.ruleset,
                    self.config.backend,
                    t,
                    &visits[from.min(visits.len())..],
                    &decision,
                    &ctx,
                    p.bytes(),
                );
                out.log.extend(lines);
            }
            if self.tracing {
                out.trace.push(TraceStep::Chain {
                    table,
                    hook,
                    visits,
                    verdict: decision.verdict,
                    by: decision.by,
                });
            }
        }
        if traced_from.is_some() {
            f.nf_trace = true;
        }
        let unsupported = p.take_unsupported();
        let effects = std::mem::take(&mut p.effects);
        f.mark = p.mark;
        f.ct = p.ct.take();
        f.info = *p.info();
        f.bytes = p.into_bytes();
        // The connection mark a CONNMARK changed goes back to the entry.
        if let (Some((id, _)), Some(ct), Some(table)) = (f.conn, &f.ct, self.conntrack.as_mut()) {
            if let Some(c) = &ct.conn {
                if let Some(conn) = table.get_mut(id) {
                    conn.mark = c.mark;
                }
            }
        }
        if let Some(why) = unsupported {
            self.forget(f);
            return HookEnd::Stop(Outcome::Unsupported(why.0));
        }
        let at = |by: DecidedBy| match by {
            DecidedBy::Rule { chain, rule } | DecidedBy::HotDrop { chain, rule } => RuleRef {
                table,
                chain,
                rule: Some(rule),
            },
            DecidedBy::Policy { chain } => RuleRef {
                table,
                chain,
                rule: None,
            },
        };
        let mut rejected = None;
        for effect in effects {
            match effect {
                Effect::Nat(target) => {
                    // nf_nat_setup_info failing (MASQUERADE without an address, REDIRECT
                    // on an interface without one) makes the target return NF_DROP.
                    if self.setup_nat(hook, &target, f).is_err() {
                        self.forget(f);
                        return HookEnd::Stop(Outcome::DroppedByRule(at(decision.by)));
                    }
                }
                Effect::Reject(with) => rejected = Some(with),
                Effect::Untrack => f.untracked = true,
                Effect::Trace => f.nf_trace = true,
                Effect::Log(line) => out.log.push(line),
            }
        }
        match decision.verdict {
            Verdict::Accept => {
                if let DecidedBy::Rule { .. } = decision.by {
                    out.accepted_by.push(at(decision.by));
                }
                HookEnd::Accept
            }
            Verdict::Drop => {
                // REJECT answers before the unconfirmed entry goes: its answer carries it.
                if let (Some(with), DecidedBy::Rule { .. }) = (rejected, decision.by) {
                    self.reject(now_ns, f, hook, with, out);
                }
                self.forget(f);
                match (rejected, decision.by) {
                    (Some(_), DecidedBy::Rule { .. }) => {
                        HookEnd::Stop(Outcome::Rejected(at(decision.by)))
                    }
                    (_, DecidedBy::Rule { .. }) => {
                        HookEnd::Stop(Outcome::DroppedByRule(at(decision.by)))
                    }
                    (_, DecidedBy::Policy { .. }) => {
                        HookEnd::Stop(Outcome::DroppedByPolicy(at(decision.by)))
                    }
                    (_, DecidedBy::HotDrop { .. }) => {
                        HookEnd::Stop(Outcome::HotDropped(at(decision.by)))
                    }
                }
            }
            Verdict::Queue => {
                let accept = match self.config.queue_verdict {
                    Verdict::Accept => true,
                    // Nobody listens: nf_queue fails with -ESRCH and the packet is dropped,
                    // unless the rule says --queue-bypass (then the hook goes on as after
                    // ACCEPT).
                    Verdict::Queue => self.queue_bypass(table, decision.by),
                    Verdict::Drop => false,
                };
                if accept {
                    HookEnd::Accept
                } else {
                    self.forget(f);
                    HookEnd::Stop(Outcome::Queued { accepted: false })
                }
            }
        }
    }

    /// Whether the NFQUEUE rule that queued a packet has --queue-bypass.
    fn queue_bypass(&self, table: TableKind, by: DecidedBy) -> bool {
        let DecidedBy::Rule { chain, rule } = by else {
            return false;
        };
        self.ruleset
            .table(table)
            .and_then(|t| t.chains().get(chain))
            .and_then(|c| c.rules.get(rule))
            .is_some_and(|r| matches!(&r.target, Target::Ext(TargetExt::Nfqueue(q)) if q.bypass))
    }

    /// Whether the packet is of the ruleset's address family.
    fn same_family(&self, f: &Flight) -> bool {
        f.info.is_ipv6() == (self.ruleset.family == crate::rules::Family::Ipv6)
    }

    /// Before conntrack has seen a packet, `-m conntrack` sees INVALID (no entry) or
    /// UNTRACKED (after `-j CT --notrack`).
    fn enter_hook_untracked(&self, f: &mut Flight<'r>) {
        if f.conn.is_some() || f.untracked {
            // Carries the entry nf_ct_attach gave it (see `send_attached`) or the one it
            // had before it looped back.
            return;
        }
        if self.conntrack.is_some() {
            f.ct = Some(if f.untracked {
                CtView::untracked()
            } else {
                CtView::invalid()
            });
        }
    }

    /// The engine's view of the connection a packet carries, read again (its status may have
    /// changed since it was looked up, e.g. confirmed at POSTROUTING).
    fn refresh_view(&self, now_ns: i64, f: &mut Flight<'r>) {
        let (Some(table), Some((id, dir))) = (self.conntrack.as_ref(), f.conn) else {
            return;
        };
        let state = match f.ct.as_ref().map(|c| c.state) {
            Some(s) if s == CtStates::NEW => CtState::New,
            Some(s) if s == CtStates::RELATED => CtState::Related,
            _ => CtState::Established,
        };
        f.ct = Some(view(table, id, dir, state, now_ns));
    }

    /// nf_conntrack_in at PREROUTING / OUTPUT.
    fn conntrack_in(&mut self, now_ns: i64, f: &mut Flight<'r>, out: &mut Processed) {
        // Rules load conntrack per family (nf_ct_netns_get): the other family is untracked.
        if !self.same_family(f) {
            f.ct = None;
            return;
        }
        let Some(table) = self.conntrack.as_mut() else {
            return;
        };
        if f.untracked {
            f.ct = Some(CtView::untracked());
            return;
        }
        if f.conn.is_some() {
            // It has its entry already (nf_ct_attach, or looped back): nf_conntrack_in
            // leaves it alone.
            return;
        }
        let hook = if f.in_iface.is_none() {
            conntrack::CtHook::Output
        } else {
            conntrack::CtHook::Prerouting
        };
        match table.packet_in_at(hook, now_ns, &f.bytes, &f.info) {
            Lookup::Invalid { reason } => {
                if self.tracing {
                    out.trace
                        .push(TraceStep::Note(format!("conntrack: INVALID ({reason})")));
                }
                f.conn = None;
                f.ct = Some(CtView::invalid());
            }
            Lookup::Untracked => {
                f.conn = None;
                f.ct = Some(CtView::untracked());
            }
            Lookup::Tracked { id, dir, state } => {
                if self.tracing {
                    let c = table.conn(id);
                    let o = &c.original;
                    out.trace.push(TraceStep::Note(format!(
                        "conntrack: {state:?}, {dir:?} direction of protocol {} {}:{} > {}:{}",
                        o.protocol, o.src, o.src_port, o.dst, o.dst_port
                    )));
                }
                f.conn = Some((id, dir));
                f.unconfirmed = state == CtState::New && !table.conn(id).is_confirmed();
                f.ct = Some(view(table, id, dir, state, now_ns));
            }
        }
    }

    /// The nat chain of `hook` for a new connection, the null binding when no rule bound
    /// it, then the packet rewritten by the connection's binding (nf_nat_inet_fn).
    fn nat_hook(
        &mut self,
        now_ns: i64,
        hook: Hook,
        manip: Manip,
        f: &mut Flight<'r>,
        out: &mut Processed,
    ) -> HookEnd {
        let Some((id, dir)) = f.conn else {
            return HookEnd::Accept;
        };
        // nf_nat_inet_fn walks the nat chain for IP_CT_NEW, and for a RELATED packet that
        // is not an ICMP error (those are only translated, nf_nat_icmp_reply_translation),
        // while this manip is not set up: the reset REJECT attaches to a connection that
        // never reached POSTROUTING (rejected in filter OUTPUT) meets nat POSTROUTING
        // (measured: verify_random seed 133441489485061; ICMP errors do not, seeds
        // 120532410097233, 38786826563496 and others).
        let icmp = matches!(f.info.protocol, IpProtocol::Icmp | IpProtocol::Icmpv6);
        let fresh = f
            .ct
            .as_ref()
            .is_some_and(|c| c.state == CtStates::NEW || (c.state == CtStates::RELATED && !icmp));
        let done = self
            .conntrack
            .as_ref()
            .map_or(true, |t| t.nat_done(id, manip));
        if fresh && !done {
            if let HookEnd::Stop(o) = self.chain(now_ns, TableKind::Nat, hook, f, out) {
                return HookEnd::Stop(o);
            }
            if let Some(t) = self.conntrack.as_mut() {
                if !t.nat_done(id, manip) && t.setup_nat(id, manip, None).is_err() {
                    self.forget(f);
                    return HookEnd::Stop(Outcome::NoRoute("NAT null binding failed".into()));
                }
            }
        }
        self.nat_packet(id, dir, manip, f, out);
        HookEnd::Accept
    }

    /// nf_nat_packet: rewrite the packet as its connection's binding says; for an ICMP
    /// error RELATED to a connection, the quoted datagram too
    /// (nf_nat_icmp_reply_translation).
    fn nat_packet(
        &mut self,
        id: ConnId,
        dir: Dir,
        manip: Manip,
        f: &mut Flight<'r>,
        out: &mut Processed,
    ) {
        let Some(t) = self.conntrack.as_ref() else {
            return;
        };
        let Some((addr, port)) = t.nat_rewrite(id, dir, manip) else {
            return;
        };
        if self.tracing {
            let port = port.map_or(String::new(), |p| format!(" port {p}"));
            out.trace.push(TraceStep::Note(format!(
                "NAT: {} rewritten to {addr}{port}",
                if manip == Manip::Dst {
                    "destination"
                } else {
                    "source"
                }
            )));
        }
        let related = f.ct.as_ref().is_some_and(|c| c.state == CtStates::RELATED);
        let inner = if related {
            t.nat_rewrite_embedded(id, dir, manip)
        } else {
            None
        };
        let result = if let Some((in_addr, in_port)) = inner {
            // nf_nat_icmp_reply_translation: the quoted datagram gets the other end of the
            // other direction's tuple; the outer header only its address.
            f.rewrite(|b| {
                crate::wire::rewrite::nat_embedded(b, manip.invert(), in_addr, in_port)?;
                crate::wire::rewrite::nat(b, manip, addr, None)
            })
        } else {
            f.rewrite(|b| crate::wire::rewrite::nat(b, manip, addr, port))
        };
        // A packet too short to rewrite stays as it is; the kernel drops such packets
        // earlier (conntrack marks them INVALID).
        let _ = result;
        if let Some(table) = self.conntrack.as_ref() {
            if let Some(ct) = f.ct.as_mut() {
                let state = ct.state;
                *ct = view(table, id, dir, state_of(state), 0);
            }
        }
    }

    /// A NAT target's binding (nf_nat_setup_info with the range the target computes).
    fn setup_nat(&mut self, hook: Hook, target: &TargetExt, f: &Flight<'r>) -> Result<(), String> {
        let Some((id, _)) = f.conn else {
            return Err("NAT target without a connection".into());
        };
        let manip = match hook {
            Hook::Prerouting | Hook::Output => Manip::Dst,
            _ => Manip::Src,
        };
        let range = nat_range(self.host, hook, target, f)?;
        let table = self
            .conntrack
            .as_mut()
            .ok_or_else(|| "NAT without conntrack".to_string())?;
        table.setup_nat(id, manip, range.as_ref()).map_err(|e| e.0)
    }

    /// __nf_conntrack_confirm at the end of POSTROUTING / INPUT.
    fn confirm(&mut self, f: &mut Flight<'r>) {
        if let (Some((id, _)), Some(t)) = (f.conn, self.conntrack.as_mut()) {
            if f.unconfirmed {
                t.confirm(id);
                f.unconfirmed = false;
            }
        }
    }

    /// The packet ends here: a new entry it made is forgotten.
    fn forget(&mut self, f: &Flight<'r>) {
        if let (Some((id, _)), Some(t)) = (f.conn, self.conntrack.as_mut()) {
            if f.unconfirmed {
                t.drop_unconfirmed(id);
            }
        }
    }
}

/// Whether any rule of the ruleset makes the kernel load conntrack for the namespace
/// (checkentry functions that call `nf_ct_netns_get`).
pub fn needs_conntrack(ruleset: &Ruleset) -> bool {
    ruleset.tables.iter().any(|t| {
        t.chains()
            .iter()
            .any(|c| c.rules.iter().any(rule_needs_conntrack))
    })
}

fn rule_needs_conntrack(rule: &Rule) -> bool {
    let by_match = rule.matches.iter().any(|m| {
        matches!(
            m.ext,
            MatchExt::State(_)
                | MatchExt::Conntrack(_)
                | MatchExt::Connmark(_)
                | MatchExt::Connbytes(_)
                | MatchExt::Connlimit(_)
                | MatchExt::Helper(_)
        )
    });
    let by_target = match &rule.target {
        Target::Ext(t) => match t {
            TargetExt::Dnat(_)
            | TargetExt::Snat(_)
            | TargetExt::Masquerade(_)
            | TargetExt::Redirect(_)
            | TargetExt::Netmap(_)
            | TargetExt::Connmark(_)
            | TargetExt::Connsecmark(_) => true,
            // xt_ct_tg_check returns before nf_ct_netns_get for --notrack.
            TargetExt::Ct(ct) => ct.flags & 1 == 0,
            _ => false,
        },
        _ => false,
    };
    by_match || by_target
}

/// ip_rcv_core / ipv6_rcv's checks: what makes the kernel drop a packet before any hook.
fn ip_rcv_checks(ip: &[u8]) -> Result<IpInfo, String> {
    let info = crate::wire::ip::parse(ip).map_err(|e| e.to_string())?;
    if !info.is_ipv6() {
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        if !crate::wire::checksum::verifies(crate::wire::checksum::data(&ip[..ihl])) {
            return Err("bad IPv4 header checksum".into());
        }
    }
    Ok(info)
}

/// The engine's view of a connection for the packet at hand.
pub(super) fn view(
    t: &conntrack::Table,
    id: ConnId,
    dir: Dir,
    state: CtState,
    now_ns: i64,
) -> CtView {
    // An entry a RST killed stays readable for the rest of its packet; should it be gone,
    // the packet has no entry.
    let Some(c) = t.get(id) else {
        return CtView::invalid();
    };
    let tuple = |x: &conntrack::Tuple| CtTuple {
        src: x.src,
        dst: x.dst,
        protocol: x.protocol,
        src_port: x.src_port,
        dst_port: x.dst_port,
    };
    CtView {
        state: match state {
            CtState::New => CtStates::NEW,
            CtState::Established => CtStates::ESTABLISHED,
            CtState::Related => CtStates::RELATED,
        },
        reply_dir: dir == Dir::Reply,
        conn: Some(CtConn {
            original: tuple(&c.original),
            reply: tuple(&c.reply),
            status: c.status.0,
            mark: c.mark,
            // nf_ct_expires: before __nf_conntrack_confirm adds the clock, ct->timeout holds
            // the relative timeout, so "timeout - now" is negative (shown as 0) on any host
            // up for more than a few minutes and less than ~24 days (the s32 jiffies wrap):
            // the first packet of a connection sees --ctexpire 0.
            expires_s: if c.is_confirmed() {
                u64::try_from((c.expires_ns - now_ns) / 1_000_000_000).unwrap_or(0)
            } else {
                0
            },
            packets: c.packets,
            bytes: c.bytes,
        }),
    }
}

fn state_of(bit: u16) -> CtState {
    match bit {
        CtStates::NEW => CtState::New,
        CtStates::RELATED => CtState::Related,
        _ => CtState::Established,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse::{parse_ruleset, ParseOptions};
    use crate::rules::Family;

    fn v4_ruleset(text: &str) -> Ruleset {
        parse_ruleset(
            text,
            "test",
            ParseOptions {
                family: Family::Ipv4,
                backend: Backend::Nft,
            },
        )
        .expect("valid ruleset")
    }

    /// A stack for `rs` on `host` without ipsets, default configuration.
    fn stack<'r>(rs: &'r Ruleset, host: &'r Host) -> Stack<'r> {
        Stack::new(
            rs,
            host,
            IpSets::parse("", "none").expect("empty"),
            Config::default(),
        )
    }

    /// A TCP SYN 192.168.1.30:42653 → 203.0.113.5:80 with `ttl`, checksums filled.
    fn syn(ttl: u8) -> Vec<u8> {
        let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, ttl, 6, 0, 0];
        ip.extend_from_slice(&[192, 168, 1, 30, 203, 0, 113, 5]);
        ip.extend_from_slice(&[0xa6, 0x9d, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02]);
        ip.extend_from_slice(&[0xfa, 0xf0, 0, 0, 0, 0]);
        crate::wire::verify::recompute(&mut ip).expect("valid");
        ip
    }

    /// The one answer the host made, from its IP header.
    fn host_reply(p: &Processed) -> Vec<u8> {
        let r: Vec<&Emitted> = p
            .emitted
            .iter()
            .filter(|e| e.kind == EmitKind::HostReply)
            .collect();
        assert_eq!(r.len(), 1, "{:?}", p.outcome);
        r[0].frame[14..].to_vec()
    }

    /// An ICMP error about a DNATed packet that never got through (TTL ran out, REJECT in
    /// FORWARD) carries its unconfirmed connection (nf_ct_attach): the kernel sends it from
    /// the original destination and quotes the packet as the client sent it (measured by
    /// tests/verify_random, seed 241948874946581).
    #[test]
    fn errors_about_unconfirmed_dnat_packets_are_translated() {
        let host = Host::kubernetes_node();
        for (rules, ttl) in [
            ("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination 10.96.0.10\nCOMMIT\n", 1),
            ("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination 10.96.0.10\nCOMMIT\n\
              *filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j REJECT\nCOMMIT\n", 64),
        ] {
            let rs = v4_ruleset(rules);
            let mut stack = stack(&rs, &host);
            let p = stack.receive(0, "eth0", None, &syn(ttl));
            let r = host_reply(&p);
            assert_eq!(r[12..16], [203, 0, 113, 5], "outer source: the original destination");
            assert_eq!(r[16..20], [192, 168, 1, 30]);
            assert_eq!(r[28 + 16..28 + 20], [203, 0, 113, 5], "quoted destination");
            assert!(stack.conntrack_list(0).is_empty(), "nothing confirmed");
        }
    }

    /// A locally generated segment rejected with a reset in filter OUTPUT: the reset goes
    /// through OUTPUT itself and meets the same rule, which drops it (a reset gets no reset).
    #[test]
    fn a_reset_for_a_local_packet_walks_output() {
        let host = Host::kubernetes_node();
        let rs = v4_ruleset(
            "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -m tcp ! --dport 22 -j REJECT --reject-with tcp-reset\nCOMMIT\n",
        );
        let mut stack = stack(&rs, &host);
        let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
        ip.extend_from_slice(&[192, 168, 99, 11, 10, 244, 1, 9]);
        ip.extend_from_slice(&[0x86, 0x1e, 0x23, 0x4f, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02]);
        ip.extend_from_slice(&[0xfa, 0xf0, 0, 0, 0, 0]);
        crate::wire::verify::recompute(&mut ip).expect("valid");
        let p = stack.send_local(0, &ip);
        assert!(p.emitted.is_empty(), "{:?}", p.emitted);
        let counted = stack.counted_ruleset();
        let out = counted
            .table(TableKind::Filter)
            .and_then(|t| t.chain("OUTPUT"))
            .expect("OUTPUT");
        assert_eq!(out.rules[0].counters.packets, 2);
        assert_eq!(out.rules[0].counters.bytes, 80);
    }

    /// After `-j CT --notrack` the rules below it in the same chain see UNTRACKED
    /// (kernel: verify_random seed 80494814947257).
    #[test]
    fn notrack_is_seen_by_the_next_rules_of_the_chain() {
        let host = Host::kubernetes_node();
        let rs = v4_ruleset(
            "*raw\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j CT --notrack\n\
             -A OUTPUT -m state --state NEW,INVALID\n-A OUTPUT -m state --state UNTRACKED\nCOMMIT\n",
        );
        let mut stack = stack(&rs, &host);
        let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
        ip.extend_from_slice(&[192, 168, 99, 11, 10, 244, 1, 9]);
        ip.extend_from_slice(&[0x86, 0x1e, 0x23, 0x4f, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02]);
        ip.extend_from_slice(&[0xfa, 0xf0, 0, 0, 0, 0]);
        crate::wire::verify::recompute(&mut ip).expect("valid");
        stack.send_local(0, &ip);
        let counted = stack.counted_ruleset();
        let out = counted
            .table(TableKind::Raw)
            .and_then(|t| t.chain("OUTPUT"))
            .expect("OUTPUT");
        let packets: Vec<u64> = out.rules.iter().map(|r| r.counters.packets).collect();
        assert_eq!(packets, [1, 0, 1]);
    }

    /// UDP to a broadcast or multicast address gets no port unreachable, a ping to the
    /// subnet broadcast no echo reply (kernel: verify_random seeds 155192049872061,
    /// 82843548680950 and others).
    #[test]
    fn the_host_does_not_answer_broadcast_or_multicast() {
        let host = Host::kubernetes_node();
        let rs = v4_ruleset("");
        for (dst, mac, proto) in [
            ([192, 168, 0, 255], [0xff; 6], 17u8),
            ([255, 255, 255, 255], [0xff; 6], 17),
            ([224, 0, 0, 251], [1, 0, 0x5e, 0, 0, 0xfb], 17),
            ([192, 168, 0, 255], [0xff; 6], 1),
        ] {
            let mut stack = stack(&rs, &host);
            let mut ip = vec![
                0x45, 0, 0, 33, 0, 1, 0x40, 0, 64, proto, 0, 0, 192, 168, 0, 10,
            ];
            ip.extend_from_slice(&dst);
            if proto == 17 {
                ip.extend_from_slice(&[0x9c, 0x40, 0, 53, 0, 13, 0, 0]);
            } else {
                ip.extend_from_slice(&[8, 0, 0, 0, 0x12, 0x34, 0, 1]);
            }
            ip.extend_from_slice(b"hello");
            crate::wire::verify::recompute(&mut ip).expect("valid");
            let link = LinkHeader {
                src: [2, 0xfb, 0, 0, 0, 0x10],
                dst: mac,
            };
            let p = stack.receive(0, "eth0", Some(link), &ip);
            assert!(
                p.emitted.is_empty(),
                "{dst:?} proto {proto}: {:?}",
                p.emitted
            );
        }
    }

    /// A frame to the Ethernet broadcast address is not forwarded, also when DNAT gave it a
    /// unicast destination, and leaves no connection (kernel: verify_random seed
    /// 184379775736738).
    #[test]
    fn broadcast_frames_are_not_forwarded_after_dnat() {
        let host = Host::kubernetes_node();
        let rs = v4_ruleset(
            "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination 10.96.0.10\nCOMMIT\n",
        );
        let mut stack = stack(&rs, &host);
        let mut ip = vec![0x45, 0, 0, 33, 0, 1, 0x40, 0, 64, 17, 0, 0, 192, 168, 0, 20];
        ip.extend_from_slice(&[255, 255, 255, 255, 0xce, 0x46, 0x0c, 0x7d, 0, 13, 0, 0]);
        ip.extend_from_slice(b"hello");
        crate::wire::verify::recompute(&mut ip).expect("valid");
        let link = LinkHeader {
            src: [2, 0xfb, 0, 0, 0, 0x10],
            dst: [0xff; 6],
        };
        let p = stack.receive(0, "eth0", Some(link), &ip);
        assert!(p.emitted.is_empty(), "{:?}", p.outcome);
        assert!(stack.conntrack_list(0).is_empty());
    }

    /// A local packet REDIRECTed to 127.0.0.1 comes back through lo with its entry: nat
    /// PREROUTING does not see it (kernel: verify_random seed 212327705959922, where the
    /// kernel's nat PREROUTING policy counted one packet fewer than the emulation).
    #[test]
    fn looped_back_packets_keep_their_connection() {
        let host = Host::kubernetes_node();
        let rs = v4_ruleset(
            "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A PREROUTING -m state --state NEW\n-A OUTPUT -p tcp -j REDIRECT --to-ports 443\nCOMMIT\n",
        );
        let mut stack = stack(&rs, &host);
        let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
        ip.extend_from_slice(&[192, 168, 0, 2, 8, 8, 8, 8]);
        ip.extend_from_slice(&[0xbc, 0xa7, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02]);
        ip.extend_from_slice(&[0xfa, 0xf0, 0, 0, 0, 0]);
        crate::wire::verify::recompute(&mut ip).expect("valid");
        stack.send_local(0, &ip);
        let counted = stack.counted_ruleset();
        let pre = counted
            .table(TableKind::Nat)
            .and_then(|t| t.chain("PREROUTING"))
            .expect("PREROUTING");
        assert_eq!(pre.rules[0].counters.packets, 0, "the SYN looped back");
    }

    /// REJECT in filter OUTPUT answers a local packet that never reached POSTROUTING: a
    /// reset, RELATED to that connection, walks nat POSTROUTING (its source manip is not
    /// set up) and counts on the policy there (kernel: verify_random seed
    /// 133441489485061); an ICMP error does not.
    #[test]
    fn related_resets_walk_nat_chains_whose_manip_is_not_set_up() {
        let host = Host::kubernetes_node();
        for (with, walks) in [("tcp-reset", 1), ("icmp-port-unreachable", 0)] {
            let rs = v4_ruleset(&format!(
                "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -p udp -m state --state NEW\nCOMMIT\n\
                 *filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -d 198.51.100.7/32 -p tcp -j REJECT --reject-with {with}\nCOMMIT\n",
            ));
            let mut stack = stack(&rs, &host);
            let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
            ip.extend_from_slice(&[192, 168, 0, 2, 198, 51, 100, 7]);
            ip.extend_from_slice(&[0x99, 0x24, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02]);
            ip.extend_from_slice(&[0xfa, 0xf0, 0, 0, 0, 0]);
            crate::wire::verify::recompute(&mut ip).expect("valid");
            let p = stack.send_local(0, &ip);
            assert!(matches!(p.outcome, Outcome::Rejected(_)), "{:?}", p.outcome);
            assert!(stack.tracks_connections());
            let counted = stack.counted_ruleset();
            let post = counted
                .table(TableKind::Nat)
                .and_then(|t| t.chain("POSTROUTING"))
                .expect("POSTROUTING");
            assert_eq!(post.counters.packets, walks, "{with}");
        }
    }

    /// A multicast frame DNATed to the host's address gets no port unreachable (kernel:
    /// verify_random seed 15818568082701).
    #[test]
    fn no_errors_about_link_layer_group_frames() {
        let host = Host::kubernetes_node();
        let rs = v4_ruleset(
            "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination 192.168.0.2\nCOMMIT\n",
        );
        let mut stack = stack(&rs, &host);
        let mut ip = vec![0x45, 0, 0, 33, 0, 1, 0x40, 0, 64, 17, 0, 0, 192, 168, 1, 30];
        ip.extend_from_slice(&[224, 0, 0, 251, 0x95, 0x91, 0x05, 0xc0, 0, 13, 0, 0]);
        ip.extend_from_slice(b"hello");
        crate::wire::verify::recompute(&mut ip).expect("valid");
        let link = LinkHeader {
            src: [2, 0xfb, 0, 0, 0, 0x10],
            dst: [1, 0, 0x5e, 0, 0, 0xfb],
        };
        let p = stack.receive(0, "eth0", Some(link), &ip);
        assert!(matches!(p.outcome, Outcome::Delivered), "{:?}", p.outcome);
        assert!(p.emitted.is_empty(), "{:?}", p.emitted);
    }

    /// REJECT --reject-with tcp-reset of a SYN-ACK to the host's own SYN puts the
    /// connection in CLOSE (nf_ct_set_closing), and the reset does not meet conntrack
    /// (kernel: verify_random seed 238614210263731, CLOSE without ASSURED after more
    /// segments).
    #[test]
    fn a_reject_reset_closes_the_connection() {
        let host = Host::kubernetes_node();
        let rs = v4_ruleset(
            "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m state --state ESTABLISHED -j REJECT --reject-with tcp-reset\nCOMMIT\n",
        );
        let mut stack = stack(&rs, &host);
        let seg = |src: [u8; 4], dst: [u8; 4], ports: [u8; 4], flags: u8, seq: u32, ack: u32| {
            let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
            ip.extend_from_slice(&src);
            ip.extend_from_slice(&dst);
            ip.extend_from_slice(&ports);
            ip.extend_from_slice(&seq.to_be_bytes());
            ip.extend_from_slice(&ack.to_be_bytes());
            ip.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
            crate::wire::verify::recompute(&mut ip).expect("valid");
            ip
        };
        let (h, peer) = ([192, 168, 99, 11], [192, 168, 0, 10]);
        stack.send_local(0, &seg(h, peer, [0xe2, 0, 0x31, 0xc3], 0x02, 100, 0));
        let p = stack.receive(
            1_000_000,
            "eth0",
            None,
            &seg(peer, h, [0x31, 0xc3, 0xe2, 0], 0x12, 500, 101),
        );
        assert!(matches!(p.outcome, Outcome::Rejected(_)), "{:?}", p.outcome);
        let list = stack.conntrack_list(1_000_000);
        assert_eq!(list.len(), 1, "{list:?}");
        assert!(list[0].contains(" 10 CLOSE "), "{list:?}");
    }

    /// filter OUTPUT's `-o` sees the device the packet had before nat OUTPUT rerouted it
    /// (kernel: verify_random seed 253309092679867).
    #[test]
    fn filter_output_sees_the_device_before_a_nat_reroute() {
        let host = Host::kubernetes_node();
        let rs = v4_ruleset(
            "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j REDIRECT\nCOMMIT\n\
             *filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -o cni0\n-A OUTPUT -o lo\nCOMMIT\n",
        );
        let mut stack = stack(&rs, &host);
        let mut ip = vec![0x45, 0, 0, 33, 0, 1, 0x40, 0, 64, 17, 0, 0, 192, 168, 0, 2];
        ip.extend_from_slice(&[10, 96, 0, 10, 0x9a, 0xe0, 0x01, 0xbb, 0, 13, 0, 0]);
        ip.extend_from_slice(b"hello");
        crate::wire::verify::recompute(&mut ip).expect("valid");
        stack.send_local(0, &ip);
        let counted = stack.counted_ruleset();
        let outc = counted
            .table(TableKind::Filter)
            .and_then(|t| t.chain("OUTPUT"))
            .expect("OUTPUT");
        assert_eq!(outc.rules[0].counters.packets, 1, "-o cni0");
        // Only the port unreachable the host answers with leaves through lo.
        assert_eq!(outc.rules[1].counters.packets, 1, "-o lo");
    }

    /// A UDP datagram without checksum (zero) to a closed port of the host: the kernel
    /// answers it with a port unreachable (measured by tests/verify_random, seed 1).
    #[test]
    fn udp_without_checksum_to_a_closed_port_is_answered() {
        let rs = parse_ruleset(
            "",
            "empty",
            ParseOptions {
                family: Family::Ipv4,
                backend: Backend::Nft,
            },
        )
        .expect("empty ruleset");
        let host = Host::kubernetes_node();
        let mut ip = vec![0x45, 0, 0, 33, 0, 1, 0x40, 0, 64, 17, 0, 0];
        ip.extend_from_slice(&[10, 96, 0, 10, 192, 168, 1, 2]);
        ip.extend_from_slice(&[0xdd, 0x3b, 0, 22, 0, 13, 0, 0]);
        ip.extend_from_slice(b"ping?");
        crate::wire::verify::recompute(&mut ip).expect("valid");
        assert_eq!(ip[26..28], [0, 0], "recompute keeps 'no checksum'");
        let mut stack = stack(&rs, &host);
        let p = stack.receive(0, "cni0", None, &ip);
        let icmp: Vec<&Emitted> = p
            .emitted
            .iter()
            .filter(|e| e.kind == EmitKind::HostReply)
            .collect();
        assert_eq!(icmp.len(), 1, "{:?}", p.emitted);
        assert_eq!(icmp[0].frame[14 + 20..14 + 22], [3, 3], "port unreachable");
    }
}

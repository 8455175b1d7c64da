//! The routing decision, as `ip route get` reports it: for a packet the host sends
//! (`ip_route_output_key_hash_rcu`, `ip6_route_output`) and for a packet arriving on an
//! interface (`ip_route_input_slow` with its martian checks and `fib_validate_source`,
//! `ip6_route_input`). The answer says local delivery, broadcast, multicast or forward/send,
//! with output interface, next hop and source; or the error and why.
//!
//! Behaviour pinned down on Linux 6.18 (tests/host_kernel.rs):
//! - Input with forwarding off: any destination that is not local is EHOSTUNREACH, also one
//!   behind a blackhole route (which with forwarding on is EINVAL).
//! - A source that is an address of this host is a martian (EINVAL) on input, on any interface,
//!   with rp_filter 0, unless `accept_local`. A subnet-broadcast source passes that fast check
//!   but fails the full reverse lookup that custom local routes or rules switch on.
//! - 127.0.0.0/8 as destination or source from outside is martian unless `route_localnet`.
//! - Multicast input is delivered only for joined groups: every up interface joins 224.0.0.1
//!   (`ip_mc_up`); other groups are dropped (EINVAL) without a multicast router.
//! - Local destinations are delivered through `lo`; the answer keeps the interface that holds
//!   the address in `route_dev`.

use std::net::{IpAddr, Ipv4Addr};

use super::fib::Flow;
use super::model::{Errno, RouteType, LOOPBACK_IFINDEX};
use super::Host;

/// A successful routing decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDecision {
    /// `Local` (deliver to this host; also IPv6 anycast addresses of this host), `Broadcast`,
    /// `Multicast`, `Anycast` (IPv6 subnet-router anycast, delivered locally) or `Unicast`
    /// (send, or forward when the packet arrived on an interface).
    pub kind: RouteType,
    /// Output interface (`lo` for local delivery).
    pub dev: u32,
    /// Next hop when it is not the destination itself.
    pub gateway: Option<IpAddr>,
    /// Preferred source address (output decisions only).
    pub src: Option<IpAddr>,
    /// The table the route came from, as `ip route get` names it.
    pub table: u32,
    /// The interface of the route found (for local addresses: the one that holds them).
    pub route_dev: Option<u32>,
}

impl RouteDecision {
    /// The neighbour the packet is handed to: the gateway, else the destination.
    pub fn next_hop(&self, dst: IpAddr) -> IpAddr {
        self.gateway.unwrap_or(dst)
    }

    /// Whether the packet is for this host (INPUT), not to be forwarded.
    pub fn is_local_delivery(&self) -> bool {
        matches!(
            self.kind,
            RouteType::Local | RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast
        ) && self.dev == LOOPBACK_IFINDEX
    }
}

/// Why a packet has no route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoRouteReason {
    /// No route matched (or a rule said unreachable).
    NoRoute,
    /// A reject route (`unreachable`, `prohibit`, `blackhole`) or rule matched.
    Rejected,
    /// The packet would be forwarded but forwarding is off on its arrival interface.
    ForwardingDisabled,
    /// Source address impossible on input (multicast, broadcast, 0.0.0.0, loopback, one of
    /// this host's own) or failing the reverse path filter.
    MartianSource,
    /// rp_filter: the source is not reachable back through the arrival interface (strict) or
    /// at all (loose).
    ReversePathFilter,
    /// Destination impossible (0.0.0.0, loopback without route_localnet, a non-unicast
    /// route to forward along).
    MartianDestination,
    /// An output lookup from a source address that is not this host's.
    NonLocalSource,
    /// Multicast to a group the host has not joined.
    NotJoined,
}

/// A routing failure: the errno `ip route get` prints, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteError {
    pub errno: Errno,
    pub reason: NoRouteReason,
}

impl RouteError {
    fn new(errno: Errno, reason: NoRouteReason) -> RouteError {
        RouteError { errno, reason }
    }

    /// The ICMP destination-unreachable code the kernel answers an undeliverable IPv4 input
    /// packet with (`ip_error`): only when forwarding is on; martians are dropped silently.
    pub fn icmp_unreachable_code(&self, forwarding: bool) -> Option<u8> {
        if !forwarding
            || matches!(
                self.reason,
                NoRouteReason::MartianSource
                    | NoRouteReason::ReversePathFilter
                    | NoRouteReason::MartianDestination
                    | NoRouteReason::NotJoined
            )
        {
            return None;
        }
        match self.errno {
            Errno::NetUnreachable => Some(0),
            Errno::HostUnreachable => Some(1),
            Errno::Access => Some(13),
            _ => None,
        }
    }
}

/// ipv4_is_zeronet: only 0.0.0.0 since Linux 5.x made the rest of 0.0.0.0/8 ordinary
/// unicast ("Allow 0.0.0.0/8 as a valid address range"); checked on 6.18.
fn is_zeronet(a: Ipv4Addr) -> bool {
    a.is_unspecified()
}

fn v4(ip: Option<IpAddr>) -> Option<Ipv4Addr> {
    match ip {
        Some(IpAddr::V4(a)) => Some(a),
        _ => None,
    }
}

impl Host {
    /// The route of a packet this host sends (`ip route get DST [from SRC] [mark M]`).
    pub fn route_output(
        &self,
        dst: IpAddr,
        src: Option<IpAddr>,
        mark: u32,
    ) -> Result<RouteDecision, RouteError> {
        match dst {
            IpAddr::V4(d) => self.route_output_v4(d, v4(src), mark),
            IpAddr::V6(_) => self.route_output_v6(dst, src, mark),
        }
    }

    /// The route of a packet arriving on `iif` (`ip route get DST from SRC iif IF [mark M]`).
    pub fn route_input(
        &self,
        dst: IpAddr,
        src: IpAddr,
        iif: u32,
        mark: u32,
    ) -> Result<RouteDecision, RouteError> {
        match (dst, src) {
            (IpAddr::V4(d), IpAddr::V4(s)) => self.route_input_v4(d, s, iif, mark),
            _ => self.route_input_v6(dst, src, iif, mark),
        }
    }

    fn route_output_v4(
        &self,
        dst: Ipv4Addr,
        src: Option<Ipv4Addr>,
        mark: u32,
    ) -> Result<RouteDecision, RouteError> {
        use NoRouteReason::*;
        let special = dst.is_multicast() || dst.is_broadcast();
        if let Some(s) = src.filter(|s| !s.is_unspecified()) {
            if s.is_multicast() || s.is_broadcast() || is_zeronet(s) {
                return Err(RouteError::new(Errno::Invalid, MartianSource));
            }
            // __ip_dev_find: the source must be this host's (or in a local route).
            let Some(owner) = self.ip_dev_find(IpAddr::V4(s)) else {
                return Err(RouteError::new(Errno::NetUnreachable, NonLocalSource));
            };
            if special {
                // Multicast and limited broadcast leave through the source's interface.
                let kind = if dst.is_broadcast() {
                    RouteType::Broadcast
                } else {
                    RouteType::Multicast
                };
                return Ok(RouteDecision {
                    kind,
                    dev: owner,
                    gateway: None,
                    src: Some(IpAddr::V4(s)),
                    table: super::model::TABLE_MAIN,
                    route_dev: Some(owner),
                });
            }
        }
        let src = src.filter(|s| !s.is_unspecified());
        if dst.is_unspecified() {
            let s = src.unwrap_or(Ipv4Addr::LOCALHOST);
            return Ok(RouteDecision {
                kind: RouteType::Local,
                dev: LOOPBACK_IFINDEX,
                gateway: None,
                src: Some(IpAddr::V4(s)),
                table: super::model::TABLE_MAIN,
                route_dev: None,
            });
        }
        let mut flow = Flow::new(IpAddr::V4(dst));
        flow.src = src.map(IpAddr::V4);
        flow.mark = mark;
        let res = self
            .fib_lookup(&flow)
            .map_err(|e| RouteError::new(e, reason_of(e)))?;
        let r = res.route;
        if r.kind == RouteType::Local {
            let s = src.map(IpAddr::V4).or(r.prefsrc).unwrap_or(IpAddr::V4(dst));
            return Ok(RouteDecision {
                kind: RouteType::Local,
                dev: LOOPBACK_IFINDEX,
                gateway: None,
                src: Some(s),
                table: res.table,
                route_dev: r.dev,
            });
        }
        let dev = r.dev.unwrap_or(LOOPBACK_IFINDEX);
        let s = src
            .map(IpAddr::V4)
            .or_else(|| self.route_source(r, IpAddr::V4(dst)));
        // __mkroute_output: a loopback source may leave by a real interface only with
        // route_localnet on it.
        let localnet = self
            .interface_by_index(dev)
            .is_some_and(|i| self.route_localnet(i));
        if v4(s).is_some_and(|s| s.is_loopback()) && dev != LOOPBACK_IFINDEX && !localnet {
            return Err(RouteError::new(Errno::Invalid, MartianSource));
        }
        let (kind, gateway) = if dst.is_broadcast() {
            (RouteType::Broadcast, None)
        } else if dst.is_multicast() {
            // "If multicast route do not exist use default one, but do not gateway".
            let gw = if r.destination.len() < 4 {
                None
            } else {
                r.gateway
            };
            (RouteType::Multicast, gw)
        } else if is_zeronet(dst) {
            return Err(RouteError::new(Errno::Invalid, MartianDestination));
        } else if r.kind == RouteType::Broadcast {
            (RouteType::Broadcast, None)
        } else {
            (r.kind, r.gateway)
        };
        Ok(RouteDecision {
            kind,
            dev,
            gateway,
            src: s,
            table: res.table,
            route_dev: r.dev,
        })
    }

    fn route_input_v4(
        &self,
        dst: Ipv4Addr,
        src: Ipv4Addr,
        iif: u32,
        mark: u32,
    ) -> Result<RouteDecision, RouteError> {
        use NoRouteReason::*;
        let martian_src = Err(RouteError::new(Errno::Invalid, MartianSource));
        let martian_dst = Err(RouteError::new(Errno::Invalid, MartianDestination));
        let Some(dev) = self.interface_by_index(iif) else {
            return Err(RouteError::new(Errno::NetUnreachable, NoRoute));
        };
        let local_dev = |r: Option<u32>| RouteDecision {
            kind: RouteType::Local,
            dev: LOOPBACK_IFINDEX,
            gateway: None,
            src: None,
            table: super::model::TABLE_MAIN,
            route_dev: r,
        };
        if dst.is_multicast() {
            // ip_route_input_rcu -> ip_check_mc_rcu; ip_mc_validate_source.
            if !(dev.up && dst == Ipv4Addr::new(224, 0, 0, 1)) {
                return Err(RouteError::new(Errno::Invalid, NotJoined));
            }
            if src.is_multicast() || src.is_broadcast() {
                return martian_src;
            }
            if src.is_loopback() && !self.route_localnet(dev) {
                return martian_src;
            }
            if !is_zeronet(src) {
                self.validate_source(src, None, 0, dev, mark)?;
            }
            return Ok(RouteDecision {
                kind: RouteType::Multicast,
                ..local_dev(Some(iif))
            });
        }
        if src.is_multicast() || src.is_broadcast() {
            return martian_src;
        }
        let broadcast = || RouteDecision {
            kind: RouteType::Broadcast,
            ..local_dev(None)
        };
        if dst.is_broadcast() || (src.is_unspecified() && dst.is_unspecified()) {
            if !is_zeronet(src) {
                self.validate_source(src, None, 0, dev, mark)?;
            }
            return Ok(broadcast());
        }
        if is_zeronet(src) {
            return martian_src;
        }
        if is_zeronet(dst) {
            return martian_dst;
        }
        if dst.is_loopback() {
            if !self.route_localnet(dev) {
                return martian_dst;
            }
        } else if src.is_loopback() && !self.route_localnet(dev) {
            return martian_src;
        }
        let mut flow = Flow::new(IpAddr::V4(dst));
        flow.src = Some(IpAddr::V4(src));
        flow.iif = iif;
        flow.mark = mark;
        let forwarding = self.forwarding(dev);
        let res = match self.fib_lookup(&flow) {
            Ok(r) => r,
            Err(e) => {
                // ip_route_input_slow: "if (!IN_DEV_FORWARD(in_dev)) err = -EHOSTUNREACH".
                let (e, why) = if forwarding {
                    (e, reason_of(e))
                } else {
                    (Errno::HostUnreachable, ForwardingDisabled)
                };
                return Err(RouteError::new(e, why));
            }
        };
        let r = res.route;
        match r.kind {
            RouteType::Broadcast => {
                self.validate_source(src, None, 0, dev, mark)?;
                return Ok(RouteDecision {
                    table: res.table,
                    ..broadcast()
                });
            }
            RouteType::Local => {
                self.validate_source(src, Some(dst), 0, dev, mark)?;
                return Ok(RouteDecision {
                    table: res.table,
                    ..local_dev(r.dev)
                });
            }
            _ => {}
        }
        if !forwarding {
            return Err(RouteError::new(Errno::HostUnreachable, ForwardingDisabled));
        }
        if r.kind != RouteType::Unicast {
            return martian_dst;
        }
        let out = r.dev.unwrap_or(LOOPBACK_IFINDEX);
        self.validate_source(src, Some(dst), out, dev, mark)?;
        Ok(RouteDecision {
            kind: RouteType::Unicast,
            dev: out,
            gateway: r.gateway,
            src: None,
            table: res.table,
            route_dev: r.dev,
        })
    }

    /// fib_validate_source: the reverse path check of a received packet's source.
    fn validate_source(
        &self,
        src: Ipv4Addr,
        dst: Option<Ipv4Addr>,
        oif: u32,
        dev: &super::model::Interface,
        mark: u32,
    ) -> Result<(), RouteError> {
        let fail = |e| Err(RouteError::new(Errno::Invalid, e));
        let rpf = self.rp_filter(dev);
        let accept_local = self.accept_local(dev);
        if rpf == 0 && (dev.index != oif || !self.send_redirects(dev)) {
            if accept_local {
                return Ok(());
            }
            if !(self.custom_local_routes || self.custom_rules_v4) {
                // "Within the same container, it is regarded as a martian source".
                if self.ip_ifaddr_owner(IpAddr::V4(src)).is_some() {
                    return fail(NoRouteReason::MartianSource);
                }
                return Ok(());
            }
        }
        // __fib_validate_source: look the source up as a destination, from `oif`.
        let mut flow = Flow::new(IpAddr::V4(src));
        flow.src = dst.map(IpAddr::V4);
        flow.iif = if oif != 0 { oif } else { LOOPBACK_IFINDEX };
        let _ = mark; // src_valid_mark is off: the reverse lookup runs with mark 0.
        let no_addr = dev.v4_addresses().next().is_none();
        let res = match self.fib_lookup(&flow) {
            Ok(r) => r,
            Err(_) => {
                return if rpf != 0 {
                    fail(NoRouteReason::ReversePathFilter)
                } else {
                    Ok(())
                }
            }
        };
        let t = res.route.kind;
        if t != RouteType::Unicast && (t != RouteType::Local || !accept_local) {
            return fail(NoRouteReason::MartianSource);
        }
        if res.route.dev == Some(dev.index) {
            return Ok(());
        }
        if no_addr {
            return if rpf != 0 {
                fail(NoRouteReason::ReversePathFilter)
            } else {
                Ok(())
            };
        }
        if rpf == 1 {
            return fail(NoRouteReason::ReversePathFilter);
        }
        Ok(())
    }

    fn route_output_v6(
        &self,
        dst: IpAddr,
        src: Option<IpAddr>,
        mark: u32,
    ) -> Result<RouteDecision, RouteError> {
        // ip6_route_output does not check that the source is local (a socket's bind does).
        let mut flow = Flow::new(dst);
        flow.src = src;
        flow.mark = mark;
        let res = self
            .fib_lookup(&flow)
            .map_err(|e| RouteError::new(e, reason_of(e)))?;
        let r = res.route;
        let local = matches!(r.kind, RouteType::Local | RouteType::Anycast);
        let dev = if local {
            LOOPBACK_IFINDEX
        } else {
            r.dev.unwrap_or(LOOPBACK_IFINDEX)
        };
        let src = src
            .filter(|s| !s.is_unspecified())
            .or_else(|| self.route_source(r, dst));
        Ok(RouteDecision {
            kind: r.kind,
            dev,
            gateway: r.gateway,
            src,
            table: res.table,
            route_dev: r.dev,
        })
    }

    fn route_input_v6(
        &self,
        dst: IpAddr,
        src: IpAddr,
        iif: u32,
        mark: u32,
    ) -> Result<RouteDecision, RouteError> {
        let IpAddr::V6(d) = dst else {
            return Err(RouteError::new(
                Errno::Invalid,
                NoRouteReason::MartianSource,
            ));
        };
        let mut flow = Flow::new(dst);
        flow.src = Some(src);
        flow.iif = iif;
        flow.mark = mark;
        // rt6_need_strict: link-local, multicast and loopback destinations only match routes
        // through the arrival interface.
        if d.is_multicast() || d.is_loopback() || d.segments()[0] & 0xffc0 == 0xfe80 {
            flow.strict_dev = Some(iif);
        }
        let res = self
            .fib_lookup(&flow)
            .map_err(|e| RouteError::new(e, reason_of(e)))?;
        let r = res.route;
        let local = matches!(
            r.kind,
            RouteType::Local | RouteType::Anycast | RouteType::Multicast
        );
        if !local && !self.sysctl.ipv6_forwarding {
            return Err(RouteError::new(
                Errno::HostUnreachable,
                NoRouteReason::ForwardingDisabled,
            ));
        }
        Ok(RouteDecision {
            kind: r.kind,
            dev: if local {
                LOOPBACK_IFINDEX
            } else {
                r.dev.unwrap_or(LOOPBACK_IFINDEX)
            },
            gateway: r.gateway,
            src: None,
            table: res.table,
            route_dev: r.dev,
        })
    }

    /// inet_lookup_ifaddr_rcu / ipv6_chk_addr: the interface holding `ip` as an address.
    pub fn ip_ifaddr_owner(&self, ip: IpAddr) -> Option<u32> {
        self.interfaces
            .iter()
            .find(|i| i.has_address(ip))
            .map(|i| i.index)
    }

    /// __ip_dev_find: the interface of a local address, falling back to local routes (so
    /// addresses of `local 10.50.0.0/16 dev lo` count too).
    pub fn ip_dev_find(&self, ip: IpAddr) -> Option<u32> {
        if let Some(i) = self.ip_ifaddr_owner(ip) {
            return Some(i);
        }
        let r = self.local_table_lookup(ip)?;
        (r.kind == RouteType::Local).then_some(r.dev).flatten()
    }
}

/// What a lookup error means.
fn reason_of(e: Errno) -> NoRouteReason {
    match e {
        Errno::NetUnreachable | Errno::Again => NoRouteReason::NoRoute,
        _ => NoRouteReason::Rejected,
    }
}

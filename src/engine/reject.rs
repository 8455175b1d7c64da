//! What `-j REJECT` sends back (`reject_tg` in ipt_REJECT.c, `reject_tg6` in ip6t_REJECT.c,
//! with `nf_send_unreach`/`nf_send_reset` of nf_reject_ipv4.c and their IPv6 twins).
//!
//! The packet itself is built by `wire::reply`; this module makes the choices that need the
//! host and the hook (NETFILTER.md §6, measured in tests/reply_kernel.rs):
//! - an ICMP error's source is the offending packet's destination when that was an address
//!   of this host (`__icmp_send`: `RTCF_LOCAL`; `icmp6_send`: `ipv6_chk_addr`); otherwise
//!   the source the route back to the sender selects (`icmp_route_lookup` with saddr 0;
//!   `net.ipv4.icmp_errors_use_inbound_ifaddr` is 0 by default);
//! - a TCP reset is always sent from the offending packet's destination, also for a
//!   forwarded packet (spoofed); like the ICMP error it needs a route back to the sender;
//! - nothing is sent for a later fragment, for a packet to a broadcast or multicast address,
//!   or for a packet whose upper-layer checksum is wrong (`nf_reject_verify_csum` exempts
//!   UDP without checksum and protocols with other integrity checks). The check is skipped
//!   only for a packet whose checksum the kernel trusts or has yet to fill
//!   (`skb_csum_unnecessary`, `CHECKSUM_PARTIAL`): what a NIC validated, and what a normal
//!   local socket sends. A raw `IP_HDRINCL` packet is checked even in OUTPUT (measured);
//! - a RST or error for a locally generated packet is delivered locally through `lo`; a RST
//!   seen there carries only the pseudo-header checksum (`CHECKSUM_PARTIAL`: nothing fills
//!   it on `lo`), the bytes here have the full one, as a device would send it.

use std::net::IpAddr;

use crate::host::{Host, RouteType};
use crate::rules::ext::RejectWith;
use crate::wire::{ip, reply, IpInfo, IpProtocol};

/// Where REJECT met the packet, beyond the bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RejectSite {
    /// Routing delivered the packet to this host (INPUT; `RTCF_LOCAL`).
    pub local: bool,
    /// The packet's upper-layer checksum is not verified before answering: it was sent by
    /// a normal socket of this host (`CHECKSUM_PARTIAL`) or validated by the NIC
    /// (`CHECKSUM_UNNECESSARY`). False for packets from the wire without offload and for
    /// raw `IP_HDRINCL` packets.
    pub checksum_trusted: bool,
}

/// REJECT's reply to `offending` (see the module notes); `local`: the packet was routed to
/// this host. A packet from the wire is assumed (checksums verified).
pub fn reject_reply(
    with: &RejectWith,
    offending: &[u8],
    info: &IpInfo,
    host: &Host,
    local: bool,
) -> Option<Vec<u8>> {
    let site = RejectSite {
        local,
        checksum_trusted: false,
    };
    reject_reply_at(with, offending, info, host, site)
}

/// [`reject_reply`] with every fact about where the packet was met.
pub fn reject_reply_at(
    with: &RejectWith,
    offending: &[u8],
    info: &IpInfo,
    host: &Host,
    site: RejectSite,
) -> Option<Vec<u8>> {
    if info.is_later_fragment() || to_broadcast(info, host) {
        return None;
    }
    match *with {
        RejectWith::TcpReset => {
            if info.protocol != IpProtocol::Tcp {
                return None;
            }
            if !site.checksum_trusted && !reply::l4_checksum_ok(offending, info) {
                return None;
            }
            // nf_send_reset routes the RST (ip_route_me_harder, any source allowed): no
            // route back to the sender, no RST.
            host.route_output(info.src, None, 0).ok()?;
            reply::tcp_reset(offending)
        }
        RejectWith::Icmp { v6, kind, code } => {
            if v6 != info.is_ipv6() {
                return None;
            }
            if !site.checksum_trusted
                && needs_checksum(offending, info)
                && !reply::l4_checksum_ok(offending, info)
            {
                return None;
            }
            let src = error_source(info, host, site.local)?;
            reply::icmp_error(offending, kind, code, src)
        }
    }
}

/// `rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST)`: neither REJECT type answers those.
fn to_broadcast(info: &IpInfo, host: &Host) -> bool {
    match info.dst {
        IpAddr::V4(d) => {
            d.is_multicast()
                || d.is_broadcast()
                || host.addr_type_table(info.dst, None) == RouteType::Broadcast
        }
        IpAddr::V6(d) => d.is_multicast(),
    }
}

/// nf_reject_verify_csum: whether the upper layer carries a checksum netfilter checks
/// before answering (UDP only when its checksum is not zero; never GRE, AH, ESP, SCTP,
/// UDP-Lite, DCCP).
fn needs_checksum(offending: &[u8], info: &IpInfo) -> bool {
    match info.protocol {
        IpProtocol::Udp => {
            let at = usize::from(info.l4_offset) + 6;
            offending.get(at..at + 2).is_some_and(|c| c != [0, 0])
        }
        IpProtocol::Gre
        | IpProtocol::Ah
        | IpProtocol::Esp
        | IpProtocol::Sctp
        | IpProtocol::UdpLite
        | IpProtocol::Dccp => false,
        _ => true,
    }
}

/// The source of an ICMP error about `info` (see the module notes); `None` when there is no
/// route back to the sender (`icmp_route_lookup` / `icmpv6_route_lookup` fail, nothing is
/// sent, also for a packet that was addressed to this host).
pub fn error_source(info: &IpInfo, host: &Host, local: bool) -> Option<IpAddr> {
    let back = host.route_output(info.src, None, 0).ok()?;
    if local || (info.is_ipv6() && host.is_local(info.dst)) {
        return Some(info.dst);
    }
    back.src
}

/// The ICMP time exceeded the kernel sends for a packet it would forward with TTL ≤ 1
/// (`ip_forward`: `icmp_send(skb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0)`; `ip6_forward`:
/// `icmpv6_send(skb, ICMPV6_TIME_EXCEED, ICMPV6_EXC_HOPLIMIT, 0)`), from the address the
/// route back selects.
pub fn time_exceeded(offending: &[u8], host: &Host) -> Option<Vec<u8>> {
    let info = ip::parse(offending).ok()?;
    let src = error_source(&info, host, false)?;
    let kind = if info.is_ipv6() { 3 } else { 11 };
    reply::icmp_error(offending, kind, 0, src)
}

/// What the host's own stack answers to a packet delivered locally (after INPUT) that no
/// socket takes, for a host without listeners: `tcp_v4_send_reset` / `tcp_v6_send_reset`
/// for TCP, port unreachable for UDP (`__udp4_lib_rcv`, `__udp6_lib_rcv`), the echo reply
/// for an echo request, protocol unreachable (IPv4, `ip_protocol_deliver_rcu`) or
/// parameter problem "unrecognized next header" (IPv6, `ip6_protocol_deliver_rcu`) for a
/// protocol nothing handles. Every one of them first verifies the upper-layer checksum and
/// drops a packet that fails it; IPv6 also drops UDP with a zero checksum. `None` as well
/// for what the kernel answers in ways we do not model: other ICMP requests, protocols a
/// module may handle (IGMP, GRE, ESP, AH, SCTP, DCCP, tunnels), and echo requests to
/// broadcast or multicast addresses (`icmp_echo_ignore_broadcasts`). An IPv4 timestamp
/// request gets a timestamp reply only from [`local_reply_at`], which knows the time.
pub fn local_reply(offending: &[u8], host: &Host) -> Option<Vec<u8>> {
    local_reply_inner(offending, host, None)
}

/// [`local_reply`] at time `now_ns` (UTC nanoseconds): also answers an IPv4 timestamp
/// request (icmp_timestamp: receive and transmit time are the milliseconds since midnight
/// UT; to a unicast local address only, as echo requests).
pub fn local_reply_at(offending: &[u8], host: &Host, now_ns: i64) -> Option<Vec<u8>> {
    local_reply_inner(offending, host, Some(now_ns))
}

fn local_reply_inner(offending: &[u8], host: &Host, now_ns: Option<i64>) -> Option<Vec<u8>> {
    let info = ip::parse(offending).ok()?;
    if info.total_len as usize > offending.len() || info.frag.is_some() {
        return None;
    }
    let v6 = info.is_ipv6();
    match info.protocol {
        IpProtocol::Tcp => {
            if !reply::l4_checksum_ok(offending, &info) || !host.is_local(info.dst) {
                return None;
            }
            reply::closed_port_reset(offending)
        }
        IpProtocol::Udp => {
            let zero_sum = !needs_checksum(offending, &info);
            if (zero_sum && v6) || (!zero_sum && !reply::l4_checksum_ok(offending, &info)) {
                return None;
            }
            // __udp4_lib_rcv hands broadcast and multicast datagrams to
            // __udp4_lib_mcast_deliver, which never answers (nor does udp6's).
            if !host.is_local(info.dst) {
                return None;
            }
            let src = error_source(&info, host, true)?;
            let (kind, code) = if v6 { (1, 4) } else { (3, 3) };
            reply::icmp_error(offending, kind, code, src)
        }
        IpProtocol::Icmp | IpProtocol::Icmpv6 if (info.protocol == IpProtocol::Icmpv6) == v6 => {
            if !reply::l4_checksum_ok(offending, &info) || !host.is_local(info.dst) {
                return None;
            }
            if let (Some(now), crate::wire::L4Info::Icmp { msg_type: 13, .. }, false) =
                (now_ns, info.l4, v6)
            {
                let ms = (now.div_euclid(1_000_000) % 86_400_000) as u32;
                return reply::timestamp_reply(offending, info.dst, ms);
            }
            reply::echo_reply(offending, info.dst)
        }
        p if unhandled(v6, u8::from(p)) => {
            let src = error_source(&info, host, true)?;
            if v6 {
                let pointer = next_header_offset(offending)?;
                reply::icmp_error_info(offending, 4, 1, pointer, src)
            } else {
                reply::icmp_error(offending, 3, 2, src)
            }
        }
        _ => None,
    }
}

/// Whether no protocol handler takes `proto`: not one the stack always has (IPv4: ICMP,
/// IGMP, TCP, UDP, UDP-Lite; IPv6: TCP, UDP, ICMPv6, UDP-Lite, No Next Header, which ends
/// the packet silently), nor one a loaded module may take (IP-in-IP 4, DCCP 33, IPv6-in-IP
/// 41, GRE 47, ESP 50, AH 51, PIM 103, L2TP 115, SCTP 132, MPLS-in-IP 137): the answer to
/// those depends on the machine.
fn unhandled(v6: bool, proto: u8) -> bool {
    let stack: &[u8] = if v6 {
        &[6, 17, 58, 59, 136]
    } else {
        &[1, 2, 6, 17, 136]
    };
    !stack.contains(&proto) && ![4, 33, 41, 47, 50, 51, 103, 115, 132, 137].contains(&proto)
}

/// The offset of the next-header byte that names the upper-layer protocol of an IPv6
/// packet (`IP6CB(skb)->nhoff`): 6 without extension headers, else inside the last one.
fn next_header_offset(packet: &[u8]) -> Option<u32> {
    let v6 = crate::wire::ipv6::Packet::new_checked(packet).ok()?;
    let mut at = 6u32;
    for h in v6.ext_headers() {
        let h = h.ok()?;
        at = u32::try_from(h.offset).ok()?;
    }
    Some(at)
}

/// The per-destination rate limit a stock kernel puts on the ICMP errors it sends
/// (`icmpv4_xrlim_allow` / `icmpv6_xrlim_allow` → `inet_peer_xrlim_allow`): each destination
/// has a token bucket in time units that refills with the time passed, holds at most six
/// sends' worth (`XRLIM_BURST_FACTOR`), starts full, and pays `timeout` per error.
/// IPv4: `net.ipv4.icmp_ratelimit` (1000 ms) for the types in `icmp_ratemask` (destination
/// unreachable, source quench, time exceeded, parameter problem); not for errors routed
/// through `lo`. IPv6: `net.ipv6.icmp.ratelimit` (100 ms on Linux 6.18) for every error but
/// "packet too big". The kernel shortens the IPv6 timeout for routes shorter than /128, but
/// the route an error takes is a /128 copy: measured, a burst of six then one per 100 ms
/// towards an on-link neighbour. Echo replies and TCP resets are never limited. Times are
/// milliseconds; the kernel counts jiffies (4 ms at HZ=250). The namespace-wide limit
/// (`icmp_msgs_per_sec` 1000, burst 50) is not modelled: the kernel charges it a random 0
/// to 2 credits per error.
#[derive(Clone, Debug, Default)]
pub struct IcmpRateLimit {
    /// `icmp_ratelimit` / `icmp.ratelimit` in ms; 0 turns the limit off.
    pub v4_ms: u64,
    pub v6_ms: u64,
    /// Per destination: (tokens in ms, time of the last check in ms).
    peers: std::collections::HashMap<IpAddr, (u64, u64)>,
}

/// `XRLIM_BURST_FACTOR`.
const BURST_FACTOR: u64 = 6;

impl IcmpRateLimit {
    /// The stock sysctls: 1000 ms for IPv4, 100 ms for IPv6.
    pub fn stock() -> IcmpRateLimit {
        IcmpRateLimit {
            v4_ms: 1000,
            v6_ms: 100,
            peers: std::collections::HashMap::new(),
        }
    }

    /// Whether the ICMP error `error` (as `wire::reply` built it) may leave at `now_ms`;
    /// `host` gives the route back to its destination. Charges the bucket when it may.
    pub fn allow(&mut self, error: &[u8], host: &Host, now_ms: u64) -> bool {
        let Ok(info) = ip::parse(error) else {
            return true;
        };
        let crate::wire::L4Info::Icmp { msg_type, .. } = info.l4 else {
            return true;
        };
        let Some(timeout) = self.timeout(&info, msg_type, host) else {
            return true;
        };
        let (tokens, last) = self
            .peers
            .entry(info.dst)
            .or_insert((BURST_FACTOR * timeout, now_ms));
        let mut t = (*tokens + now_ms.saturating_sub(*last)).min(BURST_FACTOR * timeout);
        *last = now_ms;
        let ok = t >= timeout;
        if ok {
            t -= timeout;
        }
        *tokens = t;
        ok
    }

    /// The cost of one error of `msg_type` to `info.dst`, or `None` when it is not limited.
    fn timeout(&self, info: &IpInfo, msg_type: u8, host: &Host) -> Option<u64> {
        let route = host.route_output(info.dst, None, 0).ok()?;
        if route.dev == crate::host::LOOPBACK_IFINDEX {
            return None;
        }
        if info.is_ipv6() {
            if msg_type >= 128 || msg_type == 2 || self.v6_ms == 0 {
                return None;
            }
            Some(self.v6_ms)
        } else {
            // icmp_ratemask 0x1818.
            if !matches!(msg_type, 3 | 4 | 11 | 12) || self.v4_ms == 0 {
                return None;
            }
            Some(self.v4_ms)
        }
    }
}

#[cfg(test)]
mod local_reply_tests {
    use super::*;
    use crate::gen::script;
    use crate::verify::Injected;

    fn ip(line: &str) -> Vec<u8> {
        let host = Host::kubernetes_node();
        match script::parse(line, "t", &host)
            .expect("parses")
            .remove(0)
            .packet
        {
            Injected::Frame { frame, .. } => frame[14..].to_vec(),
            Injected::Local { ip } => ip,
        }
    }

    #[test]
    fn udp_to_a_broadcast_or_multicast_address_is_not_answered() {
        let host = Host::kubernetes_node();
        let unicast = ip("eth0 udp 192.168.0.7:5 > 192.168.0.2:9 len=4");
        assert!(local_reply(&unicast, &host).is_some());
        for dst in ["192.168.0.255", "255.255.255.255", "224.0.0.251"] {
            let b = ip(&format!("eth0 udp 192.168.0.7:5 > {dst}:9 len=4"));
            assert!(local_reply(&b, &host).is_none(), "{dst}");
        }
    }
}

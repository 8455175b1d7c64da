//! What the host sends itself, as the kernel builds and routes it: REJECT's answers, ICMP
//! errors (unreachable, time exceeded), the answers of its own stack to packets nothing
//! listens for (resets, port unreachable, echo replies), all through OUTPUT and
//! POSTROUTING like any locally generated packet, carrying the offending packet's
//! connection as `nf_ct_attach` gives it.

use std::net::IpAddr;

use super::outcome::{EmitKind, Emitted, Processed};
use super::stack::{view, Flight, Stack};
use crate::conntrack::{ConnId, CtState, Dir};
use crate::rules::ext::RejectWith;
use crate::rules::Hook;
use crate::wire::ip::L4Info;

impl<'r> Stack<'r> {
    /// Sends `ip` out of `iface` behind an Ethernet header: the interface's MAC as source,
    /// the next hop's (learned from frames read, else zero) as destination.
    pub(super) fn emit(
        &self,
        iface: &str,
        next_hop: IpAddr,
        ip: &[u8],
        kind: EmitKind,
        out: &mut Processed,
    ) {
        let src = self
            .host
            .interface(iface)
            .and_then(|i| i.mac)
            .unwrap_or([0; 6]);
        let dst = self.neighbours.get(&next_hop).copied().unwrap_or([0; 6]);
        let ethertype: u16 = if ip.first().is_some_and(|b| b >> 4 == 6) {
            0x86dd
        } else {
            0x0800
        };
        let mut frame = Vec::with_capacity(14 + ip.len());
        frame.extend_from_slice(&dst);
        frame.extend_from_slice(&src);
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame.extend_from_slice(ip);
        out.emitted.push(Emitted {
            iface: iface.to_string(),
            frame,
            kind,
            next_hop,
        });
    }

    /// REJECT's answer, sent through OUTPUT.
    pub(super) fn reject(
        &mut self,
        now_ns: i64,
        f: &Flight<'r>,
        hook: Hook,
        with: RejectWith,
        out: &mut Processed,
    ) {
        // __icmp_send: no ICMP error about a frame sent to a link-layer group address.
        if link_group(f) && !matches!(with, RejectWith::TcpReset) {
            return;
        }
        // The host's own ICMP messages (echo replies, errors) leave through the per-CPU
        // ICMP socket with icmp_xmit_lock held; an ICMP error about one of them in OUTPUT
        // finds the lock taken (icmp_xmit_lock's trylock fails) and is not sent. Measured:
        // an echo reply REJECTed in OUTPUT is counted once and answered by nothing.
        let own_icmp = f.host_made
            && matches!(
                f.info.protocol,
                crate::wire::ip::IpProtocol::Icmp | crate::wire::ip::IpProtocol::Icmpv6
            );
        if own_icmp && !matches!(with, RejectWith::TcpReset) {
            return;
        }
        let site = crate::engine::RejectSite {
            local: matches!(hook, Hook::Input | Hook::Output) && self.host.is_local(f.info.dst),
            // Only a normal socket's packets skip the check (NETFILTER note: raw
            // IP_HDRINCL packets in OUTPUT are checked too); captures hold finished packets.
            checksum_trusted: false,
        };
        if let Some(reply) =
            crate::engine::reject_reply_at(&with, &f.bytes, &f.info, self.host, site)
        {
            self.send_attached(now_ns, reply, f, out);
            // nf_send_reset ends with nf_ct_set_closing: the connection the reset
            // answered goes to CLOSE (the reset itself skips conntrack, it is attached).
            if matches!(with, RejectWith::TcpReset) && !f.untracked {
                if let (Some((id, _)), Some(t)) = (f.conn, self.conntrack.as_mut()) {
                    t.set_closing(id, now_ns);
                }
            }
        }
    }

    /// An ICMP error about `f` (destination unreachable), from the address icmp_send
    /// picks, sent through OUTPUT.
    pub(super) fn host_icmp_error(
        &mut self,
        now_ns: i64,
        f: &Flight<'r>,
        typ: u8,
        code: u8,
        out: &mut Processed,
    ) {
        if link_group(f) {
            return;
        }
        let local = self.host.is_local(f.info.dst);
        let Some(src) = crate::engine::error_source(&f.info, self.host, local) else {
            return;
        };
        if let Some(reply) = crate::wire::reply::icmp_error(&f.bytes, typ, code, src) {
            self.send_attached(now_ns, reply, f, out);
        }
    }

    /// Time exceeded for a packet whose TTL ran out while forwarding.
    pub(super) fn time_exceeded(&mut self, now_ns: i64, f: &Flight<'r>, out: &mut Processed) {
        if let Some(reply) = crate::engine::time_exceeded(&f.bytes, self.host) {
            self.send_attached(now_ns, reply, f, out);
        }
    }

    /// What the host's own stack answers to a packet delivered to it when nothing listens
    /// (tcp_v4_send_reset, icmp port unreachable, icmp_echo).
    pub(super) fn local_stack_reply(&mut self, now_ns: i64, f: &Flight<'r>, out: &mut Processed) {
        // A frame sent to a link-layer group address (DNAT may have made its IP
        // destination unicast): tcp_v4_rcv discards it (pkt_type not PACKET_HOST) and
        // __icmp_send sends no error about it ("no replies to physical multicast/
        // broadcast"); an echo request is still answered.
        let is_echo = matches!(
            f.info.l4,
            L4Info::Icmp {
                msg_type: 8 | 128,
                ..
            }
        );
        if link_group(f) && !is_echo {
            return;
        }
        if let Some(reply) = crate::engine::local_reply_at(&f.bytes, self.host, now_ns) {
            self.send_from_host(now_ns, reply, out);
        }
    }

    /// A packet the host makes itself goes through OUTPUT and POSTROUTING.
    pub(super) fn send_from_host(&mut self, now_ns: i64, ip: Vec<u8>, out: &mut Processed) {
        self.send_made(now_ns, ip, None, out);
    }

    /// An answer netfilter or icmp_send makes about `offending`: it carries the offending
    /// packet's connection, RELATED in the other direction (nf_ct_attach, called by
    /// nf_send_reset and by icmp_glue_bits for ICMP errors), so conntrack does not look it
    /// up at OUTPUT and NAT translates it also when that connection was never confirmed
    /// (a DNATed packet whose TTL ran out or that FORWARD rejected). An untracked or
    /// INVALID offending packet has none to give.
    pub(super) fn send_attached(
        &mut self,
        now_ns: i64,
        ip: Vec<u8>,
        offending: &Flight<'r>,
        out: &mut Processed,
    ) {
        let attach = offending.conn.filter(|_| !offending.untracked);
        self.send_made(now_ns, ip, attach, out);
    }

    pub(super) fn send_made(
        &mut self,
        now_ns: i64,
        ip: Vec<u8>,
        attach: Option<(ConnId, Dir)>,
        out: &mut Processed,
    ) {
        let Ok(info) = crate::wire::ip::parse(&ip) else {
            return;
        };
        let mut f = self.flight(&ip, info, None, None);
        f.host_made = true;
        if let (Some((id, dir)), Some(t)) = (attach, self.conntrack.as_ref()) {
            let dir = dir.opposite();
            f.conn = Some((id, dir));
            f.ct = Some(view(t, id, dir, CtState::Related, now_ns));
        }
        let mut inner = Processed::new();
        let outcome = self.output(now_ns, f, &mut inner);
        *self.host_replies.entry(outcome.category()).or_insert(0) += 1;
        for e in &mut inner.emitted {
            e.kind = EmitKind::HostReply;
        }
        out.emitted.extend(inner.emitted);
        out.log.extend(inner.log);
    }
}

/// Whether the packet arrived in a frame sent to a link-layer broadcast or multicast
/// address (`skb->pkt_type` not `PACKET_HOST`).
pub(super) fn link_group(f: &Flight<'_>) -> bool {
    f.link.is_some_and(|l| l.dst[0] & 1 == 1)
}

//! TRACE output: the legacy backend's kernel log lines (`trace_packet` in ip_tables.c and
//! ip6_tables.c, through `nf_log_trace` into the same dump as `-j LOG`), and what
//! `xtables-monitor --trace` prints for the nft backend, whose kernel sends trace events over
//! netlink (`nft_trace_notify`) rather than text. tests/log_kernel.rs compares the nft lines
//! with xtables-monitor; the legacy lines, like LOG's, are never written for a namespace
//! other than the initial one unless `nf_log_all_netns` is set, and follow the kernel source.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::log::{be32, flag, packet_line, LogContext};
use crate::rules::model::Backend;

/// Which TRACE event a line reports (ip_tables.c `comments[]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceKind {
    /// A rule matched (`rule`).
    Rule,
    /// Falling off the end of a user chain (`return`).
    Return,
    /// The built-in chain's policy applied (`policy`).
    Policy,
}

impl TraceKind {
    fn word(self) -> &'static str {
        match self {
            TraceKind::Rule => "rule",
            TraceKind::Return => "return",
            TraceKind::Policy => "policy",
        }
    }
}

/// A TRACE line. Legacy (`trace_packet` → `nf_log_trace`): `TRACE: table:chain:kind:n `
/// and the packet dumped with `NF_LOG_DEFAULT_MASK` (sequence numbers, TCP and IP options);
/// `n` counts the chain's rules from 1, and for `return`/`policy` is one more than its
/// last rule. `get_chainname_rulenum` calls *any* unconditional rule with a standard verdict
/// (`-j ACCEPT`, `-j DROP`, `-j RETURN` without a match) `policy` in a built-in chain and
/// `return` in a user chain, with its own number: the caller passes that kind. nft: the event as `xtables-monitor --trace` prints it, with `n` as the rule
/// handle, trace id 0 and no verdict or rule text; [`nft_trace_packet_line`] and
/// [`nft_trace_event_line`] write the real thing when the caller knows those.
pub fn trace_line(
    backend: Backend,
    table: &str,
    chain: &str,
    kind: TraceKind,
    n: usize,
    ctx: &LogContext,
    bytes: &[u8],
) -> String {
    match backend {
        Backend::Legacy => {
            let prefix = format!("TRACE: {table}:{chain}:{}:{n} ", kind.word());
            packet_line(&prefix, flag::DEFAULT_MASK, ctx, bytes)
        }
        Backend::Nft => {
            let v6 = bytes.first().is_some_and(|b| b >> 4 == 6);
            let mut s = nft_trace_packet_line(0, ctx, bytes);
            s.push('\n');
            let _ = write!(
                s,
                " TRACE: {} 00000000 {table}:{chain}:{}",
                nfproto(v6),
                kind.word()
            );
            if kind == TraceKind::Rule {
                let _ = write!(s, ":0x{n:x}");
            }
            s
        }
    }
}

/// The verdict word of an nft trace event (xtables-monitor's `trace_print_rule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NftVerdict<'a> {
    /// A rule that matched and did not decide (a match-only rule, MARK, LOG, TRACE ...).
    Continue,
    Accept,
    /// Also what REJECT reports: it is a DROP verdict with a reply on the side.
    Drop,
    Queue,
    Jump(&'a str),
    Goto(&'a str),
    /// An explicit `-j RETURN`: xtables-monitor 1.8.9 has no word for NFT_RETURN and prints
    /// its number, `0xfffffffb`.
    Return,
}

impl std::fmt::Display for NftVerdict<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NftVerdict::Continue => f.write_str("CONTINUE"),
            NftVerdict::Accept => f.write_str("ACCEPT"),
            NftVerdict::Drop => f.write_str("DROP"),
            NftVerdict::Queue => f.write_str("QUEUE"),
            NftVerdict::Jump(c) => write!(f, "JUMP:{c}"),
            NftVerdict::Goto(c) => write!(f, "GOTO:{c}"),
            NftVerdict::Return => f.write_str("0xfffffffb"),
        }
    }
}

/// One nft trace event (`NFT_TRACETYPE_RULE` or `NFT_TRACETYPE_POLICY`). nf_tables sends
/// no event when a packet falls off the end of a user chain: the next event is in the
/// calling chain. [`TraceKind::Return`] is printed as `return` for completeness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NftTraceEvent<'a> {
    pub table: &'a str,
    pub chain: &'a str,
    pub kind: TraceKind,
    /// The rule's nft handle. After one `iptables-nft-restore` of a table, handles count
    /// from 1 through the chains the table declares, then through its rules in file order
    /// (so the first rule of a filter table with INPUT, FORWARD, OUTPUT is 0x4).
    pub handle: u64,
    pub verdict: NftVerdict<'a>,
    /// The rule as iptables-save prints it (`-A INPUT -p udp -m udp --dport 53 -j ACCEPT`).
    pub rule: &'a str,
}

/// `NFPROTO_IPV4` / `NFPROTO_IPV6`, the family number xtables-monitor prints.
fn nfproto(v6: bool) -> u8 {
    if v6 {
        10
    } else {
        2
    }
}

/// An event line of `xtables-monitor --trace`: ` TRACE: 2 ID table:chain:rule:0xH:VERDICT
///  -4 -t table RULE` or ` TRACE: 2 ID table:chain:policy:VERDICT ` (`id` is the kernel's
/// per-packet trace id, a hash we cannot reproduce; any value keeps the layout).
pub fn nft_trace_event_line(v6: bool, id: u32, ev: &NftTraceEvent) -> String {
    let head = format!(
        " TRACE: {} {id:08x} {}:{}:",
        nfproto(v6),
        ev.table,
        ev.chain
    );
    match ev.kind {
        TraceKind::Rule => format!(
            "{head}rule:0x{:x}:{}  -{} -t {} {}",
            ev.handle,
            ev.verdict,
            if v6 { 6 } else { 4 },
            ev.table,
            ev.rule
        ),
        TraceKind::Return | TraceKind::Policy => {
            format!("{head}{}:{} ", ev.kind.word(), ev.verdict)
        }
    }
}

/// glibc's `ether_ntoa`: hex bytes without leading zeros.
fn ether_ntoa(a: &[u8; 6]) -> String {
    a.iter()
        .map(|b| format!("{b:x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The `PACKET:` line xtables-monitor prints before the first event of each base chain the
/// packet traverses (`trace_print_packet`): the kernel (`nf_trace_fill_*_header`) sends the
/// interfaces, the link header of a received packet, the network header, the bytes after
/// it as transport header (also for a later fragment, whose data then shows as ports:
/// measured), and the mark as it is at that first event (after the rule that produced it
/// ran).
pub fn nft_trace_packet_line(id: u32, ctx: &LogContext, bytes: &[u8]) -> String {
    let v6 = bytes.first().is_some_and(|b| b >> 4 == 6);
    let mut m = format!("PACKET: {} {id:08x} ", nfproto(v6));
    if let Some(i) = ctx.in_iface {
        let _ = write!(m, "IN={i} ");
    }
    if let Some(o) = ctx.out_iface {
        let _ = write!(m, "OUT={o} ");
    }
    if let (Some(i), Some((dst, src, proto))) = (ctx.in_iface, ctx.link) {
        if i == "lo" {
            // ARPHRD_LOOPBACK: the raw header as `%x` per byte.
            m.push_str("LL=0x304 ");
            for b in dst.iter().chain(&src).chain(&proto.to_be_bytes()) {
                let _ = write!(m, "{b:x}");
            }
            m.push(' ');
        } else {
            let _ = write!(
                m,
                "MACSRC={} MACDST={} MACPROTO={proto:04x} ",
                ether_ntoa(&src),
                ether_ntoa(&dst)
            );
        }
    }
    let (l4proto, l4off) = if v6 {
        nft_trace_ipv6(&mut m, bytes)
    } else {
        nft_trace_ipv4(&mut m, bytes)
    };
    nft_trace_transport(&mut m, l4proto, bytes.get(l4off..).unwrap_or(&[]));
    if ctx.mark != 0 {
        let _ = write!(m, "MARK=0x{:x} ", ctx.mark);
    }
    m
}

/// The IPv4 part of the PACKET line; returns (protocol, transport offset).
fn nft_trace_ipv4(m: &mut String, b: &[u8]) -> (u8, usize) {
    let Some(h) = b.get(..20) else {
        return (0, b.len());
    };
    let frag = u16::from_be_bytes([h[6], h[7]]);
    let _ = write!(
        m,
        "SRC={} DST={} LEN={} TOS=0x{:x} TTL={} ID={} ",
        Ipv4Addr::new(h[12], h[13], h[14], h[15]),
        Ipv4Addr::new(h[16], h[17], h[18], h[19]),
        u16::from_be_bytes([h[2], h[3]]),
        h[1],
        h[8],
        u16::from_be_bytes([h[4], h[5]])
    );
    for (bit, word) in [(0x8000, "CE "), (0x4000, "DF "), (0x2000, "MF ")] {
        if frag & bit != 0 {
            m.push_str(word);
        }
    }
    if frag & 0x1fff != 0 {
        let _ = write!(m, "FRAG:{} ", frag & 0x1fff);
    }
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if ihl > 20 {
        m.push_str("OPT (");
        for o in b.get(20..ihl).unwrap_or(&[]) {
            let _ = write!(m, "{o:02X}");
        }
        m.push(')');
    }
    (h[9], ihl)
}

/// The IPv6 part of the PACKET line. xtables-monitor takes the first next header as the
/// transport protocol, so a packet with extension headers shows no ports; and it adds
/// `sizeof(struct iphdr)` (20), not 40, to the payload length for `LEN=` (measured: a
/// 12-byte UDP datagram shows LEN=32).
fn nft_trace_ipv6(m: &mut String, b: &[u8]) -> (u8, usize) {
    let Some(h) = b.get(..40) else {
        return (0, b.len());
    };
    let first = be32(h, 0);
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&h[8..24]).unwrap_or([0; 16]));
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&h[24..40]).unwrap_or([0; 16]));
    let _ = write!(
        m,
        "SRC={src} DST={dst} LEN={} TC={} HOPLIMIT={} FLOWLBL={} ",
        usize::from(u16::from_be_bytes([h[4], h[5]])) + 20,
        (first & 0x0ff0_0000) >> 20,
        h[7],
        first & 0x000f_ffff
    );
    (h[6], 40)
}

/// The transport part of the PACKET line.
fn nft_trace_transport(m: &mut String, proto: u8, t: &[u8]) {
    match proto {
        17 | 33 | 132 | 136 if t.len() >= 4 => {
            let _ = write!(
                m,
                "SPORT={} DPORT={} ",
                u16::from_be_bytes([t[0], t[1]]),
                u16::from_be_bytes([t[2], t[3]])
            );
        }
        6 if t.len() >= 20 => {
            let _ = write!(
                m,
                "SPORT={} DPORT={} ",
                u16::from_be_bytes([t[0], t[1]]),
                u16::from_be_bytes([t[2], t[3]])
            );
            for (bit, word) in [
                (0x02, "SYN "),
                (0x10, "ACK "),
                (0x01, "FIN "),
                (0x04, "RST "),
                (0x08, "PSH "),
                (0x20, "URG "),
            ] {
                if t[13] & bit != 0 {
                    m.push_str(word);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod nft_tests {
    use super::*;

    /// Lines xtables-monitor 1.8.9 printed on Linux 6.18 (trace id kept from the capture).
    #[test]
    fn packet_and_event_lines_as_captured() {
        let mut udp = vec![
            0x45, 0x12, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 64, 17, 0, 0, 10, 9, 0, 2, 10, 9, 0, 1,
        ];
        udp.extend_from_slice(&[0x0f, 0xa0, 0x13, 0x88, 0, 12, 0, 0, b'a', b'b', b'c', b'd']);
        let ctx = LogContext {
            in_iface: Some("d0"),
            out_iface: None,
            link: Some((
                [0xca, 0xce, 0x84, 0xa8, 0x07, 0xb2],
                [2, 0, 0, 0, 0, 1],
                0x0800,
            )),
            mark: 0,
        };
        assert_eq!(
            nft_trace_packet_line(0x376ff559, &ctx, &udp),
            "PACKET: 2 376ff559 IN=d0 MACSRC=2:0:0:0:0:1 MACDST=ca:ce:84:a8:7:b2 \
             MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=32 TOS=0x12 TTL=64 ID=4660 DF \
             SPORT=4000 DPORT=5000 "
        );
        let ev = NftTraceEvent {
            table: "filter",
            chain: "INPUT",
            kind: TraceKind::Rule,
            handle: 6,
            verdict: NftVerdict::Goto("A"),
            rule: "-A INPUT -p udp -m udp --dport 5000 -g A",
        };
        assert_eq!(
            nft_trace_event_line(false, 0x376ff559, &ev),
            " TRACE: 2 376ff559 filter:INPUT:rule:0x6:GOTO:A  -4 -t filter -A INPUT -p udp -m udp --dport 5000 -g A"
        );
        let policy = NftTraceEvent {
            kind: TraceKind::Policy,
            verdict: NftVerdict::Accept,
            ..ev
        };
        assert_eq!(
            nft_trace_event_line(false, 0x376ff559, &policy),
            " TRACE: 2 376ff559 filter:INPUT:policy:ACCEPT "
        );
        let ret = NftTraceEvent {
            chain: "A",
            handle: 11,
            verdict: NftVerdict::Return,
            rule: "-A A -j RETURN",
            ..ev
        };
        assert_eq!(
            nft_trace_event_line(false, 0x376ff559, &ret),
            " TRACE: 2 376ff559 filter:A:rule:0xb:0xfffffffb  -4 -t filter -A A -j RETURN"
        );
        // A packet the host sends: no IN, no link header.
        let out = LogContext {
            out_iface: Some("d0"),
            ..LogContext::default()
        };
        let mut sent = udp.clone();
        sent[12..16].copy_from_slice(&[10, 9, 0, 1]);
        sent[16..20].copy_from_slice(&[10, 9, 0, 2]);
        sent[1] = 0;
        assert!(nft_trace_packet_line(1, &out, &sent)
            .starts_with("PACKET: 2 00000001 OUT=d0 SRC=10.9.0.1 DST=10.9.0.2 LEN=32 TOS=0x0 "));
    }
}

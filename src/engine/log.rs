//! The text of `-j LOG` lines and NFLOG records, as the kernel's nf_log_syslog.c (Linux 6.18)
//! writes them (`nf_log_ip_packet` / `nf_log_ip6_packet` with `dump_mac_header`,
//! `dump_ipv4_packet`, `dump_ipv6_packet`, `nf_log_dump_tcp_header`,
//! `nf_log_dump_udp_header`); legacy TRACE lines use the same dump (`engine::trace`).
//!
//! A line is what the kernel hands to printk, without the syslog level marker and timestamp:
//! `PREFIXIN=eth0 OUT= MAC=... SRC=... DST=... LEN=... ... ` — fields end with a space, so
//! the line does too. Inside a network namespace other than the initial one the kernel only
//! writes these lines when `net.netfilter.nf_log_all_netns` is 1; the text is the same.
//!
//! These lines cannot be read back from a test namespace (that needs the root namespace's
//! `nf_log_all_netns`), so they follow the source; the unit tests pin the layout. A packet
//! that arrived without a link header (`link: None`) is taken to come from a device without
//! one (tun): `MAC= `, also with `--log-macdecode`.
//!
//! What a replay cannot know is left out as the kernel leaves it out: `UID=`/`GID=` need a
//! local socket (`--log-uid` prints nothing for packets without one, e.g. every forwarded or
//! received packet), `PHYSIN=` needs a bridge, `VPROTO=` a VLAN tag left in the skb.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::rules::ext::{Log, Nflog};

/// `NF_LOG_*` flags (`XT_LOG_*` carries the same bits).
pub(super) mod flag {
    pub const TCPSEQ: u8 = 0x01;
    pub const TCPOPT: u8 = 0x02;
    pub const IPOPT: u8 = 0x04;
    pub const MACDECODE: u8 = 0x20;
    /// `NF_LOG_DEFAULT_MASK`: what legacy TRACE lines use (ip_tables.c `trace_loginfo`).
    pub const DEFAULT_MASK: u8 = 0x0f;
}

/// What LOG and TRACE need to know about the packet besides its bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogContext<'a> {
    /// The interface the packet arrived on (`IN=`; none in OUTPUT).
    pub in_iface: Option<&'a str>,
    /// The interface it leaves by (`OUT=`; none in PREROUTING and INPUT).
    pub out_iface: Option<&'a str>,
    /// Ethernet header of a received packet (dst, src, ethertype) for `MAC=`. With
    /// `in_iface` set and no link header (a tun device) the kernel prints `MAC= `; packets
    /// looped through `lo` carry an all-zero Ethernet header.
    pub link: Option<([u8; 6], [u8; 6], u16)>,
    /// The packet mark (`MARK=0x..` when not zero).
    pub mark: u32,
}

/// One kernel log line of `-j LOG` (see the module notes).
pub fn log_line(log: &Log, ctx: &LogContext, bytes: &[u8]) -> String {
    packet_line(&log.prefix, log.flags.0, ctx, bytes)
}

/// NFLOG hands the packet to userspace (nfnetlink_log) and writes no line itself. We write
/// what `-j LOG` with the same prefix and no flags would, which is also the body ulogd's
/// LOGEMU output plugin prints after its own timestamp and host name.
pub fn nflog_line(n: &Nflog, ctx: &LogContext, bytes: &[u8]) -> String {
    packet_line(&n.prefix, 0, ctx, bytes)
}

/// `nf_log_dump_packet_common` + the family's dump.
pub(super) fn packet_line(prefix: &str, flags: u8, ctx: &LogContext, bytes: &[u8]) -> String {
    let mut m = String::with_capacity(256);
    let _ = write!(
        m,
        "{prefix}IN={} OUT={} ",
        ctx.in_iface.unwrap_or(""),
        ctx.out_iface.unwrap_or("")
    );
    let v6 = bytes.first().is_some_and(|b| b >> 4 == 6);
    if ctx.in_iface.is_some() {
        dump_mac_header(&mut m, flags, ctx);
    }
    // ip_rcv / ipv6_rcv trimmed the skb to the IP length.
    let skb = trim(bytes, v6);
    let mut d = Dumper {
        m: &mut m,
        skb,
        flags,
        mark: ctx.mark,
    };
    if v6 {
        d.ipv6(0, true);
    } else {
        d.ipv4(0);
    }
    m
}

fn trim(bytes: &[u8], v6: bool) -> &[u8] {
    let len = if v6 {
        bytes
            .get(4..6)
            .map(|b| 40 + usize::from(u16::from_be_bytes([b[0], b[1]])))
    } else {
        bytes
            .get(2..4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    match len {
        Some(l) if l <= bytes.len() => &bytes[..l],
        _ => bytes,
    }
}

fn mac(a: &[u8; 6]) -> String {
    a.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// dump_mac_header / dump_ipv6_mac_header for an Ethernet device.
fn dump_mac_header(m: &mut String, flags: u8, ctx: &LogContext) {
    match ctx.link {
        Some((dst, src, proto)) if flags & flag::MACDECODE != 0 => {
            let _ = write!(
                m,
                "MACSRC={} MACDST={} MACPROTO={proto:04x} ",
                mac(&src),
                mac(&dst)
            );
        }
        Some((dst, src, proto)) => {
            let p = proto.to_be_bytes();
            let _ = write!(
                m,
                "MAC={}:{}:{:02x}:{:02x} ",
                mac(&dst),
                mac(&src),
                p[0],
                p[1]
            );
        }
        None => m.push_str("MAC= "),
    }
}

/// The ICMP types whose minimum length `dump_ipv4_packet` checks (`required_len`).
fn icmp_required_len(t: u8) -> usize {
    match t {
        0 | 8 => 4,
        3 | 4 | 5 | 11 | 12 => 8 + 20,
        13 | 14 => 20,
        17 | 18 => 12,
        _ => 0,
    }
}

struct Dumper<'s, 'b> {
    m: &'s mut String,
    skb: &'b [u8],
    flags: u8,
    mark: u32,
}

impl Dumper<'_, '_> {
    /// skb_header_pointer.
    fn header(&self, off: usize, len: usize) -> Option<&[u8]> {
        self.skb.get(off..off.checked_add(len)?)
    }

    fn incomplete(&mut self, off: usize) {
        let _ = write!(
            self.m,
            "INCOMPLETE [{} bytes] ",
            self.skb.len().saturating_sub(off)
        );
    }

    fn hex(&mut self, bytes: &[u8]) {
        for b in bytes {
            let _ = write!(self.m, "{b:02X}");
        }
    }

    /// dump_ipv4_packet; `iphoff` 0 for the packet, else the quoted datagram of an error.
    fn ipv4(&mut self, iphoff: usize) {
        let Some(ih) = self.header(iphoff, 20) else {
            self.m.push_str("TRUNCATED");
            return;
        };
        let ih: [u8; 20] = ih.try_into().unwrap_or([0; 20]);
        let ihl = usize::from(ih[0] & 0x0f) * 4;
        let tot_len = u16::from_be_bytes([ih[2], ih[3]]);
        let id = u16::from_be_bytes([ih[4], ih[5]]);
        let frag = u16::from_be_bytes([ih[6], ih[7]]);
        let src = Ipv4Addr::new(ih[12], ih[13], ih[14], ih[15]);
        let dst = Ipv4Addr::new(ih[16], ih[17], ih[18], ih[19]);
        let _ = write!(
            self.m,
            "SRC={src} DST={dst} LEN={tot_len} TOS=0x{:02X} PREC=0x{:02X} TTL={} ID={id} ",
            ih[1] & 0x1e,
            ih[1] & 0xe0,
            ih[8]
        );
        if frag & 0x8000 != 0 {
            self.m.push_str("CE ");
        }
        if frag & 0x4000 != 0 {
            self.m.push_str("DF ");
        }
        if frag & 0x2000 != 0 {
            self.m.push_str("MF ");
        }
        let fragoff = frag & 0x1fff;
        if fragoff != 0 {
            let _ = write!(self.m, "FRAG:{fragoff} ");
        }
        if self.flags & flag::IPOPT != 0 && ihl > 20 {
            let Some(op) = self.header(iphoff + 20, ihl - 20).map(<[u8]>::to_vec) else {
                self.m.push_str("TRUNCATED");
                return;
            };
            self.m.push_str("OPT (");
            self.hex(&op);
            self.m.push_str(") ");
        }
        let l4 = iphoff + ihl;
        match ih[9] {
            6 => {
                if self.tcp(6, fragoff != 0, l4) {
                    return;
                }
            }
            17 | 136 => {
                if self.udp(ih[9], fragoff != 0, l4) {
                    return;
                }
            }
            1 => self.icmpv4(iphoff, fragoff != 0, l4),
            51 | 50 => {
                // ESP names itself before the fragment check, AH after it.
                if ih[9] == 50 {
                    self.m.push_str("PROTO=ESP ");
                }
                if fragoff == 0 {
                    if ih[9] == 51 {
                        self.m.push_str("PROTO=AH ");
                    }
                    // AH's SPI follows next header, length and reserved; ESP starts with it.
                    let (need, at) = if ih[9] == 51 { (12, 4) } else { (8, 0) };
                    match self.header(l4, need).map(|h| be32(h, at)) {
                        Some(spi) => {
                            let _ = write!(self.m, "SPI=0x{spi:x} ");
                        }
                        None => self.incomplete(l4),
                    }
                }
            }
            p => {
                let _ = write!(self.m, "PROTO={p} ");
            }
        }
        if iphoff == 0 && self.mark != 0 {
            let _ = write!(self.m, "MARK=0x{:x} ", self.mark);
        }
    }

    fn icmpv4(&mut self, iphoff: usize, fragment: bool, l4: usize) {
        self.m.push_str("PROTO=ICMP ");
        if fragment {
            return;
        }
        let Some(ich) = self
            .header(l4, 8)
            .map(|h| <[u8; 8]>::try_from(h).unwrap_or([0; 8]))
        else {
            self.incomplete(l4);
            return;
        };
        let (t, code) = (ich[0], ich[1]);
        let _ = write!(self.m, "TYPE={t} CODE={code} ");
        let need = icmp_required_len(t);
        if need != 0 && self.skb.len().saturating_sub(l4) < need {
            self.incomplete(l4);
            return;
        }
        match t {
            0 | 8 => {
                let _ = write!(
                    self.m,
                    "ID={} SEQ={} ",
                    u16::from_be_bytes([ich[4], ich[5]]),
                    u16::from_be_bytes([ich[6], ich[7]])
                );
            }
            12 => {
                let _ = write!(self.m, "PARAMETER={} ", ich[4]);
            }
            3 | 4 | 5 | 11 => {
                if t == 5 {
                    let _ = write!(
                        self.m,
                        "GATEWAY={} ",
                        Ipv4Addr::new(ich[4], ich[5], ich[6], ich[7])
                    );
                }
                if iphoff == 0 {
                    self.m.push('[');
                    self.ipv4(l4 + 8);
                    self.m.push_str("] ");
                }
                if t == 3 && code == 4 {
                    let _ = write!(self.m, "MTU={} ", u16::from_be_bytes([ich[6], ich[7]]));
                }
            }
            _ => {}
        }
    }

    /// nf_log_dump_tcp_header; true when the dump must stop there.
    fn tcp(&mut self, _proto: u8, fragment: bool, off: usize) -> bool {
        self.m.push_str("PROTO=TCP ");
        if fragment {
            return false;
        }
        let Some(th) = self
            .header(off, 20)
            .map(|h| <[u8; 20]>::try_from(h).unwrap_or([0; 20]))
        else {
            self.incomplete(off);
            return true;
        };
        let _ = write!(
            self.m,
            "SPT={} DPT={} ",
            u16::from_be_bytes([th[0], th[1]]),
            u16::from_be_bytes([th[2], th[3]])
        );
        if self.flags & flag::TCPSEQ != 0 {
            let _ = write!(self.m, "SEQ={} ACK={} ", be32(&th, 4), be32(&th, 8));
        }
        let _ = write!(
            self.m,
            "WINDOW={} RES=0x{:02x} ",
            u16::from_be_bytes([th[14], th[15]]),
            // TCP_RESERVED_BITS is 0x0E000000 since the AccECN flag (AE) took the lowest.
            (th[12] & 0x0e) << 2
        );
        if th[12] & 0x01 != 0 {
            self.m.push_str("AE ");
        }
        let f = th[13];
        for (bit, word) in [
            (0x80, "CWR "),
            (0x40, "ECE "),
            (0x20, "URG "),
            (0x10, "ACK "),
            (0x08, "PSH "),
            (0x04, "RST "),
            (0x02, "SYN "),
            (0x01, "FIN "),
        ] {
            if f & bit != 0 {
                self.m.push_str(word);
            }
        }
        let _ = write!(self.m, "URGP={} ", u16::from_be_bytes([th[18], th[19]]));
        let doff = usize::from(th[12] >> 4) * 4;
        if self.flags & flag::TCPOPT != 0 && doff > 20 {
            let Some(op) = self.header(off + 20, doff - 20).map(<[u8]>::to_vec) else {
                self.m.push_str("OPT (TRUNCATED)");
                return true;
            };
            self.m.push_str("OPT (");
            self.hex(&op);
            self.m.push_str(") ");
        }
        false
    }

    /// nf_log_dump_udp_header; true when the dump must stop there.
    fn udp(&mut self, proto: u8, fragment: bool, off: usize) -> bool {
        self.m.push_str(if proto == 17 {
            "PROTO=UDP "
        } else {
            "PROTO=UDPLITE "
        });
        if fragment {
            return false;
        }
        let Some(uh) = self
            .header(off, 8)
            .map(|h| <[u8; 8]>::try_from(h).unwrap_or([0; 8]))
        else {
            self.incomplete(off);
            return true;
        };
        let _ = write!(
            self.m,
            "SPT={} DPT={} LEN={} ",
            u16::from_be_bytes([uh[0], uh[1]]),
            u16::from_be_bytes([uh[2], uh[3]]),
            u16::from_be_bytes([uh[4], uh[5]])
        );
        false
    }

    /// dump_ipv6_packet; `recurse` false inside an ICMPv6 error's quote.
    fn ipv6(&mut self, ip6hoff: usize, recurse: bool) {
        let Some(ih) = self.header(ip6hoff, 40) else {
            self.m.push_str("TRUNCATED");
            return;
        };
        let ih: [u8; 40] = ih.try_into().unwrap_or([0; 40]);
        let first = be32(&ih, 0);
        let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ih[8..24]).unwrap_or([0; 16]));
        let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&ih[24..40]).unwrap_or([0; 16]));
        let _ = write!(
            self.m,
            "SRC={src} DST={dst} LEN={} TC={} HOPLIMIT={} FLOWLBL={} ",
            usize::from(u16::from_be_bytes([ih[4], ih[5]])) + 40,
            (first & 0x0ff0_0000) >> 20,
            ih[7],
            first & 0x000f_ffff
        );
        let ipopt = self.flags & flag::IPOPT != 0;
        let mut fragment = false;
        let mut ptr = ip6hoff + 40;
        let mut current = ih[6];
        // nf_ip6_ext_hdr, without NEXTHDR_NONE (the loop's own condition).
        while matches!(current, 0 | 43 | 44 | 50 | 51 | 60) {
            let Some(hp) = self.header(ptr, 2).map(|h| [h[0], h[1]]) else {
                self.m.push_str("TRUNCATED");
                return;
            };
            if ipopt {
                self.m.push_str("OPT ( ");
            }
            let hdrlen = match current {
                44 => {
                    self.m.push_str("FRAG:");
                    let Some(fh) = self.header(ptr, 8).map(<[u8]>::to_vec) else {
                        self.m.push_str("TRUNCATED ");
                        return;
                    };
                    let off = u16::from_be_bytes([fh[2], fh[3]]);
                    let _ = write!(self.m, "{} ", off & 0xfff8);
                    if off & 1 != 0 {
                        self.m.push_str("INCOMPLETE ");
                    }
                    let _ = write!(self.m, "ID:{:08x} ", be32(&fh, 4));
                    if off & 0xfff8 != 0 {
                        fragment = true;
                    }
                    8
                }
                0 | 43 | 60 => {
                    if fragment {
                        if ipopt {
                            self.m.push(')');
                        }
                        return;
                    }
                    (usize::from(hp[1]) + 1) * 8
                }
                51 => {
                    if ipopt {
                        self.m.push_str("AH ");
                        if fragment {
                            self.m.push(')');
                            return;
                        }
                        match self.header(ptr, 12).map(|h| be32(h, 4)) {
                            Some(spi) => {
                                let _ = write!(self.m, "SPI=0x{spi:x} ");
                            }
                            None => {
                                let _ = write!(
                                    self.m,
                                    "INCOMPLETE [{} bytes] )",
                                    self.skb.len().saturating_sub(ptr)
                                );
                                return;
                            }
                        }
                    }
                    (usize::from(hp[1]) + 2) * 4
                }
                _ => {
                    // ESP: nothing after it can be read.
                    if ipopt {
                        self.m.push_str("ESP ");
                        if fragment {
                            self.m.push(')');
                            return;
                        }
                        match self.header(ptr, 8).map(|h| be32(h, 0)) {
                            Some(spi) => {
                                let _ = write!(self.m, "SPI=0x{spi:x} )");
                            }
                            None => {
                                let _ = write!(
                                    self.m,
                                    "INCOMPLETE [{} bytes] )",
                                    self.skb.len().saturating_sub(ptr)
                                );
                            }
                        }
                    }
                    return;
                }
            };
            if ipopt {
                self.m.push_str(") ");
            }
            current = hp[0];
            ptr += hdrlen;
        }
        match current {
            6 => {
                if self.tcp(6, fragment, ptr) {
                    return;
                }
            }
            17 | 136 => {
                if self.udp(current, fragment, ptr) {
                    return;
                }
            }
            58 => {
                if !self.icmpv6(fragment, ptr, recurse) {
                    return;
                }
            }
            p => {
                let _ = write!(self.m, "PROTO={p} ");
            }
        }
        if recurse && self.mark != 0 {
            let _ = write!(self.m, "MARK=0x{:x} ", self.mark);
        }
    }

    /// The ICMPv6 part of dump_ipv6_packet; false when the dump ends there.
    fn icmpv6(&mut self, fragment: bool, ptr: usize, recurse: bool) -> bool {
        self.m.push_str("PROTO=ICMPv6 ");
        if fragment {
            return true;
        }
        let Some(ic) = self
            .header(ptr, 8)
            .map(|h| <[u8; 8]>::try_from(h).unwrap_or([0; 8]))
        else {
            self.incomplete(ptr);
            return false;
        };
        let _ = write!(self.m, "TYPE={} CODE={} ", ic[0], ic[1]);
        match ic[0] {
            128 | 129 => {
                let _ = write!(
                    self.m,
                    "ID={} SEQ={} ",
                    u16::from_be_bytes([ic[4], ic[5]]),
                    u16::from_be_bytes([ic[6], ic[7]])
                );
            }
            1..=4 => {
                if ic[0] == 4 {
                    let _ = write!(self.m, "POINTER={:08x} ", be32(&ic, 4));
                }
                if recurse {
                    self.m.push('[');
                    self.ipv6(ptr + 8, false);
                    self.m.push_str("] ");
                }
                if ic[0] == 2 {
                    let _ = write!(self.m, "MTU={} ", be32(&ic, 4));
                }
            }
            _ => {}
        }
        true
    }
}

pub(super) fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(w) => u32::from_be_bytes([w[0], w[1], w[2], w[3]]),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::trace::{trace_line, TraceKind};
    use crate::rules::ext::LogFlags;
    use crate::rules::model::Backend;

    fn log(prefix: &str, flags: u8) -> Log {
        Log {
            level: 4,
            prefix: prefix.into(),
            flags: LogFlags(flags),
        }
    }

    /// 10.0.0.1:40000 → 10.0.0.2:22 SYN, TTL 64, id 0x1234, DF, one MSS option.
    fn syn() -> Vec<u8> {
        let mut p = vec![
            0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x40, 0x00, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p.extend_from_slice(&[0x9c, 0x40, 0x00, 0x16, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02]);
        p.extend_from_slice(&[0xfa, 0xf0, 0, 0, 0, 0, 2, 4, 5, 0xb4]);
        p
    }

    #[test]
    fn tcp_syn_line() {
        let ctx = LogContext {
            in_iface: Some("eth0"),
            out_iface: None,
            link: Some(([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x0800)),
            mark: 0x10,
        };
        assert_eq!(
            log_line(&log("in: ", 0), &ctx, &syn()),
            "in: IN=eth0 OUT= MAC=02:00:00:00:00:02:02:00:00:00:00:01:08:00 \
             SRC=10.0.0.1 DST=10.0.0.2 LEN=44 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF \
             PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 MARK=0x10 "
        );
        assert_eq!(
            log_line(&log("", 0x23), &ctx, &syn()),
            "IN=eth0 OUT= MACSRC=02:00:00:00:00:01 MACDST=02:00:00:00:00:02 MACPROTO=0800 \
             SRC=10.0.0.1 DST=10.0.0.2 LEN=44 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF \
             PROTO=TCP SPT=40000 DPT=22 SEQ=1 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 \
             OPT (020405B4) MARK=0x10 "
        );
    }

    #[test]
    fn output_has_no_mac_and_truncated_tcp_is_incomplete() {
        let ctx = LogContext {
            out_iface: Some("eth1"),
            ..LogContext::default()
        };
        let mut p = syn();
        p.truncate(30);
        p[3] = 30;
        assert_eq!(
            log_line(&log("", 0), &ctx, &p),
            "IN= OUT=eth1 SRC=10.0.0.1 DST=10.0.0.2 LEN=30 TOS=0x00 PREC=0x00 TTL=64 \
             ID=4660 DF PROTO=TCP INCOMPLETE [10 bytes] "
        );
    }

    #[test]
    fn ae_flag_reserved_bits_and_esp() {
        let mut p = syn();
        p[32] = 0x67; // data offset 6, reserved bits 0b011 and AE: RES=0x18
        let line = log_line(&log("", 0), &LogContext::default(), &p);
        assert!(
            line.contains(" WINDOW=64240 RES=0x18 AE SYN URGP=0 "),
            "{line}"
        );
        // ESP names itself before the fragment check; AH only for a first fragment.
        let mut esp = vec![
            0x45, 0, 0, 28, 0, 1, 0, 0x10, 64, 50, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        esp.extend_from_slice(&[0, 0, 0x12, 0x34, 0, 0, 0, 1]);
        let line = log_line(&log("", 0), &LogContext::default(), &esp);
        assert!(line.ends_with("ID=1 FRAG:16 PROTO=ESP "), "{line}");
        esp[7] = 0;
        let line = log_line(&log("", 0), &LogContext::default(), &esp);
        assert!(line.ends_with("ID=1 PROTO=ESP SPI=0x1234 "), "{line}");
        esp[7] = 0x10;
        esp[9] = 51;
        let line = log_line(&log("", 0), &LogContext::default(), &esp);
        assert!(line.ends_with("ID=1 FRAG:16 "), "{line}");
    }

    #[test]
    fn icmp_error_quote_is_dumped_once() {
        // An ICMP port unreachable from 10.0.0.2 quoting the SYN of syn().
        let quoted = syn();
        let mut p = vec![
            0x45, 0xc0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
        ];
        p.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&quoted);
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        let line = log_line(&log("", 0), &LogContext::default(), &p);
        assert_eq!(
            line,
            "IN= OUT= SRC=10.0.0.2 DST=10.0.0.1 LEN=72 TOS=0x00 PREC=0xC0 TTL=64 ID=0 \
             PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.1 DST=10.0.0.2 LEN=44 TOS=0x00 PREC=0x00 \
             TTL=64 ID=4660 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ] "
        );
    }

    #[test]
    fn ipv6_fragment_and_icmpv6_echo() {
        let mut p = vec![0x60, 0x01, 0x23, 0x45, 0, 16, 44, 64];
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(&[58, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
        p.extend_from_slice(&[128, 0, 0, 0, 0, 7, 0, 9]);
        let line = log_line(&log("", 0x04), &LogContext::default(), &p);
        assert_eq!(
            line,
            "IN= OUT= SRC=2001:db8::1 DST=2001:db8::2 LEN=56 TC=0 HOPLIMIT=64 FLOWLBL=74565 \
             OPT ( FRAG:0 INCOMPLETE ID:deadbeef ) PROTO=ICMPv6 TYPE=128 CODE=0 ID=7 SEQ=9 "
        );
    }

    #[test]
    fn legacy_trace_prefix() {
        let ctx = LogContext {
            in_iface: Some("eth0"),
            ..LogContext::default()
        };
        let line = trace_line(
            Backend::Legacy,
            "raw",
            "PREROUTING",
            TraceKind::Policy,
            3,
            &ctx,
            &syn(),
        );
        assert!(
            line.starts_with("TRACE: raw:PREROUTING:policy:3 IN=eth0 OUT= MAC= SRC=10.0.0.1 "),
            "{line}"
        );
        assert!(line.contains(" SEQ=1 ACK=0 ") && line.contains(" OPT (020405B4) "));
    }
}

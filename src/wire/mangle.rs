//! The mangle table's header rewrites, in place with incremental checksums, each with the
//! arithmetic of the kernel target it stands for:
//! - TTL / hop limit (`ipt_TTL.c`, `ip6t_HL.c`): set, increment saturating at 255,
//!   decrement saturating at 0. IPv4's header checksum covers the TTL/protocol word.
//! - TOS / DSCP / ECN (`xt_DSCP.c`'s `tos_tg` and `dscp_tg`, `ipt_ECN.c`): the TOS byte
//!   (IPv6 traffic class) changes; IPv4's header checksum follows.
//! - TCP MSS (`xt_TCPMSS.c`'s `tcpmss_mangle_packet`): lower an existing MSS option (never
//!   raise it, even for `--set-mss`), or insert one into a SYN without payload.
//!
//! One deliberate difference, measured (`tests/data/wire/tcpmss_kernel.txt`): the kernel
//! updates the TCP checksum for the MSS value with `inet_proto_csum_replace2` as if the option
//! sat at an even offset, so when an odd number of option bytes precede it (one NOP before
//! MSS) the segment leaves with a bad checksum. [`clamp_mss`] honours the offset, so the
//! checksum always equals a full recomputation; [`clamp_mss_as_kernel`] reproduces the
//! kernel's bytes, bad checksum included, for byte-exact comparisons with it.

use super::checksum;
use super::ip::IpProtocol;
use super::{be, ipv4, ipv6, tcp};
use super::{Error, Result};

/// A TTL / hop limit operation (iptables' `--ttl-set`, `--ttl-inc`, `--ttl-dec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HopLimitOp {
    Set(u8),
    Inc(u8),
    Dec(u8),
}

impl HopLimitOp {
    pub fn apply(self, old: u8) -> u8 {
        match self {
            HopLimitOp::Set(v) => v,
            HopLimitOp::Inc(v) => old.saturating_add(v),
            HopLimitOp::Dec(v) => old.saturating_sub(v),
        }
    }
}

/// Applies a TTL (IPv4) or hop limit (IPv6) operation; returns the new value.
pub fn hop_limit(packet: &mut [u8], op: HopLimitOp) -> Result<u8> {
    match version(packet)? {
        4 => {
            let mut p = ipv4::Packet::new_checked(packet)?;
            let old = p.ttl();
            let new = op.apply(old);
            // TTL and protocol share the 16-bit word at offset 8.
            let proto = u8::from(p.protocol());
            let c = checksum::update(
                p.checksum(),
                u16::from_be_bytes([old, proto]),
                u16::from_be_bytes([new, proto]),
            );
            p.set_ttl(new);
            p.set_checksum(c);
            Ok(new)
        }
        _ => {
            let mut p = ipv6::Packet::new_checked(packet)?;
            let new = op.apply(p.hop_limit());
            p.set_hop_limit(new);
            Ok(new)
        }
    }
}

fn version(packet: &[u8]) -> Result<u8> {
    match packet.first().map(|b| b >> 4) {
        Some(v @ (4 | 6)) => Ok(v),
        Some(_) => Err(Error::Malformed("IP version is neither 4 nor 6")),
        None => Err(Error::Truncated),
    }
}

/// Replaces the TOS byte (IPv6: traffic class) with `f(old)`; returns the new value. The
/// header checksum is updated only when the value changes, as the kernel does.
pub fn dsfield(packet: &mut [u8], f: impl FnOnce(u8) -> u8) -> Result<u8> {
    match version(packet)? {
        4 => {
            let mut p = ipv4::Packet::new_checked(packet)?;
            let old = p.tos();
            let new = f(old);
            if new != old {
                // The TOS byte is the low half of the first header word.
                let hi = p.as_bytes()[0];
                let c = checksum::update(
                    p.checksum(),
                    u16::from_be_bytes([hi, old]),
                    u16::from_be_bytes([hi, new]),
                );
                p.set_tos(new);
                p.set_checksum(c);
            }
            Ok(new)
        }
        _ => {
            let mut p = ipv6::Packet::new_checked(packet)?;
            let new = f(p.traffic_class());
            p.set_traffic_class(new);
            Ok(new)
        }
    }
}

/// The TOS target: `new = (old & !mask) ^ value` (`--set-tos value/mask`, `--and-tos`,
/// `--or-tos`, `--xor-tos` all reduce to this in iptables).
pub fn tos(packet: &mut [u8], value: u8, mask: u8) -> Result<u8> {
    dsfield(packet, |old| (old & !mask) ^ value)
}

/// The DSCP target: the six DSCP bits set, ECN kept.
pub fn dscp(packet: &mut [u8], dscp: u8) -> Result<u8> {
    dsfield(packet, |old| (old & 0x03) | (dscp << 2))
}

/// The ECN bits of the TOS byte set (`ipt_ECN`'s `--ecn-ip-ect`), DSCP kept.
pub fn ecn(packet: &mut [u8], ecn: u8) -> Result<u8> {
    dsfield(packet, |old| (old & !0x03) | (ecn & 0x03))
}

/// What an MSS rewrite did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MssOutcome {
    /// The option was lowered from `from` to `to`.
    Lowered { from: u16, to: u16 },
    /// The option was there and not above the new value: kept (the kernel never raises it).
    Kept(u16),
    /// An option was added with this value (only by [`tcpmss`]).
    Inserted(u16),
    /// No option and none added (payload present, header full, or not asked to).
    Absent,
}

/// Where the TCP segment starts and ends, for an unfragmented (or first-fragment) TCP packet.
fn tcp_span(packet: &[u8]) -> Result<(usize, usize, bool)> {
    let info = super::ip::parse(packet)?;
    if info.protocol != IpProtocol::Tcp || info.is_later_fragment() {
        return Err(Error::Unsupported("not a TCP segment with its header"));
    }
    let start = usize::from(info.l4_offset);
    let end = info.total_len as usize;
    tcp::Packet::new_checked(&packet[start..end])?;
    Ok((start, end, info.is_ipv6()))
}

/// Lowers the MSS option to `mss` if it is higher; never raises it. In place.
pub fn clamp_mss(packet: &mut [u8], mss: u16) -> Result<MssOutcome> {
    clamp(packet, mss, false)
}

/// [`clamp_mss`] with the kernel's checksum arithmetic: wrong when the MSS value sits at an
/// odd offset (see the module notes).
pub fn clamp_mss_as_kernel(packet: &mut [u8], mss: u16) -> Result<MssOutcome> {
    clamp(packet, mss, true)
}

fn clamp(packet: &mut [u8], mss: u16, as_kernel: bool) -> Result<MssOutcome> {
    let (start, end, _) = tcp_span(packet)?;
    let seg = &mut packet[start..end];
    let Some(at) = tcp::mss_value_offset(seg) else {
        return Ok(MssOutcome::Absent);
    };
    let old = be::u16(seg, at);
    if old <= mss {
        return Ok(MssOutcome::Kept(old));
    }
    // The kernel's `inet_proto_csum_replace2` takes the value as an aligned word.
    write_mss(seg, if as_kernel { at & !1 } else { at }, at, mss);
    Ok(MssOutcome::Lowered { from: old, to: mss })
}

/// Sets the MSS option to `mss` whatever its old value (not a kernel target: for building
/// test traffic). Returns the old value, or `None` if there is no option.
pub fn set_mss(packet: &mut [u8], mss: u16) -> Result<Option<u16>> {
    let (start, end, _) = tcp_span(packet)?;
    let seg = &mut packet[start..end];
    let Some(at) = tcp::mss_value_offset(seg) else {
        return Ok(None);
    };
    let old = be::u16(seg, at);
    write_mss(seg, at, at, mss);
    Ok(Some(old))
}

/// Writes the MSS value at `at`, updating the checksum as if it sat at `csum_at`.
fn write_mss(seg: &mut [u8], csum_at: usize, at: usize, mss: u16) {
    let old = be::u16(seg, at);
    let c = be::u16(seg, tcp::CHECKSUM_OFFSET);
    let c = checksum::update_at(c, csum_at, old, mss);
    be::set_u16(seg, tcp::CHECKSUM_OFFSET, c);
    be::set_u16(seg, at, mss);
}

/// The whole TCPMSS target on a packet that may grow: lower an existing option as
/// [`clamp_mss`]; without one, insert `MSS min(mss, 536)` (IPv4) or `min(mss, 1220)` (IPv6),
/// the RFC 1122 / RFC 8200 defaults the peer assumes without the option, at the start of the
/// options, if the segment carries no payload and its header has room. The IP length, IPv4
/// header checksum and TCP checksum follow. Bytes past the IP length are dropped first.
pub fn tcpmss(packet: &mut Vec<u8>, mss: u16) -> Result<MssOutcome> {
    match clamp_mss(packet, mss)? {
        MssOutcome::Absent => {}
        done => return Ok(done),
    }
    let (start, end, v6) = tcp_span(packet)?;
    let hl = tcp::Packet::new_checked(&packet[start..end])?.header_len();
    // "There is data after the header so the option can't be added without moving it".
    if end - start > hl || hl >= 60 {
        return Ok(MssOutcome::Absent);
    }
    let mss = mss.min(if v6 { 1220 } else { 536 });
    packet.truncate(end);
    let opt = [tcp::kind::MSS, 4, (mss >> 8) as u8, mss as u8];
    let at = start + tcp::HEADER_LEN;
    packet.splice(at..at, opt);

    // TCP checksum: the pseudo-header length grows by 4, the option word is new, and the
    // data-offset word changes.
    let seg_len = (end - start) as u32;
    let seg = &mut packet[start..];
    let mut c = be::u16(seg, tcp::CHECKSUM_OFFSET);
    c = checksum::update_u32(c, seg_len, seg_len + 4);
    c = checksum::update_u32(c, 0, u32::from_be_bytes(opt));
    let old_word = be::u16(seg, 12);
    seg[12] = seg[12].wrapping_add(0x10);
    c = checksum::update(c, old_word, be::u16(seg, 12));
    be::set_u16(seg, tcp::CHECKSUM_OFFSET, c);

    if v6 {
        let mut p = ipv6::Packet::new_unchecked(&mut packet[..]);
        let len = p.payload_len() + 4;
        p.set_payload_len(len);
    } else {
        let mut p = ipv4::Packet::new_unchecked(&mut packet[..]);
        let old = p.total_len();
        let c = checksum::update(p.checksum(), old, old + 4);
        p.set_total_len(old + 4);
        p.set_checksum(c);
    }
    Ok(MssOutcome::Inserted(mss))
}

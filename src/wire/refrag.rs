//! Refragmentation of a datagram that `defrag` reassembled, as the kernel does on output
//! (`ip_do_fragment`, `ip6_fragment`) after netfilter reassembled it.
//!
//! The kernel keeps the original fragments in the reassembled packet's `frag_list` and, on
//! output, sends them again as they were ("fast path"): same sizes and offsets, in offset
//! order, each with a copy of the (possibly NATed, TTL-decremented) datagram header. IPv4
//! fragments keep the IP id; DF and the reserved bit are cleared; fragments after the first
//! carry the options whose "copied" flag is set, the others overwritten by NOPs
//! (`ip_options_fragment`). IPv6 fragments get a *new* fragment id (`ipv6_select_ident`;
//! the caller supplies it) and the unfragmentable part (hop-by-hop, routing, and destination
//! options before a routing header: `ip6_find_1stfragopt`).
//!
//! When the old pieces do not fit (outgoing MTU below the largest fragment, or, with
//! [`Config::veth_headroom`], a fragment whose own header was shorter than the datagram's
//! header), the kernel re-cuts the datagram ("slow path") into pieces of
//! `min(mtu, largest fragment) - headers` bytes rounded down to 8. A datagram whose largest
//! fragment exceeds the outgoing MTU while DF is set (always, for IPv6) is not sent: the
//! kernel answers "fragmentation needed" / "packet too big".
//!
//! All of this was observed on the kernel: see `tests/data/wire/defrag_kernel.txt`.

use super::defrag::Reassembled;
use super::ip::IpProtocol;
use super::{be, ipv4, ipv6};
use super::{Error, Result};

/// How to refragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The outgoing interface's MTU.
    pub mtu: u32,
    /// Reproduce the headroom of frames injected with AF_PACKET into a veth (tcpreplay, the
    /// project's kernel comparisons): the kernel can then reuse a fragment only if its own
    /// header was at least as long as the datagram's. Frames from real NICs have room to
    /// spare, and the original pieces are always reused.
    pub veth_headroom: bool,
    /// The fragment id for IPv6 (the kernel draws a new one); ignored for IPv4.
    pub ipv6_ident: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            mtu: 1500,
            veth_headroom: false,
            ipv6_ident: 0,
        }
    }
}

/// The result of refragmenting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refrag {
    /// The fragments to send, in order.
    Fragments(Vec<Vec<u8>>),
    /// Not sent: too big for `mtu` (the kernel sends ICMP fragmentation needed / packet too
    /// big with this MTU).
    TooBig(u32),
}

/// Cuts `packet` (the reassembled datagram, possibly rewritten since) into fragments shaped
/// after `shape`'s original pieces (see the module notes).
pub fn refragment(packet: &[u8], shape: &Reassembled, cfg: &Config) -> Result<Refrag> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => refragment_v4(packet, shape, cfg),
        Some(6) => refragment_v6(packet, shape, cfg),
        Some(_) => Err(Error::Malformed("IP version is neither 4 nor 6")),
        None => Err(Error::Truncated),
    }
}

/// The pieces to cut: the original ones if they tile `payload_len` and each fits `space`
/// (and, with veth headroom, had a header at least `need_header` long); otherwise
/// `space`-sized ones.
fn plan(
    shape: &Reassembled,
    payload_len: usize,
    space: usize,
    need_header: usize,
    cfg: &Config,
) -> Vec<(usize, usize)> {
    let mut next = 0usize;
    let n = shape.pieces.len();
    let reuse = shape.pieces.iter().enumerate().all(|(i, p)| {
        let (off, len) = (p.offset as usize, p.len as usize);
        let ok = off == next
            && len <= space
            && (i + 1 == n || len % 8 == 0)
            && (i == 0 || !cfg.veth_headroom || usize::from(p.header_len) >= need_header);
        next = off + len;
        ok
    }) && next == payload_len;
    if reuse {
        return shape
            .pieces
            .iter()
            .map(|p| (p.offset as usize, p.len as usize))
            .collect();
    }
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload_len {
        let left = payload_len - off;
        let mut len = left.min(space);
        if len < left {
            len &= !7;
        }
        out.push((off, len));
        off += len;
    }
    out
}

fn refragment_v4(packet: &[u8], shape: &Reassembled, cfg: &Config) -> Result<Refrag> {
    let p = ipv4::Packet::new_checked(packet)?;
    let hlen = p.header_len();
    if p.dont_frag() && shape.max_frag_size > cfg.mtu {
        return Ok(Refrag::TooBig(cfg.mtu));
    }
    let mtu = if shape.max_frag_size > 0 {
        cfg.mtu.min(shape.max_frag_size)
    } else {
        cfg.mtu
    } as usize;
    if mtu < hlen + 8 {
        return Err(Error::Unsupported("MTU too small to fragment"));
    }
    let payload = p.payload();
    let pieces = plan(shape, payload.len(), mtu - hlen, hlen, cfg);
    let mut later_header = p.header().to_vec();
    options_fragment(&mut later_header[ipv4::HEADER_LEN..]);
    let n = pieces.len();
    let frags = pieces
        .iter()
        .enumerate()
        .map(|(i, &(off, len))| {
            let mut f = if i == 0 {
                p.header().to_vec()
            } else {
                later_header.clone()
            };
            f.extend_from_slice(&payload[off..off + len]);
            let mut h = ipv4::Packet::new_unchecked(&mut f[..]);
            h.set_total_len((hlen + len) as u16);
            h.set_flags_offset(false, false, i + 1 < n, off as u16);
            h.fill_checksum();
            f
        })
        .collect();
    Ok(Refrag::Fragments(frags))
}

/// `ip_options_fragment`: options without the "copied" flag become NOPs.
fn options_fragment(opts: &mut [u8]) {
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => return,
            1 => i += 1,
            kind => {
                let Some(&l) = opts.get(i + 1) else { return };
                let l = usize::from(l);
                if l < 2 || i + l > opts.len() {
                    return;
                }
                if kind & 0x80 == 0 {
                    opts[i..i + l].fill(1);
                }
                i += l;
            }
        }
    }
}

/// `ip6_find_1stfragopt`: the length of the unfragmentable part and the offset of the
/// next-header byte that ends it.
fn unfragmentable(b: &[u8]) -> Result<(usize, usize)> {
    let mut nh_at = 6;
    let mut off = ipv6::HEADER_LEN;
    let mut routing = false;
    loop {
        match IpProtocol::from(b[nh_at]) {
            IpProtocol::HopByHop => {}
            IpProtocol::Ipv6Route => routing = true,
            IpProtocol::Ipv6Opts if !routing => {}
            _ => return Ok((off, nh_at)),
        }
        let len = (usize::from(*b.get(off + 1).ok_or(Error::Truncated)?) + 1) * 8;
        if off + len > b.len() {
            return Err(Error::Truncated);
        }
        nh_at = off;
        off += len;
    }
}

fn refragment_v6(packet: &[u8], shape: &Reassembled, cfg: &Config) -> Result<Refrag> {
    let p = ipv6::Packet::new_checked(packet)?;
    let b = p.datagram();
    let (hlen, nh_at) = unfragmentable(b)?;
    if shape.max_frag_size > cfg.mtu {
        return Ok(Refrag::TooBig(cfg.mtu));
    }
    let mtu = if shape.max_frag_size > 0 {
        cfg.mtu.min(shape.max_frag_size)
    } else {
        cfg.mtu
    } as usize;
    if mtu < hlen + 8 + 8 {
        return Err(Error::Unsupported("MTU too small to fragment"));
    }
    let next = b[nh_at];
    let rest = &b[hlen..];
    let pieces = plan(shape, rest.len(), mtu - hlen - 8, hlen + 8, cfg);
    let n = pieces.len();
    let frags = pieces
        .iter()
        .enumerate()
        .map(|(i, &(off, len))| {
            let mut f = b[..hlen].to_vec();
            f[nh_at] = u8::from(IpProtocol::Ipv6Frag);
            let word = (off as u16 & 0xfff8) | u16::from(i + 1 < n);
            f.extend_from_slice(&[next, 0]);
            f.extend_from_slice(&word.to_be_bytes());
            f.extend_from_slice(&cfg.ipv6_ident.to_be_bytes());
            f.extend_from_slice(&rest[off..off + len]);
            let plen = (f.len() - ipv6::HEADER_LEN) as u16;
            be::set_u16(&mut f, 4, plen);
            f
        })
        .collect();
    Ok(Refrag::Fragments(frags))
}

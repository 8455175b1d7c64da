//! pcapng files (draft-ietf-opsawg-pcapng): a sequence of blocks, each `type, total length,
//! body, total length again`. A Section Header Block starts each section and sets its byte
//! order; Interface Description Blocks describe the section's interfaces (link type, snaplen,
//! `if_name`, `if_tsresol`, `if_tsoffset`); packets come in Enhanced Packet Blocks, Simple
//! Packet Blocks, or the obsolete Packet Block. Every other block type is skipped by its
//! length, as the format asks.
//!
//! Invariants: a block is accepted only if its length is at least 12, a multiple of 4, at most
//! [`MAX_BLOCK`], and repeated at its end (Wireshark's `pcapng_read_block` checks the same);
//! every field and option is read inside the block's own bytes, so nothing is sized by a
//! length that was not checked against the bytes present.

use super::interface::Interface;
use super::linktype::LinkType;
use super::step::{clamp_ns, Found, Order, Step};

pub(crate) const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// The largest block fwbench reads: 16 MiB. Wireshark's own limit is larger (it allows
/// D-Bus messages of 128 MiB) but no link type fwbench decodes needs more than 256 KiB, and
/// the limit bounds the memory a stream needs for one block.
pub(crate) const MAX_BLOCK: usize = 16 * 1024 * 1024;

/// More interfaces than this in one file is taken as damage: each one costs memory that
/// would otherwise grow with the file.
pub(crate) const MAX_INTERFACES: usize = 65_536;

// Option codes (draft-ietf-opsawg-pcapng §3.5, §4.2).
const OPT_ENDOFOPT: u16 = 0;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// What the hot path needs to know about an interface.
#[derive(Clone, Copy, Debug)]
struct Clock {
    link: LinkType,
    units: u64,
    offset_ns: i128,
    snaplen: u32,
}

impl Clock {
    /// Timestamp ticks to nanoseconds since the epoch. Sub-nanosecond resolutions are cut
    /// down (floor), as Wireshark's pcapng reader does.
    #[inline(always)]
    fn ns(&self, ticks: u64) -> i64 {
        let base = match self.units {
            1_000_000_000 => ticks as i128,
            1_000_000 => ticks as i128 * 1000,
            u => {
                let (t, u) = (ticks as u128, u as u128);
                ((t / u) * 1_000_000_000 + (t % u) * 1_000_000_000 / u) as i128
            }
        };
        clamp_ns(base + self.offset_ns)
    }
}

/// Parser state across blocks.
pub(crate) struct PcapNg {
    order: Order,
    /// Global index of the current section's interface 0.
    first: usize,
    sections: u32,
    /// One per interface of the file, parallel to the reader's interface list.
    clocks: Vec<Clock>,
}

impl PcapNg {
    pub(crate) fn new() -> PcapNg {
        PcapNg {
            order: Order { big: false },
            first: 0,
            sections: 0,
            clocks: Vec::new(),
        }
    }

    /// Parses the block at the start of `b`. The file's first block must be a Section
    /// Header Block; the reader checks that from the magic before the first step.
    #[inline]
    pub(crate) fn step(&mut self, b: &[u8], ifaces: &mut Vec<Interface>) -> Step {
        if b.len() < 12 {
            return Step::NeedMore(12);
        }
        let raw_type = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if raw_type == SHB {
            // The SHB type reads the same in both byte orders; its own order comes from the
            // byte-order magic that follows the length.
            return self.section(b, ifaces.len());
        }
        let o = self.order;
        let len = match block_len(b, o) {
            Ok(len) => len,
            Err(step) => return step,
        };
        match o.u32(b, 0) {
            EPB => self.packet(b, len, false),
            PB => self.packet(b, len, true),
            SPB => self.simple(b, len),
            IDB => self.interface(b, len, ifaces),
            _ => Step::Skip(len),
        }
    }

    fn section(&mut self, b: &[u8], n_ifaces: usize) -> Step {
        let order = match u32::from_be_bytes([b[8], b[9], b[10], b[11]]) {
            BYTE_ORDER_MAGIC => Order { big: true },
            m if m.swap_bytes() == BYTE_ORDER_MAGIC => Order { big: false },
            m => {
                return Step::Damaged {
                    at: 8,
                    what: format!("section header has byte-order magic {m:#010x}, not 0x1a2b3c4d"),
                }
            }
        };
        let len = match block_len(b, order) {
            Ok(len) => len,
            Err(step) => return step,
        };
        if len < 28 {
            return Step::Damaged {
                at: 4,
                what: format!("section header block of {len} bytes, shorter than 28"),
            };
        }
        let (major, minor) = (order.u16(b, 12), order.u16(b, 14));
        // Wireshark reads major version 1 only (pcapng.c: "unknown SHB version").
        if major != 1 {
            return Step::Damaged {
                at: 12,
                what: format!("pcapng version {major}.{minor} is not supported (only 1.x)"),
            };
        }
        self.order = order;
        self.first = n_ifaces;
        self.sections += 1;
        Step::Skip(len)
    }

    fn interface(&mut self, b: &[u8], len: usize, ifaces: &mut Vec<Interface>) -> Step {
        if len < 20 {
            return short("interface description", len, 20);
        }
        if ifaces.len() >= MAX_INTERFACES {
            return Step::Damaged {
                at: 0,
                what: format!("more than {MAX_INTERFACES} interfaces"),
            };
        }
        let o = self.order;
        let mut iface = Interface {
            name: None,
            description: None,
            link: LinkType::from(o.u16(b, 8)),
            snaplen: o.u32(b, 12),
            ts_units_per_sec: 1_000_000,
            ts_offset_s: 0,
            section: self.sections.saturating_sub(1),
        };
        let end = len - 4;
        let mut p = 16;
        while p + 4 <= end {
            let (code, olen) = (o.u16(b, p), o.u16(b, p + 2) as usize);
            if code == OPT_ENDOFOPT {
                break;
            }
            let v = p + 4;
            if v + olen > end {
                return Step::Damaged {
                    at: p,
                    what: format!("option {code} of {olen} bytes runs past the end of its block"),
                };
            }
            let val = &b[v..v + olen];
            match code {
                IF_NAME => iface.name = Some(text(val)),
                IF_DESCRIPTION => iface.description = Some(text(val)),
                IF_TSRESOL if olen >= 1 => match units(val[0]) {
                    Some(u) => iface.ts_units_per_sec = u,
                    None => {
                        return Step::Damaged {
                            at: v,
                            what: format!(
                                "if_tsresol {:#04x} is finer than 64 bits can count",
                                val[0]
                            ),
                        }
                    }
                },
                IF_TSOFFSET if olen >= 8 => iface.ts_offset_s = o.u64(b, v) as i64,
                _ => {}
            }
            p = v + ((olen + 3) & !3);
        }
        self.clocks.push(Clock {
            link: iface.link,
            units: iface.ts_units_per_sec,
            offset_ns: iface.ts_offset_s as i128 * 1_000_000_000,
            snaplen: iface.snaplen,
        });
        ifaces.push(iface);
        Step::Skip(len)
    }

    /// An Enhanced Packet Block or an obsolete Packet Block: the same layout, except that the
    /// Packet Block's interface id is 16 bits followed by a 16-bit drop count.
    #[inline(always)]
    fn packet(&self, b: &[u8], len: usize, obsolete: bool) -> Step {
        if len < 32 {
            return short("packet", len, 32);
        }
        let o = self.order;
        let local = if obsolete {
            o.u16(b, 8) as usize
        } else {
            o.u32(b, 8) as usize
        };
        let caplen = o.u32(b, 20) as usize;
        if caplen > len - 32 {
            return caplen_too_big(caplen, len);
        }
        let Some(clock) = self.clock(local) else {
            return self.no_interface(local);
        };
        let ticks = (o.u32(b, 12) as u64) << 32 | o.u32(b, 16) as u64;
        Step::Packet(Found {
            data_start: 28,
            data_len: caplen,
            next: len,
            ts_ns: clock.ns(ticks),
            orig_len: o.u32(b, 24),
            link: clock.link,
            interface: (self.first + local) as u32,
        })
    }

    /// A Simple Packet Block: interface 0 of the section, no timestamp (Wireshark shows
    /// time 0), captured length = min(original length, snaplen, what the block holds).
    fn simple(&self, b: &[u8], len: usize) -> Step {
        if len < 16 {
            return short("simple packet", len, 16);
        }
        let Some(clock) = self.clock(0) else {
            return self.no_interface(0);
        };
        let orig_len = self.order.u32(b, 8);
        let mut caplen = (orig_len as usize).min(len - 16);
        if clock.snaplen != 0 {
            caplen = caplen.min(clock.snaplen as usize);
        }
        Step::Packet(Found {
            data_start: 12,
            data_len: caplen,
            next: len,
            ts_ns: 0,
            orig_len,
            link: clock.link,
            interface: self.first as u32,
        })
    }

    #[inline(always)]
    fn clock(&self, local: usize) -> Option<&Clock> {
        self.clocks.get(self.first.checked_add(local)?)
    }

    #[cold]
    fn no_interface(&self, local: usize) -> Step {
        Step::Damaged {
            at: 8,
            what: format!(
                "packet names interface {local}, but its section describes {}",
                self.clocks.len() - self.first
            ),
        }
    }
}

/// Checks a block's length fields; `Err` holds the step to return instead.
#[inline(always)]
fn block_len(b: &[u8], o: Order) -> Result<usize, Step> {
    let len = o.u32(b, 4) as usize;
    if len < 12 || len % 4 != 0 || len > MAX_BLOCK {
        return Err(bad_len(len));
    }
    if b.len() < len {
        return Err(Step::NeedMore(len));
    }
    let trailer = o.u32(b, len - 4) as usize;
    if trailer != len {
        return Err(bad_trailer(len, trailer));
    }
    Ok(len)
}

#[cold]
fn bad_len(len: usize) -> Step {
    let what = if len > MAX_BLOCK {
        format!("block length {len} is over the {MAX_BLOCK}-byte limit")
    } else {
        format!("block length {len} is not a multiple of 4 of at least 12")
    };
    Step::Damaged { at: 4, what }
}

#[cold]
fn bad_trailer(len: usize, trailer: usize) -> Step {
    Step::Damaged {
        at: len - 4,
        what: format!("block length {len} is repeated as {trailer} at its end"),
    }
}

#[cold]
fn caplen_too_big(caplen: usize, len: usize) -> Step {
    Step::Damaged {
        at: 20,
        what: format!("captured length {caplen} does not fit in a packet block of {len} bytes"),
    }
}

#[cold]
fn short(what: &str, len: usize, min: usize) -> Step {
    Step::Damaged {
        at: 4,
        what: format!("{what} block of {len} bytes, shorter than {min}"),
    }
}

/// Option text: UTF-8 by the format; anything else is shown with replacement characters.
/// A trailing NUL (some writers add one) is not part of the name.
fn text(val: &[u8]) -> String {
    let val = val.strip_suffix(&[0]).unwrap_or(val);
    String::from_utf8_lossy(val).into_owned()
}

/// `if_tsresol`: top bit clear, 10^-n seconds; set, 2^-n seconds. `None` when the count
/// of units per second does not fit in 64 bits.
fn units(r: u8) -> Option<u64> {
    let n = (r & 0x7f) as u32;
    if r & 0x80 != 0 {
        1u64.checked_shl(n).filter(|_| n < 64)
    } else {
        10u64.checked_pow(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        assert_eq!(units(6), Some(1_000_000));
        assert_eq!(units(9), Some(1_000_000_000));
        assert_eq!(units(19), Some(10_000_000_000_000_000_000));
        assert_eq!(units(20), None);
        assert_eq!(units(0x80 | 10), Some(1024));
        assert_eq!(units(0x80 | 63), Some(1 << 63));
        assert_eq!(units(0x80 | 64), None);
    }

    #[test]
    fn clock_conversions() {
        let c = |units, off: i128| Clock {
            link: LinkType::Ethernet,
            units,
            offset_ns: off * 1_000_000_000,
            snaplen: 0,
        };
        assert_eq!(c(1_000_000, 0).ns(1_500_000), 1_500_000_000);
        assert_eq!(c(1_000_000_000, 0).ns(7), 7);
        // 2^-10 s units: 1.5 s = 1536 ticks.
        assert_eq!(c(1024, 0).ns(1536), 1_500_000_000);
        // 10^-12 s units: floor to nanoseconds.
        assert_eq!(c(1_000_000_000_000, 0).ns(1_999), 1);
        assert_eq!(c(1_000_000, -2).ns(1_000_000), -1_000_000_000);
        assert_eq!(c(1_000_000_000, 0).ns(u64::MAX), i64::MAX);
    }
}

//! Matches on what a packet carries or how it arrived rather than on an IP header field:
//! `-m tcpmss` (the MSS option of a TCP SYN), `-m pkttype` (unicast, broadcast, ... as the
//! link layer classed it) and `-m helper` (the conntrack helper of the packet's connection).

use std::fmt::Write;

use super::util::{parse_num_range, required, save_invert, save_string, write_range};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// `-m tcpmss --mss MIN[:MAX]` (needs `-p tcp`; only SYN packets carry the option).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpMss {
    pub mss_min: u16,
    pub mss_max: u16,
    pub invert: bool,
}

impl Extension for TcpMss {
    const NAME: &'static str = "tcpmss";
    const OPTIONS: &'static [Opt] = &[Opt::new("mss", Arity::One, true)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let o = required(opts, "tcpmss", "mss")?;
        let (lo, hi) = parse_num_range(o.arg(), 65535)
            .map_err(|e| o.bad(format!("tcpmss: argument to \"--mss\": {e}")))?;
        // Unlike --length, libxt_tcpmss refuses a reversed range.
        if lo > hi {
            return Err(o.bad("tcpmss: invalid range given"));
        }
        Ok(TcpMss {
            mss_min: lo as u16,
            mss_max: hi as u16,
            invert: o.invert,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.invert);
        out.push_str(" --mss ");
        write_range(out, self.mss_min, self.mss_max);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(if self.invert {
            " tcpmss match !"
        } else {
            " tcpmss match "
        });
        write_range(out, self.mss_min, self.mss_max);
    }
}

/// Packet type names (libxt_pkttype), the first name of a number being the one printed.
const PKT_TYPES: &[(&str, u8)] = &[
    ("unicast", PktType::HOST),
    ("broadcast", PktType::BROADCAST),
    ("multicast", PktType::MULTICAST),
    ("otherhost", PktType::OTHERHOST),
    ("bcast", PktType::BROADCAST),
    ("mcast", PktType::MULTICAST),
    ("host", PktType::HOST),
];

/// `-m pkttype --pkt-type TYPE`: the `skb->pkt_type` class (`PACKET_*` of if_packet.h).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PktType {
    pub pkttype: u8,
    pub invert: bool,
}

impl PktType {
    pub const HOST: u8 = 0;
    pub const BROADCAST: u8 = 1;
    pub const MULTICAST: u8 = 2;
    pub const OTHERHOST: u8 = 3;

    fn name(&self) -> &'static str {
        PKT_TYPES
            .iter()
            .find(|(_, t)| *t == self.pkttype)
            .map_or("?", |(name, _)| name)
    }
}

impl Extension for PktType {
    const NAME: &'static str = "pkttype";
    const OPTIONS: &'static [Opt] = &[Opt::new("pkt-type", Arity::One, true)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let o = required(opts, "pkttype", "pkt-type")?;
        let (_, pkttype) = PKT_TYPES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(o.arg()))
            .ok_or_else(|| {
                o.bad(format!(
                    "bad packet type '{}' (expected unicast, broadcast, multicast or otherhost)",
                    o.arg()
                ))
            })?;
        Ok(PktType {
            pkttype: *pkttype,
            invert: o.invert,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.invert);
        out.push_str(" --pkt-type ");
        out.push_str(self.name());
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let _ = write!(
            out,
            " PKTTYPE {}= {}",
            if self.invert { "!" } else { "" },
            self.name()
        );
    }
}

/// `-m helper --helper NAME`: the connection's conntrack helper (`ftp`, `sip`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Helper {
    /// At most 29 bytes (xt_helper_info's `char name[30]`).
    pub name: String,
    pub invert: bool,
}

/// Longest helper name: iptables 1.8.9 cuts a longer one to this many bytes without a word.
const HELPER_NAME_MAX: usize = 29;

impl Extension for Helper {
    const NAME: &'static str = "helper";
    const OPTIONS: &'static [Opt] = &[Opt::new("helper", Arity::One, true)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let o = required(opts, "helper", "helper")?;
        let mut end = o.arg().len().min(HELPER_NAME_MAX);
        while !o.arg().is_char_boundary(end) {
            end -= 1;
        }
        Ok(Helper {
            name: o.arg()[..end].to_string(),
            invert: o.invert,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.invert);
        out.push_str(" --helper");
        save_string(out, &self.name);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        let inv = if self.invert { "! " } else { "" };
        let _ = write!(out, " helper match {inv}\"{}\"", self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_lists, rule};
    use crate::rules::model::Family::Ipv4;

    /// Rows copied from `iptables -L -v` / `-L -v -n`, 1.8.9 nf_tables.
    #[test]
    fn lists_like_iptables() {
        let cases = [
            ("-p tcp -m tcpmss --mss 1460", " tcpmss match 1460"),
            (
                "-p tcp -m tcpmss ! --mss 1000:1500",
                " tcpmss match !1000:1500",
            ),
            ("-m pkttype ! --pkt-type host", " PKTTYPE != unicast"),
            ("-m pkttype --pkt-type mcast", " PKTTYPE = multicast"),
            ("-m helper --helper ftp", " helper match \"ftp\""),
            (
                "-m helper ! --helper \"sip x\"",
                " helper match ! \"sip x\"",
            ),
        ];
        for (text, list) in cases {
            assert_lists(Ipv4, text, list, list);
        }
    }

    #[test]
    fn long_helper_names_are_cut_as_iptables_cuts_them() {
        let p = rule(Ipv4, "-m helper --helper 123456789012345678901234567890").unwrap();
        assert_eq!(p.save, "-m helper --helper 12345678901234567890123456789");
    }
}

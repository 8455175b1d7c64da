//! What the conntrack-aware matches and targets see of a packet's connection, and their
//! evaluation: `-m state`, `-m conntrack` (xt_conntrack.c, revision 3), `-m connmark` and
//! `-j CONNMARK` (xt_connmark.c). The engine does not own the connection table; the caller
//! copies the facts of the packet's entry into a [`CtView`] before a walk and writes back
//! what a walk changed (the connection mark).

use std::net::IpAddr;

use crate::rules::ext::{CtAddr, CtStates, CtStatus, PortSpan};
use crate::rules::model::Neg;

/// One direction's tuple, as xt_conntrack compares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtTuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    /// Ports (TCP, UDP, SCTP, DCCP, UDP-Lite), the ICMP id as source; 0 otherwise.
    pub src_port: u16,
    pub dst_port: u16,
}

/// The connection entry a packet belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtConn {
    pub original: CtTuple,
    pub reply: CtTuple,
    /// `IPS_*` status bits.
    pub status: u32,
    /// The connection mark; CONNMARK changes it during a walk.
    pub mark: u32,
    /// Remaining lifetime in whole seconds (`--ctexpire`).
    pub expires_s: u64,
    /// Packets and bytes seen per direction (original, reply), for `-m connbytes`.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
}

/// The conntrack facts of one packet (`skb->_nfct` and its `ctinfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtView {
    /// One of `CtStates::{INVALID, NEW, ESTABLISHED, RELATED, UNTRACKED}`.
    pub state: u16,
    /// The packet travels in the reply direction.
    pub reply_dir: bool,
    /// The entry; `None` for INVALID and UNTRACKED packets.
    pub conn: Option<CtConn>,
}

impl CtView {
    pub fn invalid() -> CtView {
        CtView {
            state: CtStates::INVALID,
            reply_dir: false,
            conn: None,
        }
    }

    pub fn untracked() -> CtView {
        CtView {
            state: CtStates::UNTRACKED,
            reply_dir: false,
            conn: None,
        }
    }

    /// `-m state` (xt_state.c state_mt): the state bit only.
    pub fn state_matches(&self, states: &Neg<CtStates>) -> bool {
        (states.value.0 & self.state != 0) != states.invert
    }

    /// conntrack_mt (xt_conntrack.c, revision 3).
    pub fn conntrack_matches(&self, m: &crate::rules::ext::Conntrack) -> bool {
        // The state bit plus SNAT/DNAT when the entry is translated.
        let mut statebit = self.state;
        if let Some(c) = &self.conn {
            if c.status & IPS_SRC_NAT != 0 {
                statebit |= CtStates::SNAT;
            }
            if c.status & IPS_DST_NAT != 0 {
                statebit |= CtStates::DNAT;
            }
        }
        if let Some(s) = &m.state {
            if (statebit & s.value.0 == 0) != s.invert {
                return false;
            }
        }
        let Some(c) = &self.conn else {
            // "if (ct == NULL) return info->match_flags & XT_CONNTRACK_STATE".
            return m.state.is_some();
        };
        if let Some(d) = m.direction {
            let want_reply = matches!(d, crate::rules::ext::CtDir::Reply);
            if want_reply != self.reply_dir {
                return false;
            }
        }
        let addr_ok = |sel: &Option<Neg<CtAddr>>, a: IpAddr| {
            sel.as_ref()
                .map_or(true, |s| s.value.contains(a) != s.invert)
        };
        if !addr_ok(&m.origsrc, c.original.src)
            || !addr_ok(&m.origdst, c.original.dst)
            || !addr_ok(&m.replsrc, c.reply.src)
            || !addr_ok(&m.repldst, c.reply.dst)
        {
            return false;
        }
        if let Some(p) = &m.l4proto {
            if (c.original.protocol == p.value) == p.invert {
                return false;
            }
        }
        let port_ok = |sel: &Option<Neg<PortSpan>>, port: u16| {
            sel.as_ref().map_or(true, |s| {
                let hi = if s.value.hi == 0 {
                    s.value.lo
                } else {
                    s.value.hi
                };
                (s.value.lo <= port && port <= hi) != s.invert
            })
        };
        if !port_ok(&m.origsrc_port, c.original.src_port)
            || !port_ok(&m.origdst_port, c.original.dst_port)
            || !port_ok(&m.replsrc_port, c.reply.src_port)
            || !port_ok(&m.repldst_port, c.reply.dst_port)
        {
            return false;
        }
        if let Some(s) = &m.status {
            if (s.value.0 & c.status != 0) == s.invert {
                return false;
            }
        }
        if let Some(e) = &m.expires {
            let (lo, hi) = (u64::from(e.value.0), u64::from(e.value.1));
            if (lo <= c.expires_s && c.expires_s <= hi) == e.invert {
                return false;
            }
        }
        true
    }
}

/// `IPS_SRC_NAT` and `IPS_DST_NAT` (nf_conntrack_common.h).
pub const IPS_SRC_NAT: u32 = 1 << 4;
pub const IPS_DST_NAT: u32 = 1 << 5;

/// Silences the unused-import lint for the status type re-exported with the view.
pub type Status = CtStatus;

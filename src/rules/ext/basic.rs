//! `-m comment` and `-j REJECT`: the smallest match and target, and a model for the others.

use super::util::{once, save_string};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// The longest comment xt_comment stores.
const MAX_COMMENT: usize = 255;

/// `-m comment --comment TEXT` (xt_comment: at most 255 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
}

impl Extension for Comment {
    const NAME: &'static str = "comment";
    const OPTIONS: &'static [Opt] = &[Opt::new("comment", Arity::One, false)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let Some(o) = once(opts, "comment")? else {
            return Err(ExtError::whole("comment: --comment is required"));
        };
        // xt_comment keeps 256 bytes with the terminating NUL; iptables cuts longer text
        // to 255 bytes rather than refuse it (measured on 1.8.9, both variants).
        let mut text = o.arg();
        if text.len() > MAX_COMMENT {
            let mut end = MAX_COMMENT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text = &text[..end];
        }
        Ok(Comment {
            text: text.to_string(),
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" --comment");
        save_string(out, &self.text);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" /* ");
        out.push_str(&self.text);
        out.push_str(" */");
    }
}

/// What `-j REJECT` answers with (`--reject-with`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectWith {
    /// An ICMP (IPv4) or ICMPv6 error: (type, code).
    Icmp {
        v6: bool,
        kind: u8,
        code: u8,
    },
    TcpReset,
}

/// (canonical name, short alias, v6, icmp type, code), in the order of libipt_REJECT.c /
/// libip6t_REJECT.c, whose first name is what iptables prints.
const REJECT_TYPES: &[(&str, &str, bool, u8, u8)] = &[
    ("icmp-net-unreachable", "net-unreach", false, 3, 0),
    ("icmp-host-unreachable", "host-unreach", false, 3, 1),
    ("icmp-proto-unreachable", "proto-unreach", false, 3, 2),
    ("icmp-port-unreachable", "port-unreach", false, 3, 3),
    ("icmp-net-prohibited", "net-prohib", false, 3, 9),
    ("icmp-host-prohibited", "host-prohib", false, 3, 10),
    ("icmp-admin-prohibited", "admin-prohib", false, 3, 13),
    ("icmp6-no-route", "no-route", true, 1, 0),
    ("icmp6-adm-prohibited", "adm-prohibited", true, 1, 1),
    ("icmp6-addr-unreachable", "addr-unreach", true, 1, 3),
    ("icmp6-port-unreachable", "port-unreach", true, 1, 4),
    ("icmp6-policy-fail", "policy-fail", true, 1, 5),
    ("icmp6-reject-route", "reject-route", true, 1, 6),
];

/// `-j REJECT [--reject-with TYPE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub with: RejectWith,
}

impl Reject {
    pub fn type_name(&self) -> &'static str {
        match self.with {
            RejectWith::TcpReset => "tcp-reset",
            RejectWith::Icmp { v6, kind, code } => REJECT_TYPES
                .iter()
                .find(|t| t.2 == v6 && t.3 == kind && t.4 == code)
                .map_or("?", |t| t.0),
        }
    }
}

impl Extension for Reject {
    const NAME: &'static str = "REJECT";
    const OPTIONS: &'static [Opt] = &[Opt::new("reject-with", Arity::One, false)];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let v6 = ctx.v6();
        let with = match once(opts, "reject-with")? {
            None => RejectWith::Icmp {
                v6,
                kind: if v6 { 1 } else { 3 },
                code: if v6 { 4 } else { 3 },
            },
            Some(o) => {
                let name = o.arg();
                if name == "tcp-reset" || name == "tcp-rst" {
                    RejectWith::TcpReset
                } else if let Some(t) = REJECT_TYPES
                    .iter()
                    .find(|t| t.2 == v6 && (t.0 == name || t.1 == name))
                {
                    RejectWith::Icmp {
                        v6,
                        kind: t.3,
                        code: t.4,
                    }
                } else {
                    return Err(o.bad(format!("unknown reject type \"{name}\"")));
                }
            }
        };
        if with == RejectWith::TcpReset && ctx.exact_proto() != Some(6) {
            // ipt_REJECT's checkentry: "TCP_RESET invalid for non-tcp".
            return Err(ExtError::whole(
                "REJECT --reject-with tcp-reset is only valid with -p tcp",
            ));
        }
        Ok(Reject { with })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" --reject-with ");
        out.push_str(self.type_name());
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" reject-with ");
        out.push_str(self.type_name());
    }
}

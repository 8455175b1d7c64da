//! Connection-tracking setup targets of the raw table: `-j CT`, its alias `-j NOTRACK`, and
//! `-j TRACE`.
//!
//! `CT` (xt_ct_target_info_v1, revision 2) chooses how the packet's connection is created:
//! untracked, with a helper or timeout policy, in a zone, with an event mask. `NOTRACK` is
//! iptables' alias for `CT --notrack`: iptables-save prints `-j NOTRACK`, while `iptables -L`
//! shows the kernel's name `CT` in the target column and `NOTRACK` as the text (libxt_CT.c's
//! `XT_CT_NOTRACK_ALIAS`). `TRACE` has no options.

use std::fmt::Write;

use super::util::parse_num;
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};

/// `xt_ct_target_info` flags.
pub const CT_NOTRACK: u16 = 1 << 0;
/// The zone is taken from the packet's mark.
pub const CT_ZONE_MARK: u16 = 1 << 2;
/// The zone applies to the original direction only.
pub const CT_ZONE_DIR_ORIG: u16 = 1 << 3;
/// The zone applies to the reply direction only.
pub const CT_ZONE_DIR_REPL: u16 = 1 << 4;

/// Conntrack event names with their `IPCT_*` bit, in the order iptables prints them.
const CT_EVENTS: &[(&str, u32)] = &[
    ("new", 0),
    ("related", 1),
    ("destroy", 2),
    ("reply", 3),
    ("assured", 4),
    ("protoinfo", 5),
    ("helper", 6),
    ("mark", 7),
    ("natseqinfo", 8),
    ("secmark", 9),
];

/// Expectation events (`IPEXP_*`).
const EXP_EVENTS: &[(&str, u32)] = &[("new", 0)];

/// Conntrack helpers the kernel registers: (name, protocol, also for IPv6). A `CT --helper`
/// rule loads only when the rule's `-p` names the helper's protocol (`xt_ct_find_proto`);
/// `sip` exists for both TCP and UDP.
const HELPERS: &[(&str, u8, bool)] = &[
    ("ftp", 6, true),
    ("irc", 6, false),
    ("pptp", 6, false),
    ("sane", 6, true),
    ("Q.931", 6, true),
    ("sip", 6, true),
    ("sip", 17, true),
    ("tftp", 17, true),
    ("amanda", 17, true),
    ("RAS", 17, true),
    ("netbios-ns", 17, false),
    ("snmp", 17, false),
    ("snmp_trap", 17, false),
];

/// `-j CT`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ct {
    /// `CT_*` flags.
    pub flags: u16,
    /// `--helper NAME` (kernel field of 16 bytes).
    pub helper: Option<String>,
    /// `--timeout NAME`: a timeout policy object (nfct) that must exist in the kernel.
    pub timeout: Option<String>,
    /// `--ctevents`: bit `IPCT_*` per event.
    pub ct_events: u32,
    /// `--expevents`: bit `IPEXP_*` per event.
    pub exp_events: u32,
    /// `--zone ID`; 0 with [`CT_ZONE_MARK`] when the mark is used.
    pub zone: u16,
}

impl Ct {
    pub fn notrack(&self) -> bool {
        self.flags & CT_NOTRACK != 0
    }
}

/// `ev[,ev...]` against `table` (`ct_parse_events`: exact, case-sensitive names).
fn parse_events(o: &OptArg, table: &[(&str, u32)]) -> Result<u32, ExtError> {
    o.arg().split(',').try_fold(0, |mask, name| {
        table
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bit)| mask | 1 << bit)
            .ok_or_else(|| o.bad(format!("Unknown event type \"{name}\"")))
    })
}

fn write_events(out: &mut String, label: &str, table: &[(&str, u32)], mask: u32) {
    let _ = write!(out, " {label} ");
    let names: Vec<&str> = table
        .iter()
        .filter(|(_, bit)| mask & 1 << bit != 0)
        .map(|(n, _)| *n)
        .collect();
    out.push_str(&names.join(","));
}

/// A string option copied into a fixed kernel field (`XTOPT_PUT` of `XTTYPE_STRING`).
fn fixed_string(o: &OptArg, field_len: usize) -> Result<String, ExtError> {
    if o.arg().len() >= field_len {
        return Err(o.bad(format!(
            "--{} may be at most {} bytes long",
            o.name,
            field_len - 1
        )));
    }
    Ok(o.arg().to_string())
}

impl Extension for Ct {
    const NAME: &'static str = "CT";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("notrack", Arity::Zero, false),
        Opt::new("helper", Arity::One, false),
        Opt::new("timeout", Arity::One, false),
        Opt::new("ctevents", Arity::One, false),
        Opt::new("expevents", Arity::One, false),
        Opt::new("zone-orig", Arity::One, false),
        Opt::new("zone-reply", Arity::One, false),
        Opt::new("zone", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        let mut ct = Ct::default();
        for (i, o) in opts.iter().enumerate() {
            if opts[..i].iter().any(|p| p.name == o.name) {
                return Err(o.err(format!("CT: option \"--{}\" can only be used once", o.name)));
            }
            match o.name {
                "notrack" => ct.flags |= CT_NOTRACK,
                "helper" => ct.helper = Some(fixed_string(o, 16)?),
                "timeout" => ct.timeout = Some(fixed_string(o, 32)?),
                "ctevents" => ct.ct_events = parse_events(o, CT_EVENTS)?,
                "expevents" => ct.exp_events = parse_events(o, EXP_EVENTS)?,
                // ct_parse_zone_id: each zone option sets its direction flag (they add up) and
                // replaces the zone id.
                "zone" | "zone-orig" | "zone-reply" => {
                    ct.flags |= match o.name {
                        "zone-orig" => CT_ZONE_DIR_ORIG,
                        "zone-reply" => CT_ZONE_DIR_REPL,
                        _ => 0,
                    };
                    ct.zone = 0;
                    if o.arg().eq_ignore_ascii_case("mark") {
                        ct.flags |= CT_ZONE_MARK;
                    } else {
                        ct.zone = parse_num(o.arg(), 0, 65535).ok_or_else(|| {
                            o.bad(format!("Cannot parse {} as a zone ID", o.arg()))
                        })? as u16;
                    }
                }
                _ => {}
            }
        }
        // xt_ct_tg_check: an untracked packet needs no helper; otherwise the helper must exist
        // for the rule's protocol, which -p must name without `!`.
        if let (false, Some(name)) = (ct.notrack(), &ct.helper) {
            let proto = ctx.exact_proto();
            let known = HELPERS
                .iter()
                .any(|(n, p, v6)| n == name && Some(*p) == proto && (*v6 || !ctx.v6()));
            if !known {
                return Err(ExtError::whole(format!(
                    "CT --helper {name}: the kernel has no such helper for this rule's protocol \
                     (give -p tcp or -p udp as the helper requires)"
                )));
            }
        }
        Ok(ct)
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.print(out, "--");
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" CT");
        self.print(out, "");
    }
}

impl Ct {
    /// `ct_save_v1` / the tail of `ct_print_v1`, options after `prefix`.
    fn print(&self, out: &mut String, prefix: &str) {
        if self.notrack() {
            let _ = write!(out, " {prefix}notrack");
        }
        if let Some(h) = &self.helper {
            // iptables prints the name bare (no quoting).
            let _ = write!(out, " {prefix}helper {h}");
        }
        if let Some(t) = &self.timeout {
            let _ = write!(out, " {prefix}timeout {t}");
        }
        if self.ct_events != 0 {
            write_events(out, &format!("{prefix}ctevents"), CT_EVENTS, self.ct_events);
        }
        if self.exp_events != 0 {
            write_events(
                out,
                &format!("{prefix}expevents"),
                EXP_EVENTS,
                self.exp_events,
            );
        }
        if self.flags & CT_ZONE_MARK != 0 || self.zone != 0 {
            let _ = write!(out, " {prefix}zone");
            match self.flags & (CT_ZONE_DIR_ORIG | CT_ZONE_DIR_REPL) {
                CT_ZONE_DIR_ORIG => out.push_str("-orig"),
                CT_ZONE_DIR_REPL => out.push_str("-reply"),
                _ => {}
            }
            if self.flags & CT_ZONE_MARK != 0 {
                out.push_str(" mark");
            } else {
                let _ = write!(out, " {}", self.zone);
            }
        }
    }
}

/// `-j NOTRACK`: `CT --notrack` under its old name. No options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notrack;

impl Extension for Notrack {
    const NAME: &'static str = "NOTRACK";
    const OPTIONS: &'static [Opt] = &[];
    const LIST_NAME: &'static str = "CT";

    fn parse(_opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        Ok(Notrack)
    }

    fn save(&self, _out: &mut String, _ctx: &PrintCtx) {}

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" NOTRACK");
    }
}

/// `-j TRACE`: mark the packet for `nftrace` (iptables-nft) / the TRACE log. No options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace;

impl Extension for Trace {
    const NAME: &'static str = "TRACE";
    const OPTIONS: &'static [Opt] = &[];

    fn parse(_opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        Ok(Trace)
    }

    fn save(&self, _out: &mut String, _ctx: &PrintCtx) {}

    fn list(&self, _out: &mut String, _ctx: &PrintCtx) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::{Family, Proto, TableKind};
    use crate::rules::names::Names;

    fn ct(opts: &[(&'static str, &str)], proto: u8) -> Result<(String, String), String> {
        let opts: Vec<OptArg> = opts
            .iter()
            .map(|(n, a)| OptArg {
                name: n,
                invert: false,
                args: if a.is_empty() {
                    vec![]
                } else {
                    vec![a.to_string()]
                },
                col: 1,
                arg_cols: vec![2],
            })
            .collect();
        let pctx = ParseCtx {
            family: Family::Ipv4,
            table: TableKind::Raw,
            proto: Proto(proto),
            proto_inverted: false,
        };
        let ct = Ct::parse(&opts, &pctx).map_err(|e| e.message)?;
        let names = Names::from_texts("", "", "");
        let ctx = PrintCtx {
            numeric: false,
            family: Family::Ipv4,
            proto,
            names: &names,
        };
        let (mut s, mut l) = (String::new(), String::new());
        ct.save(&mut s, &ctx);
        ct.list(&mut l, &ctx);
        Ok((s, l))
    }

    // Expected texts are iptables 1.8.9's (iptables-save, iptables -L -v).
    #[test]
    fn ct_options_print_as_iptables() {
        let t = |s: &str, l: &str| Ok((s.to_string(), l.to_string()));
        assert_eq!(ct(&[], 0), t("", " CT"));
        assert_eq!(ct(&[("notrack", "")], 0), t(" --notrack", " CT notrack"));
        assert_eq!(
            ct(&[("helper", "ftp")], 6),
            t(" --helper ftp", " CT helper ftp")
        );
        assert_eq!(
            ct(&[("ctevents", "destroy,new,related,reply,assured,protoinfo,helper,mark,natseqinfo,secmark")], 0).unwrap().0,
            " --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark"
        );
        assert_eq!(
            ct(&[("ctevents", "new,new")], 0).unwrap().0,
            " --ctevents new"
        );
        assert_eq!(
            ct(&[("expevents", "new")], 0),
            t(" --expevents new", " CT expevents new")
        );
        assert_eq!(ct(&[("zone", "0x10")], 0), t(" --zone 16", " CT zone 16"));
        assert_eq!(ct(&[("zone", "0")], 0), t("", " CT"));
        assert_eq!(ct(&[("zone", "MARK")], 0).unwrap().0, " --zone mark");
        assert_eq!(
            ct(&[("zone-reply", "mark")], 0).unwrap().1,
            " CT zone-reply mark"
        );
        // Both directions given: plain "zone"; a later option replaces the id.
        assert_eq!(
            ct(&[("zone-orig", "5"), ("zone-reply", "6")], 0).unwrap().0,
            " --zone 6"
        );
        assert_eq!(
            ct(&[("zone", "mark"), ("zone-orig", "5")], 0).unwrap().0,
            " --zone-orig mark"
        );
        assert_eq!(
            ct(&[("notrack", ""), ("helper", "ftp")], 0),
            t(" --notrack --helper ftp", " CT notrack helper ftp")
        );
    }

    #[test]
    fn ct_errors() {
        assert!(ct(&[("helper", "ftp")], 0).is_err());
        assert!(ct(&[("helper", "ftp")], 17).is_err());
        assert!(ct(&[("helper", "FTP")], 6).is_err());
        assert!(ct(&[("helper", "sip")], 17).is_ok());
        assert!(ct(&[("ctevents", "NEW")], 0)
            .unwrap_err()
            .contains("Unknown event"));
        assert!(ct(&[("ctevents", "new,")], 0).is_err());
        assert!(ct(&[("expevents", "destroy")], 0).is_err());
        assert!(ct(&[("zone", "65536")], 0).unwrap_err().contains("zone ID"));
        assert!(ct(&[("zone", "5"), ("zone", "6")], 0)
            .unwrap_err()
            .contains("once"));
    }
}

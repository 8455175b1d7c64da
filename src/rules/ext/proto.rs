//! Protocol matches: `-m tcp`, `-m udp` (and the implicit ones `-p tcp --dport 80` loads).

use std::fmt::Write;

use super::util::{list_port, once, parse_port_range, parse_uint, save_invert, write_range};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::names::Names;

/// A port range with its negation, as xt_tcp/xt_udp (`0:65535` = not given) and
/// xt_sctp/xt_dccp keep it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
    pub invert: bool,
}

impl PortRange {
    pub const ANY: PortRange = PortRange {
        lo: 0,
        hi: 65535,
        invert: false,
    };

    pub fn contains(&self, port: u16) -> bool {
        (self.lo <= port && port <= self.hi) != self.invert
    }

    fn is_any(&self) -> bool {
        self.lo == 0 && self.hi == 65535
    }

    fn parse(o: Option<&OptArg>, proto: &str) -> Result<PortRange, ExtError> {
        let Some(o) = o else {
            return Ok(PortRange::ANY);
        };
        let names = Names::system();
        let range = if proto == "udp" {
            parse_udp_port_range(o.arg(), names)
        } else {
            parse_port_range(o.arg(), proto, names)
        };
        let (lo, hi) =
            range.ok_or_else(|| o.bad(format!("invalid port/service `{}' specified", o.arg())))?;
        Ok(PortRange {
            lo,
            hi,
            invert: o.invert,
        })
    }

    /// ` --sport 80` / ` ! --dport 1:1023` (nothing for the full range, as tcp_save does).
    fn save(&self, out: &mut String, opt: &str) {
        if !self.is_any() {
            self.save_given(out, opt);
        }
    }

    /// ` ! --dport 1:1023` even for the full range: sctp_save and dccp_save print every port
    /// option that was given.
    pub(super) fn save_given(&self, out: &mut String, opt: &str) {
        save_invert(out, self.invert);
        let _ = write!(out, " --{opt} ");
        write_range(out, self.lo, self.hi);
    }

    /// ` dpt:ssh` / ` dpts:!1024:65535` (print_ports of libxt_tcp, and of libxt_sctp and
    /// libxt_dccp): nothing for the full range unless it is negated.
    pub(super) fn list(&self, out: &mut String, label: &str, ctx: &PrintCtx, proto: &str) {
        if self.is_any() && !self.invert {
            return;
        }
        let inv = if self.invert { "!" } else { "" };
        if self.lo == self.hi {
            let _ = write!(out, " {label}:{inv}");
            list_port(out, self.lo, ctx, proto);
        } else {
            let _ = write!(out, " {label}s:{inv}");
            list_port(out, self.lo, ctx, proto);
            out.push(':');
            list_port(out, self.hi, ctx, proto);
        }
    }
}

/// iptables 1.8.9's udp match reads numeric ports as 32-bit values and keeps the low 16 bits
/// (`--dport 70000` becomes 4464; measured, while tcp refuses it). Mirrored so that what the
/// kernel accepts, we accept with the same meaning.
fn parse_udp_port_range(s: &str, names: &Names) -> Option<(u16, u16)> {
    let port = |p: &str, default: u16| -> Option<u16> {
        if p.is_empty() {
            return Some(default);
        }
        match parse_uint(p, u32::MAX.into()) {
            Some(n) => Some(n as u16),
            None => names.service_port(p, "udp"),
        }
    };
    let (lo, hi) = match s.split_once(':') {
        None => {
            let p = port(s, 0).filter(|_| !s.is_empty())?;
            (p, p)
        }
        Some((lo, hi)) => (port(lo, 0)?, port(hi, 65535)?),
    };
    (lo <= hi).then_some((lo, hi))
}

const PORT_OPTIONS: [Opt; 2] = [
    Opt::new("sport", Arity::One, true).alias(&["source-port"]),
    Opt::new("dport", Arity::One, true).alias(&["destination-port"]),
];

/// TCP flag names in the order iptables prints them (libxt_tcp's `tcp_flag_names`).
const TCP_FLAGS: &[(&str, u8)] = &[
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ALL", 0x3f),
    ("NONE", 0),
];

fn parse_tcp_flags(s: &str) -> Option<u8> {
    s.split(',').try_fold(0u8, |acc, name| {
        TCP_FLAGS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, bit)| acc | bit)
    })
}

fn write_tcp_flags(out: &mut String, mut flags: u8) {
    if flags == 0 {
        out.push_str("NONE");
        return;
    }
    let mut first = true;
    while flags != 0 {
        // Flags outside the named six (ECE, CWR) cannot be set through names; print them as
        // a number rather than loop forever as a lookup would.
        let Some((name, bit)) = TCP_FLAGS.iter().find(|(_, b)| *b != 0 && flags & b != 0) else {
            let _ = write!(out, "{}0x{flags:02X}", if first { "" } else { "," });
            return;
        };
        if !first {
            out.push(',');
        }
        out.push_str(name);
        flags &= !bit;
        first = false;
    }
}

/// `-m tcp`: ports, `--tcp-flags`, `--syn`, `--tcp-option`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tcp {
    pub sport: PortRange,
    pub dport: PortRange,
    /// `--tcp-flags MASK COMP`: (mask, comp, invert).
    pub flags: Option<(u8, u8, bool)>,
    /// `--tcp-option N`: (option kind, invert).
    pub option: Option<(u8, bool)>,
}

impl Extension for Tcp {
    const NAME: &'static str = "tcp";
    const OPTIONS: &'static [Opt] = &[
        PORT_OPTIONS[0],
        PORT_OPTIONS[1],
        Opt::new("syn", Arity::Zero, true),
        Opt::new("tcp-flags", Arity::Two, true),
        Opt::new("tcp-option", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let syn = once(opts, "syn")?;
        let tcp_flags = once(opts, "tcp-flags")?;
        let flags = match (syn, tcp_flags) {
            (Some(a), Some(_)) => {
                return Err(a.err("--syn and --tcp-flags cannot be given together"))
            }
            (Some(s), None) => Some((0x17, 0x02, s.invert)),
            (None, Some(f)) => {
                let mask = parse_tcp_flags(&f.args[0])
                    .ok_or_else(|| f.bad(format!("unknown TCP flag `{}'", f.args[0])))?;
                let comp = parse_tcp_flags(&f.args[1]).ok_or_else(|| ExtError {
                    message: format!("unknown TCP flag `{}'", f.args[1]),
                    col: f.arg_cols.get(1).copied(),
                })?;
                Some((mask, comp, f.invert))
            }
            (None, None) => None,
        };
        let option = match once(opts, "tcp-option")? {
            Some(o) => {
                let n = parse_uint(o.arg(), 255)
                    .ok_or_else(|| o.bad(format!("bad TCP option `{}'", o.arg())))?;
                Some((n as u8, o.invert))
            }
            None => None,
        };
        Ok(Tcp {
            sport: PortRange::parse(once(opts, "sport")?, "tcp")?,
            dport: PortRange::parse(once(opts, "dport")?, "tcp")?,
            flags,
            option,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.sport.save(out, "sport");
        self.dport.save(out, "dport");
        if let Some((kind, invert)) = self.option {
            save_invert(out, invert);
            let _ = write!(out, " --tcp-option {kind}");
        }
        if let Some((mask, comp, invert)) = self.flags {
            save_invert(out, invert);
            out.push_str(" --tcp-flags ");
            write_tcp_flags(out, mask);
            out.push(' ');
            write_tcp_flags(out, comp);
        }
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" tcp");
        self.sport.list(out, "spt", ctx, "tcp");
        self.dport.list(out, "dpt", ctx, "tcp");
        if let Some((kind, invert)) = self.option {
            let _ = write!(out, " option={}{kind}", if invert { "!" } else { "" });
        }
        if let Some((mask, comp, invert)) = self.flags {
            out.push_str(" flags:");
            if invert {
                out.push('!');
            }
            if ctx.numeric {
                let _ = write!(out, "0x{mask:02X}/0x{comp:02X}");
            } else {
                write_tcp_flags(out, mask);
                out.push('/');
                write_tcp_flags(out, comp);
            }
        }
    }
}

/// `-m udp`: ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Udp {
    pub sport: PortRange,
    pub dport: PortRange,
}

impl Extension for Udp {
    const NAME: &'static str = "udp";
    const OPTIONS: &'static [Opt] = &PORT_OPTIONS;

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        Ok(Udp {
            sport: PortRange::parse(once(opts, "sport")?, "udp")?,
            dport: PortRange::parse(once(opts, "dport")?, "udp")?,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.sport.save(out, "sport");
        self.dport.save(out, "dport");
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" udp");
        self.sport.list(out, "spt", ctx, "udp");
        self.dport.list(out, "dpt", ctx, "udp");
    }
}

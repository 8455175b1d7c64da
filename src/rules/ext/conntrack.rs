//! `-m state` and `-m conntrack`: matches on the connection tracking entry of a packet.
//!
//! Both load the kernel's xt_conntrack (`state` is an alias for conntrack revision 3 that only
//! sets the state mask), so they share [`CtStates`]. Everything here mirrors
//! extensions/libxt_conntrack.c: state and status names may be abbreviated (they are compared
//! with `strncasecmp` over the length written), addresses keep their host bits (the kernel
//! masks at match time), and the order of printing is fixed, whatever order was written.

use std::fmt::Write;
use std::net::IpAddr;

use super::util::{once, parse_num_range, parse_protocol, required, save_invert};
use super::xtaddr::{parse_host_mask, parse_service_port, width};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::addr::fmt_addr;
use crate::rules::model::Neg;
use crate::rules::names::Names;

/// A set of conntrack states: xt_conntrack's `state_mask`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CtStates(pub u16);

impl CtStates {
    /// `XT_CONNTRACK_STATE_INVALID`: no conntrack entry could be made.
    pub const INVALID: u16 = 1 << 0;
    /// `XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED)`.
    pub const ESTABLISHED: u16 = 1 << 1;
    /// `XT_CONNTRACK_STATE_BIT(IP_CT_RELATED)`.
    pub const RELATED: u16 = 1 << 2;
    /// `XT_CONNTRACK_STATE_BIT(IP_CT_NEW)`.
    pub const NEW: u16 = 1 << 3;
    /// `XT_CONNTRACK_STATE_SNAT`: the reply source differs from the original destination.
    pub const SNAT: u16 = 1 << 6;
    /// `XT_CONNTRACK_STATE_DNAT`.
    pub const DNAT: u16 = 1 << 7;
    /// `XT_CONNTRACK_STATE_UNTRACKED`: `-j NOTRACK`/`CT --notrack` packets.
    pub const UNTRACKED: u16 = 1 << 8;

    /// Names in the order `parse_state` tries them: the first one an abbreviation fits wins.
    const PARSE_ORDER: [(&'static str, u16); 7] = [
        ("INVALID", Self::INVALID),
        ("NEW", Self::NEW),
        ("ESTABLISHED", Self::ESTABLISHED),
        ("RELATED", Self::RELATED),
        ("UNTRACKED", Self::UNTRACKED),
        ("SNAT", Self::SNAT),
        ("DNAT", Self::DNAT),
    ];

    /// Names in the order `print_state` prints them.
    const PRINT_ORDER: [(&'static str, u16); 7] = [
        ("INVALID", Self::INVALID),
        ("NEW", Self::NEW),
        ("RELATED", Self::RELATED),
        ("ESTABLISHED", Self::ESTABLISHED),
        ("UNTRACKED", Self::UNTRACKED),
        ("SNAT", Self::SNAT),
        ("DNAT", Self::DNAT),
    ];

    pub fn contains(self, bit: u16) -> bool {
        self.0 & bit != 0
    }

    fn write(self, out: &mut String) {
        write_names(out, self.0, &Self::PRINT_ORDER);
    }
}

/// Conntrack status bits (`IPS_*` of nf_conntrack_common.h) that `--ctstatus` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CtStatus(pub u32);

impl CtStatus {
    pub const EXPECTED: u32 = 1 << 0;
    pub const SEEN_REPLY: u32 = 1 << 1;
    pub const ASSURED: u32 = 1 << 2;
    pub const CONFIRMED: u32 = 1 << 3;

    /// `conntrack_ps_status`'s order; NONE adds no bit.
    const PARSE_ORDER: [(&'static str, u32); 5] = [
        ("NONE", 0),
        ("EXPECTED", Self::EXPECTED),
        ("SEEN_REPLY", Self::SEEN_REPLY),
        ("ASSURED", Self::ASSURED),
        ("CONFIRMED", Self::CONFIRMED),
    ];

    fn write(self, out: &mut String) {
        if self.0 == 0 {
            out.push_str("NONE");
        } else {
            write_names(out, self.0, &Self::PARSE_ORDER[1..]);
        }
    }
}

fn write_names<T: Copy + Into<u32>>(out: &mut String, bits: T, names: &[(&str, T)]) {
    let bits = bits.into();
    let mut sep = "";
    for &(name, bit) in names {
        if bits & bit.into() != 0 {
            out.push_str(sep);
            out.push_str(name);
            sep = ",";
        }
    }
}

/// A comma-separated list of names, each possibly abbreviated (`est,rel`), as
/// `conntrack_ps_states` / `state_parse_states` read it. `what` names the list in errors.
fn parse_name_list<T: Copy + Into<u32>>(
    o: &OptArg,
    names: &[(&str, T)],
    what: &str,
) -> Result<u32, ExtError> {
    let arg = o.arg();
    let mut bits = 0u32;
    for item in arg.split(',') {
        // `strncasecmp(name, item, strlen(item))`: the item must be a prefix of the name.
        let found = names.iter().find(|(name, _)| {
            !item.is_empty()
                && item.len() <= name.len()
                && name[..item.len()].eq_ignore_ascii_case(item)
        });
        match found {
            Some(&(_, bit)) => bits |= bit.into(),
            None => return Err(o.bad(format!("Bad {what} \"{arg}\""))),
        }
    }
    Ok(bits)
}

/// `-m state [!] --state LIST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub states: Neg<CtStates>,
}

impl Extension for State {
    const NAME: &'static str = "state";
    const OPTIONS: &'static [Opt] = &[Opt::new("state", Arity::One, true)];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let o = required(opts, "state", "state")?;
        // state_parse_states: an empty last item gets its own message.
        if o.arg().is_empty() || o.arg().ends_with(',') {
            return Err(o.bad(
                "\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED",
            ));
        }
        // `state` knows the first five names only: SNAT and DNAT are conntrack's.
        let bits = parse_name_list(o, &CtStates::PARSE_ORDER[..5], "state")?;
        Ok(State {
            states: Neg::new(o.invert, CtStates(bits as u16)),
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        save_invert(out, self.states.invert);
        out.push_str(" --state ");
        self.states.value.write(out);
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        if self.states.invert {
            out.push_str(" !");
        }
        out.push_str(" state ");
        self.states.value.write(out);
    }
}

/// An address with a prefix length, as `--ctorigsrc 10.0.0.1/8` keeps it: host bits included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CtAddr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl CtAddr {
    /// conntrack_addrcmp: `a` under this address's mask equals the address under it.
    pub fn contains(&self, a: IpAddr) -> bool {
        match (self.addr, a) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let m = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & m == u32::from(a) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let m = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        }
    }

    fn parse(o: &OptArg, v6: bool) -> Result<Neg<CtAddr>, ExtError> {
        let (addr, prefix) = parse_host_mask(o.arg(), v6).map_err(|e| o.bad(e))?;
        Ok(Neg::new(o.invert, CtAddr { addr, prefix }))
    }

    /// `xtables_ipmask_to_numeric`: nothing for a host mask, else `/len`.
    fn write_mask(&self, out: &mut String) {
        if self.prefix < width(self.addr.is_ipv6()) {
            let _ = write!(out, "/{}", self.prefix);
        }
    }

    /// `conntrack_dump_addr`: without `-n` a zero address is `anywhere` whatever its mask, and
    /// other addresses are looked up in the hosts file.
    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push(' ');
        if !ctx.numeric {
            if self.addr.is_unspecified() {
                out.push_str("anywhere");
                return;
            }
            if let Some(name) = ctx.names.host_name(self.addr) {
                out.push_str(name);
                self.write_mask(out);
                return;
            }
        }
        fmt_addr(out, self.addr);
        self.write_mask(out);
    }
}

/// `lo[:hi]` of a conntrack port option (revision 3 keeps a range).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortSpan {
    pub lo: u16,
    pub hi: u16,
}

impl PortSpan {
    /// `xtopt_parse_mport`: up to two parts; an empty part keeps its default (0, 65535) and a
    /// single port is `lo:lo`. A reversed range is accepted (it then matches nothing).
    fn parse(o: &OptArg) -> Result<Neg<PortSpan>, ExtError> {
        let parts: Vec<&str> = o.arg().split(':').collect();
        if parts.len() > 2 {
            return Err(o.bad(format!(
                "Too many components for option \"--{}\" (max: 2)",
                o.name
            )));
        }
        let mut ends = [0u16, u16::MAX];
        for (end, part) in ends.iter_mut().zip(&parts) {
            if !part.is_empty() {
                *end = parse_service_port(part, Names::system()).ok_or_else(|| {
                    o.bad(format!("Port \"{part}\" does not resolve to anything"))
                })?;
            }
        }
        if parts.len() == 1 {
            ends[1] = ends[0];
        }
        Ok(Neg::new(
            o.invert,
            PortSpan {
                lo: ends[0],
                hi: ends[1],
            },
        ))
    }

    /// `conntrack_dump_ports`: one number when the range is a single port, or when its upper
    /// end is 0 (so `5:0` prints as `5`).
    fn write(&self, out: &mut String) {
        if self.hi == 0 || self.lo == self.hi {
            let _ = write!(out, "{}", self.lo);
        } else {
            let _ = write!(out, "{}:{}", self.lo, self.hi);
        }
    }
}

/// `--ctdir`: which direction of the connection the packet travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CtDir {
    Original,
    Reply,
}

/// `-m conntrack`: revision 3 of xt_conntrack, every option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conntrack {
    pub state: Option<Neg<CtStates>>,
    /// `--ctproto`: the layer-4 protocol number of the original tuple.
    pub l4proto: Option<Neg<u8>>,
    pub origsrc: Option<Neg<CtAddr>>,
    pub origdst: Option<Neg<CtAddr>>,
    pub replsrc: Option<Neg<CtAddr>>,
    pub repldst: Option<Neg<CtAddr>>,
    pub origsrc_port: Option<Neg<PortSpan>>,
    pub origdst_port: Option<Neg<PortSpan>>,
    pub replsrc_port: Option<Neg<PortSpan>>,
    pub repldst_port: Option<Neg<PortSpan>>,
    pub status: Option<Neg<CtStatus>>,
    /// `--ctexpire min[:max]`: remaining lifetime in seconds.
    pub expires: Option<Neg<(u32, u32)>>,
    pub direction: Option<CtDir>,
}

/// Address and port option names in printing order, as [`Conntrack::addrs`] and `ports` list them.
const ADDR_OPTS: [&str; 4] = ["ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst"];
const PORT_OPTS: [&str; 4] = [
    "ctorigsrcport",
    "ctorigdstport",
    "ctreplsrcport",
    "ctrepldstport",
];

impl Conntrack {
    fn addrs(&self) -> [&Option<Neg<CtAddr>>; 4] {
        [&self.origsrc, &self.origdst, &self.replsrc, &self.repldst]
    }

    fn ports(&self) -> [&Option<Neg<PortSpan>>; 4] {
        [
            &self.origsrc_port,
            &self.origdst_port,
            &self.replsrc_port,
            &self.repldst_port,
        ]
    }

    /// `conntrack_dump`: the same walk prints `-L` (prefix "") and save (prefix "--").
    fn dump(&self, out: &mut String, prefix: &str, ctx: &PrintCtx) {
        let opt = |out: &mut String, invert: bool, name: &str| {
            save_invert(out, invert);
            let _ = write!(out, " {prefix}{name}");
        };
        if let Some(s) = &self.state {
            opt(out, s.invert, "ctstate");
            out.push(' ');
            s.value.write(out);
        }
        if let Some(p) = &self.l4proto {
            opt(out, p.invert, "ctproto");
            let _ = write!(out, " {}", p.value);
        }
        for (name, addr) in ADDR_OPTS.iter().zip(self.addrs()) {
            if let Some(a) = addr {
                opt(out, a.invert, name);
                if prefix.is_empty() {
                    a.value.list(out, ctx);
                } else {
                    out.push(' ');
                    fmt_addr(out, a.value.addr);
                    a.value.write_mask(out);
                }
            }
        }
        for (name, port) in PORT_OPTS.iter().zip(self.ports()) {
            if let Some(p) = port {
                opt(out, p.invert, name);
                out.push(' ');
                p.value.write(out);
            }
        }
        if let Some(s) = &self.status {
            opt(out, s.invert, "ctstatus");
            out.push(' ');
            s.value.write(out);
        }
        if let Some(e) = &self.expires {
            opt(out, e.invert, "ctexpire");
            let (min, max) = e.value;
            if min == max {
                let _ = write!(out, " {min}");
            } else {
                let _ = write!(out, " {min}:{max}");
            }
        }
        if let Some(d) = self.direction {
            let dir = match d {
                CtDir::Original => "ORIGINAL",
                CtDir::Reply => "REPLY",
            };
            let _ = write!(out, " {prefix}ctdir {dir}");
        }
    }
}

/// `--ctexpire`: `xtopt_parse_mint` for two u32 values; an empty part takes its default and
/// a single value is both ends.
fn parse_expire(o: &OptArg) -> Result<Neg<(u32, u32)>, ExtError> {
    let (lo, hi) = parse_num_range(o.arg(), u32::MAX.into())
        .map_err(|e| o.bad(format!("conntrack: argument to \"--ctexpire\": {e}")))?;
    Ok(Neg::new(o.invert, (lo as u32, hi as u32)))
}

impl Extension for Conntrack {
    const NAME: &'static str = "conntrack";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("ctstate", Arity::One, true),
        Opt::new("ctproto", Arity::One, true),
        Opt::new("ctorigsrc", Arity::One, true),
        Opt::new("ctorigdst", Arity::One, true),
        Opt::new("ctreplsrc", Arity::One, true),
        Opt::new("ctrepldst", Arity::One, true),
        Opt::new("ctorigsrcport", Arity::One, true),
        Opt::new("ctorigdstport", Arity::One, true),
        Opt::new("ctreplsrcport", Arity::One, true),
        Opt::new("ctrepldstport", Arity::One, true),
        Opt::new("ctstatus", Arity::One, true),
        Opt::new("ctexpire", Arity::One, true),
        Opt::new("ctdir", Arity::One, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        if opts.is_empty() {
            return Err(ExtError::whole(
                "conntrack: At least one option is required",
            ));
        }
        let v6 = ctx.v6();
        let state = match once(opts, "ctstate")? {
            Some(o) => {
                let bits = parse_name_list(o, &CtStates::PARSE_ORDER, "ctstate")?;
                Some(Neg::new(o.invert, CtStates(bits as u16)))
            }
            None => None,
        };
        // conntrack_mt_parse checks "never match" before it records the `!`, so
        // `! --ctproto 0` passes; we accept it as iptables does.
        let l4proto = match once(opts, "ctproto")? {
            Some(o) => {
                let p = parse_protocol(o.arg())
                    .ok_or_else(|| o.bad(format!("unknown protocol \"{}\" specified", o.arg())))?;
                Some(Neg::new(o.invert, p))
            }
            None => None,
        };
        let addr = |name| -> Result<Option<Neg<CtAddr>>, ExtError> {
            once(opts, name)?.map(|o| CtAddr::parse(o, v6)).transpose()
        };
        let port = |name| -> Result<Option<Neg<PortSpan>>, ExtError> {
            once(opts, name)?.map(PortSpan::parse).transpose()
        };
        let status = match once(opts, "ctstatus")? {
            Some(o) => {
                let bits = parse_name_list(o, &CtStatus::PARSE_ORDER, "ctstatus")?;
                Some(Neg::new(o.invert, CtStatus(bits)))
            }
            None => None,
        };
        let direction = match once(opts, "ctdir")? {
            Some(o) if o.arg().eq_ignore_ascii_case("ORIGINAL") => Some(CtDir::Original),
            Some(o) if o.arg().eq_ignore_ascii_case("REPLY") => Some(CtDir::Reply),
            Some(o) => {
                return Err(o.bad(format!(
                    "Bad value for \"--ctdir\" option: \"{}\" (ORIGINAL or REPLY)",
                    o.arg()
                )))
            }
            None => None,
        };
        Ok(Conntrack {
            state,
            l4proto,
            origsrc: addr("ctorigsrc")?,
            origdst: addr("ctorigdst")?,
            replsrc: addr("ctreplsrc")?,
            repldst: addr("ctrepldst")?,
            origsrc_port: port("ctorigsrcport")?,
            origdst_port: port("ctorigdstport")?,
            replsrc_port: port("ctreplsrcport")?,
            repldst_port: port("ctrepldstport")?,
            status,
            expires: once(opts, "ctexpire")?.map(parse_expire).transpose()?,
            direction,
        })
    }

    fn save(&self, out: &mut String, ctx: &PrintCtx) {
        self.dump(out, "--", ctx);
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        self.dump(out, "", ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, check6, fails};
    use super::*;

    // Expected strings are iptables-nft 1.8.9's: save, `-L -v` and `-L -v -n` text after the
    // rule's fixed columns.

    #[test]
    fn state() {
        check::<State>(
            "--state ESTABLISHED,RELATED",
            " --state RELATED,ESTABLISHED",
            " state RELATED,ESTABLISHED",
            " state RELATED,ESTABLISHED",
        );
        check::<State>(
            "! --state NEW",
            " ! --state NEW",
            " ! state NEW",
            " ! state NEW",
        );
        check::<State>(
            "--state new,untracked",
            " --state NEW,UNTRACKED",
            " state NEW,UNTRACKED",
            " state NEW,UNTRACKED",
        );
        check::<State>(
            "--state est,r",
            " --state RELATED,ESTABLISHED",
            " state RELATED,ESTABLISHED",
            " state RELATED,ESTABLISHED",
        );
        fails::<State>("--state SNAT");
        fails::<State>("--state NEW,");
        fails::<State>("");
    }

    #[test]
    fn conntrack_states_and_protocols() {
        check::<Conntrack>(
            "--ctstate NEW,INVALID,UNTRACKED,SNAT,DNAT",
            " --ctstate INVALID,NEW,UNTRACKED,SNAT,DNAT",
            " ctstate INVALID,NEW,UNTRACKED,SNAT,DNAT",
            " ctstate INVALID,NEW,UNTRACKED,SNAT,DNAT",
        );
        check::<Conntrack>(
            "--ctstate est,rel,n,s,d,u,i",
            " --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT",
            " ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT",
            " ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT",
        );
        check::<Conntrack>(
            "--ctstate NEW --ctproto tcp",
            " --ctstate NEW --ctproto 6",
            " ctstate NEW ctproto 6",
            " ctstate NEW ctproto 6",
        );
        check::<Conntrack>(
            "! --ctproto all",
            " ! --ctproto 0",
            " ! ctproto 0",
            " ! ctproto 0",
        );
        fails::<Conntrack>("--ctstate NEW,");
        fails::<Conntrack>("--ctstate ,NEW");
        fails::<Conntrack>("--ctproto 256");
        fails::<Conntrack>("");
    }

    #[test]
    fn conntrack_addresses_keep_host_bits() {
        check::<Conntrack>(
            "! --ctproto udp --ctorigsrc 10.0.0.1 ! --ctorigdst 10.0.0.0/8 --ctreplsrc 1.2.3.4/255.0.255.0 --ctrepldst 0.0.0.0/0",
            " ! --ctproto 17 --ctorigsrc 10.0.0.1 ! --ctorigdst 10.0.0.0/8 --ctreplsrc 1.2.3.4 --ctrepldst 0.0.0.0/0",
            " ! ctproto 17 ctorigsrc 10.0.0.1 ! ctorigdst 10.0.0.0/8 ctreplsrc 1.2.3.4 ctrepldst anywhere",
            " ! ctproto 17 ctorigsrc 10.0.0.1 ! ctorigdst 10.0.0.0/8 ctreplsrc 1.2.3.4 ctrepldst 0.0.0.0/0",
        );
        check::<Conntrack>(
            "--ctorigsrc 0.0.0.0/8 --ctorigdst 0.0.0.0",
            " --ctorigsrc 0.0.0.0/8 --ctorigdst 0.0.0.0",
            " ctorigsrc anywhere ctorigdst anywhere",
            " ctorigsrc 0.0.0.0/8 ctorigdst 0.0.0.0",
        );
        check::<Conntrack>(
            "--ctorigsrc 127.0.0.1 --ctreplsrc 1.2.3",
            " --ctorigsrc 127.0.0.1 --ctreplsrc 1.2.0.3",
            " ctorigsrc localhost ctreplsrc 1.2.0.3",
            " ctorigsrc 127.0.0.1 ctreplsrc 1.2.0.3",
        );
        check::<Conntrack>(
            "--ctreplsrc 1.2.3.4/255.255.0.0 --ctrepldst 1.2.3.4/33",
            " --ctreplsrc 1.2.3.4/16 --ctrepldst 1.2.3.4",
            " ctreplsrc 1.2.3.4/16 ctrepldst 1.2.3.4",
            " ctreplsrc 1.2.3.4/16 ctrepldst 1.2.3.4",
        );
        fails::<Conntrack>("--ctrepldst 1.2.3.4/32 --ctrepldst 1.1.1.1");
        fails::<Conntrack>("--ctorigsrc 1.2.3.4.5");
    }

    #[test]
    fn conntrack_ipv6_addresses() {
        check6::<Conntrack>(
            "--ctorigsrc 2001:db8::1/64 ! --ctorigdst ::1 --ctreplsrc ::/0 --ctrepldst 2001:db8::/ffff:ffff::",
            " --ctorigsrc 2001:db8::1/64 ! --ctorigdst ::1 --ctreplsrc ::/0 --ctrepldst 2001:db8::/32",
            " ctorigsrc 2001:db8::1/64 ! ctorigdst ::1 ctreplsrc anywhere ctrepldst 2001:db8::/32",
            " ctorigsrc 2001:db8::1/64 ! ctorigdst ::1 ctreplsrc ::/0 ctrepldst 2001:db8::/32",
        );
        check6::<Conntrack>(
            "--ctorigsrc 2001:db8::1/ffff::ffff",
            " --ctorigsrc 2001:db8::1",
            " ctorigsrc 2001:db8::1",
            " ctorigsrc 2001:db8::1",
        );
        fails::<Conntrack>("--ctorigsrc 2001:db8::1");
    }

    #[test]
    fn conntrack_ports_status_expire_dir() {
        check::<Conntrack>(
            "--ctorigsrcport 22 ! --ctorigdstport 1000:2000 --ctreplsrcport 80: --ctrepldstport :1024",
            " --ctorigsrcport 22 ! --ctorigdstport 1000:2000 --ctreplsrcport 80:65535 --ctrepldstport 0:1024",
            " ctorigsrcport 22 ! ctorigdstport 1000:2000 ctreplsrcport 80:65535 ctrepldstport 0:1024",
            " ctorigsrcport 22 ! ctorigdstport 1000:2000 ctreplsrcport 80:65535 ctrepldstport 0:1024",
        );
        check::<Conntrack>(
            "--ctorigsrcport 5:0 --ctorigdstport 2000:1000 --ctreplsrcport 65536",
            " --ctorigsrcport 5 --ctorigdstport 2000:1000 --ctreplsrcport 0",
            " ctorigsrcport 5 ctorigdstport 2000:1000 ctreplsrcport 0",
            " ctorigsrcport 5 ctorigdstport 2000:1000 ctreplsrcport 0",
        );
        check::<Conntrack>(
            "--ctstatus ASSURED,EXPECTED,seen_reply,confirmed ! --ctexpire 10:20 --ctdir REPLY",
            " --ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED ! --ctexpire 10:20 --ctdir REPLY",
            " ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED ! ctexpire 10:20 ctdir REPLY",
            " ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED ! ctexpire 10:20 ctdir REPLY",
        );
        check::<Conntrack>(
            "--ctstatus none,a --ctexpire 10: --ctdir original",
            " --ctstatus ASSURED --ctexpire 10:4294967295 --ctdir ORIGINAL",
            " ctstatus ASSURED ctexpire 10:4294967295 ctdir ORIGINAL",
            " ctstatus ASSURED ctexpire 10:4294967295 ctdir ORIGINAL",
        );
        check::<Conntrack>(
            "--ctstatus NONE --ctexpire 0x10",
            " --ctstatus NONE --ctexpire 16",
            " ctstatus NONE ctexpire 16",
            " ctstatus NONE ctexpire 16",
        );
        fails::<Conntrack>("--ctorigsrcport 1:2:3");
        fails::<Conntrack>("--ctorigsrcport 0x16");
        fails::<Conntrack>("--ctexpire 4294967296");
        fails::<Conntrack>("! --ctdir REPLY");
        fails::<Conntrack>("--ctdir SIDEWAYS");
    }
}

//! Match and target extensions: one typed value per `-m NAME ...` or `-j NAME ...`.
//!
//! Each extension is a struct that implements [`Extension`]: the options it takes (so the rule
//! parser can hand it its arguments, as getopt does for iptables), how to build itself from
//! them, and how to print itself for `iptables-save` and for `iptables -L`. The `registry!`
//! invocations at the bottom turn the list of extensions into the [`MatchExt`] and
//! [`TargetExt`] enums and their look-up tables, so adding an extension is: write the struct
//! in the file of its family, add one line to the registry.
//!
//! Invariant: every value in these enums was produced by its `parse` and so prints back in the
//! canonical form iptables would print.

pub mod util;
// Helpers shared across the groups below.
mod diffserv;

mod basic;
mod proto;
// @modules-l4 (helper: l4 and header matches)
mod header;
mod icmp;
mod l4;
mod multiport;
mod packet;
#[cfg(test)]
mod testkit;
// @modules-ct (helper: conntrack and rate matches)
mod connection;
mod conntrack;
mod hashlimit;
mod rate;
mod tally;
mod xtaddr;
// @modules-addr (helper: address/interface/socket matches)
mod addrx;
mod iface;
mod policy;
mod set;
mod socket;
// @modules-nat (helper: nat, mark, CT targets)
mod ct;
mod mark;
mod misc;
mod nat;
// @modules-mangle (helper: log and packet-rewrite targets)
mod adjust;
mod log;
mod rewrite;
mod tos;

use super::model::{Family, Hook, Proto, TableKind};
use super::names::Names;
pub use addrx::{AddrTypes, LimitIface};
pub use adjust::Mss;
pub use basic::{Reject, RejectWith};
pub use connection::{Connbytes, ConnbytesDir, ConnbytesWhat, Connlimit, MarkMatch};
pub use conntrack::{Conntrack, CtAddr, CtDir, CtStates, CtStatus, PortSpan, State};
pub use header::Ecn;
pub use l4::{ChunkMatch, SctpChunks};
pub use log::{Log, LogFlags, Nflog};
pub use mark::{Connmark as ConnmarkTarget, ConnmarkMode, Mark as MarkTarget, ShiftDir};
pub use multiport::MultiportDir;
pub use nat::{Dnat, Masquerade, NatRange, Netmap, Redirect, Snat};
pub use packet::PktType;
pub use proto::{PortRange, Tcp, Udp};
pub use rewrite::{Hl as HlTarget, HopMode, Ttl as TtlTarget};
pub use socket::Owner;
pub use util::{ExtError, OptArg};
// The stateful engine (engine::stateful) evaluates these.
pub use hashlimit::{Hashlimit, HashlimitMode};
pub use misc::{SetRef, SetTarget};
pub use rate::Limit;
pub use set::{CounterMatch, CounterOp, Set, SetDir};
pub use tally::{Nfacct, Probability, Quota, Recent, RecentCmd, Statistic, StatisticMode};

/// How many arguments an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// A flag: `--syn`.
    Zero,
    /// One argument: `--dport 80`.
    One,
    /// Two arguments: `--tcp-flags SYN,ACK SYN`.
    Two,
    /// An optional argument, taken when the next word does not start with `-` or `!`
    /// (`--reap`, `--rsource`, ... take none; `NFQUEUE --queue-bypass` none).
    Optional,
}

/// One option an extension accepts.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    /// Canonical name, without `--`.
    pub name: &'static str,
    pub arity: Arity,
    /// Whether `! --name` is allowed.
    pub invert: bool,
    /// Other spellings (`destination-port` for `dport`).
    pub aliases: &'static [&'static str],
}

impl Opt {
    pub const fn new(name: &'static str, arity: Arity, invert: bool) -> Opt {
        Opt {
            name,
            arity,
            invert,
            aliases: &[],
        }
    }

    pub const fn alias(mut self, aliases: &'static [&'static str]) -> Opt {
        self.aliases = aliases;
        self
    }

    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

/// What an extension sees of the rule while it is parsed.
#[derive(Clone, Copy, Debug)]
pub struct ParseCtx {
    pub family: Family,
    pub table: TableKind,
    /// The rule's `-p` value (0 = any) and whether it is negated.
    pub proto: Proto,
    pub proto_inverted: bool,
}

impl ParseCtx {
    pub fn v6(&self) -> bool {
        self.family == Family::Ipv6
    }

    /// The rule's protocol when it names one without `!`.
    pub fn exact_proto(&self) -> Option<u8> {
        (!self.proto_inverted && self.proto != Proto::ALL).then_some(self.proto.0)
    }
}

/// What an extension sees of the rule while it prints itself.
#[derive(Clone, Copy, Debug)]
pub struct PrintCtx<'a> {
    /// `-n`: no name look-ups.
    pub numeric: bool,
    pub family: Family,
    /// The rule's `-p` number (0 when none), for service-name look-ups.
    pub proto: u8,
    pub names: &'a Names,
}

impl PrintCtx<'_> {
    /// The protocol name `getservbyport` is asked with for this rule.
    pub fn proto_name(&self) -> &'static str {
        util::proto_short_name(self.proto).unwrap_or("tcp")
    }
}

/// Something `-m NAME` or `-j NAME` loads.
pub trait Extension: Sized {
    /// The name iptables prints (`-m NAME`, the target column).
    const NAME: &'static str;
    /// Every option the extension takes.
    const OPTIONS: &'static [Opt];

    /// Builds the extension from the options given to it, in the order given.
    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError>;

    /// The `iptables-save` text after `-m NAME` / `-j NAME`: each option with a leading
    /// space (` --dport 80`), nothing when there is nothing to say.
    fn save(&self, out: &mut String, ctx: &PrintCtx);

    /// The `iptables -L` text: starting with a space (` tcp dpt:ssh`). For targets, the
    /// text after the target name column.
    fn list(&self, out: &mut String, ctx: &PrintCtx);

    /// The name `iptables -L` shows in the target column when it is not [`Self::NAME`]: an
    /// alias is listed under the kernel's name of what it loads (`-j NOTRACK` shows as `CT`,
    /// iptables' `real_name`), while `iptables-save` prints the alias.
    const LIST_NAME: &'static str = Self::NAME;

    /// Hooks this value may be reached from, when its options narrow what the registry's
    /// `hooks` allow (the kernel's checkentry refuses `SET --map-prio` outside FORWARD,
    /// OUTPUT and POSTROUTING). `None`: no further restriction.
    fn hooks(&self) -> Option<u8> {
        None
    }
}

/// Static facts about a match extension.
pub struct MatchInfo {
    pub name: &'static str,
    pub options: &'static [Opt],
    /// The protocol the kernel requires in `-p` (the `.proto` of the xt_match).
    pub proto: Option<u8>,
    pub parse: fn(&[OptArg], &ParseCtx) -> Result<MatchExt, ExtError>,
}

/// Static facts about a target extension.
pub struct TargetInfo {
    pub name: &'static str,
    pub options: &'static [Opt],
    /// Tables it may be used in (`None`: any).
    pub tables: Option<&'static [TableKind]>,
    /// Hooks (as `Hook::bit` masks) it may be reached from (`None`: any).
    pub hooks: Option<u8>,
    pub parse: fn(&[OptArg], &ParseCtx) -> Result<TargetExt, ExtError>,
}

impl TargetInfo {
    pub fn allows_hook(&self, hook: Hook) -> bool {
        self.hooks.map_or(true, |m| m & hook.bit() != 0)
    }
}

macro_rules! registry {
    (
        $enum:ident, $info:ident, $all:ident;
        $( $variant:ident => $ty:path { $($key:ident : $val:expr),* $(,)? } ),* $(,)?
    ) => {
        #[derive(Clone, Debug, PartialEq)]
        pub enum $enum {
            $( $variant($ty), )*
        }

        impl $enum {
            pub fn name(&self) -> &'static str {
                match self { $( $enum::$variant(_) => <$ty as Extension>::NAME, )* }
            }
            /// The name in `iptables -L`'s target column (differs from `name()` for aliases).
            pub fn list_name(&self) -> &'static str {
                match self { $( $enum::$variant(_) => <$ty as Extension>::LIST_NAME, )* }
            }
            /// Hooks this value's options restrict it to, on top of the registry's.
            pub fn hooks(&self) -> Option<u8> {
                match self { $( $enum::$variant(x) => x.hooks(), )* }
            }
            pub fn save(&self, out: &mut String, ctx: &PrintCtx) {
                match self { $( $enum::$variant(x) => x.save(out, ctx), )* }
            }
            pub fn list(&self, out: &mut String, ctx: &PrintCtx) {
                match self { $( $enum::$variant(x) => x.list(out, ctx), )* }
            }
        }

        /// Every registered extension, in registry order.
        pub static $all: &[$info] = &[
            $( $info {
                name: <$ty as Extension>::NAME,
                options: <$ty as Extension>::OPTIONS,
                parse: |o, c| <$ty as Extension>::parse(o, c).map($enum::$variant),
                $( $key: $val, )*
            }, )*
        ];
    };
}

registry! {
    MatchExt, MatchInfo, MATCHES;
    Tcp => proto::Tcp { proto: Some(6) },
    Udp => proto::Udp { proto: Some(17) },
    Comment => basic::Comment { proto: None },
    // @matches-l4
    Sctp => l4::Sctp { proto: Some(132) },
    Dccp => l4::Dccp { proto: Some(33) },
    // xt_multiport has no .proto: multiport_mt_check accepts five protocols itself.
    Multiport => multiport::Multiport { proto: None },
    Icmp => icmp::Icmp { proto: Some(1) },
    Icmp6 => icmp::Icmp6 { proto: Some(58) },
    Length => header::Length { proto: None },
    Ttl => header::Ttl { proto: None },
    Hl => header::Hl { proto: None },
    Tos => header::Tos { proto: None },
    Dscp => header::Dscp { proto: None },
    // xt_ecn has no .proto; ecn_mt_check wants -p tcp only for the TCP bits (checked in parse).
    Ecn => header::Ecn { proto: None },
    TcpMss => packet::TcpMss { proto: Some(6) },
    PktType => packet::PktType { proto: None },
    Helper => packet::Helper { proto: None },
    // @matches-ct
    State => conntrack::State { proto: None },
    Conntrack => conntrack::Conntrack { proto: None },
    Mark => connection::Mark { proto: None },
    Connmark => connection::Connmark { proto: None },
    Connlimit => connection::Connlimit { proto: None },
    Connbytes => connection::Connbytes { proto: None },
    Limit => rate::Limit { proto: None },
    Hashlimit => hashlimit::Hashlimit { proto: None },
    Statistic => tally::Statistic { proto: None },
    Recent => tally::Recent { proto: None },
    Nfacct => tally::Nfacct { proto: None },
    Quota => tally::Quota { proto: None },
    // @matches-addr
    AddrType => addrx::AddrType { proto: None },
    IpRange => addrx::IpRange { proto: None },
    Mac => addrx::Mac { proto: None },
    Set => set::Set { proto: None },
    Owner => socket::Owner { proto: None },
    Socket => socket::Socket { proto: None },
    Policy => policy::Policy { proto: None },
    Physdev => iface::Physdev { proto: None },
    DevGroup => iface::DevGroup { proto: None },
    RpFilter => iface::RpFilter { proto: None },
}

registry! {
    TargetExt, TargetInfo, TARGETS;
    // ipt_REJECT registers for the filter table's INPUT, FORWARD and OUTPUT (both variants
    // refuse it in mangle, raw, nat and security: measured).
    Reject => basic::Reject { tables: Some(&[TableKind::Filter]), hooks: Some(Hook::Input.bit() | Hook::Forward.bit() | Hook::Output.bit()) },
    // @targets-nat
    // Tables and hooks as the kernel's xt_target registrations say (xt_nat.c, xt_MASQUERADE.c,
    // xt_REDIRECT.c, xt_NETMAP.c, xt_CT.c); the nat table has no FORWARD hook.
    Dnat => nat::Dnat { tables: Some(&[TableKind::Nat]), hooks: Some(Hook::Prerouting.bit() | Hook::Output.bit()) },
    Snat => nat::Snat { tables: Some(&[TableKind::Nat]), hooks: Some(Hook::Postrouting.bit() | Hook::Input.bit()) },
    Masquerade => nat::Masquerade { tables: Some(&[TableKind::Nat]), hooks: Some(Hook::Postrouting.bit()) },
    Redirect => nat::Redirect { tables: Some(&[TableKind::Nat]), hooks: Some(Hook::Prerouting.bit() | Hook::Output.bit()) },
    Netmap => nat::Netmap { tables: Some(&[TableKind::Nat]), hooks: Some(Hook::Prerouting.bit() | Hook::Input.bit() | Hook::Output.bit() | Hook::Postrouting.bit()) },
    Mark => mark::Mark { tables: None, hooks: None },
    Connmark => mark::Connmark { tables: None, hooks: None },
    Ct => ct::Ct { tables: Some(&[TableKind::Raw]), hooks: None },
    Notrack => ct::Notrack { tables: Some(&[TableKind::Raw]), hooks: None },
    // xt_TRACE is raw-only, but iptables-nft turns -j TRACE into `meta nftrace set 1`, which
    // the kernel takes in every table (verified: mangle, filter, nat, security).
    Trace => ct::Trace { tables: None, hooks: None },
    // SET --map-set is mangle-only and --map-prio/--map-queue narrow the hooks: checked by
    // SetTarget::parse and SetTarget::hooks.
    Set => misc::SetTarget { tables: None, hooks: None },
    Audit => misc::Audit { tables: None, hooks: None },
    Nfqueue => misc::Nfqueue { tables: None, hooks: None },
    // @targets-mangle
    // xt_LOG and xt_NFLOG register without .table or .hooks.
    Log => log::Log { tables: None, hooks: None },
    Nflog => log::Nflog { tables: None, hooks: None },
    // xt_HL (TTL, HL), xt_DSCP (DSCP, TOS), ipt_ECN and xt_CHECKSUM: .table = "mangle".
    Ttl => rewrite::Ttl { tables: Some(&[TableKind::Mangle]), hooks: None },
    Hl => rewrite::Hl { tables: Some(&[TableKind::Mangle]), hooks: None },
    Tos => tos::Tos { tables: Some(&[TableKind::Mangle]), hooks: None },
    Dscp => tos::Dscp { tables: Some(&[TableKind::Mangle]), hooks: None },
    Ecn => rewrite::Ecn { tables: Some(&[TableKind::Mangle]), hooks: None },
    Checksum => adjust::Checksum { tables: Some(&[TableKind::Mangle]), hooks: None },
    // xt_TCPMSS: any table and hook, but .proto = IPPROTO_TCP (checked in parse) and
    // --clamp-mss-to-pmtu narrows the hooks (Tcpmss::hooks).
    Tcpmss => adjust::Tcpmss { tables: None, hooks: None },
    // xt_CLASSIFY: no .table, .hooks = LOCAL_OUT | FORWARD | POST_ROUTING.
    Classify => adjust::Classify { tables: None, hooks: Some(Hook::Forward.bit() | Hook::Output.bit() | Hook::Postrouting.bit()) },
    // xt_CONNSECMARK: no .table, but its checkentry takes only "mangle" and "security".
    Connsecmark => adjust::Connsecmark { tables: Some(&[TableKind::Mangle, TableKind::Security]), hooks: None },
}

/// Names under which iptables also knows an extension (`-m icmpv6`, `-j NOTRACK`).
const MATCH_ALIASES: &[(&str, &str)] = &[
    ("icmpv6", "icmp6"),
    ("ipv6-icmp", "icmp6"),
    // @match-aliases
];
const TARGET_ALIASES: &[(&str, &str)] = &[
    // @target-aliases
];

/// Extensions that exist for one family only (libipt_* and libip6t_* in iptables): the other
/// binary cannot load them ("Couldn't load match `icmp6'" from iptables).
const IPV4_ONLY: &[&str] = &["icmp", "ttl", "TTL", "ECN", "ah", "realm", "NETMAP4"];
const IPV6_ONLY: &[&str] = &[
    "icmp6",
    "hl",
    "HL",
    "rt",
    "frag",
    "hbh",
    "dst",
    "ipv6header",
    "mh",
    "eui64",
    "srh",
];

/// Whether the iptables binary of `family` has the extension `name`.
pub fn family_has(name: &str, family: Family) -> bool {
    match family {
        Family::Ipv4 => !IPV6_ONLY.contains(&name),
        Family::Ipv6 => !IPV4_ONLY.contains(&name),
    }
}

/// The match extension `-m name` loads, if fwbench knows it.
pub fn find_match(name: &str) -> Option<&'static MatchInfo> {
    let name = MATCH_ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, real)| real);
    MATCHES.iter().find(|m| m.name == name)
}

/// The target extension `-j name` loads, if it is one (else `name` is a chain).
pub fn find_target(name: &str) -> Option<&'static TargetInfo> {
    let name = TARGET_ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, real)| real);
    TARGETS.iter().find(|t| t.name == name)
}

/// Targets that iptables 1.8 no longer has, with what replaced them.
pub fn removed_target(name: &str) -> Option<&'static str> {
    match name {
        "MIRROR" => Some("MIRROR was removed from the kernel in Linux 2.6.x and from iptables 1.4; there is no replacement (reflecting packets is unsafe)"),
        "SAME" => Some("SAME was removed in iptables 1.4.3; use SNAT (or DNAT) with an address range and --persistent"),
        "ULOG" => Some("ULOG was removed in Linux 3.17 and iptables 1.6; use NFLOG (--nflog-group)"),
        _ => None,
    }
}

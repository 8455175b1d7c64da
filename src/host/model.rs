//! The plain data of a host: interfaces with their addresses, routes in routing tables, policy
//! rules and the sysctls that change routing decisions. Everything here is what `ip addr`,
//! `ip route show table all`, `ip rule` and `sysctl` would print for the machine; nothing is
//! computed. Invariants (upheld by `build` and the readers): interfaces are in ifindex order with
//! `lo` first (index 1); every route's `dev` is the index of an interface of the host; prefixes
//! are stored masked; addresses of an interface are in the kernel's list order (IPv4: primaries
//! before secondaries, `__inet_insert_ifa`; IPv6: newest first within a scope,
//! `ipv6_link_dev_addr`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Routing table ids (`/etc/iproute2/rt_tables`).
pub const TABLE_LOCAL: u32 = 255;
pub const TABLE_MAIN: u32 = 254;
pub const TABLE_DEFAULT: u32 = 253;

/// The ifindex of `lo`, which the kernel always gives index 1 (`LOOPBACK_IFINDEX`).
pub const LOOPBACK_IFINDEX: u32 = 1;

/// A network prefix, stored masked (`192.168.0.0/24`, not `192.168.0.2/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// The prefix of `len` bits around `addr`; `None` when `len` exceeds the family's width.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        let addr = match addr {
            IpAddr::V4(a) if len <= 32 => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask_v4(len))),
            IpAddr::V6(a) if len <= 128 => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask_v6(len))),
            _ => return None,
        };
        Some(Prefix { addr, len })
    }

    /// The single address `addr` (`/32` or `/128`).
    pub fn host(addr: IpAddr) -> Prefix {
        Prefix {
            addr,
            len: width(addr),
        }
    }

    /// `0.0.0.0/0` or `::/0`.
    pub fn default_for(v6: bool) -> Prefix {
        if v6 {
            Prefix {
                addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                len: 0,
            }
        } else {
            Prefix {
                addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                len: 0,
            }
        }
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    #[allow(clippy::len_without_is_empty)] // a prefix length, not a collection's
    pub fn len(&self) -> u8 {
        self.len
    }

    pub fn is_v6(&self) -> bool {
        self.addr.is_ipv6()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(x)) => u32::from(x) & mask_v4(self.len) == u32::from(a),
            (IpAddr::V6(a), IpAddr::V6(x)) => u128::from(x) & mask_v6(self.len) == u128::from(a),
            _ => false,
        }
    }

    /// The last address of an IPv4 prefix (`prefix | ~mask`), the subnet broadcast.
    pub fn last_v4(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(a) => Some(Ipv4Addr::from(u32::from(a) | !mask_v4(self.len))),
            IpAddr::V6(_) => None,
        }
    }

    /// Parses `ADDR/LEN`, a bare address (a host prefix) or `default`, as `ip route` does.
    pub fn parse(text: &str, v6_default: bool) -> Result<Prefix, String> {
        if text == "default" || text == "all" || text == "any" {
            return Ok(Prefix::default_for(v6_default));
        }
        let (a, l) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("`{a}' is not an IPv4 or IPv6 address"))?;
        let len = match l {
            None => width(addr),
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= width(addr))
                .ok_or_else(|| format!("`{l}' is not a prefix length for {a}"))?,
        };
        Prefix::new(addr, len).ok_or_else(|| format!("bad prefix `{text}'"))
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// 32 for IPv4, 128 for IPv6.
pub fn width(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

pub fn mask_v4(len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(len.min(32)))
        .unwrap_or(0)
}

pub fn mask_v6(len: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0)
}

/// A route or address scope (`rtm_scope`, `ifa_scope`): smaller is wider. Kept as the
/// kernel's number so comparisons (`ifa_scope <= scope`) read as in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(pub u8);

impl Scope {
    pub const UNIVERSE: Scope = Scope(0);
    pub const SITE: Scope = Scope(200);
    pub const LINK: Scope = Scope(253);
    pub const HOST: Scope = Scope(254);
    pub const NOWHERE: Scope = Scope(255);

    /// `global`, `site`, `link`, `host`, `nowhere` or a number, as iproute2 names them.
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "global" | "universe" => Some(Scope::UNIVERSE),
            "site" => Some(Scope::SITE),
            "link" => Some(Scope::LINK),
            "host" => Some(Scope::HOST),
            "nowhere" => Some(Scope::NOWHERE),
            n => n.parse().ok().map(Scope),
        }
    }
}

/// A route type (`RTN_*`). The number is the kernel's, which is also the bit position that
/// `-m addrtype` tests (`XT_ADDRTYPE_* = 1 << RTN_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteType {
    Unspec = 0,
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Anycast = 4,
    Multicast = 5,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
    Throw = 9,
    Nat = 10,
    Xresolve = 11,
}

impl RouteType {
    pub fn parse(text: &str) -> Option<RouteType> {
        Some(match text {
            "unspec" => RouteType::Unspec,
            "unicast" => RouteType::Unicast,
            "local" => RouteType::Local,
            "broadcast" => RouteType::Broadcast,
            "anycast" => RouteType::Anycast,
            "multicast" => RouteType::Multicast,
            "blackhole" => RouteType::Blackhole,
            "unreachable" => RouteType::Unreachable,
            "prohibit" => RouteType::Prohibit,
            "throw" => RouteType::Throw,
            "nat" => RouteType::Nat,
            "xresolve" => RouteType::Xresolve,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            RouteType::Unspec => "unspec",
            RouteType::Unicast => "unicast",
            RouteType::Local => "local",
            RouteType::Broadcast => "broadcast",
            RouteType::Anycast => "anycast",
            RouteType::Multicast => "multicast",
            RouteType::Blackhole => "blackhole",
            RouteType::Unreachable => "unreachable",
            RouteType::Prohibit => "prohibit",
            RouteType::Throw => "throw",
            RouteType::Nat => "nat",
            RouteType::Xresolve => "xresolve",
        }
    }

    /// The error a lookup that ends on this route type returns (`fib_props[].error`):
    /// reject routes make the whole lookup fail, `throw` sends it on to the next rule.
    pub fn lookup_error(self) -> Option<Errno> {
        match self {
            RouteType::Unreachable => Some(Errno::HostUnreachable),
            RouteType::Prohibit => Some(Errno::Access),
            RouteType::Blackhole | RouteType::Nat | RouteType::Xresolve => Some(Errno::Invalid),
            RouteType::Throw => Some(Errno::Again),
            _ => None,
        }
    }
}

/// The errors a route lookup reports, as `ip route get` prints them ("RTNETLINK answers: ...").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Errno {
    /// ENETUNREACH: no route at all ("Network is unreachable").
    NetUnreachable,
    /// EHOSTUNREACH: an `unreachable` route, or a packet to forward while forwarding is off.
    HostUnreachable,
    /// EACCES: a `prohibit` route or rule ("Permission denied").
    Access,
    /// EINVAL: a `blackhole` route, a martian address, a failed reverse path check (the
    /// kernel's EXDEV becomes EINVAL on its way out of input routing).
    Invalid,
    /// EAGAIN: internal to lookups (`throw`, a table without a match); never returned.
    Again,
}

impl Errno {
    /// The message `strerror` gives, as in `RTNETLINK answers: ...`.
    pub fn message(self) -> &'static str {
        match self {
            Errno::NetUnreachable => "Network is unreachable",
            Errno::HostUnreachable => "No route to host",
            Errno::Access => "Permission denied",
            Errno::Invalid => "Invalid argument",
            Errno::Again => "Resource temporarily unavailable",
        }
    }
}

/// Who installed a route (`rtm_protocol`): only `kernel` matters to routing (it tells the
/// kernel's own routes from a user's, which switches on `fib_has_custom_local_routes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Protocol(pub u8);

impl Protocol {
    pub const REDIRECT: Protocol = Protocol(1);
    pub const KERNEL: Protocol = Protocol(2);
    pub const BOOT: Protocol = Protocol(3);
    pub const STATIC: Protocol = Protocol(4);

    pub fn parse(text: &str) -> Option<Protocol> {
        Some(match text {
            "redirect" => Protocol::REDIRECT,
            "kernel" => Protocol::KERNEL,
            "boot" => Protocol::BOOT,
            "static" => Protocol::STATIC,
            "ra" => Protocol(9),
            "dhcp" => Protocol(16),
            "bird" => Protocol(12),
            "bgp" => Protocol(186),
            "ospf" => Protocol(188),
            n => Protocol(n.parse().unwrap_or(0)),
        })
    }
}

/// One interface address (`struct in_ifaddr` / `inet6_ifaddr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub local: IpAddr,
    pub prefix_len: u8,
    /// An explicitly set IPv4 broadcast address (`ip addr add ... brd X`); `None` when unset,
    /// which is what a plain `ip addr add A/N` gives.
    pub broadcast: Option<Ipv4Addr>,
    pub scope: Scope,
    /// IPv4: another address of the same interface already covers this subnet
    /// (`IFA_F_SECONDARY`). Secondaries never give a source address (`inet_select_addr`).
    pub secondary: bool,
    /// No prefix route is added for it (`IFA_F_NOPREFIXROUTE`).
    pub noprefixroute: bool,
}

impl Address {
    pub fn prefix(&self) -> Prefix {
        Prefix::new(self.local, self.prefix_len).unwrap_or(Prefix::host(self.local))
    }

    /// Whether `ip` is in this address's subnet (`inet_ifa_match`).
    pub fn matches(&self, ip: IpAddr) -> bool {
        self.prefix().contains(ip)
    }

    pub fn is_v6(&self) -> bool {
        self.local.is_ipv6()
    }
}

/// Per-interface sysctls (`net.ipv4.conf.IF.*`); `None` = this interface's value is the
/// namespace default (0 / off), so the `all` value decides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IfConf {
    pub forwarding: Option<bool>,
    pub rp_filter: Option<u8>,
    pub route_localnet: Option<bool>,
    pub accept_local: Option<bool>,
    pub send_redirects: Option<bool>,
}

/// One network interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub index: u32,
    pub name: String,
    pub mac: Option<[u8; 6]>,
    pub mtu: u32,
    /// Administratively up (`IFF_UP`). A down interface keeps its local routes but has no
    /// prefix or broadcast routes (`fib_add_ifaddr` returns early).
    pub up: bool,
    pub loopback: bool,
    pub addresses: Vec<Address>,
    pub conf: IfConf,
}

impl Interface {
    pub fn v4_addresses(&self) -> impl Iterator<Item = &Address> {
        self.addresses.iter().filter(|a| !a.is_v6())
    }

    pub fn v6_addresses(&self) -> impl Iterator<Item = &Address> {
        self.addresses.iter().filter(|a| a.is_v6())
    }

    pub fn has_address(&self, ip: IpAddr) -> bool {
        self.addresses.iter().any(|a| a.local == ip)
    }
}

/// One route (`struct fib_alias` + `fib_info` with a single nexthop).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub table: u32,
    pub kind: RouteType,
    pub destination: Prefix,
    pub gateway: Option<IpAddr>,
    /// The output interface's index; `None` for reject routes (blackhole, unreachable, ...).
    pub dev: Option<u32>,
    /// `metric` / `priority`; IPv4 routes without one have 0, IPv6 user routes 1024.
    pub metric: u32,
    /// `src`: the preferred source address (`fib_prefsrc`).
    pub prefsrc: Option<IpAddr>,
    pub scope: Scope,
    pub protocol: Protocol,
    /// `dscp`/`tos` selector; 0 = any.
    pub tos: u8,
    /// The nexthop is dead (`RTNH_F_DEAD`, `ip route` prints `dead`): its interface went
    /// down. Lookups skip it. Local routes never die this way (their nexthop scope is
    /// `nowhere`, which `fib_sync_down_dev` leaves alone).
    pub dead: bool,
}

impl Route {
    pub fn is_v6(&self) -> bool {
        self.destination.is_v6()
    }
}

/// What a policy rule does when its selector matches (`FR_ACT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    Lookup(u32),
    Blackhole,
    Unreachable,
    Prohibit,
    /// `goto PRIORITY`: jump to the first rule at or after that priority.
    Goto(u32),
    Nop,
}

/// One `ip rule`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub v6: bool,
    pub priority: u32,
    /// `not`: the action applies when the selector does NOT match.
    pub invert: bool,
    pub from: Option<Prefix>,
    pub to: Option<Prefix>,
    /// `fwmark VALUE/MASK`: matches when `(mark ^ value) & mask == 0`.
    pub fwmark: Option<(u32, u32)>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub action: RuleAction,
    /// `suppress_prefixlength N`: a lookup result with a prefix this short or shorter is
    /// ignored (`fib4_rule_suppress`).
    pub suppress_prefixlength: Option<u8>,
}

impl Rule {
    /// The three rules every namespace starts with (IPv6 has no `default` table rule).
    pub fn defaults(v6: bool) -> Vec<Rule> {
        let mut tables = vec![(0, TABLE_LOCAL), (32766, TABLE_MAIN)];
        if !v6 {
            tables.push((32767, TABLE_DEFAULT));
        }
        tables
            .into_iter()
            .map(|(priority, t)| Rule {
                v6,
                priority,
                invert: false,
                from: None,
                to: None,
                fwmark: None,
                iif: None,
                oif: None,
                action: RuleAction::Lookup(t),
                suppress_prefixlength: None,
            })
            .collect()
    }
}

/// Namespace-wide sysctls that change routing. Each stands for both `net.ipv4.conf.all.X`
/// and `net.ipv4.conf.default.X` (so interfaces without their own value inherit it);
/// [`IfConf`] holds an interface's own `net.ipv4.conf.IF.X`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sysctls {
    /// `net.ipv4.ip_forward` (= `net.ipv4.conf.all.forwarding`).
    pub ip_forward: bool,
    /// `net.ipv6.conf.all.forwarding`.
    pub ipv6_forwarding: bool,
    /// `net.ipv4.conf.all.rp_filter`; the effective value per interface is the max of this
    /// and the interface's own (`IN_DEV_MAXCONF`).
    pub rp_filter: u8,
    pub route_localnet: bool,
    pub accept_local: bool,
    pub send_redirects: bool,
}

impl Default for Sysctls {
    /// A router: forwarding on (a firewall or Kubernetes node), everything else as a fresh
    /// network namespace has it (rp_filter 0, send_redirects 1).
    fn default() -> Sysctls {
        Sysctls {
            ip_forward: true,
            ipv6_forwarding: true,
            rp_filter: 0,
            route_localnet: false,
            accept_local: false,
            send_redirects: true,
        }
    }
}

/// Parses `02:00:00:00:00:01`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in mac.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *byte = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_masked_and_parsed_like_ip_route() {
        let p = Prefix::parse("192.168.0.2/24", false).unwrap();
        assert_eq!(p.to_string(), "192.168.0.0/24");
        assert!(p.contains("192.168.0.255".parse().unwrap()));
        assert!(!p.contains("192.168.1.0".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        assert_eq!(p.last_v4(), Some(Ipv4Addr::new(192, 168, 0, 255)));
        assert_eq!(Prefix::parse("default", true).unwrap().to_string(), "::/0");
        assert_eq!(Prefix::parse("10.1.2.3", false).unwrap().len(), 32);
        assert!(Prefix::parse("10.0.0.0/33", false).is_err());
        assert!(Prefix::parse("nonsense", false).is_err());
        assert_eq!(mask_v4(0), 0);
        assert_eq!(mask_v6(128), u128::MAX);
    }

    #[test]
    fn macs() {
        assert_eq!(parse_mac("02:00:00:00:00:0a"), Some([2, 0, 0, 0, 0, 10]));
        assert_eq!(parse_mac("02:00:00:00:00"), None);
        assert_eq!(parse_mac("02:00:00:00:00:00:00"), None);
        assert_eq!(format_mac(&[2, 0, 0, 0, 0, 10]), "02:00:00:00:00:0a");
    }
}

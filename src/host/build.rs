//! Building a host the way the kernel builds one: interfaces come up, addresses are added in
//! order, then routes. Adding an address does what the kernel does on `ip addr add`: IPv4
//! addresses become primary or secondary and take their place in the list (`__inet_insert_ifa`),
//! and the kernel's own routes appear (`fib_add_ifaddr` for IPv4, `addrconf` for IPv6). Routes
//! a user adds are checked as `fib_create_info` checks them (a reachable gateway, a local
//! `src`), so a host that loads here also loads into a real namespace. Invariant: `build()`
//! returns a host whose routes are the kernel's routes first, in the order the kernel added
//! them, then the user's routes in file order; lookups break ties by that order.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::model::{
    Address, IfConf, Interface, Prefix, Protocol, Route, RouteType, Rule, Scope, Sysctls,
    LOOPBACK_IFINDEX, TABLE_LOCAL, TABLE_MAIN,
};
use super::Host;

/// An address as a user asks for it (`ip addr add LOCAL/LEN [brd B] [scope S] [noprefixroute]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressSpec {
    pub local: IpAddr,
    pub prefix_len: u8,
    pub broadcast: Option<Ipv4Addr>,
    pub scope: Option<Scope>,
    pub noprefixroute: bool,
}

/// A route as a user asks for it (`ip route add [TYPE] DST [via GW] [dev IF] [src S] ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub kind: RouteType,
    pub destination: Prefix,
    pub gateway: Option<IpAddr>,
    pub dev: Option<String>,
    pub metric: Option<u32>,
    pub prefsrc: Option<IpAddr>,
    pub table: u32,
    pub scope: Option<Scope>,
    pub onlink: bool,
    pub protocol: Option<Protocol>,
}

impl RouteSpec {
    /// A plain unicast route in `main`.
    pub fn unicast(destination: Prefix) -> RouteSpec {
        RouteSpec {
            kind: RouteType::Unicast,
            destination,
            gateway: None,
            dev: None,
            metric: None,
            prefsrc: None,
            table: TABLE_MAIN,
            scope: None,
            onlink: false,
            protocol: None,
        }
    }
}

/// Accumulates a host; see the module comment for the order things must be added in.
#[derive(Clone, Debug)]
pub struct HostBuilder {
    interfaces: Vec<Interface>,
    routes: Vec<Route>,
    rules: Vec<Rule>,
    custom_rules: bool,
    custom_local_routes: bool,
    pub sysctl: Sysctls,
}

impl Default for HostBuilder {
    fn default() -> Self {
        HostBuilder::new(Sysctls::default())
    }
}

impl HostBuilder {
    /// A namespace with only `lo`, up, with 127.0.0.1/8 and ::1/128 and their routes.
    pub fn new(sysctl: Sysctls) -> HostBuilder {
        let mut b = HostBuilder {
            interfaces: vec![Interface {
                index: LOOPBACK_IFINDEX,
                name: "lo".into(),
                mac: Some([0; 6]),
                mtu: 65536,
                up: true,
                loopback: true,
                addresses: Vec::new(),
                conf: IfConf::default(),
            }],
            routes: Vec::new(),
            rules: Rule::defaults(false)
                .into_iter()
                .chain(Rule::defaults(true))
                .collect(),
            custom_rules: false,
            custom_local_routes: false,
            sysctl,
        };
        let lo_addrs = [
            AddressSpec {
                local: IpAddr::V4(Ipv4Addr::LOCALHOST),
                prefix_len: 8,
                broadcast: None,
                scope: Some(Scope::HOST),
                noprefixroute: false,
            },
            AddressSpec {
                local: IpAddr::V6(Ipv6Addr::LOCALHOST),
                prefix_len: 128,
                broadcast: None,
                scope: Some(Scope::HOST),
                noprefixroute: false,
            },
        ];
        for a in lo_addrs {
            // Cannot fail: a fresh lo has no addresses to clash with.
            let _ = b.add_address("lo", a);
        }
        b
    }

    pub fn interface_mut(&mut self, name: &str) -> Option<&mut Interface> {
        self.interfaces.iter_mut().find(|i| i.name == name)
    }

    /// Adds an interface (index = next free, as the kernel numbers new links) and brings it up
    /// when `up`. `lo` exists already: use `interface_mut` to change it.
    pub fn add_interface(
        &mut self,
        name: &str,
        mac: Option<[u8; 6]>,
        mtu: Option<u32>,
        up: bool,
    ) -> Result<u32, String> {
        if name.is_empty() || name.len() > 15 || name.contains(['/', ' ', ':']) {
            return Err(format!(
                "`{name}' is not a valid interface name (1 to 15 characters, no `/', `:' or space)"
            ));
        }
        if self.interfaces.iter().any(|i| i.name == name) {
            return Err(format!("interface `{name}' is defined twice"));
        }
        let index = self.interfaces.iter().map(|i| i.index).max().unwrap_or(0) + 1;
        self.interfaces.push(Interface {
            index,
            name: name.to_string(),
            mac,
            mtu: mtu.unwrap_or(1500),
            up,
            loopback: false,
            addresses: Vec::new(),
            conf: IfConf::default(),
        });
        if up {
            // addrconf_dev_config -> addrconf_add_mroute: every IPv6-capable link that comes up
            // gets `multicast ff00::/8 dev IF table local metric 256`.
            self.routes.push(multicast_route(index));
        }
        Ok(index)
    }

    /// `ip addr add`: inserts the address where the kernel would and adds the kernel's routes.
    pub fn add_address(&mut self, ifname: &str, spec: AddressSpec) -> Result<(), String> {
        let Some(pos) = self.interfaces.iter().position(|i| i.name == ifname) else {
            return Err(format!("no interface `{ifname}'"));
        };
        let width = if spec.local.is_ipv4() { 32 } else { 128 };
        if spec.prefix_len > width {
            return Err(format!(
                "prefix length {} is too long for {}",
                spec.prefix_len, spec.local
            ));
        }
        if spec.broadcast.is_some() && spec.local.is_ipv6() {
            return Err("a broadcast address is only for IPv4 addresses".into());
        }
        let scope = spec.scope.unwrap_or_else(|| default_scope(spec.local));
        let mut addr = Address {
            local: spec.local,
            prefix_len: spec.prefix_len,
            broadcast: spec.broadcast.filter(|b| !b.is_unspecified()),
            scope,
            secondary: false,
            noprefixroute: spec.noprefixroute,
        };
        let iface = &mut self.interfaces[pos];
        if iface.addresses.iter().any(|a| a.local == addr.local) {
            return Err(format!("address {} is already on `{ifname}'", addr.local));
        }
        if addr.local.is_ipv4() {
            insert_v4(iface, &mut addr)?;
        } else {
            // ipv6_link_dev_addr: before the first address of the same or a smaller scope, so
            // the newest comes first among equals (source selection meets it first).
            let s = v6_src_scope(addr.local);
            let at = iface
                .addresses
                .iter()
                .position(|a| a.is_v6() && s >= v6_src_scope(a.local))
                .unwrap_or(iface.addresses.len());
            iface.addresses.insert(at, addr.clone());
        }
        let (index, up, loopback) = (iface.index, iface.up, iface.loopback);
        let primary = if addr.secondary {
            iface
                .v4_addresses()
                .find(|a| !a.secondary && a.prefix_len == addr.prefix_len && a.matches(addr.local))
                .map(|a| a.local)
        } else {
            Some(addr.local)
        };
        let routes = if addr.local.is_ipv4() {
            ifaddr_routes_v4(&addr, primary.unwrap_or(addr.local), index, up, loopback)
        } else {
            ifaddr_routes_v6(&addr, index, up, self.sysctl.ipv6_forwarding)
        };
        self.routes.extend(routes);
        Ok(())
    }

    /// `ip route add`: checked as the kernel checks it, gateway resolved to its interface.
    pub fn add_route(&mut self, spec: RouteSpec) -> Result<(), String> {
        let v6 = spec.destination.is_v6();
        let family_ok = |ip: &IpAddr| ip.is_ipv6() == v6;
        if !spec
            .gateway
            .iter()
            .chain(spec.prefsrc.iter())
            .all(family_ok)
        {
            return Err("gateway and source must be of the destination's address family".into());
        }
        let reject = spec.kind.lookup_error().is_some();
        let mut dev = match &spec.dev {
            Some(name) => {
                let Some(i) = self.interfaces.iter().find(|i| &i.name == name) else {
                    return Err(format!("no interface `{name}'"));
                };
                if !i.up && !reject {
                    return Err(format!(
                        "interface `{name}' is down: the kernel refuses routes through it"
                    ));
                }
                Some(i.index)
            }
            None => None,
        };
        if reject && (spec.gateway.is_some() || spec.dev.is_some()) {
            return Err(format!(
                "a {} route takes no gateway or interface",
                spec.kind.name()
            ));
        }
        let mut scope = spec.scope.unwrap_or(match spec.kind {
            RouteType::Local | RouteType::Nat => Scope::HOST,
            RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast => Scope::LINK,
            RouteType::Unicast | RouteType::Unspec if spec.gateway.is_none() && !v6 => Scope::LINK,
            _ => Scope::UNIVERSE,
        });
        if v6 {
            scope = Scope::UNIVERSE;
        }
        if let Some(gw) = spec.gateway {
            let host = self.snapshot();
            if host.addr_type_table(gw, None) == RouteType::Local && !v6 {
                return Err(format!("gateway {gw} is a local address"));
            }
            if !spec.onlink {
                match host.gateway_dev(gw, dev) {
                    Some(d) => dev = Some(d),
                    None => {
                        return Err(format!(
                            "gateway {gw} is not reachable directly{} (no on-link route covers it; \
                             add `onlink = true` if it really is on the link)",
                            spec.dev
                                .as_ref()
                                .map(|d| format!(" through `{d}'"))
                                .unwrap_or_default()
                        ))
                    }
                }
            } else if dev.is_none() {
                return Err("an onlink gateway needs an interface".into());
            }
        } else if dev.is_none() && !reject {
            return Err(format!(
                "route to {} needs a gateway or an interface",
                spec.destination
            ));
        }
        if let Some(src) = spec.prefsrc {
            if !self.snapshot().is_local(src) {
                return Err(format!("source {src} is not an address of this host"));
            }
        }
        let metric = spec.metric.unwrap_or(if v6 { 1024 } else { 0 });
        let dup = self.routes.iter().any(|r| {
            !v6 && r.table == spec.table
                && r.destination == spec.destination
                && r.metric == metric
                && r.tos == 0
        });
        if dup {
            return Err(format!(
                "a route to {} with metric {metric} is already in that table (the kernel says \"File exists\")",
                spec.destination
            ));
        }
        if spec.kind == RouteType::Local {
            // inet_rtm_newroute: any user-added local route makes reverse-path checks take the
            // full lookup (fib_has_custom_local_routes).
            self.custom_local_routes = true;
        }
        self.routes.push(Route {
            table: spec.table,
            kind: spec.kind,
            destination: spec.destination,
            gateway: spec.gateway,
            dev,
            metric,
            prefsrc: spec.prefsrc,
            scope,
            protocol: spec.protocol.unwrap_or(Protocol::BOOT),
            tos: 0,
            dead: false,
        });
        Ok(())
    }

    /// `ip rule add`.
    pub fn add_rule(&mut self, rule: Rule) {
        self.custom_rules = true;
        let at = self
            .rules
            .iter()
            .position(|r| r.priority > rule.priority)
            .unwrap_or(self.rules.len());
        self.rules.insert(at, rule);
    }

    fn snapshot(&self) -> Host {
        Host::from_parts(
            self.interfaces.clone(),
            self.routes.clone(),
            self.rules.clone(),
            self.sysctl.clone(),
            self.custom_rules,
            self.custom_local_routes,
        )
    }

    pub fn build(self) -> Host {
        Host::from_parts(
            self.interfaces,
            self.routes,
            self.rules,
            self.sysctl,
            self.custom_rules,
            self.custom_local_routes,
        )
    }
}

/// fib_add_ifaddr: routes get the PRIMARY address of the subnet as `src`, also the local
/// route of a secondary address.
pub(super) fn ifaddr_routes_v4(
    a: &Address,
    prim: IpAddr,
    dev: u32,
    up: bool,
    loopback: bool,
) -> Vec<Route> {
    let mut routes = Vec::new();
    let src = Some(prim);
    routes.push(kernel_route(
        RouteType::Local,
        TABLE_LOCAL,
        Prefix::host(a.local),
        dev,
        src,
        0,
        Scope::HOST,
    ));
    if !up {
        return routes;
    }
    if let Some(b) = a.broadcast.filter(|b| *b != Ipv4Addr::BROADCAST) {
        routes.push(kernel_route(
            RouteType::Broadcast,
            TABLE_LOCAL,
            Prefix::host(IpAddr::V4(b)),
            dev,
            src,
            0,
            Scope::LINK,
        ));
    }
    let prefix = a.prefix();
    // ipv4_is_zeronet(prefix): only a 0.0.0.0 network gets no prefix route.
    let zeronet = prefix.addr() == IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    if zeronet || a.secondary || (prefix.addr() == a.local && a.prefix_len == 32) {
        return routes;
    }
    if !a.noprefixroute {
        // On lo the prefix route is a local route in the local table (127.0.0.0/8).
        let (kind, table, scope) = if loopback {
            (RouteType::Local, TABLE_LOCAL, Scope::HOST)
        } else {
            (RouteType::Unicast, TABLE_MAIN, Scope::LINK)
        };
        routes.push(kernel_route(kind, table, prefix, dev, src, 0, scope));
    }
    // Only the subnet broadcast; kernels since 5.x no longer add the network address as a
    // broadcast route (checked on 6.18: no `broadcast 192.168.0.0`).
    if a.prefix_len < 31 {
        if let Some(last) = prefix.last_v4() {
            routes.push(kernel_route(
                RouteType::Broadcast,
                TABLE_LOCAL,
                Prefix::host(IpAddr::V4(last)),
                dev,
                src,
                0,
                Scope::LINK,
            ));
        }
    }
    routes
}

/// addrconf: a local route for the address (dev = its interface), a prefix route with
/// metric 256 (also for /128), and, on a router, the subnet-router anycast address.
pub(super) fn ifaddr_routes_v6(a: &Address, dev: u32, up: bool, forwarding: bool) -> Vec<Route> {
    let mut routes = Vec::new();
    if !up {
        return routes;
    }
    routes.push(kernel_route(
        RouteType::Local,
        TABLE_LOCAL,
        Prefix::host(a.local),
        dev,
        None,
        0,
        Scope::UNIVERSE,
    ));
    if !a.noprefixroute {
        routes.push(kernel_route(
            RouteType::Unicast,
            TABLE_MAIN,
            a.prefix(),
            dev,
            None,
            256,
            Scope::UNIVERSE,
        ));
    }
    // addrconf_join_anycast: only with forwarding on, for prefixes shorter than /127.
    let p = a.prefix();
    if forwarding && a.prefix_len < 127 && !p.addr().is_unspecified() {
        routes.push(kernel_route(
            RouteType::Anycast,
            TABLE_LOCAL,
            Prefix::host(p.addr()),
            dev,
            None,
            0,
            Scope::UNIVERSE,
        ));
    }
    routes
}

/// __inet_insert_ifa: secondary when a primary of the same interface already has the same
/// mask and subnet; a new primary goes after the last primary of the same or wider scope,
/// a secondary at the end.
fn insert_v4(iface: &mut Interface, addr: &mut Address) -> Result<(), String> {
    let mut last_primary = 0;
    for (i, a) in iface.addresses.iter().enumerate() {
        if a.is_v6() {
            continue;
        }
        if !a.secondary && addr.scope <= a.scope {
            last_primary = i + 1;
        }
        if a.prefix_len == addr.prefix_len && a.matches(addr.local) {
            if a.scope != addr.scope {
                return Err(format!(
                    "{} has another scope than {} in the same subnet (the kernel refuses it)",
                    addr.local, a.local
                ));
            }
            addr.secondary = true;
        }
    }
    let at = if addr.secondary {
        iface
            .addresses
            .iter()
            .rposition(|a| !a.is_v6())
            .map_or(0, |i| i + 1)
    } else {
        last_primary
    };
    iface.addresses.insert(at, addr.clone());
    Ok(())
}

/// The scope `ip addr add` gives when none is named: host for 127/8 and ::1, link for
/// fe80::/10, global otherwise.
fn default_scope(ip: IpAddr) -> Scope {
    match ip {
        IpAddr::V4(a) if a.is_loopback() => Scope::HOST,
        IpAddr::V6(a) if a.is_loopback() => Scope::HOST,
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => Scope::LINK,
        _ => Scope::UNIVERSE,
    }
}

/// IPv6 address scope as source selection and the address list rank it (`ipv6_addr_src_scope`,
/// larger = wider): loopback 1, link-local 2, site-local 5, global 14.
pub(crate) fn v6_src_scope(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V6(a) if a.is_loopback() => 1,
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => 2,
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfec0 => 5,
        IpAddr::V6(a) if a.segments()[0] >> 8 == 0xff => a.segments()[0] as u8 & 0x0f,
        _ => 14,
    }
}

/// `multicast ff00::/8 dev IF table local metric 256`.
pub(super) fn multicast_route(dev: u32) -> Route {
    kernel_route(
        RouteType::Multicast,
        TABLE_LOCAL,
        Prefix::new(IpAddr::V6(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0)), 8)
            .unwrap_or(Prefix::default_for(true)),
        dev,
        None,
        256,
        Scope::UNIVERSE,
    )
}

fn kernel_route(
    kind: RouteType,
    table: u32,
    destination: Prefix,
    dev: u32,
    prefsrc: Option<IpAddr>,
    metric: u32,
    scope: Scope,
) -> Route {
    Route {
        table,
        kind,
        destination,
        gateway: None,
        dev: Some(dev),
        metric,
        prefsrc,
        scope,
        protocol: Protocol::KERNEL,
        tos: 0,
        dead: false,
    }
}

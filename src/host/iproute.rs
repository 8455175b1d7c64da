//! `--host-from-ip ADDR.json ROUTE.json [RULE.json]`: a host read from what `ip -j addr show`,
//! `ip -j route show` (or `ip -j route show table all`) and `ip -j rule show` print on the real
//! machine, so a user can hand over their node as it is.
//!
//! The JSON is taken as the kernel state: interfaces keep their ifindex, addresses their list
//! order and `secondary` flags, routes are used as listed. `ip route show` without `table all`
//! lists only the main table; the local table is then derived from the addresses exactly as
//! the kernel derives it (`fib_add_ifaddr`, addrconf), so both dumps give the same host.
//! Sysctls are not in these dumps: the defaults of [`Sysctls`] apply (a router); see
//! `Host::set_sysctl` and `Host::interface_conf_mut` to change them. `ip -j route show`
//! without `table all` lists IPv4 routes of the main table only: such a host has no IPv6
//! routes beyond the derived local ones, and misses routes a user put in other tables
//! (custom `local` routes included).
//! Multipath routes use their first nexthop. Unknown fields are ignored (iproute2 adds some).

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;

use super::build::{ifaddr_routes_v4, ifaddr_routes_v6, multicast_route};
use super::model::{
    parse_mac, Address, IfConf, Interface, Prefix, Protocol, Route, RouteType, Rule, RuleAction,
    Scope, Sysctls, LOOPBACK_IFINDEX, TABLE_DEFAULT, TABLE_LOCAL, TABLE_MAIN,
};
use super::{Host, HostError};

#[derive(Deserialize)]
struct Link {
    ifindex: u32,
    ifname: String,
    #[serde(default)]
    flags: Vec<String>,
    mtu: Option<u32>,
    address: Option<String>,
    #[serde(default)]
    addr_info: Vec<AddrInfo>,
}

#[derive(Deserialize)]
struct AddrInfo {
    family: Option<String>,
    local: Option<String>,
    prefixlen: Option<u8>,
    broadcast: Option<String>,
    scope: Option<String>,
    #[serde(default)]
    secondary: bool,
    #[serde(default)]
    noprefixroute: bool,
}

#[derive(Deserialize)]
struct RouteEntry {
    #[serde(rename = "type")]
    kind: Option<String>,
    dst: String,
    gateway: Option<String>,
    dev: Option<String>,
    table: Option<String>,
    protocol: Option<String>,
    scope: Option<String>,
    prefsrc: Option<String>,
    metric: Option<u32>,
    #[serde(default)]
    flags: Vec<String>,
    pref: Option<String>,
    #[serde(default)]
    nexthops: Vec<Nexthop>,
}

#[derive(Deserialize)]
struct Nexthop {
    gateway: Option<String>,
    dev: Option<String>,
}

/// Reads a JSON document, reporting syntax errors at their line and column.
fn json<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, HostError> {
    serde_json::from_str(text).map_err(|e| {
        let line_start: usize = text
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum();
        let at = line_start + e.column().saturating_sub(1);
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        HostError::at(file, text, at, msg)
    })
}

/// Builds a host from `ip -j addr show`, `ip -j route show [table all]` and optionally
/// `ip -j rule show`; `names` are the three file names for errors.
pub(super) fn parse(
    names: [&str; 3],
    addr_text: &str,
    route_text: &str,
    rule_text: Option<&str>,
) -> Result<Host, HostError> {
    let [addr_file, route_file, rule_file] = names;
    let links: Vec<Link> = json(addr_file, addr_text)?;
    let entries: Vec<RouteEntry> = json(route_file, route_text)?;
    let sysctl = Sysctls::default();
    let mut interfaces = Vec::new();
    for (n, l) in links.iter().enumerate() {
        let bad =
            |m: String| HostError::whole(addr_file, format!("link #{} `{}': {m}", n + 1, l.ifname));
        let loopback = l.flags.iter().any(|f| f == "LOOPBACK");
        let mut addresses = Vec::new();
        for a in &l.addr_info {
            if !matches!(a.family.as_deref(), Some("inet") | Some("inet6")) {
                continue;
            }
            let (Some(local), Some(len)) = (&a.local, a.prefixlen) else {
                return Err(bad("an address without `local' or `prefixlen'".into()));
            };
            let local: IpAddr = local
                .parse()
                .map_err(|_| bad(format!("`{local}' is not an address")))?;
            let broadcast = match &a.broadcast {
                Some(b) => Some(b.parse().map_err(|_| bad(format!("broadcast `{b}'")))?),
                None => None,
            };
            addresses.push(Address {
                local,
                prefix_len: len,
                broadcast,
                scope: a
                    .scope
                    .as_deref()
                    .and_then(Scope::parse)
                    .unwrap_or(Scope::UNIVERSE),
                secondary: a.secondary,
                noprefixroute: a.noprefixroute,
            });
        }
        interfaces.push(Interface {
            index: l.ifindex,
            name: l.ifname.clone(),
            mac: l.address.as_deref().and_then(parse_mac),
            mtu: l.mtu.unwrap_or(1500),
            up: l.flags.iter().any(|f| f == "UP"),
            loopback,
            addresses,
            conf: IfConf::default(),
        });
    }
    interfaces.sort_by_key(|i| i.index);
    if interfaces.first().map(|i| (i.index, i.loopback)) != Some((LOOPBACK_IFINDEX, true)) {
        return Err(HostError::whole(
            addr_file,
            "no `lo' with ifindex 1: give the output of `ip -j addr show` for all interfaces",
        ));
    }
    let dev_index = |name: &str| interfaces.iter().find(|i| i.name == name).map(|i| i.index);
    let mut routes = Vec::new();
    let mut custom_local_routes = false;
    for (n, e) in entries.iter().enumerate() {
        let bad = |m: String| {
            HostError::whole(
                route_file,
                format!("route #{} (dst `{}'): {m}", n + 1, e.dst),
            )
        };
        let v6 = e.pref.is_some()
            || e.dst.contains(':')
            || e.gateway.as_deref().is_some_and(|g| g.contains(':'));
        let kind = match &e.kind {
            None => RouteType::Unicast,
            Some(k) => RouteType::parse(k).ok_or_else(|| bad(format!("unknown type `{k}'")))?,
        };
        let destination = Prefix::parse(&e.dst, v6).map_err(bad)?;
        let first = e.nexthops.first();
        let gateway_text = e
            .gateway
            .as_ref()
            .or(first.and_then(|h| h.gateway.as_ref()));
        let gateway = match gateway_text {
            Some(g) => Some(
                g.parse::<IpAddr>()
                    .map_err(|_| bad(format!("gateway `{g}'")))?,
            ),
            None => None,
        };
        let dev = match e.dev.as_ref().or(first.and_then(|h| h.dev.as_ref())) {
            // IPv6 reject routes are listed with `dev lo`; they have no nexthop.
            Some(_) if kind.lookup_error().is_some() => None,
            Some(d) => Some(
                dev_index(d)
                    .ok_or_else(|| bad(format!("interface `{d}' is not in {addr_file}")))?,
            ),
            None => None,
        };
        let table = match e.table.as_deref() {
            None | Some("main") => TABLE_MAIN,
            Some("local") => TABLE_LOCAL,
            Some("default") => TABLE_DEFAULT,
            Some(t) => t.parse().map_err(|_| bad(format!("table `{t}'")))?,
        };
        let protocol = e
            .protocol
            .as_deref()
            .and_then(Protocol::parse)
            .unwrap_or(Protocol::BOOT);
        if kind == RouteType::Local && protocol != Protocol::KERNEL {
            custom_local_routes = true;
        }
        let prefsrc = match &e.prefsrc {
            Some(s) => Some(s.parse().map_err(|_| bad(format!("prefsrc `{s}'")))?),
            None => None,
        };
        let scope = match e.scope.as_deref() {
            Some(s) => Scope::parse(s).ok_or_else(|| bad(format!("scope `{s}'")))?,
            None => Scope::UNIVERSE,
        };
        routes.push(Route {
            table,
            kind,
            destination,
            gateway,
            dev,
            metric: e.metric.unwrap_or(0),
            prefsrc,
            scope,
            protocol,
            tos: 0,
            dead: e.flags.iter().any(|f| f == "dead"),
        });
    }
    if !routes.iter().any(|r| r.table == TABLE_LOCAL) {
        routes.splice(0..0, derived_local_table(&interfaces, &sysctl));
    }
    let mut rules: Vec<Rule> = Rule::defaults(false)
        .into_iter()
        .chain(Rule::defaults(true))
        .collect();
    let mut custom_rules = false;
    if let Some(text) = rule_text {
        let v: Vec<Value> = json(rule_file, text)?;
        let mut v4: Vec<Rule> = Vec::new();
        for (n, r) in v.iter().enumerate() {
            v4.push(
                rule(r)
                    .map_err(|m| HostError::whole(rule_file, format!("rule #{}: {m}", n + 1)))?,
            );
        }
        custom_rules = v4 != Rule::defaults(false);
        rules.retain(|r| r.v6);
        rules.splice(0..0, v4);
    }
    Ok(Host::from_parts(
        interfaces,
        routes,
        rules,
        sysctl,
        custom_rules,
        custom_local_routes,
    ))
}

/// The local table the kernel holds for these addresses (addresses in list order, so the
/// routes come out as the kernel's after the same additions).
fn derived_local_table(interfaces: &[Interface], sysctl: &Sysctls) -> Vec<Route> {
    let mut routes = Vec::new();
    for i in interfaces {
        // addrconf_add_mroute runs for every IPv6-capable link that comes up, with or
        // without IPv6 addresses.
        if i.up && !i.loopback {
            routes.push(multicast_route(i.index));
        }
        for a in &i.addresses {
            let prim = if a.secondary {
                i.v4_addresses()
                    .find(|p| !p.secondary && p.prefix_len == a.prefix_len && p.matches(a.local))
                    .map_or(a.local, |p| p.local)
            } else {
                a.local
            };
            let derived = if a.is_v6() {
                ifaddr_routes_v6(a, i.index, i.up, sysctl.ipv6_forwarding)
            } else {
                ifaddr_routes_v4(a, prim, i.index, i.up, i.loopback)
            };
            routes.extend(derived.into_iter().filter(|r| r.table == TABLE_LOCAL));
        }
    }
    routes
}

/// One entry of `ip -j rule show`.
fn rule(v: &Value) -> Result<Rule, String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let num = |k: &str| v.get(k).and_then(Value::as_u64);
    let hex = |t: &str| u32::from_str_radix(t.trim_start_matches("0x"), 16).ok();
    let prefix = |addr: &str, len: &str| -> Result<Option<Prefix>, String> {
        match s(addr) {
            None | Some("all") => Ok(None),
            Some(a) => {
                let ip: IpAddr = a.parse().map_err(|_| format!("`{a}' is not an address"))?;
                let l = num(len).unwrap_or(if ip.is_ipv4() { 32 } else { 128 });
                u8::try_from(l)
                    .ok()
                    .and_then(|l| Prefix::new(ip, l))
                    .map(Some)
                    .ok_or_else(|| format!("bad prefix length {l}"))
            }
        }
    };
    let priority = num("priority")
        .and_then(|p| u32::try_from(p).ok())
        .ok_or("no priority")?;
    let fwmark = match s("fwmark") {
        Some(m) => Some((
            hex(m).ok_or_else(|| format!("fwmark `{m}'"))?,
            s("fwmask").and_then(hex).unwrap_or(u32::MAX),
        )),
        None => None,
    };
    let table = |t: &str| match t {
        "main" => Some(TABLE_MAIN),
        "local" => Some(TABLE_LOCAL),
        "default" => Some(TABLE_DEFAULT),
        n => n.parse().ok(),
    };
    let action = if let Some(g) = num("goto") {
        RuleAction::Goto(u32::try_from(g).map_err(|_| format!("goto {g}"))?)
    } else if v.get("nop").is_some() {
        RuleAction::Nop
    } else {
        match s("action") {
            Some("unreachable") => RuleAction::Unreachable,
            Some("prohibit") => RuleAction::Prohibit,
            Some("blackhole") => RuleAction::Blackhole,
            Some(a) => return Err(format!("action `{a}' is not modelled")),
            None => {
                let t = s("table").ok_or("no table and no action")?;
                RuleAction::Lookup(table(t).ok_or_else(|| format!("table `{t}'"))?)
            }
        }
    };
    Ok(Rule {
        v6: false,
        priority,
        invert: v.get("not").is_some(),
        from: prefix("src", "srclen")?,
        to: prefix("dst", "dstlen")?,
        fwmark,
        iif: s("iif").map(str::to_string),
        oif: s("oif").map(str::to_string),
        action,
        suppress_prefixlength: num("suppress_prefixlen").and_then(|n| u8::try_from(n).ok()),
    })
}

//! `--host FILE`: a host described in TOML. The file is applied the way an administrator
//! would type it: sysctls, then every interface brought up in file order, then each
//! interface's addresses in order (`ip addr add`), then routes (`ip route add`), then rules
//! (`ip rule add`). The kernel's own routes follow from the addresses, so a file lists only
//! what a user would add by hand. Every error names file, line and column.
//!
//! ```toml
//! [sysctl]                       # optional; each is net.ipv4.conf.{all,default}.X
//! ip_forward = true              # default true (a router), as is ipv6_forwarding
//! rp_filter = 0                  # 0, 1 (strict) or 2 (loose); default 0
//!
//! [[interface]]
//! name = "eth0"
//! mac = "02:00:00:00:00:01"      # optional
//! mtu = 1500                     # optional, default 1500
//! up = true                      # optional, default true
//! addresses = ["192.168.0.2/24", { address = "192.168.0.3/24", broadcast = "192.168.0.255" }]
//! rp_filter = 2                  # optional per-interface sysctls: rp_filter, forwarding,
//!                                # route_localnet, accept_local, send_redirects
//! [[route]]
//! destination = "0.0.0.0/0"      # or "default"; a bare address is a host route
//! gateway = "192.168.0.1"        # optional
//! interface = "eth0"             # optional when the gateway is on a connected subnet
//! metric = 100                   # optional; also: source, table ("main", "local", number),
//!                                # type ("unicast", "local", "blackhole", "unreachable",
//!                                # "prohibit", "throw", "broadcast"), scope, onlink
//! [lab]                          # fwbench verify only: sysctls of the lab over its own
//! "net.ipv4.icmp_ratelimit" = 1000 # exact-comparison settings (NETFILTER.md section 8)
//! [[rule]]                       # ip rule: priority, from, to, fwmark ("0x1/0xff"), iif, oif,
//! priority = 100                 # not, table, action ("lookup", "unreachable", "prohibit",
//! fwmark = "0x4000/0x4000"       # "blackhole", "goto", "nop"), goto, suppress_prefixlength
//! table = 100
//! ```

use std::net::IpAddr;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::build::{AddressSpec, HostBuilder, RouteSpec};
use super::model::{
    parse_mac, Prefix, Protocol, RouteType, Rule, RuleAction, Scope, Sysctls, TABLE_DEFAULT,
    TABLE_LOCAL, TABLE_MAIN,
};
use super::{Host, HostError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostFile {
    sysctl: Option<SysctlFile>,
    #[serde(default)]
    interface: Vec<Spanned<IfaceFile>>,
    #[serde(default)]
    route: Vec<Spanned<RouteFile>>,
    #[serde(default)]
    rule: Vec<Spanned<RuleFile>>,
    /// `fwbench verify` only: sysctls of the lab namespace, over the ones it sets for an
    /// exact comparison (`"net.ipv4.icmp_ratelimit" = 1000`).
    #[serde(default)]
    lab: std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SysctlFile {
    ip_forward: Option<bool>,
    ipv6_forwarding: Option<bool>,
    rp_filter: Option<Spanned<u8>>,
    route_localnet: Option<bool>,
    accept_local: Option<bool>,
    send_redirects: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IfaceFile {
    name: Spanned<String>,
    mac: Option<Spanned<String>>,
    mtu: Option<u32>,
    up: Option<bool>,
    #[serde(default)]
    addresses: Vec<Spanned<AddrEntry>>,
    forwarding: Option<bool>,
    rp_filter: Option<Spanned<u8>>,
    route_localnet: Option<bool>,
    accept_local: Option<bool>,
    send_redirects: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AddrEntry {
    Plain(String),
    Full(AddrFull),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddrFull {
    address: String,
    broadcast: Option<String>,
    scope: Option<String>,
    #[serde(default)]
    noprefixroute: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TableName {
    Number(u32),
    Name(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    destination: Spanned<String>,
    gateway: Option<Spanned<String>>,
    interface: Option<Spanned<String>>,
    metric: Option<u32>,
    source: Option<Spanned<String>>,
    table: Option<Spanned<TableName>>,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    scope: Option<Spanned<String>>,
    #[serde(default)]
    onlink: bool,
    protocol: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    priority: u32,
    #[serde(default)]
    not: bool,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    fwmark: Option<Spanned<String>>,
    iif: Option<Spanned<String>>,
    oif: Option<Spanned<String>>,
    table: Option<Spanned<TableName>>,
    action: Option<Spanned<String>>,
    goto: Option<u32>,
    suppress_prefixlength: Option<u8>,
    #[serde(default)]
    ipv6: bool,
}

/// Reads a host file's text; `file` names it in errors.
pub(super) fn parse(file: &str, text: &str) -> Result<Host, HostError> {
    let err = |span: Range<usize>, msg: String| HostError::at(file, text, span.start, msg);
    let doc: HostFile = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        HostError::at(file, text, at, e.message().trim().to_string())
    })?;
    let mut sysctl = Sysctls::default();
    if let Some(s) = &doc.sysctl {
        sysctl.ip_forward = s.ip_forward.unwrap_or(sysctl.ip_forward);
        sysctl.ipv6_forwarding = s.ipv6_forwarding.unwrap_or(sysctl.ipv6_forwarding);
        if let Some(r) = &s.rp_filter {
            sysctl.rp_filter = rp_filter(r).map_err(|m| err(r.span(), m))?;
        }
        sysctl.route_localnet = s.route_localnet.unwrap_or(false);
        sysctl.accept_local = s.accept_local.unwrap_or(false);
        sysctl.send_redirects = s.send_redirects.unwrap_or(true);
    }
    let mut b = HostBuilder::new(sysctl);
    for i in &doc.interface {
        let name = i.get_ref().name.get_ref();
        let mac = match &i.get_ref().mac {
            Some(m) => Some(parse_mac(m.get_ref()).ok_or_else(|| {
                err(
                    m.span(),
                    format!(
                        "`{}' is not a MAC address (want 02:00:00:00:00:01)",
                        m.get_ref()
                    ),
                )
            })?),
            None => None,
        };
        let f = i.get_ref();
        if name == "lo" {
            if let Some(lo) = b.interface_mut("lo") {
                lo.mtu = f.mtu.unwrap_or(lo.mtu);
                lo.mac = mac.or(lo.mac);
            }
        } else {
            b.add_interface(name, mac, f.mtu, f.up.unwrap_or(true))
                .map_err(|m| err(f.name.span(), m))?;
        }
        let rp = match &f.rp_filter {
            Some(r) => Some(rp_filter(r).map_err(|m| err(r.span(), m))?),
            None => None,
        };
        if let Some(iface) = b.interface_mut(name) {
            iface.conf.forwarding = f.forwarding;
            iface.conf.rp_filter = rp;
            iface.conf.route_localnet = f.route_localnet;
            iface.conf.accept_local = f.accept_local;
            iface.conf.send_redirects = f.send_redirects;
        }
    }
    for i in &doc.interface {
        let f = i.get_ref();
        for a in &f.addresses {
            let spec = address_spec(a.get_ref()).map_err(|m| err(a.span(), m))?;
            b.add_address(f.name.get_ref(), spec)
                .map_err(|m| err(a.span(), m))?;
        }
    }
    for r in &doc.route {
        let spec = route_spec(r.get_ref()).map_err(|(span, m)| err(span, m))?;
        b.add_route(spec).map_err(|m| err(r.span(), m))?;
    }
    for r in &doc.rule {
        let rule = rule(r.get_ref()).map_err(|(span, m)| err(span.unwrap_or(r.span()), m))?;
        b.add_rule(rule);
    }
    let mut host = b.build();
    for (key, value) in &doc.lab {
        let value = match value {
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::String(t) => t.clone(),
            toml::Value::Boolean(v) => u8::from(*v).to_string(),
            other => {
                return Err(HostError::whole(
                    file,
                    format!(
                        "[lab] {key}: want a number or a string, not {}",
                        other.type_str()
                    ),
                ))
            }
        };
        host.lab_sysctls.push((key.clone(), value));
    }
    Ok(host)
}

fn rp_filter(r: &Spanned<u8>) -> Result<u8, String> {
    let v = *r.get_ref();
    if v > 2 {
        return Err(format!("rp_filter is 0, 1 or 2, not {v}"));
    }
    Ok(v)
}

fn address_spec(a: &AddrEntry) -> Result<AddressSpec, String> {
    let (text, brd, scope, noprefixroute) = match a {
        AddrEntry::Plain(t) => (t.as_str(), None, None, false),
        AddrEntry::Full(f) => (
            f.address.as_str(),
            f.broadcast.as_deref(),
            f.scope.as_deref(),
            f.noprefixroute,
        ),
    };
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let local: IpAddr = addr
        .parse()
        .map_err(|_| format!("`{addr}' is not an IPv4 or IPv6 address (want ADDRESS/PREFIXLEN)"))?;
    let width = if local.is_ipv4() { 32 } else { 128 };
    let prefix_len = match len {
        None => width,
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|n| *n <= width)
            .ok_or_else(|| format!("`{l}' is not a prefix length (0 to {width})"))?,
    };
    let broadcast = match brd {
        None => None,
        Some(b) => Some(
            b.parse()
                .map_err(|_| format!("broadcast `{b}' is not an IPv4 address"))?,
        ),
    };
    let scope = match scope {
        None => None,
        Some(s) => Some(Scope::parse(s).ok_or_else(|| {
            format!("scope `{s}' is not one of global, site, link, host or a number")
        })?),
    };
    Ok(AddressSpec {
        local,
        prefix_len,
        broadcast,
        scope,
        noprefixroute,
    })
}

type SpanErr = (Range<usize>, String);

fn ip(s: &Spanned<String>) -> Result<IpAddr, SpanErr> {
    s.get_ref()
        .parse()
        .map_err(|_| (s.span(), format!("`{}' is not an IP address", s.get_ref())))
}

fn table(t: &Spanned<TableName>) -> Result<u32, SpanErr> {
    match t.get_ref() {
        TableName::Number(n) if *n > 0 => Ok(*n),
        TableName::Name(n) => match n.as_str() {
            "main" => Ok(TABLE_MAIN),
            "local" => Ok(TABLE_LOCAL),
            "default" => Ok(TABLE_DEFAULT),
            n => n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                (
                    t.span(),
                    format!("table `{n}' is not main, local, default or a number"),
                )
            }),
        },
        TableName::Number(_) => Err((t.span(), "table 0 does not exist".into())),
    }
}

fn route_spec(r: &RouteFile) -> Result<RouteSpec, SpanErr> {
    let gateway = r.gateway.as_ref().map(ip).transpose()?;
    let v6 = gateway.is_some_and(|g| g.is_ipv6()) || r.destination.get_ref().contains(':');
    let destination =
        Prefix::parse(r.destination.get_ref(), v6).map_err(|m| (r.destination.span(), m))?;
    let kind = match &r.kind {
        None => RouteType::Unicast,
        Some(k) => RouteType::parse(k.get_ref())
            .filter(|k| !matches!(k, RouteType::Unspec | RouteType::Multicast))
            .ok_or_else(|| {
                (
                    k.span(),
                    format!(
                        "route type `{}' is not unicast, local, broadcast, anycast, blackhole, \
                         unreachable, prohibit, throw or nat",
                        k.get_ref()
                    ),
                )
            })?,
    };
    let default_table = if matches!(
        kind,
        RouteType::Local | RouteType::Broadcast | RouteType::Anycast | RouteType::Nat
    ) {
        TABLE_LOCAL
    } else {
        TABLE_MAIN
    };
    let scope = match &r.scope {
        None => None,
        Some(s) => Some(
            Scope::parse(s.get_ref())
                .ok_or_else(|| (s.span(), format!("scope `{}' is not known", s.get_ref())))?,
        ),
    };
    Ok(RouteSpec {
        kind,
        destination,
        gateway,
        dev: r.interface.as_ref().map(|s| s.get_ref().clone()),
        metric: r.metric,
        prefsrc: r.source.as_ref().map(ip).transpose()?,
        table: r
            .table
            .as_ref()
            .map(table)
            .transpose()?
            .unwrap_or(default_table),
        scope,
        onlink: r.onlink,
        protocol: r
            .protocol
            .as_ref()
            .map(|p| Protocol::parse(p.get_ref()).unwrap_or(Protocol::BOOT)),
    })
}

fn rule(r: &RuleFile) -> Result<Rule, (Option<Range<usize>>, String)> {
    let prefix =
        |s: &Option<Spanned<String>>| -> Result<Option<Prefix>, (Option<Range<usize>>, String)> {
            s.as_ref()
                .map(|p| Prefix::parse(p.get_ref(), r.ipv6).map_err(|m| (Some(p.span()), m)))
                .transpose()
        };
    let from = prefix(&r.from)?;
    let to = prefix(&r.to)?;
    let v6 = r.ipv6 || from.is_some_and(|p| p.is_v6()) || to.is_some_and(|p| p.is_v6());
    let fwmark = match &r.fwmark {
        None => None,
        Some(m) => Some(parse_fwmark(m.get_ref()).ok_or_else(|| {
            (
                Some(m.span()),
                format!("fwmark `{}' is not VALUE or VALUE/MASK", m.get_ref()),
            )
        })?),
    };
    let t = r
        .table
        .as_ref()
        .map(table)
        .transpose()
        .map_err(|(s, m)| (Some(s), m))?;
    let action = match r.action.as_ref().map(|a| a.get_ref().as_str()) {
        None | Some("lookup") | Some("table") => match t {
            Some(t) => RuleAction::Lookup(t),
            None => return Err((None, "a rule needs a table (or an action)".into())),
        },
        Some("unreachable") => RuleAction::Unreachable,
        Some("prohibit") => RuleAction::Prohibit,
        Some("blackhole") => RuleAction::Blackhole,
        Some("nop") => RuleAction::Nop,
        Some("goto") => match r.goto {
            Some(p) if p > r.priority => RuleAction::Goto(p),
            _ => {
                return Err((
                    None,
                    "`goto' needs a goto priority after the rule's own".into(),
                ))
            }
        },
        Some(a) => {
            return Err((
                r.action.as_ref().map(|s| s.span()),
                format!(
                "rule action `{a}' is not lookup, unreachable, prohibit, blackhole, goto or nop"
            ),
            ))
        }
    };
    Ok(Rule {
        v6,
        priority: r.priority,
        invert: r.not,
        from: from.filter(|p| p.len() > 0),
        to: to.filter(|p| p.len() > 0),
        fwmark,
        iif: r.iif.as_ref().map(|s| s.get_ref().clone()),
        oif: r.oif.as_ref().map(|s| s.get_ref().clone()),
        action,
        suppress_prefixlength: r.suppress_prefixlength,
    })
}

/// `0x5`, `5`, `0x5/0xf` as `ip rule` takes them; without a mask all bits count.
pub(super) fn parse_fwmark(text: &str) -> Option<(u32, u32)> {
    let num = |s: &str| match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    };
    match text.split_once('/') {
        Some((v, m)) => Some((num(v)?, num(m)?)),
        None => Some((num(text)?, u32::MAX)),
    }
}

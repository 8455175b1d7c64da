//! The forwarding information base: which route a lookup ends on (`fib_lookup`,
//! `fib_table_lookup`, `fib_rules_lookup`) and which address a route gives as source
//! (`inet_select_addr`, `fib_result_prefsrc`, and `ipv6_dev_get_saddr` for IPv6).
//!
//! Facts this mirrors, each checked against Linux 6.18 (tests/host_kernel.rs):
//! - Without custom `ip rule`s the kernel merges the local table into main (`fib_unmerge` only
//!   splits them when a rule is added), so the longest prefix wins across both: a main
//!   `10.50.1.0/24 via GW` beats a local `local 10.50.0.0/16`. With any custom rule the local
//!   table is consulted first, whole, as rule 0 says.
//! - Within a prefix: local-table routes before main, then lowest metric, then the order the
//!   routes were added (`fib_find_alias`).
//! - A reject route (`unreachable`, `prohibit`, `blackhole`) ends the lookup with its error;
//!   `throw` and a table without a match go on to the next rule; no rule left is ENETUNREACH.
//! - Dead routes are skipped; a reject route has no nexthop and is never skipped. Local
//!   routes of an interface that is down still answer (`ip route get` of an address on a
//!   down interface says `local`).

use std::cmp::Reverse;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::build::v6_src_scope;
use super::model::{
    Errno, Route, RuleAction, Scope, LOOPBACK_IFINDEX, TABLE_DEFAULT, TABLE_LOCAL, TABLE_MAIN,
};
use super::Host;

/// What a lookup is asked about (`struct flowi4`/`flowi6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub dst: IpAddr,
    /// The source address, when known (`ip route get ... from S`).
    pub src: Option<IpAddr>,
    /// Arrival interface; `lo` (1) for locally generated packets, as the kernel sets it.
    pub iif: u32,
    /// Required output interface; 0 = any.
    pub oif: u32,
    pub mark: u32,
    /// Only routes of this scope or narrower (numerically larger) qualify.
    pub scope: Scope,
    /// IPv6 destinations that need a strict interface match (link-local, multicast,
    /// loopback: `rt6_need_strict`) only match routes through this interface.
    pub strict_dev: Option<u32>,
}

impl Flow {
    pub fn new(dst: IpAddr) -> Flow {
        Flow {
            dst,
            src: None,
            iif: LOOPBACK_IFINDEX,
            oif: 0,
            mark: 0,
            scope: Scope::UNIVERSE,
            strict_dev: None,
        }
    }
}

/// Where a lookup ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FibResult<'h> {
    pub route: &'h Route,
    /// The table the answer came from as `ip route get` names it: the rule's table with
    /// custom rules, `main` when the tables are merged (also for local routes).
    pub table: u32,
}

/// Which tables one `fib_table_lookup` searches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tables {
    One(u32),
    /// The merged main trie: main plus local.
    Merged,
}

impl Host {
    /// fib_lookup: the route a packet with this flow takes, or the error the kernel returns.
    pub fn fib_lookup(&self, flow: &Flow) -> Result<FibResult<'_>, Errno> {
        let v6 = flow.dst.is_ipv6();
        if !v6 && !self.custom_rules_v4 {
            let r = match self.table_lookup(Tables::Merged, flow) {
                Err(Errno::Again) => self.table_lookup(Tables::One(TABLE_DEFAULT), flow),
                r => r,
            };
            return match r {
                Ok(route) => Ok(FibResult {
                    route,
                    table: if route.table == TABLE_DEFAULT {
                        TABLE_DEFAULT
                    } else {
                        TABLE_MAIN
                    },
                }),
                Err(Errno::Again) => Err(Errno::NetUnreachable),
                Err(e) => Err(e),
            };
        }
        let rules: Vec<_> = self.rules.iter().filter(|r| r.v6 == v6).collect();
        let mut i = 0;
        while let Some(rule) = rules.get(i) {
            i += 1;
            if self.rule_matches(rule, flow) == rule.invert {
                continue;
            }
            match rule.action {
                RuleAction::Lookup(t) => match self.table_lookup(Tables::One(t), flow) {
                    Ok(route) => {
                        // fib4_rule_suppress: a too-general answer is ignored, lookups go on.
                        if rule
                            .suppress_prefixlength
                            .is_some_and(|n| route.destination.len() <= n)
                        {
                            continue;
                        }
                        return Ok(FibResult { route, table: t });
                    }
                    Err(Errno::Again) => continue,
                    Err(e) => return Err(e),
                },
                RuleAction::Unreachable => return Err(Errno::NetUnreachable),
                RuleAction::Prohibit => return Err(Errno::Access),
                RuleAction::Blackhole => return Err(Errno::Invalid),
                RuleAction::Goto(p) => {
                    i = rules
                        .iter()
                        .position(|r| r.priority >= p)
                        .unwrap_or(rules.len());
                }
                RuleAction::Nop => {}
            }
        }
        Err(Errno::NetUnreachable)
    }

    fn rule_matches(&self, rule: &super::model::Rule, flow: &Flow) -> bool {
        let name_is = |want: &Option<String>, index: u32| match want {
            None => true,
            Some(n) => self.interface_by_index(index).is_some_and(|i| &i.name == n),
        };
        // An output lookup without a source has saddr 0, which only `from all` covers.
        let src = flow.src.unwrap_or(if flow.dst.is_ipv6() {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
        rule.from.map_or(true, |p| p.contains(src))
            && rule.to.map_or(true, |p| p.contains(flow.dst))
            && rule.fwmark.map_or(true, |(v, m)| (flow.mark ^ v) & m == 0)
            && name_is(&rule.iif, flow.iif)
            && (rule.oif.is_none() || (flow.oif != 0 && name_is(&rule.oif, flow.oif)))
    }

    /// fib_table_lookup over the precomputed order (longest prefix, table, metric, age).
    fn table_lookup(&self, tables: Tables, flow: &Flow) -> Result<&Route, Errno> {
        let order = if flow.dst.is_ipv6() {
            &self.order_v6
        } else {
            &self.order_v4
        };
        for &i in order {
            let r = &self.routes[i];
            let in_table = match tables {
                Tables::One(t) => r.table == t,
                Tables::Merged => r.table == TABLE_MAIN || r.table == TABLE_LOCAL,
            };
            if !in_table || !r.destination.contains(flow.dst) || r.scope < flow.scope {
                continue;
            }
            if let Some(e) = r.kind.lookup_error() {
                return Err(e);
            }
            let Some(dev) = r.dev.and_then(|d| self.interface_by_index(d)) else {
                continue;
            };
            if r.dead
                || (flow.oif != 0 && dev.index != flow.oif)
                || flow.strict_dev.is_some_and(|s| s != dev.index)
            {
                continue;
            }
            return Ok(r);
        }
        Err(Errno::Again)
    }

    /// A lookup in the local table as `inet_addr_type` does it: while the tables are merged
    /// the "local table" is the merged trie, so a more specific main route answers.
    pub(super) fn local_table_lookup(&self, ip: IpAddr) -> Option<&Route> {
        let tables = if ip.is_ipv4() && !self.custom_rules_v4 {
            Tables::Merged
        } else {
            Tables::One(TABLE_LOCAL)
        };
        self.table_lookup(tables, &Flow::new(ip)).ok()
    }

    /// Route indices per family in lookup order.
    pub(super) fn lookup_order(routes: &[Route], v6: bool) -> Vec<usize> {
        let mut order: Vec<usize> = (0..routes.len())
            .filter(|&i| routes[i].is_v6() == v6)
            .collect();
        order.sort_by_key(|&i| {
            let r = &routes[i];
            (
                Reverse(r.destination.len()),
                Reverse(r.table),
                Reverse(r.tos),
                r.metric,
                i,
            )
        });
        order
    }

    /// The interface a gateway is reached through (`fib_check_nh_v4_gw`: a lookup of the
    /// gateway among link-scope routes, optionally through `dev`). IPv6 link-local gateways
    /// need the interface named.
    pub fn gateway_dev(&self, gw: IpAddr, dev: Option<u32>) -> Option<u32> {
        if let IpAddr::V6(g) = gw {
            if g.segments()[0] & 0xffc0 == 0xfe80 {
                return dev;
            }
        }
        let mut flow = Flow::new(gw);
        if gw.is_ipv4() {
            // fib_check_nh_v4_gw looks with scope "route scope + 1": on-link routes only.
            flow.scope = Scope(Scope::UNIVERSE.0 + 1);
        }
        flow.oif = dev.unwrap_or(0);
        let r = self.fib_lookup(&flow).ok()?;
        if r.route.gateway.is_some() && gw.is_ipv6() {
            return None;
        }
        match r.route.kind {
            super::model::RouteType::Unicast | super::model::RouteType::Local => r.route.dev,
            _ => None,
        }
    }

    /// inet_select_addr: the source address for traffic out of `dev` towards `dst` (0 =
    /// anywhere) with a route of `scope`. Primary addresses only, first the one whose subnet
    /// holds `dst`, else the first acceptable one of `dev`, else the first of any interface
    /// in index order that is not link-scoped (lo first, but 127.0.0.1 is host-scoped).
    pub fn inet_select_addr(
        &self,
        dev: u32,
        dst: Option<Ipv4Addr>,
        scope: Scope,
    ) -> Option<Ipv4Addr> {
        let iface = self.interface_by_index(dev)?;
        let localnet_scope = if self.route_localnet(iface) {
            Scope::LINK
        } else {
            Scope::HOST
        };
        let mut first = None;
        for a in iface.v4_addresses().filter(|a| !a.secondary) {
            let IpAddr::V4(local) = a.local else { continue };
            if a.scope.min(localnet_scope) > scope {
                continue;
            }
            if dst.map_or(true, |d| d.is_unspecified() || a.matches(IpAddr::V4(d))) {
                return Some(local);
            }
            first.get_or_insert(local);
        }
        if first.is_some() {
            return first;
        }
        self.interfaces.iter().find_map(|i| {
            i.v4_addresses()
                .filter(|a| !a.secondary && a.scope != Scope::LINK && a.scope <= scope)
                .find_map(|a| match a.local {
                    IpAddr::V4(l) => Some(l),
                    IpAddr::V6(_) => None,
                })
        })
    }

    /// fib_result_prefsrc: the route's `src`, else `inet_select_addr` towards its gateway
    /// with the route's scope. IPv6 routes without `src` select by `ipv6_dev_get_saddr`.
    pub fn route_source(&self, route: &Route, dst: IpAddr) -> Option<IpAddr> {
        if let Some(s) = route.prefsrc {
            return Some(s);
        }
        let dev = route.dev?;
        match dst {
            IpAddr::V4(_) => {
                let gw = match route.gateway {
                    Some(IpAddr::V4(g)) => Some(g),
                    _ => None,
                };
                self.inet_select_addr(dev, gw, route.scope).map(IpAddr::V4)
            }
            IpAddr::V6(d) => self.ipv6_dev_get_saddr(dev, d).map(IpAddr::V6),
        }
    }

    /// ipv6_dev_get_saddr (RFC 6724 source selection) for the rules that can differ on a
    /// statically configured host: same address (1), appropriate scope (2), the outgoing
    /// interface (5), matching label (6), longest matching prefix (8); ties keep the address
    /// met first, and addresses are met interface by interface in index order, each
    /// interface's list newest first. Link-local and multicast-link destinations only look
    /// at the outgoing interface.
    pub fn ipv6_dev_get_saddr(&self, dev: u32, dst: Ipv6Addr) -> Option<Ipv6Addr> {
        let dst_scope = v6_src_scope(IpAddr::V6(dst));
        let only_dev = dst_scope <= 2 || dst.is_multicast();
        let mut best: Option<(Ipv6Addr, [i32; 5])> = None;
        for iface in &self.interfaces {
            if only_dev && iface.index != dev {
                continue;
            }
            for a in iface.v6_addresses() {
                let IpAddr::V6(s) = a.local else { continue };
                let s_scope = v6_src_scope(a.local);
                // Rule 2: the smallest scope that reaches dst; below it, the largest.
                let scope_score = if s_scope >= dst_scope {
                    -i32::from(s_scope)
                } else {
                    i32::from(s_scope) - 128
                };
                let common = (u128::from(s) ^ u128::from(dst)).leading_zeros();
                let score = [
                    i32::from(s == dst),
                    scope_score,
                    i32::from(iface.index == dev),
                    i32::from(label(s) == label(dst)),
                    common.min(u32::from(a.prefix_len)) as i32,
                ];
                if best.as_ref().map_or(true, |(_, b)| score > *b) {
                    best = Some((s, score));
                }
            }
        }
        best.map(|(s, _)| s)
    }
}

/// The default policy table's labels (RFC 6724 §2.1, `ipv6_addr_label_init_table`).
fn label(a: Ipv6Addr) -> u8 {
    let seg = a.segments();
    let v = u128::from(a);
    if a.is_loopback() {
        0
    } else if seg[0] == 0
        && seg[1] == 0
        && seg[2] == 0
        && seg[3] == 0
        && seg[4] == 0
        && seg[5] == 0xffff
    {
        4
    } else if seg[0] == 0x2002 {
        2
    } else if seg[0] == 0x2001 && seg[1] == 0 {
        5
    } else if seg[0] & 0xfe00 == 0xfc00 {
        13
    } else if v >> 96 == 0 {
        3
    } else if seg[0] & 0xffc0 == 0xfec0 {
        11
    } else if seg[0] == 0x3ffe {
        12
    } else {
        1
    }
}

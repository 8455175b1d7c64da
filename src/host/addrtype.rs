//! Address questions the rules ask of the host: `-m addrtype` (`xt_addrtype.c`), "is this
//! address mine", and MASQUERADE's source address (`nf_nat_masquerade_ipv4/ipv6`).
//!
//! IPv4 addrtype gives each address exactly one type (`inet_dev_addr_type`): 0.0.0.0 and
//! 255.255.255.255 are BROADCAST (the rest of 0.0.0.0/8 is unicast since Linux 5.x), 224.0.0.0/4 MULTICAST, else the type of the local-table
//! route that covers it (LOCAL, BROADCAST for a subnet broadcast, ...) and UNICAST when none
//! does. A reject route in that lookup is an error, not a type, so BLACKHOLE, UNREACHABLE and
//! PROHIBIT never match an IPv4 address. With `--limit-iface-in/out` the route must be through
//! that interface, else the address is UNICAST (127.0.0.1 is not LOCAL "on eth0").
//! While no custom `ip rule` exists the local table is the merged main trie (see fib.rs), so a
//! more specific main route decides (`local 10.50.0.0/16` + main `10.50.1.0/24 via ...`:
//! 10.50.1.1 is UNICAST).
//!
//! IPv6 (`match_type6`) tests flags instead: MULTICAST / UNICAST / UNSPEC from the address's
//! form, then LOCAL, ANYCAST and UNREACHABLE from a route lookup.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::fib::Flow;
use super::model::{RouteType, Scope};
use super::Host;

/// `XT_ADDRTYPE_*`: bit `1 << RTN_*`.
pub mod bits {
    pub const UNSPEC: u16 = 1 << 0;
    pub const UNICAST: u16 = 1 << 1;
    pub const LOCAL: u16 = 1 << 2;
    pub const BROADCAST: u16 = 1 << 3;
    pub const ANYCAST: u16 = 1 << 4;
    pub const MULTICAST: u16 = 1 << 5;
    pub const BLACKHOLE: u16 = 1 << 6;
    pub const UNREACHABLE: u16 = 1 << 7;
    pub const PROHIBIT: u16 = 1 << 8;
    pub const THROW: u16 = 1 << 9;
    pub const NAT: u16 = 1 << 10;
    pub const XRESOLVE: u16 = 1 << 11;
}

impl Host {
    /// inet_dev_addr_type: the one type `-m addrtype` sees for an IPv4 address, optionally
    /// limited to routes through `dev`.
    pub fn addr_type_v4(&self, addr: Ipv4Addr, dev: Option<u32>) -> RouteType {
        if addr.is_unspecified() || addr.is_broadcast() {
            return RouteType::Broadcast;
        }
        if addr.is_multicast() {
            return RouteType::Multicast;
        }
        match self.local_table_lookup(IpAddr::V4(addr)) {
            Some(r) if dev.is_none() || r.dev == dev => r.kind,
            _ => RouteType::Unicast,
        }
    }

    /// The type of an address by a local-table lookup (IPv4 as `addr_type_v4`; IPv6 the kind
    /// of the local-table route, UNICAST when none).
    pub fn addr_type_table(&self, addr: IpAddr, dev: Option<u32>) -> RouteType {
        match addr {
            IpAddr::V4(a) => self.addr_type_v4(a, dev),
            IpAddr::V6(_) => match self.local_table_lookup(addr) {
                Some(r) if dev.is_none() || r.dev == dev => r.kind,
                _ => RouteType::Unicast,
            },
        }
    }

    /// `-m addrtype --src-type/--dst-type MASK [--limit-iface-in/out]` for one address:
    /// `mask` is a set of `bits::*`, `dev` the interface a limit names (the packet's in or
    /// out interface).
    pub fn addrtype_matches(&self, addr: IpAddr, mask: u16, dev: Option<u32>) -> bool {
        match addr {
            IpAddr::V4(a) => mask & (1u16 << (self.addr_type_v4(a, dev) as u16)) != 0,
            IpAddr::V6(a) => self.match_type6(a, mask, dev),
        }
    }

    /// match_type6 + match_lookup_rt6.
    fn match_type6(&self, addr: Ipv6Addr, mask: u16, dev: Option<u32>) -> bool {
        let multicast = addr.is_multicast();
        let any = addr.is_unspecified();
        let mapped = addr.to_ipv4_mapped().is_some();
        let unicast = !multicast && !any && !mapped;
        if mask & bits::MULTICAST != 0 && !multicast {
            return false;
        }
        if mask & bits::UNICAST != 0 && !unicast {
            return false;
        }
        if mask & bits::UNSPEC != 0 && !any {
            return false;
        }
        if mask & (bits::LOCAL | bits::ANYCAST | bits::UNREACHABLE) == 0 {
            return true;
        }
        let mut ret = 0u16;
        if let Some(d) = dev {
            // nf_ipv6_chk_addr(strict): the address is on that very interface.
            if mask & bits::LOCAL != 0
                && self
                    .interface_by_index(d)
                    .is_some_and(|i| i.has_address(IpAddr::V6(addr)))
            {
                ret = bits::LOCAL;
            }
        }
        let Ok(res) = self.fib_lookup(&Flow::new(IpAddr::V6(addr))) else {
            // No route or a reject route: the route's error makes it UNREACHABLE only.
            return mask & bits::UNREACHABLE != 0;
        };
        let r = res.route;
        if dev.is_none() && r.kind == RouteType::Local {
            ret |= bits::LOCAL;
        }
        // ipv6_anycast_destination: an anycast route, or the subnet's own (zero) address of
        // a prefix route without gateway.
        let subnet_router = r.destination.len() < 127
            && r.gateway.is_none()
            && r.destination.addr() == IpAddr::V6(addr);
        if r.kind == RouteType::Anycast || subnet_router {
            ret |= bits::ANYCAST;
        }
        mask & ret != 0
    }

    /// Whether `addr` is an address of this host: `inet_addr_type() == RTN_LOCAL` for IPv4
    /// (so all of 127.0.0.0/8 and addresses of `local` routes count), an assigned address or
    /// a local route for IPv6.
    pub fn is_local(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.addr_type_v4(a, None) == RouteType::Local,
            IpAddr::V6(_) => {
                self.ip_ifaddr_owner(addr).is_some()
                    || self
                        .local_table_lookup(addr)
                        .is_some_and(|r| r.kind == RouteType::Local)
            }
        }
    }

    /// The source address MASQUERADE writes for a packet leaving by `out` (IPv4:
    /// `inet_select_addr(out, next_hop, RT_SCOPE_UNIVERSE)`: the first PRIMARY address of `out`
    /// whose subnet holds the next hop, else its first primary address; a route's `src` does
    /// not matter. IPv6: source selection towards the packet's destination, given here as
    /// `next_hop`). `None` means the kernel drops the packet ("... ate my IP address").
    pub fn masquerade_source(&self, out: u32, next_hop: IpAddr) -> Option<IpAddr> {
        match next_hop {
            IpAddr::V4(nh) => self
                .inet_select_addr(out, Some(nh), Scope::UNIVERSE)
                .map(IpAddr::V4),
            IpAddr::V6(d) => self.ipv6_dev_get_saddr(out, d).map(IpAddr::V6),
        }
    }
}

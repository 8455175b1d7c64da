//! The membership test the `set` match makes for a packet (`ip_set_test` and each type's
//! `kadt` with `IPSET_TEST`).
//!
//! The caller derives one [`SetPart`] per `src`/`dst` flag of the match, in order, the way
//! the kernel does: the address from the IP header; for a port part the protocol and, for
//! TCP, UDP, SCTP and UDPLITE, the port, for ICMP/ICMPv6 `type << 8 | code`, for other
//! protocols 0 (`ip_set_get_ip4_port`; non-first fragments of port protocols never match, so
//! the caller passes no part and the test fails); for an interface part the in- or
//! out-device name (`src` is the input device).
//!
//! Rules the kernel applies, and this module with it:
//! - fewer parts than the type's dimension, or a packet of another family than the set's,
//!   never match (`ip_set_test`); extra parts are ignored;
//! - `hash:ip` and `hash:ip,port` mask the address with the set's netmask/bitmask first, and
//!   an address that masks to zero never matches;
//! - the net types look the network part up at each prefix length present in the set,
//!   longest first; the first length with an equal element decides, and a `nomatch` element
//!   decides "not in set" (`mtype_test_cidrs`);
//! - `hash:net,iface` stops at the first prefix length holding any element for the same
//!   network, even if the interface differs (the `multi` counter in `mtype_test_cidrs`), so
//!   10.0.0.0/8,eth0 does not match 10.1.2.3 via eth0 when 10.1.0.0/16,eth1 is present;
//! - `bitmap:port` only tests TCP and UDP packets;
//! - `list:set` tests its members in order and matches on the first member that matches; a
//!   member's `nomatch` only makes that member fail.

use std::net::IpAddr;

use super::elem::{with_ports, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
use super::lex::{self, and_addr};
use super::members::{data_equal, hashed_part};
use super::{Cidr, Elem, Family, Header, IfaceElem, IpSet, IpSets, ProtoPort, SetType};

/// One packet-derived part of a membership test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetPart<'a> {
    Addr(IpAddr),
    /// Protocol number and port (ICMP: `type << 8 | code`).
    Port {
        proto: u8,
        port: u16,
    },
    /// A device name; `physdev` when the match asks for the bridge port.
    Iface {
        name: &'a str,
        physdev: bool,
    },
    Mac([u8; 6]),
}

pub fn contains(all: &IpSets, set: &IpSet, parts: &[SetPart<'_>]) -> bool {
    if parts.len() < set.dimension() {
        return false;
    }
    if set.set_type == SetType::ListSet {
        return set.members.iter().any(|e| match &e.elem {
            Elem::Set(name) => all.get(name).is_some_and(|m| contains(all, m, parts)),
            _ => false,
        });
    }
    let want_v6 = match set.family {
        Family::Inet => Some(false),
        Family::Inet6 => Some(true),
        Family::Unspec => None,
    };
    let addr = |i: usize| match parts.get(i) {
        Some(SetPart::Addr(a)) if want_v6.map_or(true, |v6| a.is_ipv6() == v6) => Some(*a),
        _ => None,
    };
    let port = |i: usize| match parts.get(i) {
        Some(SetPart::Port { proto, port }) => Some(ProtoPort {
            proto: *proto,
            // get_port leaves the port at 0 for protocols without one.
            port: if with_ports(*proto) || matches!(*proto, IPPROTO_ICMP | IPPROTO_ICMPV6) {
                *port
            } else {
                0
            },
        }),
        _ => None,
    };
    let lookup = |e: &Elem| {
        set.members
            .find(e)
            .and_then(|i| set.members.get(i))
            .is_some_and(|x| !x.nomatch)
    };
    let masked = |a: IpAddr| match &set.header {
        Header::Hash(h) => and_addr(a, h.bitmask),
        _ => a,
    };
    let nonzero = |a: &IpAddr| !a.is_unspecified();
    match set.set_type {
        SetType::HashIp => addr(0)
            .map(masked)
            .filter(nonzero)
            .is_some_and(|a| lookup(&Elem::Ip(a))),
        SetType::HashIpPort => match (addr(0).map(masked).filter(nonzero), port(1)) {
            (Some(a), Some(p)) => lookup(&Elem::IpPort(a, p)),
            _ => false,
        },
        SetType::HashIpPortIp => match (addr(0), port(1), addr(2)) {
            (Some(a), Some(p), Some(b)) => lookup(&Elem::IpPortIp(a, p, b)),
            _ => false,
        },
        SetType::HashNet => match addr(0) {
            Some(a) => lpm(set, a, Elem::Net),
            None => false,
        },
        SetType::HashNetPort => match (addr(0), port(1)) {
            (Some(a), Some(p)) => lpm(set, a, |c| Elem::NetPort(c, p)),
            _ => false,
        },
        SetType::HashIpPortNet => match (addr(0), port(1), addr(2)) {
            (Some(a), Some(p), Some(b)) => lpm(set, b, |c| Elem::IpPortNet(a, p, c)),
            _ => false,
        },
        SetType::HashNetIface => match (addr(0), parts.get(1)) {
            (Some(a), Some(SetPart::Iface { name, physdev })) if !name.is_empty() => {
                let iface = IfaceElem {
                    name: name.to_string(),
                    physdev: *physdev,
                    wildcard: false,
                };
                lpm(set, a, |c| Elem::NetIface(c, iface.clone()))
            }
            _ => false,
        },
        SetType::HashMac => match parts.first() {
            Some(SetPart::Mac(m)) if m.iter().any(|&b| b != 0) => lookup(&Elem::Mac(*m)),
            _ => false,
        },
        SetType::BitmapIp => match (addr(0), &set.header) {
            (
                Some(IpAddr::V4(a)),
                Header::BitmapIp {
                    first,
                    last,
                    netmask,
                },
            ) if a >= *first && a <= *last => {
                let block = lex::mask_addr(IpAddr::V4(a), *netmask);
                lookup(&Elem::Ip(block))
            }
            _ => false,
        },
        SetType::BitmapPort => match (parts.first(), &set.header) {
            (Some(SetPart::Port { proto, port }), Header::BitmapPort { first, last })
                if matches!(*proto, IPPROTO_TCP | IPPROTO_UDP) && port >= first && port <= last =>
            {
                lookup(&Elem::Port(*port))
            }
            _ => false,
        },
        SetType::ListSet => false,
    }
}

/// `mtype_test_cidrs`: try each prefix length present, longest first.
fn lpm(set: &IpSet, a: IpAddr, make: impl Fn(Cidr) -> Elem) -> bool {
    for prefix in set.members.prefixes_desc() {
        if a.is_ipv4() && prefix > 32 {
            continue;
        }
        let probe = make(Cidr::new(a, prefix));
        let bucket = set.members.bucket(&hashed_part(&probe));
        for &i in bucket {
            if let Some(e) = set.members.get(i) {
                if data_equal(&e.elem, &probe) {
                    return !e.nomatch;
                }
            }
        }
        // hash:net,iface: an element for the same network (any interface) ends the search.
        if matches!(probe, Elem::NetIface(..)) && !bucket.is_empty() {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::names::Names;

    /// Sets and answers below were checked with `ipset test` (ipset 7.17, kernel 6.18) after
    /// `ipset restore` of exactly this file; `ipset test` with a host address goes through the
    /// same longest-prefix search as the packet path.
    const FILE: &str = "\
create net4 hash:net
add net4 10.0.0.0/8
add net4 10.1.0.0/16 nomatch
add net4 10.1.2.0/24
add net4 10.1.2.3
create net6 hash:net family inet6
add net6 2001:db8::/32
add net6 2001:db8:1::/48 nomatch
create np hash:net,port
add np 10.0.0.0/8,tcp:20-25
add np 10.1.0.0/16,tcp:22 nomatch
add np 10.0.0.0/8,icmp:echo-request
create ni hash:net,iface
add ni 10.0.0.0/8,eth0
add ni 10.1.0.0/16,eth1
add ni 10.2.0.0/16,eth wildcard
add ni 10.2.3.0/24,eth7 nomatch
add ni 10.3.0.0/16,physdev:eth0
create ipp hash:ip,port netmask 24
add ipp 192.168.1.77,udp:53
add ipp 192.168.1.77,tcp:1000-1002
create ipn hash:ip,port,net
add ipn 10.0.0.1,tcp:80,192.168.0.0/16
add ipn 10.0.0.1,tcp:80,192.168.5.0/24 nomatch
create bi bitmap:ip range 10.0.0.0/16 netmask 24
add bi 10.0.7.9
create bp bitmap:port range 1000-2000
add bp 1500-1510
create l list:set
add l net4
add l bi
";

    fn sets() -> IpSets {
        let names = Names::from_texts("", "", "tcp 6\nudp 17\nicmp 1\n");
        IpSets::parse_with(FILE, "test", &names).expect("parses")
    }

    fn a(s: &str) -> SetPart<'static> {
        SetPart::Addr(s.parse().expect("address"))
    }

    fn tcp(port: u16) -> SetPart<'static> {
        SetPart::Port { proto: 6, port }
    }

    fn dev(name: &str) -> SetPart<'_> {
        SetPart::Iface {
            name,
            physdev: false,
        }
    }

    fn test(s: &IpSets, set: &str, parts: &[SetPart<'_>]) -> bool {
        s.test(set, parts).expect("set exists")
    }

    #[test]
    fn nomatch_inside_a_bigger_net_and_longest_prefix() {
        let s = sets();
        assert!(test(&s, "net4", &[a("10.9.9.9")]));
        assert!(
            !test(&s, "net4", &[a("10.1.9.9")]),
            "nomatch /16 wins over /8"
        );
        assert!(
            test(&s, "net4", &[a("10.1.2.9")]),
            "/24 inside the nomatch /16"
        );
        assert!(test(&s, "net4", &[a("10.1.2.3")]));
        assert!(!test(&s, "net4", &[a("11.0.0.1")]));
        assert!(test(&s, "net6", &[a("2001:db8::1")]));
        assert!(!test(&s, "net6", &[a("2001:db8:1::1")]));
        // Another family never matches (ip_set_test's family check).
        assert!(!test(&s, "net4", &[a("::ffff:10.9.9.9")]));
    }

    #[test]
    fn port_ranges_and_protocols() {
        let s = sets();
        assert!(test(&s, "np", &[a("10.5.5.5"), tcp(21)]));
        assert!(!test(&s, "np", &[a("10.5.5.5"), tcp(26)]));
        assert!(
            !test(&s, "np", &[a("10.1.5.5"), tcp(22)]),
            "nomatch for port 22 only"
        );
        assert!(test(&s, "np", &[a("10.1.5.5"), tcp(23)]));
        let udp22 = SetPart::Port {
            proto: 17,
            port: 22,
        };
        assert!(!test(&s, "np", &[a("10.5.5.5"), udp22]));
        let echo = SetPart::Port {
            proto: 1,
            port: 8 << 8,
        };
        assert!(test(&s, "np", &[a("10.5.5.5"), echo]));
        // Too few parts for a two-dimensional set.
        assert!(!test(&s, "np", &[a("10.5.5.5")]));
    }

    #[test]
    fn net_iface_wildcard_nomatch_and_same_network_stop() {
        let s = sets();
        assert!(test(&s, "ni", &[a("10.1.2.3"), dev("eth1")]));
        // 10.0.0.0/8,eth0 would match, but 10.1.0.0/16 holds an element (for eth1): the
        // kernel stops at that prefix length.
        assert!(!test(&s, "ni", &[a("10.1.2.3"), dev("eth0")]));
        assert!(test(&s, "ni", &[a("10.9.9.9"), dev("eth0")]));
        assert!(
            test(&s, "ni", &[a("10.2.5.5"), dev("eth5")]),
            "wildcard prefix"
        );
        assert!(test(&s, "ni", &[a("10.2.5.5"), dev("eth")]));
        assert!(!test(&s, "ni", &[a("10.2.5.5"), dev("wlan0")]));
        assert!(!test(&s, "ni", &[a("10.2.3.3"), dev("eth7")]), "nomatch");
        // The /24 (for eth7) stops the search before the wildcard /16.
        assert!(!test(&s, "ni", &[a("10.2.3.3"), dev("eth8")]));
        assert!(
            test(&s, "ni", &[a("10.3.1.1"), dev("eth0")]),
            "via 10.0.0.0/8,eth0"
        );
        let phys = SetPart::Iface {
            name: "eth0",
            physdev: true,
        };
        assert!(test(&s, "ni", &[a("10.3.1.1"), phys]));
    }

    #[test]
    fn netmask_and_third_part_networks() {
        let s = sets();
        let udp53 = SetPart::Port {
            proto: 17,
            port: 53,
        };
        assert!(test(&s, "ipp", &[a("192.168.1.5"), udp53]), "netmask 24");
        assert!(!test(&s, "ipp", &[a("192.168.2.5"), udp53]));
        assert!(test(&s, "ipp", &[a("192.168.1.200"), tcp(1001)]));
        assert!(test(&s, "ipn", &[a("10.0.0.1"), tcp(80), a("192.168.1.1")]));
        assert!(!test(
            &s,
            "ipn",
            &[a("10.0.0.1"), tcp(80), a("192.168.5.1")]
        ));
        assert!(!test(
            &s,
            "ipn",
            &[a("10.0.0.2"), tcp(80), a("192.168.1.1")]
        ));
    }

    #[test]
    fn bitmaps() {
        let s = sets();
        assert!(test(&s, "bi", &[a("10.0.7.200")]), "netmask 24 block");
        assert!(!test(&s, "bi", &[a("10.0.8.1")]));
        assert!(test(&s, "bp", &[tcp(1505)]));
        assert!(!test(&s, "bp", &[tcp(1511)]));
    }

    #[test]
    fn list_set_tests_members_in_order() {
        // A list matches when a member does; the members' answers are the checked ones above.
        let s = sets();
        assert!(test(&s, "l", &[a("10.9.9.9")]));
        assert!(test(&s, "l", &[a("10.0.7.1")]));
        assert!(!test(&s, "l", &[a("10.1.9.9")]));
        assert_eq!(s.test("nosuch", &[a("10.9.9.9")]), None);
    }
}

//! Expanding an element as written into the elements the kernel stores, following each
//! type's kernel `uadt`: the order of the loops, which parts are masked and when, and the
//! checks that fail (a null `hash:ip` address, `/0` outside `hash:net,iface`, a bitmap
//! element out of range). Checked on the kernel:
//! - an IPv4 range in a net type becomes CIDR blocks (`10.0.0.1-10.0.0.10` is .1, .2/31,
//!   .4/30, .8/31, .10);
//! - `hash:ip` masks the first address, then steps by the netmask size to the unmasked end;
//!   with a non-prefix `bitmask` (step 1) the later addresses stay unmasked, and so does every
//!   address after the first in `hash:ip,port` — states that `ipset save` prints but a
//!   restore of that output refuses as duplicates;
//! - `bitmap:ip` with a netmask walks from the start as written, so `10.0.1.200-10.0.2.10`
//!   with netmask 24 stores only 10.0.1.0.

use std::net::{IpAddr, Ipv4Addr};

use super::elem::{with_ports, AddrSpec, PortSpec, Spec, IPPROTO_ICMP, IPPROTO_ICMPV6};
use super::lex;
use super::{Cidr, Elem, Family, Header, ProtoPort, SetType};
use crate::rules::addr::prefix_mask_v4;

/// What expansion needs to know about the set.
pub struct Target<'a> {
    pub set_type: SetType,
    pub family: Family,
    pub header: &'a Header,
}

/// Calls `emit` with each element the kernel would add (or delete) for `spec`, in the
/// kernel's order, stopping at the first error `emit` returns.
pub fn expand(
    t: &Target<'_>,
    spec: &Spec,
    emit: &mut dyn FnMut(Elem) -> Result<(), String>,
) -> Result<(), String> {
    let (netmask, bitmask) = match t.header {
        Header::Hash(h) => (h.netmask, Some(h.bitmask)),
        _ => (t.family.host_len(), None),
    };
    let masked = |a: IpAddr| bitmask.map_or(a, |m| lex::and_addr(a, m));
    match spec {
        Spec::Ip(a) if t.set_type == SetType::BitmapIp => bitmap_ip(t.header, *a, emit),
        Spec::Ip(a) => match a.addr() {
            IpAddr::V6(_) => {
                let ip = masked(a.addr());
                if ip_is_zero(ip) {
                    return Err(NULL_ELEM.to_string());
                }
                emit(Elem::Ip(ip))
            }
            IpAddr::V4(_) => {
                // hash_ip4_uadt: mask the first address, then walk the range in netmask-sized
                // steps from it; the end of the range is not masked.
                let first = v4(masked(a.addr()));
                if first == 0 {
                    return Err(NULL_ELEM.to_string());
                }
                let (mut ip, mut ip_to) = (first, first);
                match *a {
                    AddrSpec::Range(_, b) => {
                        ip_to = v4(b);
                        if ip > ip_to {
                            if ip_to == 0 {
                                return Err(NULL_ELEM.to_string());
                            }
                            std::mem::swap(&mut ip, &mut ip_to);
                        }
                    }
                    AddrSpec::Cidr(_, c) => (ip, ip_to) = from_to(ip, cidr_v4(c)?),
                    AddrSpec::Single(_) => {}
                }
                let hosts: u32 = if netmask >= 32 {
                    1
                } else {
                    2u32 << (32 - u32::from(netmask) - 1)
                };
                while ip <= ip_to {
                    emit(Elem::Ip(IpAddr::V4(Ipv4Addr::from(ip))))?;
                    ip = ip.wrapping_add(hosts);
                    if ip == 0 {
                        break;
                    }
                }
                Ok(())
            }
        },
        Spec::Net(a) => nets(*a, t.set_type, &mut |c| emit(Elem::Net(c))),
        Spec::NetIface(a, i) => nets(*a, t.set_type, &mut |c| emit(Elem::NetIface(c, i.clone()))),
        Spec::NetPort(a, p) => {
            // hash_netport4_uadt: outer loop over CIDR blocks, inner over ports.
            let ports = port_list(p);
            nets(*a, t.set_type, &mut |c| {
                ports.iter().try_for_each(|&pp| emit(Elem::NetPort(c, pp)))
            })
        }
        Spec::IpPort(a, p) => {
            let ports = port_list(p);
            ips_each(*a, masked, true, &mut |ip| {
                ports.iter().try_for_each(|&pp| emit(Elem::IpPort(ip, pp)))
            })
        }
        Spec::IpPortIp(a, p, ip2) => {
            let ports = port_list(p);
            ips_each(*a, |x| x, false, &mut |ip| {
                ports
                    .iter()
                    .try_for_each(|&pp| emit(Elem::IpPortIp(ip, pp, *ip2)))
            })
        }
        Spec::IpPortNet(a, p, n) => {
            let ports = port_list(p);
            ips_each(*a, |x| x, false, &mut |ip| {
                ports.iter().try_for_each(|&pp| {
                    nets(*n, t.set_type, &mut |c| emit(Elem::IpPortNet(ip, pp, c)))
                })
            })
        }
        Spec::Mac(m) => {
            if m.iter().all(|&b| b == 0) {
                return Err(NULL_ELEM.to_string());
            }
            emit(Elem::Mac(*m))
        }
        Spec::Port(from, to) => bitmap_port(t.header, *from, *to, emit),
        Spec::Set(name, _) => emit(Elem::Set(name.clone())),
    }
}

const NULL_ELEM: &str = "null-valued element, cannot be stored in a hash type of set";
const BAD_CIDR: &str = "the prefix length of the address is invalid for this set type";
const OUT_OF_RANGE: &str = "element is out of the range of the set";

fn v4(a: IpAddr) -> u32 {
    match a {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(_) => 0,
    }
}

fn ip_is_zero(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => a.is_unspecified(),
        IpAddr::V6(a) => a.is_unspecified(),
    }
}

fn cidr_v4(c: u8) -> Result<u8, String> {
    if c == 0 || c > 32 {
        return Err(BAD_CIDR.to_string());
    }
    Ok(c)
}

/// `ip_set_mask_from_to`: the first and last address of the block of `ip`.
fn from_to(ip: u32, cidr: u8) -> (u32, u32) {
    let m = prefix_mask_v4(cidr);
    (ip & m, (ip & m) | !m)
}

/// `ip_set_range_to_cidr`: the largest block starting at `from` that ends by `to`.
fn range_to_cidr(from: u32, to: u32) -> (u32, u8) {
    for i in 1..32u8 {
        let m = prefix_mask_v4(i);
        if from & m != from {
            continue;
        }
        let last = from | !m;
        if last <= to {
            return (last, i);
        }
    }
    (from, 32)
}

/// The (protocol, port) pairs of a port part: one unless a range of a protocol with ports.
fn port_list(p: &PortSpec) -> Vec<ProtoPort> {
    let ports: Vec<u16> = match p.to {
        Some(to) if with_ports(p.proto) => {
            let (a, b) = if p.from <= to {
                (p.from, to)
            } else {
                (to, p.from)
            };
            (a..=b).collect()
        }
        _ => vec![
            if with_ports(p.proto) || matches!(p.proto, IPPROTO_ICMP | IPPROTO_ICMPV6) {
                p.from
            } else {
                0
            },
        ],
    };
    ports
        .into_iter()
        .map(|port| ProtoPort {
            proto: p.proto,
            port,
        })
        .collect()
}

/// The network blocks of a `net` part. IPv4 ranges become CIDR blocks; `/0` is valid only
/// in `hash:net,iface` (`IP_SET_HASH_WITH_NET0`).
fn nets(
    a: AddrSpec,
    t: SetType,
    f: &mut dyn FnMut(Cidr) -> Result<(), String>,
) -> Result<(), String> {
    let zero_ok = t == SetType::HashNetIface;
    match a {
        AddrSpec::Single(ip) => f(Cidr::new(ip, if ip.is_ipv4() { 32 } else { 128 })),
        AddrSpec::Cidr(ip, c) => {
            if c == 0 && !zero_ok {
                return Err(BAD_CIDR.to_string());
            }
            f(Cidr::new(ip, c))
        }
        AddrSpec::Range(x, y) => {
            let (mut ip, mut to) = (v4(x), v4(y));
            if to < ip {
                std::mem::swap(&mut ip, &mut to);
            }
            if ip == 0 && to == u32::MAX {
                return Err("the range covers every address: write 0.0.0.0/0".to_string());
            }
            loop {
                let (last, c) = range_to_cidr(ip, to);
                f(Cidr::new(IpAddr::V4(Ipv4Addr::from(ip)), c))?;
                if last >= to {
                    return Ok(());
                }
                ip = last + 1;
            }
        }
    }
}

/// The first-part addresses of the `ip,port...` types, one by one (`hash_ipport4_uadt`):
/// the first address is masked (`hash:ip,port` only; null refused then), a range or block
/// is walked address by address, the end unmasked.
fn ips_each(
    a: AddrSpec,
    mask: impl Fn(IpAddr) -> IpAddr,
    null_check: bool,
    f: &mut dyn FnMut(IpAddr) -> Result<(), String>,
) -> Result<(), String> {
    let first = mask(a.addr());
    if null_check && ip_is_zero(first) {
        return Err(NULL_ELEM.to_string());
    }
    if first.is_ipv6() {
        return f(first);
    }
    let mut ip = v4(first);
    let mut ip_to = ip;
    match a {
        AddrSpec::Range(_, b) => {
            ip_to = v4(b);
            if ip > ip_to {
                std::mem::swap(&mut ip, &mut ip_to);
            }
        }
        AddrSpec::Cidr(_, c) => (ip, ip_to) = from_to(ip, cidr_v4(c)?),
        AddrSpec::Single(_) => {}
    }
    loop {
        f(IpAddr::V4(Ipv4Addr::from(ip)))?;
        if ip >= ip_to {
            return Ok(());
        }
        ip += 1;
    }
}

/// `bitmap_ip_uadt`: the start must be in range; a range is walked in netmask-sized steps
/// from the start as written, each step stored as its block's first address.
fn bitmap_ip(
    h: &Header,
    a: AddrSpec,
    emit: &mut dyn FnMut(Elem) -> Result<(), String>,
) -> Result<(), String> {
    let Header::BitmapIp {
        first,
        last,
        netmask,
    } = *h
    else {
        return Err("internal: bitmap:ip without its range".to_string());
    };
    let (first, last) = (u32::from(first), u32::from(last));
    let mut ip = v4(a.addr());
    if ip < first || ip > last {
        return Err(OUT_OF_RANGE.to_string());
    }
    let mut ip_to = ip;
    match a {
        AddrSpec::Range(_, b) => {
            ip_to = v4(b);
            if ip > ip_to {
                std::mem::swap(&mut ip, &mut ip_to);
                if ip < first {
                    return Err(OUT_OF_RANGE.to_string());
                }
            }
        }
        AddrSpec::Cidr(_, c) => (ip, ip_to) = from_to(ip, cidr_v4(c)?),
        AddrSpec::Single(_) => {}
    }
    if ip_to > last || ip < first {
        return Err(OUT_OF_RANGE.to_string());
    }
    let hosts: u64 = 1u64 << (32 - u32::from(netmask.min(32)));
    let mut cur = u64::from(ip);
    while cur <= u64::from(ip_to) {
        let block = (cur as u32) & prefix_mask_v4(netmask);
        emit(Elem::Ip(IpAddr::V4(Ipv4Addr::from(block))))?;
        cur += hosts;
    }
    Ok(())
}

fn bitmap_port(
    h: &Header,
    from: u16,
    to: Option<u16>,
    emit: &mut dyn FnMut(Elem) -> Result<(), String>,
) -> Result<(), String> {
    let Header::BitmapPort { first, last } = *h else {
        return Err("internal: bitmap:port without its range".to_string());
    };
    if from < first || from > last {
        return Err(OUT_OF_RANGE.to_string());
    }
    let (mut p, mut p_to) = (from, to.unwrap_or(from));
    if p > p_to {
        std::mem::swap(&mut p, &mut p_to);
        if p < first {
            return Err(OUT_OF_RANGE.to_string());
        }
    }
    if p_to > last {
        return Err(OUT_OF_RANGE.to_string());
    }
    for port in p..=p_to {
        emit(Elem::Port(port))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::elem::parse;
    use super::*;
    use crate::rules::names::Names;

    fn names() -> Names {
        Names::from_texts(
            "ssh 22/tcp\nhttp 80/tcp www\necho 7/tcp\necho 7/udp\ndomain 53/udp\n",
            "",
            "tcp 6 TCP\nudp 17 UDP\nicmp 1 ICMP\nipv6-icmp 58 IPv6-ICMP\ngre 47 GRE\n\
             sctp 132 SCTP\nudplite 136 UDPLite\nethernet 143 Ethernet\n",
        )
    }

    fn all(t: SetType, fam: Family, header: Header, s: &str) -> Result<Vec<Elem>, String> {
        let spec = parse(t, fam, s, &names()).map_err(|e| e.1)?;
        let mut out = Vec::new();
        let target = Target {
            set_type: t,
            family: fam,
            header: &header,
        };
        expand(&target, &spec, &mut |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    fn hash(netmask: u8, bitmask: &str) -> Header {
        Header::Hash(super::super::HashHeader {
            hashsize: 1024,
            maxelem: 65536,
            netmask,
            bitmask: bitmask.parse().expect("mask"),
            bitmask_given: false,
            bucketsize: 12,
            initval: None,
            forceadd: false,
        })
    }

    fn shown(v: &[Elem]) -> Vec<String> {
        v.iter()
            .map(|e| match e {
                Elem::Ip(a) => a.to_string(),
                Elem::Net(c) => format!("{}/{}", c.addr, c.prefix),
                Elem::NetPort(c, p) => format!("{}/{},{}:{}", c.addr, c.prefix, p.proto, p.port),
                Elem::IpPort(a, p) => format!("{a},{}:{}", p.proto, p.port),
                Elem::IpPortNet(a, p, c) => {
                    format!("{a},{}:{},{}/{}", p.proto, p.port, c.addr, c.prefix)
                }
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn hash_net_range_becomes_cidr_blocks() {
        // Kernel: `add a 10.0.0.1-10.0.0.10` stores .1, .2/31, .4/30, .8/31, .10.
        let v = all(
            SetType::HashNet,
            Family::Inet,
            hash(32, "255.255.255.255"),
            "10.0.0.1-10.0.0.10",
        )
        .expect("expands");
        assert_eq!(
            shown(&v),
            [
                "10.0.0.1/32",
                "10.0.0.2/31",
                "10.0.0.4/30",
                "10.0.0.8/31",
                "10.0.0.10/32"
            ]
        );
    }

    #[test]
    fn hash_ip_netmask_steps_from_masked_start() {
        // Kernel: netmask 24, `add a 1.2.3.4-1.2.5.1` stores 1.2.3.0, 1.2.4.0, 1.2.5.0.
        let v = all(
            SetType::HashIp,
            Family::Inet,
            hash(24, "255.255.255.0"),
            "1.2.3.4-1.2.5.1",
        )
        .expect("expands");
        assert_eq!(shown(&v), ["1.2.3.0", "1.2.4.0", "1.2.5.0"]);
        // Kernel: `add a 0.0.0.0` is a null-valued element.
        assert!(all(
            SetType::HashIp,
            Family::Inet,
            hash(32, "255.255.255.255"),
            "0.0.0.0"
        )
        .is_err());
    }

    #[test]
    fn ports_and_protocols() {
        let h = || hash(32, "255.255.255.255");
        // Kernel: reversed port range is swapped; `ssh-80` uses the service name.
        let v = all(SetType::HashIpPort, Family::Inet, h(), "1.2.3.4,80-78").expect("ok");
        assert_eq!(v.len(), 3);
        let v = all(SetType::HashIpPort, Family::Inet, h(), "1.2.3.4,tcp:ssh-24").expect("ok");
        assert_eq!(v.len(), 3);
        let v = all(SetType::HashIpPort, Family::Inet, h(), "1.2.3.4,icmp:ping").expect("ok");
        assert_eq!(shown(&v), ["1.2.3.4,1:2048"]);
        let v = all(SetType::HashIpPort, Family::Inet, h(), "1.2.3.4,143:0").expect("ok");
        assert_eq!(shown(&v), ["1.2.3.4,143:0"]);
        assert!(all(SetType::HashIpPort, Family::Inet, h(), "1.2.3.4,gre:5").is_err());
        assert!(all(
            SetType::HashIpPort,
            Family::Inet,
            h(),
            "1.2.3.4,ipv6-icmp:0"
        )
        .is_err());
        assert!(all(SetType::HashIpPort, Family::Inet, h(), "1.2.3.4,icmp:1-2").is_err());
        assert!(all(SetType::HashIpPort, Family::Inet, h(), "1.2.3.4,sctp:ssh").is_err());
        assert!(all(SetType::HashIpPort, Family::Inet, h(), "1.2.3.4").is_err());
    }

    #[test]
    fn ip_port_net_third_part_range() {
        // Kernel: `add a 10.0.0.1,tcp:80,10.0.0.1-10.0.0.5` stores .1, .2/31, .4/31.
        let v = all(
            SetType::HashIpPortNet,
            Family::Inet,
            hash(32, "255.255.255.255"),
            "10.0.0.1,tcp:80,10.0.0.1-10.0.0.5",
        )
        .expect("ok");
        assert_eq!(
            shown(&v),
            [
                "10.0.0.1,6:80,10.0.0.1/32",
                "10.0.0.1,6:80,10.0.0.2/31",
                "10.0.0.1,6:80,10.0.0.4/31"
            ]
        );
    }

    #[test]
    fn bitmap_ip_netmask_walk_quirk() {
        // Kernel: range 10.0.0.0/16 netmask 24, `add a 10.0.1.200-10.0.2.10` stores only
        // 10.0.1.0: the walk steps 256 from .1.200 and passes the end.
        let h = Header::BitmapIp {
            first: Ipv4Addr::new(10, 0, 0, 0),
            last: Ipv4Addr::new(10, 0, 255, 255),
            netmask: 24,
        };
        let v = all(SetType::BitmapIp, Family::Inet, h, "10.0.1.200-10.0.2.10").expect("ok");
        assert_eq!(shown(&v), ["10.0.1.0"]);
    }
}

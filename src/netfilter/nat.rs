//! The ranges NAT targets bind a new connection to (`nf_nat_range2` as xt_nat.c,
//! xt_MASQUERADE.c, xt_REDIRECT.c and xt_NETMAP.c compute them for the packet at hand).

use std::net::IpAddr;

use super::stack::Flight;
use crate::conntrack;
use crate::host::Host;
use crate::rules::ext::TargetExt;
use crate::rules::Hook;

/// The range a NAT target binds to (xt_nat.c, xt_MASQUERADE.c's nf_nat_masquerade_ipv4,
/// xt_REDIRECT.c's nf_nat_redirect_ipv4, xt_NETMAP.c).
pub(super) fn nat_range(
    host: &Host,
    hook: Hook,
    target: &TargetExt,
    f: &Flight,
) -> Result<Option<conntrack::NatRange>, String> {
    use crate::rules::ext::NatRange as R;
    let dst_side = matches!(hook, Hook::Prerouting | Hook::Output);
    let current = if dst_side { f.info.dst } else { f.info.src };
    let from = |r: &R, fixed: Option<IpAddr>| {
        let (min_addr, max_addr) = match (fixed, r.addrs) {
            (Some(a), _) => (a, a),
            (None, Some((lo, hi))) => (lo, hi),
            (None, None) => (current, current),
        };
        conntrack::NatRange {
            min_addr,
            max_addr,
            ports: r.ports,
            random: r.random,
            random_fully: r.random_fully,
            persistent: r.persistent,
        }
    };
    Ok(Some(match target {
        TargetExt::Dnat(d) => from(&d.range, None),
        TargetExt::Snat(s) => from(&s.range, None),
        TargetExt::Masquerade(m) => {
            let Some((dev, next_hop)) = f.route else {
                return Err("MASQUERADE outside POSTROUTING".into());
            };
            let Some(addr) = host.masquerade_source(dev, next_hop) else {
                return Err("MASQUERADE: the output interface has no address".into());
            };
            from(&m.range, Some(addr))
        }
        TargetExt::Redirect(r) => {
            let addr = if hook == Hook::Output {
                if f.info.is_ipv6() {
                    IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
                } else {
                    IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
                }
            } else {
                // The first address of the arrival interface; none drops the packet.
                let dev = f.in_iface.and_then(|n| host.interface(n));
                let first = dev.and_then(|d| {
                    d.addresses
                        .iter()
                        .find(|a| a.is_v6() == f.info.is_ipv6())
                        .map(|a| a.local)
                });
                first.ok_or_else(|| "REDIRECT: the arrival interface has no address".to_string())?
            };
            from(&r.range, Some(addr))
        }
        TargetExt::Netmap(n) => {
            let mapped = match (current, n.to.addr, n.to.mask) {
                (IpAddr::V4(a), IpAddr::V4(net), IpAddr::V4(mask)) => {
                    let m = u32::from(mask);
                    IpAddr::V4((u32::from(a) & !m | u32::from(net) & m).into())
                }
                (IpAddr::V6(a), IpAddr::V6(net), IpAddr::V6(mask)) => {
                    let m = u128::from(mask);
                    IpAddr::V6((u128::from(a) & !m | u128::from(net) & m).into())
                }
                _ => return Err("NETMAP across address families".into()),
            };
            from(&R::default(), Some(mapped))
        }
        _ => return Ok(None),
    }))
}

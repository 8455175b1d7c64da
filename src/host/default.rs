//! The built-in host: a Kubernetes node as kube-proxy's own unit tests picture it, used when
//! no `--host` or `--host-from-ip` is given.
//!
//! ```text
//! lo     127.0.0.1/8, ::1/128                       (always there)
//! eth0   02:00:00:00:00:01  mtu 1500
//!        192.168.0.2/24     the node IP (kube-proxy tests' testNodeIP)
//!        192.168.1.2/24     further node IPs of TestTracePacket
//!        192.168.99.11/24
//!        2001:db8::1/64     the IPv6 node IPs of TestTracePacket
//!        2001:db8:1::2/64
//! cni0   02:00:00:00:00:02  mtu 1500, no IPv4 address: the pod network 10.0.0.0/8
//!                           (kube-proxy tests' cluster CIDR) lies behind it
//! routes default via 192.168.0.1 dev eth0
//!        10.0.0.0/8 dev cni0 (scope link)
//!        ::/0 via 2001:db8::fffe dev eth0
//!        + the kernel's own routes for the addresses above
//! sysctl ip_forward=1, ipv6 forwarding=1, rp_filter=0,
//!        route_localnet=1 (kube-proxy sets it so NodePorts answer on 127.0.0.1)
//! ```
//!
//! So `-m addrtype --dst-type LOCAL` is true for exactly the addresses the kube-proxy corpus
//! README lists for TestTracePacket (127.0.0.1, ::1, 192.168.0.2, 192.168.1.2,
//! 192.168.99.11, 2001:db8::1, 2001:db8:1::2) plus the rest of 127.0.0.0/8, as in any kernel.
//! Pod traffic (10.0.0.0/8) arrives on and leaves by `cni0`; everything else by `eth0`.
//! Masqueraded traffic leaving by `eth0` towards the gateway takes 192.168.0.2; towards pods
//! (cni0 has no address of its own) the kernel falls back to the first primary address of any
//! interface, again 192.168.0.2.

use std::net::IpAddr;

use super::build::{AddressSpec, HostBuilder, RouteSpec};
use super::model::{Prefix, Sysctls};
use super::Host;

impl Host {
    /// The built-in Kubernetes node described in this module's documentation.
    pub fn kubernetes_node() -> Host {
        let sysctl = Sysctls {
            route_localnet: true,
            ..Sysctls::default()
        };
        let mut b = HostBuilder::new(sysctl);
        // Everything below is constant and valid; a failure would be a bug caught by the
        // tests, so errors are ignored rather than unwrapped.
        let _ = b.add_interface("eth0", Some([2, 0, 0, 0, 0, 1]), Some(1500), true);
        let _ = b.add_interface("cni0", Some([2, 0, 0, 0, 0, 2]), Some(1500), true);
        for (addr, len) in KUBE_NODE_ADDRESSES {
            if let Ok(local) = addr.parse::<IpAddr>() {
                let _ = b.add_address(
                    "eth0",
                    AddressSpec {
                        local,
                        prefix_len: *len,
                        broadcast: None,
                        scope: None,
                        noprefixroute: false,
                    },
                );
            }
        }
        for (dst, gw, dev) in KUBE_NODE_ROUTES {
            let v6 = dst.contains(':');
            let Ok(destination) = Prefix::parse(dst, v6) else {
                continue;
            };
            let _ = b.add_route(RouteSpec {
                gateway: gw.and_then(|g| g.parse().ok()),
                dev: Some(dev.to_string()),
                ..RouteSpec::unicast(destination)
            });
        }
        b.build()
    }
}

const KUBE_NODE_ADDRESSES: &[(&str, u8)] = &[
    ("192.168.0.2", 24),
    ("192.168.1.2", 24),
    ("192.168.99.11", 24),
    ("2001:db8::1", 64),
    ("2001:db8:1::2", 64),
];

const KUBE_NODE_ROUTES: &[(&str, Option<&str>, &str)] = &[
    ("0.0.0.0/0", Some("192.168.0.1"), "eth0"),
    ("10.0.0.0/8", None, "cni0"),
    ("::/0", Some("2001:db8::fffe"), "eth0"),
];

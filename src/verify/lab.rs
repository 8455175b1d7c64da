//! A throwaway copy of a host in network namespaces, with the real netfilter in it.
//!
//! Layout: one "DUT" namespace (device under test) holds one veth interface per interface of
//! the host model, with the model's name, index, MAC, MTU, addresses, routes, policy rules
//! and routing sysctls; the other end of each veth lives alone in a "peer" namespace, which
//! is where frames are sent in from and where what the DUT emits is captured (a frame the
//! DUT sends out of `eth0` arrives at `eth0`'s peer).
//!
//! Settings that differ from a stock kernel, so that the comparison is exact
//! (NETFILTER.md §8): checksum offloads off on both ends (captured checksums are final),
//! ICMP rate limits off (every REJECT answers), redirects off, permanent neighbour entries for
//! every next hop (no ARP/ND on the wire, no first packet queued), IPv6 duplicate address
//! detection off and no automatic link-local addresses (addresses usable at once, no
//! unsolicited ND traffic), MLD reports of the set-up sent at once (they would otherwise leave
//! during the run), no automatic IPv6 flow labels (they hash with a per-boot key), IPv6 off
//! in the peers (they only inject and capture). [`Lab::settings`] lists them for the output.
//!
//! Locally generated packets go out through a raw socket with the header included: the kernel
//! still fills in the IPv4 header checksum and total length, and an id of 0 is replaced
//! (`raw_send_hdrinc`), so callers should give final headers.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::host::{format_mac, Host, Interface, Protocol, Route, Rule, RuleAction, TABLE_MAIN};
use crate::rules::parse::{parse_ruleset, ParseOptions};
use crate::rules::{Backend, Family};

use super::error::VerifyError;
use super::netns;
use super::observe::{parse_conntrack, Observation};
use super::sock::{DevCounters, PacketSocket, RawSocket};

/// One packet to push through the lab, in capture order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Injected {
    /// A whole Ethernet frame arriving on `iface` (sent from its peer).
    Frame { iface: String, frame: Vec<u8> },
    /// A locally generated IP packet (its source is a DUT address): sent from inside the DUT
    /// with a raw socket, so it takes the OUTPUT path.
    Local { ip: Vec<u8> },
}

/// What the kernel did, plus how the run went.
#[derive(Clone, Debug)]
pub struct KernelObservation {
    pub observation: Observation,
    /// Frames that had to be sent again because the DUT had not received them.
    pub resent: usize,
    /// Local packets the kernel refused at sendto(2), by position in the input, with the
    /// errno (EPERM: dropped in OUTPUT; ENETUNREACH: no route). These are outcomes.
    pub local_errors: Vec<(usize, i32)>,
}

/// A veth pair's far end.
#[derive(Clone, Debug)]
struct Peer {
    iface: String,
    ns: String,
}

/// A host copy in namespaces: see the module documentation. Removed on drop.
pub struct Lab {
    dut: String,
    peers: Vec<Peer>,
    settings: Vec<String>,
    neighbours: Vec<(String, IpAddr, [u8; 6])>,
    loaded: Mutex<(Family, Backend)>,
}

/// How long the set-up's own multicast reports take to leave.
const SETUP_QUIET: Duration = Duration::from_millis(100);
/// Quiet time after which captures and counters count as still.
const STILL: Duration = Duration::from_millis(300);
/// Longest wait for the DUT to fall still after the last packet.
const MAX_SETTLE: Duration = Duration::from_secs(10);

impl Lab {
    /// Builds the lab for `host`. `next_hops` lists neighbours to pre-fill: interface,
    /// address, and a MAC (a made-up `02:fb:...` one when `None`). Gateways of the model's
    /// routes that are not listed are added with made-up MACs; [`Lab::neighbours`] tells
    /// which MAC each got.
    pub fn new(
        host: &Host,
        next_hops: &[(String, IpAddr, Option<[u8; 6]>)],
    ) -> Result<Lab, VerifyError> {
        let prefix = netns::lab_prefix();
        let mut lab = Lab {
            dut: format!("{prefix}-dut"),
            peers: Vec::new(),
            settings: Vec::new(),
            neighbours: Vec::new(),
            loaded: Mutex::new((Family::Ipv4, Backend::Nft)),
        };
        netns::create(&lab.dut)?;
        // Until every step has worked, an error drops `lab`, which removes what exists.
        lab.namespace_sysctls(host)?;
        lab.ip(&["link", "set", "lo", "up"])?;
        for (n, iface) in host.interfaces().iter().enumerate() {
            if iface.loopback {
                lab.add_addresses(iface)?;
                continue;
            }
            let peer = Peer {
                iface: iface.name.clone(),
                ns: format!("{prefix}-p{n}"),
            };
            netns::create(&peer.ns)?;
            lab.peers.push(peer.clone());
            lab.add_interface(host, iface, &peer)?;
        }
        lab.add_routes(host)?;
        lab.add_rules(host)?;
        lab.add_neighbours(host, next_hops)?;
        // The group joins of the set-up (all-routers, solicited-node) send MLD reports from
        // timers; they must be gone before the first packet (see the settings above).
        std::thread::sleep(SETUP_QUIET);
        Ok(lab)
    }

    /// The DUT namespace's name (for `ip netns exec`).
    pub fn dut(&self) -> &str {
        &self.dut
    }

    /// Every namespace of the lab, DUT first.
    pub fn namespaces(&self) -> Vec<String> {
        std::iter::once(self.dut.clone())
            .chain(self.peers.iter().map(|p| p.ns.clone()))
            .collect()
    }

    /// Neighbour entries the DUT holds: interface, address, MAC.
    pub fn neighbours(&self) -> &[(String, IpAddr, [u8; 6])] {
        &self.neighbours
    }

    /// The MAC address the DUT's interface `iface` has (the model's, or the one the kernel
    /// chose when the model gives none).
    pub fn interface_mac(&self, iface: &str) -> Result<[u8; 6], VerifyError> {
        let text = self.ip(&["-br", "link", "show", "dev", iface])?;
        // `eth0@if2   UP   02:00:00:00:00:01 <BROADCAST,...>`
        text.split_whitespace()
            .find_map(crate::host::parse_mac)
            .ok_or_else(|| VerifyError::Parse {
                what: format!("ip -br link show dev {iface}"),
                message: format!("no MAC address in `{}'", text.trim()),
            })
    }

    /// Settings applied that differ from a stock kernel, one per line.
    pub fn settings(&self) -> Vec<String> {
        self.settings.clone()
    }

    /// Runs `argv` inside the DUT and returns its output.
    pub fn exec(&self, argv: &[&str], stdin: Option<&str>) -> Result<String, VerifyError> {
        netns::exec(&self.dut, argv, stdin)
    }

    fn ip(&self, args: &[&str]) -> Result<String, VerifyError> {
        let mut argv = vec!["ip", "-n", self.dut.as_str()];
        argv.extend_from_slice(args);
        netns::run(&argv, None)
    }

    fn sysctl(&self, ns: &str, pairs: &[String]) -> Result<(), VerifyError> {
        let mut argv = vec!["sysctl", "-q", "-w"];
        argv.extend(pairs.iter().map(String::as_str));
        netns::exec(ns, &argv, None).map(|_| ())
    }

    /// Namespace-wide settings, before any interface exists so that new interfaces inherit
    /// the `default` values (`devinet_conf` copies `ipv4_devconf_dflt` at creation).
    fn namespace_sysctls(&mut self, host: &Host) -> Result<(), VerifyError> {
        let s = host.sysctl();
        let b = |v: bool| if v { "1" } else { "0" };
        let mut pairs = vec![
            // ip_forward first: writing it resets every interface's forwarding.
            format!("net.ipv4.ip_forward={}", b(s.ip_forward)),
            format!("net.ipv6.conf.all.forwarding={}", b(s.ipv6_forwarding)),
        ];
        for scope in ["all", "default"] {
            pairs.push(format!("net.ipv4.conf.{scope}.rp_filter={}", s.rp_filter));
            pairs.push(format!(
                "net.ipv4.conf.{scope}.route_localnet={}",
                b(s.route_localnet)
            ));
            pairs.push(format!(
                "net.ipv4.conf.{scope}.accept_local={}",
                b(s.accept_local)
            ));
        }
        let exact = [
            (
                "net.ipv4.conf.all.send_redirects",
                "0",
                "no ICMP redirects (not emulated)",
            ),
            (
                "net.ipv4.conf.default.send_redirects",
                "0",
                "no ICMP redirects (not emulated)",
            ),
            (
                "net.ipv4.icmp_ratelimit",
                "0",
                "every ICMP error is sent (stock: 1000 ms)",
            ),
            (
                "net.ipv4.icmp_msgs_per_sec",
                "100000000",
                "no global ICMP rate limit (stock: 1000)",
            ),
            (
                "net.ipv4.icmp_msgs_burst",
                "100000000",
                "no global ICMP burst limit (stock: 50)",
            ),
            (
                "net.ipv6.icmp.ratelimit",
                "0",
                "every ICMPv6 error is sent (stock: 1000 ms)",
            ),
            (
                "net.ipv6.auto_flowlabels",
                "0",
                "the host's own IPv6 packets carry flow label 0 (stock: 1, a hash with a per-boot key)",
            ),
            (
                "net.ipv6.conf.all.accept_dad",
                "0",
                "IPv6 addresses usable at once",
            ),
            (
                "net.ipv6.conf.default.accept_dad",
                "0",
                "IPv6 addresses usable at once",
            ),
            (
                "net.ipv6.conf.all.addr_gen_mode",
                "1",
                "no automatic IPv6 link-local address",
            ),
            (
                "net.ipv6.conf.default.addr_gen_mode",
                "1",
                "no automatic IPv6 link-local address",
            ),
            (
                "net.ipv6.conf.default.mldv2_unsolicited_report_interval",
                "1",
                "MLD reports of the set-up leave at once (stock: 1000 ms)",
            ),
            (
                "net.ipv6.conf.default.mldv1_unsolicited_report_interval",
                "1",
                "MLD reports of the set-up leave at once (stock: 10000 ms)",
            ),
            (
                "net.ipv6.conf.default.router_solicitations",
                "0",
                "no router solicitations",
            ),
        ];
        for (k, v, why) in exact {
            pairs.push(format!("{k}={v}"));
            self.settings.push(format!("{k}={v}: {why}"));
        }
        if s.send_redirects {
            self.settings.push(
                "send_redirects: the host model says 1, the lab uses 0 (redirects are not emulated)"
                    .into(),
            );
        }
        // The host file's `[lab]` has the last word (applied after, so it wins).
        for (k, v) in host.lab_sysctls() {
            pairs.push(format!("{k}={v}"));
            self.settings.push(format!(
                "{k}={v}: set by the host file's [lab] (the emulation may not model it)"
            ));
        }
        self.sysctl(&self.dut.clone(), &pairs)
    }

    fn add_interface(
        &mut self,
        host: &Host,
        iface: &Interface,
        peer: &Peer,
    ) -> Result<(), VerifyError> {
        // The peer only injects and captures: no IPv6 (no router solicitations, MLD or DAD).
        self.sysctl(
            &peer.ns,
            &[
                "net.ipv6.conf.all.disable_ipv6=1".into(),
                "net.ipv6.conf.default.disable_ipv6=1".into(),
            ],
        )?;
        let index = iface.index.to_string();
        let mtu = iface.mtu.to_string();
        let mut args = vec!["link", "add", iface.name.as_str(), "index", index.as_str()];
        let mac = iface.mac.map(|m| format_mac(&m));
        if let Some(m) = &mac {
            args.extend(["address", m.as_str()]);
        }
        args.extend([
            "mtu",
            mtu.as_str(),
            "type",
            "veth",
            "peer",
            "name",
            iface.name.as_str(),
        ]);
        args.extend(["mtu", mtu.as_str(), "netns", peer.ns.as_str()]);
        self.ip(&args)?;
        for (ns, what) in [(self.dut.clone(), "DUT"), (peer.ns.clone(), "peer")] {
            netns::exec(
                &ns,
                &["ethtool", "-K", &iface.name, "tx", "off", "rx", "off"],
                None,
            )?;
            let _ = what;
        }
        self.settings.push(format!(
            "{}: checksum offloads off on both ends (ethtool -K tx off rx off)",
            iface.name
        ));
        self.interface_sysctls(host, iface)?;
        self.add_addresses(iface)?;
        if iface.up {
            self.ip(&["link", "set", &iface.name, "up"])?;
        }
        netns::run(
            &["ip", "-n", &peer.ns, "link", "set", &iface.name, "up"],
            None,
        )?;
        Ok(())
    }

    /// The interface's own `net.ipv4.conf.IF.*` where the model sets one.
    fn interface_sysctls(&self, host: &Host, iface: &Interface) -> Result<(), VerifyError> {
        let c = &iface.conf;
        let name = &iface.name;
        let b = |v: bool| if v { "1" } else { "0" };
        let mut pairs = Vec::new();
        if let Some(v) = c.forwarding {
            pairs.push(format!("net.ipv4.conf.{name}.forwarding={}", b(v)));
        }
        if let Some(v) = c.rp_filter {
            pairs.push(format!("net.ipv4.conf.{name}.rp_filter={v}"));
        }
        if let Some(v) = c.route_localnet {
            pairs.push(format!("net.ipv4.conf.{name}.route_localnet={}", b(v)));
        }
        if let Some(v) = c.accept_local {
            pairs.push(format!("net.ipv4.conf.{name}.accept_local={}", b(v)));
        }
        let _ = host;
        if pairs.is_empty() {
            return Ok(());
        }
        self.sysctl(&self.dut, &pairs)
    }

    /// Addresses in the model's (the kernel's list) order. IPv6 lists put the newest first,
    /// so IPv6 addresses are added last-to-first to come out in the same order.
    fn add_addresses(&self, iface: &Interface) -> Result<(), VerifyError> {
        let v4 = iface.v4_addresses();
        let v6: Vec<_> = iface.v6_addresses().collect();
        for a in v4.chain(v6.into_iter().rev()) {
            // lo has these from the start.
            if iface.loopback
                && (a.local == IpAddr::from([127, 0, 0, 1])
                    || a.local == "::1".parse::<IpAddr>().unwrap_or(a.local))
            {
                continue;
            }
            let local = format!("{}/{}", a.local, a.prefix_len);
            let scope = a.scope.0.to_string();
            let mut args = vec!["addr", "add", local.as_str()];
            let brd = a.broadcast.map(|b| b.to_string());
            if let Some(b) = &brd {
                args.extend(["broadcast", b.as_str()]);
            }
            if !a.is_v6() {
                args.extend(["scope", scope.as_str()]);
            }
            if a.noprefixroute {
                args.push("noprefixroute");
            }
            args.extend(["dev", iface.name.as_str()]);
            self.ip(&args)?;
        }
        Ok(())
    }

    /// The model's routes other than those the kernel derives from addresses.
    fn add_routes(&self, host: &Host) -> Result<(), VerifyError> {
        for r in host.routes() {
            if r.protocol == Protocol::KERNEL || r.dead {
                continue;
            }
            self.ip(&route_args(host, r)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>())?;
        }
        Ok(())
    }

    fn add_rules(&self, host: &Host) -> Result<(), VerifyError> {
        let defaults: Vec<Rule> = Rule::defaults(false)
            .into_iter()
            .chain(Rule::defaults(true))
            .collect();
        for r in host.rules() {
            if defaults.contains(r) {
                continue;
            }
            self.ip(&rule_args(r).iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        Ok(())
    }

    fn add_neighbours(
        &mut self,
        host: &Host,
        next_hops: &[(String, IpAddr, Option<[u8; 6]>)],
    ) -> Result<(), VerifyError> {
        let mut wanted: Vec<(String, IpAddr, Option<[u8; 6]>)> = next_hops.to_vec();
        let listed: BTreeSet<(String, IpAddr)> =
            next_hops.iter().map(|(i, a, _)| (i.clone(), *a)).collect();
        for r in host.routes() {
            let (Some(gw), Some(dev)) = (r.gateway, r.dev) else {
                continue;
            };
            let Some(iface) = host.interface_by_index(dev) else {
                continue;
            };
            if !iface.loopback && !listed.contains(&(iface.name.clone(), gw)) {
                wanted.push((iface.name.clone(), gw, None));
            }
        }
        let mut seen = BTreeSet::new();
        for (n, (iface, addr, mac)) in wanted.into_iter().enumerate() {
            if !seen.insert((iface.clone(), addr)) {
                continue;
            }
            if !self.peers.iter().any(|p| p.iface == iface) {
                return Err(VerifyError::Usage(format!(
                    "next hop {addr} is on `{iface}', which the host model does not have"
                )));
            }
            let mac = mac.unwrap_or([0x02, 0xfb, 0, 0, (n >> 8) as u8, n as u8]);
            let (a, m) = (addr.to_string(), format_mac(&mac));
            self.ip(&[
                "neigh",
                "replace",
                &a,
                "lladdr",
                &m,
                "dev",
                &iface,
                "nud",
                "permanent",
            ])?;
            self.neighbours.push((iface, addr, mac));
        }
        if !self.neighbours.is_empty() {
            self.settings.push(format!(
                "{} permanent neighbour entr{} (no ARP/ND): {}",
                self.neighbours.len(),
                if self.neighbours.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                self.neighbours
                    .iter()
                    .map(|(i, a, m)| format!("{a} {} on {i}", format_mac(m)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(())
    }

    /// Loads `ipsets` (`ipset restore`) and then `rules_text` (`iptables-restore` of the
    /// family and backend, without `-c`, so every counter starts at zero: NETFILTER.md §5),
    /// and empties the connection table.
    pub fn load(
        &self,
        rules_text: &str,
        ipsets: Option<&str>,
        family: Family,
        backend: Backend,
    ) -> Result<(), VerifyError> {
        if let Some(sets) = ipsets {
            self.exec(&["ipset", "restore"], Some(sets))?;
        }
        // `-m nfacct` names accounting objects that must exist before the rule loads
        // (nfnetlink_acct, per network namespace): the host has them, the lab makes them.
        for name in nfacct_names(rules_text) {
            self.exec(&["nfacct", "add", &name], None)?;
        }
        self.exec(&[&tool(family, backend, "restore")], Some(rules_text))?;
        // An empty table is not an error (`conntrack -F` prints a summary on stderr).
        let _ = self.exec(&["conntrack", "-F"], None);
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = (family, backend);
        Ok(())
    }

    /// Pushes `packets` through the DUT in order and returns what the kernel did. See the
    /// module documentation for the sockets; each frame is checked against the DUT's receive
    /// counter and sent again when it did not arrive (NETFILTER.md §8).
    pub fn run(&self, packets: &[Injected]) -> Result<KernelObservation, VerifyError> {
        let mut sockets = BTreeMap::new();
        for p in &self.peers {
            sockets.insert(p.iface.clone(), PacketSocket::open(&p.ns, &p.iface, 20)?);
        }
        for pkt in packets {
            if let Injected::Frame { iface, .. } = pkt {
                if !sockets.contains_key(iface) {
                    return Err(VerifyError::Usage(format!(
                        "a frame arrives on `{iface}', which the lab does not have"
                    )));
                }
            }
        }
        let raw = if packets.iter().any(|p| matches!(p, Injected::Local { .. })) {
            Some(RawSocket::open(&self.dut)?)
        } else {
            None
        };
        let mut counters = DevCounters::open(&self.dut)?;
        let stop = AtomicBool::new(false);
        let seen = AtomicUsize::new(0);
        let captured: BTreeMap<String, Mutex<Vec<Vec<u8>>>> = sockets
            .keys()
            .map(|k| (k.clone(), Mutex::new(Vec::new())))
            .collect();
        let sent = std::thread::scope(|scope| {
            let mut readers = Vec::new();
            for (name, sock) in &sockets {
                let (stop, seen, out) = (&stop, &seen, &captured[name]);
                readers.push(scope.spawn(move || capture_loop(sock, stop, seen, out)));
            }
            // A thread of its own, because send_all pins it to one CPU.
            let sockets = &sockets;
            let raw = raw.as_ref();
            let counters = &mut counters;
            let sent = scope
                .spawn(move || send_all(packets, sockets, raw, counters))
                .join()
                .map_err(|_| VerifyError::Usage("the sending thread panicked".into()))
                .and_then(|r| r);
            settle(&seen);
            stop.store(true, Ordering::SeqCst);
            for r in readers {
                match r.join() {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(e),
                    Err(_) => return Err(VerifyError::Usage("a capture thread panicked".into())),
                }
            }
            sent
        })?;
        for (name, sock) in &sockets {
            let drops = sock.drops();
            if drops > 0 {
                return Err(VerifyError::Lost(format!(
                    "the capture on `{name}' dropped {drops} frame(s)"
                )));
            }
        }
        let emitted = captured
            .into_iter()
            .map(|(k, v)| (k, v.into_inner().unwrap_or_else(|e| e.into_inner())))
            .collect();
        Ok(KernelObservation {
            observation: Observation {
                ruleset: self.read_counters()?,
                emitted,
                conntrack: self.read_conntrack()?,
            },
            resent: sent.resent,
            local_errors: sent.local_errors,
        })
    }

    /// `iptables-save -c` of the loaded family and backend, parsed.
    pub fn read_counters(&self) -> Result<crate::rules::Ruleset, VerifyError> {
        let (family, backend) = *self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let save = tool(family, backend, "save");
        let text = self.exec(&[&save, "-c"], None)?;
        parse_ruleset(
            &text,
            &format!("{save} -c (in {})", self.dut),
            ParseOptions { family, backend },
        )
        .map_err(|d| VerifyError::Parse {
            what: format!("{save} -c"),
            message: d.to_string(),
        })
    }

    /// `conntrack -L` of the loaded family, parsed and sorted.
    pub fn read_conntrack(&self) -> Result<Vec<super::CtEntry>, VerifyError> {
        let (family, _) = *self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let f = match family {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        };
        let text = self.exec(&["conntrack", "-L", "-f", f], None)?;
        parse_conntrack(&text)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for p in &self.peers {
            netns::delete(&p.ns);
        }
        netns::delete(&self.dut);
    }
}

/// `iptables-nft-restore`, `ip6tables-legacy-save`, ...
fn tool(family: Family, backend: Backend, verb: &str) -> String {
    let fam = match family {
        Family::Ipv4 => "iptables",
        Family::Ipv6 => "ip6tables",
    };
    let var = match backend {
        Backend::Nft => "nft",
        Backend::Legacy => "legacy",
    };
    format!("{fam}-{var}-{verb}")
}

/// `ip route add` arguments for one model route.
fn route_args(host: &Host, r: &Route) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    if r.is_v6() {
        a.push("-6".into());
    }
    a.extend([
        "route".into(),
        "add".into(),
        r.kind.name().into(),
        r.destination.to_string(),
    ]);
    if let Some(gw) = r.gateway {
        a.extend(["via".into(), gw.to_string()]);
    }
    if let Some(dev) = r.dev.and_then(|d| host.interface_by_index(d)) {
        a.extend(["dev".into(), dev.name.clone()]);
    }
    a.extend(["metric".into(), r.metric.to_string()]);
    if let Some(src) = r.prefsrc {
        a.extend(["src".into(), src.to_string()]);
    }
    if !r.is_v6() {
        a.extend(["scope".into(), r.scope.0.to_string()]);
    }
    if r.table != TABLE_MAIN {
        a.extend(["table".into(), r.table.to_string()]);
    }
    a.extend(["proto".into(), r.protocol.0.to_string()]);
    if r.tos != 0 {
        a.extend(["tos".into(), format!("0x{:02x}", r.tos)]);
    }
    a
}

/// `ip rule add` arguments for one model rule.
fn rule_args(r: &Rule) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    if r.v6 {
        a.push("-6".into());
    }
    a.extend([
        "rule".into(),
        "add".into(),
        "priority".into(),
        r.priority.to_string(),
    ]);
    if r.invert {
        a.push("not".into());
    }
    if let Some(p) = r.from {
        a.extend(["from".into(), p.to_string()]);
    }
    if let Some(p) = r.to {
        a.extend(["to".into(), p.to_string()]);
    }
    if let Some((v, m)) = r.fwmark {
        a.extend(["fwmark".into(), format!("0x{v:x}/0x{m:x}")]);
    }
    if let Some(i) = &r.iif {
        a.extend(["iif".into(), i.clone()]);
    }
    if let Some(o) = &r.oif {
        a.extend(["oif".into(), o.clone()]);
    }
    match r.action {
        RuleAction::Lookup(t) => a.extend(["lookup".into(), t.to_string()]),
        RuleAction::Blackhole => a.push("blackhole".into()),
        RuleAction::Unreachable => a.push("unreachable".into()),
        RuleAction::Prohibit => a.push("prohibit".into()),
        RuleAction::Goto(p) => a.extend(["goto".into(), p.to_string()]),
        RuleAction::Nop => a.push("nop".into()),
    }
    if let Some(n) = r.suppress_prefixlength {
        a.extend(["suppress_prefixlength".into(), n.to_string()]);
    }
    a
}

/// Receives until told to stop.
fn capture_loop(
    sock: &PacketSocket,
    stop: &AtomicBool,
    seen: &AtomicUsize,
    out: &Mutex<Vec<Vec<u8>>>,
) -> Result<(), VerifyError> {
    loop {
        match sock.recv_incoming()? {
            Some(frame) => {
                out.lock().unwrap_or_else(|e| e.into_inner()).push(frame);
                seen.fetch_add(1, Ordering::SeqCst);
            }
            None if stop.load(Ordering::SeqCst) => return Ok(()),
            None => {}
        }
    }
}

#[derive(Default)]
struct Sent {
    resent: usize,
    local_errors: Vec<(usize, i32)>,
}

/// Tries per frame before the loss is reported.
const SEND_TRIES: usize = 20;

/// Sends every packet in order; each frame is confirmed by the DUT's receive counter of its
/// interface (veth counts a frame as received when it enters the DUT's backlog, and the
/// send runs the DUT's receive path before it returns, so order is kept).
fn send_all(
    packets: &[Injected],
    sockets: &BTreeMap<String, PacketSocket>,
    raw: Option<&RawSocket>,
    counters: &mut DevCounters,
) -> Result<Sent, VerifyError> {
    pin_to_current_cpu();
    let mut sent = Sent::default();
    for (n, pkt) in packets.iter().enumerate() {
        match pkt {
            Injected::Frame { iface, frame } => {
                let sock = sockets
                    .get(iface)
                    .ok_or_else(|| VerifyError::Usage(format!("no interface `{iface}'")))?;
                let before = counters.rx_packets(iface)?;
                let mut tries = 0;
                loop {
                    sock.send(frame)?;
                    tries += 1;
                    if counters.rx_packets(iface)? > before {
                        break;
                    }
                    if tries == SEND_TRIES {
                        return Err(VerifyError::Lost(format!(
                            "packet {} ({} bytes into `{iface}') did not arrive after {tries} tries",
                            n + 1,
                            frame.len()
                        )));
                    }
                    sent.resent += 1;
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            Injected::Local { ip } => {
                let raw = raw.ok_or_else(|| VerifyError::Usage("no raw socket".into()))?;
                if let Some(errno) = raw.send(ip)? {
                    sent.local_errors.push((n, errno));
                }
            }
        }
    }
    Ok(sent)
}

/// Keeps the sending thread on one CPU: frames sent from two CPUs would wait in two
/// backlogs and could be processed out of order.
fn pin_to_current_cpu() {
    // SAFETY: sched_getcpu has no arguments; the cpu_set_t is zeroed and then filled by
    // CPU_SET before sched_setaffinity reads it; pid 0 is the calling thread.
    unsafe {
        let cpu = libc::sched_getcpu();
        if cpu < 0 {
            return;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Waits until nothing new was captured for [`STILL`] (the DUT's own delayed packets: ICMP
/// errors, TCP resets), at most [`MAX_SETTLE`].
fn settle(seen: &AtomicUsize) {
    let start = Instant::now();
    let mut last = seen.load(Ordering::SeqCst);
    let mut quiet_since = Instant::now();
    while start.elapsed() < MAX_SETTLE {
        std::thread::sleep(Duration::from_millis(25));
        let now = seen.load(Ordering::SeqCst);
        if now != last {
            last = now;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= STILL {
            return;
        }
    }
}

/// The accounting objects `--nfacct-name` options of a restore text name, each once.
fn nfacct_names(rules_text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in rules_text.lines() {
        let mut words = line.split_whitespace();
        while let Some(w) = words.next() {
            if w == "--nfacct-name" {
                if let Some(n) = words.next() {
                    out.insert(n.trim_matches('"').to_string());
                }
            }
        }
    }
    out
}

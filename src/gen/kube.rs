//! kube-proxy-shaped rulesets (iptables mode), as kube-proxy writes them with
//! `iptables-restore --noflush`, plus the hook rules it installs separately.
//!
//! The shape follows kube-proxy's proxier (pkg/proxy/iptables): per service a jump from
//! KUBE-SERVICES to a KUBE-SVC chain, which masquerades off-cluster sources and spreads
//! connections over KUBE-SEP chains with `-m statistic --mode random` (probabilities 1/n,
//! 1/(n-1), ..., the last without statistic), each KUBE-SEP DNATing to its endpoint; NodePort
//! services add KUBE-NODEPORTS and KUBE-EXT chains; services without endpoints get a REJECT in
//! the filter table. Chain names are 16 base32 characters, as kube-proxy's hashes are.

use std::fmt::Write;

use super::Rng;

/// What to generate.
#[derive(Clone, Debug)]
pub struct KubeParams {
    pub seed: u64,
    pub services: usize,
    /// Endpoints per service: a service gets 1..=max_endpoints (0 for some, see below).
    pub max_endpoints: usize,
    /// One service in this many has no endpoints (and is rejected in the filter table).
    pub no_endpoints_every: usize,
    /// One service in this many is also a NodePort.
    pub nodeport_every: usize,
}

impl Default for KubeParams {
    fn default() -> KubeParams {
        KubeParams {
            seed: 1,
            services: 100,
            max_endpoints: 5,
            no_endpoints_every: 20,
            nodeport_every: 4,
        }
    }
}

impl KubeParams {
    /// Parameters that give at least `rules` rules (the count is approximate from above).
    pub fn for_rules(rules: usize, seed: u64) -> KubeParams {
        // With up to 5 endpoints a service averages a little under 11 rules.
        KubeParams {
            seed,
            services: rules / 10 + 1,
            ..KubeParams::default()
        }
    }
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn hash_name(rng: &mut Rng, prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 16);
    s.push_str(prefix);
    for _ in 0..16 {
        s.push(BASE32[rng.below(32) as usize] as char);
    }
    s
}

struct Service {
    name: String,
    proto: &'static str,
    cluster_ip: String,
    port: u16,
    node_port: Option<u16>,
    svc_chain: String,
    ext_chain: String,
    endpoints: Vec<(String, String)>, // (KUBE-SEP chain, ip)
}

/// Generates the ruleset text (iptables-save format, with built-in chains and hook rules so
/// that it loads on its own).
pub fn ruleset(p: &KubeParams) -> String {
    let mut rng = Rng::new(p.seed);
    let mut services = Vec::with_capacity(p.services);
    for i in 0..p.services {
        let proto = if rng.chance(1, 5) { "udp" } else { "tcp" };
        let n_ep =
            if p.no_endpoints_every > 0 && i % p.no_endpoints_every == p.no_endpoints_every - 1 {
                0
            } else {
                1 + rng.below(p.max_endpoints.max(1) as u64) as usize
            };
        let endpoints = (0..n_ep)
            .map(|_| {
                let ip = format!(
                    "10.{}.{}.{}",
                    1 + rng.below(250),
                    rng.below(256),
                    1 + rng.below(254)
                );
                (hash_name(&mut rng, "KUBE-SEP-"), ip)
            })
            .collect();
        services.push(Service {
            name: format!(
                "ns{}/svc{}:p{}",
                i % 97,
                i,
                if proto == "tcp" { "http" } else { "dns" }
            ),
            proto,
            cluster_ip: format!("172.30.{}.{}", (i / 250) % 256, 1 + i % 250),
            port: if proto == "tcp" {
                80 + (i % 8) as u16
            } else {
                53
            },
            node_port: (p.nodeport_every > 0 && i % p.nodeport_every == 0)
                .then(|| 30000 + (i % 2768) as u16),
            svc_chain: hash_name(&mut rng, "KUBE-SVC-"),
            ext_chain: hash_name(&mut rng, "KUBE-EXT-"),
            endpoints,
        });
    }

    let mut out = String::new();
    write_filter(&mut out, &services);
    write_nat(&mut out, &services);
    out
}

fn write_filter(out: &mut String, services: &[Service]) {
    out.push_str("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
    for c in [
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-FIREWALL",
        "KUBE-FORWARD",
        "KUBE-NODEPORTS",
        "KUBE-PROXY-FIREWALL",
        "KUBE-SERVICES",
    ] {
        let _ = writeln!(out, ":{c} - [0:0]");
    }
    out.push_str(concat!(
        "-A INPUT -j KUBE-FIREWALL\n",
        "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n",
        "-A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS\n",
        "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n",
        "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n",
        "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n",
        "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n",
        "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n",
        "-A OUTPUT -j KUBE-FIREWALL\n",
        "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n",
        "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n",
        "-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n",
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n",
        "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n",
        "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n",
    ));
    for s in services.iter().filter(|s| s.endpoints.is_empty()) {
        let _ = writeln!(
            out,
            "-A KUBE-SERVICES -d {}/32 -p {p} -m comment --comment \"{} has no endpoints\" -m {p} --dport {} -j REJECT --reject-with icmp-port-unreachable",
            s.cluster_ip, s.name, s.port, p = s.proto
        );
        if let Some(np) = s.node_port {
            let _ = writeln!(
                out,
                "-A KUBE-EXTERNAL-SERVICES -p {p} -m comment --comment \"{} has no endpoints\" -m addrtype --dst-type LOCAL -m {p} --dport {np} -j REJECT --reject-with icmp-port-unreachable",
                s.name, p = s.proto
            );
        }
    }
    out.push_str("COMMIT\n");
}

fn write_nat(out: &mut String, services: &[Service]) {
    out.push_str("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n");
    for c in [
        "KUBE-MARK-MASQ",
        "KUBE-NODEPORTS",
        "KUBE-POSTROUTING",
        "KUBE-SERVICES",
    ] {
        let _ = writeln!(out, ":{c} - [0:0]");
    }
    for s in services.iter().filter(|s| !s.endpoints.is_empty()) {
        let _ = writeln!(out, ":{} - [0:0]", s.svc_chain);
        if s.node_port.is_some() {
            let _ = writeln!(out, ":{} - [0:0]", s.ext_chain);
        }
        for (sep, _) in &s.endpoints {
            let _ = writeln!(out, ":{sep} - [0:0]");
        }
    }
    out.push_str(concat!(
        "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n",
        "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n",
        "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n",
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n",
        "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n",
    ));
    for s in services.iter().filter(|s| !s.endpoints.is_empty()) {
        let p = s.proto;
        let _ = writeln!(
            out,
            "-A KUBE-SERVICES -d {}/32 -p {p} -m comment --comment \"{} cluster IP\" -m {p} --dport {} -j {}",
            s.cluster_ip, s.name, s.port, s.svc_chain
        );
        if let Some(np) = s.node_port {
            let _ = writeln!(
                out,
                "-A KUBE-NODEPORTS -p {p} -m comment --comment \"{}\" -m {p} --dport {np} -j {}",
                s.name, s.ext_chain
            );
            let _ = writeln!(out, "-A {} -m comment --comment \"masquerade traffic for {} external destinations\" -j KUBE-MARK-MASQ", s.ext_chain, s.name);
            let _ = writeln!(out, "-A {} -j {}", s.ext_chain, s.svc_chain);
        }
        let _ = writeln!(
            out,
            "-A {} ! -s 10.0.0.0/8 -d {}/32 -p {p} -m comment --comment \"{} cluster IP\" -m {p} --dport {} -j KUBE-MARK-MASQ",
            s.svc_chain, s.cluster_ip, s.name, s.port
        );
        let n = s.endpoints.len();
        for (i, (sep, ip)) in s.endpoints.iter().enumerate() {
            let left = n - i;
            if left > 1 {
                // kube-proxy prints 1/left with ten decimals; iptables-save prints the
                // kernel's fixed-point value back with eleven.
                let _ = writeln!(
                    out,
                    "-A {} -m comment --comment \"{} -> {ip}:{}\" -m statistic --mode random --probability {:.10} -j {sep}",
                    s.svc_chain, s.name, s.port, 1.0 / left as f64
                );
            } else {
                let _ = writeln!(
                    out,
                    "-A {} -m comment --comment \"{} -> {ip}:{}\" -j {sep}",
                    s.svc_chain, s.name, s.port
                );
            }
        }
        for (sep, ip) in &s.endpoints {
            let _ = writeln!(
                out,
                "-A {sep} -s {ip}/32 -m comment --comment \"{}\" -j KUBE-MARK-MASQ",
                s.name
            );
            let _ = writeln!(out, "-A {sep} -p {p} -m comment --comment \"{}\" -m {p} -j DNAT --to-destination {ip}:{}", s.name, s.port);
        }
    }
    out.push_str(
        "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n",
    );
    out.push_str("COMMIT\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let p = KubeParams::for_rules(2000, 42);
        let a = ruleset(&p);
        assert_eq!(a, ruleset(&p));
        assert_ne!(
            a,
            ruleset(&KubeParams {
                seed: 43,
                ..p.clone()
            })
        );
        let rules = a.lines().filter(|l| l.starts_with("-A ")).count();
        assert!((2000..3000).contains(&rules), "{rules} rules");
    }
}

//! The shipped example's cluster: one Kubernetes node with a few dozen services of every
//! kind, as kube-proxy sees them. [`super::node_rules`] prints the node's `iptables-save`.
//!
//! The node is fwbench's built-in host (`Host::kubernetes_node`): eth0 192.168.0.2/24, pods
//! 10.0.0.0/8 behind cni0; this node's pods are 10.180.0.0/24, other nodes' pods 10.181.x.y.
//! Service IPs are 172.30.0.0/16, NodePorts 30000-32767.
//!
//! Each service port gets kube-proxy's chain names: 16 base32 characters derived from the
//! service port's name (and, for KUBE-SEP, the endpoint), as kube-proxy's are (kube-proxy
//! hashes with SHA-256; a seeded generator stands in, so the names look alike).

use std::net::Ipv4Addr;

use super::Rng;

/// The cluster CIDR kube-proxy is configured with (`--cluster-cidr`).
pub const CLUSTER_CIDR: &str = "10.0.0.0/8";
/// The node's own address (eth0), where NodePorts are reached and masquerade leads.
pub const NODE_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 2);

/// TCP or UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One endpoint (a pod, or the node itself for the API server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: Ipv4Addr,
    /// Runs on this node (counts for `externalTrafficPolicy: Local`).
    pub local: bool,
    /// kube-proxy's KUBE-SEP chain for it.
    pub chain: String,
}

/// A load balancer in front of the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadBalancer {
    pub ip: Ipv4Addr,
    /// `loadBalancerSourceRanges`; empty: everyone may connect.
    pub source_ranges: Vec<&'static str>,
}

/// One service port (kube-proxy's unit: `namespace/name:port`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub namespace: &'static str,
    pub name: &'static str,
    pub port_name: &'static str,
    pub proto: Proto,
    pub cluster_ip: Ipv4Addr,
    pub port: u16,
    /// The endpoints' port.
    pub target_port: u16,
    pub node_port: Option<u16>,
    pub external_ips: Vec<Ipv4Addr>,
    pub load_balancer: Option<LoadBalancer>,
    /// `externalTrafficPolicy: Local` (only this node's endpoints take external traffic,
    /// and its source address is kept).
    pub local_only: bool,
    /// The health-check NodePort of a `Local` load balancer.
    pub health_check_port: Option<u16>,
    /// `sessionAffinity: ClientIP` (kube-proxy's default timeout, 10800 s).
    pub affinity: bool,
    pub endpoints: Vec<Endpoint>,
    /// The hash part shared by its KUBE-SVC/SVL/EXT/FW chains.
    pub hash: String,
}

impl Service {
    /// `namespace/name:port`, as in kube-proxy's comments.
    pub fn id(&self) -> String {
        format!("{}/{}:{}", self.namespace, self.name, self.port_name)
    }

    pub fn svc_chain(&self) -> String {
        format!("KUBE-SVC-{}", self.hash)
    }

    pub fn svl_chain(&self) -> String {
        format!("KUBE-SVL-{}", self.hash)
    }

    pub fn ext_chain(&self) -> String {
        format!("KUBE-EXT-{}", self.hash)
    }

    pub fn fw_chain(&self) -> String {
        format!("KUBE-FW-{}", self.hash)
    }

    /// Whether traffic from outside the cluster reaches it (NodePort, external IP or LB).
    pub fn is_external(&self) -> bool {
        self.node_port.is_some() || !self.external_ips.is_empty() || self.load_balancer.is_some()
    }

    /// The endpoints on this node.
    pub fn local_endpoints(&self) -> Vec<&Endpoint> {
        self.endpoints.iter().filter(|e| e.local).collect()
    }
}

/// The services of the example node, in the order kube-proxy writes them.
pub fn example_services() -> Vec<Service> {
    let mut b = Builder::default();
    // The API server runs on the host network: its endpoint is the node itself.
    b.svc("default", "kubernetes", "https", Proto::Tcp, 1, 443, 6443)
        .ep(NODE_IP, true);
    b.svc("kube-system", "kube-dns", "dns", Proto::Udp, 10, 53, 53)
        .ep(pod(2), true);
    b.svc("kube-system", "kube-dns", "dns-tcp", Proto::Tcp, 10, 53, 53)
        .ep(pod(2), true);
    b.svc(
        "kube-system",
        "kube-dns",
        "metrics",
        Proto::Tcp,
        10,
        9153,
        9153,
    )
    .ep(pod(2), true);
    b.svc(
        "kube-system",
        "metrics-server",
        "https",
        Proto::Tcp,
        11,
        443,
        10250,
    )
    .ep(pod(3), true);
    // Three replicas, two on other nodes; also a NodePort.
    b.svc("default", "frontend", "http", Proto::Tcp, 20, 80, 8080)
        .ep(pod(4), true)
        .ep(remote(1, 4), false)
        .ep(remote(2, 4), false)
        .node_port(30080);
    // One replica here: a whole conversation is predictable. Also a NodePort.
    b.svc("shop", "cart", "http", Proto::Tcp, 21, 80, 8080)
        .ep(pod(5), true)
        .node_port(30081);
    // A pod that talks to a service backed by itself (hairpin).
    b.svc("shop", "echo", "http", Proto::Tcp, 22, 80, 8080)
        .ep(pod(7), true);
    // ClientIP session affinity over two endpoints.
    b.svc("shop", "sessions", "http", Proto::Tcp, 23, 80, 8080)
        .ep(pod(8), true)
        .ep(remote(1, 8), false)
        .affinity();
    // A load balancer open only to 203.0.113.0/25 (and the node's own network).
    b.svc("shop", "storefront", "https", Proto::Tcp, 24, 443, 8443)
        .ep(pod(9), true)
        .node_port(30443)
        .lb(ip(198, 51, 100, 10), &["203.0.113.0/25", "192.168.0.0/24"]);
    // externalTrafficPolicy: Local with one endpoint here and one elsewhere.
    b.svc("ingress", "ingress-nginx", "http", Proto::Tcp, 25, 80, 80)
        .ep(pod(11), true)
        .ep(remote(2, 11), false)
        .node_port(31080)
        .lb(ip(198, 51, 100, 20), &[])
        .local(32000);
    // externalTrafficPolicy: Local with no endpoint on this node: external traffic dropped.
    b.svc("monitoring", "grafana", "http", Proto::Tcp, 26, 3000, 3000)
        .ep(remote(3, 7), false)
        .node_port(31300)
        .lb(ip(198, 51, 100, 30), &[])
        .local(32001);
    // An external IP (a routed address of the node's network).
    b.svc("default", "legacy-api", "http", Proto::Tcp, 27, 80, 8080)
        .ep(pod(13), true)
        .external_ip(ip(192, 168, 99, 22));
    // No endpoints: REJECT for the cluster IP, the NodePort and the load balancer.
    b.svc("shop", "reports", "http", Proto::Tcp, 40, 80, 8080)
        .node_port(30090);
    b.svc("shop", "recommender", "grpc", Proto::Tcp, 41, 50051, 50051)
        .lb(ip(198, 51, 100, 40), &[]);
    b.svc("kube-system", "syslog", "syslog", Proto::Udp, 42, 514, 514);
    b.filler();
    b.services
}

/// The ruleset text (see [`super::node_rules`]).
pub fn example_ruleset() -> String {
    super::node_rules::render(&example_services())
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

/// A pod on this node.
fn pod(n: u8) -> Ipv4Addr {
    ip(10, 180, 0, n)
}

/// A pod on another node.
fn remote(node: u8, n: u8) -> Ipv4Addr {
    ip(10, 181, node, n)
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// 16 base32 characters from `key`: FNV-1a of the key seeds the generator, so a name depends
/// only on what it names (as kube-proxy's hashes do), not on the order of services.
pub fn hash16(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut rng = Rng::new(h);
    (0..16)
        .map(|_| BASE32[rng.below(32) as usize] as char)
        .collect()
}

#[derive(Default)]
struct Builder {
    services: Vec<Service>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn svc(
        &mut self,
        namespace: &'static str,
        name: &'static str,
        port_name: &'static str,
        proto: Proto,
        ip_low: u16,
        port: u16,
        target_port: u16,
    ) -> &mut Builder {
        let id = format!("{namespace}/{name}:{port_name}");
        self.services.push(Service {
            namespace,
            name,
            port_name,
            proto,
            cluster_ip: Ipv4Addr::new(172, 30, (ip_low >> 8) as u8, ip_low as u8),
            port,
            target_port,
            node_port: None,
            external_ips: Vec::new(),
            load_balancer: None,
            local_only: false,
            health_check_port: None,
            affinity: false,
            endpoints: Vec::new(),
            hash: hash16(&format!("{id}{}", proto.name())),
        });
        self
    }

    fn last(&mut self) -> &mut Service {
        let n = self.services.len();
        &mut self.services[n - 1]
    }

    fn ep(&mut self, ip: Ipv4Addr, local: bool) -> &mut Builder {
        let s = self.last();
        let key = format!("{}{}{ip}:{}", s.id(), s.proto.name(), s.target_port);
        s.endpoints.push(Endpoint {
            ip,
            local,
            chain: format!("KUBE-SEP-{}", hash16(&key)),
        });
        self
    }

    fn node_port(&mut self, port: u16) -> &mut Builder {
        self.last().node_port = Some(port);
        self
    }

    fn lb(&mut self, ip: Ipv4Addr, source_ranges: &[&'static str]) -> &mut Builder {
        self.last().load_balancer = Some(LoadBalancer {
            ip,
            source_ranges: source_ranges.to_vec(),
        });
        self
    }

    fn local(&mut self, health_check_port: u16) -> &mut Builder {
        let s = self.last();
        s.local_only = true;
        s.health_check_port = Some(health_check_port);
        self
    }

    fn external_ip(&mut self, ip: Ipv4Addr) -> &mut Builder {
        self.last().external_ips.push(ip);
        self
    }

    fn affinity(&mut self) -> &mut Builder {
        self.last().affinity = true;
        self
    }

    /// Ordinary ClusterIP services, so the node has a few dozen: their shape comes from a
    /// fixed seed (1 to 4 endpoints, on this node or elsewhere).
    fn filler(&mut self) {
        const NAMES: [(&str, &str); 18] = [
            ("shop", "catalog"),
            ("shop", "payments"),
            ("shop", "shipping"),
            ("shop", "currency"),
            ("shop", "email"),
            ("shop", "ads"),
            ("shop", "redis-cart"),
            ("auth", "keycloak"),
            ("auth", "oauth2-proxy"),
            ("data", "postgres"),
            ("data", "postgres-replica"),
            ("data", "kafka"),
            ("data", "zookeeper"),
            ("monitoring", "prometheus"),
            ("monitoring", "alertmanager"),
            ("monitoring", "node-exporter"),
            ("logging", "loki"),
            ("logging", "fluent-bit"),
        ];
        let mut rng = Rng::new(0x6b75_6265);
        for (i, (ns, name)) in NAMES.iter().enumerate() {
            let port = [80, 8080, 9090, 5432, 6379, 9092][rng.below(6) as usize];
            self.svc(ns, name, "main", Proto::Tcp, 100 + i as u16, port, port);
            let n = 1 + rng.below(4);
            for _ in 0..n {
                let ep = if rng.chance(1, 3) {
                    pod(100 + rng.below(150) as u8)
                } else {
                    remote(1 + rng.below(3) as u8, 100 + rng.below(150) as u8)
                };
                if !self.last().endpoints.iter().any(|e| e.ip == ep) {
                    let local = ep.octets()[1] == 180;
                    self.ep(ep, local);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_depend_on_the_key_only() {
        assert_eq!(hash16("a"), hash16("a"));
        assert_ne!(hash16("a"), hash16("b"));
        assert_eq!(hash16("x").len(), 16);
    }

    #[test]
    fn every_kind_of_service_is_there() {
        let s = example_services();
        assert!(s.len() >= 30, "{} services", s.len());
        assert!(s
            .iter()
            .any(|s| s.endpoints.is_empty() && s.node_port.is_some()));
        assert!(s.iter().any(|s| s.affinity));
        assert!(s
            .iter()
            .any(|s| s.local_only && s.local_endpoints().is_empty()));
        assert!(s.iter().any(|s| !s.external_ips.is_empty()));
        assert!(s.iter().any(|s| s
            .load_balancer
            .as_ref()
            .is_some_and(|l| !l.source_ranges.is_empty())));
        let text = example_ruleset();
        assert_eq!(text, example_ruleset());
        let chains: std::collections::HashSet<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix(':'))
            .filter_map(|l| l.split(' ').next())
            .collect();
        for l in text.lines().filter(|l| l.starts_with("-A ")) {
            if let Some((_, target)) = l.split_once(" -j ") {
                let target = target.split(' ').next().unwrap_or("");
                if target.starts_with("KUBE-") || target.starts_with("CNI-") {
                    assert!(chains.contains(target), "undeclared {target}: {l}");
                }
            }
        }
    }
}

//! The shipped example: one Kubernetes node with a few dozen services of every kind, and the
//! `iptables-save` text a real node with kube-proxy (iptables mode), kubelet and a simple CNI
//! shows for it.
//!
//! The node is fwbench's built-in host (`Host::kubernetes_node`): eth0 192.168.0.2/24, pods
//! 10.0.0.0/8 behind cni0; this node's pods are 10.180.0.0/24, other nodes' pods 10.181.x.y.
//! Service IPs are 172.30.0.0/16, NodePorts 30000-32767.
//!
//! The rules follow kube-proxy's proxier (pkg/proxy/iptables/proxier.go, `syncProxyRules`):
//! KUBE-SERVICES dispatches cluster IPs to KUBE-SVC chains, external and load-balancer IPs to
//! KUBE-EXT (through KUBE-FW when the service has source ranges), NodePorts through
//! KUBE-NODEPORTS; KUBE-SVC spreads connections with `-m statistic --mode random` (or keeps
//! them with `-m recent` for ClientIP affinity); KUBE-SVL holds only this node's endpoints
//! for `externalTrafficPolicy: Local`; the filter table REJECTs services without endpoints and
//! DROPs what a source range or a missing local endpoint refuses. Chain names are
//! 16 base32 characters derived from the service port's name, as kube-proxy's are (kube-proxy
//! hashes with SHA-256; a seeded generator stands in, so the names look alike).
//!
//! The text is printed the way `iptables-save` prints it (1.8.9, nft and legacy alike): per
//! table the built-in chains, then user chains sorted by name, then the rules chain by chain
//! in that order, each rule in canonical option order. tests/examples.rs loads it into the
//! kernel and checks that `iptables-save` gives back the same text.

use std::collections::BTreeMap;
use std::fmt::Write;
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

    fn local_endpoints(&self) -> Vec<&Endpoint> {
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
    b.svc("kube-system", "kube-dns", "metrics", Proto::Tcp, 10, 9153, 9153)
        .ep(pod(2), true);
    b.svc("kube-system", "metrics-server", "https", Proto::Tcp, 11, 443, 10250)
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

/// The ruleset text (see the module notes).
pub fn example_ruleset() -> String {
    let services = example_services();
    let mut out = String::from(
        "# Generated by `fwbench generate --example-ruleset`: a Kubernetes node's iptables-save\n",
    );
    for table in [mangle(), filter(&services), nat(&services)] {
        table.write(&mut out);
    }
    out
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

/// One table as `iptables-save` prints it.
struct Table {
    name: &'static str,
    builtins: Vec<(&'static str, &'static str)>,
    /// Rules of built-in chains (by name) and user chains.
    rules: BTreeMap<String, Vec<String>>,
}

impl Table {
    fn new(name: &'static str, builtins: &[(&'static str, &'static str)]) -> Table {
        Table {
            name,
            builtins: builtins.to_vec(),
            rules: BTreeMap::new(),
        }
    }

    /// Declares a user chain (it may stay empty).
    fn chain(&mut self, name: &str) {
        self.rules.entry(name.to_string()).or_default();
    }

    /// Appends a rule (canonical `iptables-save` text after `-A CHAIN `).
    fn add(&mut self, chain: &str, rule: impl Into<String>) {
        self.rules
            .entry(chain.to_string())
            .or_default()
            .push(rule.into());
    }

    fn is_builtin(&self, chain: &str) -> bool {
        self.builtins.iter().any(|(b, _)| *b == chain)
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "*{}", self.name);
        for (chain, policy) in &self.builtins {
            let _ = writeln!(out, ":{chain} {policy} [0:0]");
        }
        let user: Vec<&String> = self.rules.keys().filter(|c| !self.is_builtin(c)).collect();
        for chain in &user {
            let _ = writeln!(out, ":{chain} - [0:0]");
        }
        let order = self
            .builtins
            .iter()
            .map(|(b, _)| *b)
            .chain(user.iter().map(|c| c.as_str()));
        for chain in order {
            for rule in self.rules.get(chain).into_iter().flatten() {
                let _ = writeln!(out, "-A {chain} {rule}");
            }
        }
        out.push_str("COMMIT\n");
    }
}

/// kubelet's and kube-proxy's canary chains (they watch for a flushed table).
fn mangle() -> Table {
    let mut t = Table::new(
        "mangle",
        &[
            ("PREROUTING", "ACCEPT"),
            ("INPUT", "ACCEPT"),
            ("FORWARD", "ACCEPT"),
            ("OUTPUT", "ACCEPT"),
            ("POSTROUTING", "ACCEPT"),
        ],
    );
    t.chain("KUBE-KUBELET-CANARY");
    t.chain("KUBE-PROXY-CANARY");
    t
}

/// `-p P -m comment --comment "C" -m P --dport N` in canonical order, with an optional
/// destination first.
fn port_rule(dst: Option<Ipv4Addr>, proto: Proto, comment: &str, extra: &str, port: u16) -> String {
    let p = proto.name();
    let d = dst.map(|d| format!("-d {d}/32 ")).unwrap_or_default();
    format!("{d}-p {p} -m comment --comment \"{comment}\" {extra}-m {p} --dport {port}")
}

fn filter(services: &[Service]) -> Table {
    let mut t = Table::new(
        "filter",
        &[("INPUT", "DROP"), ("FORWARD", "DROP"), ("OUTPUT", "ACCEPT")],
    );
    for c in [
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-FIREWALL",
        "KUBE-FORWARD",
        "KUBE-KUBELET-CANARY",
        "KUBE-NODEPORTS",
        "KUBE-PROXY-CANARY",
        "KUBE-PROXY-FIREWALL",
        "KUBE-SERVICES",
    ] {
        t.chain(c);
    }
    let new = "-m conntrack --ctstate NEW";
    // kube-proxy's and kubelet's hooks come first (they are inserted at the top).
    t.add("INPUT", format!("{new} -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"));
    t.add("INPUT", "-m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS");
    t.add("INPUT", format!("{new} -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"));
    t.add("INPUT", "-j KUBE-FIREWALL");
    // The node's own firewall: loopback, replies, ssh, kubelet, the API server, ICMP.
    t.add("INPUT", "-i lo -j ACCEPT");
    t.add("INPUT", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
    t.add("INPUT", "-m conntrack --ctstate INVALID -j DROP");
    t.add("INPUT", "-p icmp -m icmp --icmp-type 8 -j ACCEPT");
    t.add("INPUT", "-p tcp -m tcp --dport 22 -j ACCEPT");
    t.add("INPUT", "-p tcp -m multiport --dports 6443,10250 -j ACCEPT");
    t.add("INPUT", "-s 10.0.0.0/8 -p udp -m udp --dport 8472 -j ACCEPT");
    t.add("FORWARD", format!("{new} -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"));
    t.add("FORWARD", "-m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD");
    t.add("FORWARD", format!("{new} -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"));
    t.add("FORWARD", format!("{new} -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"));
    // The CNI lets the pod network in and out.
    t.add("FORWARD", format!("-s {CLUSTER_CIDR} -m comment --comment \"cni: pod traffic out\" -j ACCEPT"));
    t.add("FORWARD", format!("-d {CLUSTER_CIDR} -m comment --comment \"cni: pod traffic in\" -j ACCEPT"));
    t.add("OUTPUT", format!("{new} -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"));
    t.add("OUTPUT", format!("{new} -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"));
    t.add("OUTPUT", "-j KUBE-FIREWALL");
    t.add("KUBE-FIREWALL", "! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP");
    t.add("KUBE-FORWARD", "-m conntrack --ctstate INVALID -j DROP");
    t.add("KUBE-FORWARD", "-m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT");
    t.add("KUBE-FORWARD", "-m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");

    let reject = "-j REJECT --reject-with icmp-port-unreachable";
    let local_dst = "-m addrtype --dst-type LOCAL ";
    for s in services {
        let id = s.id();
        if let Some(hc) = s.health_check_port {
            let c = format!("{id} health check node port");
            t.add("KUBE-NODEPORTS", format!("{} -j ACCEPT", port_rule(None, Proto::Tcp, &c, "", hc)));
        }
        let external: Vec<Ipv4Addr> = s
            .external_ips
            .iter()
            .copied()
            .chain(s.load_balancer.iter().map(|l| l.ip))
            .collect();
        if s.endpoints.is_empty() {
            let c = format!("{id} has no endpoints");
            t.add("KUBE-SERVICES", format!("{} {reject}", port_rule(Some(s.cluster_ip), s.proto, &c, "", s.port)));
            for e in &external {
                t.add("KUBE-EXTERNAL-SERVICES", format!("{} {reject}", port_rule(Some(*e), s.proto, &c, "", s.port)));
            }
            if let Some(np) = s.node_port {
                t.add("KUBE-EXTERNAL-SERVICES", format!("{} {reject}", port_rule(None, s.proto, &c, local_dst, np)));
            }
        } else if s.local_only && s.local_endpoints().is_empty() {
            let c = format!("{id} has no local endpoints");
            for e in &external {
                t.add("KUBE-EXTERNAL-SERVICES", format!("{} -j DROP", port_rule(Some(*e), s.proto, &c, "", s.port)));
            }
            if let Some(np) = s.node_port {
                t.add("KUBE-EXTERNAL-SERVICES", format!("{} -j DROP", port_rule(None, s.proto, &c, local_dst, np)));
            }
        }
        if let Some(lb) = &s.load_balancer {
            if !lb.source_ranges.is_empty() && !s.endpoints.is_empty() {
                let c = format!("{id} traffic not accepted by {}", s.fw_chain());
                t.add("KUBE-PROXY-FIREWALL", format!("{} -j DROP", port_rule(Some(lb.ip), s.proto, &c, "", s.port)));
            }
        }
    }
    t
}

fn nat(services: &[Service]) -> Table {
    let mut t = Table::new(
        "nat",
        &[
            ("PREROUTING", "ACCEPT"),
            ("INPUT", "ACCEPT"),
            ("OUTPUT", "ACCEPT"),
            ("POSTROUTING", "ACCEPT"),
        ],
    );
    for c in [
        "KUBE-KUBELET-CANARY",
        "KUBE-MARK-MASQ",
        "KUBE-NODEPORTS",
        "KUBE-POSTROUTING",
        "KUBE-PROXY-CANARY",
        "KUBE-SERVICES",
        "CNI-POSTROUTING",
    ] {
        t.chain(c);
    }
    t.add("PREROUTING", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
    t.add("OUTPUT", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
    t.add("POSTROUTING", "-m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING");
    t.add("POSTROUTING", "-m comment --comment \"cni: masquerade pod traffic leaving the cluster\" -j CNI-POSTROUTING");
    t.add("CNI-POSTROUTING", format!("-d {CLUSTER_CIDR} -j RETURN"));
    t.add("CNI-POSTROUTING", "-d 224.0.0.0/4 -j RETURN");
    t.add("CNI-POSTROUTING", format!("-s {CLUSTER_CIDR} -j MASQUERADE"));
    t.add("KUBE-MARK-MASQ", "-j MARK --set-xmark 0x4000/0x4000");
    t.add("KUBE-POSTROUTING", "-m mark ! --mark 0x4000/0x4000 -j RETURN");
    t.add("KUBE-POSTROUTING", "-j MARK --set-xmark 0x4000/0x0");
    t.add("KUBE-POSTROUTING", "-m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE");
    for s in services.iter().filter(|s| !s.endpoints.is_empty()) {
        nat_service(&mut t, s);
    }
    t.add("KUBE-SERVICES", "-m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
    t
}

fn nat_service(t: &mut Table, s: &Service) {
    let id = s.id();
    let (svc, ext, fw) = (s.svc_chain(), s.ext_chain(), s.fw_chain());
    let c = format!("{id} cluster IP");
    t.add("KUBE-SERVICES", format!("{} -j {svc}", port_rule(Some(s.cluster_ip), s.proto, &c, "", s.port)));
    for e in &s.external_ips {
        let c = format!("{id} external IP");
        t.add("KUBE-SERVICES", format!("{} -j {ext}", port_rule(Some(*e), s.proto, &c, "", s.port)));
    }
    if let Some(lb) = &s.load_balancer {
        let c = format!("{id} loadbalancer IP");
        let to = if lb.source_ranges.is_empty() { &ext } else { &fw };
        t.add("KUBE-SERVICES", format!("{} -j {to}", port_rule(Some(lb.ip), s.proto, &c, "", s.port)));
        if !lb.source_ranges.is_empty() {
            for r in &lb.source_ranges {
                t.add(&fw, format!("-s {r} -m comment --comment \"{c}\" -j {ext}"));
            }
            t.add(&fw, format!("-m comment --comment \"other traffic to {id} will be dropped by KUBE-PROXY-FIREWALL\""));
        }
    }
    if let Some(np) = s.node_port {
        let p = s.proto.name();
        t.add("KUBE-NODEPORTS", format!("-p {p} -m comment --comment \"{id}\" -m {p} --dport {np} -j {ext}"));
    }
    // KUBE-SVC: masquerade what does not come from a pod, then pick an endpoint.
    let c = format!("{id} cluster IP");
    t.add(&svc, format!("! -s {CLUSTER_CIDR} {} -j KUBE-MARK-MASQ", port_rule(Some(s.cluster_ip), s.proto, &c, "", s.port)));
    endpoint_jumps(t, s, &svc, &s.endpoints.iter().collect::<Vec<_>>());
    if s.is_external() {
        if s.local_only {
            t.add(&ext, format!("-s {CLUSTER_CIDR} -m comment --comment \"pod traffic for {id} external destinations\" -j {svc}"));
            t.add(&ext, format!("-m comment --comment \"masquerade LOCAL traffic for {id} external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ"));
            t.add(&ext, format!("-m comment --comment \"route LOCAL traffic for {id} external destinations\" -m addrtype --src-type LOCAL -j {svc}"));
            let local = s.local_endpoints();
            if !local.is_empty() {
                t.add(&ext, format!("-j {}", s.svl_chain()));
                endpoint_jumps(t, s, &s.svl_chain(), &local);
            }
        } else {
            t.add(&ext, format!("-m comment --comment \"masquerade traffic for {id} external destinations\" -j KUBE-MARK-MASQ"));
            t.add(&ext, format!("-j {svc}"));
        }
    }
    for e in &s.endpoints {
        let p = s.proto.name();
        t.add(&e.chain, format!("-s {}/32 -m comment --comment \"{id}\" -j KUBE-MARK-MASQ", e.ip));
        let recent = if s.affinity {
            format!("-m recent --set --name {} --mask 255.255.255.255 --rsource ", e.chain)
        } else {
            String::new()
        };
        t.add(&e.chain, format!("-p {p} -m comment --comment \"{id}\" {recent}-m {p} -j DNAT --to-destination {}:{}", e.ip, s.target_port));
    }
}

/// The jumps from a KUBE-SVC/KUBE-SVL chain to its endpoints: with affinity first a
/// `--rcheck` per endpoint, then the random spread (1/n, 1/(n-1), ..., the last always).
fn endpoint_jumps(t: &mut Table, s: &Service, chain: &str, eps: &[&Endpoint]) {
    let id = s.id();
    if s.affinity {
        for e in eps {
            t.add(chain, format!("-m comment --comment \"{id} -> {}:{}\" -m recent --rcheck --seconds 10800 --reap --name {} --mask 255.255.255.255 --rsource -j {}", e.ip, s.target_port, e.chain, e.chain));
        }
    }
    let n = eps.len();
    for (i, e) in eps.iter().enumerate() {
        let left = n - i;
        let stat = if left > 1 {
            format!("-m statistic --mode random --probability {} ", probability(left))
        } else {
            String::new()
        };
        t.add(chain, format!("-m comment --comment \"{id} -> {}:{}\" {stat}-j {}", e.ip, s.target_port, e.chain));
    }
}

/// 1/n as `iptables-save` prints it: libxt_statistic stores round(2^31 · p) and prints the
/// stored value / 2^31 with eleven decimals.
fn probability(n: usize) -> String {
    let stored = (2_147_483_648.0 / n as f64).round();
    format!("{:.11}", stored / 2_147_483_648.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_as_iptables_prints_them() {
        assert_eq!(probability(2), "0.50000000000");
        assert_eq!(probability(3), "0.33333333349");
    }

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
        assert!(s.iter().any(|s| s.endpoints.is_empty() && s.node_port.is_some()));
        assert!(s.iter().any(|s| s.affinity));
        assert!(s.iter().any(|s| s.local_only && s.local_endpoints().is_empty()));
        assert!(s.iter().any(|s| !s.external_ips.is_empty()));
        assert!(s
            .iter()
            .any(|s| s.load_balancer.as_ref().is_some_and(|l| !l.source_ranges.is_empty())));
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

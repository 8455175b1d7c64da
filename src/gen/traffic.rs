//! The shipped example capture: traffic that arrives at the example node
//! ([`super::cluster`]) on the built-in host, one flow per case a reader of the ruleset cares
//! about, each with the outcome the kernel gives it (see [`Expect`] and captures/README.md).
//!
//! Only packets that arrive from the wire are in it: on `eth0` from the gateway
//! (02:00:00:00:00:fe, 192.168.0.1) or an on-link neighbour, on `cni0` from this node's pods
//! (MAC 0a:58 + the pod's IPv4 address, as the bridge CNI plugin assigns). Replies that the
//! node itself would send (REJECT's ICMP errors, echo replies, the API server's answers) are
//! the replay's output, not its input. Replies of backends are addressed as the kernel
//! translated their connection: to the client when it was not masqueraded, else to the node
//! (192.168.0.2) with the client's port, which MASQUERADE keeps when it is free (the ruleset
//! masquerades without `--random-fully` so that this holds).
//!
//! Conversations only go to services whose choice of endpoint is certain (one endpoint, or
//! one local endpoint for `externalTrafficPolicy: Local`): the kernel picks among several at
//! random, and a reply from the endpoint it did not pick would be a different connection.
//! Multi-endpoint services get connection attempts (SYNs) only.
//!
//! Everything is computed from the seed (ports, sequence numbers, IP ids, DNS ids) and fixed
//! timestamps, so the same seed gives the same bytes.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4};

use super::cluster::NODE_IP;
use super::packet::{dns_message, echo, http_get, http_ok, tcp_segment, tls_record, udp, Seg};
use super::Rng;
use crate::capture::{LinkType, OutPacket, WriteError, Writer};
use crate::wire::tcp::flags::{ACK, FIN, RST};

/// What the kernel does with a flow's first packet (and so with the flow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// DNAT to one of `to` (any one when several; with `same_endpoint` every connection of
    /// the flow goes to the same one, by session affinity). `masquerade`: the source is
    /// rewritten to the node's address 192.168.0.2 (KUBE-MARK-MASQ, then MASQUERADE in
    /// KUBE-POSTROUTING).
    Dnat {
        to: Vec<SocketAddrV4>,
        masquerade: bool,
        same_endpoint: bool,
        /// Where the translated packet goes: `"forward"` or `"input"` (the node itself).
        path: &'static str,
    },
    /// Rejected with ICMP port unreachable, by a rule in `chain` (table filter).
    Reject { chain: &'static str },
    /// Dropped by a rule in `chain` (table filter).
    Drop { chain: &'static str },
    /// No NAT by kube-proxy; accepted by the filter table, on `path` ("input" or
    /// "forward"); `masquerade`: the CNI's masquerade rule rewrites the source to
    /// 192.168.0.2 on the way out.
    Accept {
        path: &'static str,
        masquerade: bool,
    },
    /// conntrack classifies the packets INVALID; a rule in `chain` drops them.
    Invalid { chain: &'static str },
}

/// One flow of the example capture and its expected outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Short name; every packet's pcapng comment starts with it.
    pub name: &'static str,
    pub what: &'static str,
    /// The arrival interface of the client's packets.
    pub arrives_on: &'static str,
    pub client: Ipv4Addr,
    /// `tcp`, `udp` or `icmp`.
    pub proto: &'static str,
    /// The destination the client addresses (`ip:port`, or the IP for ICMP).
    pub dst: String,
    /// Connections in the flow (conntrack entries when they are kept): one per SYN or DNS
    /// query (each from a new port), one per ICMP echo id.
    pub connections: usize,
    /// All packets of the flow in the capture, both directions.
    pub packets: usize,
    pub expect: Expect,
}

/// Seconds since the epoch of the capture's first packet: 2026-01-15 09:00:00 UTC.
const START_S: i64 = 1_768_467_600;
const NODE_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const CNI_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const GATEWAY_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xfe];

/// Capture interface ids, in the order the writer adds them.
const ETH0: u32 = 0;
const CNI0: u32 = 1;

/// One frame of the capture.
#[derive(Clone, Debug)]
pub struct Frame {
    pub interface: u32,
    pub ts_ns: i64,
    pub data: Vec<u8>,
    pub comment: String,
}

/// A host that sends: its address, the interface its packets arrive on at the node, and the
/// MAC they come from.
#[derive(Clone, Copy, Debug)]
struct Peer {
    ip: Ipv4Addr,
    iface: u32,
    mac: [u8; 6],
    ttl: u8,
}

fn outside(ip: Ipv4Addr) -> Peer {
    Peer {
        ip,
        iface: ETH0,
        mac: GATEWAY_MAC,
        ttl: 57,
    }
}

fn neighbour(ip: Ipv4Addr) -> Peer {
    let o = ip.octets();
    Peer {
        ip,
        iface: ETH0,
        mac: [2, 0, o[0], o[1], o[2], o[3]],
        ttl: 64,
    }
}

fn pod(n: u8) -> Peer {
    let ip = Ipv4Addr::new(10, 180, 0, n);
    let o = ip.octets();
    Peer {
        ip,
        iface: CNI0,
        mac: [0x0a, 0x58, o[0], o[1], o[2], o[3]],
        ttl: 64,
    }
}

fn sa(ip: [u8; 4], port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::from(ip), port)
}

/// Builds the frames and the flow table together, so they cannot disagree.
struct Gen {
    rng: Rng,
    frames: Vec<Frame>,
    flows: Vec<Flow>,
    /// Start of the current flow, and the offset of the next packet within it.
    flow_ns: i64,
    at_ns: i64,
    ip_id: u16,
    name: &'static str,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut rng = Rng::new(seed);
        let ip_id = rng.below(65536) as u16;
        Gen {
            rng,
            frames: Vec::new(),
            flows: Vec::new(),
            flow_ns: START_S * 1_000_000_000,
            at_ns: 0,
            ip_id,
            name: "",
        }
    }

    /// Starts a flow, on a whole second two seconds after the previous one ended.
    #[allow(clippy::too_many_arguments)]
    fn flow(
        &mut self,
        name: &'static str,
        what: &'static str,
        client: Peer,
        proto: &'static str,
        dst: String,
        connections: usize,
        expect: Expect,
    ) {
        if !self.flows.is_empty() {
            // Two whole seconds after the last packet's second.
            let last_s = (self.flow_ns + self.at_ns) / 1_000_000_000;
            self.flow_ns = (last_s + 2) * 1_000_000_000;
        }
        self.at_ns = 0;
        self.name = name;
        self.flows.push(Flow {
            name,
            what,
            arrives_on: if client.iface == ETH0 { "eth0" } else { "cni0" },
            client: client.ip,
            proto,
            dst,
            connections,
            packets: 0,
            expect,
        });
    }

    /// Moves the clock of the current flow on by `us` microseconds (plus a little jitter).
    fn after_us(&mut self, us: i64) {
        self.at_ns += us * 1000 + self.rng.below(50_000) as i64;
    }

    fn ephemeral_port(&mut self) -> u16 {
        32768 + self.rng.below(28232) as u16
    }

    /// Sends one IPv4 packet from `from` to `dst`, with checksums filled in (or the L4
    /// checksum spoiled when `bad_checksum`).
    fn send(
        &mut self,
        from: Peer,
        dst: Ipv4Addr,
        proto: u8,
        l4: Vec<u8>,
        step: &str,
        bad_checksum: bool,
    ) {
        let total = 20 + l4.len();
        self.ip_id = self.ip_id.wrapping_add(1 + self.rng.below(3) as u16);
        let mut ip = Vec::with_capacity(total);
        ip.extend_from_slice(&[0x45, 0]);
        ip.extend_from_slice(&(total as u16).to_be_bytes());
        ip.extend_from_slice(&self.ip_id.to_be_bytes());
        ip.extend_from_slice(&[0x40, 0, from.ttl, proto, 0, 0]); // DF
        ip.extend_from_slice(&from.ip.octets());
        ip.extend_from_slice(&dst.octets());
        ip.extend_from_slice(&l4);
        // Built from valid lengths just above: recompute cannot fail.
        let _ = crate::wire::verify::recompute(&mut ip);
        if bad_checksum {
            let at = 20 + crate::wire::tcp::CHECKSUM_OFFSET;
            if let Some(b) = ip.get_mut(at) {
                *b ^= 0x5a;
            }
        }
        let dst_mac = if from.iface == ETH0 {
            NODE_MAC
        } else {
            CNI_MAC
        };
        let mut data = Vec::with_capacity(14 + total);
        data.extend_from_slice(&dst_mac);
        data.extend_from_slice(&from.mac);
        data.extend_from_slice(&0x0800u16.to_be_bytes());
        data.extend_from_slice(&ip);
        self.frames.push(Frame {
            interface: from.iface,
            ts_ns: self.flow_ns + self.at_ns,
            data,
            comment: format!("{}: {step}", self.name),
        });
        if let Some(f) = self.flows.last_mut() {
            f.packets += 1;
        }
    }

    fn tcp(&mut self, from: Peer, to: SocketAddrV4, sport: u16, seg: Seg, step: &str) {
        let l4 = tcp_segment(sport, to.port(), &seg);
        self.send(from, *to.ip(), 6, l4, step, false);
    }

    /// A whole TCP connection: handshake, one request and one response, FIN both ways.
    /// The client addresses `vip`; the backend `server` answers `reply_to` (the client, or
    /// the node when masqueraded) from its own address and port.
    #[allow(clippy::too_many_arguments)]
    fn conversation(
        &mut self,
        client: Peer,
        vip: SocketAddrV4,
        server: Peer,
        server_port: u16,
        reply_to: Ipv4Addr,
        request: &[u8],
        response: &[u8],
    ) {
        let cport = self.ephemeral_port();
        let back = SocketAddrV4::new(reply_to, cport);
        let mut c = self.rng.next_u64() as u32;
        let mut s = self.rng.next_u64() as u32;
        let (rtt, think) = if client.iface == ETH0 {
            (18_000, 400)
        } else {
            (120, 60)
        };
        self.tcp(client, vip, cport, Seg::syn(c), "SYN");
        c = c.wrapping_add(1);
        self.after_us(rtt);
        self.tcp(
            server,
            back,
            server_port,
            Seg::syn_ack(s, c),
            "SYN/ACK from the backend",
        );
        s = s.wrapping_add(1);
        self.after_us(rtt);
        self.tcp(client, vip, cport, Seg::ack(c, s, &[]), "ACK");
        self.after_us(think);
        self.tcp(client, vip, cport, Seg::data(c, s, request), "request");
        c = c.wrapping_add(request.len() as u32);
        self.after_us(rtt);
        self.tcp(
            server,
            back,
            server_port,
            Seg::ack(s, c, &[]),
            "ACK from the backend",
        );
        self.after_us(2_000);
        self.tcp(
            server,
            back,
            server_port,
            Seg::data(s, c, response),
            "response",
        );
        s = s.wrapping_add(response.len() as u32);
        self.after_us(rtt);
        self.tcp(client, vip, cport, Seg::ack(c, s, &[]), "ACK");
        self.after_us(think);
        self.tcp(client, vip, cport, Seg::flags(FIN | ACK, c, s), "FIN");
        c = c.wrapping_add(1);
        self.after_us(rtt);
        self.tcp(
            server,
            back,
            server_port,
            Seg::flags(FIN | ACK, s, c),
            "FIN from the backend",
        );
        s = s.wrapping_add(1);
        self.after_us(rtt);
        self.tcp(client, vip, cport, Seg::ack(c, s, &[]), "last ACK");
    }

    /// `n` connection attempts (SYNs) from `client` to `vip`, a second apart.
    fn syns(&mut self, client: Peer, vip: SocketAddrV4, n: usize) {
        for i in 0..n {
            if i > 0 {
                self.after_us(1_000_000);
            }
            let port = self.ephemeral_port();
            let isn = self.rng.next_u64() as u32;
            self.tcp(client, vip, port, Seg::syn(isn), &format!("SYN {}", i + 1));
        }
    }

    fn dns(&mut self, client: Peer, vip: SocketAddrV4, server: Peer, name: &str, answer: Ipv4Addr) {
        let port = self.ephemeral_port();
        let id = self.rng.below(65536) as u16;
        let q = dns_message(id, name, None);
        self.send(
            client,
            *vip.ip(),
            17,
            udp(port, 53, &q),
            &format!("query A {name}"),
            false,
        );
        self.after_us(300);
        let r = dns_message(id, name, Some(answer));
        self.send(
            server,
            client.ip,
            17,
            udp(53, port, &r),
            "answer from the backend",
            false,
        );
    }

    fn ping(&mut self, from: Peer, to: Ipv4Addr, reply_from: Option<Peer>, count: u16) {
        let ident = self.rng.below(65536) as u16;
        for seq in 1..=count {
            if seq > 1 {
                self.after_us(1_000_000);
            }
            self.send(
                from,
                to,
                1,
                echo(8, ident, seq),
                &format!("echo request {seq}"),
                false,
            );
            if let Some(r) = reply_from {
                self.after_us(90);
                self.send(
                    r,
                    from.ip,
                    1,
                    echo(0, ident, seq),
                    &format!("echo reply {seq}"),
                    false,
                );
            }
        }
    }
}

#[rustfmt::skip] // one flow per few lines reads like the README's table
fn build(seed: u64) -> Gen {
    let mut g = Gen::new(seed);
    let node = NODE_IP;
    let svc = |d: u8, port: u16| sa([172, 30, 0, d], port);
    let dnat = |to: Vec<SocketAddrV4>, masquerade: bool| Expect::Dnat {
        to,
        masquerade,
        same_endpoint: false,
        path: "forward",
    };
    let client = outside(Ipv4Addr::new(203, 0, 113, 7));

    g.flow("dns-udp", "pod asks the cluster DNS service (UDP)", pod(20), "udp", "172.30.0.10:53".into(), 2,
        dnat(vec![sa([10, 180, 0, 2], 53)], false));
    g.dns(pod(20), svc(10, 53), pod(2), "cart.shop.svc.cluster.local", Ipv4Addr::new(172, 30, 0, 21));
    g.after_us(5_000);
    g.dns(pod(20), svc(10, 53), pod(2), "kubernetes.default.svc.cluster.local", Ipv4Addr::new(172, 30, 0, 1));

    g.flow("http-clusterip", "pod to a ClusterIP service with one endpoint: a whole HTTP exchange", pod(21), "tcp", "172.30.0.21:80".into(), 1,
        dnat(vec![sa([10, 180, 0, 5], 8080)], false));
    g.conversation(pod(21), svc(21, 80), pod(5), 8080, pod(21).ip, &http_get("cart.shop", "/api/cart/42"), &http_ok("{\"items\":[]}"));

    g.flow("clusterip-spread", "pod to a ClusterIP service with three endpoints (SYNs only)", pod(22), "tcp", "172.30.0.20:80".into(), 6,
        dnat(vec![sa([10, 180, 0, 4], 8080), sa([10, 181, 1, 4], 8080), sa([10, 181, 2, 4], 8080)], false));
    g.syns(pod(22), svc(20, 80), 6);

    g.flow("hairpin", "pod to a service backed by itself (hairpin): masqueraded to the node", pod(7), "tcp", "172.30.0.22:80".into(), 1,
        dnat(vec![sa([10, 180, 0, 7], 8080)], true));
    g.conversation(pod(7), svc(22, 80), pod(7), 8080, node, &http_get("echo.shop", "/echo?x=1"), &http_ok("x=1"));

    g.flow("affinity", "three connections from one pod to a ClientIP-affinity service: all to one endpoint", pod(23), "tcp", "172.30.0.23:80".into(), 3,
        Expect::Dnat { to: vec![sa([10, 180, 0, 8], 8080), sa([10, 181, 1, 8], 8080)], masquerade: false, same_endpoint: true, path: "forward" });
    g.syns(pod(23), svc(23, 80), 3);

    g.flow("api-server", "pod to the kubernetes service: DNAT to the node's own API server port", pod(26), "tcp", "172.30.0.1:443".into(), 1,
        Expect::Dnat { to: vec![SocketAddrV4::new(node, 6443)], masquerade: false, same_endpoint: false, path: "input" });
    g.syns(pod(26), svc(1, 443), 1);

    g.flow("remote-endpoint", "pod to a service whose only endpoint is on another node", pod(24), "tcp", "172.30.0.26:3000".into(), 1,
        dnat(vec![sa([10, 181, 3, 7], 3000)], false));
    g.syns(pod(24), svc(26, 3000), 1);

    g.flow("nodeport", "outside client to a NodePort: a whole HTTP exchange, masqueraded", client, "tcp", "192.168.0.2:30081".into(), 1,
        dnat(vec![sa([10, 180, 0, 5], 8080)], true));
    g.conversation(client, SocketAddrV4::new(node, 30081), pod(5), 8080, node, &http_get("192.168.0.2:30081", "/api/cart/7"), &http_ok("{\"items\":[1]}"));

    g.flow("nodeport-spread", "outside client to the NodePort of a three-endpoint service (SYNs only)", outside(Ipv4Addr::new(203, 0, 113, 8)), "tcp", "192.168.0.2:30080".into(), 3,
        dnat(vec![sa([10, 180, 0, 4], 8080), sa([10, 181, 1, 4], 8080), sa([10, 181, 2, 4], 8080)], true));
    g.syns(outside(Ipv4Addr::new(203, 0, 113, 8)), SocketAddrV4::new(node, 30080), 3);

    let mut rng = Rng::new(seed ^ 0x0074_6c73);
    let (hello, server_hello) = (tls_record(&mut rng), tls_record(&mut rng));
    g.flow("lb-allowed", "client inside loadBalancerSourceRanges to the load balancer IP", client, "tcp", "198.51.100.10:443".into(), 1,
        dnat(vec![sa([10, 180, 0, 9], 8443)], true));
    g.conversation(client, sa([198, 51, 100, 10], 443), pod(9), 8443, node, &hello, &server_hello);

    let blocked = outside(Ipv4Addr::new(203, 0, 113, 200));
    g.flow("lb-blocked", "client outside loadBalancerSourceRanges (SYN and a retransmission)", blocked, "tcp", "198.51.100.10:443".into(), 2,
        Expect::Drop { chain: "KUBE-PROXY-FIREWALL" });
    g.syns(blocked, sa([198, 51, 100, 10], 443), 2);

    let lb_client = outside(Ipv4Addr::new(203, 0, 113, 50));
    g.flow("lb-local", "externalTrafficPolicy Local: the local endpoint only, client address kept", lb_client, "tcp", "198.51.100.20:80".into(), 1,
        dnat(vec![sa([10, 180, 0, 11], 80)], false));
    g.conversation(lb_client, sa([198, 51, 100, 20], 80), pod(11), 80, lb_client.ip, &http_get("shop.example.com", "/"), &http_ok("<html>shop</html>"));

    let np_client = outside(Ipv4Addr::new(203, 0, 113, 51));
    g.flow("nodeport-local", "NodePort of an externalTrafficPolicy Local service", np_client, "tcp", "192.168.0.2:31080".into(), 1,
        dnat(vec![sa([10, 180, 0, 11], 80)], false));
    g.syns(np_client, SocketAddrV4::new(node, 31080), 1);

    let checker = outside(Ipv4Addr::new(203, 0, 113, 5));
    g.flow("health-check", "load balancer probing the health check NodePort", checker, "tcp", "192.168.0.2:32000".into(), 1,
        Expect::Accept { path: "input", masquerade: false });
    g.syns(checker, SocketAddrV4::new(node, 32000), 1);

    let gclient = outside(Ipv4Addr::new(203, 0, 113, 60));
    g.flow("no-local-lb", "load balancer IP of a Local service without a local endpoint", gclient, "tcp", "198.51.100.30:3000".into(), 1,
        Expect::Drop { chain: "KUBE-EXTERNAL-SERVICES" });
    g.syns(gclient, sa([198, 51, 100, 30], 3000), 1);
    g.flow("no-local-nodeport", "NodePort of a Local service without a local endpoint", gclient, "tcp", "192.168.0.2:31300".into(), 1,
        Expect::Drop { chain: "KUBE-EXTERNAL-SERVICES" });
    g.syns(gclient, SocketAddrV4::new(node, 31300), 1);

    let lan = neighbour(Ipv4Addr::new(192, 168, 99, 50));
    g.flow("external-ip", "on-link client to a service's external IP: masqueraded", lan, "tcp", "192.168.99.22:80".into(), 1,
        dnat(vec![sa([10, 180, 0, 13], 8080)], true));
    g.conversation(lan, sa([192, 168, 99, 22], 80), pod(13), 8080, node, &http_get("192.168.99.22", "/v1/status"), &http_ok("ok"));

    g.flow("no-endpoints", "pod to a ClusterIP service without endpoints", pod(25), "tcp", "172.30.0.40:80".into(), 1,
        Expect::Reject { chain: "KUBE-SERVICES" });
    g.syns(pod(25), svc(40, 80), 1);
    g.flow("no-endpoints-nodeport", "outside client to the NodePort of a service without endpoints", client, "tcp", "192.168.0.2:30090".into(), 1,
        Expect::Reject { chain: "KUBE-EXTERNAL-SERVICES" });
    g.syns(client, SocketAddrV4::new(node, 30090), 1);
    g.flow("no-endpoints-lb", "outside client to the load balancer IP of a service without endpoints", client, "tcp", "198.51.100.40:50051".into(), 1,
        Expect::Reject { chain: "KUBE-EXTERNAL-SERVICES" });
    g.syns(client, sa([198, 51, 100, 40], 50051), 1);
    g.flow("no-endpoints-udp", "pod sends syslog to a UDP service without endpoints", pod(25), "udp", "172.30.0.42:514".into(), 1,
        Expect::Reject { chain: "KUBE-SERVICES" });
    let port = g.ephemeral_port();
    g.send(pod(25), Ipv4Addr::new(172, 30, 0, 42), 17, udp(port, 514, b"<14>Jan 15 09:00:50 app: started\n"), "syslog datagram", false);

    g.flow("ping-pod", "pod pings another pod on this node (two echoes, one ICMP id)", pod(20), "icmp", "10.180.0.21".into(), 1,
        Expect::Accept { path: "forward", masquerade: false });
    g.ping(pod(20), pod(21).ip, Some(pod(21)), 2);
    g.flow("ping-node", "outside host pings the node", client, "icmp", "192.168.0.2".into(), 1,
        Expect::Accept { path: "input", masquerade: false });
    g.ping(client, node, None, 1);
    g.flow("ping-clusterip", "pod pings a ClusterIP (no rule for ICMP: routed to the gateway, CNI masquerade)", pod(22), "icmp", "172.30.0.20".into(), 1,
        Expect::Accept { path: "forward", masquerade: true });
    g.ping(pod(22), Ipv4Addr::new(172, 30, 0, 20), None, 1);

    let stray = outside(Ipv4Addr::new(203, 0, 113, 66));
    g.flow("stray-rst", "RST out of nowhere towards a pod", stray, "tcp", "10.180.0.4:8080".into(), 1,
        Expect::Invalid { chain: "KUBE-FORWARD" });
    let (p, s) = (g.ephemeral_port(), g.rng.next_u64() as u32);
    g.tcp(stray, sa([10, 180, 0, 4], 8080), p, Seg::flags(RST, s, 0), "RST without a connection");
    g.flow("stray-synack", "SYN/ACK out of nowhere towards the node", stray, "tcp", "192.168.0.2:40001".into(), 1,
        Expect::Invalid { chain: "INPUT" });
    let (s, a) = (g.rng.next_u64() as u32, g.rng.next_u64() as u32);
    g.tcp(stray, SocketAddrV4::new(node, 40001), 443, Seg::syn_ack(s, a), "SYN/ACK without a connection");
    let other = outside(Ipv4Addr::new(203, 0, 113, 9));
    g.flow("bad-checksum", "SYN to a NodePort with a wrong TCP checksum", other, "tcp", "192.168.0.2:30081".into(), 1,
        Expect::Invalid { chain: "INPUT" });
    let (p, s) = (g.ephemeral_port(), g.rng.next_u64() as u32);
    let l4 = tcp_segment(p, 30081, &Seg::syn(s));
    g.send(other, node, 6, l4, "SYN with a bad TCP checksum", true);
    g
}

impl Expect {
    /// The outcome in words, as the README's table gives it.
    pub fn describe(&self) -> String {
        match self {
            Expect::Dnat {
                to,
                masquerade,
                same_endpoint,
                path,
            } => {
                let list: Vec<String> = to.iter().map(|a| a.to_string()).collect();
                let mut s = if to.len() == 1 {
                    format!("DNAT to {}", list[0])
                } else if *same_endpoint {
                    format!(
                        "DNAT to one of {}, the same for every connection (affinity)",
                        list.join(", ")
                    )
                } else {
                    format!("DNAT to one of {} (random)", list.join(", "))
                };
                s.push_str(if *masquerade {
                    ", masqueraded to 192.168.0.2"
                } else {
                    ", source kept"
                });
                if *path == "input" {
                    s.push_str(", delivered to the node (INPUT)");
                }
                s
            }
            Expect::Reject { chain } => format!("REJECT (ICMP port unreachable) in filter {chain}"),
            Expect::Drop { chain } => format!("DROP in filter {chain}"),
            Expect::Accept { path, masquerade } => match (*path, *masquerade) {
                ("input", _) => "no NAT, accepted in filter INPUT".to_string(),
                (_, false) => "no NAT, forwarded".to_string(),
                (_, true) => {
                    "no DNAT, forwarded, masqueraded to 192.168.0.2 (CNI-POSTROUTING)".to_string()
                }
            },
            Expect::Invalid { chain } => format!("conntrack INVALID, DROP in filter {chain}"),
        }
    }
}

/// The flow table of captures/README.md (Markdown), made from [`example_flows`].
pub fn flows_markdown() -> String {
    let mut out = String::from(
        "| # | flow | in | client | proto | destination | conns | packets | expected outcome |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for (i, f) in example_flows().iter().enumerate() {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
            i + 1,
            f.name,
            f.arrives_on,
            f.client,
            f.proto,
            f.dst,
            f.connections,
            f.packets,
            f.expect.describe()
        ));
    }
    out
}

/// The example's flows and their expected outcomes (the same for every seed).
pub fn example_flows() -> Vec<Flow> {
    build(1).flows
}

/// The example capture's frames for `seed`.
pub fn example_frames(seed: u64) -> Vec<Frame> {
    build(seed).frames
}

/// Writes the example capture as pcapng (interfaces eth0 and cni0, Ethernet) to `out`.
pub fn write_example_capture<W: Write>(out: W, seed: u64) -> Result<W, WriteError> {
    let mut w = Writer::new(out, crate::capture::OutputFormat::PcapNg)?;
    w.add_interface("eth0", LinkType::Ethernet)?;
    w.add_interface("cni0", LinkType::Ethernet)?;
    for f in example_frames(seed) {
        w.write_packet(&OutPacket {
            interface: f.interface,
            ts_ns: f.ts_ns,
            data: &f.data,
            orig_len: f.data.len() as u32,
            comment: Some(&f.comment),
        })?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let a = write_example_capture(Vec::new(), 1).ok();
        assert!(a.is_some());
        assert_eq!(a, write_example_capture(Vec::new(), 1).ok());
        assert_ne!(a, write_example_capture(Vec::new(), 2).ok());
    }

    #[test]
    fn every_packet_parses_and_only_the_bad_one_has_a_bad_checksum() {
        let frames = example_frames(1);
        let flows = example_flows();
        assert_eq!(frames.len(), flows.iter().map(|f| f.packets).sum::<usize>());
        let mut bad = Vec::new();
        for f in &frames {
            let ip = &f.data[14..];
            let info = crate::wire::ip::parse(ip);
            assert!(info.is_ok(), "{}", f.comment);
            let checks = crate::wire::verify::verify(ip);
            if !checks.is_ok_and(|c| c.all_ok()) {
                bad.push(f.comment.clone());
            }
        }
        assert_eq!(bad, ["bad-checksum: SYN with a bad TCP checksum"]);
        assert!(frames.windows(2).all(|w| w[0].ts_ns < w[1].ts_ns));
    }
}

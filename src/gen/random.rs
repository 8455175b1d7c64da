//! Random differential scenarios: from a `u64` seed, deterministically, an IPv4 ruleset for
//! the built-in Kubernetes node ([`Host::kubernetes_node`]) and traffic that exercises it,
//! for `fwbench verify` to push through the kernel and the emulation alike.
//!
//! The ruleset uses raw, mangle, nat and filter; user chains reached by `-j` and `-g` from
//! built-in chains and from earlier user chains only (so there is never a loop, which the
//! kernel refuses); RETURN; policies; the stateless matches of `engine::eval` and the
//! stateful ones the stack evaluates (state, conntrack, connmark, statistic nth, recent,
//! quota, limit with hourly rates); the targets MARK, CONNMARK, NOTRACK, LOG, NFLOG, REJECT,
//! DNAT, SNAT, MASQUERADE, REDIRECT, NETMAP, TTL, TOS, DSCP, ECN (IP and TCP bits), CLASSIFY,
//! TCPMSS (a value or the path MTU). Every target and interface option is only put where iptables and
//! the kernel accept it: the hooks that can reach a user chain are known before its rules
//! are drawn, because a chain is only referenced from built-ins and from earlier chains.
//!
//! Left out on purpose (they cannot be compared exactly): `statistic --mode random`,
//! `--random`/`--random-fully` ports, SNAT port ranges, limits with rates that refill
//! within a run (the lab's clock is real time).
//!
//! [`Scenario::unsupported`] lists the packets whose walk the stack could not finish (a
//! generator bug: every feature it draws must be evaluated).
//!
//! The traffic is built by running the emulation ([`Stack`]) alongside: a reply goes back to
//! where the emulated host sent the request (after its NAT), so handshakes complete through
//! DNAT and SNAT. Where the emulation is wrong, the kernel disagrees with the reply too, and
//! `verify` shows it. Each packet is stamped one millisecond after the previous, the clock
//! `verify::emulate` uses.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

use super::Rng;
use crate::engine::LinkHeader;
use crate::host::Host;
use crate::netfilter::stack::{Config, Stack};
use crate::rules::ipset::IpSets;
use crate::rules::parse::{parse_ruleset, ParseOptions};
use crate::rules::{Backend, Family, Ruleset};
use crate::verify::{Injected, Timed};

/// One random scenario: the ruleset as `iptables-restore` reads it and the packets.
pub struct Scenario {
    pub seed: u64,
    pub rules_text: String,
    pub ruleset: Ruleset,
    pub host: Host,
    pub packets: Vec<Timed>,
    /// Packets (1-based) the emulation could not evaluate, with the reason.
    pub unsupported: Vec<(usize, String)>,
}

/// The host's uplink and pod bridge (the built-in Kubernetes node's).
const ETH0: &str = "eth0";
const CNI0: &str = "cni0";
const ETH0_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const CNI0_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const PEER_MAC: [u8; 6] = [0x02, 0xfb, 0, 0, 0, 0x10];
const OTHER_MAC: [u8; 6] = [0x02, 0xfb, 0, 0, 0, 0x11];

const HOST_ADDRS: &[[u8; 4]] = &[[192, 168, 0, 2], [192, 168, 1, 2], [192, 168, 99, 11]];
/// Neighbours on eth0's subnets.
const LAN: &[[u8; 4]] = &[[192, 168, 0, 10], [192, 168, 0, 20], [192, 168, 1, 30]];
/// Addresses behind the default gateway.
const REMOTE: &[[u8; 4]] = &[[203, 0, 113, 5], [198, 51, 100, 7], [8, 8, 8, 8]];
/// Addresses on the pod bridge (10.0.0.0/8 dev cni0).
const PODS: &[[u8; 4]] = &[[10, 244, 0, 5], [10, 244, 1, 9], [10, 96, 0, 10]];
const PORTS: &[u16] = &[22, 53, 80, 443, 8080, 9000, 30080];

fn v4(a: [u8; 4]) -> Ipv4Addr {
    Ipv4Addr::from(a)
}

/// A netfilter hook, as a bit.
const PRE: u8 = 1;
const IN: u8 = 2;
const FWD: u8 = 4;
const OUT: u8 = 8;
const POST: u8 = 16;

fn hook_bit(chain: &str) -> u8 {
    match chain {
        "PREROUTING" => PRE,
        "INPUT" => IN,
        "FORWARD" => FWD,
        "OUTPUT" => OUT,
        "POSTROUTING" => POST,
        _ => 0,
    }
}

/// Generates the scenario of `seed` for `backend`.
///
/// Errors only when the generated ruleset does not parse (a generator bug).
pub fn scenario(seed: u64, backend: Backend) -> Result<Scenario, String> {
    let mut rng = Rng::new(seed);
    let mut g = RuleGen::new(&mut rng);
    let rules_text = g.ruleset();
    let ports = g.ports.clone();
    let addrs = g.addrs.clone();
    let ruleset = parse_ruleset(
        &rules_text,
        &format!("random seed {seed}"),
        ParseOptions {
            family: Family::Ipv4,
            backend,
        },
    )
    .map_err(|d| format!("{d}\n{rules_text}"))?;
    let host = Host::kubernetes_node();
    let (packets, unsupported) = {
        let mut t = TrafficGen::new(&mut rng, &ruleset, &host, backend, ports, addrs);
        t.run();
        (t.out, t.unsupported)
    };
    Ok(Scenario {
        seed,
        rules_text,
        ruleset,
        host,
        packets,
        unsupported,
    })
}

/// The ruleset half.
struct RuleGen<'a> {
    rng: &'a mut Rng,
    /// Ports and addresses the rules mention, for the traffic to hit.
    ports: Vec<u16>,
    addrs: Vec<Ipv4Addr>,
    recent_names: Vec<String>,
    /// The `-i` option of the rule being drawn.
    cur_in: Option<String>,
}

/// Which tables hold which built-in chains, in `iptables-save` order.
const TABLES: &[(&str, &[&str])] = &[
    ("raw", &["PREROUTING", "OUTPUT"]),
    (
        "mangle",
        &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    ),
    ("nat", &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]),
    ("filter", &["INPUT", "FORWARD", "OUTPUT"]),
];

impl<'a> RuleGen<'a> {
    fn new(rng: &'a mut Rng) -> RuleGen<'a> {
        RuleGen {
            rng,
            ports: PORTS.to_vec(),
            addrs: Vec::new(),
            recent_names: vec!["rA".into(), "rB".into()],
            cur_in: None,
        }
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.below(xs.len() as u64) as usize]
    }

    fn ruleset(&mut self) -> String {
        let mut out = String::new();
        for (table, builtins) in TABLES {
            if self.rng.chance(1, 6) {
                continue;
            }
            self.table(&mut out, table, builtins);
        }
        out
    }

    fn table(&mut self, out: &mut String, table: &str, builtins: &[&str]) {
        let users = self.rng.below(4) as usize;
        let user_names: Vec<String> = (0..users)
            .map(|i| format!("U{}{}", &table[..1].to_uppercase(), i))
            .collect();
        // hooks[i]: the hooks that reach user chain i.
        let mut hooks = vec![0u8; users];
        let mut bodies: Vec<(String, Vec<String>)> = Vec::new();
        for chain in builtins {
            let rules = self.chain_rules(table, chain, hook_bit(chain), 0, &user_names, &mut hooks);
            bodies.push((chain.to_string(), rules));
        }
        for i in 0..users {
            let h = hooks[i];
            let rules = self.chain_rules(table, &user_names[i], h, i + 1, &user_names, &mut hooks);
            bodies.push((user_names[i].clone(), rules));
        }
        let _ = writeln!(out, "*{table}");
        for chain in builtins {
            let policy = if (table == "filter" || table == "mangle") && self.rng.chance(1, 5) {
                "DROP"
            } else {
                "ACCEPT"
            };
            let _ = writeln!(out, ":{chain} {policy} [0:0]");
        }
        for u in &user_names {
            let _ = writeln!(out, ":{u} - [0:0]");
        }
        for (chain, rules) in bodies {
            for r in rules {
                let _ = writeln!(out, "-A {chain} {r}");
            }
        }
        let _ = writeln!(out, "COMMIT");
    }

    /// The rules of one chain reached from `hook` (a set); user chains from `first_user` on
    /// may be jumped to, and learn the hooks that reach them.
    fn chain_rules(
        &mut self,
        table: &str,
        chain: &str,
        hook: u8,
        first_user: usize,
        users: &[String],
        hooks: &mut [u8],
    ) -> Vec<String> {
        let n = self.rng.below(7) as usize;
        let builtin = first_user == 0;
        (0..n)
            .map(|_| {
                let mut r = self.matches(table, hook);
                let jumpable = users.len() > first_user;
                if table == "mangle"
                    && hook != 0
                    && hook & (PRE | IN) == 0
                    && self.rng.chance(1, 12)
                {
                    let t = self.pick(&["--set-mss 1200", "--set-mss 536", "--clamp-mss-to-pmtu"]);
                    return format!("-p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS {t}");
                }
                let t = if jumpable && self.rng.chance(1, 3) {
                    let i = first_user + self.rng.below((users.len() - first_user) as u64) as usize;
                    hooks[i] |= hook;
                    let how = if self.rng.chance(1, 4) { "-g" } else { "-j" };
                    format!("{how} {}", users[i])
                } else {
                    self.target(table, hook, builtin, &r)
                };
                if !r.is_empty() {
                    r.push(' ');
                }
                let _ = chain;
                r + &t
            })
            .collect()
    }

    fn addr(&mut self) -> Ipv4Addr {
        let pool = match self.rng.below(4) {
            0 => HOST_ADDRS,
            1 => LAN,
            2 => REMOTE,
            _ => PODS,
        };
        v4(self.pick(pool))
    }

    fn net(&mut self) -> String {
        let a = self.addr();
        let len = self.pick(&[8u8, 16, 24, 32, 32]);
        let masked = u32::from(a) & (u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0));
        self.addrs.push(a);
        if len == 32 {
            format!("{a}/32")
        } else {
            format!("{}/{len}", Ipv4Addr::from(masked))
        }
    }

    fn port(&mut self) -> u16 {
        if self.rng.chance(3, 4) {
            self.pick(PORTS)
        } else {
            let p = 1024 + self.rng.below(60000) as u16;
            self.ports.push(p);
            p
        }
    }

    /// Zero to three matches, valid in a chain reached from `hook`.
    fn matches(&mut self, table: &str, hook: u8) -> String {
        let _ = table;
        let mut parts: Vec<String> = Vec::new();
        self.cur_in = None;
        let proto = match self.rng.below(5) {
            0 => Some("tcp"),
            1 => Some("udp"),
            2 => Some("icmp"),
            _ => None,
        };
        if self.rng.chance(1, 3) {
            let neg = if self.rng.chance(1, 6) { "! " } else { "" };
            let n = self.net();
            parts.push(format!("{neg}-s {n}"));
        }
        if self.rng.chance(1, 3) {
            let neg = if self.rng.chance(1, 6) { "! " } else { "" };
            let n = self.net();
            parts.push(format!("{neg}-d {n}"));
        }
        if hook != 0 && hook & (OUT | POST) == 0 && self.rng.chance(1, 4) {
            let i = self.pick(&[ETH0, CNI0, "eth+", "lo"]);
            let neg = if self.rng.chance(1, 5) { "! " } else { "" };
            self.cur_in = Some(format!("{neg}-i {i}"));
            parts.push(format!("{neg}-i {i}"));
        }
        if hook != 0 && hook & (PRE | IN) == 0 && self.rng.chance(1, 4) {
            let i = self.pick(&[ETH0, CNI0, "cni+", "lo"]);
            let neg = if self.rng.chance(1, 5) { "! " } else { "" };
            parts.push(format!("{neg}-o {i}"));
        }
        if let Some(p) = proto {
            parts.push(format!("-p {p}"));
            if self.rng.chance(2, 3) {
                let m = self.proto_match(p);
                parts.push(m);
            }
        }
        let extra = self.rng.below(3);
        for _ in 0..extra {
            if let Some(m) = self.extra_match(hook, proto) {
                parts.push(m);
            }
        }
        parts.join(" ")
    }

    /// What keeps looped-back packets from a match: `! -i lo` when the rule has no `-i`
    /// yet, nothing when its `-i` names an Ethernet interface, `None` (leave the match out)
    /// when lo can still come through.
    fn not_lo(&mut self) -> Option<&'static str> {
        match self.cur_in.as_deref() {
            None => {
                self.cur_in = Some("! -i lo".into());
                Some("! -i lo ")
            }
            Some("-i eth0" | "-i cni0" | "-i eth+" | "! -i lo") => Some(""),
            Some(_) => None,
        }
    }

    fn proto_match(&mut self, p: &str) -> String {
        match p {
            "icmp" => {
                let t = self.pick(&[
                    "echo-request",
                    "echo-reply",
                    "destination-unreachable",
                    "time-exceeded",
                    "any",
                    "port-unreachable",
                    "3/13",
                ]);
                let neg = if self.rng.chance(1, 6) { "! " } else { "" };
                format!("-m icmp {neg}--icmp-type {t}")
            }
            _ => {
                let mut m = String::new();
                if self.rng.chance(1, 4) {
                    let ports: Vec<String> = (0..1 + self.rng.below(3))
                        .map(|_| self.port().to_string())
                        .collect();
                    let dir = self.pick(&["--dports", "--sports", "--ports"]);
                    return format!("-m multiport {dir} {}", ports.join(","));
                }
                let _ = write!(m, "-m {p}");
                if self.rng.chance(2, 3) {
                    let port = self.port();
                    let neg = if self.rng.chance(1, 8) { "! " } else { "" };
                    if self.rng.chance(1, 4) {
                        let _ = write!(m, " {neg}--dport {port}:{}", port.saturating_add(100));
                    } else {
                        let _ = write!(m, " {neg}--dport {port}");
                    }
                }
                if self.rng.chance(1, 4) {
                    let _ = write!(m, " --sport 1024:65535");
                }
                if p == "tcp" && self.rng.chance(1, 3) {
                    let f = self.pick(&[
                        "--syn",
                        "! --syn",
                        "--tcp-flags SYN,ACK SYN,ACK",
                        "--tcp-flags RST RST",
                        "--tcp-flags FIN,SYN,RST,ACK ACK",
                    ]);
                    let _ = write!(m, " {f}");
                }
                m
            }
        }
    }

    fn extra_match(&mut self, hook: u8, proto: Option<&str>) -> Option<String> {
        Some(match self.rng.below(24) {
            0 => {
                let s = self.pick(&[
                    "NEW",
                    "ESTABLISHED",
                    "RELATED,ESTABLISHED",
                    "INVALID",
                    "UNTRACKED",
                    "NEW,INVALID",
                ]);
                format!("-m state --state {s}")
            }
            1 => {
                let s = self.pick(&[
                    "NEW",
                    "ESTABLISHED",
                    "RELATED",
                    "INVALID",
                    "DNAT",
                    "SNAT",
                    "UNTRACKED",
                ]);
                let mut m = format!("-m conntrack --ctstate {s}");
                if self.rng.chance(1, 3) {
                    let d = self.pick(&["ORIGINAL", "REPLY"]);
                    let _ = write!(m, " --ctdir {d}");
                }
                m
            }
            2 => {
                let v = self.rng.below(4);
                format!("-m mark --mark 0x{v:x}/0x3")
            }
            3 => {
                let v = self.rng.below(4);
                format!("-m connmark --mark 0x{v:x}/0x3")
            }
            4 => {
                let lo = self.pick(&[0u16, 40, 60, 100]);
                let hi = lo + self.pick(&[20u16, 60, 1000]);
                format!("-m length --length {lo}:{hi}")
            }
            5 => {
                let op = self.pick(&["--ttl-eq 64", "--ttl-lt 2", "--ttl-gt 63", "--ttl-eq 1"]);
                format!("-m ttl {op}")
            }
            6 => {
                let t = self.pick(&["LOCAL", "UNICAST", "BROADCAST", "MULTICAST"]);
                let d = self.pick(&["--src-type", "--dst-type", "! --dst-type"]);
                format!("-m addrtype {d} {t}")
            }
            7 => {
                let a = u32::from(self.addr());
                let lo = Ipv4Addr::from(a & !0xff);
                let hi = Ipv4Addr::from(a | 0x3f);
                let d = self.pick(&["--src-range", "--dst-range"]);
                format!("-m iprange {d} {lo}-{hi}")
            }
            // pkttype only where packets arrived with an Ethernet header: the stack does
            // not evaluate it for locally generated ones (the kernel reads skb->pkt_type).
            // Both behind `! -i lo`: the stack does not evaluate them for packets looped back
            // through lo either (the kernel: mac never matches there, pkttype derives the
            // type from the address).
            8 if hook & (OUT | POST) == 0 => {
                let t = self.pick(&["unicast", "broadcast", "multicast"]);
                format!("{}-m pkttype --pkt-type {t}", self.not_lo()?)
            }
            9 if hook != 0 && hook & (OUT | POST) == 0 => {
                let m = self.pick(&[PEER_MAC, OTHER_MAC]);
                let not_lo = self.not_lo()?;
                format!(
                    "{not_lo}-m mac --mac-source {:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
                    m[0], m[1], m[2], m[3], m[4], m[5]
                )
            }
            10 => {
                let t = self.pick(&["--tos 0x00/0xff", "--tos 0x10/0x3f"]);
                format!("-m tos {t}")
            }
            11 => {
                let n = 2 + self.rng.below(3);
                let p = self.rng.below(n);
                format!("-m statistic --mode nth --every {n} --packet {p}")
            }
            12 => {
                let name = self.recent_names[self.rng.below(2) as usize].clone();
                let cmd = self.pick(&[
                    "--set",
                    "--rcheck",
                    "--update",
                    "--remove",
                    "--rcheck --hitcount 2",
                ]);
                let side = self.pick(&["--rsource", "--rdest"]);
                let secs = if cmd != "--set" && cmd != "--remove" && self.rng.chance(1, 3) {
                    " --seconds 60"
                } else {
                    ""
                };
                format!("-m recent {cmd}{secs} --name {name} --mask 255.255.255.255 {side}")
            }
            13 => {
                let q = self.pick(&[100u64, 500, 2000]);
                format!("-m quota --quota {q}")
            }
            // `-m limit` with an hourly rate: within a run the burst alone decides, so the
            // kernel (real time) and the emulation (a millisecond per packet) agree.
            14 => format!(
                "-m limit --limit 1/hour --limit-burst {}",
                self.pick(&[1u32, 2, 3])
            ),
            15 if proto == Some("tcp") => "-m tcpmss --mss 1000:1500".to_string(),
            16 => "-m comment --comment \"random rule\"".to_string(),
            17 => {
                let d = self.pick(&[
                    "--dscp 0x0a",
                    "--dscp 0x2e",
                    "! --dscp 0x00",
                    "--dscp-class AF11",
                ]);
                format!("-m dscp {d}")
            }
            18 => {
                let e = self.rng.below(4);
                format!("-m ecn --ecn-ip-ect {e}")
            }
            19 => {
                let a = self.addr();
                let opt = self.pick(&["--ctorigdst", "--ctorigsrc", "--ctrepldst", "--ctreplsrc"]);
                format!("-m conntrack {opt} {a}")
            }
            20 => {
                let st = self.pick(&["SEEN_REPLY", "ASSURED", "CONFIRMED", "NONE", "EXPECTED"]);
                format!("-m conntrack --ctstatus {st}")
            }
            21 => {
                let p = self.pick(&["tcp", "udp", "icmp"]);
                format!("-m conntrack --ctproto {p}")
            }
            22 if hook != 0 && hook & (OUT | POST) == 0 => {
                "-m addrtype --dst-type LOCAL --limit-iface-in".to_string()
            }
            23 if hook != 0 && hook & (PRE | IN) == 0 => {
                "-m addrtype --src-type LOCAL --limit-iface-out".to_string()
            }
            _ => return None,
        })
    }

    /// A target valid in `table` for a chain reached from `hook`.
    fn target(&mut self, table: &str, hook: u8, builtin: bool, matches: &str) -> String {
        let tcp = matches.contains("-p tcp");
        let l4 = tcp || matches.contains("-p udp");
        let mut choices: Vec<String> = vec!["-j ACCEPT".into()];
        if table != "nat" {
            choices.push("-j DROP".into());
        }
        if !builtin {
            choices.push("-j RETURN".into());
        }
        choices.push("-j LOG --log-prefix \"fwb \"".into());
        choices.push(format!("-j NFLOG --nflog-group {}", self.rng.below(3)));
        if matches.is_empty() || self.rng.chance(1, 2) {
            // an empty rule (counts only)
            choices.push(String::new());
        }
        match table {
            "raw" => {
                choices.push("-j NOTRACK".into());
                choices.push("-j CT --notrack".into());
                choices.push(format!("-j MARK --set-xmark 0x{:x}/0x3", self.rng.below(4)));
            }
            "mangle" => {
                let v = self.rng.below(4);
                choices.push(format!("-j MARK --set-xmark 0x{v:x}/0x3"));
                choices.push(format!("-j MARK --or-mark 0x{:x}", 1 + self.rng.below(2)));
                choices.push(format!("-j CONNMARK --set-xmark 0x{v:x}/0x3"));
                choices.push("-j CONNMARK --save-mark --nfmask 0x3 --ctmask 0x3".into());
                choices.push("-j CONNMARK --restore-mark --nfmask 0x3 --ctmask 0x3".into());
                let ttl = self.pick(&["--ttl-set 10", "--ttl-dec 1", "--ttl-inc 1", "--ttl-set 1"]);
                choices.push(format!("-j TTL {ttl}"));
                choices.push(format!(
                    "-j TOS --set-tos 0x{:02x}/0xff",
                    self.pick(&[0x00u8, 0x10, 0x08])
                ));
                choices.push(format!(
                    "-j DSCP --set-dscp 0x{:02x}",
                    self.pick(&[0u8, 0x0a, 0x2e])
                ));
                choices.push(format!("-j ECN --ecn-ip-ect {}", self.rng.below(4)));
                if tcp {
                    choices.push("-j ECN --ecn-tcp-remove".into());
                    choices.push("-j ECN --ecn-tcp-cwr 1 --ecn-tcp-ece 0".into());
                }
                if hook != 0 && hook & (PRE | IN) == 0 {
                    choices.push("-j CLASSIFY --set-class 1:10".into());
                }
            }
            "filter" => {
                if hook & (PRE | POST) == 0 {
                    let w = self.pick(&[
                        "icmp-port-unreachable",
                        "icmp-host-prohibited",
                        "icmp-net-unreachable",
                        "icmp-admin-prohibited",
                        "icmp-host-unreachable",
                        "icmp-proto-unreachable",
                        "icmp-net-prohibited",
                    ]);
                    choices.push(format!("-j REJECT --reject-with {w}"));
                    if tcp {
                        choices.push("-j REJECT --reject-with tcp-reset".into());
                    }
                }
                choices.push(format!("-j MARK --set-xmark 0x{:x}/0x3", self.rng.below(4)));
            }
            "nat" => {
                if hook != 0 && hook & !(PRE | OUT) == 0 {
                    let to = self.dnat_to(l4);
                    choices.push(format!("-j DNAT --to-destination {to}"));
                    choices.push("-j NETMAP --to 10.244.1.0/24".into());
                    choices.push("-j REDIRECT".into());
                    if l4 {
                        let p = self.port();
                        choices.push(format!("-j REDIRECT --to-ports {p}"));
                        choices.push("-j DNAT --to-destination 10.244.0.5:8000-8002".into());
                    }
                }
                if hook != 0 && hook & !(POST | IN) == 0 {
                    let a = v4(self.pick(HOST_ADDRS));
                    // No source port ranges: for a source manip the kernel picks the port
                    // at random (nf_nat_l4proto_unique_tuple), so the replies the traffic
                    // builds from the emulation's choice miss the kernel's connection.
                    choices.push(format!("-j SNAT --to-source {a}"));
                }
                if hook != 0 && hook & !POST == 0 {
                    choices.push("-j MASQUERADE".into());
                    choices.push("-j NETMAP --to 192.168.1.0/24".into());
                }
            }
            _ => {}
        }
        let i = self.rng.below(choices.len() as u64) as usize;
        choices.swap_remove(i)
    }

    fn dnat_to(&mut self, l4: bool) -> String {
        let pool = if self.rng.chance(2, 3) { PODS } else { LAN };
        let a = v4(self.pick(pool));
        self.addrs.push(a);
        if l4 && self.rng.chance(1, 2) {
            let p = self.pick(PORTS);
            format!("{a}:{p}")
        } else {
            a.to_string()
        }
    }
}

/// Where a packet of a flow enters the host.
#[derive(Clone, Copy, Debug)]
enum Side {
    /// Arrives on an interface, from a peer with this MAC.
    Wire(&'static str),
    /// Sent by the host itself.
    Local,
}

/// An endpoint: address, and where its packets come from.
#[derive(Clone, Copy, Debug)]
struct End {
    addr: Ipv4Addr,
    side: Side,
}

/// The traffic half: flows run through the emulation as they are generated.
struct TrafficGen<'a, 'r> {
    rng: &'a mut Rng,
    stack: Stack<'r>,
    host: &'r Host,
    ports: Vec<u16>,
    addrs: Vec<Ipv4Addr>,
    ip_id: u16,
    out: Vec<Timed>,
    unsupported: Vec<(usize, String)>,
    /// TCP flows to send a late segment on: client, destination, ports, seq, ack.
    late: Vec<(End, Ipv4Addr, u16, u16, u32, u32)>,
}

/// The packet the emulation sent out for a request: where the reply comes from.
struct Sent {
    iface: String,
    /// The packet from its IP header.
    bytes: Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
}

impl<'a, 'r> TrafficGen<'a, 'r> {
    fn new(
        rng: &'a mut Rng,
        ruleset: &'r Ruleset,
        host: &'r Host,
        backend: Backend,
        ports: Vec<u16>,
        addrs: Vec<Ipv4Addr>,
    ) -> TrafficGen<'a, 'r> {
        let config = Config {
            backend,
            ..Config::default()
        };
        let stack = Stack::new(
            ruleset,
            host,
            IpSets::parse("", "none").unwrap_or_else(|_| unreachable!()),
            config,
        );
        TrafficGen {
            rng,
            stack,
            host,
            ports,
            addrs,
            ip_id: 0x100,
            out: Vec::new(),
            unsupported: Vec::new(),
            late: Vec::new(),
        }
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.below(xs.len() as u64) as usize]
    }

    fn run(&mut self) {
        let flows = 6 + self.rng.below(10);
        for _ in 0..flows {
            match self.rng.below(12) {
                0..=3 => self.tcp_flow(),
                4 | 5 => self.udp_flow(),
                6 | 7 => self.echo_flow(),
                8 => self.broadcast(),
                _ => self.stray(),
            }
        }
        // Late segments on finished or open TCP flows, after other traffic: a client that
        // keeps sending after FIN or RST, or much later.
        let late = std::mem::take(&mut self.late);
        for (c, dst, sport, dport, seq, ack) in late {
            if self.rng.chance(1, 2) {
                use crate::wire::tcp::flags::{ACK, PSH};
                let seg = super::packet::tcp_segment(
                    sport,
                    dport,
                    &super::packet::Seg {
                        flags: PSH | ACK,
                        seq,
                        ack,
                        payload: b"late\n",
                    },
                );
                self.send(c, dst, 6, seg, 64);
            }
        }
    }

    /// Any address a packet can come from or go to, biased to what the rules mention.
    fn address(&mut self) -> Ipv4Addr {
        if !self.addrs.is_empty() && self.rng.chance(1, 3) {
            let i = self.rng.below(self.addrs.len() as u64) as usize;
            return self.addrs[i];
        }
        let pool = match self.rng.below(4) {
            0 => HOST_ADDRS,
            1 => LAN,
            2 => REMOTE,
            _ => PODS,
        };
        v4(self.pick(pool))
    }

    /// Where packets from `addr` come from: the host, the pod bridge or the uplink.
    fn end(&mut self, addr: Ipv4Addr) -> End {
        let side = if self.host.is_local(IpAddr::V4(addr)) {
            Side::Local
        } else if addr.octets()[0] == 10 {
            Side::Wire(CNI0)
        } else {
            Side::Wire(ETH0)
        };
        End { addr, side }
    }

    /// A client and a server that are not both the host.
    fn pair(&mut self) -> (End, End) {
        loop {
            let c = self.address();
            let s = self.address();
            if c == s {
                continue;
            }
            let (c, s) = (self.end(c), self.end(s));
            // Now and then the host talks to itself (through lo).
            if matches!((c.side, s.side), (Side::Local, Side::Local)) && !self.rng.chance(1, 6) {
                continue;
            }
            return (c, s);
        }
    }

    fn server_port(&mut self) -> u16 {
        if self.rng.chance(2, 3) {
            let i = self.rng.below(self.ports.len() as u64) as usize;
            self.ports[i]
        } else {
            1 + self.rng.below(65535) as u16
        }
    }

    fn client_port(&mut self) -> u16 {
        32768 + self.rng.below(28000) as u16
    }

    /// Builds an IPv4 packet (checksums filled in) and pushes it through the emulation.
    fn send(&mut self, from: End, dst: Ipv4Addr, proto: u8, l4: Vec<u8>, ttl: u8) -> Option<Sent> {
        let total = 20 + l4.len();
        self.ip_id = self.ip_id.wrapping_add(1);
        // Mostly TOS 0; some with a precedence, a DSCP or an ECN codepoint.
        let tos = if self.rng.chance(1, 5) {
            self.pick(&[0x10u8, 0x02, 0x01, 0x03, 0xb8, 0x28])
        } else {
            0
        };
        let mut ip = Vec::with_capacity(total);
        ip.extend_from_slice(&[0x45, tos]);
        ip.extend_from_slice(&(total as u16).to_be_bytes());
        ip.extend_from_slice(&self.ip_id.to_be_bytes());
        ip.extend_from_slice(&[0x40, 0, ttl, proto, 0, 0]);
        ip.extend_from_slice(&from.addr.octets());
        ip.extend_from_slice(&dst.octets());
        ip.extend_from_slice(&l4);
        // Valid lengths by construction.
        let _ = crate::wire::verify::recompute(&mut ip);
        self.inject(from, ip, None)
    }

    /// Pushes the IP packet `ip` from `from` through the emulation and into the scenario;
    /// `dst_mac` overrides the arrival interface's MAC (broadcast, multicast). Returns
    /// where the emulated host sent it, if it went out as a packet.
    fn inject(&mut self, from: End, ip: Vec<u8>, dst_mac: Option<[u8; 6]>) -> Option<Sent> {
        let proto = *ip.get(9)?;
        let now = self.out.len() as i64 * 1_000_000;
        let (processed, packet) = match from.side {
            Side::Local => (
                self.stack.send_local(now, &ip),
                Injected::Local { ip: ip.clone() },
            ),
            Side::Wire(iface) => {
                let own = if iface == ETH0 { ETH0_MAC } else { CNI0_MAC };
                let dst_mac = dst_mac.unwrap_or(own);
                let src_mac = if self.rng.chance(1, 8) {
                    OTHER_MAC
                } else {
                    PEER_MAC
                };
                let link = LinkHeader {
                    src: src_mac,
                    dst: dst_mac,
                };
                let mut frame = Vec::with_capacity(14 + ip.len());
                frame.extend_from_slice(&dst_mac);
                frame.extend_from_slice(&src_mac);
                frame.extend_from_slice(&0x0800u16.to_be_bytes());
                frame.extend_from_slice(&ip);
                (
                    self.stack.receive(now, iface, Some(link), &ip),
                    Injected::Frame {
                        iface: iface.to_string(),
                        frame,
                    },
                )
            }
        };
        self.out.push(Timed { ts_ns: now, packet });
        if let crate::netfilter::stack::Outcome::Unsupported(why) = &processed.outcome {
            self.unsupported.push((self.out.len(), why.clone()));
        }
        processed
            .emitted
            .iter()
            .filter(|e| e.kind == crate::netfilter::stack::EmitKind::Packet)
            .find_map(|e| sent_of(&e.iface, &e.frame, proto))
    }

    /// An ICMP error (`typ`, `code`) from `r` about the packet the emulated host sent
    /// (`sent`): it quotes that packet as it left.
    fn icmp_error_from(&mut self, r: End, sent: &Sent, typ: u8, code: u8) {
        if let Some(ip) = crate::wire::reply::icmp_error(&sent.bytes, typ, code, IpAddr::V4(r.addr))
        {
            self.inject(r, ip, None);
        }
    }

    /// UDP to a broadcast or multicast address from a neighbour on the uplink.
    fn broadcast(&mut self) {
        let src = v4(self.pick(LAN));
        let (dst, mac) = self.pick(&[
            ([192u8, 168, 0, 255], [0xffu8; 6]),
            ([255, 255, 255, 255], [0xff; 6]),
            ([224, 0, 0, 251], [0x01, 0x00, 0x5e, 0, 0, 0xfb]),
        ]);
        let (sport, dport) = (self.client_port(), self.server_port());
        let mut ip = vec![0x45, 0, 0, 33, 0, 0, 0x40, 0, 64, 17, 0, 0];
        self.ip_id = self.ip_id.wrapping_add(1);
        ip[4..6].copy_from_slice(&self.ip_id.to_be_bytes());
        ip.extend_from_slice(&src.octets());
        ip.extend_from_slice(&dst);
        ip.extend_from_slice(&super::packet::udp(sport, dport, b"hello"));
        let _ = crate::wire::verify::recompute(&mut ip);
        let from = End {
            addr: src,
            side: Side::Wire(ETH0),
        };
        self.inject(from, ip, Some(mac));
    }

    /// The side a reply to `sent` comes from.
    fn reply_end(&self, sent: &Sent) -> End {
        End {
            addr: sent.dst,
            side: if sent.iface == "lo" {
                Side::Local
            } else {
                Side::Wire(if sent.iface == CNI0 { CNI0 } else { ETH0 })
            },
        }
    }

    fn ttl(&mut self) -> u8 {
        if self.rng.chance(1, 12) {
            1
        } else {
            64
        }
    }

    fn tcp_flow(&mut self) {
        use crate::wire::tcp::flags::{ACK, FIN, RST};
        let (c, s) = self.pair();
        let (sport, dport) = (self.client_port(), self.server_port());
        let cisn = self.rng.next_u64() as u32;
        let sisn = self.rng.next_u64() as u32;
        let ttl = self.ttl();
        let syn = super::packet::tcp_segment(sport, dport, &super::packet::Seg::syn(cisn));
        let sent = self.send(c, s.addr, 6, syn.clone(), ttl);
        if self.rng.chance(1, 6) {
            // A retransmitted SYN.
            self.send(c, s.addr, 6, syn, ttl);
        }
        let Some(sent) = sent.filter(|x| x.iface != "lo") else {
            // Not forwarded: maybe a stray ACK after it.
            if self.rng.chance(1, 2) {
                let ack = super::packet::tcp_segment(
                    sport,
                    dport,
                    &super::packet::Seg::ack(cisn.wrapping_add(1), sisn, b""),
                );
                self.send(c, s.addr, 6, ack, 64);
            }
            return;
        };
        let r = self.reply_end(&sent);
        if self.rng.chance(1, 8) {
            self.icmp_error_from(r, &sent, 3, 13);
            return;
        }
        let synack = super::packet::tcp_segment(
            sent.dport,
            sent.sport,
            &super::packet::Seg::syn_ack(sisn, cisn.wrapping_add(1)),
        );
        self.send(r, sent.src, 6, synack, 64);
        let ack = super::packet::tcp_segment(
            sport,
            dport,
            &super::packet::Seg::ack(cisn.wrapping_add(1), sisn.wrapping_add(1), b""),
        );
        self.send(c, s.addr, 6, ack, 64);
        if self.rng.chance(1, 6) {
            // Data far outside the window: INVALID for conntrack.
            let far = super::packet::tcp_segment(
                sport,
                dport,
                &super::packet::Seg::data(
                    cisn.wrapping_add(3_000_000),
                    sisn.wrapping_add(1),
                    b"far",
                ),
            );
            self.send(c, s.addr, 6, far, 64);
        }
        let req = b"hello there\n";
        let data = super::packet::tcp_segment(
            sport,
            dport,
            &super::packet::Seg::data(cisn.wrapping_add(1), sisn.wrapping_add(1), req),
        );
        self.send(c, s.addr, 6, data, 64);
        let c2 = cisn.wrapping_add(1 + req.len() as u32);
        let resp = b"general kenobi\n";
        let data = super::packet::tcp_segment(
            sent.dport,
            sent.sport,
            &super::packet::Seg::data(sisn.wrapping_add(1), c2, resp),
        );
        self.send(r, sent.src, 6, data, 64);
        let s2 = sisn.wrapping_add(1 + resp.len() as u32);
        let (c3, s3) = (c2.wrapping_add(1), s2.wrapping_add(1));
        self.late.push((c, s.addr, sport, dport, c3, s3));
        match self.rng.below(3) {
            0 => {
                let fin = super::packet::tcp_segment(
                    sport,
                    dport,
                    &super::packet::Seg::flags(FIN | ACK, c2, s2),
                );
                self.send(c, s.addr, 6, fin, 64);
                let fin = super::packet::tcp_segment(
                    sent.dport,
                    sent.sport,
                    &super::packet::Seg::flags(FIN | ACK, s2, c2.wrapping_add(1)),
                );
                self.send(r, sent.src, 6, fin, 64);
                let ack = super::packet::tcp_segment(
                    sport,
                    dport,
                    &super::packet::Seg::ack(c2.wrapping_add(1), s2.wrapping_add(1), b""),
                );
                self.send(c, s.addr, 6, ack, 64);
            }
            1 => {
                let rst = super::packet::tcp_segment(
                    sport,
                    dport,
                    &super::packet::Seg::flags(RST | ACK, c2, s2),
                );
                self.send(c, s.addr, 6, rst, 64);
            }
            _ => {}
        }
    }

    fn udp_flow(&mut self) {
        let (c, s) = self.pair();
        let (sport, dport) = (self.client_port(), self.server_port());
        let ttl = self.ttl();
        let sent = self.send(
            c,
            s.addr,
            17,
            super::packet::udp(sport, dport, b"ping?"),
            ttl,
        );
        let Some(sent) = sent.filter(|x| x.iface != "lo") else {
            return;
        };
        let r = self.reply_end(&sent);
        if self.rng.chance(1, 3) {
            // Nothing listens there: the server answers with a port unreachable (RELATED).
            self.icmp_error_from(r, &sent, 3, 3);
            return;
        }
        for _ in 0..1 + self.rng.below(2) {
            self.send(
                r,
                sent.src,
                17,
                super::packet::udp(sent.dport, sent.sport, b"pong!"),
                64,
            );
        }
        if self.rng.chance(1, 2) {
            self.send(
                c,
                s.addr,
                17,
                super::packet::udp(sport, dport, b"again"),
                64,
            );
        }
    }

    fn echo_flow(&mut self) {
        let (c, s) = self.pair();
        let ident = self.rng.below(65536) as u16;
        let ttl = self.ttl();
        let sent = self.send(c, s.addr, 1, super::packet::echo(8, ident, 1), ttl);
        let Some(sent) = sent.filter(|x| x.iface != "lo") else {
            return;
        };
        let r = self.reply_end(&sent);
        self.send(r, sent.src, 1, super::packet::echo(0, sent.sport, 1), 64);
    }

    /// Packets conntrack finds INVALID: a SYN-ACK or a reset without a connection, an echo
    /// reply without a request.
    fn stray(&mut self) {
        use crate::wire::tcp::flags::{ACK, RST, SYN};
        let (c, s) = self.pair();
        let (sport, dport) = (self.client_port(), self.server_port());
        let seq = self.rng.next_u64() as u32;
        match self.rng.below(4) {
            3 => {
                // A SYN with a wrong checksum: INVALID where conntrack checks (PREROUTING).
                let mut l4 =
                    super::packet::tcp_segment(sport, dport, &super::packet::Seg::syn(seq));
                self.ip_id = self.ip_id.wrapping_add(1);
                let mut ip = vec![0x45, 0];
                ip.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
                ip.extend_from_slice(&self.ip_id.to_be_bytes());
                ip.extend_from_slice(&[0x40, 0, 64, 6, 0, 0]);
                ip.extend_from_slice(&c.addr.octets());
                ip.extend_from_slice(&s.addr.octets());
                ip.append(&mut l4);
                let _ = crate::wire::verify::recompute(&mut ip);
                if let Some(b) = ip.get_mut(20 + crate::wire::tcp::CHECKSUM_OFFSET) {
                    *b ^= 0x5a;
                }
                if matches!(c.side, Side::Wire(_)) {
                    self.inject(c, ip, None);
                }
            }
            0 => {
                let l4 = super::packet::tcp_segment(
                    sport,
                    dport,
                    &super::packet::Seg::flags(SYN | ACK, seq, 1),
                );
                self.send(c, s.addr, 6, l4, 64);
            }
            1 => {
                let l4 = super::packet::tcp_segment(
                    sport,
                    dport,
                    &super::packet::Seg::flags(RST, seq, 0),
                );
                self.send(c, s.addr, 6, l4, 64);
            }
            _ => {
                let ident = self.rng.below(65536) as u16;
                self.send(c, s.addr, 1, super::packet::echo(0, ident, 3), 64);
            }
        }
    }
}

/// The addresses and ports of an emitted IPv4 frame of protocol `proto` (for ICMP echo the
/// identifier stands in both port fields).
fn sent_of(iface: &str, frame: &[u8], proto: u8) -> Option<Sent> {
    let ip = frame.get(14..)?;
    if ip.first()? >> 4 != 4 || *ip.get(9)? != proto {
        return None;
    }
    let ihl = usize::from(ip[0] & 0xf) * 4;
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let l4 = ip.get(ihl..)?;
    let (sport, dport) = if proto == 1 {
        if *l4.first()? != 8 {
            return None;
        }
        let id = u16::from_be_bytes([*l4.get(4)?, *l4.get(5)?]);
        (id, id)
    } else {
        (
            u16::from_be_bytes([*l4.first()?, *l4.get(1)?]),
            u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]),
        )
    };
    Some(Sent {
        iface: iface.to_string(),
        bytes: ip.to_vec(),
        src,
        dst,
        sport,
        dport,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_scenario() {
        for seed in [1u64, 2, 99] {
            let a = scenario(seed, Backend::Nft).expect("parses");
            let b = scenario(seed, Backend::Nft).expect("parses");
            assert_eq!(a.rules_text, b.rules_text);
            assert_eq!(a.packets.len(), b.packets.len());
            assert!(a
                .packets
                .iter()
                .zip(&b.packets)
                .all(|(x, y)| x.packet == y.packet));
        }
    }

    #[test]
    fn many_seeds_parse() {
        for seed in 0..500u64 {
            match scenario(seed, Backend::Legacy) {
                Err(e) => panic!("seed {seed}: {e}"),
                Ok(s) => assert!(
                    s.unsupported.is_empty(),
                    "seed {seed}: the stack cannot evaluate {:?}\n{}",
                    s.unsupported,
                    s.rules_text
                ),
            }
        }
    }
}

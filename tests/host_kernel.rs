//! Kernel-differential test of the host model (src/host/).
//!
//! Each scenario host (the built-in Kubernetes node and the TOML hosts below) is built for
//! real in a throwaway network namespace `fwb-host-PID-N`: its interfaces are veths whose
//! other ends sit in a second namespace of ours (`...p`), addresses and routes are added in
//! the order the model assumes, and sysctls set. No route leads out of our namespaces. Then:
//! - the kernel's `ip -j route show table all` must equal the model's routes (kernel routes
//!   derived from addresses plus the user's), as a multiset;
//! - for a few hundred destinations per scenario (every address, subnet edge and gateway of the
//!   host, their neighbours, special addresses and seeded random ones) `ip -j route get DST
//!   [from SRC] [iif IF] [mark M]` must agree with `Host::route_output`/`route_input`: error
//!   text, or type, output interface, gateway, preferred source and table;
//! - the same answers must come from the host read back from the namespace's own
//!   `ip -j addr show` + `ip -j route show` (main only, and `table all`) + `ip -j rule show`;
//! - `-m addrtype` for every destination the peer namespace can send to: a UDP datagram per
//!   address into `eth0`, and raw PREROUTING rules for each type, with and without
//!   `--limit-iface-in` (the arrival interface, eth0); each rule's counter must be 1 exactly when
//!   `Host::addrtype_matches` says so.
//!
//! Needs root and `ip netns`; otherwise prints `SKIPPED:` (or fails with
//! `FWBENCH_REQUIRE_KERNEL=1`). Everything created is deleted on drop, also on failure.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{kernel_available, skip};
use fwbench::host::{
    addrtype_bits as bits, Host, Prefix, Protocol, RuleAction, TABLE_DEFAULT, TABLE_LOCAL,
    TABLE_MAIN,
};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The host namespace and the peer namespace holding the far ends of its veths.
struct Lab {
    ns: String,
    peer: String,
}

impl Lab {
    fn new() -> Lab {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let ns = format!("fwb-host-{}-{n}", std::process::id());
        let lab = Lab {
            peer: format!("{ns}p"),
            ns,
        };
        for name in [&lab.ns, &lab.peer] {
            let ok = Command::new("ip")
                .args(["netns", "add", name])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "ip netns add {name}");
        }
        lab
    }

    /// Runs a script in the host namespace; returns (ok, stdout, stderr).
    fn sh_in(&self, ns: &str, script: &str) -> (bool, String, String) {
        let o = Command::new("ip")
            .args(["netns", "exec", ns, "bash", "-c", script])
            .output()
            .expect("ip netns exec");
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    fn must(&self, ns: &str, script: &str) -> String {
        let (ok, out, err) = self.sh_in(ns, script);
        assert!(ok, "in {ns}: {script}\n{err}");
        out
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for name in [&self.ns, &self.peer] {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

fn table_name(t: u32) -> String {
    match t {
        TABLE_MAIN => "main".into(),
        TABLE_LOCAL => "local".into(),
        TABLE_DEFAULT => "default".into(),
        n => n.to_string(),
    }
}

/// The `ip`/`sysctl` commands that build `h` in a namespace, in the model's order.
fn build_script(h: &Host, ns: &str, peer: &str) -> String {
    let s = h.sysctl();
    let b = |v: bool| u8::from(v);
    let mut sc = String::from("set -e\n");
    let _ = writeln!(
        sc,
        "sysctl -qw net.ipv6.conf.all.addr_gen_mode=1 net.ipv6.conf.default.addr_gen_mode=1 \
         net.ipv4.ip_forward={} net.ipv6.conf.all.forwarding={} net.ipv6.conf.default.forwarding={}",
        b(s.ip_forward),
        b(s.ipv6_forwarding),
        b(s.ipv6_forwarding)
    );
    for scope in ["all", "default"] {
        let _ = writeln!(
            sc,
            "sysctl -qw net.ipv4.conf.{scope}.rp_filter={} net.ipv4.conf.{scope}.route_localnet={} \
             net.ipv4.conf.{scope}.accept_local={} net.ipv4.conf.{scope}.send_redirects={}",
            s.rp_filter,
            b(s.route_localnet),
            b(s.accept_local),
            b(s.send_redirects)
        );
    }
    sc.push_str("ip link set lo up\n");
    for (k, i) in h
        .interfaces()
        .iter()
        .enumerate()
        .filter(|(_, i)| !i.loopback)
    {
        let _ = writeln!(
            sc,
            "ip link add {0} type veth peer name p{k} netns {peer}\n\
             ip netns exec {peer} ip link set p{k} up\nip link set {0} mtu {1}",
            i.name, i.mtu
        );
        if let Some(mac) = i.mac {
            let _ = writeln!(
                sc,
                "ip link set {} address {}",
                i.name,
                fwbench::host::format_mac(&mac)
            );
        }
        let c = &i.conf;
        let mut set = |k: &str, v: Option<u8>| {
            if let Some(v) = v {
                let _ = writeln!(sc, "sysctl -qw net.ipv4.conf.{}.{k}={v}", i.name);
            }
        };
        set("forwarding", c.forwarding.map(u8::from));
        set("rp_filter", c.rp_filter);
        set("route_localnet", c.route_localnet.map(u8::from));
        set("accept_local", c.accept_local.map(u8::from));
        set("send_redirects", c.send_redirects.map(u8::from));
        if i.up {
            let _ = writeln!(sc, "ip link set {} up", i.name);
        }
    }
    let _ = ns;
    for i in h.interfaces() {
        // IPv4 in list order keeps primaries primary; the IPv6 list is newest first.
        let v4 = i.v4_addresses();
        let v6: Vec<_> = i.v6_addresses().collect();
        for a in v4.chain(v6.into_iter().rev()) {
            if i.loopback
                && (a.local == IpAddr::V4(Ipv4Addr::LOCALHOST)
                    || a.local == IpAddr::V6(Ipv6Addr::LOCALHOST))
            {
                continue;
            }
            let mut cmd = format!("ip addr add {}/{} dev {}", a.local, a.prefix_len, i.name);
            if let Some(brd) = a.broadcast {
                let _ = write!(cmd, " brd {brd}");
            }
            if a.is_v6() {
                cmd.push_str(" nodad");
            }
            if a.noprefixroute {
                cmd.push_str(" noprefixroute");
            }
            let _ = writeln!(sc, "{cmd}");
        }
    }
    let name = |d: Option<u32>| {
        d.and_then(|d| h.interface_by_index(d))
            .map(|i| i.name.clone())
    };
    for r in h.routes().iter().filter(|r| r.protocol != Protocol::KERNEL) {
        let mut cmd = format!(
            "ip {} route add table {} {} {}",
            if r.is_v6() { "-6" } else { "-4" },
            table_name(r.table),
            r.kind.name(),
            r.destination
        );
        if let Some(g) = r.gateway {
            let _ = write!(cmd, " via {g}");
        }
        if let Some(d) = name(r.dev) {
            let _ = write!(cmd, " dev {d}");
        }
        let _ = write!(cmd, " metric {}", r.metric);
        if let Some(s) = r.prefsrc {
            let _ = write!(cmd, " src {s}");
        }
        let _ = writeln!(sc, "{cmd}");
    }
    let defaults: Vec<_> = fwbench::host::Rule::defaults(false)
        .into_iter()
        .chain(fwbench::host::Rule::defaults(true))
        .collect();
    for r in h.rules().iter().filter(|r| !defaults.contains(r)) {
        let mut cmd = format!(
            "ip {} rule add pref {}",
            if r.v6 { "-6" } else { "-4" },
            r.priority
        );
        if r.invert {
            cmd.push_str(" not");
        }
        if let Some(p) = r.from {
            let _ = write!(cmd, " from {p}");
        }
        if let Some(p) = r.to {
            let _ = write!(cmd, " to {p}");
        }
        if let Some((v, m)) = r.fwmark {
            let _ = write!(cmd, " fwmark {v:#x}/{m:#x}");
        }
        if let Some(i) = &r.iif {
            let _ = write!(cmd, " iif {i}");
        }
        if let Some(o) = &r.oif {
            let _ = write!(cmd, " oif {o}");
        }
        match r.action {
            RuleAction::Lookup(t) => {
                let _ = write!(cmd, " table {}", table_name(t));
            }
            RuleAction::Unreachable => cmd.push_str(" unreachable"),
            RuleAction::Prohibit => cmd.push_str(" prohibit"),
            RuleAction::Blackhole => cmd.push_str(" blackhole"),
            RuleAction::Goto(p) => {
                let _ = write!(cmd, " goto {p}");
            }
            RuleAction::Nop => cmd.push_str(" nop"),
        }
        if let Some(n) = r.suppress_prefixlength {
            let _ = write!(cmd, " suppress_prefixlength {n}");
        }
        let _ = writeln!(sc, "{cmd}");
    }
    sc
}

/// A route as a comparable line.
fn route_key(h: &Host, r: &fwbench::host::Route) -> String {
    let dev = r
        .dev
        .and_then(|d| h.interface_by_index(d))
        .map_or("-".to_string(), |i| i.name.clone());
    format!(
        "table {} {} {} via {:?} dev {dev} metric {} src {:?} scope {} proto {}",
        table_name(r.table),
        r.kind.name(),
        r.destination,
        r.gateway,
        r.metric,
        r.prefsrc,
        r.scope.0,
        if r.protocol == Protocol::KERNEL {
            "kernel"
        } else {
            "user"
        }
    )
}

fn route_set(h: &Host) -> BTreeSet<String> {
    h.routes().iter().map(|r| route_key(h, r)).collect()
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Destinations worth asking about for this host.
fn sample(h: &Host, seed: u64) -> Vec<IpAddr> {
    let mut set: Vec<IpAddr> = Vec::new();
    let mut push = |a: IpAddr| {
        if !set.contains(&a) {
            set.push(a);
        }
    };
    let v4 = |n: u32| IpAddr::V4(Ipv4Addr::from(n));
    let v6 = |n: u128| IpAddr::V6(Ipv6Addr::from(n));
    let around = |p: &Prefix, push: &mut dyn FnMut(IpAddr)| match p.addr() {
        IpAddr::V4(a) => {
            let a = u32::from(a);
            let last = u32::from(p.last_v4().unwrap_or(Ipv4Addr::BROADCAST));
            for x in [
                a,
                a.wrapping_add(1),
                last.wrapping_sub(1),
                last,
                last.wrapping_add(1),
                a.wrapping_sub(1),
            ] {
                push(v4(x));
            }
        }
        IpAddr::V6(a) => {
            let a = u128::from(a);
            for x in [a, a + 1, a + 0x1234, a.wrapping_sub(1)] {
                push(v6(x));
            }
        }
    };
    for i in h.interfaces() {
        for a in &i.addresses {
            push(a.local);
            around(&a.prefix(), &mut push);
            match a.local {
                IpAddr::V4(l) => {
                    push(v4(u32::from(l).wrapping_add(1)));
                    push(v4(u32::from(l).wrapping_sub(1)));
                }
                IpAddr::V6(l) => push(v6(u128::from(l) + 1)),
            }
            if let Some(b) = a.broadcast {
                push(IpAddr::V4(b));
            }
        }
    }
    for r in h.routes() {
        if r.destination.len() > 0 {
            around(&r.destination, &mut push);
        }
        if let Some(g) = r.gateway {
            push(g);
        }
    }
    for s in [
        "0.0.0.0",
        "0.1.2.3",
        "127.0.0.1",
        "127.5.5.5",
        "224.0.0.1",
        "224.0.0.5",
        "239.1.2.3",
        "255.255.255.255",
        "8.8.8.8",
        "1.2.3.4",
        "203.0.113.2",
        "169.254.1.1",
        "::1",
        "ff02::1",
        "2600::1",
        "fe80::1",
        "::ffff:1.2.3.4",
        "fd00::77",
    ] {
        push(s.parse().expect("constant"));
    }
    let prefixes: Vec<Prefix> = h.routes().iter().map(|r| r.destination).collect();
    let mut rng = Rng(seed | 1);
    for _ in 0..60 {
        let x = rng.next();
        let base = &prefixes[(x as usize) % prefixes.len().max(1)];
        match base.addr() {
            IpAddr::V4(a) => {
                let host_bits = 32 - u32::from(base.len());
                let off = if host_bits == 0 {
                    0
                } else {
                    (x >> 20) as u32 & (u32::MAX >> (32 - host_bits))
                };
                push(v4(u32::from(a) | off));
                push(v4((x >> 32) as u32));
            }
            IpAddr::V6(a) => {
                let host_bits = 128 - u32::from(base.len());
                let off = if host_bits == 0 {
                    0
                } else {
                    u128::from(x) & (u128::MAX >> (128 - host_bits))
                };
                push(v6(u128::from(a) | off));
            }
        }
    }
    set
}

/// One `ip route get` question.
#[derive(Clone, Debug)]
struct Case {
    dst: IpAddr,
    src: Option<IpAddr>,
    iif: Option<String>,
    mark: u32,
}

impl Case {
    fn command(&self) -> String {
        let mut c = format!("ip -j route get {}", self.dst);
        if let Some(s) = self.src {
            let _ = write!(c, " from {s}");
        }
        if let Some(i) = &self.iif {
            let _ = write!(c, " iif {i}");
        }
        if self.mark != 0 {
            let _ = write!(c, " mark {}", self.mark);
        }
        c
    }
}

fn cases(h: &Host, dsts: &[IpAddr]) -> Vec<Case> {
    let ifs: Vec<String> = h
        .interfaces()
        .iter()
        .filter(|i| !i.loopback && i.up)
        .map(|i| i.name.clone())
        .collect();
    let local4: Vec<IpAddr> = h
        .interfaces()
        .iter()
        .flat_map(|i| i.v4_addresses())
        .map(|a| a.local)
        .collect();
    let local6: Vec<IpAddr> = h
        .interfaces()
        .iter()
        .flat_map(|i| i.v6_addresses())
        .map(|a| a.local)
        .collect();
    let mut out = Vec::new();
    for (n, &dst) in dsts.iter().enumerate() {
        let mark = if n % 4 == 1 { 5 } else { 0 };
        out.push(Case {
            dst,
            src: None,
            iif: None,
            mark,
        });
        let locals = if dst.is_ipv4() { &local4 } else { &local6 };
        if n % 3 == 0 {
            if let Some(&s) = locals.get(n % locals.len().max(1)) {
                out.push(Case {
                    dst,
                    src: Some(s),
                    iif: None,
                    mark: 0,
                });
            }
        }
        if n % 7 == 0 {
            let s = if dst.is_ipv4() { "1.2.3.4" } else { "2600::5" };
            out.push(Case {
                dst,
                src: s.parse().ok(),
                iif: None,
                mark: 0,
            });
        }
        let remote: &[&str] = if dst.is_ipv4() {
            &[
                "203.0.113.2",
                "10.0.0.5",
                "192.168.0.77",
                "127.0.0.5",
                "0.0.0.0",
                "192.168.0.255",
                "8.8.4.4",
                "224.0.0.9",
            ]
        } else {
            &["2001:db8:ffff::5", "fd00::5", "2600::9"]
        };
        for k in 0..2 {
            let pick = (n * 3 + k * 5) % (remote.len() + 1);
            let src = match remote.get(pick) {
                Some(s) => s.parse().ok(),
                None => locals.get(n % locals.len().max(1)).copied(),
            };
            let Some(iif) = ifs.get((n + k) % ifs.len().max(1)) else {
                continue;
            };
            out.push(Case {
                dst,
                src,
                iif: Some(iif.clone()),
                mark: if k == 1 { 5 } else { 0 },
            });
        }
    }
    out
}

/// The model's answer in the shape of the kernel's, for comparison.
fn model_answer(h: &Host, c: &Case) -> String {
    let name = |d: u32| {
        h.interface_by_index(d)
            .map_or("?".to_string(), |i| i.name.clone())
    };
    let res = match &c.iif {
        None => h.route_output(c.dst, c.src, c.mark),
        Some(i) => match (h.interface(i), c.src) {
            (Some(dev), Some(src)) => h.route_input(c.dst, src, dev.index, c.mark),
            _ => return "bad case".into(),
        },
    };
    // `ip route get` prints the preferred source for output only: for IPv4 when no `from`
    // was given, for IPv6 always, as source selection gives it whatever `from` says.
    let src = match (&c.iif, c.src, c.dst) {
        (Some(_), _, _) => None,
        (None, None, _) => res.as_ref().ok().and_then(|d| d.src),
        (None, Some(_), IpAddr::V4(_)) => None,
        (None, Some(_), IpAddr::V6(_)) => {
            h.route_output(c.dst, None, c.mark).ok().and_then(|d| d.src)
        }
    };
    match res {
        Err(e) => format!("error {}", e.errno.message()),
        Ok(d) => format!(
            "{} dev {} via {:?} src {:?} table {}",
            d.kind.name(),
            name(d.dev),
            d.gateway,
            src,
            table_name(d.table)
        ),
    }
}

/// The kernel's answer (one `ip -j route get` output or error) in the same shape.
fn kernel_answer(text: &str, v6: bool) -> String {
    let text = text.trim();
    if let Some(e) = text.strip_prefix("RTNETLINK answers: ") {
        return format!("error {e}");
    }
    if let Some(e) = text.strip_prefix("Error: ") {
        return format!("error {e}");
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return format!("unparsable: {text}");
    };
    let r = &v[0];
    let s = |k: &str| r.get(k).and_then(|x| x.as_str());
    let ip = |k: &str| s(k).and_then(|x| x.parse::<IpAddr>().ok());
    let table = match s("table") {
        None => "main".to_string(),
        Some(t) => t.to_string(),
    };
    let _ = v6;
    format!(
        "{} dev {} via {:?} src {:?} table {}",
        s("type").unwrap_or("unicast"),
        s("dev").unwrap_or("?"),
        ip("gateway"),
        ip("prefsrc"),
        table
    )
}

const MULTI: &str = include_str!("data/host/multi.toml");

const POLICY: &str = include_str!("data/host/policy.toml");

const NO_FORWARD: &str = include_str!("data/host/no_forward.toml");

/// The peer end sends one UDP datagram per address into `eth0`; raw PREROUTING counts the
/// addrtype rules. Returns the disagreements.
fn check_addrtype(lab: &Lab, h: &Host, dsts: &[IpAddr]) -> (usize, Vec<String>) {
    let Some(eth0) = h.interface("eth0").filter(|i| i.up) else {
        return (0, vec!["no eth0 to send into".into()]);
    };
    let Some(mac) = eth0.mac else {
        return (0, vec!["eth0 needs a fixed MAC".into()]);
    };
    let k = h
        .interfaces()
        .iter()
        .position(|i| i.name == "eth0")
        .unwrap_or(0);
    // Reachable from outside at all: not 0.0.0.0, not limited broadcast.
    let addrs: Vec<Ipv4Addr> = dsts
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) if !a.is_unspecified() && !a.is_broadcast() => Some(*a),
            _ => None,
        })
        .collect();
    let types: &[(&str, u16)] = &[
        ("UNSPEC", bits::UNSPEC),
        ("UNICAST", bits::UNICAST),
        ("LOCAL", bits::LOCAL),
        ("BROADCAST", bits::BROADCAST),
        ("ANYCAST", bits::ANYCAST),
        ("MULTICAST", bits::MULTICAST),
        ("BLACKHOLE", bits::BLACKHOLE),
        ("UNREACHABLE", bits::UNREACHABLE),
        ("PROHIBIT", bits::PROHIBIT),
        ("THROW", bits::THROW),
        ("NAT", bits::NAT),
        ("XRESOLVE", bits::XRESOLVE),
    ];
    let mut rules = String::from("*raw\n:PREROUTING ACCEPT [0:0]\n");
    for (n, a) in addrs.iter().enumerate() {
        let _ = writeln!(
            rules,
            "-A PREROUTING -d {a}/32 -p udp -m comment --comment \"{n} seen\""
        );
        for (t, _) in types {
            for limit in ["", " --limit-iface-in"] {
                let _ = writeln!(
                    rules,
                    "-A PREROUTING -d {a}/32 -p udp -m addrtype --dst-type {t}{limit} -m comment --comment \"{n} {t}{}\"",
                    if limit.is_empty() { "" } else { " eth0" }
                );
            }
        }
    }
    rules.push_str("COMMIT\n");
    let path = std::env::temp_dir().join(format!("{}-addrtype.rules", lab.ns));
    if std::fs::write(&path, &rules).is_err() {
        return (0, vec!["cannot write the rules file".into()]);
    }
    lab.must(&lab.ns, &format!("iptables-nft-restore {}", path.display()));
    let _ = std::fs::remove_file(&path);
    let mac = fwbench::host::format_mac(&mac);
    let sends: String = addrs
        .iter()
        .map(|a| format!("echo x > /dev/udp/{a}/9 2>/dev/null || true\n"))
        .collect();
    lab.must(
        &lab.peer,
        &format!(
            "ip addr add 203.0.113.1/32 dev p{k} 2>/dev/null || true\n\
             ip route replace default via 169.254.1.1 dev p{k} onlink\n\
             ip neigh replace 169.254.1.1 lladdr {mac} dev p{k} nud permanent\n{sends}sleep 0.3"
        ),
    );
    let saved = lab.must(&lab.ns, "iptables-nft-save -c -t raw");
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut counts = std::collections::HashMap::new();
    for line in saved.lines() {
        let Some(rest) = line.strip_prefix('[') else {
            continue;
        };
        let Some((p, _)) = rest.split_once(':') else {
            continue;
        };
        let Some(c) = line.split("--comment ").nth(1) else {
            continue;
        };
        counts.insert(
            c.trim_matches('"').to_string(),
            p.parse::<u64>().unwrap_or(99),
        );
    }
    for (n, a) in addrs.iter().enumerate() {
        if counts.get(&format!("{n} seen")) != Some(&1) {
            problems.push(format!("{a}: the datagram did not arrive exactly once"));
            continue;
        }
        for (t, bit) in types {
            for (limit, dev) in [("", None), (" eth0", Some(eth0.index))] {
                let kernel = counts.get(&format!("{n} {t}{limit}")) == Some(&1);
                let model = h.addrtype_matches(IpAddr::V4(*a), *bit, dev);
                checked += 1;
                if kernel != model {
                    problems.push(format!(
                        "addrtype {a} --dst-type {t}{}: kernel {kernel}, model {model}",
                        if limit.is_empty() {
                            ""
                        } else {
                            " --limit-iface-in eth0"
                        }
                    ));
                }
            }
        }
    }
    (checked, problems)
}

/// Builds `h` in a namespace and compares everything; returns (cases compared, problems).
fn check_scenario(label: &str, h: &Host, seed: u64) -> ([usize; 2], Vec<String>) {
    let lab = Lab::new();
    let script = build_script(h, &lab.ns, &lab.peer);
    let (ok, _, err) = lab.sh_in(&lab.ns, &script);
    assert!(
        ok,
        "{label}: building the namespace failed: {err}\n{script}"
    );
    let mut problems = Vec::new();

    // 1. The routing tables.
    let addr_json = lab.must(&lab.ns, "ip -j addr show");
    let all_json = lab.must(&lab.ns, "ip -j route show table all");
    let main_json = lab.must(&lab.ns, "ip -j route show");
    let rule_json = lab.must(&lab.ns, "ip -j rule show");
    let names = ["addr.json", "route.json", "rule.json"];
    let read = |routes: &str| {
        let mut host = Host::from_ip_json(names, &addr_json, routes, Some(&rule_json))
            .unwrap_or_else(|e| panic!("{label}: reading the kernel's JSON: {e}"));
        // Sysctls are not in the dumps: take them from the scenario.
        host.set_sysctl(h.sysctl().clone());
        for i in h.interfaces() {
            if let Some(c) = host.interface_conf_mut(&i.name) {
                *c = i.conf.clone();
            }
        }
        host
    };
    let (from_all, from_main) = (read(&all_json), read(&main_json));
    // FWBENCH_HOST_DUMP=DIR (an existing directory) saves the namespace's dumps (how tests/data/host/ was made).
    if let Some(dir) = std::env::var_os("FWBENCH_HOST_DUMP") {
        let base = std::path::Path::new(&dir).join(label.replace(' ', "_"));
        for (ext, text) in [
            ("addr.json", &addr_json),
            ("route.json", &main_json),
            ("route-all.json", &all_json),
            ("rule.json", &rule_json),
        ] {
            let _ = std::fs::write(base.with_extension(ext), text);
        }
    }
    let (kernel, model) = (route_set(&from_all), route_set(h));
    for r in kernel.difference(&model) {
        problems.push(format!("{label}: kernel has route `{r}', the model not"));
    }
    for r in model.difference(&kernel) {
        problems.push(format!(
            "{label}: the model has route `{r}', the kernel not"
        ));
    }
    // `ip route show` lists IPv4 only: compare the IPv4 routes.
    let v4_only = |set: &BTreeSet<String>| -> BTreeSet<String> {
        set.iter().filter(|r| !r.contains(':')).cloned().collect()
    };
    // It also lacks what a user put in other tables than main.
    let main_complete = h
        .routes()
        .iter()
        .all(|r| r.protocol == Protocol::KERNEL || r.table == TABLE_MAIN);
    if main_complete && v4_only(&route_set(&from_main)) != v4_only(&kernel) {
        problems.push(format!(
            "{label}: the host from `ip route show` (main only) differs from `table all`: {:?}",
            v4_only(&route_set(&from_main))
                .symmetric_difference(&v4_only(&kernel))
                .collect::<Vec<_>>()
        ));
    }

    // 2. Routing decisions.
    let dsts = sample(h, seed);
    let cases = cases(h, &dsts);
    let script: String = cases
        .iter()
        .map(|c| format!("echo '@@'; {} 2>&1 || true\n", c.command()))
        .collect();
    let out = lab.must(&lab.ns, &script);
    let answers: Vec<&str> = out.split("@@\n").skip(1).collect();
    assert_eq!(answers.len(), cases.len(), "{label}: one answer per case");
    for (c, k) in cases.iter().zip(&answers) {
        let kernel = kernel_answer(k, c.dst.is_ipv6());
        // `ip route get` ignores IPv6 forwarding; the model reports it. IPv6 multicast input
        // makes `ip route get` itself fail (EMSGSIZE filling its answer).
        if let (IpAddr::V6(d), Some(_)) = (c.dst, &c.iif) {
            if !h.sysctl().ipv6_forwarding || d.is_multicast() {
                continue;
            }
        }
        for (who, host) in [
            ("model", h),
            ("from ip -j (table all)", &from_all),
            ("from ip -j (main)", &from_main),
        ] {
            if (c.dst.is_ipv6() || !main_complete) && who.ends_with("(main)") {
                continue;
            }
            let ours = model_answer(host, c);
            if ours != kernel {
                problems.push(format!(
                    "{label} [{who}]: `{}`\n    kernel: {kernel}\n    ours:   {ours}",
                    c.command()
                ));
            }
        }
    }

    // 3. addrtype against real rule counters.
    let (addrtypes, p) = check_addrtype(&lab, h, &dsts);
    problems.extend(p.into_iter().map(|p| format!("{label}: {p}")));
    ([cases.len(), addrtypes], problems)
}

#[test]
fn host_model_agrees_with_the_kernel() {
    if let Err(why) = kernel_available() {
        skip(&why);
        return;
    }
    let scenarios: Vec<(&str, Host)> = vec![
        ("kubernetes node", Host::kubernetes_node()),
        (
            "multi",
            Host::from_toml_str("multi", MULTI).expect("multi host"),
        ),
        (
            "policy",
            Host::from_toml_str("policy", POLICY).expect("policy host"),
        ),
        (
            "no-forward",
            Host::from_toml_str("no-forward", NO_FORWARD).expect("no-forward host"),
        ),
    ];
    let (mut lookups, mut addrtypes) = (0, 0);
    let mut problems = Vec::new();
    for (n, (label, h)) in scenarios.iter().enumerate() {
        let ([l, a], p) = check_scenario(label, h, 0x9e37_79b9 + n as u64);
        assert!(
            l > 300 && a > 1000,
            "{label}: too few comparisons ({l} lookups, {a} addrtype)"
        );
        lookups += l;
        addrtypes += a;
        problems.extend(p);
    }
    eprintln!(
        "host_kernel: {lookups} route lookups (each also against the hosts read back from \
         `ip -j`), {addrtypes} addrtype rule counters, {} disagreements",
        problems.len()
    );
    assert!(
        problems.is_empty(),
        "{} disagreements with the kernel:\n{}",
        problems.len(),
        problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

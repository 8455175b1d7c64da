//! Name look-ups that `iptables -L` does without `-n`: service names for ports, host names for
//! addresses, protocol names. iptables asks libc (`getservbyport`, `gethostbyaddr`,
//! `getprotobynumber`); we read the same files libc reads, and only the files: a listing must
//! never wait on DNS. The look-up tables are loaded once per process.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::OnceLock;

/// Look-up tables read from `/etc/services`, `/etc/hosts` and `/etc/protocols`.
#[derive(Debug, Default)]
pub struct Names {
    /// (port, protocol name) → first service name listed for it.
    services: HashMap<(u16, String), String>,
    /// service name or alias → port, per protocol (for parsing `--dport ssh`).
    service_ports: HashMap<(String, String), u16>,
    hosts: HashMap<IpAddr, String>,
    protocols: HashMap<u8, String>,
    protocol_numbers: HashMap<String, u8>,
}

impl Names {
    /// The system's tables, read once.
    pub fn system() -> &'static Names {
        static NAMES: OnceLock<Names> = OnceLock::new();
        NAMES.get_or_init(|| {
            let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
            Names::from_texts(
                &read("/etc/services"),
                &read("/etc/hosts"),
                &read("/etc/protocols"),
            )
        })
    }

    /// Tables built from the given file contents (used by tests for fixed answers).
    pub fn from_texts(services: &str, hosts: &str, protocols: &str) -> Names {
        let mut n = Names::default();
        for line in lines(services) {
            let mut f = line.split_whitespace();
            let (Some(name), Some(pp)) = (f.next(), f.next()) else {
                continue;
            };
            let Some((port, proto)) = pp.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            n.services
                .entry((port, proto.to_string()))
                .or_insert_with(|| name.to_string());
            for alias in std::iter::once(name).chain(f) {
                n.service_ports
                    .entry((alias.to_string(), proto.to_string()))
                    .or_insert(port);
            }
        }
        for line in lines(hosts) {
            let mut f = line.split_whitespace();
            let (Some(addr), Some(name)) = (f.next(), f.next()) else {
                continue;
            };
            if let Ok(addr) = addr.parse::<IpAddr>() {
                n.hosts.entry(addr).or_insert_with(|| name.to_string());
            }
        }
        for line in lines(protocols) {
            let mut f = line.split_whitespace();
            let (Some(name), Some(num)) = (f.next(), f.next()) else {
                continue;
            };
            if let Ok(num) = num.parse::<u8>() {
                n.protocols.entry(num).or_insert_with(|| name.to_string());
                for alias in std::iter::once(name).chain(f) {
                    n.protocol_numbers.entry(alias.to_string()).or_insert(num);
                }
            }
        }
        n
    }

    /// `getservbyport(port, proto)`: the first name the services file gives the port.
    pub fn service_name(&self, port: u16, proto: &str) -> Option<&str> {
        self.services
            .get(&(port, proto.to_string()))
            .map(String::as_str)
    }

    /// `getservbyname(name, proto)`.
    pub fn service_port(&self, name: &str, proto: &str) -> Option<u16> {
        self.service_ports
            .get(&(name.to_string(), proto.to_string()))
            .copied()
    }

    /// `getservbyname(name, NULL)`: a service of any protocol that has ports in iptables
    /// (tcp first, then udp, sctp, dccp).
    pub fn service_port_any(&self, name: &str) -> Option<u16> {
        ["tcp", "udp", "sctp", "dccp"]
            .iter()
            .find_map(|proto| self.service_port(name, proto))
    }

    /// `gethostbyaddr` answered from the hosts file alone.
    pub fn host_name(&self, addr: IpAddr) -> Option<&str> {
        self.hosts.get(&addr).map(String::as_str)
    }

    /// `getprotobynumber`.
    pub fn protocol_name(&self, num: u8) -> Option<&str> {
        self.protocols.get(&num).map(String::as_str)
    }

    /// `getprotobyname`.
    pub fn protocol_number(&self, name: &str) -> Option<u8> {
        self.protocol_numbers.get(name).copied()
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_entry_wins_like_libc() {
        let n = Names::from_texts(
            "ssh 22/tcp\nfoo 22/tcp\nhttp 80/tcp www # web\n",
            "127.0.0.1 localhost\n127.0.0.1 other\n",
            "tcp 6 TCP\n",
        );
        assert_eq!(n.service_name(22, "tcp"), Some("ssh"));
        assert_eq!(n.service_name(22, "udp"), None);
        assert_eq!(n.service_port("www", "tcp"), Some(80));
        assert_eq!(n.host_name("127.0.0.1".parse().unwrap()), Some("localhost"));
        assert_eq!(n.protocol_number("TCP"), Some(6));
    }
}

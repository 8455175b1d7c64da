//! The machine a capture came from: its interfaces and addresses, routing tables, policy
//! rules and routing sysctls, and the questions netfilter asks of it: where a packet is routed
//! (local delivery or forward, out which interface, next hop, source), what `-m addrtype`
//! sees, which source MASQUERADE writes, whether an address is local.
//!
//! A host comes from a TOML file (`--host`, [`Host::from_toml_file`]), from `ip -j addr show`
//! and `ip -j route show [table all]` output ([`Host::from_ip_json`]), or is the built-in
//! Kubernetes node ([`Host::kubernetes_node`]). Every answer is the Linux kernel's: each
//! function names the kernel function it mirrors, and tests/host_kernel.rs builds the same
//! host in a network namespace and compares with `ip route get` and `-m addrtype` counters.
//!
//! Invariants: `lo` is interface index 1; every route's interface exists; the routes of a
//! host built from a file are exactly those the kernel would have after the same `ip`
//! commands (kernel routes derived from addresses, then the file's routes).

mod addrtype;
mod build;
mod default;
mod error;
mod fib;
mod file;
mod iproute;
mod model;
mod route;

pub use addrtype::bits as addrtype_bits;
pub use build::{AddressSpec, HostBuilder, RouteSpec};
pub use error::HostError;
pub use fib::{FibResult, Flow};
pub use model::{
    format_mac, parse_mac, Address, Errno, IfConf, Interface, Prefix, Protocol, Route, RouteType,
    Rule, RuleAction, Scope, Sysctls, LOOPBACK_IFINDEX, TABLE_DEFAULT, TABLE_LOCAL, TABLE_MAIN,
};
pub use route::{NoRouteReason, RouteDecision, RouteError};

/// A host: see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    interfaces: Vec<Interface>,
    routes: Vec<Route>,
    rules: Vec<Rule>,
    sysctl: Sysctls,
    /// Some `ip rule` beyond the defaults exists: the kernel then no longer merges the local
    /// and main tables (`fib_unmerge`) and reverse-path checks take the full lookup.
    custom_rules_v4: bool,
    /// A user added a `local` route (`fib_has_custom_local_routes`).
    custom_local_routes: bool,
    order_v4: Vec<usize>,
    order_v6: Vec<usize>,
    /// `[lab]` of a host file: sysctls `fwbench verify` sets in its lab over its own.
    pub(crate) lab_sysctls: Vec<(String, String)>,
}

impl Host {
    pub(crate) fn from_parts(
        interfaces: Vec<Interface>,
        routes: Vec<Route>,
        rules: Vec<Rule>,
        sysctl: Sysctls,
        custom_rules: bool,
        custom_local_routes: bool,
    ) -> Host {
        let defaults_v4 = Rule::defaults(false);
        let v4_rules: Vec<&Rule> = rules.iter().filter(|r| !r.v6).collect();
        let custom_rules_v4 = custom_rules
            && (v4_rules.len() != defaults_v4.len()
                || v4_rules.iter().zip(&defaults_v4).any(|(a, b)| *a != b));
        Host {
            order_v4: Host::lookup_order(&routes, false),
            order_v6: Host::lookup_order(&routes, true),
            interfaces,
            routes,
            rules,
            sysctl,
            custom_rules_v4,
            custom_local_routes,
            lab_sysctls: Vec::new(),
        }
    }

    /// Sysctls the host file asks `fwbench verify`'s lab to set over its own settings.
    pub fn lab_sysctls(&self) -> &[(String, String)] {
        &self.lab_sysctls
    }

    /// Interfaces in index order, `lo` first.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }

    pub fn interface_by_index(&self, index: u32) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.index == index)
    }

    /// The interface a packet arrives on when its capture names none: the first interface
    /// that is not `lo`.
    pub fn first_interface(&self) -> Option<&Interface> {
        self.interfaces.iter().find(|i| !i.loopback)
    }

    /// Every route of every table, kernel routes first, in the order they were added.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Policy rules of both families, by priority.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn sysctl(&self) -> &Sysctls {
        &self.sysctl
    }

    /// Replaces the namespace-wide sysctls (the `ip -j` dumps do not carry them).
    pub fn set_sysctl(&mut self, sysctl: Sysctls) {
        self.sysctl = sysctl;
    }

    /// An interface's own sysctls (`net.ipv4.conf.IF.*`).
    pub fn interface_conf_mut(&mut self, name: &str) -> Option<&mut IfConf> {
        self.interfaces
            .iter_mut()
            .find(|i| i.name == name)
            .map(|i| &mut i.conf)
    }

    /// `net.ipv4.conf.IF.forwarding` (set for every interface by `ip_forward`).
    pub fn forwarding(&self, dev: &Interface) -> bool {
        dev.conf.forwarding.unwrap_or(self.sysctl.ip_forward)
    }

    /// Effective rp_filter: the larger of `all` and the interface's (`IN_DEV_MAXCONF`).
    pub fn rp_filter(&self, dev: &Interface) -> u8 {
        self.sysctl.rp_filter.max(dev.conf.rp_filter.unwrap_or(0))
    }

    /// `route_localnet` of `all` or the interface (`IN_DEV_ORCONF`).
    pub fn route_localnet(&self, dev: &Interface) -> bool {
        self.sysctl.route_localnet || dev.conf.route_localnet.unwrap_or(false)
    }

    pub fn accept_local(&self, dev: &Interface) -> bool {
        self.sysctl.accept_local || dev.conf.accept_local.unwrap_or(false)
    }

    pub fn send_redirects(&self, dev: &Interface) -> bool {
        self.sysctl.send_redirects || dev.conf.send_redirects.unwrap_or(false)
    }
}

impl Host {
    /// Reads a `--host` TOML file.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Host, HostError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| HostError::whole(&name, format!("cannot read the host file: {e}")))?;
        Host::from_toml_str(&name, &text)
    }

    /// Reads host TOML text; `name` is used in error messages.
    pub fn from_toml_str(name: &str, text: &str) -> Result<Host, HostError> {
        file::parse(name, text)
    }

    /// Reads `ip -j addr show` and `ip -j route show [table all]` output, and optionally
    /// `ip -j rule show`, from files.
    pub fn from_ip_json_files(
        addr: &std::path::Path,
        route: &std::path::Path,
        rule: Option<&std::path::Path>,
    ) -> Result<Host, HostError> {
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p).map_err(|e| {
                HostError::whole(&p.display().to_string(), format!("cannot read: {e}"))
            })
        };
        let (a, r) = (read(addr)?, read(route)?);
        let rules = rule.map(read).transpose()?;
        let rule_name = rule.map(|p| p.display().to_string()).unwrap_or_default();
        iproute::parse(
            [
                &addr.display().to_string(),
                &route.display().to_string(),
                &rule_name,
            ],
            &a,
            &r,
            rules.as_deref(),
        )
    }

    /// The same from texts (`names`: addr, route, rule file names for errors).
    pub fn from_ip_json(
        names: [&str; 3],
        addr: &str,
        route: &str,
        rule: Option<&str>,
    ) -> Result<Host, HostError> {
        iproute::parse(names, addr, route, rule)
    }
}

#[cfg(test)]
mod tests;

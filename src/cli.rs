//! The command line, defined once: parsing, `--help`, shell completions and the man page all
//! come from these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Replay packet captures through an exact emulation of Linux netfilter (iptables).
///
/// fwbench reads a machine's `iptables-save` dump and answers what the kernel would do with
/// it. Today it reads and validates rulesets and prints them back exactly as iptables does;
/// packet replay comes next (see the README's feature table).
///
/// Exit status: 0 success, 1 a check failed, 2 an error (bad input, bad usage).
#[derive(Debug, Parser)]
#[command(
    name = "fwbench",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List a ruleset's chains as `iptables -L` prints them.
    ///
    /// The output is byte for byte what `iptables -L` (1.8.9, nf_tables) prints after the
    /// same file was loaded with `iptables-restore -c`: counters come from the file's own
    /// `[packets:bytes]`. Without -n, names come from /etc/services, /etc/hosts and
    /// /etc/protocols (never from DNS).
    ///
    /// Example: fwbench list --rules node.rules -t nat -v -n KUBE-SERVICES
    List(ListArgs),
    /// Print a ruleset back as `iptables-save` prints it (canonical form).
    ///
    /// Options come back in iptables' canonical order with defaults filled in, exactly as
    /// `iptables-save` would print the same rules after `iptables-restore`, without the
    /// dated comment lines.
    ///
    /// Example: fwbench save --rules node.rules -c
    Save(SaveArgs),
    /// Parse and validate a ruleset; print nothing but errors.
    ///
    /// Reports every error in the file at once (file:line:col, the line, a caret), like
    /// iptables-restore --test but complete. Exit status 0 when the file is valid, 2 when not.
    Check(CheckArgs),
    /// Generate a realistic kube-proxy-shaped ruleset (iptables-save format).
    ///
    /// Deterministic: the same --rules and --seed give the same file on every machine.
    ///
    /// Example: fwbench generate --rules 100000 --seed 7 > big.rules
    ///
    /// The shipped examples come from here too: `fwbench generate --example-ruleset >
    /// rulesets/k8s-node.rules` and `fwbench generate --example-capture
    /// captures/k8s-node.pcapng` (with the default --seed 1).
    Generate(GenerateArgs),
    /// Replay captures through the ruleset as the kernel would: counters and outcomes.
    ///
    /// Every packet goes through the host's hooks and tables in the kernel's order, with
    /// conntrack and NAT, routing by the host model (--host, --host-from-ip, or the built-in
    /// Kubernetes node), and the host's own answers (REJECT, resets, ICMP errors). Prints the
    /// counters of every table as `iptables -L -v` would after the same traffic, then a
    /// summary that puts every packet read in exactly one outcome.
    ///
    /// Example: fwbench replay captures/k8s-node.pcapng --rules rulesets/k8s-node.rules
    Replay(ReplayArgs),
    /// Follow one packet of a capture through the host, rule by rule.
    ///
    /// Replays the packets before it (so conntrack, NAT bindings and rate limits are as they
    /// would be), then shows for the chosen packet every chain walked in every table, each
    /// rule evaluated and whether it matched, the verdicts, conntrack's classification, NAT
    /// rewrites, the routing decision and the outcome.
    ///
    /// Example: fwbench trace captures/k8s-node.pcapng --rules rulesets/k8s-node.rules --packet 5
    Trace(TraceArgs),
    /// Prove the emulation: replay a capture through the real kernel and through fwbench,
    /// and compare everything (needs root).
    ///
    /// Builds a throwaway copy of the host in network namespaces (one veth per interface of
    /// the host model, addresses, routes, neighbours), loads the ipsets and the ruleset into
    /// the real netfilter, sends every packet of the capture into its arrival interface (or
    /// from inside the host for its own packets), captures what the host sends, reads the
    /// counters and the connection table, and compares them with fwbench's replay: every
    /// rule and policy counter, every emitted packet from the IP header on, every
    /// connection. Prints the differences and a one-line score; exit status 1 on any
    /// difference. The namespaces are always removed, also on error or Ctrl-C.
    ///
    /// Example: sudo fwbench verify captures/k8s-node.pcapng --rules rulesets/k8s-node.rules
    Verify(VerifyArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// Example: fwbench completions bash > /etc/bash_completion.d/fwbench
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output.
    ///
    /// Example: fwbench man | man -l -
    Man,
}

/// The machine the ruleset runs on.
#[derive(Debug, Args)]
pub struct HostArgs {
    /// The host model: interfaces, addresses, routes, sysctls (TOML; see the README).
    #[arg(long, value_name = "FILE", conflicts_with = "host_from_ip")]
    pub host: Option<PathBuf>,
    /// The host model from `ip -j addr show` and `ip -j route show` output of the machine.
    #[arg(long, num_args = 2, value_names = ["ADDR_JSON", "ROUTE_JSON"])]
    pub host_from_ip: Option<Vec<PathBuf>>,
    /// The arrival interface of packets whose capture does not name one (default: the
    /// host's first interface).
    #[arg(long, value_name = "NAME")]
    pub in_interface: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The captures (pcap or pcapng), replayed one after the other.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    #[command(flatten)]
    pub ruleset: RulesetArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// Seed for `-m statistic --mode random` and NAT port choices.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write what the host sent (rewritten packets, its own answers) to this pcapng file,
    /// each packet with a comment saying what happened.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the packets that were dropped or rejected to this pcapng file, each with the
    /// rule or policy that decided.
    #[arg(long, value_name = "FILE")]
    pub drops: Option<PathBuf>,
    /// What becomes of packets handed to userspace by QUEUE/NFQUEUE.
    #[arg(long, value_enum, default_value_t = QueueVerdict::Accept)]
    pub queue_verdict: QueueVerdict,
    /// Do not make the host answer packets delivered to it (TCP resets, port unreachable,
    /// echo replies): for captures that already hold the host's own answers.
    #[arg(long)]
    pub no_local_replies: bool,
    /// List only this table (default: every table of the ruleset).
    #[arg(short = 't', long, value_enum)]
    pub table: Option<TableArg>,
    /// Numeric output (`-n`).
    #[arg(short = 'n', long)]
    pub numeric: bool,
    /// Exact counters (`-x`).
    #[arg(short = 'x', long)]
    pub exact: bool,
    /// Number the rules (`--line-numbers`).
    #[arg(long)]
    pub line_numbers: bool,
    /// Also print the connection table (`conntrack -L`) at the end of the capture.
    #[arg(long)]
    pub conntrack: bool,
    /// Write LOG / NFLOG lines to this file.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The captures (pcap or pcapng), replayed one after the other.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    #[command(flatten)]
    pub ruleset: RulesetArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// The packet to follow: its number in the captures, from 1 (as Wireshark counts).
    #[arg(long, short = 'p', value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub packet: u64,
    /// Seed for `-m statistic --mode random` and NAT port choices.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print rules with numeric addresses and ports.
    #[arg(short = 'n', long)]
    pub numeric: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The capture (pcap or pcapng).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    #[command(flatten)]
    pub ruleset: RulesetArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// Seed for fwbench's random choices (the kernel's are its own).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also print both connection tables.
    #[arg(long)]
    pub conntrack: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QueueVerdict {
    Accept,
    Drop,
}

/// Where the ruleset comes from and how to read it.
#[derive(Debug, Args)]
pub struct RulesetArgs {
    /// The ruleset: an `iptables-save` / `iptables-restore` file ("-" for standard input).
    #[arg(long, short = 'r', value_name = "FILE")]
    pub rules: PathBuf,
    /// The machine's ipsets (`ipset save` output): every set the rules name must be in it,
    /// with the rules' address family.
    #[arg(long, value_name = "FILE")]
    pub ipsets: Option<PathBuf>,
    /// The file is an ip6tables dump.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// Follow this iptables variant where nft and legacy differ.
    #[arg(long, value_enum, default_value_t = BackendArg::Nft)]
    pub backend: BackendArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// iptables-nft (nf_tables), the default on current distributions.
    Nft,
    /// iptables-legacy.
    Legacy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableArg {
    Filter,
    Nat,
    Mangle,
    Raw,
    Security,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub ruleset: RulesetArgs,
    /// The table to list (as `iptables -t`).
    #[arg(short = 't', long, value_enum, default_value_t = TableArg::Filter)]
    pub table: TableArg,
    /// List only this chain.
    pub chain: Option<String>,
    /// Show counters and interfaces (`iptables -L -v`).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Numeric output: no service, host or protocol names (`-n`).
    #[arg(short = 'n', long)]
    pub numeric: bool,
    /// Exact counters instead of K/M/G (`-x`).
    #[arg(short = 'x', long)]
    pub exact: bool,
    /// Number the rules (`--line-numbers`).
    #[arg(long)]
    pub line_numbers: bool,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    #[command(flatten)]
    pub ruleset: RulesetArgs,
    /// Print rule counters as `[packets:bytes]` (`iptables-save -c`).
    #[arg(short = 'c', long)]
    pub counters: bool,
    /// Only this table.
    #[arg(short = 't', long, value_enum)]
    pub table: Option<TableArg>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub ruleset: RulesetArgs,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// About how many rules to generate (at least this many).
    #[arg(long, default_value_t = 1000)]
    pub rules: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the shipped example ruleset instead (rulesets/k8s-node.rules: a Kubernetes
    /// node with kube-proxy, kubelet and CNI rules).
    #[arg(long, conflicts_with = "rules")]
    pub example_ruleset: bool,
    /// Write the shipped example capture (captures/k8s-node.pcapng: traffic that matches
    /// the example ruleset on the built-in host) to FILE, as pcapng.
    #[arg(long, value_name = "FILE", conflicts_with = "rules")]
    pub example_capture: Option<PathBuf>,
}

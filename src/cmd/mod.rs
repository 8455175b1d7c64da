//! One file per subcommand: each turns validated arguments into library calls and output.

pub mod check;
pub mod completions;
pub mod generate;
pub mod list;
pub mod replay;
pub mod save;
pub mod trace;
pub mod verify;

use std::io::Read;
use std::path::Path;

use fwbench::rules::ipset::IpSets;
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::validate::validate_set_references;
use fwbench::rules::Diagnostics;
use fwbench::rules::{Backend, Family, Ruleset, TableKind};

use crate::cli::{BackendArg, RulesetArgs, TableArg};

/// A failure that ends the command: the message is printed as is, and the exit status is 2.
#[derive(Debug)]
pub struct Failure(pub String);

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure(e.to_string())
    }
}

/// Reads a text input: a file, or standard input for `-`. Returns the name to show in
/// messages and the text.
pub fn read_text(path: &Path, what: &str) -> Result<(String, String), Failure> {
    let name = path.display().to_string();
    if name == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure(format!("<stdin>: cannot read: {e}")))?;
        return Ok(("<stdin>".to_string(), s));
    }
    let bytes = std::fs::read(path).map_err(|e| Failure(format!("{name}: cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure(format!(
            "{name}: not UTF-8 text (byte offset {}): is this an {what} file?",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((name, text))
}

/// Reads and parses the ruleset named on the command line (and its ipsets, when given).
pub fn load_ruleset(args: &RulesetArgs) -> Result<Ruleset, Failure> {
    let (display, text) = read_text(&args.rules, "iptables-save")?;
    let opts = ParseOptions {
        family: if args.ipv6 {
            Family::Ipv6
        } else {
            Family::Ipv4
        },
        backend: match args.backend {
            BackendArg::Nft => Backend::Nft,
            BackendArg::Legacy => Backend::Legacy,
        },
    };
    let ruleset = parse_ruleset(&text, &display, opts).map_err(|d| Failure(d.to_string()))?;
    if let Some(path) = &args.ipsets {
        let (set_file, set_text) = read_text(path, "ipset save")?;
        let sets = IpSets::parse(&set_text, &set_file).map_err(|d| Failure(d.to_string()))?;
        let mut diags = Diagnostics::new(&display);
        validate_set_references(&ruleset, &sets, &text, &mut diags);
        if !diags.is_empty() {
            return Err(Failure(diags.to_string()));
        }
    }
    Ok(ruleset)
}

/// The ruleset for a replay: like [`load_ruleset`], and every set a rule names must be in
/// `--ipsets` (without it, there are none), as the kernel refuses to load rules naming sets
/// that do not exist.
pub fn load_ruleset_for_replay(args: &RulesetArgs) -> Result<Ruleset, Failure> {
    let ruleset = load_ruleset(args)?;
    if args.ipsets.is_none() {
        let (display, text) = read_text(&args.rules, "iptables-save")?;
        let none = IpSets::parse("", "<none>").map_err(|d| Failure(d.to_string()))?;
        let mut diags = Diagnostics::new(&display);
        validate_set_references(&ruleset, &none, &text, &mut diags);
        if !diags.is_empty() {
            return Err(Failure(format!(
                "{diags}\nthe ruleset names ipsets: give the machine's `ipset save` output with --ipsets FILE"
            )));
        }
    }
    Ok(ruleset)
}

/// The ipsets named on the command line (empty without `--ipsets`).
pub fn load_ipsets(args: &RulesetArgs) -> Result<IpSets, Failure> {
    match &args.ipsets {
        Some(path) => {
            let (file, text) = read_text(path, "ipset save")?;
            IpSets::parse(&text, &file).map_err(|d| Failure(d.to_string()))
        }
        None => IpSets::parse("", "<none>").map_err(|d| Failure(d.to_string())),
    }
}

/// The host model named on the command line, or the built-in Kubernetes node.
pub fn load_host(args: &crate::cli::HostArgs) -> Result<fwbench::host::Host, Failure> {
    use fwbench::host::Host;
    if let Some(path) = &args.host {
        return Host::from_toml_file(path).map_err(|e| Failure(e.to_string()));
    }
    if let Some(files) = &args.host_from_ip {
        return Host::from_ip_json_files(&files[0], &files[1], None)
            .map_err(|e| Failure(e.to_string()));
    }
    Ok(Host::kubernetes_node())
}

/// The replay configuration the ruleset flags and `--seed` ask for.
pub fn stack_config(args: &RulesetArgs, seed: u64) -> fwbench::netfilter::stack::Config {
    fwbench::netfilter::stack::Config {
        backend: match args.backend {
            BackendArg::Nft => Backend::Nft,
            BackendArg::Legacy => Backend::Legacy,
        },
        seed,
        ..fwbench::netfilter::stack::Config::default()
    }
}

pub fn table_kind(t: TableArg) -> TableKind {
    match t {
        TableArg::Filter => TableKind::Filter,
        TableArg::Nat => TableKind::Nat,
        TableArg::Mangle => TableKind::Mangle,
        TableArg::Raw => TableKind::Raw,
        TableArg::Security => TableKind::Security,
    }
}

/// Writes command output; a closed pipe (`fwbench list ... | head`) ends quietly.
pub fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        r => r.map_err(Failure::from),
    }
}

//! One file per subcommand: each turns validated arguments into library calls and output.

pub mod completions;
pub mod generate;
pub mod list;
pub mod save;

use std::io::Read;

use fwbench::rules::parse::{parse_ruleset, ParseOptions};
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

/// Reads and parses the ruleset named on the command line.
pub fn load_ruleset(args: &RulesetArgs) -> Result<Ruleset, Failure> {
    let name = args.rules.display().to_string();
    let text = if name == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure(format!("<stdin>: cannot read: {e}")))?;
        s
    } else {
        let bytes =
            std::fs::read(&args.rules).map_err(|e| Failure(format!("{name}: cannot read: {e}")))?;
        String::from_utf8(bytes).map_err(|e| {
            Failure(format!(
                "{name}: not UTF-8 text (byte offset {}): is this an iptables-save file?",
                e.utf8_error().valid_up_to()
            ))
        })?
    };
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
    let display = if name == "-" { "<stdin>" } else { &name };
    parse_ruleset(&text, display, opts).map_err(|d| Failure(d.to_string()))
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

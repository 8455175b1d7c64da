//! `fwbench list`: `iptables -L` for a ruleset file.

use fwbench::rules::list::{list, ListOptions};

use super::{emit, load_ruleset, table_kind, Failure};
use crate::cli::ListArgs;

pub fn run(args: &ListArgs) -> Result<(), Failure> {
    let ruleset = load_ruleset(&args.ruleset)?;
    let opts = ListOptions {
        verbose: args.verbose,
        numeric: args.numeric,
        exact: args.exact,
        line_numbers: args.line_numbers,
    };
    let kind = table_kind(args.table);
    let text = list(&ruleset, kind, args.chain.as_deref(), opts)
        .map_err(|e| Failure(format!("{}: {e} ({kind})", args.ruleset.rules.display())))?;
    emit(&text)
}

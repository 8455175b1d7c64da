//! `fwbench save`: `iptables-save` for a ruleset file.

use fwbench::rules::save::{save, SaveOptions};

use super::{emit, load_ruleset, table_kind, Failure};
use crate::cli::SaveArgs;

pub fn run(args: &SaveArgs) -> Result<(), Failure> {
    let ruleset = load_ruleset(&args.ruleset)?;
    let opts = SaveOptions {
        counters: args.counters,
        table: args.table.map(table_kind),
    };
    emit(&save(&ruleset, opts))
}

//! `fwbench save` and `fwbench check`.

use fwbench::rules::save::{save, SaveOptions};

use super::{emit, load_ruleset, table_kind, Failure};
use crate::cli::{CheckArgs, SaveArgs};

pub fn run(args: &SaveArgs) -> Result<(), Failure> {
    let ruleset = load_ruleset(&args.ruleset)?;
    let opts = SaveOptions {
        counters: args.counters,
        table: args.table.map(table_kind),
    };
    emit(&save(&ruleset, opts))
}

pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    load_ruleset(&args.ruleset).map(|_| ())
}

//! `fwbench check`: parse and validate, report every error, print nothing else.

use super::{load_ruleset, Failure};
use crate::cli::CheckArgs;

pub fn run(args: &CheckArgs) -> Result<(), Failure> {
    load_ruleset(&args.ruleset).map(|_| ())
}

//! `fwbench generate`: seeded kube-proxy-shaped rulesets.

use fwbench::gen::kube::{ruleset, KubeParams};

use super::{emit, Failure};
use crate::cli::GenerateArgs;

pub fn run(args: &GenerateArgs) -> Result<(), Failure> {
    emit(&ruleset(&KubeParams::for_rules(args.rules, args.seed)))
}

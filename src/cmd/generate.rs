//! `fwbench generate`: seeded kube-proxy-shaped rulesets of any size, and the shipped example
//! (rulesets/k8s-node.rules, captures/k8s-node.pcapng).

use std::fs::File;
use std::io::BufWriter;

use fwbench::gen::cluster::example_ruleset;
use fwbench::gen::kube::{ruleset, KubeParams};
use fwbench::gen::traffic::write_example_capture;

use super::{emit, Failure};
use crate::cli::GenerateArgs;

pub fn run(args: &GenerateArgs) -> Result<(), Failure> {
    if let Some(path) = &args.example_capture {
        let name = path.display();
        let file =
            File::create(path).map_err(|e| Failure(format!("{name}: cannot create: {e}")))?;
        write_example_capture(BufWriter::new(file), args.seed)
            .map_err(|e| Failure(format!("{name}: {e}")))?;
        if !args.example_ruleset {
            return Ok(());
        }
    }
    if args.example_ruleset {
        return emit(&example_ruleset());
    }
    emit(&ruleset(&KubeParams::for_rules(args.rules, args.seed)))
}

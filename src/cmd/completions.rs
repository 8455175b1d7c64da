//! `fwbench completions SHELL` and `fwbench man`: generated from the clap definition.

use clap::CommandFactory;

use super::Failure;
use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "fwbench", &mut buf);
    super::emit(&String::from_utf8_lossy(&buf))
}

pub fn man() -> Result<(), Failure> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
    super::emit(&String::from_utf8_lossy(&buf))
}

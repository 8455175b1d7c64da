//! The `fwbench` binary: parse the command line, run the subcommand, map the result to an
//! exit status (0 ok, 1 a check failed, 2 an error).

mod cli;
mod cmd;

use clap::Parser;

use cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::List(args) => cmd::list::run(args),
        Command::Save(args) => cmd::save::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Generate(args) => cmd::generate::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Trace(args) => cmd::trace::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Completions { shell } => cmd::completions::completions(*shell),
        Command::Man => cmd::completions::man(),
    };
    if let Err(cmd::Failure(message)) = result {
        eprintln!("{message}");
        std::process::exit(2);
    }
}

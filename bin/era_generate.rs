//! `era_generate`: see `era_generate --help`.

use clap::Parser;
use era_tools::cli::{self, exit, generate::GenerateArgs};
use era_tools::commands::generate;

fn main() -> std::process::ExitCode {
    let args = GenerateArgs::parse();
    let progress = cli::progress();
    let result = generate::run(&args.options(), &progress);
    drop(progress);
    exit::finish("era_generate", result)
}

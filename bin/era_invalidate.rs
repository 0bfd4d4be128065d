//! `era_invalidate`: see `era_invalidate --help`.

use clap::Parser;
use era_tools::cli::{self, exit, invalidate::InvalidateArgs};
use era_tools::commands::invalidate;

fn main() -> std::process::ExitCode {
    let args = InvalidateArgs::parse();
    let progress = cli::progress();
    let result = invalidate::run(&args.options(), &progress);
    drop(progress);
    exit::finish("era_invalidate", result)
}

//! `era_check`: see `era_check --help`.

use clap::Parser;
use era_tools::cli::{self, check::CheckArgs, exit};
use era_tools::commands::check;

fn main() -> std::process::ExitCode {
    let args = CheckArgs::parse();
    let progress = if args.quiet {
        era_tools::commands::progress::Progress::quiet()
    } else {
        cli::progress()
    };
    let result = check::run(
        &args.options(),
        &progress,
        &mut exit::prefixed_stderr("era_check"),
    );
    drop(progress);
    exit::finish("era_check", result)
}

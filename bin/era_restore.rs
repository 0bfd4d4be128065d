//! `era_restore`: see `era_restore --help`.

use clap::Parser;
use era_tools::cli::{self, exit, restore::RestoreArgs};
use era_tools::commands::{progress::Progress, restore};

fn main() -> std::process::ExitCode {
    let args = RestoreArgs::parse();
    cli::signals::remove_staging_on_signals();
    let progress = if args.quiet {
        Progress::quiet()
    } else {
        cli::progress()
    };
    let result = restore::run(&args.options(), &progress);
    drop(progress);
    exit::finish("era_restore", result)
}

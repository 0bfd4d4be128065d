//! `era_repair`: see `era_repair --help`.

use clap::Parser;
use era_tools::cli::{self, exit, repair::RepairArgs};
use era_tools::commands::{progress::Progress, repair};

fn main() -> std::process::ExitCode {
    let args = RepairArgs::parse();
    cli::signals::remove_staging_on_signals();
    let progress = if args.quiet {
        Progress::quiet()
    } else {
        cli::progress()
    };
    let result = repair::run(
        &args.options(),
        &progress,
        &mut exit::prefixed_stderr("era_repair"),
    );
    drop(progress);
    exit::finish("era_repair", result)
}

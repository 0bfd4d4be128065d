//! `era_invalidate`: see `era_invalidate --help`.

use clap::Parser;
use era_tools::cli::{self, exit, invalidate::InvalidateArgs};
use era_tools::commands::invalidate;

fn main() -> std::process::ExitCode {
    let args = InvalidateArgs::parse();
    cli::signals::remove_staging_on_signals();
    let opts = args.options().unwrap_or_else(|e| e.exit());
    let progress = cli::progress();
    let result = invalidate::run(
        &opts,
        &progress,
        &mut exit::prefixed_stderr("era_invalidate"),
    );
    drop(progress);
    exit::finish("era_invalidate", result)
}

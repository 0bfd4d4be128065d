//! `era_dump`: see `era_dump --help`.

use clap::Parser;
use era_tools::cli::{self, dump::DumpArgs, exit};
use era_tools::commands::dump;

fn main() -> std::process::ExitCode {
    let args = DumpArgs::parse();
    cli::signals::remove_staging_on_signals();
    let progress = cli::progress();
    let result = dump::run(
        &args.options(),
        &progress,
        &mut exit::prefixed_stderr("era_dump"),
    );
    drop(progress);
    exit::finish("era_dump", result)
}

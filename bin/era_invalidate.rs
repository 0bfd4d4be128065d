//! `era_invalidate`: see `era_invalidate --help`.

use clap::Parser;
use era_tools::cli::{self, exit, invalidate::InvalidateArgs};
use era_tools::commands::invalidate;

fn main() -> std::process::ExitCode {
    let args = InvalidateArgs::parse();
    cli::signals::remove_staging_on_signals();
    let opts = args.options().unwrap_or_else(|e| e.exit());
    let progress = cli::progress();
    let result = invalidate::run(&opts, &progress);
    drop(progress);
    if let Ok(outcome) = &result {
        if outcome.beyond_current_era() {
            eprintln!(
                "era_invalidate: warning: --written-since {} is beyond the current era {}: \
                 no block has been written in it yet, so the list is empty",
                outcome.written_since, outcome.current_era
            );
        }
    }
    exit::finish("era_invalidate", result.map(|_| ()))
}

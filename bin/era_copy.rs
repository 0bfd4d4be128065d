//! `era_copy`: see `era_copy --help`.

use clap::Parser;
use era_tools::cli::copy::CopyArgs;
use era_tools::cli::{self, exit};
use era_tools::commands::copy;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn main() -> std::process::ExitCode {
    let args = CopyArgs::parse();
    let interrupt = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Without the handler a signal still stops the copy, only less tidily.
        let _ = signal_hook::flag::register(sig, Arc::clone(&interrupt));
    }
    let job = args.job(interrupt).unwrap_or_else(|e| e.exit());
    let progress = cli::progress();
    let result = copy::run_job(
        &job,
        args.report.into(),
        &progress,
        &mut exit::prefixed_stderr("era_copy"),
    );
    drop(progress);
    exit::finish("era_copy", result)
}

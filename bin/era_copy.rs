//! `era_copy`: see `era_copy --help`.

use clap::Parser;
use era_tools::cli::copy::{CopyArgs, Job, ReportArg};
use era_tools::cli::{self, exit};
use era_tools::commands::copy::{self, Dest};
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
    let (result, delta_on_stdout) = match &job {
        Job::Copy(opts) => (
            copy::run(opts, &progress),
            opts.dest == Dest::Delta("-".into()),
        ),
        Job::Apply(opts) => (copy::apply(opts, &progress), false),
    };
    drop(progress);
    let report = match result {
        Ok(r) => r,
        Err(e) => return exit::finish("era_copy", Err(e)),
    };
    eprintln!("era_copy: {}", report.line());
    for f in &report.failed {
        eprintln!(
            "era_copy: could not read block {} (bytes {}..{} of the source)",
            f.block, f.begin, f.end
        );
    }
    if args.report == ReportArg::Json {
        if delta_on_stdout {
            eprintln!("{}", report.json());
        } else {
            println!("{}", report.json());
        }
    }
    if report.failed.is_empty() {
        std::process::ExitCode::from(exit::SUCCESS)
    } else {
        std::process::ExitCode::from(exit::FAILURE)
    }
}

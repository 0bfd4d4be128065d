//! `era_emulate`: see `era_emulate --help`.

use clap::Parser;
use era_tools::cli::{emulate::EmulateArgs, exit};
use era_tools::commands::emulate;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

const TOOL: &str = "era_emulate";

fn main() -> std::process::ExitCode {
    let args = EmulateArgs::parse();
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        // Only a server watches the flag; without the handler a signal still stops the
        // server, only less tidily.
        if args.is_serve() {
            let _ = signal_hook::flag::register(sig, Arc::clone(&stop));
        }
    }
    let result = emulate::run(
        &args.options(),
        &stop,
        &mut std::io::stdout().lock(),
        Box::new(exit::prefixed_stderr(TOOL)),
    );
    exit::finish(TOOL, result)
}

//! Exit codes, the same for every tool (documented in the README):
//! 0 success, 1 failure (damaged metadata, I/O error, bad input), 2 usage error.

use crate::error::Error;
use std::process::ExitCode;

/// Everything went well.
pub const SUCCESS: u8 = 0;
/// The work failed: damaged metadata, an I/O error, bad input.
pub const FAILURE: u8 = 1;
/// The command line was wrong (clap exits with this code itself).
pub const USAGE: u8 = 2;

/// Turns a command's outcome into an exit code, printing the error as one line on
/// standard error (nothing for a broken pipe).
pub fn finish(tool: &str, result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(SUCCESS),
        Err(Error::BrokenPipe) | Err(Error::CheckFailed) => ExitCode::from(FAILURE),
        Err(e) => {
            eprintln!("{tool}: {e}");
            ExitCode::from(FAILURE)
        }
    }
}

/// The exit-status paragraph shown at the end of every tool's help and man page.
pub const EXIT_STATUS_HELP: &str = "Exit status: 0 on success; 1 on failure (damaged metadata, an I/O error, bad input); 2 on a usage error.";

//! The command-line front end: argument definitions (the only module naming clap), the
//! exit-code table, progress on terminals, and (with the `docs` feature, for the golden
//! tests only) the man pages and shell completions generated from the argument
//! definitions.

pub mod check;
mod compat;
#[cfg(feature = "docs")]
mod complete;
pub mod copy;
#[cfg(feature = "docs")]
pub mod docs;
pub mod dump;
pub mod emulate;
mod examples;
pub mod exit;
pub mod generate;
pub mod invalidate;
#[cfg(feature = "docs")]
mod man;
pub mod metadata_size;
pub mod repair;
pub mod restore;
pub mod signals;

use crate::commands::progress::Progress;
use std::io::IsTerminal;

/// A spinner when standard error is a terminal, silence otherwise.
pub fn progress() -> Progress {
    if std::io::stderr().is_terminal() {
        Progress::spinner()
    } else {
        Progress::quiet()
    }
}

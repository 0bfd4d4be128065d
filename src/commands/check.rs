//! `era_check`: verify metadata and report every finding, one per line.

use super::input::open_for_view;
use super::progress::Progress;
use crate::commands::error::{Error, Result};
use crate::era::check::{check, CheckOptions};
use crate::era::superblock::says_not_metadata;
use std::io::Write;
use std::path::PathBuf;

/// What `era_check` was asked to do.
#[derive(Debug, Clone)]
pub struct CheckCommandOptions {
    pub input: PathBuf,
    /// Print nothing.
    pub quiet: bool,
    pub super_block_only: bool,
    /// Check the held metadata snapshot only (on a live device).
    pub metadata_snapshot: bool,
    /// Warnings alone do not make the check fail.
    pub ignore_non_fatal_errors: bool,
}

/// Runs the check, printing findings to `report`. Fails with [`Error::CheckFailed`]
/// when an error (or, unless ignored, a warning) was found.
pub fn run(opts: &CheckCommandOptions, progress: &Progress, report: &mut dyn Write) -> Result<()> {
    let io = open_for_view(&opts.input, opts.metadata_snapshot)?;
    progress.stage("checking metadata");
    let outcome = check(
        &io,
        &CheckOptions {
            super_block_only: opts.super_block_only,
            metadata_snapshot: opts.metadata_snapshot,
        },
    );
    if !opts.quiet {
        for f in &outcome.findings {
            writeln!(report, "{}", f.report_line()).map_err(|e| Error::output("-", e))?;
        }
    }
    let failed = outcome.has_errors() || (outcome.has_warnings() && !opts.ignore_non_fatal_errors);
    if failed {
        // Quiet prints nothing, the hint to era_repair included.
        let damaged = outcome
            .findings
            .iter()
            .any(|f| f.is_error() && !says_not_metadata(&f.message));
        Err(Error::CheckFailed {
            damaged: damaged && !opts.quiet,
        })
    } else {
        Ok(())
    }
}

//! `era_repair`: damaged metadata → salvaged metadata on another device. The input is
//! only read; the salvage reads it whole once (finding everything lost) before the
//! output is touched, and then the repaired metadata is read again from the input as it
//! is written, as `era_restore` writes, in memory that does not grow with the origin.

use super::input::open_metadata;
use super::output::refuse_output_is_input;
use super::progress::Progress;
use super::restore::open_output;
use crate::commands::error::{Error, Result};
use crate::era::repair::{salvage, RepairOptions, Repaired};
use crate::io::{FileIo, OpenMode};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `era_repair` was asked to do.
#[derive(Debug, Clone)]
pub struct RepairCmdOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// What the repair may assume (the origin block size and size, for an unreadable
    /// superblock).
    pub repair: RepairOptions,
    /// Print no report (errors are still printed).
    pub quiet: bool,
}

/// Salvages the metadata at `path` (opened for reading only, exclusively); the repaired
/// metadata is read from the device returned with it.
pub fn salvage_at(path: &Path, opts: &RepairOptions) -> Result<(FileIo, Repaired)> {
    let io = open_metadata(path, OpenMode::ReadExclusive)?;
    let repaired = salvage(&io, opts).map_err(|e| Error::era_input(path, e))?;
    Ok((io, repaired))
}

/// Prints what the salvage could not read and what it assumed on `report`, one line
/// each. A report that cannot be written is no reason to fail the repair.
pub fn report_salvage(report: &mut dyn Write, r: &Repaired) {
    for n in &r.notes {
        let _ = writeln!(report, "note: {n}");
    }
    for l in &r.losses {
        let _ = writeln!(report, "could not read: {l}");
    }
    if r.lossless {
        let _ = writeln!(report, "everything was read: nothing was lost");
    }
}

/// Runs the repair, printing what was salvaged and written on `report`.
pub fn run(opts: &RepairCmdOptions, progress: &Progress, report: &mut dyn Write) -> Result<()> {
    refuse_output_is_input(&opts.input, Some(&opts.output))?;
    progress.stage("salvaging metadata");
    let (input, repaired) = salvage_at(&opts.input, &opts.repair)?;
    let out = open_output(&opts.output)?;
    progress.stage("writing metadata");
    // Writing reads the input again (pass 1 read all of it once): a failure here is
    // the output's, but for metadata no output could hold (the input's).
    let summary = repaired
        .write(&input, &out)
        .map_err(|e| Error::era_output(&opts.input, &opts.output, e))?;
    drop(out);
    if opts.quiet {
        return Ok(());
    }
    report_salvage(report, &repaired);
    let _ = writeln!(
        report,
        "wrote {} metadata blocks; current era {}, {} origin blocks",
        summary.blocks_used, summary.superblock.current_era, summary.superblock.nr_blocks
    );
    Ok(())
}

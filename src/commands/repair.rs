//! `era_repair`: damaged metadata → salvaged metadata on another device. The input is
//! only read; the salvage reads it whole once (finding everything lost) before the
//! output is touched, and then the repaired metadata is read again from the input as it
//! is written, as `era_restore` writes, in memory that does not grow with the origin.

use super::input::open_metadata;
use super::output::refuse_output_is_input;
use super::progress::Progress;
use super::restore::open_output;
use crate::era::repair::{salvage, RepairOptions, Repaired};
use crate::error::Result;
use crate::io::{FileIo, OpenMode};
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
    let repaired = salvage(&io, opts)?;
    Ok((io, repaired))
}

/// Prints what the salvage could not read and what it assumed, one line each.
pub fn report(tool: &str, r: &Repaired) {
    for n in &r.notes {
        eprintln!("{tool}: note: {n}");
    }
    for l in &r.losses {
        eprintln!("{tool}: could not read: {l}");
    }
    if r.lossless {
        eprintln!("{tool}: everything was read: nothing was lost");
    }
}

/// Runs the repair.
pub fn run(opts: &RepairCmdOptions, progress: &Progress) -> Result<()> {
    refuse_output_is_input(&opts.input, Some(&opts.output))?;
    progress.stage("salvaging metadata");
    let (input, repaired) = salvage_at(&opts.input, &opts.repair)?;
    let out = open_output(&opts.output)?;
    progress.stage("writing metadata");
    let summary = repaired.write(&input, &out)?;
    drop(out);
    if opts.quiet {
        return Ok(());
    }
    report("era_repair", &repaired);
    eprintln!(
        "era_repair: wrote {} metadata blocks; current era {}, {} origin blocks",
        summary.blocks_used, summary.superblock.current_era, summary.superblock.nr_blocks
    );
    Ok(())
}

//! `era_repair`: damaged metadata → salvaged metadata on another device. The input is
//! only read; the whole salvage is done before the output is touched, and then the
//! writer writes it as `era_restore` does.

use super::input::open_metadata;
use super::progress::Progress;
use super::restore::open_output;
use crate::era::repair::{salvage, RepairOptions, Repaired};
use crate::era::restore::write_metadata;
use crate::error::{Error, Result};
use crate::io::OpenMode;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What `era_repair` was asked to do.
#[derive(Debug, Clone)]
pub struct RepairCmdOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// The origin block size, for an unreadable superblock.
    pub data_block_size: Option<u32>,
    /// Print no report (errors are still printed).
    pub quiet: bool,
}

/// Refuses an output that is the input (same file or device, however named).
fn refuse_same(input: &Path, output: &Path) -> Result<()> {
    let id = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.dev(), m.ino(), m.rdev()))
    };
    let (a, b) = (id(input), id(output));
    let same_device = |x: (u64, u64, u64), y: (u64, u64, u64)| x.2 != 0 && x.2 == y.2;
    if let (Some(a), Some(b)) = (a, b) {
        if (a.0, a.1) == (b.0, b.1) || same_device(a, b) {
            return Err(Error::BadOutput {
                path: output.to_path_buf(),
                reason: "is the input: era_repair never writes over the metadata it repairs; give another device or image".into(),
            });
        }
    }
    Ok(())
}

/// Salvages the metadata at `path` (opened for reading only, exclusively).
pub fn salvage_at(path: &Path, data_block_size: Option<u32>) -> Result<Repaired> {
    let io = open_metadata(path, OpenMode::ReadExclusive)?;
    Ok(salvage(&io, &RepairOptions { data_block_size })?)
}

/// Prints what the salvage could not read and what it assumed, one line each.
pub fn report(tool: &str, r: &Repaired) {
    for n in &r.notes {
        eprintln!("{tool}: note: {n}");
    }
    for l in &r.losses {
        eprintln!("{tool}: could not read: {l}");
    }
    if r.losses.is_empty() && !r.rebuilt_superblock {
        eprintln!("{tool}: everything was read: nothing was lost");
    }
}

/// Runs the repair.
pub fn run(opts: &RepairCmdOptions, progress: &Progress) -> Result<()> {
    refuse_same(&opts.input, &opts.output)?;
    progress.stage("salvaging metadata");
    let repaired = salvage_at(&opts.input, opts.data_block_size)?;
    let out = open_output(&opts.output)?;
    progress.stage("writing metadata");
    let summary = write_metadata(&out, &repaired.metadata)?;
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

//! `era_invalidate`: the blocks written since an era, as XML, `BEGIN END` lines or JSON,
//! in blocks, sectors or bytes.

mod chunks;
mod json;
mod offsets;
mod ranges;

pub use json::View;
pub use offsets::{OffsetError, Scale, Unit};

use super::input::open_view_at;
use super::output::{refuse_output_is_input, Output};
use super::progress::Progress;
use crate::commands::error::{Error, Result};
use crate::era::invalidate::written_since_set;
use crate::xml::{push_block_run, BLOCKS_HEAD, BLOCKS_TAIL};
use std::io::Write;
use std::path::PathBuf;

/// How the list is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `<blocks>` with range and block elements, in blocks (as thin-provisioning-tools).
    #[default]
    Xml,
    /// One `BEGIN END` line per run, END exclusive.
    Ranges,
    /// One JSON object with the geometry, the current era and the runs.
    Json,
}

/// What `era_invalidate` was asked to do.
#[derive(Debug, Clone)]
pub struct InvalidateOptions {
    pub input: PathBuf,
    pub output: Option<PathBuf>,
    /// List blocks whose era is at least this.
    pub written_since: u32,
    /// Read through the held metadata snapshot (works on a live device).
    pub metadata_snapshot: bool,
    pub format: Format,
    /// The unit of the ranges and JSON offsets (the XML is always in blocks).
    pub unit: Unit,
    /// The table's length in sectors, to clamp the last block's end.
    pub length: Option<u64>,
}

/// Runs the listing. The set of blocks is computed as bitsets straight from the disk
/// ([`written_since_set`]) and its runs are formatted in parallel chunks, written in
/// order. A threshold beyond the current era (so that the list is empty) is warned of on
/// `report`.
pub fn run(opts: &InvalidateOptions, progress: &Progress, report: &mut dyn Write) -> Result<()> {
    refuse_output_is_input(&opts.input, opts.output.as_deref())?;
    progress.stage("reading metadata");
    let (io, view) = open_view_at(&opts.input, opts.metadata_snapshot)?;
    let sb = &view.sb;
    let header = json::Header {
        view: if opts.metadata_snapshot {
            View::Snapshot
        } else {
            View::Live
        },
        block_size: sb.data_block_size,
        nr_blocks: sb.nr_blocks,
        current_era: sb.current_era.get(),
        written_since: opts.written_since,
    };
    let set = written_since_set(&io, &view, opts.written_since)
        .map_err(|e| Error::era_input(&opts.input, e))?;
    drop(io);
    let scale = Scale::new(opts.unit, header.block_size, header.nr_blocks, opts.length)?;
    let mut out = Output::open(opts.output.as_deref())?;
    let name = out.name().to_string();
    let written = match opts.format {
        Format::Xml => out.write_all(BLOCKS_HEAD).and_then(|()| {
            chunks::write_runs(&mut out, &set, 0, |buf, num, run| {
                push_block_run(buf, num, run)
            })?;
            out.write_all(BLOCKS_TAIL)
        }),
        Format::Ranges => chunks::write_runs(&mut out, &set, 0, |buf, num, run| {
            ranges::push_range(buf, num, &scale, run)
        }),
        Format::Json => json::json_head(&header, &scale).and_then(|head| {
            out.write_all(&head)?;
            // The first run's comma goes.
            chunks::write_runs(&mut out, &set, 1, |buf, num, run| {
                json::push_json_run(buf, num, &scale, run)
            })?;
            out.write_all(json::JSON_TAIL)
        }),
    };
    written.map_err(|e| Error::output(&name, e))?;
    out.commit()?;
    if opts.written_since > header.current_era {
        // A warning that cannot be printed is no reason to fail the listing.
        let _ = writeln!(
            report,
            "warning: --written-since {} is beyond the current era {}: \
             no block has been written in it yet, so the list is empty",
            opts.written_since, header.current_era
        );
    }
    Ok(())
}

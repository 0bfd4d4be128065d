//! `era_invalidate`: the blocks written since an era, as XML, `BEGIN END` lines or JSON,
//! in blocks, sectors or bytes.

mod json;
mod offsets;
mod ranges;

pub use json::View;
pub use offsets::{OffsetError, Scale, Unit};

use super::input::read_metadata_at;
use super::output::Output;
use super::progress::Progress;
use crate::era::invalidate::written_since;
use crate::error::{Error, Result};
use crate::xml::write_blocks;
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

/// What the listing found that the user should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidateOutcome {
    /// The current era of the view read.
    pub current_era: u32,
    /// The threshold asked for.
    pub written_since: u32,
}

impl InvalidateOutcome {
    /// Whether the threshold is beyond the current era, so that no block can qualify.
    pub fn beyond_current_era(&self) -> bool {
        self.written_since > self.current_era
    }
}

/// Runs the listing.
pub fn run(opts: &InvalidateOptions, progress: &Progress) -> Result<InvalidateOutcome> {
    progress.stage("reading metadata");
    let md = read_metadata_at(&opts.input, opts.metadata_snapshot)?;
    let sb = &md.superblock;
    let header = json::Header {
        view: if opts.metadata_snapshot {
            View::Snapshot
        } else {
            View::Live
        },
        block_size: sb.block_size,
        nr_blocks: sb.nr_blocks,
        current_era: sb.current_era,
        written_since: opts.written_since,
    };
    let scale = Scale::new(opts.unit, sb.block_size, sb.nr_blocks, opts.length)?;
    let runs = written_since(md, opts.written_since);
    let mut out = Output::open(opts.output.as_deref())?;
    let name = out.name().to_string();
    match opts.format {
        Format::Xml => write_blocks(&mut out, &runs),
        Format::Ranges => ranges::write_ranges(&mut out, &runs, &scale),
        Format::Json => json::write_json(&mut out, &header, &runs, &scale),
    }
    .map_err(|e| Error::output(&name, e))?;
    out.commit()?;
    Ok(InvalidateOutcome {
        current_era: header.current_era,
        written_since: opts.written_since,
    })
}

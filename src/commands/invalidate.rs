//! `era_invalidate`: the blocks written since an era, as XML.

use super::input::open_metadata;
use super::output::Output;
use super::progress::Progress;
use crate::era::invalidate::written_since;
use crate::era::metadata::{open_view, read_metadata, Source};
use crate::error::{Error, Result};
use crate::io::OpenMode;
use crate::xml::write_blocks;
use std::path::PathBuf;

/// What `era_invalidate` was asked to do.
#[derive(Debug, Clone)]
pub struct InvalidateOptions {
    pub input: PathBuf,
    pub output: Option<PathBuf>,
    /// List blocks whose era is at least this.
    pub written_since: u32,
    /// Read through the held metadata snapshot (works on a live device).
    pub metadata_snapshot: bool,
}

/// Runs the listing.
pub fn run(opts: &InvalidateOptions, progress: &Progress) -> Result<()> {
    let (mode, source) = if opts.metadata_snapshot {
        (OpenMode::ReadShared, Source::Snapshot)
    } else {
        (OpenMode::ReadExclusive, Source::Live)
    };
    let io = open_metadata(&opts.input, mode)?;
    progress.stage("reading metadata");
    let view = open_view(&io, source)?;
    let md = read_metadata(&io, &view)?;
    let runs = written_since(md, opts.written_since);
    let mut out = Output::open(opts.output.as_deref())?;
    let name = out.name().to_string();
    write_blocks(&mut out, &runs).map_err(|e| Error::output(&name, e))?;
    out.commit()
}

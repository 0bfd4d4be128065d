//! `era_invalidate`: the blocks written since an era, as XML.

use super::input::read_metadata_at;
use super::output::Output;
use super::progress::Progress;
use crate::era::invalidate::written_since;
use crate::error::{Error, Result};
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
    progress.stage("reading metadata");
    let md = read_metadata_at(&opts.input, opts.metadata_snapshot)?;
    let runs = written_since(md, opts.written_since);
    let mut out = Output::open(opts.output.as_deref())?;
    let name = out.name().to_string();
    write_blocks(&mut out, &runs).map_err(|e| Error::output(&name, e))?;
    out.commit()
}

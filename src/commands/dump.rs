//! `era_dump`: binary metadata → XML.

use super::input::open_metadata;
use super::output::Output;
use super::progress::Progress;
use crate::era::metadata::{open_view, read_metadata, Source};
use crate::error::{Error, Result};
use crate::io::OpenMode;
use crate::xml::{XmlStyle, XmlWriter};
use std::path::PathBuf;

/// What `era_dump` was asked to do.
#[derive(Debug, Clone)]
pub struct DumpOptions {
    pub input: PathBuf,
    pub output: Option<PathBuf>,
    /// Fold the writesets into the era array and print that alone.
    pub logical: bool,
    /// Writesets as runs of marked blocks.
    pub compact: bool,
    /// Read through the held metadata snapshot.
    pub metadata_snapshot: bool,
}

/// Runs the dump.
pub fn run(opts: &DumpOptions, progress: &Progress) -> Result<()> {
    let (mode, source) = if opts.metadata_snapshot {
        (OpenMode::ReadShared, Source::Snapshot)
    } else {
        (OpenMode::ReadExclusive, Source::Live)
    };
    let io = open_metadata(&opts.input, mode)?;
    progress.stage("reading metadata");
    let view = open_view(&io, source)?;
    let md = read_metadata(&io, &view)?;
    let md = if opts.logical { md.into_logical() } else { md };
    progress.stage("writing XML");
    let out = Output::open(opts.output.as_deref())?;
    let name = out.name().to_string();
    let style = if opts.compact {
        XmlStyle::Compact
    } else {
        XmlStyle::Verbose
    };
    let mut w = XmlWriter::new(out, style);
    md.visit(&mut w).map_err(|e| Error::output(&name, e))?;
    w.into_inner()
        .map_err(|e| Error::output(&name, e))?
        .commit()
}

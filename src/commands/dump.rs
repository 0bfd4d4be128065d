//! `era_dump`: binary metadata → XML.

use super::counted::Counted;
use super::input::open_view_at;
use super::output::{refuse_output_is_input, Output};
use super::progress::{Progress, Unit};
use super::repair::{report, salvage_at};
use crate::era::repair::{Feed, RepairOptions};
use crate::era::stream::{MetadataStream, Shape, StreamError};
use crate::error::{Error, Result};
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
    /// Salvage damaged metadata instead of failing on it.
    pub repair: bool,
    /// With `repair`: the origin block size, for an unreadable superblock.
    pub data_block_size: Option<u32>,
    /// With `repair`: the origin size, for an unreadable superblock.
    pub nr_blocks: Option<u32>,
}

/// Runs the dump: streamed from the disk as it is read, or, with `repair`, salvaged
/// first (every block read once to find what is lost) and then streamed.
pub fn run(opts: &DumpOptions, progress: &Progress) -> Result<()> {
    let style = if opts.compact {
        XmlStyle::Compact
    } else {
        XmlStyle::Verbose
    };
    refuse_output_is_input(&opts.input, opts.output.as_deref())?;
    if opts.repair {
        return run_repair(opts, style, progress);
    }
    progress.stage("reading metadata");
    let (io, view) = open_view_at(&opts.input, opts.metadata_snapshot)?;
    let shape = if opts.logical {
        Shape::Logical
    } else {
        Shape::Full
    };
    let stream = MetadataStream::open(&io, &view, shape)?;
    progress.stage_of("writing XML", stream.entries(), Unit::Entries);
    let out = Output::open(opts.output.as_deref())?;
    let name = out.name().to_string();
    let mut w = Counted {
        inner: XmlWriter::new(out, style),
        progress,
    };
    // On the thread pool, so that the writer's joins between batches are cheap.
    rayon::scope(|_| stream.run(&mut w)).map_err(|e| match e {
        StreamError::Read(e) => Error::from(e),
        StreamError::Visit(e) => Error::output(&name, e),
    })?;
    w.inner
        .into_inner()
        .map_err(|e| Error::output(&name, e))?
        .commit()
}

/// `--repair`: the salvage reads the input once to find what is lost, then streams the
/// repaired metadata from it as the XML is written.
fn run_repair(opts: &DumpOptions, style: XmlStyle, progress: &Progress) -> Result<()> {
    progress.stage("reading metadata");
    let repair = RepairOptions {
        data_block_size: opts.data_block_size,
        nr_blocks: opts.nr_blocks,
    };
    let (io, repaired) = salvage_at(&opts.input, &repair)?;
    report("era_dump", &repaired);
    let shape = if opts.logical {
        Shape::Logical
    } else {
        Shape::Full
    };
    progress.stage_of("writing XML", repaired.plan.entries(shape), Unit::Entries);
    let out = Output::open(opts.output.as_deref())?;
    let name = out.name().to_string();
    let mut w = Counted {
        inner: XmlWriter::new(out, style),
        progress,
    };
    repaired
        .stream(&io, &mut w, shape, Feed::Words)
        .map_err(|e| Error::output(&name, e))?;
    w.inner
        .into_inner()
        .map_err(|e| Error::output(&name, e))?
        .commit()
}

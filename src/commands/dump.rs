//! `era_dump`: binary metadata → XML.

use super::counted::Counted;
use super::input::open_view_at;
use super::output::{refuse_output_is_input, Output};
use super::progress::{Progress, Unit};
use super::repair::{report_salvage, salvage_at};
use crate::commands::error::{Error, Result};
use crate::era::repair::{Feed, RepairOptions};
use crate::era::stream::{MetadataStream, Shape, StreamError};
use crate::xml::{XmlStyle, XmlWriter};
use std::io::Write;
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
/// first (every block read once to find what is lost) and then streamed (what the
/// salvage could not read is printed on `report`).
pub fn run(opts: &DumpOptions, progress: &Progress, report: &mut dyn Write) -> Result<()> {
    let style = if opts.compact {
        XmlStyle::Compact
    } else {
        XmlStyle::Verbose
    };
    refuse_output_is_input(&opts.input, opts.output.as_deref())?;
    if opts.repair {
        return run_repair(opts, style, progress, report);
    }
    progress.stage("reading metadata");
    let (io, view) = open_view_at(&opts.input, opts.metadata_snapshot)?;
    let shape = if opts.logical {
        Shape::Logical
    } else {
        Shape::Full
    };
    let stream =
        MetadataStream::open(&io, &view, shape).map_err(|e| Error::era_input(&opts.input, e))?;
    write_xml(opts, style, progress, stream.entries(), |w, name| {
        // On the thread pool, so that the writer's joins between batches are cheap.
        rayon::scope(|_| stream.run(w)).map_err(|e| match e {
            StreamError::Read(e) => Error::era_input(&opts.input, e),
            StreamError::Visit(e) => Error::output(name, e),
        })
    })
}

/// The XML writer of a dump, counting its entries as progress.
type DumpWriter<'a> = Counted<'a, XmlWriter<Output>>;

/// Opens the output, lets `visit` write `entries` entries of XML to it (given the
/// output's name for its errors), and commits it once everything was written.
fn write_xml(
    opts: &DumpOptions,
    style: XmlStyle,
    progress: &Progress,
    entries: u64,
    visit: impl FnOnce(&mut DumpWriter<'_>, &str) -> Result<()>,
) -> Result<()> {
    progress.stage_of("writing XML", entries, Unit::Entries);
    let out = Output::open(opts.output.as_deref())?;
    let name = out.name().to_string();
    let mut w = Counted {
        inner: XmlWriter::new(out, style),
        progress,
    };
    visit(&mut w, &name)?;
    w.inner
        .into_inner()
        .map_err(|e| Error::output(&name, e))?
        .commit()
}

/// `--repair`: the salvage reads the input once to find what is lost, then streams the
/// repaired metadata from it as the XML is written.
fn run_repair(
    opts: &DumpOptions,
    style: XmlStyle,
    progress: &Progress,
    report: &mut dyn Write,
) -> Result<()> {
    progress.stage("reading metadata");
    let repair = RepairOptions {
        data_block_size: opts.data_block_size,
        nr_blocks: opts.nr_blocks,
    };
    let (io, repaired) = salvage_at(&opts.input, &repair)?;
    report_salvage(report, &repaired);
    let shape = if opts.logical {
        Shape::Logical
    } else {
        Shape::Full
    };
    let entries = repaired.plan.entries(shape);
    write_xml(opts, style, progress, entries, |w, name| {
        repaired
            .stream(&io, w, shape, Feed::Words)
            .map_err(|e| Error::output(name, e))
    })
}

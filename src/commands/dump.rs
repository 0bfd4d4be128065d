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
use std::path::{Path, PathBuf};

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
        rayon::scope(|_| stream.run(w)).map_err(|e| stream_error(&opts.input, name, e))
    })
}

/// A stream's failure: reading the input (named with the block), or writing the XML to
/// the output `name`.
fn stream_error(input: &Path, name: &str, e: StreamError<std::io::Error>) -> Error {
    match e {
        StreamError::Read(e) => Error::era_input(input, e),
        StreamError::Visit(e) => Error::output(name, e),
    }
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
            .map_err(|e| stream_error(&opts.input, name, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::repair::tests::{sample, FailLater};
    use crate::era::repair::salvage;

    /// A writer that takes nothing.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(28))
        }
    }

    /// The message of a repaired dump of `io`, salvaged first, then read with `fail`
    /// done, to `out`.
    fn repaired_dump<W: Write + Send>(io: &FailLater, fail: bool, out: W) -> String {
        let r = salvage(io, &RepairOptions::default()).unwrap();
        if fail {
            io.fail_an_era_array_block();
        }
        let mut w = XmlWriter::new(out, XmlStyle::Compact);
        let e = r
            .stream(io, &mut w, Shape::Full, Feed::Words)
            .and_then(|()| w.into_inner().map(drop).map_err(StreamError::Visit))
            .map_err(|e| stream_error(Path::new("damaged.img"), "out.xml", e))
            .unwrap_err();
        e.to_string()
    }

    #[test]
    fn an_input_that_fails_after_the_salvage_is_named_as_the_input() {
        let e = repaired_dump(&FailLater::new(sample()), true, Vec::new());
        assert!(e.starts_with("damaged.img: block "), "{e}");
        assert!(e.contains(": reading failed"), "{e}");
    }

    #[test]
    fn an_output_that_fails_is_named_as_the_output() {
        let e = repaired_dump(&FailLater::new(sample()), false, Full);
        assert!(e.starts_with("out.xml: "), "{e}");
    }
}

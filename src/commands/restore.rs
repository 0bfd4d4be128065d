//! `era_restore`: XML → binary metadata, written as the XML is read
//! ([`StreamWriter`]): the writer invalidates block 0, writes every other block as its
//! input arrives, flushes, and writes the superblock last. A regular-file output is
//! written through a staging file beside it and copied in only once the whole input is
//! read and checked (`staged`); a block device holds back metadata of up to
//! [`HOLD_BLOCKS`] blocks the same way, and past that is written as the input arrives.

mod staged;

use super::output::refuse_output_is_input;
use super::progress::{Progress, Unit};
use crate::commands::error::{Error, Result};
use crate::era::restore::StreamWriter;
use crate::io::{BlockIo, FileIo, OpenMode};
use crate::xml::read_xml;
use staged::StagedIo;
use std::fs::File;
use std::io::BufReader;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// Blocks of writes held back before the first reaches the output (16 MiB).
pub const HOLD_BLOCKS: usize = 4096;

/// What `era_restore` was asked to do.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// The XML to read.
    pub input: PathBuf,
    /// An existing file or block device to write the metadata to.
    pub output: PathBuf,
}

/// Opens the output: it must exist and be a regular file or a block device (opened
/// exclusively). Nothing is written here.
pub fn open_output(path: &Path) -> Result<FileIo> {
    let bad = |reason: String| Error::BadOutput {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            bad("does not exist; the output must be an existing file or device (create an image with `truncate -s SIZE FILE`)".into())
        } else {
            bad(e.to_string())
        }
    })?;
    if !(meta.is_file() || meta.file_type().is_block_device()) {
        return Err(bad("is neither a regular file nor a block device".into()));
    }
    FileIo::open(path, OpenMode::WriteExclusive).map_err(|e| bad(e.to_string()))
}

/// Runs the restore.
pub fn run(opts: &RestoreOptions, progress: &Progress) -> Result<()> {
    refuse_output_is_input(&opts.input, Some(&opts.output))?;
    let input = File::open(&opts.input).map_err(|source| Error::InputIo {
        path: opts.input.clone(),
        source,
    })?;
    if input.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Error::Input {
            path: opts.input.clone(),
            reason: "is a directory, not an XML file".into(),
        });
    }
    let out = open_output(&opts.output)?;
    let staged = stage_for(&opts.output, &out);
    let io: &dyn BlockIo = match &staged {
        Some(s) => s,
        None => &out,
    };
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    if size > 0 {
        progress.stage_of("reading XML", size, Unit::Bytes);
    } else {
        progress.stage("reading XML");
    }
    // The output's size bounds what the input may declare. The reader asks for whole
    // chunks, which a `BufReader` of default size passes through without a copy (a larger
    // one, once out of step with them, copies every byte).
    let input = BufReader::new(progress.reader(input));
    let mut writer = StreamWriter::new(io, HOLD_BLOCKS);
    if let Err(source) = read_xml(input, &mut writer) {
        return Err(match writer.take_failure() {
            Some(e) => Error::era_output(&opts.input, &opts.output, e),
            None => Error::Xml {
                path: opts.input.clone(),
                source,
            },
        });
    }
    progress.stage("writing metadata");
    writer
        .finish()
        .map_err(|e| Error::era_output(&opts.input, &opts.output, e))?;
    if let Some(staged) = staged {
        progress.stage("copying into the output");
        staged
            .copy_into(&out)
            .map_err(|e| Error::output(&opts.output.display().to_string(), e))?;
    }
    Ok(())
}

/// A staging image beside a regular-file output, so that the output is written only once
/// the whole input has been read and checked. A block device is written in place (its
/// writes held back up to [`HOLD_BLOCKS`], then block 0 marked as an interrupted
/// restore until the end), as is a file whose directory takes no temporary file.
fn stage_for(path: &Path, out: &FileIo) -> Option<StagedIo> {
    let is_file = std::fs::metadata(path)
        .map(|m| m.is_file())
        .unwrap_or(false);
    if !is_file {
        return None;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    StagedIo::beside(dir, out.nr_blocks()).ok()
}

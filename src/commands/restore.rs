//! `era_restore`: XML → binary metadata, written as the XML is read
//! ([`StreamWriter`]): the writer invalidates block 0, writes every other block as its
//! input arrives, flushes, and writes the superblock last. Metadata of up to
//! [`HOLD_BLOCKS`] blocks is written only once the whole input is read and checked.

use super::progress::{Progress, Unit};
use crate::era::restore::StreamWriter;
use crate::error::{Error, Result};
use crate::io::{FileIo, OpenMode};
use crate::xml::read_xml;
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
    let io = open_output(&opts.output)?;
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
    let mut writer = StreamWriter::new(&io, HOLD_BLOCKS);
    if let Err(source) = read_xml(input, &mut writer) {
        return Err(match writer.take_failure() {
            Some(e) => Error::Era(e),
            None => Error::Xml {
                path: opts.input.clone(),
                source,
            },
        });
    }
    progress.stage("writing metadata");
    writer.finish()?;
    Ok(())
}

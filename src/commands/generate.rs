//! `era_generate`: synthetic era metadata ([`crate::era::generate`]) written to an image
//! file, created or grown to the size asked for, or to a block device.

use super::error::{Error, Result};
use super::progress::Progress;
use crate::era::generate::{generate, GenerateParams};
use crate::era::ir::EraMetadata;
use crate::era::restore::{bytes_needed, write_metadata, WriteSummary};
use crate::io::{FileIo, OpenMode};
use std::path::{Path, PathBuf};

/// What `era_generate` was asked to do.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// What to generate.
    pub params: GenerateParams,
    /// The smallest size of an image file, in bytes (it is never made smaller than the
    /// metadata needs).
    pub meta_size: Option<u64>,
    /// The image file or block device written.
    pub output: PathBuf,
}

/// Generates the metadata and writes it to the output.
pub fn run(opts: &GenerateOptions, progress: &Progress) -> Result<()> {
    progress.stage("generating metadata");
    let md = generate(&opts.params).map_err(|source| Error::BadParams { source })?;
    progress.stage("writing metadata");
    write_to_file(&opts.output, &md, opts.meta_size)?;
    Ok(())
}

/// Writes `md` to the file at `path`, creating it or extending it to at least
/// `min_size` bytes and at least the size the metadata needs (an existing larger file
/// keeps its size; a block device is written as it is, and the writer says if it is too
/// small).
pub fn write_to_file(path: &Path, md: &EraMetadata, min_size: Option<u64>) -> Result<WriteSummary> {
    let needed = bytes_needed(md).ok_or_else(|| Error::BadOutput {
        path: path.to_path_buf(),
        reason: "the metadata is larger than any metadata device can hold".into(),
    })?;
    let file_err = |source| Error::Output {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(file_err)?;
    let meta = file.metadata().map_err(file_err)?;
    let want = needed.max(min_size.unwrap_or(0));
    if meta.is_file() && meta.len() < want {
        file.set_len(want).map_err(file_err)?;
    }
    drop(file);
    let io = FileIo::open(path, OpenMode::WriteExclusive).map_err(file_err)?;
    write_metadata(&io, md).map_err(|e| Error::era_output(path, path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::era::metadata::{open_view, read_metadata, Source};

    #[test]
    fn a_generated_file_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta");
        let p = GenerateParams {
            nr_blocks: 5000,
            block_size: 128,
            current_era: 100,
            nr_writesets: 4,
            density: 0.1,
            seed: 42,
        };
        let md = generate(&p).unwrap();
        let s = write_to_file(&path, &md, None).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(Some(len), bytes_needed(&md));
        assert_eq!(s.blocks_managed * 4096, len);
        let io = FileIo::open(&path, OpenMode::ReadShared).unwrap();
        let view = open_view(&io, Source::Live).unwrap();
        assert_eq!(read_metadata(&io, &view).unwrap(), md);
        // A larger minimum size is honoured.
        write_to_file(&path, &md, Some(1 << 20)).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 20);
    }
}

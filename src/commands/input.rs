//! Input checks every tool makes before reading: the path exists, is not a directory,
//! holds at least one metadata block, and is binary metadata rather than XML.

use crate::era::ir::EraMetadata;
use crate::era::metadata::{open_view, read_metadata, Source};
use crate::error::{Error, Result};
use crate::io::{BlockIo, FileIo, OpenMode};
use crate::units::BLOCK_SIZE;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// Opens the metadata at `path` and reads the live view, or the held snapshot's
/// (without an exclusive open, so that it works on a live device).
pub fn read_metadata_at(path: &Path, snapshot: bool) -> Result<EraMetadata> {
    let (mode, source) = if snapshot {
        (OpenMode::ReadShared, Source::Snapshot)
    } else {
        (OpenMode::ReadExclusive, Source::Live)
    };
    let io = open_metadata(path, mode)?;
    let view = open_view(&io, source)?;
    Ok(read_metadata(&io, &view)?)
}

/// Opens binary metadata at `path` for reading, after the input checks.
pub fn open_metadata(path: &Path, mode: OpenMode) -> Result<FileIo> {
    let input_err = |reason: String| Error::Input {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|source| Error::InputIo {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        return Err(input_err(
            "is a directory, not a metadata device or image".into(),
        ));
    }
    let ft = meta.file_type();
    if !(meta.is_file() || ft.is_block_device()) {
        return Err(input_err(
            "is neither a regular file nor a block device".into(),
        ));
    }
    let io = FileIo::open(path, mode).map_err(|source| Error::InputIo {
        path: path.to_path_buf(),
        source,
    })?;
    if io.nr_blocks() == 0 {
        let size = if meta.is_file() { meta.len() } else { 0 };
        return Err(input_err(format!(
            "is {size} bytes, smaller than one {BLOCK_SIZE}-byte metadata block"
        )));
    }
    let mut first = [0u8; BLOCK_SIZE];
    io.read_block(0, &mut first)
        .map_err(|source| Error::InputIo {
            path: path.to_path_buf(),
            source,
        })?;
    if looks_like_xml(&first) {
        return Err(input_err(
            "looks like XML, not binary metadata (era_restore turns XML into metadata)".into(),
        ));
    }
    Ok(io)
}

/// Whether a block starts (after white space) with `<`, as XML does.
fn looks_like_xml(block: &[u8]) -> bool {
    let text = block
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &block[i..]);
    matches!(text, Some(t) if t.starts_with(b"<"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_recognised() {
        assert!(looks_like_xml(b"  \n<superblock uuid=\"\""));
        assert!(looks_like_xml(b"<?xml version=\"1.0\"?>"));
        assert!(!looks_like_xml(&[0x1c, 0x58, 0x76, 0x50]));
        assert!(!looks_like_xml(&[0u8; 16]));
    }
}

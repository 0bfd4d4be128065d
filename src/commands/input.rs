//! Input checks every tool makes before reading: the path exists, is not a directory,
//! holds at least one metadata block, and is binary metadata rather than XML.

use crate::commands::error::{Error, Result};
use crate::era::metadata::{open_view, Source, View};
use crate::era::superblock::{Superblock, SUPERBLOCK_LOCATION};
use crate::io::{BlockIo, FileIo, OpenMode};
use crate::units::{BlockBuf, BLOCK_SIZE};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// How a reader opens the metadata for the view it reads: the live view under an
/// exclusive open, or (`snapshot`) the held metadata snapshot's view, opened shared so
/// that it works on a live device.
fn read_mode(snapshot: bool) -> (OpenMode, Source) {
    if snapshot {
        (OpenMode::ReadShared, Source::Snapshot)
    } else {
        (OpenMode::ReadExclusive, Source::Live)
    }
}

/// Opens the metadata at `path` for reading the live view, or (`snapshot`) the held
/// snapshot's, after the input checks.
pub fn open_for_view(path: &Path, snapshot: bool) -> Result<FileIo> {
    open_metadata(path, read_mode(snapshot).0)
}

/// Opens the metadata at `path` and the live view, or the held snapshot's (without an
/// exclusive open, so that it works on a live device).
pub fn open_view_at(path: &Path, snapshot: bool) -> Result<(FileIo, View)> {
    let (mode, source) = read_mode(snapshot);
    let io = open_metadata(path, mode)?;
    let view = open_view(&io, source).map_err(|e| Error::era_input(path, e))?;
    Ok((io, view))
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
    io.read_block(SUPERBLOCK_LOCATION, &mut first)
        .map_err(|source| Error::InputIo {
            path: path.to_path_buf(),
            source,
        })?;
    if is_xml_not_metadata(&first) {
        return Err(input_err(
            "looks like XML, not binary metadata (era_restore turns XML into metadata)".into(),
        ));
    }
    Ok(io)
}

/// Whether block 0 is XML rather than metadata. The superblock decides first: a block
/// that is a valid superblock is metadata whatever its first bytes are (its checksum
/// comes first, and about one checksum in 250 starts with `<`). Only a block that is not
/// a superblock, and whose start really is XML markup, is called XML.
fn is_xml_not_metadata(block0: &BlockBuf) -> bool {
    Superblock::unpack(block0, SUPERBLOCK_LOCATION).is_err() && looks_like_xml(block0)
}

/// Bytes of the block's start that must be text for it to count as XML.
const XML_PROBE: usize = 64;

/// Whether a block starts (after white space and an optional UTF-8 byte-order mark) with
/// XML markup: `<` then `?`, `!` or a name's first letter, and no control byte other
/// than white space within the first 64 bytes.
fn looks_like_xml(block: &[u8]) -> bool {
    let block = block.strip_prefix(b"\xef\xbb\xbf").unwrap_or(block);
    let Some(start) = block.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    let text = &block[start..];
    let markup = match text {
        [b'<', next, ..] => *next == b'?' || *next == b'!' || next.is_ascii_alphabetic(),
        _ => false,
    };
    markup
        && text
            .iter()
            .take(XML_PROBE)
            .all(|&b| b >= 0x20 || b.is_ascii_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_recognised() {
        assert!(looks_like_xml(b"  \n<superblock uuid=\"\""));
        assert!(looks_like_xml(b"<?xml version=\"1.0\"?>"));
        assert!(looks_like_xml(b"\xef\xbb\xbf<!-- era -->\n<superblock"));
        assert!(!looks_like_xml(&[0x1c, 0x58, 0x76, 0x50]));
        assert!(!looks_like_xml(&[0u8; 16]));
    }

    #[test]
    fn a_checksum_starting_with_a_bracket_is_not_markup() {
        // A superblock's first bytes are its checksum, then zero flags.
        assert!(!looks_like_xml(&[0x3c, 0x4b, 0x84, 0xf4, 0, 0, 0, 0]));
        assert!(!looks_like_xml(b"<K\x84\xf4\0\0\0\0"));
        assert!(!looks_like_xml(b" <\x01abc"));
    }

    #[test]
    fn a_valid_superblock_is_metadata_whatever_its_first_bytes() {
        use crate::era::superblock::Superblock;
        // Search the uuid for a sealed superblock whose checksum starts with `<`.
        let found = (0u32..).find_map(|n| {
            let mut sb = Superblock::new(8);
            sb.uuid[..4].copy_from_slice(&n.to_le_bytes());
            let block = sb.pack();
            block.starts_with(b"<").then_some(block)
        });
        let block = found.expect("some uuid gives such a checksum");
        assert!(!is_xml_not_metadata(&block));
    }
}

//! Why `era_copy` refuses or fails. Every variant names the file and, where there is
//! one, the block or the byte range.

use super::delta::DeltaError;
use std::io;
use std::path::{Path, PathBuf};

/// A copy's or an apply's failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    #[error(
        "{path}: the source is {bytes} bytes, which makes {blocks} blocks of {block_size} \
         sectors, but the metadata tracks {nr_blocks} blocks (give --length SECTORS, the \
         era table's length, if the source is longer than the table)"
    )]
    SourceLength {
        path: PathBuf,
        bytes: u64,
        blocks: u64,
        block_size: u32,
        nr_blocks: u32,
    },
    #[error("{path}: the source is {bytes} bytes, shorter than the {needed} bytes of --length")]
    SourceShort {
        path: PathBuf,
        bytes: u64,
        needed: u64,
    },
    #[error(
        "{path}: the source's length, {bytes} bytes, is not a whole number of 512-byte sectors"
    )]
    SourceSectors { path: PathBuf, bytes: u64 },
    /// The destination (`None`: standard output) is what the run reads: the source,
    /// the metadata, or the delta applied (`role`), `how` the same bytes.
    #[error("{}", same_file(dest.as_deref(), role, other, how))]
    SameFile {
        dest: Option<PathBuf>,
        role: &'static str,
        other: PathBuf,
        how: &'static str,
    },
    #[error("{path}: the destination is {bytes} bytes, smaller than the source's {needed} bytes")]
    DestSmall {
        path: PathBuf,
        bytes: u64,
        needed: u64,
    },
    #[error("{path}: {path_kind}, not a block device or an image file")]
    BadKind { path: PathBuf, path_kind: String },
    #[error(
        "{path}: era_check rejects this metadata ({nr_errors} errors, the first: {first}); \
         nothing was copied: run era_check for the whole list and era_repair to salvage it"
    )]
    Damaged {
        path: PathBuf,
        nr_errors: usize,
        first: String,
    },
    #[error("{path}: read error at block {block} (bytes {offset}..{end}): {source}")]
    Read {
        path: PathBuf,
        block: u64,
        offset: u64,
        end: u64,
        #[source]
        source: io::Error,
    },
    #[error("{path}: write error at bytes {offset}..{end}: {source}")]
    Write {
        path: PathBuf,
        offset: u64,
        end: u64,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path}: verify failed: block {block} (bytes {offset}..{end}) differs from the \
         source after the copy"
    )]
    Verify {
        path: PathBuf,
        block: u64,
        offset: u64,
        end: u64,
    },
    #[error("{path}: {source}")]
    Delta {
        path: String,
        #[source]
        source: DeltaError,
    },
    #[error(
        "{path}: the state records eras up to {until}; --written-since {since} would leave a \
         gap (eras {until}..{since} not copied): use --written-since {until} or lower, or \
         --force"
    )]
    Gap {
        path: PathBuf,
        since: u32,
        until: u32,
    },
    #[error(
        "{path}: the state records eras up to {recorded}; this run covers only up to era \
         {until}, which goes backwards (use --force to do it anyway)"
    )]
    Backwards {
        path: PathBuf,
        until: u32,
        recorded: u32,
    },
    #[error("{path}: the state was written for {recorded}, not {now} (use --force to start over)")]
    StateGeometry {
        path: PathBuf,
        recorded: String,
        now: String,
    },
    #[error("{path}: not an era_copy state file: {reason}")]
    BadState { path: PathBuf, reason: String },
    #[error(
        "interrupted at byte {offset}: nothing is lost; run the same command again to \
         complete the {what}"
    )]
    Interrupted { offset: u64, what: &'static str },
}

/// The message for [`CopyError::SameFile`].
fn same_file(dest: Option<&Path>, role: &str, other: &Path, how: &str) -> String {
    let other = other.display();
    match dest {
        Some(d) => format!(
            "{}: the destination is the {role} {other} ({how})",
            d.display()
        ),
        None => format!("standard output, the destination, is the {role} {other} ({how})"),
    }
}

//! Errors of the era layer.

use crate::units::MetaBlock;

/// A failure to read era metadata or to make sense of it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A persistent-data structure is damaged or unreadable.
    #[error(transparent)]
    Pdata(#[from] crate::pdata::Error),
    /// The superblock (or snapshot copy) at `block` is not usable.
    #[error("block {block}: {reason}")]
    BadSuperblock {
        /// Where the superblock was read from.
        block: MetaBlock,
        /// What is wrong with it.
        reason: String,
    },
    /// The era structures disagree with each other.
    #[error("block {block}: {reason}")]
    Inconsistent {
        /// The block holding the structure at fault.
        block: MetaBlock,
        /// What disagrees with what.
        reason: String,
    },
    /// `--metadata-snapshot` was asked for but none is held.
    #[error("no metadata snapshot is held (the superblock's metadata_snap is 0): take one with dmsetup message DEVICE 0 take_metadata_snap (era_emulate message --socket PATH take_metadata_snap for era_emulate serve)")]
    NoSnapshot,
    /// Metadata given to a writer (or generator parameters) that cannot be written.
    #[error("invalid metadata: {reason}")]
    InvalidInput {
        /// What is wrong with the input.
        reason: String,
    },
    /// The metadata device is too small for the metadata; nothing was written.
    #[error("the metadata device is too small: {needed_bytes} bytes ({needed_blocks} blocks of 4096) are needed, the device has {device_bytes}")]
    DeviceTooSmall {
        /// The bytes the metadata needs.
        needed_bytes: u64,
        /// The same in 4096-byte metadata blocks.
        needed_blocks: u64,
        /// The device's size in bytes.
        device_bytes: u64,
    },
    /// Damaged metadata that cannot be repaired: not even its geometry can be recovered.
    #[error("cannot repair: {reason}")]
    Unrepairable {
        /// What could not be recovered.
        reason: String,
    },
    /// A block the salvage read could not be read again when the repaired metadata was
    /// read from it: the device failed, or the block changed, since.
    #[error(
        "block {block}: reading failed: the salvage read this block, but reading it again \
         to write the repaired metadata failed (the device failed or the block changed \
         since): {reason}"
    )]
    Reread {
        /// The block that no longer reads.
        block: MetaBlock,
        /// Why it does not.
        reason: String,
    },
}

impl Error {
    /// Whether the metadata itself is damaged (as opposed to unreadable, absent, or not
    /// what the request needs).
    pub fn is_damage(&self) -> bool {
        match self {
            Error::Pdata(e) => e.is_damage(),
            Error::BadSuperblock { reason, .. } => !super::superblock::says_not_metadata(reason),
            Error::Inconsistent { .. } => true,
            Error::NoSnapshot
            | Error::InvalidInput { .. }
            | Error::DeviceTooSmall { .. }
            | Error::Unrepairable { .. }
            | Error::Reread { .. } => false,
        }
    }

    /// The block the error is about, where there is one.
    pub fn block(&self) -> Option<MetaBlock> {
        match self {
            Error::Pdata(e) => e.block(),
            Error::BadSuperblock { block, .. }
            | Error::Inconsistent { block, .. }
            | Error::Reread { block, .. } => Some(*block),
            Error::NoSnapshot
            | Error::InvalidInput { .. }
            | Error::DeviceTooSmall { .. }
            | Error::Unrepairable { .. } => None,
        }
    }
}

/// Result of the era layer.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A block `block` the salvage read that no longer reads, for `reason` (its own
    /// leading "block N: " left out).
    pub(crate) fn reread(block: MetaBlock, reason: &str) -> Error {
        let own = format!("block {block}: ");
        Error::Reread {
            block,
            reason: reason.strip_prefix(&own).unwrap_or(reason).to_string(),
        }
    }
}

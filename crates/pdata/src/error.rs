//! Errors of the persistent-data layer. Every variant names the metadata block at fault,
//! except a full device ([`Error::NoSpace`]).

use super::checksum::BlockKind;
use crate::units::MetaBlock;

/// A failure to read or decode a persistent-data structure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The device could not be read or written.
    #[error("block {block}: I/O error: {source}")]
    Io {
        /// The block being read or written.
        block: MetaBlock,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The stored checksum does not match the block's contents.
    #[error(
        "block {block}: {kind}: bad checksum (stored {stored:#010x}, computed {computed:#010x})"
    )]
    BadChecksum {
        /// Where the block was read from.
        block: MetaBlock,
        /// What the block was expected to be (which salt was used).
        kind: BlockKind,
        /// The checksum in the block's first four bytes.
        stored: u32,
        /// The checksum of the block's contents.
        computed: u32,
    },
    /// The block's self-reference does not match its location.
    #[error("block {block}: {kind} says it is block {found}")]
    WrongBlocknr {
        /// Where the block was read from.
        block: MetaBlock,
        /// What the block was expected to be.
        kind: BlockKind,
        /// The block number the block's `blocknr` field holds.
        found: MetaBlock,
    },
    /// A header or content field is out of range or inconsistent.
    #[error("block {block}: {kind}: {reason}")]
    Invalid {
        /// The block at fault.
        block: MetaBlock,
        /// What the block was expected to be.
        kind: BlockKind,
        /// Which field is wrong and how, for the message.
        reason: String,
    },
    /// A btree node is reached twice in one walk (a cycle or a shared child).
    #[error("block {block}: btree node is reached twice in one tree (a cycle or a shared child): from {first} and from {second}")]
    Cycle {
        /// The node reached twice.
        block: MetaBlock,
        /// Where the walk first reached it from.
        first: Referrer,
        /// Where the walk reached it from again.
        second: Referrer,
    },
    /// An array block is listed at two places of one array's index (format.md §5.2: each
    /// index entry has its own array block).
    #[error("array block {block} is listed twice in the array index at block {index}: at index {first} and at index {second}")]
    ListedTwice {
        /// The array block listed twice.
        block: MetaBlock,
        /// The root of the array's index.
        index: MetaBlock,
        /// The first position (array block number) in the index that lists it.
        first: u64,
        /// The later position that lists it again.
        second: u64,
    },
    /// A btree is deeper than any valid era tree can be.
    #[error("block {block}: btree deeper than {max} levels")]
    TooDeep {
        /// The root of the tree.
        block: MetaBlock,
        /// The most levels allowed.
        max: usize,
    },
    /// The metadata space map has no block that is free in both the committed and the
    /// current transaction (ENOSPC).
    #[error("metadata device full: all {nr_blocks} blocks of the space map are in use")]
    NoSpace {
        /// The number of metadata blocks the space map covers.
        nr_blocks: u64,
    },
}

impl Error {
    /// Whether a structure on disk is damaged: not an I/O error, not a full device.
    pub fn is_damage(&self) -> bool {
        match self {
            Error::BadChecksum { .. }
            | Error::WrongBlocknr { .. }
            | Error::Invalid { .. }
            | Error::Cycle { .. }
            | Error::ListedTwice { .. }
            | Error::TooDeep { .. } => true,
            Error::Io { .. } | Error::NoSpace { .. } => false,
        }
    }

    /// The metadata block the error is about; `None` for a full device, which is about
    /// no one block.
    pub fn block(&self) -> Option<MetaBlock> {
        match self {
            Error::Io { block, .. }
            | Error::BadChecksum { block, .. }
            | Error::WrongBlocknr { block, .. }
            | Error::Invalid { block, .. }
            | Error::Cycle { block, .. }
            | Error::ListedTwice { block, .. }
            | Error::TooDeep { block, .. } => Some(*block),
            Error::NoSpace { .. } => None,
        }
    }

    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(block: MetaBlock, kind: BlockKind, reason: impl Into<String>) -> Error {
        Error::Invalid {
            block,
            kind,
            reason: reason.into(),
        }
    }
}

/// Where a btree node is referred to from: entry `.1` of internal node `.0`, or (`None`)
/// the field holding the tree's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Referrer(pub Option<(MetaBlock, usize)>);

impl std::fmt::Display for Referrer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => write!(f, "the root"),
            Some((node, entry)) => write!(f, "entry {entry} of node {node}"),
        }
    }
}

/// `v`, read from `block`, as a narrower integer: an [`Error::Invalid`] naming the block
/// and the field (`what`) when it does not fit, never a truncation.
pub fn narrow<T: TryFrom<u64>>(v: u64, block: MetaBlock, kind: BlockKind, what: &str) -> Result<T> {
    T::try_from(v).map_err(|_| {
        Error::invalid(
            block,
            kind,
            format!(
                "{what} {v} is out of range (at most {} bits)",
                8 * size_of::<T>()
            ),
        )
    })
}

/// Result of the persistent-data layer.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_device_is_about_no_block() {
        assert_eq!(Error::NoSpace { nr_blocks: 5 }.block(), None);
        let e = Error::TooDeep {
            block: MetaBlock::new(7),
            max: 8,
        };
        assert_eq!(e.block(), Some(MetaBlock::new(7)));
    }
}

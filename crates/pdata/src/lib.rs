//! Persistent-data structures shared by the device-mapper targets: checksummed blocks,
//! btrees, arrays, bitsets and the metadata space map (format.md §1–§7), over [`io`]
//! (whole metadata blocks from files, block devices or memory) and [`units`] (the block
//! size and the newtypes for blocks and eras). Nothing here knows about era metadata;
//! the same structures make up dm-thin and dm-cache metadata.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used)]
#![warn(missing_docs)]

pub mod alloc;
pub mod array;
pub mod bitset;
pub mod block_set;
pub mod btree;
pub mod check;
pub mod checksum;
pub mod codec;
mod error;
pub mod io;
pub mod ref_counts;
pub mod salvage;
pub mod space_map;
#[cfg(test)]
pub(crate) mod test_support;
pub mod transaction;
pub mod units;
pub mod value;

pub use error::{narrow, Error, Referrer, Result};

use crate::io::BlockIo;
use crate::units::{zeroed_block, BlockBuf, MetaBlock};

/// Reads one block, naming it in the error.
pub fn read_block(io: &dyn BlockIo, block: MetaBlock) -> Result<Box<BlockBuf>> {
    let mut buf = zeroed_block();
    io.read_block(block, &mut buf)
        .map_err(|source| Error::Io { block, source })?;
    Ok(buf)
}

/// Writes one block, naming it in the error.
pub fn write_block(io: &dyn BlockIo, block: MetaBlock, buf: &BlockBuf) -> Result<()> {
    io.write_block(block, buf)
        .map_err(|source| Error::Io { block, source })
}

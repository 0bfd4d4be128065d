//! Persistent-data structures shared by the device-mapper targets: checksummed blocks,
//! btrees, arrays, bitsets and the metadata space map (format.md §1–§7). Nothing here
//! knows about era.

pub(crate) mod alloc;
pub mod array;
pub mod bitset;
pub mod block_set;
pub mod btree;
pub mod check;
pub mod checksum;
pub mod codec;
mod error;
pub mod ref_counts;
pub(crate) mod salvage;
pub mod space_map;
#[cfg(test)]
pub(crate) mod test_support;
pub mod transaction;
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

//! Block I/O: the only seam between the metadata code and storage.
//!
//! Everything above this layer reads and writes whole 4096-byte metadata blocks through
//! [`BlockIo`]. [`FileIo`] serves regular files and block devices with positioned reads and
//! writes; [`MemIo`] keeps an image in memory for tests. [`alias`] tells when two names
//! are one image; [`staging`] makes the files an output is written to before it is
//! complete.

pub mod alias;
mod aligned;
mod file;
mod mem;
pub mod staging;

pub use file::{lock, open_held, FileIo, OpenMode};
pub use mem::MemIo;

use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::io;

/// Whole-block access to a metadata device. Implementations are shareable between threads
/// so that independent structures can be read in parallel.
pub trait BlockIo: Send + Sync {
    /// Number of whole 4096-byte blocks on the device.
    fn nr_blocks(&self) -> u64;

    /// Reads block `block` into `buf`.
    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()>;

    /// Reads `buf.len() / 4096` consecutive blocks starting at `first`.
    /// The default issues one read per block; engines override it with one large read.
    fn read_blocks(&self, first: MetaBlock, buf: &mut [u8]) -> io::Result<()> {
        read_blocks_one_at_a_time(self, first, buf)
    }

    /// Writes block `block`.
    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()>;

    /// Makes every completed write durable.
    fn flush(&self) -> io::Result<()>;
}

/// Reads `buf.len() / 4096` consecutive blocks through `io.read_block`, one at a time:
/// the default [`BlockIo::read_blocks`], for wrappers whose `read_block` must see every
/// block.
pub fn read_blocks_one_at_a_time<I: BlockIo + ?Sized>(
    io: &I,
    first: MetaBlock,
    buf: &mut [u8],
) -> io::Result<()> {
    for (i, chunk) in buf.chunks_exact_mut(BLOCK_SIZE).enumerate() {
        let mut b = [0u8; BLOCK_SIZE];
        io.read_block(first.offset(i as u64), &mut b)?;
        chunk.copy_from_slice(&b);
    }
    Ok(())
}

/// Checks that `block` lies on a device of `nr_blocks` blocks.
pub fn check_bounds(block: MetaBlock, nr_blocks: u64) -> io::Result<()> {
    if !block.is_below(nr_blocks) {
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("block {block} is beyond the end of the device ({nr_blocks} blocks)"),
        ))
    } else {
        Ok(())
    }
}

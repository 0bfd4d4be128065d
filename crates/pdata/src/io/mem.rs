//! In-memory engine for tests and for building images before they are written out.

use super::{check_bounds, BlockIo};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::io;
use std::sync::RwLock;

/// A metadata image held in memory.
#[derive(Debug)]
pub struct MemIo {
    data: RwLock<Vec<u8>>,
    nr_blocks: u64,
}

impl MemIo {
    /// A zeroed image of `nr_blocks` blocks.
    pub fn new(nr_blocks: u64) -> MemIo {
        MemIo {
            data: RwLock::new(vec![0u8; nr_blocks as usize * BLOCK_SIZE]),
            nr_blocks,
        }
    }

    /// An image with the given bytes; a trailing partial block is ignored.
    pub fn from_bytes(mut bytes: Vec<u8>) -> MemIo {
        let nr_blocks = (bytes.len() / BLOCK_SIZE) as u64;
        bytes.truncate(nr_blocks as usize * BLOCK_SIZE);
        MemIo {
            data: RwLock::new(bytes),
            nr_blocks,
        }
    }

    /// A copy of the whole image.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.data.read().map(|d| d.clone()).unwrap_or_default()
    }

    fn poisoned() -> io::Error {
        io::Error::other("in-memory image lock poisoned")
    }
}

/// Where `block`, already checked to lie on the image, starts in it.
fn byte_offset(block: MetaBlock) -> io::Result<usize> {
    block
        .index()
        .and_then(|i| i.checked_mul(BLOCK_SIZE))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("block {block} does not fit in memory"),
            )
        })
}

impl BlockIo for MemIo {
    fn nr_blocks(&self) -> u64 {
        self.nr_blocks
    }

    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        check_bounds(block, self.nr_blocks)?;
        let data = self.data.read().map_err(|_| Self::poisoned())?;
        let off = byte_offset(block)?;
        buf.copy_from_slice(&data[off..off + BLOCK_SIZE]);
        Ok(())
    }

    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        check_bounds(block, self.nr_blocks)?;
        let mut data = self.data.write().map_err(|_| Self::poisoned())?;
        let off = byte_offset(block)?;
        data[off..off + BLOCK_SIZE].copy_from_slice(buf);
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

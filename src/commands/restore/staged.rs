//! A restore into a regular file is written to a private temporary image beside it
//! first, and copied into the output only once the whole input has been read and
//! checked: bad input, however late in a large dump, leaves the output as it was.
//!
//! The copy writes exactly the blocks the restore wrote (so the output ends as an
//! in-place restore would leave it, other blocks untouched) with the restore's own
//! protocol: block 0 gets the interrupted-restore mark and a flush first, then every
//! other block, a flush, the superblock, a flush. A crash during the copy leaves a file
//! that every tool and the kernel refuse, never a mix of two images.

use crate::era::interrupted::interrupted_marker;
use crate::era::superblock::SUPERBLOCK_LOCATION;
use crate::io::staging::scratch_in;
use crate::io::{BlockIo, FileIo};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Blocks copied per read.
const COPY_BLOCKS: u64 = 256;

/// A temporary image of the output's size that remembers which blocks were written.
pub struct StagedIo {
    staged: FileIo,
    written: Vec<AtomicU64>,
}

impl StagedIo {
    /// An unnamed temporary file in `dir` (on the output's filesystem) of `nr_blocks`
    /// blocks; it disappears with the process whatever happens.
    pub fn beside(dir: &Path, nr_blocks: u64) -> io::Result<StagedIo> {
        let file = scratch_in(dir)?;
        file.set_len(nr_blocks * BLOCK_SIZE as u64)?;
        let words = usize::try_from(nr_blocks.div_ceil(64))
            .map_err(|_| io::Error::other("the output is too large to stage"))?;
        Ok(StagedIo {
            staged: FileIo::from_file(file)?,
            written: (0..words).map(|_| AtomicU64::new(0)).collect(),
        })
    }

    fn was_written(&self, block: MetaBlock) -> bool {
        let word = block.index().and_then(|i| self.written.get(i / 64));
        word.is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (block.get() % 64)) != 0)
    }

    /// Copies every written block into `out` (same size), block 0 last.
    pub fn copy_into(&self, out: &dyn BlockIo) -> io::Result<()> {
        let n = self.nr_blocks();
        if out.nr_blocks() != n {
            return Err(io::Error::other(
                "the output changed size during the restore",
            ));
        }
        out.write_block(SUPERBLOCK_LOCATION, &interrupted_marker())?;
        out.flush()?;
        let mut buf = vec![0u8; COPY_BLOCKS as usize * BLOCK_SIZE];
        let mut first = 1;
        while first < n {
            let count = COPY_BLOCKS.min(n - first);
            if (first..first + count).any(|b| self.was_written(MetaBlock::new(b))) {
                let bytes = &mut buf[..count as usize * BLOCK_SIZE];
                self.staged.read_blocks(MetaBlock::new(first), bytes)?;
                for (i, chunk) in bytes.chunks_exact(BLOCK_SIZE).enumerate() {
                    let block = MetaBlock::new(first + i as u64);
                    if self.was_written(block) {
                        let chunk: &BlockBuf = chunk.try_into().map_err(io::Error::other)?;
                        out.write_block(block, chunk)?;
                    }
                }
            }
            first += count;
        }
        out.flush()?;
        let mut sb = [0u8; BLOCK_SIZE];
        self.staged.read_block(SUPERBLOCK_LOCATION, &mut sb)?;
        out.write_block(SUPERBLOCK_LOCATION, &sb)?;
        out.flush()
    }
}

impl BlockIo for StagedIo {
    fn nr_blocks(&self) -> u64 {
        self.staged.nr_blocks()
    }

    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        self.staged.read_block(block, buf)
    }

    fn read_blocks(&self, first: MetaBlock, buf: &mut [u8]) -> io::Result<()> {
        self.staged.read_blocks(first, buf)
    }

    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        self.staged.write_block(block, buf)?;
        if let Some(w) = block.index().and_then(|i| self.written.get(i / 64)) {
            w.fetch_or(1 << (block.get() % 64), Ordering::Relaxed);
        }
        Ok(())
    }

    /// The staged file is thrown away on failure and copied on success: nothing in it
    /// needs to be durable.
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemIo;

    #[test]
    fn copies_only_written_blocks_with_block_0_last() {
        let dir = tempfile::tempdir().unwrap();
        let staged = StagedIo::beside(dir.path(), 600).unwrap();
        for b in [0u64, 3, 300, 599] {
            staged
                .write_block(MetaBlock::new(b), &[b as u8 + 1; BLOCK_SIZE])
                .unwrap();
        }
        let out = MemIo::new(600);
        out.write_block(MetaBlock::new(4), &[0xaa; BLOCK_SIZE])
            .unwrap();
        staged.copy_into(&out).unwrap();
        let mut buf = [0u8; BLOCK_SIZE];
        for (b, want) in [(0u64, 1u8), (3, 4), (300, 45), (599, 88), (4, 0xaa), (5, 0)] {
            out.read_block(MetaBlock::new(b), &mut buf).unwrap();
            assert!(buf.iter().all(|&x| x == want), "block {b}");
        }
    }
}

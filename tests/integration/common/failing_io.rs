//! A device that fails every write after the first `budget`: an interrupted writer.

use era_tools::io::{BlockIo, MemIo};
use era_tools::units::BlockBuf;
use era_tools::units::MetaBlock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fails every write after the first `budget`; counts the writes tried.
pub struct FailingIo {
    pub inner: MemIo,
    pub budget: AtomicU64,
    pub writes: AtomicU64,
}

impl FailingIo {
    /// `inner`, failing after `budget` writes.
    pub fn new(inner: MemIo, budget: u64) -> FailingIo {
        FailingIo {
            inner,
            budget: AtomicU64::new(budget),
            writes: AtomicU64::new(0),
        }
    }
}

impl BlockIo for FailingIo {
    fn nr_blocks(&self) -> u64 {
        self.inner.nr_blocks()
    }
    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> std::io::Result<()> {
        self.inner.read_block(block, buf)
    }
    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> std::io::Result<()> {
        if self.writes.fetch_add(1, Ordering::SeqCst) >= self.budget.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("simulated failure"));
        }
        self.inner.write_block(block, buf)
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

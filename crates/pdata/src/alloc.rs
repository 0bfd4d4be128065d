//! A sequential block allocator for offline writers, which also keeps the reference
//! count of every block it hands out (format.md §7.5, §10.3).
//!
//! Offline writers build whole new structures: blocks are numbered from 1 upwards in the
//! order they are asked for (block 0 is the superblock), and every reference a writer
//! stores is recorded with [`BlockAllocator::inc`], so that the space map can be written
//! from the final counts.

use super::ref_counts::RefCountTable;
use super::{Error, Result};
use crate::units::MetaBlock;

/// Hands out metadata blocks in order and counts references to them.
#[derive(Debug, Clone)]
pub struct BlockAllocator {
    /// Reference count of blocks `0 .. counts.len()`; the length is the next free block.
    counts: RefCountTable,
    /// Blocks `>= limit` may not be handed out.
    limit: u64,
}

impl BlockAllocator {
    /// An allocator whose first block is `first` (blocks below it are reserved with
    /// count 0) and which never hands out a block at or above `limit`.
    pub fn new(first: MetaBlock, limit: u64) -> BlockAllocator {
        BlockAllocator {
            counts: RefCountTable::new(first.get()),
            limit,
        }
    }

    /// The next block [`alloc`](Self::alloc) would return.
    pub fn next_free(&self) -> MetaBlock {
        MetaBlock::new(self.counts.len())
    }

    /// The limit given at creation.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Allocates one block (count 0 until referenced).
    pub fn alloc(&mut self) -> Result<MetaBlock> {
        self.alloc_run(1)
    }

    /// Allocates `n` consecutive blocks and returns the first.
    pub fn alloc_run(&mut self, n: u64) -> Result<MetaBlock> {
        let first = self.next_free();
        let end = first.get() + n;
        if end > self.limit {
            return Err(Error::NoSpace {
                nr_blocks: self.limit,
            });
        }
        self.counts.grow_to(end);
        Ok(first)
    }

    /// Records one reference to `block`. A block never handed out grows the table, so
    /// the stray reference shows in [`counts`](Self::counts) rather than being lost.
    pub fn inc(&mut self, block: MetaBlock) {
        self.counts.grow_to(block.get().saturating_add(1));
        let counted = self.counts.inc(block);
        debug_assert!(counted.is_ok(), "the table was grown to hold {block}");
    }

    /// The reference count of every block below [`next_free`](Self::next_free).
    pub fn counts(&self) -> &[u32] {
        self.counts.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_blocks_in_order_and_respects_the_limit() {
        let mut a = BlockAllocator::new(MetaBlock::new(1), 5);
        assert_eq!(a.alloc().unwrap(), MetaBlock::new(1));
        assert_eq!(a.alloc_run(3).unwrap(), MetaBlock::new(2));
        assert!(matches!(a.alloc(), Err(Error::NoSpace { nr_blocks: 5 })));
        a.inc(MetaBlock::new(0));
        a.inc(MetaBlock::new(2));
        a.inc(MetaBlock::new(2));
        assert_eq!(a.counts(), &[1, 0, 2, 0, 0]);
    }
}

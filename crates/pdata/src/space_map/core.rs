//! The in-core metadata space map of a running transaction (format.md §7, §9): one
//! reference count per managed block, the committed count of every block changed in
//! the transaction, and a next-fit allocator that only hands out blocks free in both
//! the committed and the current state.

use super::bitmap_position;
use crate::checksum::BlockKind;
use crate::ref_counts::{RefCountError, RefCountTable};
use crate::units::MetaBlock;
use crate::{Error, Result};
use std::collections::{BTreeSet, HashMap};

/// Reference counts of every managed metadata block, with transaction bookkeeping.
#[derive(Debug, Clone)]
pub struct CoreSpaceMap {
    counts: RefCountTable,
    /// Committed count of every block changed since the last commit.
    before: HashMap<MetaBlock, u32>,
    committed_nr_allocated: u64,
    allocated_this_txn: u64,
    cursor: u64,
}

impl CoreSpaceMap {
    /// A space map whose committed state is `counts`.
    pub fn new(counts: Vec<u32>) -> CoreSpaceMap {
        let counts = RefCountTable::from_counts(counts);
        let committed_nr_allocated = counts.nr_nonzero();
        CoreSpaceMap {
            counts,
            before: HashMap::new(),
            committed_nr_allocated,
            allocated_this_txn: 0,
            cursor: 0,
        }
    }

    /// Number of managed blocks.
    pub fn nr_blocks(&self) -> u64 {
        self.counts.len()
    }

    /// Current count of `b` (0 beyond the managed range).
    pub fn count(&self, b: MetaBlock) -> u32 {
        self.counts.get(b)
    }

    /// Every current count, block 0 first.
    pub fn counts(&self) -> &[u32] {
        self.counts.as_slice()
    }

    /// Blocks with a non-zero count now.
    pub fn nr_allocated(&self) -> u64 {
        self.counts.nr_nonzero()
    }

    /// `nr_allocated` as of the last commit.
    pub fn committed_nr_allocated(&self) -> u64 {
        self.committed_nr_allocated
    }

    /// Blocks handed out by [`alloc`](Self::alloc) since the last commit.
    pub fn allocated_this_transaction(&self) -> u64 {
        self.allocated_this_txn
    }

    /// Where the next allocation starts searching.
    pub fn set_cursor(&mut self, cursor: MetaBlock) {
        self.cursor = cursor.get();
    }

    /// Remembers the committed count of `b` before its first change in this
    /// transaction; refuses a block beyond the space map.
    fn note_change(&mut self, b: MetaBlock) -> Result<()> {
        match self.counts.try_get(b) {
            Some(c) => {
                self.before.entry(b).or_insert(c);
                Ok(())
            }
            None => Err(self.error(RefCountError::OutOfRange {
                block: b,
                nr_blocks: self.counts.len(),
            })),
        }
    }

    /// The space map's wording of a failed change.
    fn error(&self, e: RefCountError) -> Error {
        match e {
            RefCountError::OutOfRange { block, nr_blocks } => Error::invalid(
                block,
                BlockKind::Bitmap,
                format!(
                    "reference count change for a block beyond the space map ({nr_blocks} blocks)"
                ),
            ),
            RefCountError::BelowZero { block } => Error::invalid(
                block,
                BlockKind::Bitmap,
                "reference count would drop below zero",
            ),
        }
    }

    /// Sets the count of `b`.
    pub fn set(&mut self, b: MetaBlock, count: u32) -> Result<()> {
        self.note_change(b)?;
        self.counts.set(b, count).map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Adds a reference to `b`; returns the new count.
    pub fn inc(&mut self, b: MetaBlock) -> Result<u32> {
        self.note_change(b)?;
        self.counts.inc(b).map_err(|e| self.error(e))
    }

    /// Drops a reference to `b`; returns the new count (0 = freed).
    pub fn dec(&mut self, b: MetaBlock) -> Result<u32> {
        self.note_change(b)?;
        self.counts.dec(b).map_err(|e| self.error(e))
    }

    fn is_free(&self, b: MetaBlock) -> bool {
        self.counts.get(b) == 0 && !matches!(self.before.get(&b), Some(&c) if c != 0)
    }

    /// Allocates a block free both now and at the last commit (next fit from a moving
    /// cursor, wrapping once), with count 1.
    pub fn alloc(&mut self) -> Result<MetaBlock> {
        let n = self.counts.len();
        let start = self.cursor.min(n);
        let found = (start..n)
            .find(|&b| self.is_free(MetaBlock::new(b)))
            .or_else(|| (0..start).find(|&b| self.is_free(MetaBlock::new(b))));
        match found {
            Some(b) => {
                let b = MetaBlock::new(b);
                self.set(b, 1)?;
                self.cursor = b.get() + 1;
                self.allocated_this_txn += 1;
                Ok(b)
            }
            None => Err(Error::NoSpace { nr_blocks: n }),
        }
    }

    /// Blocks changed since the last commit with their committed and current counts.
    pub fn changes(&self) -> Vec<(MetaBlock, u32, u32)> {
        let mut v: Vec<_> = self
            .before
            .iter()
            .map(|(&b, &old)| (b, old, self.count(b)))
            .collect();
        v.sort_unstable();
        v
    }

    /// Bitmaps holding an entry changed since the last commit.
    pub fn touched_bitmaps(&self) -> BTreeSet<usize> {
        self.before
            .keys()
            .filter_map(|&b| bitmap_position(b).map(|(i, _)| i))
            .collect()
    }

    /// Makes the current state the committed one.
    pub fn end_transaction(&mut self) {
        self.before.clear();
        self.committed_nr_allocated = self.counts.nr_nonzero();
        self.allocated_this_txn = 0;
    }

    /// Discards every change since the last commit.
    pub fn abort_transaction(&mut self) {
        for (b, c) in self.before.drain() {
            // Every block in `before` was in range when it was changed.
            let restored = self.counts.set(b, c);
            debug_assert!(restored.is_ok());
        }
        debug_assert_eq!(self.counts.nr_nonzero(), self.committed_nr_allocated);
        self.allocated_this_txn = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_blocks_are_not_reused_before_commit() {
        let mut sm = CoreSpaceMap::new(vec![1, 1, 0, 0]);
        assert_eq!(sm.dec(MetaBlock::new(1)).unwrap(), 0);
        assert_eq!(sm.alloc().unwrap(), MetaBlock::new(2));
        assert_eq!(sm.alloc().unwrap(), MetaBlock::new(3));
        assert!(matches!(sm.alloc(), Err(Error::NoSpace { .. })));
        sm.end_transaction();
        assert_eq!(sm.alloc().unwrap(), MetaBlock::new(1));
        assert_eq!(sm.nr_allocated(), 4);
    }

    #[test]
    fn counts_and_accounting() {
        let mut sm = CoreSpaceMap::new(vec![1, 0, 0]);
        let b = sm.alloc().unwrap();
        assert_eq!(b, MetaBlock::new(1));
        assert_eq!(sm.inc(b).unwrap(), 2);
        assert_eq!(sm.inc(b).unwrap(), 3);
        assert_eq!(sm.allocated_this_transaction(), 1);
        assert_eq!(sm.changes(), vec![(MetaBlock::new(1), 0, 3)]);
        assert_eq!(sm.dec(b).unwrap(), 2);
        assert!(sm.dec(MetaBlock::new(2)).is_err());
        sm.abort_transaction();
        assert_eq!(sm.count(MetaBlock::new(1)), 0);
        assert_eq!(sm.nr_allocated(), 1);
    }
}

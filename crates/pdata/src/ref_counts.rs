//! The one table of per-block reference counts (format.md §7.5). The in-core space map
//! of a transaction, the counts a check computes and the offline writers' allocator all
//! keep their counts here, and so share one checked index, one saturating increment and
//! one count of referenced blocks; each keeps its own bookkeeping on top.

use crate::units::MetaBlock;
use std::fmt;

/// Why a count could not be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefCountError {
    /// The block lies beyond the table (or does not fit a `usize` at all).
    OutOfRange {
        /// The block asked for.
        block: MetaBlock,
        /// Number of blocks in the table.
        nr_blocks: u64,
    },
    /// A reference was dropped from a block whose count is already 0.
    BelowZero {
        /// The block asked for.
        block: MetaBlock,
    },
}

impl fmt::Display for RefCountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefCountError::OutOfRange { block, nr_blocks } => write!(
                f,
                "block {block} is beyond the reference counts ({nr_blocks} blocks)"
            ),
            RefCountError::BelowZero { block } => {
                write!(f, "reference count of block {block} would drop below zero")
            }
        }
    }
}

impl std::error::Error for RefCountError {}

/// A reference count for each of blocks `0 .. len()`, with the number of non-zero
/// counts kept up to date. Counts saturate at `u32::MAX` rather than wrap. A block
/// number read from disk is never truncated onto another block: anything at or beyond
/// [`len`](Self::len) is refused (or reads as 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefCountTable {
    counts: Vec<u32>,
    nr_nonzero: u64,
}

impl RefCountTable {
    /// `nr_blocks` blocks, every count 0.
    ///
    /// # Panics
    ///
    /// If `nr_blocks` does not fit a `usize` (callers clamp it to the format's limit).
    pub fn new(nr_blocks: u64) -> RefCountTable {
        let len = usize::try_from(nr_blocks).expect("reference count table size fits a usize");
        RefCountTable {
            counts: vec![0; len],
            nr_nonzero: 0,
        }
    }

    /// A table holding `counts`, block 0 first.
    pub fn from_counts(counts: Vec<u32>) -> RefCountTable {
        let nr_nonzero = counts.iter().filter(|&&c| c != 0).count() as u64;
        RefCountTable { counts, nr_nonzero }
    }

    /// Number of blocks in the table.
    pub fn len(&self) -> u64 {
        self.counts.len() as u64
    }

    /// Whether the table has no blocks.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Every count, block 0 first.
    pub fn as_slice(&self) -> &[u32] {
        &self.counts
    }

    /// Number of blocks whose count is not 0.
    pub fn nr_nonzero(&self) -> u64 {
        self.nr_nonzero
    }

    /// The slot of `block`, if it lies in the table.
    fn index(&self, block: MetaBlock) -> Option<usize> {
        block.index().filter(|&i| i < self.counts.len())
    }

    fn out_of_range(&self, block: MetaBlock) -> RefCountError {
        RefCountError::OutOfRange {
            block,
            nr_blocks: self.len(),
        }
    }

    /// The count of `block`, or `None` beyond the table.
    pub fn try_get(&self, block: MetaBlock) -> Option<u32> {
        self.index(block).map(|i| self.counts[i])
    }

    /// The count of `block` (0 beyond the table).
    pub fn get(&self, block: MetaBlock) -> u32 {
        self.try_get(block).unwrap_or(0)
    }

    /// Stores `count` at slot `i` (in range), keeping the non-zero count; returns the
    /// old count.
    fn store(&mut self, i: usize, count: u32) -> u32 {
        let old = std::mem::replace(&mut self.counts[i], count);
        if old == 0 && count != 0 {
            self.nr_nonzero += 1;
        } else if old != 0 && count == 0 {
            self.nr_nonzero -= 1;
        }
        old
    }

    /// Sets the count of `block`; returns the old count.
    pub fn set(&mut self, block: MetaBlock, count: u32) -> Result<u32, RefCountError> {
        let i = self.index(block).ok_or_else(|| self.out_of_range(block))?;
        Ok(self.store(i, count))
    }

    /// Adds a reference to `block` (saturating); returns the new count.
    pub fn inc(&mut self, block: MetaBlock) -> Result<u32, RefCountError> {
        let i = self.index(block).ok_or_else(|| self.out_of_range(block))?;
        let new = self.counts[i].saturating_add(1);
        self.store(i, new);
        Ok(new)
    }

    /// Drops a reference to `block`; returns the new count (0 = freed). A count of 0
    /// is an error and stays 0.
    pub fn dec(&mut self, block: MetaBlock) -> Result<u32, RefCountError> {
        let i = self.index(block).ok_or_else(|| self.out_of_range(block))?;
        let new = self.counts[i]
            .checked_sub(1)
            .ok_or(RefCountError::BelowZero { block })?;
        self.store(i, new);
        Ok(new)
    }

    /// Grows the table to at least `nr_blocks` blocks, the new ones with count 0 (never
    /// shrinks it).
    ///
    /// # Panics
    ///
    /// If `nr_blocks` does not fit a `usize`.
    pub fn grow_to(&mut self, nr_blocks: u64) {
        let len = usize::try_from(nr_blocks).expect("reference count table size fits a usize");
        if len > self.counts.len() {
            self.counts.resize(len, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_beyond_the_table_is_refused_not_truncated() {
        let mut t = RefCountTable::new(4);
        let out = RefCountError::OutOfRange {
            block: MetaBlock::new(4),
            nr_blocks: 4,
        };
        assert_eq!(t.inc(MetaBlock::new(4)), Err(out));
        assert_eq!(t.dec(MetaBlock::new(4)), Err(out));
        assert_eq!(t.set(MetaBlock::new(4), 1), Err(out));
        assert_eq!(t.get(MetaBlock::new(4)), 0);
        assert_eq!(t.try_get(MetaBlock::new(4)), None);
        // A block number whose low bits name block 1 must not land on block 1.
        let wide = (1u64 << 32) + 1;
        assert!(matches!(
            t.inc(MetaBlock::new(wide)),
            Err(RefCountError::OutOfRange { block, nr_blocks: 4 }) if block == MetaBlock::new(wide)
        ));
        assert!(t.inc(MetaBlock::new(u64::MAX)).is_err());
        assert_eq!(t.get(MetaBlock::new(wide)), 0);
        assert_eq!(t.as_slice(), &[0, 0, 0, 0]);
        assert_eq!(t.nr_nonzero(), 0);
    }

    #[test]
    fn inc_saturates_at_u32_max() {
        let mut t = RefCountTable::from_counts(vec![u32::MAX - 1, 0]);
        assert_eq!(t.inc(MetaBlock::new(0)), Ok(u32::MAX));
        assert_eq!(t.inc(MetaBlock::new(0)), Ok(u32::MAX));
        assert_eq!(t.get(MetaBlock::new(0)), u32::MAX);
        assert_eq!(t.dec(MetaBlock::new(0)), Ok(u32::MAX - 1));
        assert_eq!(t.nr_nonzero(), 1);
    }

    #[test]
    fn dec_below_zero_is_an_error_and_leaves_the_count() {
        let mut t = RefCountTable::from_counts(vec![1, 0]);
        assert_eq!(
            t.dec(MetaBlock::new(1)),
            Err(RefCountError::BelowZero {
                block: MetaBlock::new(1)
            })
        );
        assert_eq!(t.get(MetaBlock::new(1)), 0);
        assert_eq!(t.dec(MetaBlock::new(0)), Ok(0));
        assert_eq!(
            t.dec(MetaBlock::new(0)),
            Err(RefCountError::BelowZero {
                block: MetaBlock::new(0)
            })
        );
        assert_eq!(t.nr_nonzero(), 0);
        assert_eq!(
            RefCountError::BelowZero {
                block: MetaBlock::new(0)
            }
            .to_string(),
            "reference count of block 0 would drop below zero"
        );
    }

    #[test]
    fn non_zero_counts_are_counted_through_every_change() {
        let mut t = RefCountTable::from_counts(vec![0, 2, 0, 5, 0]);
        assert_eq!(t.nr_nonzero(), 2);
        assert_eq!(t.inc(MetaBlock::new(0)), Ok(1));
        assert_eq!(t.inc(MetaBlock::new(0)), Ok(2));
        assert_eq!(t.nr_nonzero(), 3);
        assert_eq!(t.dec(MetaBlock::new(1)), Ok(1));
        assert_eq!(t.nr_nonzero(), 3);
        assert_eq!(t.dec(MetaBlock::new(1)), Ok(0));
        assert_eq!(t.nr_nonzero(), 2);
        assert_eq!(t.set(MetaBlock::new(3), 0), Ok(5));
        assert_eq!(t.set(MetaBlock::new(3), 0), Ok(0));
        assert_eq!(t.nr_nonzero(), 1);
        assert_eq!(t.set(MetaBlock::new(4), 7), Ok(0));
        assert_eq!(t.nr_nonzero(), 2);
        assert_eq!(t.as_slice(), &[2, 0, 0, 0, 7]);
        assert_eq!(
            t.nr_nonzero(),
            t.as_slice().iter().filter(|&&c| c != 0).count() as u64
        );
    }

    #[test]
    fn grow_to_adds_zero_counts_and_never_shrinks() {
        let mut t = RefCountTable::new(1);
        assert!(!t.is_empty());
        t.grow_to(3);
        assert_eq!(t.len(), 3);
        assert_eq!(t.inc(MetaBlock::new(2)), Ok(1));
        t.grow_to(2);
        assert_eq!(t.as_slice(), &[0, 0, 1]);
        assert!(RefCountTable::new(0).is_empty());
        assert_eq!(RefCountTable::default().len(), 0);
    }
}

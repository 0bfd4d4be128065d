//! Placing the writesets' bitsets as they arrive: one after another in ascending era
//! from block 1 (format.md §10.3), each written as soon as it is complete.
//!
//! A writeset whose era is below one already written goes where that one was: the
//! bitsets of the later eras move up by its size, the last first, each read back just
//! before it is written again past its old place, so that one bitset at a time is in
//! memory. Their blocks are then recounted: every block of a bitset is referenced
//! once, by its index or parent node, except its root, which the writeset tree refers
//! to later.

use super::bitset_blocks;
use crate::io::BlockIo;
use crate::pdata::alloc::BlockAllocator;
use crate::pdata::bitset::builder::write_bitset;
use crate::pdata::bitset::read_bitset;
use crate::pdata::Result;
use crate::superblock::SUPERBLOCK_LOCATION;
use crate::units::MetaBlock;

/// A bitset written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Placed {
    pub era: u32,
    pub nr_bits: u32,
    /// Its first block.
    pub start: MetaBlock,
    pub root: MetaBlock,
}

/// The bitsets written, eras ascending.
#[derive(Debug, Default)]
pub(super) struct Placement {
    pub placed: Vec<Placed>,
}

impl Placement {
    /// Writes the bitset of the writeset of `era` (`words` of `nr_bits` bits) in its
    /// place. `alloc` has handed out nothing since the bitsets.
    pub fn place(
        &mut self,
        alloc: &mut BlockAllocator,
        io: &dyn BlockIo,
        era: u32,
        nr_bits: u32,
        words: &[u64],
    ) -> Result<()> {
        let pos = self.placed.partition_point(|w| w.era < era);
        if pos == self.placed.len() {
            let start = alloc.next_free();
            let root = write_bitset(alloc, io, words, u64::from(nr_bits))?;
            self.placed.push(Placed {
                era,
                nr_bits,
                start,
                root,
            });
            return Ok(());
        }
        let shift = bitset_blocks(nr_bits);
        let limit = alloc.limit();
        // The new bitset goes where the first one moved up starts now.
        let start = self.placed[pos].start;
        for w in self.placed[pos..].iter_mut().rev() {
            let bits = read_bitset(io, w.root, u64::from(w.nr_bits))?;
            w.start = w.start.offset(shift);
            let mut at = BlockAllocator::new(w.start, limit);
            w.root = write_bitset(&mut at, io, &bits, u64::from(w.nr_bits))?;
        }
        let mut at = BlockAllocator::new(start, limit);
        let root = write_bitset(&mut at, io, words, u64::from(nr_bits))?;
        self.placed.insert(
            pos,
            Placed {
                era,
                nr_bits,
                start,
                root,
            },
        );
        *alloc = self.recount(limit)?;
        Ok(())
    }

    /// An allocator that has handed out the superblock and the bitsets, with their
    /// references counted.
    fn recount(&self, limit: u64) -> Result<BlockAllocator> {
        let mut a = BlockAllocator::new(SUPERBLOCK_LOCATION.offset(1), limit);
        a.inc(SUPERBLOCK_LOCATION);
        for w in &self.placed {
            let n = bitset_blocks(w.nr_bits);
            let first = a.alloc_run(n)?;
            for b in (0..n).map(|i| first.offset(i)) {
                if b != w.root {
                    a.inc(b);
                }
            }
        }
        Ok(a)
    }
}

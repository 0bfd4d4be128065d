//! The era array written as its entries arrive (format.md §5): values are gathered a
//! batch of [`BATCH_BLOCKS`] array blocks at a time and pushed to an [`ArrayBuilder`] in
//! whole batches, so that the blocks land exactly where one push of the whole array
//! puts them. Memory: one batch (1 MiB) and one block number per batch pushed.
//!
//! Entries may come in any order. One beyond the batch pushes the batch (entries never
//! given are 0); one for a batch already pushed is written into its array block, read
//! back and kept until an entry for another block comes, so that entries given
//! backwards cost one read and one write per block.

use crate::io::BlockIo;
use crate::pdata::alloc::BlockAllocator;
use crate::pdata::array::array_max_entries;
use crate::pdata::array::block::value;
use crate::pdata::array::builder::{pack_array_block, ArrayBuilder, BATCH_BLOCKS};
use crate::pdata::codec::get_u32;
use crate::pdata::{read_block, write_block, Result};
use crate::units::MetaBlock;

/// Eras per array block.
const M: u64 = array_max_entries(4) as u64;
/// Eras per batch.
const BATCH: u64 = BATCH_BLOCKS as u64 * M;

/// Writes one era array of `nr_blocks` entries.
#[derive(Debug)]
pub(super) struct EraArrayWriter {
    nr_blocks: u64,
    builder: ArrayBuilder<u32>,
    /// The eras of blocks `[next, next + batch.len())`, not yet pushed.
    next: u64,
    batch: Vec<u32>,
    /// The location of the first array block of each batch pushed.
    batch_starts: Vec<MetaBlock>,
    /// An array block already written and changed since: its index and values.
    dirty: Option<(u64, Vec<u32>)>,
}

impl EraArrayWriter {
    pub fn new(nr_blocks: u32) -> EraArrayWriter {
        let nr_blocks = u64::from(nr_blocks);
        EraArrayWriter {
            nr_blocks,
            builder: ArrayBuilder::new(),
            next: 0,
            batch: vec![0; BATCH.min(nr_blocks) as usize],
            batch_starts: Vec::new(),
            dirty: None,
        }
    }

    /// Sets the eras of blocks `first, first + 1, …`, all below `nr_blocks`.
    pub fn set(
        &mut self,
        alloc: &mut BlockAllocator,
        io: &dyn BlockIo,
        first: u64,
        mut eras: &[u32],
    ) -> Result<()> {
        let mut b = first;
        while !eras.is_empty() && b < self.nr_blocks {
            let batch_end = self.next + self.batch.len() as u64;
            let n = if b >= batch_end {
                // Beyond the batch, which is then a whole one: the array goes on past it.
                self.push_batch(alloc, io)?;
                continue;
            } else if b >= self.next {
                let at = (b - self.next) as usize;
                let n = eras.len().min(self.batch.len() - at);
                self.batch[at..at + n].copy_from_slice(&eras[..n]);
                n
            } else {
                let within = b % M;
                let n = (eras.len() as u64).min(M - within).min(self.next - b) as usize;
                self.patch(io, b / M, within as usize, &eras[..n])?;
                n
            };
            b += n as u64;
            eras = &eras[n..];
        }
        Ok(())
    }

    fn push_batch(&mut self, alloc: &mut BlockAllocator, io: &dyn BlockIo) -> Result<()> {
        // The builder holds no partial block, so the batch's blocks come first.
        self.batch_starts.push(alloc.next_free());
        self.builder.push(alloc, io, &self.batch)?;
        self.next += self.batch.len() as u64;
        let len = BATCH.min(self.nr_blocks - self.next) as usize;
        self.batch.clear();
        self.batch.resize(len, 0);
        Ok(())
    }

    /// The location of array block `i`, already written.
    fn location(&self, i: u64) -> MetaBlock {
        let batch = (i / BATCH_BLOCKS as u64) as usize;
        self.batch_starts
            .get(batch)
            .copied()
            .unwrap_or_default()
            .offset(i % BATCH_BLOCKS as u64)
    }

    /// Sets `eras` at `within` of array block `i`, already written.
    fn patch(&mut self, io: &dyn BlockIo, i: u64, within: usize, eras: &[u32]) -> Result<()> {
        if self.dirty.as_ref().is_some_and(|(d, _)| *d != i) {
            self.write_dirty(io)?;
        }
        if self.dirty.is_none() {
            let data = read_block(io, self.location(i))?;
            let values = (0..M as usize)
                .map(|j| get_u32(value(&data, 4, j), 0))
                .collect();
            self.dirty = Some((i, values));
        }
        if let Some((_, values)) = &mut self.dirty {
            values[within..within + eras.len()].copy_from_slice(eras);
        }
        Ok(())
    }

    fn write_dirty(&mut self, io: &dyn BlockIo) -> Result<()> {
        if let Some((i, values)) = self.dirty.take() {
            let location = self.location(i);
            write_block(io, location, &pack_array_block(location, &values))?;
        }
        Ok(())
    }

    /// Writes what is left, every batch after the last entry given included (their
    /// eras are 0), and the index; returns the root (not yet referenced).
    pub fn finish(mut self, alloc: &mut BlockAllocator, io: &dyn BlockIo) -> Result<MetaBlock> {
        self.write_dirty(io)?;
        while self.next + (self.batch.len() as u64) < self.nr_blocks {
            self.push_batch(alloc, io)?;
        }
        self.builder.push(alloc, io, &self.batch)?;
        self.builder.finish(alloc, io)
    }
}

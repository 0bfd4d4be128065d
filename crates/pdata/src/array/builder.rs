//! Writing a dm-array (format.md §5) in one pass: array blocks are packed in parallel a
//! batch at a time and written at once, and their index btree is built as they go. Only
//! one partly filled array block and the builder's two pending leaves stay in memory.

use super::block::{array_max_entries, pack_array_block_with};
use crate::alloc::BlockAllocator;
use crate::btree::BtreeBuilder;
use crate::io::BlockIo;
use crate::units::{BlockBuf, MetaBlock};
use crate::value::Value;
use crate::{write_block, Result};
use rayon::prelude::*;

/// Array blocks packed per parallel batch (1 MiB of blocks). A writer that pushes a
/// whole array in pieces of this many blocks lays it out as one push of it does.
pub const BATCH_BLOCKS: usize = 256;

/// Builds one dm-array from values pushed in order.
#[derive(Debug)]
pub struct ArrayBuilder<V: Value> {
    index: BtreeBuilder<MetaBlock>,
    /// Values of the next, not yet full, array block.
    pending: Vec<V>,
    /// Array blocks written so far (the next index key).
    nr_array_blocks: u64,
}

impl<V: Value> Default for ArrayBuilder<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Value> ArrayBuilder<V> {
    /// Values per array block.
    const M: usize = array_max_entries(V::SIZE) as usize;

    /// A builder of an empty array of `V` values.
    pub fn new() -> ArrayBuilder<V> {
        ArrayBuilder {
            index: BtreeBuilder::new(),
            pending: Vec::new(),
            nr_array_blocks: 0,
        }
    }

    /// Appends `values` to the array, writing every array block that becomes full.
    pub fn push(
        &mut self,
        alloc: &mut BlockAllocator,
        io: &dyn BlockIo,
        mut values: &[V],
    ) -> Result<()> {
        let m = Self::M;
        if !self.pending.is_empty() {
            let take = (m - self.pending.len()).min(values.len());
            self.pending.extend_from_slice(&values[..take]);
            values = &values[take..];
            if self.pending.len() == m {
                let full = std::mem::take(&mut self.pending);
                self.write_blocks(alloc, io, &full)?;
            }
        }
        let full = values.len() / m * m;
        for batch in values[..full].chunks(BATCH_BLOCKS * m) {
            self.write_blocks(alloc, io, batch)?;
        }
        self.pending.extend_from_slice(&values[full..]);
        Ok(())
    }

    /// Writes the last, partial array block and the index; returns the index root. The
    /// caller records the reference to the root.
    pub fn finish(mut self, alloc: &mut BlockAllocator, io: &dyn BlockIo) -> Result<MetaBlock> {
        if !self.pending.is_empty() {
            let last = std::mem::take(&mut self.pending);
            self.write_blocks(alloc, io, &last)?;
        }
        self.index.finish(alloc, io)
    }

    /// Packs and writes `values` as consecutive array blocks, all full except perhaps
    /// the last, and adds them to the index.
    fn write_blocks(
        &mut self,
        alloc: &mut BlockAllocator,
        io: &dyn BlockIo,
        values: &[V],
    ) -> Result<()> {
        let m = Self::M;
        let n = values.len().div_ceil(m);
        let first = alloc.alloc_run(n as u64)?;
        let blocks: Vec<Box<BlockBuf>> = values
            .par_chunks(m)
            .enumerate()
            .map(|(i, chunk)| pack_array_block(first.offset(i as u64), chunk))
            .collect();
        for (i, b) in blocks.iter().enumerate() {
            let block = first.offset(i as u64);
            write_block(io, block, b)?;
            alloc.inc(block);
            self.index.push(alloc, io, self.nr_array_blocks, &block)?;
            self.nr_array_blocks += 1;
        }
        Ok(())
    }
}

/// Writes a whole array; returns its root (not yet referenced).
#[cfg(test)]
pub fn write_array<V: Value>(
    alloc: &mut BlockAllocator,
    io: &dyn BlockIo,
    values: &[V],
) -> Result<MetaBlock> {
    let mut b = ArrayBuilder::new();
    b.push(alloc, io, values)?;
    b.finish(alloc, io)
}

/// A sealed array block at `location` holding `values` (at most `max_entries`).
pub fn pack_array_block<V: Value>(location: MetaBlock, values: &[V]) -> Box<BlockBuf> {
    pack_array_block_with::<V>(location, values.len(), |i, out| values[i].encode(out))
}

#[cfg(test)]
mod tests;

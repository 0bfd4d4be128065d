//! Streaming reads of a dm-array (format.md §5): the index is read once (one pointer per
//! array block, 8 bytes for every `M` values), then any range of array blocks is read,
//! checked as [`super::read_array`] checks it, and decoded on demand. A reader
//! holds the index only, so that an array far larger than memory can be read in pieces
//! and in order.

use super::block::values;
use super::{array_block_pointers, array_max_entries, check_array_block, consecutive_runs};
use crate::checksum::BlockKind;
use crate::io::BlockIo;
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use crate::value::{decode_in, Value};
use crate::{Error, Result};
use rayon::prelude::*;
use std::marker::PhantomData;
use std::ops::Range;

/// Array blocks read by one task at most: enough for a few large reads per thread.
const BLOCKS_PER_TASK: usize = 16;

/// An array of `len` values of type `V`, its index read.
pub struct ArrayReader<'a, V: Value> {
    io: &'a dyn BlockIo,
    ptrs: Vec<MetaBlock>,
    len: u64,
    value: PhantomData<V>,
}

impl<'a, V: Value + Default> ArrayReader<'a, V> {
    /// Reads and checks the index of the array at `root`: exactly the array blocks an
    /// array of `len` values needs ([`array_block_pointers`]).
    pub fn open(io: &'a dyn BlockIo, root: MetaBlock, len: u64) -> Result<ArrayReader<'a, V>> {
        Ok(ArrayReader {
            io,
            ptrs: array_block_pointers(io, root, len, V::SIZE)?,
            len,
            value: PhantomData,
        })
    }

    /// The number of values.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the array holds no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of array blocks.
    pub fn nr_blocks(&self) -> usize {
        self.ptrs.len()
    }

    /// Values per array block.
    pub fn entries_per_block(&self) -> u64 {
        u64::from(array_max_entries(V::SIZE))
    }

    /// The values of array blocks `blocks` (indices, clipped to the array), decoded
    /// into `out`, which is cleared first. Runs of consecutive block
    /// numbers are read with one call each, in parallel. Every block is checked; the
    /// error names the first bad block of the range.
    pub fn read_blocks(&self, blocks: Range<usize>, out: &mut Vec<V>) -> Result<()> {
        out.clear();
        let end = blocks.end.min(self.ptrs.len());
        let start = blocks.start.min(end);
        if start == end {
            return Ok(());
        }
        let m = array_max_entries(V::SIZE) as usize;
        // At most `len` values: `start < end <= ptrs.len() = ceil(len / m)`.
        let nr_values = |idx: usize| -> usize {
            let before = (idx as u64).saturating_mul(m as u64);
            self.len.saturating_sub(before).min(m as u64) as usize
        };
        let total: usize = (start..end).map(nr_values).sum();
        out.resize(total, V::default());
        let ptrs = &self.ptrs[start..end];
        let runs = consecutive_runs(ptrs, BLOCKS_PER_TASK);
        let mut pieces = Vec::with_capacity(runs.len());
        let mut rest: &mut [V] = out;
        for &(first, count) in &runs {
            let n: usize = (start + first..start + first + count).map(nr_values).sum();
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(n);
            pieces.push((first, count, head));
            rest = tail;
        }
        let results: Vec<Result<()>> = pieces
            .into_par_iter()
            .map_init(Vec::new, |buf: &mut Vec<u8>, (first, count, dest)| {
                let first_block = ptrs[first];
                buf.resize(count * BLOCK_SIZE, 0);
                self.io
                    .read_blocks(first_block, buf)
                    .map_err(|source| Error::Io {
                        block: first_block,
                        source,
                    })?;
                let mut at = 0;
                for (j, chunk) in buf.chunks_exact(BLOCK_SIZE).enumerate() {
                    let block = ptrs[first + j];
                    let data: &BlockBuf = chunk
                        .try_into()
                        .map_err(|_| Error::invalid(block, BlockKind::ArrayBlock, "short read"))?;
                    let nr = nr_values(start + first + j);
                    check_array_block::<V>(block, data, nr)?;
                    let values = values(data, V::SIZE, nr);
                    for (k, (d, v)) in dest[at..at + nr]
                        .iter_mut()
                        .zip(values.chunks_exact(V::SIZE))
                        .enumerate()
                    {
                        *d = decode_in(block, BlockKind::ArrayBlock, k, v)?;
                    }
                    at += nr;
                }
                Ok(())
            })
            .collect();
        // The first failure in array order, whichever task met it first.
        results.into_iter().collect()
    }

    /// Reads and checks array blocks `from..`, `group` at a time, keeping nothing: for a
    /// reader that took only some ranges, so that damage anywhere is found as a whole
    /// read finds it.
    pub fn check_from(&self, from: usize, group: usize) -> Result<()> {
        let mut scratch: Vec<V> = Vec::new();
        for g in (from..self.nr_blocks()).step_by(group.max(1)) {
            self.read_blocks(g..g + group, &mut scratch)?;
        }
        Ok(())
    }

    /// The array blocks holding values `values` (a range of value indices).
    pub fn blocks_of(&self, values: Range<u64>) -> Range<usize> {
        let m = self.entries_per_block();
        let to_index = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        if values.start >= values.end {
            let at = to_index(values.start / m);
            return at..at;
        }
        to_index(values.start / m)..to_index(values.end.div_ceil(m))
    }
}

#[cfg(test)]
mod tests;

//! Streaming reads of a dm-array (format.md §5): the index is read once (one pointer per
//! array block, 8 bytes for every `M` values), then any range of array blocks is read,
//! checked as [`super::read_array`] checks it, and decoded on demand. A reader
//! holds the index only, so that an array far larger than memory can be read in pieces
//! and in order.

use super::block::values;
use super::{array_block_pointers, array_max_entries, check_array_block, consecutive_runs};
use crate::io::BlockIo;
use crate::pdata::checksum::BlockKind;
use crate::pdata::{Error, Result};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use rayon::prelude::*;
use std::ops::Range;

/// Array blocks read by one task at most: enough for a few large reads per thread.
const BLOCKS_PER_TASK: usize = 16;

/// An array of `len` values of `value_size` bytes, its index read.
pub struct ArrayReader<'a> {
    io: &'a dyn BlockIo,
    ptrs: Vec<MetaBlock>,
    len: u64,
    value_size: usize,
}

impl<'a> ArrayReader<'a> {
    /// Reads and checks the index of the array at `root`: exactly the array blocks an
    /// array of `len` values needs ([`array_block_pointers`]).
    pub fn open(
        io: &'a dyn BlockIo,
        root: MetaBlock,
        len: u64,
        value_size: usize,
    ) -> Result<ArrayReader<'a>> {
        Ok(ArrayReader {
            io,
            ptrs: array_block_pointers(io, root, len, value_size)?,
            len,
            value_size,
        })
    }

    /// The number of values.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The number of array blocks.
    pub fn nr_blocks(&self) -> usize {
        self.ptrs.len()
    }

    /// Values per array block.
    pub fn entries_per_block(&self) -> u64 {
        u64::from(array_max_entries(self.value_size))
    }

    /// The values of array blocks `blocks` (indices, clipped to the array), decoded
    /// with `decode` into `out`, which is cleared first. Runs of consecutive block
    /// numbers are read with one call each, in parallel. Every block is checked; the
    /// error names the first bad block of the range.
    pub fn read_blocks<T: Send + Copy + Default>(
        &self,
        blocks: Range<usize>,
        decode: impl Fn(&[u8]) -> T + Sync,
        out: &mut Vec<T>,
    ) -> Result<()> {
        out.clear();
        let end = blocks.end.min(self.ptrs.len());
        let start = blocks.start.min(end);
        if start == end {
            return Ok(());
        }
        let m = array_max_entries(self.value_size) as usize;
        // At most `len` values: `start < end <= ptrs.len() = ceil(len / m)`.
        let nr_values = |idx: usize| -> usize {
            let before = (idx as u64).saturating_mul(m as u64);
            self.len.saturating_sub(before).min(m as u64) as usize
        };
        let total: usize = (start..end).map(nr_values).sum();
        out.resize(total, T::default());
        let ptrs = &self.ptrs[start..end];
        let runs = consecutive_runs(ptrs, BLOCKS_PER_TASK);
        let mut pieces = Vec::with_capacity(runs.len());
        let mut rest: &mut [T] = out;
        for &(first, count) in &runs {
            let n: usize = (start + first..start + first + count).map(nr_values).sum();
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(n);
            pieces.push((first, count, head));
            rest = tail;
        }
        let value_size = self.value_size;
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
                    check_array_block(block, data, value_size as u32, nr as u32)?;
                    let values = values(data, value_size, nr);
                    for (d, v) in dest[at..at + nr]
                        .iter_mut()
                        .zip(values.chunks_exact(value_size))
                    {
                        *d = decode(v);
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
        let mut none: Vec<()> = Vec::new();
        for g in (from..self.nr_blocks()).step_by(group.max(1)) {
            self.read_blocks(g..g + group, |_| (), &mut none)?;
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

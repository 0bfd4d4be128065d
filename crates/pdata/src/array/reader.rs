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
mod tests {
    use super::*;
    use crate::alloc::BlockAllocator;
    use crate::array::builder::write_array;
    use crate::array::read_array;
    use crate::bitset::builder::write_bitset;
    use crate::bitset::{mask_tail, nr_words, read_bitset};
    use crate::btree::{put_value, NodeHeader, NodeView};
    use crate::checksum::seal;
    use crate::io::MemIo;
    use crate::{read_block, write_block};

    #[test]
    fn ranges_of_blocks_read_what_the_whole_array_holds() {
        let io = MemIo::new(64);
        let mut alloc = BlockAllocator::new(MetaBlock::new(1), 64);
        let values: Vec<u32> = (0..5000u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let root = write_array(&mut alloc, &io, &values).unwrap();
        let whole = read_array::<u32>(&io, root, values.len() as u64).unwrap();
        assert_eq!(whole, values);
        let r = ArrayReader::<u32>::open(&io, root, values.len() as u64).unwrap();
        assert_eq!(r.nr_blocks(), 5);
        let mut out = Vec::new();
        let mut joined = Vec::new();
        for b in 0..r.nr_blocks() {
            r.read_blocks(b..b + 1, &mut out).unwrap();
            joined.extend_from_slice(&out);
        }
        assert_eq!(joined, values);
        r.read_blocks(1..99, &mut out).unwrap();
        assert_eq!(out, values[1018..]);
        r.read_blocks(7..9, &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(r.blocks_of(1017..1019), 0..2);
        assert_eq!(r.blocks_of(1018..2036), 1..2);
        assert_eq!(r.blocks_of(5..5), 0..0);
    }

    /// Sets value `entry` of btree node `node` to `to` (a block number) and re-seals it.
    fn point(io: &MemIo, node: MetaBlock, entry: usize, to: MetaBlock) {
        let mut data = read_block(io, node).unwrap();
        let h = NodeHeader::decode(&data);
        put_value(&mut data, &h, entry, &to.get().to_le_bytes());
        seal(&mut data, BlockKind::BtreeNode);
        write_block(io, node, &data).unwrap();
    }

    /// The node `entry` of node `node` points to.
    fn child(io: &MemIo, node: MetaBlock, entry: usize) -> MetaBlock {
        let data = read_block(io, node).unwrap();
        NodeView::parse(node, &data).unwrap().value_block(entry)
    }

    /// R6 (testdata/repro): one array block listed at two places of the index hands its values
    /// to both and the replaced block's to none; every read refuses, naming both places.
    #[test]
    fn an_array_block_listed_twice_is_refused() {
        let io = MemIo::new(64);
        let mut alloc = BlockAllocator::new(MetaBlock::new(1), 64);
        let values: Vec<u32> = (0..5000u32).collect();
        let root = write_array(&mut alloc, &io, &values).unwrap();
        point(&io, root, 3, child(&io, root, 1));
        let want = format!(
            "array block {} is listed twice in the array index at block {root}: at index 1 and at index 3",
            child(&io, root, 1)
        );
        let e = ArrayReader::<u32>::open(&io, root, 5000).err().unwrap();
        assert!(
            matches!(
                e,
                Error::ListedTwice {
                    first: 1,
                    second: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(e.to_string(), want);
        let e = read_array::<u32>(&io, root, 5000).unwrap_err();
        assert_eq!(e.to_string(), want);
    }

    /// The same in a writeset's bitset (an array of u64 words).
    #[test]
    fn a_bitset_block_listed_twice_is_refused() {
        let io = MemIo::new(64);
        let mut alloc = BlockAllocator::new(MetaBlock::new(1), 64);
        let nr_bits = 4 * 509 * 64 + 7;
        let mut words: Vec<u64> = (0..nr_words(nr_bits)).map(|i| i * 3 + 1).collect();
        mask_tail(&mut words, nr_bits);
        let root = write_bitset(&mut alloc, &io, &words, nr_bits).unwrap();
        assert_eq!(read_bitset(&io, root, nr_bits).unwrap(), words);
        point(&io, root, 0, child(&io, root, 4));
        let e = read_bitset(&io, root, nr_bits).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ListedTwice {
                    first: 0,
                    second: 4,
                    ..
                }
            ),
            "{e}"
        );
    }

    /// Two entries of a two-level index pointing at one leaf: the btree walk's own
    /// guard (a node reached twice) refuses it, naming both entries.
    #[test]
    fn an_index_leaf_reached_twice_is_refused() {
        let io = MemIo::new(300);
        let mut alloc = BlockAllocator::new(MetaBlock::new(1), 300);
        let len = 253 * 1018;
        let values: Vec<u32> = (0..len).collect();
        let root = write_array(&mut alloc, &io, &values).unwrap();
        let data = read_block(&io, root).unwrap();
        let n = NodeView::parse(root, &data).unwrap();
        assert!(!n.is_leaf() && n.nr_entries == 2, "a two-level index");
        point(&io, root, 1, child(&io, root, 0));
        let e = ArrayReader::<u32>::open(&io, root, len.into())
            .err()
            .unwrap();
        assert!(matches!(e, Error::Cycle { .. }), "{e}");
        assert_eq!(e.block(), Some(child(&io, root, 0)));
        assert!(
            e.to_string().ends_with(&format!(
                "from entry 0 of node {root} and from entry 1 of node {root}"
            )),
            "{e}"
        );
    }
}

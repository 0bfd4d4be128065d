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
mod tests {
    use super::*;
    use crate::array::{nr_array_blocks, read_array};
    use crate::bitset::builder::write_bitset;
    use crate::bitset::read_bitset;
    use crate::btree::{btree_nr_nodes, NodeView};
    use crate::codec::{get_u32, get_u64};
    use crate::io::MemIo;
    use crate::read_block;

    #[test]
    fn pushed_pieces_read_back_as_one_array_with_the_spec_leaf_split() {
        // 600000 eras: 590 array blocks, leaves of 252/169/169 under one root (format.md §10.2).
        let n = 600_000u32;
        let values: Vec<u32> = (0..n).map(|i| i.wrapping_mul(2_654_435_761) >> 7).collect();
        let io = MemIo::new(700);
        let mut alloc = BlockAllocator::new(MetaBlock::new(1), 700);
        let mut b = ArrayBuilder::<u32>::new();
        let mut at = 0usize;
        for piece in [1usize, 1017, 3000, 300_000, 5, 295_977].iter().cycle() {
            let end = (at + piece).min(values.len());
            b.push(&mut alloc, &io, &values[at..end]).unwrap();
            at = end;
            if at == values.len() {
                break;
            }
        }
        let root = b.finish(&mut alloc, &io).unwrap();
        let back = read_array::<u32>(&io, root, n as u64).unwrap();
        assert!(back == values);
        let blocks = nr_array_blocks(n as u64, 4);
        assert_eq!(blocks, 590);
        assert_eq!(
            alloc.next_free(),
            MetaBlock::new(1 + blocks + btree_nr_nodes(blocks, 8))
        );
        let data = read_block(&io, root).unwrap();
        let node = NodeView::parse(root, &data).unwrap();
        let sizes: Vec<u32> = (0..node.nr_entries as usize)
            .map(|i| {
                let c = node.value_block(i);
                let d = read_block(&io, c).unwrap();
                NodeView::parse(c, &d).unwrap().nr_entries
            })
            .collect();
        assert_eq!(sizes, vec![252, 169, 169]);
        // Every array block and non-root node is referenced exactly once.
        let counts = alloc.counts();
        assert_eq!(counts[root.index().unwrap()], 0);
        assert_eq!(
            counts.iter().filter(|&&c| c == 1).count() as u64,
            blocks + 3
        );
    }

    #[test]
    fn array_blocks_carry_the_spec_header() {
        let b = pack_array_block::<u64>(MetaBlock::new(9), &[1, 2, 3]);
        assert_eq!(get_u32(&b[..], 4), 509);
        assert_eq!(get_u32(&b[..], 8), 3);
        assert_eq!(get_u32(&b[..], 12), 8);
        assert_eq!(get_u64(&b[..], 16), 9);
        assert_eq!(get_u64(&b[..], 24 + 16), 3);
        assert!(b[24 + 24..].iter().all(|&x| x == 0));
    }

    #[test]
    fn bitsets_round_trip_with_the_tail_cleared() {
        for nr_bits in [0u64, 1, 64, 65, 32_576, 32_577, 100_000] {
            let mut words: Vec<u64> = (0..nr_bits.div_ceil(64))
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1 << 63)
                .collect();
            let io = MemIo::new(64);
            let mut alloc = BlockAllocator::new(MetaBlock::new(1), 64);
            let root = write_bitset(&mut alloc, &io, &words, nr_bits).unwrap();
            crate::bitset::mask_tail(&mut words, nr_bits);
            assert_eq!(read_bitset(&io, root, nr_bits).unwrap(), words, "{nr_bits}");
            if nr_bits % 64 != 0 {
                // The bits beyond nr_bits are zero on disk, not only masked by the reader.
                let raw = read_array::<u64>(&io, root, nr_bits.div_ceil(64)).unwrap();
                assert_eq!(raw.last(), words.last());
            }
        }
        let io = MemIo::new(4);
        let mut alloc = BlockAllocator::new(MetaBlock::new(1), 4);
        assert!(write_bitset(&mut alloc, &io, &[0, 0], 64).is_err());
    }
}

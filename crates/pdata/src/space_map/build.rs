//! Writing a metadata space map from final reference counts (format.md §7, §10.3).
//!
//! Order of allocation, after every counted structure: the bitmaps, then the ref-count
//! tree (blocks with count ≥ 3), then the index block. The space map's own blocks have
//! count 1 and never overflow, so the ref-count tree is known before it is written.

use super::disk::{pack_bitmap, pack_index, IndexEntry, ENTRIES_PER_BITMAP, MAX_METADATA_BLOCKS};
use super::SmRoot;
use crate::alloc::BlockAllocator;
use crate::btree::{btree_nr_nodes, BtreeBuilder};
use crate::io::BlockIo;
use crate::units::MetaBlock;
use crate::value::Value;
use crate::{write_block, Error, Result};

/// Leaf value size of the ref-count tree.
const REF_COUNT_VALUE_SIZE: usize = <u32 as Value>::SIZE;

/// The number of metadata blocks a space map on a device of `device_blocks` manages.
pub fn managed_blocks(device_blocks: u64) -> u64 {
    device_blocks.min(MAX_METADATA_BLOCKS)
}

/// Blocks the space map itself takes when it manages `nr_blocks` blocks and
/// `nr_overflow` of them have a count ≥ 3.
pub fn space_map_size(nr_blocks: u64, nr_overflow: u64) -> u64 {
    nr_blocks.div_ceil(ENTRIES_PER_BITMAP as u64)
        + btree_nr_nodes(nr_overflow, REF_COUNT_VALUE_SIZE)
        + 1
}

/// Allocates and writes the space map of `nr_blocks` managed blocks (at most
/// [`MAX_METADATA_BLOCKS`]) from the allocator's counts, and returns its root.
pub fn write_space_map(
    alloc: &mut BlockAllocator,
    io: &dyn BlockIo,
    nr_blocks: u64,
) -> Result<SmRoot> {
    let nr_blocks = nr_blocks.min(MAX_METADATA_BLOCKS);
    let nr_bitmaps = nr_blocks.div_ceil(ENTRIES_PER_BITMAP as u64);
    let overflow: Vec<(u64, u32)> = alloc
        .counts()
        .iter()
        .enumerate()
        .filter(|(_, &c)| c >= 3)
        .map(|(b, &c)| (b as u64, c))
        .collect();
    let first_bitmap = alloc.alloc_run(nr_bitmaps)?;
    let mut tree = BtreeBuilder::<u32>::new();
    for &(block, count) in &overflow {
        tree.push(alloc, io, block, &count)?;
    }
    let ref_count_root = tree.finish(alloc, io)?;
    let index: MetaBlock = alloc.alloc()?;
    for i in 0..nr_bitmaps {
        alloc.inc(first_bitmap.offset(i));
    }
    alloc.inc(ref_count_root);
    alloc.inc(index);
    let counts = alloc.counts();
    if counts.len() as u64 > nr_blocks {
        return Err(Error::NoSpace { nr_blocks });
    }
    let mut entries = Vec::with_capacity(nr_bitmaps as usize);
    let mut bits = vec![0u8; ENTRIES_PER_BITMAP];
    for i in 0..nr_bitmaps as usize {
        let start = (i * ENTRIES_PER_BITMAP).min(counts.len());
        let end = ((i + 1) * ENTRIES_PER_BITMAP).min(counts.len());
        bits.fill(0);
        for (e, &c) in bits.iter_mut().zip(&counts[start..end]) {
            *e = c.min(3) as u8;
        }
        let used = bits.iter().filter(|&&e| e != 0).count();
        let blocknr = first_bitmap.offset(i as u64);
        write_block(io, blocknr, &pack_bitmap(blocknr, &bits))?;
        entries.push(IndexEntry {
            blocknr,
            nr_free: (ENTRIES_PER_BITMAP - used) as u32,
            none_free_before: bits
                .iter()
                .position(|&e| e == 0)
                .unwrap_or(ENTRIES_PER_BITMAP) as u32,
        });
    }
    write_block(io, index, &pack_index(index, &entries))?;
    Ok(SmRoot {
        nr_blocks,
        nr_allocated: counts.iter().filter(|&&c| c != 0).count() as u64,
        bitmap_root: index,
        ref_count_root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btree::btree_shape;
    use crate::io::MemIo;
    use crate::space_map::{read_index, read_ref_counts};

    #[test]
    fn managed_blocks_are_clamped_to_the_format_limit() {
        assert_eq!(managed_blocks(256), 256);
        assert_eq!(managed_blocks(4_194_304), 4_161_600);
        assert_eq!(space_map_size(256, 0), 3);
        assert_eq!(space_map_size(16_384, 0), 4);
        assert_eq!(space_map_size(4_161_600, 337), 255 + 2 + 1 + 1);
    }

    #[test]
    fn written_counts_read_back_exactly_with_overflow_and_two_bitmaps() {
        let device = 17_100;
        let io = MemIo::new(device);
        let mut alloc = BlockAllocator::new(MetaBlock::new(1), device);
        alloc.alloc_run(17_000).unwrap();
        alloc.inc(MetaBlock::new(0));
        for b in 1..17_001u64 {
            let c = match b % 7 {
                0 | 1 => 1,
                2 => 2,
                3 => 3,
                4 => 0,
                5 => 4 + (b % 1000) as u32,
                _ => 1,
            };
            for _ in 0..c {
                alloc.inc(MetaBlock::new(b));
            }
        }
        let before: Vec<u32> = alloc.counts().to_vec();
        let overflow = before.iter().filter(|&&c| c >= 3).count() as u64;
        assert!(
            btree_shape(overflow, 4).len() >= 2,
            "want a multi-level ref-count tree"
        );
        let root = write_space_map(&mut alloc, &io, device).unwrap();
        let after = alloc.counts();
        assert_eq!(
            after.len() as u64,
            17_001 + space_map_size(device, overflow)
        );
        assert_eq!(&after[..before.len()], &before[..]);
        assert!(after[before.len()..].iter().all(|&c| c == 1));

        let mut expect = after.to_vec();
        expect.resize(device as usize, 0);
        assert_eq!(read_ref_counts(&io, &root).unwrap(), expect);
        assert_eq!(root.nr_blocks, device);
        assert_eq!(
            root.nr_allocated,
            expect.iter().filter(|&&c| c != 0).count() as u64
        );
        let index = read_index(&io, &root).unwrap();
        for (i, e) in index.iter().enumerate().take(2) {
            let lo = i * ENTRIES_PER_BITMAP;
            let slice: Vec<u32> = (lo..lo + ENTRIES_PER_BITMAP)
                .map(|b| expect.get(b).copied().unwrap_or(0))
                .collect();
            let free = slice.iter().filter(|&&c| c == 0).count() as u32;
            let first = slice
                .iter()
                .position(|&c| c == 0)
                .unwrap_or(ENTRIES_PER_BITMAP) as u32;
            assert_eq!((e.nr_free, e.none_free_before), (free, first), "bitmap {i}");
        }
        assert_eq!(index[2].blocknr, MetaBlock::new(0));
    }

    #[test]
    fn a_device_too_small_for_the_space_map_is_refused() {
        let io = MemIo::new(10);
        let mut alloc = BlockAllocator::new(MetaBlock::new(1), 10);
        alloc.alloc_run(7).unwrap();
        assert!(matches!(
            write_space_map(&mut alloc, &io, 10),
            Err(Error::NoSpace { .. })
        ));
    }
}

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
mod tests;

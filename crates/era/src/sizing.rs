//! How large a metadata device a running era target needs (format.md §4–§7,
//! target.md §3.1, §6, §8, §9.4).
//!
//! The space map is created over the device once, at format, and never extended, so the
//! device must be large enough from the start for the largest transaction the target
//! will open. That is reached while a digest is in flight with a metadata snapshot held:
//!
//! * the superblock, and the snapshot's copy of it;
//! * the era array (`nr_blocks` u32 values, 1,018 per array block, plus the btree of
//!   their locations) **three times**: the copy the snapshot holds, the committed one,
//!   and the copy the digest writes (every array block it changes is shadowed, and the
//!   old one is freed only at the next commit);
//! * the writeset bitsets (`ceil(nr_blocks / 64)` u64 words, 509 per array block, plus
//!   their btree) **four times**: the one the snapshot holds, the one being digested,
//!   the current one, and the copies its writes shadow before the next commit;
//! * the writeset tree (a few nodes);
//! * the space map itself: its index, its reference-count tree and one bitmap per 16,320
//!   blocks, each of which a commit shadows.
//!
//! Btree nodes are counted half full, as sequential inserts leave them.

use crate::pdata::array::block::array_max_entries;
use crate::pdata::bitset::nr_words;
use crate::pdata::btree::max_entries;
use crate::pdata::space_map::{ENTRIES_PER_BITMAP, MAX_METADATA_BLOCKS};
use crate::units::BLOCK_SIZE;

/// Blocks of the writeset tree, with a shadow of each, and of the ref-count tree.
const SMALL_TREES: u64 = 4;

/// Nodes of a btree holding `entries` u64 values, every node half full.
fn btree_nodes(entries: u64) -> u64 {
    let per_node = u64::from(max_entries(8) / 2);
    let mut level = entries.max(1);
    let mut total = 0;
    loop {
        let nodes = level.div_ceil(per_node);
        total += nodes;
        if nodes <= 1 {
            return total;
        }
        level = nodes;
    }
}

/// Blocks of a dm-array of `values` values of `value_size` bytes: the array blocks and
/// the btree that indexes them.
fn array_blocks(values: u64, value_size: usize) -> u64 {
    let ablocks = values.div_ceil(u64::from(array_max_entries(value_size)));
    ablocks + btree_nodes(ablocks)
}

/// The metadata a target of `nr_blocks` origin blocks needs, in 4 KiB blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataSize {
    /// Origin blocks tracked (`ceil(length / block_size)`).
    pub nr_blocks: u64,
    /// Metadata blocks needed, the space map included.
    pub blocks: u64,
}

impl MetadataSize {
    /// The size needed for `nr_blocks` origin blocks.
    pub fn for_blocks(nr_blocks: u64) -> MetadataSize {
        let era_array = array_blocks(nr_blocks, 4);
        let writeset = array_blocks(nr_words(nr_blocks), 8);
        let body = 2 + SMALL_TREES + 3 * era_array + 4 * writeset;
        // The space map: index, ref-count root, and each bitmap with its shadow; its
        // size depends on the total it manages.
        let mut total = body;
        loop {
            let bitmaps = total.div_ceil(ENTRIES_PER_BITMAP as u64);
            let next = body + 2 + 2 * bitmaps;
            if next <= total {
                break;
            }
            total = next;
        }
        MetadataSize {
            nr_blocks,
            blocks: total,
        }
    }

    /// The size needed for an origin of `origin_bytes` bytes in blocks of
    /// `block_sectors` 512-byte sectors (a partial last block counts).
    pub fn for_origin(origin_bytes: u64, block_sectors: u32) -> MetadataSize {
        let sectors = origin_bytes.div_ceil(512);
        Self::for_blocks(sectors.div_ceil(u64::from(block_sectors.max(1))))
    }

    /// The size in bytes.
    pub fn bytes(&self) -> u64 {
        self.blocks * BLOCK_SIZE as u64
    }

    /// Whether the space map can manage that many blocks at all (it addresses at most
    /// 4,161,600 blocks, about 15.9 GiB, whatever the device's size).
    pub fn addressable(&self) -> bool {
        self.blocks <= MAX_METADATA_BLOCKS
    }
}

/// A byte count in the largest binary unit that keeps it at least 1, rounded up to one
/// decimal (`4.1 MiB`), for messages.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut unit = 0;
    let mut scale = 1u64;
    while unit + 1 < UNITS.len() && bytes >= scale * 1024 {
        scale *= 1024;
        unit += 1;
    }
    if unit == 0 {
        return format!("{bytes} bytes");
    }
    let tenths = (bytes * 10).div_ceil(scale);
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_origin_needs_a_handful_of_blocks() {
        let s = MetadataSize::for_blocks(1000);
        // sb + snapshot + trees + 3 x (1 ablock + 1 node) + 4 x (1 + 1) + sm (2 + 2).
        assert_eq!(s.blocks, 2 + 4 + 6 + 8 + 4);
    }

    #[test]
    fn the_era_array_dominates_a_large_origin() {
        // 1 TiB in 64 KiB blocks: 16 Mi blocks, 16,482 era array blocks.
        let s = MetadataSize::for_origin(1 << 40, 128);
        assert_eq!(s.nr_blocks, 1 << 24);
        let era_array = (1u64 << 24).div_ceil(1018);
        assert!(s.blocks > 3 * era_array, "{s:?}");
        assert!(s.blocks < 3 * era_array * 11 / 10, "{s:?}");
        assert!(s.addressable());
        // The largest origin the target takes, in the smallest blocks, cannot fit.
        assert!(!MetadataSize::for_blocks((1 << 31) - 1).addressable());
    }

    #[test]
    fn human_bytes_rounds_up() {
        assert_eq!(human_bytes(4096), "4.0 KiB");
        assert_eq!(human_bytes(4 << 20), "4.0 MiB");
        assert_eq!(human_bytes((4 << 20) + 1), "4.1 MiB");
        assert_eq!(human_bytes(100), "100 bytes");
    }
}

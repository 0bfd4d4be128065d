//! The metadata space map (format.md §7): a root inside the superblock, an index block,
//! bitmap blocks of 2-bit reference counts and a btree of counts ≥ 3.

mod build;
mod core;
mod disk;

pub use self::core::CoreSpaceMap;
pub use build::{managed_blocks, space_map_size, write_space_map};
pub use disk::{
    bitmap_entries, bitmap_position, pack_bitmap, pack_index, read_bitmap, read_index,
    read_ref_counts, set_bitmap_entry, unpack_bitmap, unpack_index, IndexEntry, ENTRIES_PER_BITMAP,
    MAX_BITMAPS, MAX_METADATA_BLOCKS,
};

use super::codec::{get_block, get_u64, put_block, put_u64};
use crate::units::MetaBlock;

/// Size of the space-map root inside the superblock (followed by 96 zero bytes).
pub const SM_ROOT_SIZE: usize = 32;

/// The space-map root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SmRoot {
    /// Metadata blocks managed.
    pub nr_blocks: u64,
    /// Managed blocks with a non-zero count.
    pub nr_allocated: u64,
    /// The index block.
    pub bitmap_root: MetaBlock,
    /// Root of the ref-count btree.
    pub ref_count_root: MetaBlock,
}

impl SmRoot {
    /// Decodes the root from its 32 bytes.
    pub fn unpack(b: &[u8]) -> SmRoot {
        SmRoot {
            nr_blocks: get_u64(b, 0),
            nr_allocated: get_u64(b, 8),
            bitmap_root: get_block(b, 16),
            ref_count_root: get_block(b, 24),
        }
    }

    /// Encodes the root into its 32 bytes.
    pub fn pack(&self, b: &mut [u8]) {
        put_u64(b, 0, self.nr_blocks);
        put_u64(b, 8, self.nr_allocated);
        put_block(b, 16, self.bitmap_root);
        put_block(b, 24, self.ref_count_root);
    }

    /// Number of bitmaps this root's `nr_blocks` needs.
    pub fn nr_bitmaps(&self) -> u64 {
        self.nr_blocks.div_ceil(ENTRIES_PER_BITMAP as u64)
    }
}

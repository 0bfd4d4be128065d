//! Reference counts computed from the structures a check walks (format.md §7.5).

use crate::ref_counts::RefCountTable;
use crate::units::MetaBlock;

/// The number of references found to every block the space map manages. References to
/// blocks beyond it are remembered only by count (the check reports them where found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefCounts {
    counts: RefCountTable,
    device_blocks: u64,
    beyond: u64,
}

impl RefCounts {
    /// Counts for blocks `0..space_map_blocks` of a device of `device_blocks` blocks.
    pub fn new(space_map_blocks: u64, device_blocks: u64) -> RefCounts {
        RefCounts {
            counts: RefCountTable::new(space_map_blocks),
            device_blocks,
            beyond: 0,
        }
    }

    /// Number of blocks counted (the space map's size, clamped to the device).
    pub fn space_map_blocks(&self) -> u64 {
        self.counts.len()
    }

    /// Number of blocks on the device.
    pub fn device_blocks(&self) -> u64 {
        self.device_blocks
    }

    /// Adds one reference to `block`.
    pub fn add(&mut self, block: MetaBlock) {
        if self.counts.inc(block).is_err() {
            self.beyond += 1;
        }
    }

    /// References found to `block` (0 beyond the space map).
    pub fn get(&self, block: MetaBlock) -> u32 {
        self.counts.get(block)
    }

    /// References found to blocks beyond the space map.
    pub fn beyond_space_map(&self) -> u64 {
        self.beyond
    }

    /// Number of distinct blocks with at least one reference.
    pub fn nr_referenced(&self) -> u64 {
        self.counts.nr_nonzero()
    }
}

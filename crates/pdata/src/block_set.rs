//! A set of metadata block numbers: one bit per block the space map can manage, a hash set for
//! the (invalid) rest, so that marking every block of the largest metadata device costs
//! half a megabyte.

use crate::bitset::{set_bit, test_bit};
use crate::space_map::MAX_METADATA_BLOCKS;
use crate::units::MetaBlock;
use std::collections::HashSet;

/// Metadata blocks seen so far (by a walk that must visit each block once).
#[derive(Debug, Clone, Default)]
pub struct MetaBlockSet {
    bits: Vec<u64>,
    rest: HashSet<MetaBlock>,
}

impl MetaBlockSet {
    /// An empty set.
    pub fn new() -> MetaBlockSet {
        MetaBlockSet::default()
    }

    /// Adds `block`; true if it was not in the set yet.
    pub fn insert(&mut self, block: MetaBlock) -> bool {
        let w = match block.index() {
            Some(i) if block.is_below(MAX_METADATA_BLOCKS) => i / 64,
            _ => return self.rest.insert(block),
        };
        if w >= self.bits.len() {
            self.bits.resize(w + 1, 0);
        }
        let was = test_bit(&self.bits, block.get());
        set_bit(&mut self.bits, block.get());
        !was
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_reports_first_time_only() {
        let mut s = MetaBlockSet::new();
        for b in [0, 63, 64, 1_000_000, MAX_METADATA_BLOCKS, u64::MAX].map(MetaBlock::new) {
            assert!(s.insert(b), "{b}");
            assert!(!s.insert(b), "{b}");
        }
        assert!(s.insert(MetaBlock::new(1)));
    }
}

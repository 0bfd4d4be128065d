//! The in-core copy of the current era's writeset (target.md §7.3 step 1), shared with
//! the fast I/O path: a write whose blocks are all marked goes to the origin without the
//! worker. The worker sets bits after each commit and swaps in an empty bitset at each
//! new era.

use crate::pdata::bitset::nr_words;
use crate::units::DataBlock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// The current era's in-core marks.
#[derive(Debug, Default)]
pub struct EraMap {
    bits: RwLock<Arc<[AtomicU64]>>,
}

impl EraMap {
    /// An empty map (no blocks).
    pub fn new() -> EraMap {
        EraMap::default()
    }

    fn current(&self) -> Arc<[AtomicU64]> {
        // A poisoned lock still holds a valid bitset: the writers never leave it half
        // swapped.
        let g = self.bits.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&g)
    }

    /// Replaces the bitset with an empty one of `nr_blocks` bits (a new era).
    /// The old bitset is let go before the new one is allocated, so that two never
    /// coexist (at 2^28 blocks each is 32 MiB); in between, every block reads as not
    /// marked, which a new era's map says anyway.
    pub fn reset(&self, nr_blocks: u32) {
        {
            let mut g = self.bits.write().unwrap_or_else(|e| e.into_inner());
            *g = Arc::new([]);
        }
        let fresh: Arc<[AtomicU64]> = (0..nr_words(u64::from(nr_blocks)))
            .map(|_| AtomicU64::new(0))
            .collect();
        let mut g = self.bits.write().unwrap_or_else(|e| e.into_inner());
        *g = fresh;
    }

    /// Whether block `b` is marked in core.
    pub fn is_marked(&self, b: DataBlock) -> bool {
        bit(&self.current(), b.get())
    }

    /// Whether every block of `first..=last` is marked in core.
    pub fn all_marked(&self, first: DataBlock, last: DataBlock) -> bool {
        let bits = self.current();
        (first.get()..=last.get()).all(|b| bit(&bits, b))
    }

    /// Marks `blocks` in core (after their commit).
    pub fn set(&self, blocks: &[DataBlock]) {
        let bits = self.current();
        for b in blocks.iter().map(|b| b.get()) {
            if let Some(w) = bits.get((b / 64) as usize) {
                w.fetch_or(1 << (b % 64), Ordering::Release);
            }
        }
    }
}

fn bit(bits: &[AtomicU64], b: u32) -> bool {
    bits.get((b / 64) as usize)
        .is_some_and(|w| (w.load(Ordering::Acquire) >> (b % 64)) & 1 == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_resets() {
        let b = DataBlock::new;
        let m = EraMap::new();
        assert!(!m.is_marked(b(0)));
        m.reset(130);
        m.set(&[b(0), b(129), b(500)]);
        assert!(m.is_marked(b(0)) && m.is_marked(b(129)) && !m.is_marked(b(1)));
        assert!(m.all_marked(b(129), b(129)) && !m.all_marked(b(0), b(1)));
        m.reset(130);
        assert!(!m.is_marked(b(0)));
    }
}

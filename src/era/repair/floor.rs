//! The lower bounds a repair must keep: where something could not be read, the era each
//! affected block must at least have once the metadata is folded, so that
//! `era_invalidate --written-since N` lists every block it would have listed.

use crate::era::ir::EraMetadata;
use crate::pdata::bitset::clear_bit;

/// A per-block lower bound on the folded era, allocated only once something is lost.
#[derive(Debug, Clone, Default)]
pub struct Floor {
    nr_blocks: u32,
    eras: Option<Vec<u32>>,
}

impl Floor {
    /// No bound yet on `nr_blocks` blocks.
    pub fn new(nr_blocks: u32) -> Floor {
        Floor {
            nr_blocks,
            eras: None,
        }
    }

    /// Raises the bound of blocks `[first, end)` (clipped to `nr_blocks`) to `era`.
    pub fn raise(&mut self, first: u64, end: u64, era: u32) {
        let n = u64::from(self.nr_blocks);
        let (first, end) = (first.min(n) as usize, end.min(n) as usize);
        if first >= end || era == 0 {
            return;
        }
        let eras = self
            .eras
            .get_or_insert_with(|| vec![0; self.nr_blocks as usize]);
        for e in &mut eras[first..end] {
            *e = (*e).max(era);
        }
    }

    /// Extends the bound to `nr_blocks` blocks (the new ones unbounded), if more.
    pub fn grow(&mut self, nr_blocks: u32) {
        if nr_blocks > self.nr_blocks {
            self.nr_blocks = nr_blocks;
            if let Some(e) = &mut self.eras {
                e.resize(nr_blocks as usize, 0);
            }
        }
    }

    /// Raises the bound of every block to `era`.
    pub fn raise_all(&mut self, era: u32) {
        self.raise(0, u64::from(self.nr_blocks), era);
    }

    /// The bound of `block` (0 when nothing is known to be lost about it).
    pub fn get(&self, block: usize) -> u32 {
        self.eras
            .as_ref()
            .and_then(|e| e.get(block).copied())
            .unwrap_or(0)
    }

    /// Makes `md` meet the bound: every block whose folded era is below its bound gets
    /// the bound as its era-array entry and is cleared from every writeset (all of them
    /// older than the bound), so that the fold gives it exactly the bound. Returns how
    /// many blocks were raised.
    pub fn apply(&self, md: &mut EraMetadata) -> u64 {
        let Some(floor) = &self.eras else {
            return 0;
        };
        let folded = md.folded_eras();
        let mut raised = 0;
        for (b, (&f, &need)) in folded.iter().zip(floor).enumerate() {
            if f >= need {
                continue;
            }
            raised += 1;
            if let Some(e) = md.era_array.get_mut(b) {
                *e = need;
            }
            for ws in &mut md.writesets {
                clear_bit(&mut ws.bits, b as u64);
            }
        }
        raised
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::era::ir::{SuperblockIr, Writeset};
    use crate::units::Era;

    #[test]
    fn raised_blocks_fold_to_their_bound_and_others_keep_their_era() {
        let mut md = EraMetadata {
            superblock: SuperblockIr {
                current_era: Era::new(9),
                nr_blocks: 130,
                ..Default::default()
            },
            writesets: vec![Writeset {
                era: Era::new(7),
                nr_bits: 130,
                bits: vec![0b1111, 0, 0],
            }],
            era_array: vec![2; 130],
        };
        let mut floor = Floor::new(130);
        floor.raise(1, 3, 8);
        floor.raise(100, 200, 5);
        assert_eq!(floor.apply(&mut md), 2 + 30);
        let f = md.folded_eras();
        assert_eq!(&f[..5], &[7, 8, 8, 7, 2]);
        assert_eq!(f[99], 2);
        assert!(f[100..].iter().all(|&e| e == 5));
    }
}

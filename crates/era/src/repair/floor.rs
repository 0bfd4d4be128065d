//! The lower bounds a repair must keep: where something could not be read, the era each
//! affected block must at least have once the metadata is folded, so that
//! `era_invalidate --written-since N` lists every block it would have listed.
//!
//! A bound is kept as ranges of blocks with an era, and as the versions found on
//! the device (each block at least the latest era any of them gives it), never as an
//! era per block: [`Floor::fill`] computes the bound of one run of blocks at a time.

use super::versions::Versions;
use crate::io::BlockIo;

/// Lower bounds on the folded eras of `nr_blocks` blocks.
#[derive(Debug, Clone, Default)]
pub struct Floor {
    nr_blocks: u32,
    /// Blocks `[first, end)` at least `era`.
    ranges: Vec<(u64, u64, u32)>,
    /// Every block at least the latest era these versions give it.
    versions: Option<Versions>,
}

impl Floor {
    /// No bound yet on `nr_blocks` blocks.
    pub fn new(nr_blocks: u32) -> Floor {
        Floor {
            nr_blocks,
            ranges: Vec::new(),
            versions: None,
        }
    }

    /// Raises the bound of blocks `[first, end)` (clipped to `nr_blocks`) to `era`.
    pub fn raise(&mut self, first: u64, end: u64, era: u32) {
        let n = u64::from(self.nr_blocks);
        let (first, end) = (first.min(n), end.min(n));
        if first >= end || era == 0 {
            return;
        }
        match self.ranges.last_mut() {
            Some(last) if last.0 == first && last.1 == end => last.2 = last.2.max(era),
            _ => self.ranges.push((first, end, era)),
        }
    }

    /// Extends the bound to `nr_blocks` blocks (the new ones unbounded), if more.
    pub fn grow(&mut self, nr_blocks: u32) {
        self.nr_blocks = self.nr_blocks.max(nr_blocks);
    }

    /// Raises the bound of every block to `era`.
    pub fn raise_all(&mut self, era: u32) {
        self.raise(0, u64::from(self.nr_blocks), era);
    }

    /// Raises the bound of every block to the latest era `versions` give it.
    pub fn raise_to(&mut self, versions: Versions) {
        self.versions = Some(versions);
    }

    /// The versions the bound keeps, if any.
    pub fn versions(&self) -> Option<&Versions> {
        self.versions.as_ref()
    }

    /// Whether no block has a bound.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.versions.is_none()
    }

    /// The bounds of blocks `first, first + 1, …` into `need` (0: none; blocks at or
    /// beyond `nr_blocks` get none). Fails where a version the bound keeps no longer
    /// reads (`Versions::raise`).
    pub fn fill(&self, io: &dyn BlockIo, first: u64, need: &mut [u32]) -> crate::Result<()> {
        need.fill(0);
        let end = first + need.len() as u64;
        for &(a, b, era) in &self.ranges {
            let (a, b) = (a.max(first), b.min(end));
            if a < b {
                for e in &mut need[(a - first) as usize..(b - first) as usize] {
                    *e = (*e).max(era);
                }
            }
        }
        if let Some(v) = &self.versions {
            v.raise(io, first, need)?;
        }
        let n = u64::from(self.nr_blocks);
        if end > n {
            let from = n.saturating_sub(first).min(need.len() as u64) as usize;
            need[from..].fill(0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemIo;

    #[test]
    fn bounds_are_the_highest_range_over_each_block_within_the_size() {
        let io = MemIo::new(1);
        let mut floor = Floor::new(130);
        assert!(floor.is_empty());
        floor.raise(1, 3, 8);
        floor.raise(100, 200, 5);
        floor.raise(2, 4, 9);
        let mut need = vec![7; 140];
        floor.fill(&io, 0, &mut need).unwrap();
        assert_eq!(&need[..5], &[0, 8, 9, 9, 0]);
        assert!(need[100..130].iter().all(|&e| e == 5));
        assert!(need[130..].iter().all(|&e| e == 0));
        let mut part = vec![0; 4];
        floor.fill(&io, 2, &mut part).unwrap();
        assert_eq!(part, [9, 9, 0, 0]);
    }
}

//! The bits of bitsets no writeset-tree leaf refers to, on a device whose superblock is
//! lost: perhaps the live current writeset's. Kept as where they are on the device
//! (which array block holds which words), never as a bitset: [`Orphans::words`] reads
//! the words of one run at a time, so the rebuild holds no bitset of its own.

use super::scan::array_values_again;
use crate::io::BlockIo;
use crate::pdata::array::block::array_max_entries;
use crate::pdata::bitset::{nr_words, tail_mask};
use crate::pdata::codec::get_u64;
use crate::units::MetaBlock;
use crate::Result;

/// Where the orphan bits of a bitset of `nr_bits` bits are.
#[derive(Debug, Clone, Default)]
pub struct Orphans {
    nr_bits: u32,
    /// Array blocks holding the words from `key * per_block` on.
    placed: Vec<(u64, MetaBlock)>,
    /// Index keys whose array block is lost: every bit they hold counts as set.
    lost: Vec<u64>,
    /// Array blocks whose place is unknown: their words count at every place.
    anywhere: Vec<MetaBlock>,
}

fn per_block() -> u64 {
    u64::from(array_max_entries(8))
}

impl Orphans {
    /// No orphan bits in a bitset of `nr_bits` bits.
    pub fn new(nr_bits: u32) -> Orphans {
        Orphans {
            nr_bits,
            ..Orphans::default()
        }
    }

    /// The array block `block` holds the words of index key `key`.
    pub fn place(&mut self, key: u64, block: MetaBlock) {
        self.placed.push((key, block));
    }

    /// The array block of index key `key` is lost: its bits count as set.
    pub fn lose(&mut self, key: u64) {
        self.lost.push(key);
    }

    /// The array block `block` may hold the words of any index key.
    pub fn anywhere(&mut self, block: MetaBlock) {
        self.anywhere.push(block);
    }

    fn len(&self) -> u64 {
        nr_words(u64::from(self.nr_bits))
    }

    /// ORs the words `[w0, w0 + out.len())` of the orphan bits into `out`. Every block
    /// was found by the scan: one that no longer reads is an error.
    pub fn words(&self, io: &dyn BlockIo, w0: u64, out: &mut [u64]) -> Result<()> {
        let w1 = (w0 + out.len() as u64).min(self.len());
        if w0 >= w1 {
            return Ok(());
        }
        let per = per_block();
        let mut or_block = |k: u64, raw: &[u8]| {
            let Some(base) = k.checked_mul(per) else {
                return;
            };
            for (j, v) in raw.chunks_exact(8).enumerate() {
                let at = base.saturating_add(j as u64);
                if (w0..w1).contains(&at) {
                    out[(at - w0) as usize] |= get_u64(v, 0);
                }
            }
        };
        let overlaps = |k: u64| {
            k.checked_mul(per)
                .is_some_and(|a| a < w1 && a.saturating_add(per) > w0)
        };
        for &(k, p) in &self.placed {
            if overlaps(k) {
                or_block(k, &array_values_again(io, p, 8)?);
            }
        }
        for &p in &self.anywhere {
            let raw = array_values_again(io, p, 8)?;
            for k in w0 / per..w1.div_ceil(per) {
                or_block(k, &raw);
            }
        }
        for &k in &self.lost {
            if let Some(a) = k.checked_mul(per) {
                let (a, b) = (a.max(w0), a.saturating_add(per).min(w1));
                if a < b {
                    out[(a - w0) as usize..(b - w0) as usize].fill(u64::MAX);
                }
            }
        }
        if w1 == self.len() && w1 > w0 {
            out[(w1 - 1 - w0) as usize] &= tail_mask(u64::from(self.nr_bits));
        }
        Ok(())
    }

    /// Whether any orphan bit is set (reads them once, a run at a time).
    pub fn any(&self, io: &dyn BlockIo, run_words: usize) -> Result<bool> {
        let mut buf = vec![0u64; run_words.max(1)];
        let mut w0 = 0;
        while w0 < self.len() {
            buf.fill(0);
            self.words(io, w0, &mut buf)?;
            if buf.iter().any(|&w| w != 0) {
                return Ok(true);
            }
            w0 += buf.len() as u64;
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemIo;

    #[test]
    fn a_lost_block_sets_its_words_within_the_size_in_any_run() {
        let io = MemIo::new(1);
        let mut o = Orphans::new(200);
        assert!(!o.any(&io, 2).unwrap());
        o.lose(0);
        assert!(o.any(&io, 2).unwrap());
        let mut out = [0u64; 5];
        o.words(&io, 0, &mut out).unwrap();
        assert_eq!(out, [u64::MAX, u64::MAX, u64::MAX, 0xff, 0]);
        let mut part = [0u64; 2];
        o.words(&io, 2, &mut part).unwrap();
        assert_eq!(part, [u64::MAX, 0xff]);
        let mut far = Orphans::new(200);
        far.lose(1);
        far.lose(u64::MAX);
        assert!(!far.any(&io, 3).unwrap());
    }
}

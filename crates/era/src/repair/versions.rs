//! Every version of the era array and of the writesets that a scan of the device finds,
//! kept as where they are (an index of array blocks, a bitset's index), never as their
//! values: [`Versions::raise`] reads what one run of blocks needs when it is asked.
//! The kernel's copy-on-write leaves earlier versions on the device, each older than or
//! as old as the live one, so the latest era any of them gives a block is a bound on
//! what the live metadata may have given it.

use super::plan::lost_before;
use super::scan::{array_values, array_values_again, Scan};
use crate::io::BlockIo;
use crate::pdata::array::block::array_max_entries;
use crate::pdata::bitset::nr_words;
use crate::pdata::codec::get_u32;
use crate::pdata::salvage::ArrayIndex;
use crate::units::MetaBlock;
use crate::Result;
use std::collections::{BTreeMap, BTreeSet};

/// A writeset version: its era, how many of its bits count, and its bitset's index.
#[derive(Debug, Clone)]
pub struct WritesetVersion {
    pub era: u32,
    pub nr_bits: u64,
    pub index: ArrayIndex<u64>,
    /// The word ranges that did not read when [`Versions::record`] read them all
    /// (`None` before).
    pub lost: Option<Vec<(u64, u64)>>,
}

/// The versions found; see the module doc.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    /// Era-array versions: for each array-block index, the blocks found for it.
    pub eras: BTreeMap<u64, Vec<MetaBlock>>,
    pub writesets: Vec<WritesetVersion>,
    /// The era-array versions that read when [`Versions::record`] read them all
    /// (`None` before): only these must read again.
    readable: Option<BTreeSet<MetaBlock>>,
}

impl Versions {
    /// The era-array versions of a scan: the blocks every era-array leaf points to.
    pub fn era_arrays(s: &Scan) -> Versions {
        let mut eras: BTreeMap<u64, Vec<MetaBlock>> = BTreeMap::new();
        for node in s.nodes8.values().filter(|n| s.leaf_targets(n, 4)) {
            for &(k, p) in &node.entries {
                eras.entry(k).or_default().push(p);
            }
        }
        Versions {
            eras,
            writesets: Vec::new(),
            readable: None,
        }
    }

    /// Reads every version once to note what reads: from then on, reading them again
    /// ([`Versions::raise`]) fails where one of those no longer reads (the device failed,
    /// or the block changed, since), where before it passes over what does not read.
    pub fn record(&mut self, io: &dyn BlockIo) {
        let readable = self
            .eras
            .values()
            .flatten()
            .copied()
            .filter(|&p| Self::era_values(io, p).is_some())
            .collect();
        self.readable = Some(readable);
        for w in &mut self.writesets {
            let lost = w
                .index
                .read_blocks(io, nr_words(w.nr_bits), 0..u64::MAX, &mut |_, _| {});
            w.lost = Some(lost.iter().map(|l| (l.first, l.end)).collect());
        }
    }

    /// The values of era-array version `p` (found by the scan as an array block of
    /// 4-byte values), read again.
    fn era_values(io: &dyn BlockIo, p: MetaBlock) -> Option<Vec<u32>> {
        let raw = array_values(io, p, 4)?;
        Some(raw.chunks_exact(4).map(|v| get_u32(v, 0)).collect())
    }

    /// [`Versions::era_values`], an error where `p` read when the versions were
    /// recorded.
    fn era_values_again(&self, io: &dyn BlockIo, p: MetaBlock) -> Result<Option<Vec<u32>>> {
        match array_values_again(io, p, 4) {
            Ok(raw) => Ok(Some(raw.chunks_exact(4).map(|v| get_u32(v, 0)).collect())),
            Err(e) if self.readable.as_ref().is_some_and(|r| r.contains(&p)) => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// Calls `f` with the first block and the eras of every era-array version found.
    pub fn for_each_era_block(&self, io: &dyn BlockIo, mut f: impl FnMut(u64, &[u32])) {
        let m = u64::from(array_max_entries(4));
        for (&k, ps) in &self.eras {
            for &p in ps {
                if let Some(eras) = Self::era_values(io, p) {
                    f(k.saturating_mul(m), &eras);
                }
            }
        }
    }

    /// Raises `out[i]` to the latest era any era-array version gives block `first + i`.
    pub fn raise_eras(&self, io: &dyn BlockIo, first: u64, out: &mut [u32]) -> Result<()> {
        let m = u64::from(array_max_entries(4));
        let end = first + out.len() as u64;
        for (&k, ps) in self.eras.range(first / m..end.div_ceil(m)) {
            for &p in ps {
                let Some(eras) = self.era_values_again(io, p)? else {
                    continue;
                };
                for (j, &e) in eras.iter().enumerate() {
                    let b = k * m + j as u64;
                    if (first..end).contains(&b) {
                        let o = &mut out[(b - first) as usize];
                        *o = (*o).max(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// Raises `out[i]` to the latest era any version gives block `first + i`. Once
    /// [`Versions::record`]ed, a version that read then and no longer reads is an error.
    pub fn raise(&self, io: &dyn BlockIo, first: u64, out: &mut [u32]) -> Result<()> {
        self.raise_eras(io, first, out)?;
        let end = first + out.len() as u64;
        for w in &self.writesets {
            let stop = end.min(w.nr_bits);
            if first >= stop {
                continue;
            }
            let len = nr_words(w.nr_bits);
            let blocks = w.index.blocks_of(first / 64, stop.div_ceil(64));
            let now = w.index.read_blocks(io, len, blocks, &mut |w0, words| {
                for (i, &word) in words.iter().enumerate() {
                    let mut word = word;
                    while word != 0 {
                        let b = (w0 + i as u64) * 64 + u64::from(word.trailing_zeros());
                        word &= word - 1;
                        if (first..stop).contains(&b) {
                            let o = &mut out[(b - first) as usize];
                            *o = (*o).max(w.era);
                        }
                    }
                }
            });
            if let Some(before) = &w.lost {
                lost_before(&now, before)?;
            }
        }
        Ok(())
    }
}

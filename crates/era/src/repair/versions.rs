//! Every version of the era array and of the writesets that a scan of the device finds,
//! kept as where they are (an index of array blocks, a bitset's index), never as their
//! values: [`Versions::raise`] reads what one run of blocks needs when it is asked.
//! The kernel's copy-on-write leaves earlier versions on the device, each older than or
//! as old as the live one, so the latest era any of them gives a block is a bound on
//! what the live metadata may have given it.

use super::plan::{lost_before, CHUNK};
use super::scan::{array_values, array_values_again, Scan};
use crate::io::BlockIo;
use crate::pdata::array::block::array_max_entries;
use crate::pdata::array::nr_array_blocks;
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

/// What a first read of the versions found: the era-array versions that read, and the
/// word ranges of each writeset version that did not.
struct Recorded {
    readable: BTreeSet<MetaBlock>,
    lost: Vec<Vec<(u64, u64)>>,
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
    /// The era-array versions of a scan: the blocks every era-array leaf points to. An
    /// index leaf's keys are consecutive and those of an array of at most `cap` entries:
    /// from a key that skips ahead or lies beyond, a leaf's keys are damage, not versions.
    pub fn era_arrays(s: &Scan, cap: u64) -> Versions {
        let key_limit = nr_array_blocks(cap, 4);
        let mut eras: BTreeMap<u64, Vec<MetaBlock>> = BTreeMap::new();
        for node in s.nodes8.values().filter(|n| s.leaf_targets(n, 4)) {
            let mut prev: Option<u64> = None;
            for &(k, p) in &node.entries {
                if k >= key_limit || prev.is_some_and(|q| k != q.saturating_add(1)) {
                    break;
                }
                prev = Some(k);
                eras.entry(k).or_default().push(p);
            }
        }
        Versions {
            eras,
            writesets: Vec::new(),
            readable: None,
        }
    }

    /// How many of `nr_blocks` blocks the versions give an era, and the latest era they
    /// give (`None` for no blocks), read a run of blocks at a time; the read is
    /// [`Versions::record`]ed as it goes.
    pub fn reach(&mut self, io: &dyn BlockIo, nr_blocks: u32) -> (u64, Option<u32>) {
        let n = u64::from(nr_blocks);
        let (mut count, mut top) = (0u64, (n > 0).then_some(0u32));
        let mut rec = Recorded {
            readable: BTreeSet::new(),
            lost: vec![Vec::new(); self.writesets.len()],
        };
        let mut eras = Vec::new();
        let mut first = 0;
        while first < n {
            let len = (n - first).min(CHUNK as u64) as usize;
            eras.clear();
            eras.resize(len, 0);
            // A first read passes over what does not read: it cannot fail.
            let _ = self.raise_with(io, first, &mut eras, Some(&mut rec));
            for &e in &eras {
                if e > 0 {
                    count += 1;
                    top = top.map(|t| t.max(e));
                }
            }
            first += len as u64;
        }
        self.readable = Some(rec.readable);
        for (w, lost) in self.writesets.iter_mut().zip(rec.lost) {
            w.lost = Some(lost);
        }
        (count, top)
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
        self.raise_eras_with(io, first, out, None)
    }

    /// [`Versions::raise_eras`]; with `readable`, a first read: what does not read is
    /// passed over, what reads is noted in `readable`.
    fn raise_eras_with(
        &self,
        io: &dyn BlockIo,
        first: u64,
        out: &mut [u32],
        mut readable: Option<&mut BTreeSet<MetaBlock>>,
    ) -> Result<()> {
        let m = u64::from(array_max_entries(4));
        let end = first + out.len() as u64;
        for (&k, ps) in self.eras.range(first / m..end.div_ceil(m)) {
            for &p in ps {
                let read = match readable.as_deref_mut() {
                    Some(r) => Self::era_values(io, p).inspect(|_| {
                        r.insert(p);
                    }),
                    None => self.era_values_again(io, p)?,
                };
                let Some(eras) = read else {
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
        self.raise_with(io, first, out, None)
    }

    /// [`Versions::raise`]; with `rec`, a first read: what does not read is passed
    /// over, and noted in `rec`.
    fn raise_with(
        &self,
        io: &dyn BlockIo,
        first: u64,
        out: &mut [u32],
        mut rec: Option<&mut Recorded>,
    ) -> Result<()> {
        self.raise_eras_with(io, first, out, rec.as_deref_mut().map(|r| &mut r.readable))?;
        let end = first + out.len() as u64;
        for (i, w) in self.writesets.iter().enumerate() {
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
            match rec.as_deref_mut() {
                Some(r) => r.lost[i].extend(now.iter().map(|l| (l.first, l.end))),
                None => {
                    if let Some(before) = &w.lost {
                        lost_before(&now, before)?;
                    }
                }
            }
        }
        Ok(())
    }
}

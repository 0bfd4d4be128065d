//! Blocks written since an era: every block whose folded era is at least the threshold
//! (the live current writeset included).
//!
//! The folded era of a block (format.md §8 "logical era", [`EraMetadata::folded_eras`])
//! is the era of the latest writeset marking it, or its era-array entry when none
//! does. So, for a threshold `N`, with `hi` the union of the writesets of era `>= N`,
//! `lo` the union of those of era `< N` and `A` the blocks whose era-array entry is
//! `>= N`:
//!
//! ```text
//! folded era >= N  <=>  b in hi  or  (b in A and b not in lo)
//! ```
//!
//! (a block marked only by writesets older than `N` takes their era, whatever the array
//! says). [`written_since_in`] computes that set from metadata in memory;
//! [`written_since_set`] straight from the disk, a group of the era array at a time,
//! holding only the result (`nr_blocks / 8` bytes).

use super::ir::EraMetadata;
use super::metadata::{writeset_sources, View};
use super::Result;
use crate::io::BlockIo;
use crate::pdata::array::reader::ArrayReader;
use crate::pdata::bitset::{self, nr_words, or_words, tail_mask, Bits};
use crate::units::DataBlock;
use rayon::prelude::*;
use std::ops::Range;

/// A set of origin blocks `0..nr_blocks`: a [`Bits`] of one bit per block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataBlockSet {
    bits: Bits,
    nr_blocks: u32,
}

impl DataBlockSet {
    /// The empty set of `nr_blocks` blocks.
    pub fn new(nr_blocks: u32) -> DataBlockSet {
        DataBlockSet {
            bits: Bits::new(u64::from(nr_blocks)),
            nr_blocks,
        }
    }

    /// The number of blocks the set ranges over.
    pub fn nr_blocks(&self) -> u32 {
        self.nr_blocks
    }

    /// The words (bit b = bit b%64 of word b/64).
    pub fn words(&self) -> &[u64] {
        self.bits.words()
    }

    /// Whether block `b` is in the set.
    pub fn contains(&self, b: DataBlock) -> bool {
        self.bits.contains(u64::from(b.get()))
    }

    /// Adds the blocks of `bits` (a bitset in the same layout, of any length: bits at or
    /// beyond `nr_blocks` are ignored).
    pub fn union_words(&mut self, bits: &[u64]) {
        self.bits.union_words(bits)
    }

    /// The maximal runs `[begin, end)` of the set, in order.
    pub fn runs(&self) -> Runs<'_> {
        self.runs_beginning_in(DataBlock::new(0), DataBlock::new(self.nr_blocks))
    }

    /// The maximal runs of the set whose first block lies in `[from, until)` (a run may
    /// end beyond `until`). Splitting `0..nr_blocks` into ranges and listing each
    /// range's runs lists every run exactly once, in order.
    pub fn runs_beginning_in(&self, from: DataBlock, until: DataBlock) -> Runs<'_> {
        Runs {
            runs: self
                .bits
                .runs_beginning_in(u64::from(from.get())..u64::from(until.get())),
            nr_blocks: self.nr_blocks,
        }
    }
}

/// Iterator over maximal runs of a [`DataBlockSet`]; see
/// [`DataBlockSet::runs_beginning_in`].
pub struct Runs<'a> {
    runs: bitset::Runs<'a>,
    nr_blocks: u32,
}

impl Iterator for Runs<'_> {
    type Item = (DataBlock, DataBlock);

    fn next(&mut self) -> Option<(DataBlock, DataBlock)> {
        let (begin, end) = self.runs.next()?;
        // Both are at most nr_blocks, a u32.
        let n = self.nr_blocks;
        let clamp = |v: u64| DataBlock::new(u32::try_from(v).unwrap_or(n).min(n));
        Some((clamp(begin), clamp(end)))
    }
}

/// Maximal runs `[begin, end)` of blocks whose logical era is `>= since`.
pub fn written_since(md: EraMetadata, since: u32) -> Vec<(DataBlock, DataBlock)> {
    written_since_in(&md, since).runs().collect()
}

/// The blocks of `md` whose logical era is `>= since`.
pub fn written_since_in(md: &EraMetadata, since: u32) -> DataBlockSet {
    let nr_blocks = u32::try_from(md.era_array.len()).unwrap_or(u32::MAX);
    let mut sets = Sets::new(nr_blocks);
    for ws in &md.writesets {
        sets.add_writeset(ws.era.get(), &ws.bits, since);
    }
    sets.at_least.bits.with_words_mut(|words| {
        for (word, eras) in words.iter_mut().zip(md.era_array.chunks(64)) {
            *word = at_least_word(eras, since);
        }
    });
    sets.finish()
}

/// The set being built: `at_least` is `A`, then the result.
struct Sets {
    at_least: DataBlockSet,
    hi: DataBlockSet,
    lo: DataBlockSet,
}

impl Sets {
    fn new(nr_blocks: u32) -> Sets {
        Sets {
            at_least: DataBlockSet::new(nr_blocks),
            hi: DataBlockSet::new(nr_blocks),
            lo: DataBlockSet::new(nr_blocks),
        }
    }

    fn add_writeset(&mut self, era: u32, bits: &[u64], since: u32) {
        if era >= since {
            self.hi.union_words(bits)
        } else {
            self.lo.union_words(bits)
        }
    }

    /// `hi | (A & !lo)`.
    fn finish(self) -> DataBlockSet {
        let Sets {
            mut at_least,
            hi,
            lo,
        } = self;
        at_least.bits.with_words_mut(|words| {
            words
                .par_iter_mut()
                .zip(hi.words())
                .zip(lo.words())
                .for_each(|((a, &h), &l)| *a = written_word(h, *a, l))
        });
        at_least
    }
}

/// One word of the result from the same word of `hi`, `A` and `lo`: `hi | (A & !lo)`.
fn written_word(hi: u64, at_least: u64, lo: u64) -> u64 {
    hi | (at_least & !lo)
}

/// The word whose bit `i` says whether `eras[i] >= since` (up to 64 entries).
fn at_least_word(eras: &[u32], since: u32) -> u64 {
    eras.iter()
        .enumerate()
        .fold(0u64, |w, (i, &e)| w | (u64::from(e >= since) << i))
}

/// Era-array blocks per group: 256 blocks of 1018 entries make exactly 4072 words of the
/// set, so every group starts on a word.
const ERA_GROUP_BLOCKS: usize = 256;

/// A writeset being read a group at a time.
struct WritesetWords<'a> {
    era: u32,
    nr_bits: u64,
    bits: ArrayReader<'a, u64>,
}

/// The blocks of `view` whose logical era is `>= since`, read from `io` a group of the
/// era array at a time with just the writeset words that cover it, as word operations
/// (`hi | (A & !lo)`, see the module's doc), so that only the result, `nr_blocks / 8`
/// bytes, grows with the origin. Every index is read and checked first; in each group a
/// writeset's fault is reported before the era array's.
pub fn written_since_set(io: &dyn BlockIo, view: &View, since: u32) -> Result<DataBlockSet> {
    let writesets = writeset_sources(io, view)?
        .into_iter()
        .map(|s| {
            let nr_bits = u64::from(s.root.nr_bits);
            Ok(WritesetWords {
                era: s.era.get(),
                nr_bits,
                bits: ArrayReader::open(io, s.root.root, nr_words(nr_bits))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let nr_blocks = view.sb.nr_blocks;
    let era_array = ArrayReader::<u32>::open(io, view.sb.era_array_root, u64::from(nr_blocks))?;
    let mut set = DataBlockSet::new(nr_blocks);
    let mut eras = Vec::new();
    let mut read_to = vec![0usize; writesets.len()];
    for g in (0..era_array.nr_blocks()).step_by(ERA_GROUP_BLOCKS) {
        let first_word = g as u64 * era_array.entries_per_block() / 64;
        let end_word = (first_word + ERA_GROUP_BLOCKS as u64 * era_array.entries_per_block() / 64)
            .min(set.words().len() as u64);
        let words = first_word..end_word;
        let width = (end_word - first_word) as usize;
        // Each thread ORs the writesets it takes into its own pair of word vectors.
        let (hi, lo, reads) = writesets
            .par_iter()
            .enumerate()
            .try_fold(
                || (vec![0u64; width], vec![0u64; width], Vec::new()),
                |(mut hi, mut lo, mut reads), (i, ws)| -> Result<_> {
                    let into = if ws.era >= since { &mut hi } else { &mut lo };
                    let end = or_writeset_words(ws, words.clone(), u64::from(nr_blocks), into)?;
                    reads.push((i, end));
                    Ok((hi, lo, reads))
                },
            )
            .try_reduce(
                || (vec![0u64; width], vec![0u64; width], Vec::new()),
                |(mut hi, mut lo, mut reads), (h2, l2, r2)| {
                    or_words(&mut hi, &h2);
                    or_words(&mut lo, &l2);
                    reads.extend(r2);
                    Ok((hi, lo, reads))
                },
            )?;
        for (i, end) in reads {
            read_to[i] = read_to[i].max(end);
        }
        era_array.read_blocks(g..g + ERA_GROUP_BLOCKS, &mut eras)?;
        set.bits.with_words_mut(|words| {
            words[first_word as usize..end_word as usize]
                .par_iter_mut()
                .zip(eras.par_chunks(64))
                .zip(hi.par_iter().zip(lo.par_iter()))
                .for_each(|((w, e), (&h, &l))| *w = written_word(h, at_least_word(e, since), l))
        });
    }
    // The bitset blocks no group needed (bits beyond the era array) are read and
    // checked too, as a whole read would.
    for (ws, &from) in writesets.iter().zip(&read_to) {
        ws.bits.check_from(from, ERA_GROUP_BLOCKS)?;
    }
    Ok(set)
}

/// ORs the words `words` of a writeset (zero beyond its bits or the origin) into `into`
/// (word `words.start` first); returns the end of the bitset blocks read.
fn or_writeset_words(
    ws: &WritesetWords,
    words: Range<u64>,
    nr_blocks: u64,
    into: &mut [u64],
) -> Result<usize> {
    let limit = ws.nr_bits.min(nr_blocks);
    let stop = words.end.min(limit.div_ceil(64));
    if words.start >= stop {
        return Ok(0);
    }
    let blocks = ws.bits.blocks_of(words.start..stop);
    let mut read = Vec::new();
    ws.bits.read_blocks(blocks.clone(), &mut read)?;
    let base = blocks.start as u64 * ws.bits.entries_per_block();
    let skip = (words.start - base) as usize;
    let n = (stop - words.start) as usize;
    // The last word's bits at or beyond the writeset's end (or the origin's) are not
    // its blocks.
    let (last, keep) = if !limit.is_multiple_of(64) && limit.div_ceil(64) == stop {
        ((limit / 64 - words.start) as usize, tail_mask(limit))
    } else {
        (usize::MAX, u64::MAX)
    };
    for (k, (d, &w)) in into
        .iter_mut()
        .zip(read.iter().skip(skip).take(n))
        .enumerate()
    {
        *d |= if k == last { w & keep } else { w };
    }
    Ok(blocks.end)
}

/// Maximal runs `[begin, end)` of indices whose value is `>= since`.
pub fn runs_at_least(eras: &[u32], since: u32) -> Vec<(DataBlock, DataBlock)> {
    let mut runs = Vec::new();
    let mut start: Option<usize> = None;
    for (b, &e) in eras.iter().enumerate() {
        match (e >= since, start) {
            (true, None) => start = Some(b),
            (false, Some(s)) => {
                runs.push((DataBlock::new(s as u32), DataBlock::new(b as u32)));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((DataBlock::new(s as u32), DataBlock::new(eras.len() as u32)));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate, GenerateParams};
    use crate::ir::Writeset;
    use crate::pdata::bitset::mask_tail;
    use crate::units::Era;

    fn blocks(runs: &[(u32, u32)]) -> Vec<(DataBlock, DataBlock)> {
        runs.iter()
            .map(|&(b, e)| (DataBlock::new(b), DataBlock::new(e)))
            .collect()
    }

    #[test]
    fn runs_cover_exactly_the_blocks_at_or_above() {
        let eras = [0, 3, 4, 1, 5, 5, 2, 9];
        assert_eq!(runs_at_least(&eras, 3), blocks(&[(1, 3), (4, 6), (7, 8)]));
        assert_eq!(runs_at_least(&eras, 0), blocks(&[(0, 8)]));
        assert_eq!(runs_at_least(&eras, 10), vec![]);
    }

    /// Cuts `ws` to its first `nr_bits` bits.
    fn truncate(ws: &mut Writeset, nr_bits: u32) {
        ws.bits.truncate(nr_words(u64::from(nr_bits)) as usize);
        mask_tail(&mut ws.bits, u64::from(nr_bits));
        ws.nr_bits = nr_bits;
    }

    /// Random generated metadata bent into shapes the kernel does not write but the
    /// fold defines: writesets older than the array entries they mark, gaps between
    /// writeset eras, writesets longer and shorter than the array, and sizes around word
    /// boundaries.
    fn random_metadata(rng: &mut fastrand::Rng) -> EraMetadata {
        let current_era = rng.u32(0..12);
        let len = rng.u32(0..320);
        let mut md = generate(&GenerateParams {
            nr_blocks: len,
            block_size: 8,
            current_era,
            nr_writesets: rng.u32(0..=current_era.min(4)),
            density: 0.25,
            seed: rng.u64(..),
        })
        .unwrap();
        md.writesets.retain(|_| rng.u8(0..4) != 0);
        for ws in &mut md.writesets {
            truncate(ws, rng.u32(0..=len));
        }
        md.era_array.truncate(rng.usize(0..=len.min(299) as usize));
        for e in &mut md.era_array {
            if rng.u8(0..4) == 0 {
                *e = rng.u32(0..12);
            }
        }
        md
    }

    #[test]
    fn the_set_is_the_fold_for_every_threshold() {
        let mut rng = fastrand::Rng::with_seed(10);
        for _ in 0..2000 {
            let md = random_metadata(&mut rng);
            let folded = md.folded_eras();
            for n in 0..=13 {
                let set = written_since_in(&md, n);
                assert_eq!(
                    set.runs().collect::<Vec<_>>(),
                    runs_at_least(&folded, n),
                    "{md:?} N={n}"
                );
            }
        }
    }

    /// The set read from disk, as a stream of folded eras, equals the set computed in
    /// memory, for every threshold, on metadata spanning several era-array groups and
    /// word-unaligned lengths.
    #[test]
    fn the_set_from_disk_is_the_set_in_memory() {
        use crate::io::MemIo;
        use crate::metadata::{open_view, Source};
        use crate::restore::write_metadata;
        let mut rng = fastrand::Rng::with_seed(12);
        for nr_blocks in [0u32, 1, 63, 64, 1000, 130_303, 130_305, 300_001] {
            let first_ws = rng.u32(8..=12);
            let mut md = generate(&GenerateParams {
                nr_blocks,
                block_size: 8,
                current_era: 11,
                nr_writesets: 12 - first_ws,
                density: 0.125,
                seed: 12,
            })
            .unwrap();
            // The live era has no archived writeset.
            md.superblock.current_era = Era::new(12);
            let io = MemIo::new(2048);
            write_metadata(&io, &md).unwrap();
            let view = open_view(&io, Source::Live).unwrap();
            for n in [0, 1, first_ws - 1, first_ws, 11, 12, 13] {
                let from_disk = written_since_set(&io, &view, n).unwrap();
                assert_eq!(
                    from_disk,
                    written_since_in(&md, n),
                    "{nr_blocks} blocks, N={n}"
                );
            }
        }
    }

    #[test]
    fn runs_split_by_ranges_are_every_run_once() {
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..500 {
            let nr_blocks = rng.u32(0..400);
            let mut set = DataBlockSet::new(nr_blocks);
            let bits: Vec<u64> = (0..nr_words(u64::from(nr_blocks)))
                .map(|_| if rng.bool() { rng.u64(..) } else { u64::MAX })
                .collect();
            set.union_words(&bits);
            let all: Vec<_> = set.runs().collect();
            let step = rng.u32(1..70);
            let mut split = Vec::new();
            let mut from = 0;
            while from < nr_blocks {
                let until = from.saturating_add(step).min(nr_blocks);
                split.extend(set.runs_beginning_in(DataBlock::new(from), DataBlock::new(until)));
                from = until;
            }
            assert_eq!(split, all, "nr_blocks {nr_blocks} step {step}");
            let want: Vec<u32> = (0..nr_blocks)
                .filter(|&b| set.contains(DataBlock::new(b)))
                .collect();
            let listed: Vec<u32> = all.iter().flat_map(|&(b, e)| b.get()..e.get()).collect();
            assert_eq!(listed, want);
        }
    }
}

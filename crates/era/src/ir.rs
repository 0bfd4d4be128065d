//! The intermediate representation of era metadata, and the one visitor that dump,
//! restore and repair share. Bits travel as 64-bit words (bit b = bit b%64 of word
//! b/64) and eras as slices, so that a consumer can format them in bulk.

use crate::pdata::bitset::{for_each_set_bit, runs};
use crate::units::{DataBlock, Era};

/// The superblock as the XML sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SuperblockIr {
    /// The XML `uuid` attribute, carried from input to output; the on-disk uuid is
    /// unused and zero (format.md §3), so a dump of a disk image gives `""`.
    pub uuid: String,
    /// Origin block size in sectors.
    pub block_size: u32,
    /// Origin size in blocks: the length of the era array.
    pub nr_blocks: u32,
    /// The era whose writes the current writeset records.
    pub current_era: Era,
}

/// A writeset header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WritesetIr {
    /// The era whose writes the writeset recorded.
    pub era: Era,
    /// Length of the writeset in bits (one per origin block when it was created).
    pub nr_bits: u32,
}

/// One writeset with its bits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Writeset {
    /// The era whose writes the writeset recorded.
    pub era: Era,
    /// Length of the writeset in bits (one per origin block when it was created).
    pub nr_bits: u32,
    /// `ceil(nr_bits / 64)` words; bits at or beyond `nr_bits` are zero.
    pub bits: Vec<u64>,
}

/// A whole era metadata image in memory: what the XML says and what the disk holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EraMetadata {
    /// The superblock's fields.
    pub superblock: SuperblockIr,
    /// In the order they are dumped: archived eras ascending, then the live one.
    pub writesets: Vec<Writeset>,
    /// One era per origin block.
    pub era_array: Vec<u32>,
}

/// Receives era metadata in document order: `superblock_begin`, then for each writeset
/// `writeset_begin`, its bits and `writeset_end`, then `era_array_begin`, the eras and
/// `era_array_end`, and last `superblock_end`. The first error stops the walk and is
/// returned to the caller.
pub trait Visitor {
    /// What a call can fail with; it ends the walk.
    type Error;

    /// Opens the metadata; the first call.
    fn superblock_begin(&mut self, sb: &SuperblockIr) -> Result<(), Self::Error>;
    /// Opens a writeset; its runs or words follow, then `writeset_end`.
    fn writeset_begin(&mut self, ws: &WritesetIr) -> Result<(), Self::Error>;
    /// A run of marked blocks `[begin, begin + len)` of the open writeset.
    fn writeset_run(&mut self, begin: DataBlock, len: u32) -> Result<(), Self::Error>;
    /// The open writeset's bits as words; by default split into runs.
    fn writeset_words(&mut self, words: &[u64], nr_bits: u32) -> Result<(), Self::Error> {
        visit_runs(words, nr_bits, |b, len| self.writeset_run(b, len))
    }
    /// Closes the open writeset.
    fn writeset_end(&mut self) -> Result<(), Self::Error>;
    /// Opens the era array, after every writeset.
    fn era_array_begin(&mut self) -> Result<(), Self::Error>;
    /// Eras of blocks `first, first + 1, …`.
    fn eras(&mut self, first: DataBlock, eras: &[u32]) -> Result<(), Self::Error>;
    /// Closes the era array.
    fn era_array_end(&mut self) -> Result<(), Self::Error>;
    /// Closes the metadata; the last call.
    fn superblock_end(&mut self) -> Result<(), Self::Error>;
}

/// Passes the set bits of `words` below `nr_bits` to `run(begin, len)` as maximal runs,
/// in order, up to the first error.
pub(crate) fn visit_runs<E>(
    words: &[u64],
    nr_bits: u32,
    mut run: impl FnMut(DataBlock, u32) -> Result<(), E>,
) -> Result<(), E> {
    for (b, e) in runs(words, u64::from(nr_bits)) {
        // Both are at most nr_bits, a u32.
        run(DataBlock::new(b as u32), (e - b) as u32)?;
    }
    Ok(())
}

/// Era-array entries passed to [`Visitor::eras`] at a time.
const ERAS_PER_VISIT: usize = 1 << 20;

impl EraMetadata {
    /// Feeds the whole metadata to `v` in document order.
    pub fn visit<V: Visitor>(&self, v: &mut V) -> Result<(), V::Error> {
        v.superblock_begin(&self.superblock)?;
        for ws in &self.writesets {
            v.writeset_begin(&WritesetIr {
                era: ws.era,
                nr_bits: ws.nr_bits,
            })?;
            v.writeset_words(&ws.bits, ws.nr_bits)?;
            v.writeset_end()?;
        }
        v.era_array_begin()?;
        // In pieces, so that a visitor can show progress through a large array.
        let mut first = 0u32;
        for piece in self.era_array.chunks(ERAS_PER_VISIT) {
            v.eras(DataBlock::new(first), piece)?;
            first = first.saturating_add(piece.len() as u32);
        }
        v.era_array_end()?;
        v.superblock_end()
    }

    /// The era of every block once every writeset is folded into the era array, in
    /// ascending order of era (the dump order), so that the latest write wins
    /// (format.md §8 "logical era").
    pub fn folded_eras(&self) -> Vec<u32> {
        let mut eras = self.era_array.clone();
        fold_writesets(&mut eras, &self.writesets);
        eras
    }

    /// [`EraMetadata::folded_eras`] without a copy of the era array.
    pub fn into_folded_eras(mut self) -> Vec<u32> {
        fold_writesets(&mut self.era_array, &self.writesets);
        self.era_array
    }

    /// The logical view: no writesets, every block's folded era.
    pub fn logical(&self) -> EraMetadata {
        EraMetadata {
            superblock: self.superblock.clone(),
            writesets: Vec::new(),
            era_array: self.folded_eras(),
        }
    }

    /// [`EraMetadata::logical`] without a copy of the era array.
    pub fn into_logical(self) -> EraMetadata {
        let superblock = self.superblock.clone();
        EraMetadata {
            superblock,
            writesets: Vec::new(),
            era_array: self.into_folded_eras(),
        }
    }
}

/// Applies `writesets` to `eras` in ascending era order: every set bit `b` below both
/// the writeset's `nr_bits` and `eras.len()` gets that writeset's era. Chunks of blocks
/// are folded in parallel.
fn fold_writesets(eras: &mut [u32], writesets: &[Writeset]) {
    use rayon::prelude::*;
    const CHUNK: usize = 1024 * 64;
    let mut order: Vec<&Writeset> = writesets.iter().collect();
    order.sort_by_key(|w| w.era);
    let nr_blocks = eras.len() as u64;
    eras.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(ci, chunk)| {
            let parts = order.iter().map(|ws| FoldBits {
                era: ws.era.get(),
                words: &ws.bits,
                first_word: 0,
                stop: u64::from(ws.nr_bits).min(nr_blocks),
            });
            fold_piece(chunk, (ci * CHUNK) as u64, parts);
        });
}

/// One writeset's part in folding a piece of the era array: its era, the words of its
/// bitset that cover the piece (`words[k]` being word `first_word + k`), and the first
/// block it does not cover.
pub(crate) struct FoldBits<'w> {
    pub era: u32,
    pub words: &'w [u64],
    pub first_word: u64,
    pub stop: u64,
}

/// Gives every block of `eras` (the entries of blocks `first..`) that a writeset of
/// `parts` marks that writeset's era, taking them in the order given: in ascending era
/// order, the latest write wins (format.md §8 "logical era").
pub(crate) fn fold_piece<'w>(
    eras: &mut [u32],
    first: u64,
    parts: impl IntoIterator<Item = FoldBits<'w>>,
) {
    let end = first + eras.len() as u64;
    for p in parts {
        for_each_set_bit(p.words, p.first_word, first..p.stop.min(end), |b| {
            eras[(b - first) as usize] = p.era
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_takes_the_highest_era_and_respects_sizes() {
        let md = EraMetadata {
            superblock: SuperblockIr::default(),
            writesets: vec![
                // Out of order on purpose: the fold sorts by era.
                Writeset {
                    era: Era::new(7),
                    nr_bits: 3,
                    bits: vec![0b1010],
                },
                Writeset {
                    era: Era::new(5),
                    nr_bits: 130,
                    bits: vec![0b0110, 0, 1 << 1 | 1 << 3],
                },
            ],
            era_array: vec![1; 130],
        };
        let f = md.folded_eras();
        assert_eq!(f[0], 1);
        assert_eq!(f[1], 7);
        assert_eq!(f[2], 5);
        assert_eq!(f[3], 1); // beyond era 7's nr_bits
        assert_eq!(f[129], 5);
        assert_eq!(f.len(), 130);
    }
}

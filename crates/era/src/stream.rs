//! Era metadata streamed from disk to a [`Visitor`] in document order, in memory that
//! does not grow with the origin: the superblock, then each writeset (one writeset's
//! bitset held at a time), then the era array in groups of array blocks, each group
//! passed on as it is read. The logical view folds the writesets into each group of the
//! era array as it goes, reading only the bitset words that cover the group's blocks,
//! so that it holds no whole bitset at all.
//!
//! Every block is checked as [`super::metadata::read_metadata`] checks it, and the
//! indexes (the writeset tree, each bitset's and the era array's btree) are read before
//! anything is passed on; a damaged bitset or array block is found when its part of the
//! stream is reached, so a visitor may have received the parts before it.

use super::ir::{fold_piece, FoldBits, SuperblockIr, Visitor, WritesetIr};
use super::metadata::{superblock_ir, writeset_sources, View};
use super::writeset::WritesetSource;
use super::Error;
use crate::io::BlockIo;
use crate::pdata::array::reader::ArrayReader;
use crate::pdata::bitset::{mask_tail, nr_words};
use crate::units::DataBlock;

/// Era-array blocks read and passed on at a time: 128 x 1018 entries, 512 KiB of eras.
const ERA_GROUP_BLOCKS: usize = 128;

/// Why a stream stopped: the metadata could not be read, or the visitor failed.
#[derive(Debug)]
pub enum StreamError<E> {
    /// The metadata could not be read or is damaged.
    Read(Error),
    /// The visitor returned this error.
    Visit(E),
}

impl<E: std::fmt::Display> std::fmt::Display for StreamError<E> {
    /// The error itself: which side failed is the caller's to say.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::Read(e) => e.fmt(f),
            StreamError::Visit(e) => e.fmt(f),
        }
    }
}

impl<E> From<Error> for StreamError<E> {
    fn from(e: Error) -> Self {
        StreamError::Read(e)
    }
}

impl<E> From<crate::pdata::Error> for StreamError<E> {
    fn from(e: crate::pdata::Error) -> Self {
        StreamError::Read(e.into())
    }
}

/// What a stream passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The superblock, every writeset, the era array: what the disk holds.
    Full,
    /// The superblock and the folded era array (format.md §8 "logical era").
    Logical,
}

/// A writeset to stream: where it is and its bitset's index.
struct WritesetStream<'a> {
    source: WritesetSource,
    bits: ArrayReader<'a, u64>,
}

/// A stream of one view's metadata, its indexes read and checked.
pub struct MetadataStream<'a> {
    superblock: SuperblockIr,
    writesets: Vec<WritesetStream<'a>>,
    era_array: ArrayReader<'a, u32>,
    shape: Shape,
}

impl<'a> MetadataStream<'a> {
    /// Reads the writeset tree and the indexes of every bitset and of the era array.
    pub fn open(io: &'a dyn BlockIo, view: &View, shape: Shape) -> Result<Self, Error> {
        let writesets = writeset_sources(io, view)?
            .into_iter()
            .map(|source| {
                let nr_bits = u64::from(source.root.nr_bits);
                Ok(WritesetStream {
                    source,
                    bits: ArrayReader::open(io, source.root.root, nr_words(nr_bits))?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let era_array =
            ArrayReader::<u32>::open(io, view.sb.era_array_root, u64::from(view.sb.nr_blocks))?;
        Ok(MetadataStream {
            superblock: superblock_ir(&view.sb),
            writesets,
            era_array,
            shape,
        })
    }

    /// The superblock the stream begins with.
    pub fn superblock(&self) -> &SuperblockIr {
        &self.superblock
    }

    /// The entries the stream passes on, for progress: every writeset bit (full shape
    /// only) and every era-array entry.
    pub fn entries(&self) -> u64 {
        let bits: u64 = match self.shape {
            Shape::Full => self
                .writesets
                .iter()
                .map(|w| u64::from(w.source.root.nr_bits))
                .sum(),
            Shape::Logical => 0,
        };
        bits + self.era_array.len()
    }

    /// Passes the metadata to `v` in document order.
    pub fn run<V: Visitor + Send>(self, v: &mut V) -> Result<(), StreamError<V::Error>>
    where
        V::Error: Send,
    {
        let visit = StreamError::Visit;
        v.superblock_begin(&self.superblock).map_err(visit)?;
        match self.shape {
            Shape::Full => {
                let mut words = Vec::new();
                for ws in &self.writesets {
                    let nr_bits = ws.source.root.nr_bits;
                    ws.bits.read_blocks(0..ws.bits.nr_blocks(), &mut words)?;
                    mask_tail(&mut words, u64::from(nr_bits));
                    v.writeset_begin(&WritesetIr {
                        era: ws.source.era,
                        nr_bits,
                    })
                    .map_err(visit)?;
                    v.writeset_words(&words, nr_bits).map_err(visit)?;
                    v.writeset_end().map_err(visit)?;
                }
                drop(words);
                v.era_array_begin().map_err(visit)?;
                self.stream_eras(v, |_, _| Ok(()))?;
            }
            Shape::Logical => {
                v.era_array_begin().map_err(visit)?;
                let mut fold = Fold::new(&self.writesets, self.era_array.len());
                self.stream_eras(v, |first, eras| fold.apply(first, eras))?;
                fold.check_rest()?;
            }
        }
        v.era_array_end().map_err(visit)?;
        v.superblock_end().map_err(visit)
    }

    /// Reads the era array in groups, lets `edit(first, eras)` change each group, and
    /// passes it on. The next group is read (and edited) while the visitor takes the
    /// current one.
    fn stream_eras<V: Visitor + Send>(
        &self,
        v: &mut V,
        mut edit: impl FnMut(u64, &mut [u32]) -> Result<(), Error> + Send,
    ) -> Result<(), StreamError<V::Error>>
    where
        V::Error: Send,
    {
        let nr_groups = self.era_array.nr_blocks().div_ceil(ERA_GROUP_BLOCKS);
        let mut read = |g: usize, first: u64, eras: &mut Vec<u32>| -> Result<(), Error> {
            let blocks = g * ERA_GROUP_BLOCKS..(g + 1) * ERA_GROUP_BLOCKS;
            self.era_array.read_blocks(blocks, eras)?;
            edit(first, eras)
        };
        let (mut cur, mut next) = (Vec::new(), Vec::new());
        let mut first = 0u64;
        if nr_groups > 0 {
            read(0, first, &mut cur)?;
        }
        for g in 0..nr_groups {
            let after = first + cur.len() as u64;
            // Era-array indices are below nr_blocks, a u32.
            let at = u32::try_from(first).unwrap_or(u32::MAX);
            let (visited, ahead) = rayon::join(
                || v.eras(DataBlock::new(at), &cur),
                || match g + 1 < nr_groups {
                    true => read(g + 1, after, &mut next),
                    false => Ok(()),
                },
            );
            visited.map_err(StreamError::Visit)?;
            ahead?;
            std::mem::swap(&mut cur, &mut next);
            first = after;
        }
        Ok(())
    }
}

/// Era-array entries a task of the fold changes (a multiple of 64: whole words).
const FOLD_PIECE: usize = 16 * 1024;

/// The part of a writeset's bitset one group of the fold needs.
struct Span {
    /// The first block the writeset does not cover (in the group).
    stop: u64,
    /// The index of the first word read.
    first_word: u64,
    /// One past the last bitset block read.
    blocks_end: usize,
}

/// Folds the writesets into the era array group by group: for each group only the
/// bitset words covering its blocks are read.
struct Fold<'s, 'a> {
    /// The writesets in ascending era order (stable, as the in-memory fold sorts), so
    /// that the latest write wins.
    order: Vec<&'s WritesetStream<'a>>,
    /// Bitset blocks read so far, per writeset of `order`: blocks beyond are checked at
    /// the end, so that damage anywhere is found as a whole read finds it.
    read_to: Vec<usize>,
    nr_blocks: u64,
    words: Vec<Vec<u64>>,
}

impl<'s, 'a> Fold<'s, 'a> {
    fn new(writesets: &'s [WritesetStream<'a>], nr_blocks: u64) -> Fold<'s, 'a> {
        let mut order: Vec<&WritesetStream> = writesets.iter().collect();
        order.sort_by_key(|w| w.source.era);
        Fold {
            read_to: vec![0; order.len()],
            words: vec![Vec::new(); order.len()],
            order,
            nr_blocks,
        }
    }

    /// Applies every writeset to `eras`, the entries of blocks `first..`.
    fn apply(&mut self, first: u64, eras: &mut [u32]) -> Result<(), Error> {
        use rayon::prelude::*;
        let end = first + eras.len() as u64;
        let nr_blocks = self.nr_blocks;
        // All the writesets' words first (in parallel), then the changes: a damaged
        // bitset is reported whatever the era array holds.
        let read: Vec<Result<Option<Span>, Error>> = self
            .order
            .par_iter()
            .zip(self.words.par_iter_mut())
            .map(|(ws, words)| {
                let limit = u64::from(ws.source.root.nr_bits).min(nr_blocks);
                let stop = end.min(limit);
                if first >= stop {
                    return Ok(None);
                }
                let blocks = ws.bits.blocks_of(first / 64..stop.div_ceil(64));
                let first_word = blocks.start as u64 * ws.bits.entries_per_block();
                ws.bits.read_blocks(blocks.clone(), words)?;
                Ok(Some(Span {
                    stop,
                    first_word,
                    blocks_end: blocks.end,
                }))
            })
            .collect();
        let mut spans = Vec::with_capacity(read.len());
        for (i, r) in read.into_iter().enumerate() {
            let span = r?;
            if let Some(sp) = &span {
                self.read_to[i] = self.read_to[i].max(sp.blocks_end);
            }
            spans.push(span);
        }
        // The changes, in parallel over pieces of the group, each piece taking every
        // writeset in era order.
        let (order, words) = (&self.order, &self.words);
        eras.par_chunks_mut(FOLD_PIECE)
            .enumerate()
            .for_each(|(p, piece)| {
                let parts =
                    order
                        .iter()
                        .zip(words)
                        .zip(&spans)
                        .filter_map(|((ws, words), span)| {
                            span.as_ref().map(|sp| FoldBits {
                                era: ws.source.era.get(),
                                words,
                                first_word: sp.first_word,
                                stop: sp.stop,
                            })
                        });
                fold_piece(piece, first + (p * FOLD_PIECE) as u64, parts);
            });
        Ok(())
    }

    /// Reads and checks the bitset blocks no group needed (those of bits beyond the
    /// era array).
    fn check_rest(&mut self) -> Result<(), Error> {
        for (ws, &from) in self.order.iter().zip(&self.read_to) {
            ws.bits.check_from(from, ERA_GROUP_BLOCKS)?;
        }
        Ok(())
    }
}

//! The salvaged metadata as a plan to read, not as its values: where each writeset's
//! bits are (one or more bitsets found, merged per era), where the era array's values
//! are and which of them were lost, and the [`Floor`] the result must meet. [`Plan::stream`]
//! reads and passes it to a [`Visitor`] in document order, a run of
//! [`CHUNK`] blocks at a time: one writeset's bitset at most is held, and, when the floor
//! raises any block, the blocks it raises ([`Plan::settle`]) as a compressed bitmap,
//! small when they are ranges (the blocks a lost array block describes).
//!
//! What the plan gives is what the in-memory salvage gave: the writesets' bits as read
//! (unreadable words zero), the era array as read with unreadable entries given the
//! current era, and then every block whose folded era is below its bound given the bound
//! as its era and cleared from every writeset (all of them older than the bound), so
//! that the fold gives it exactly the bound.
//!
//! Every block is read again as the salvage read it: one that no longer reads (the
//! device failed, or the block changed, in between) stops the stream with an error
//! naming it ([`crate::Error::Reread`], a [`StreamError::Read`]), never a silent gap;
//! the blocks the salvage lost are lost again, and covered by the floor as before.

use super::floor::Floor;
use super::orphan::Orphans;
use crate::io::BlockIo;
use crate::ir::{EraMetadata, SuperblockIr, Visitor, Writeset, WritesetIr};
use crate::pdata::bitset::{for_each_run, mask_tail, nr_words, set_range};
use crate::pdata::salvage::{ArrayIndex, LostValues};
use crate::stream::{Shape, StreamError};
use crate::units::{DataBlock, Era};
use crate::Error;
use roaring::RoaringBitmap;
use std::iter::Peekable;

/// Origin blocks read and passed on at a time: 32 bitset array blocks (509 words each)
/// and 1024 era-array blocks (1018 eras each), so that runs align with both.
pub const CHUNK: usize = 509 * 64 * 32;

/// Where bits of a writeset are.
#[derive(Debug, Clone)]
pub enum Bits {
    /// A bitset on the device, of which the first `nr_bits` bits count.
    Array {
        /// The bitset's index as salvaged.
        index: ArrayIndex<u64>,
        /// How many of its bits count.
        nr_bits: u32,
        /// The word ranges `[first, end)` the salvage lost (they count through the
        /// floor): any other that does not read when the bits are read again is an
        /// error.
        lost: Vec<(u64, u64)>,
    },
    /// The bitsets of a device whose superblock is lost that no writeset tree refers
    /// to.
    Orphans(Orphans),
}

/// One writeset to write: its era, size and every bitset merged into it.
#[derive(Debug, Clone)]
pub struct WritesetPlan {
    /// The writeset's era.
    pub era: u32,
    /// The writeset's size in bits (origin blocks).
    pub nr_bits: u32,
    /// Every bitset found for this era; a block is marked if any of them marks it.
    pub sources: Vec<Bits>,
}

impl WritesetPlan {
    /// ORs the words `[w0, w0 + out.len())` of every source into `out` (zeroed first).
    fn words(&self, io: &dyn BlockIo, w0: u64, out: &mut [u64]) -> Result<(), Error> {
        out.fill(0);
        let w1 = w0 + out.len() as u64;
        for src in &self.sources {
            match src {
                Bits::Array {
                    index,
                    nr_bits,
                    lost,
                } => {
                    let len = nr_words(u64::from(*nr_bits));
                    let tail = u64::from(*nr_bits) % 64;
                    let blocks = index.blocks_of(w0, w1.min(len));
                    let now = index.read_blocks(io, len, blocks, &mut |f, ws| {
                        for (i, &w) in ws.iter().enumerate() {
                            let at = f + i as u64;
                            if !(w0..w1).contains(&at) {
                                continue;
                            }
                            let w = if at + 1 == len && tail != 0 {
                                w & ((1u64 << tail) - 1)
                            } else {
                                w
                            };
                            out[(at - w0) as usize] |= w;
                        }
                    });
                    lost_before(&now, lost)?;
                }
                Bits::Orphans(orphans) => orphans.words(io, w0, out)?,
            }
        }
        Ok(())
    }
}

/// Fails on the first range of `now`, what a read of the plan could not read, that is
/// not within `before`, the ranges the salvage lost: a block the salvage read that no
/// longer reads (the device failed, or the block changed, between the two reads).
pub(super) fn lost_before(now: &[LostValues], before: &[(u64, u64)]) -> Result<(), Error> {
    let within = |first: u64, end: u64| {
        let mut at = first;
        while at < end {
            match before.iter().find(|&&(a, b)| a <= at && at < b) {
                Some(&(_, b)) => at = b,
                None => return false,
            }
        }
        true
    };
    match now.iter().find(|l| !within(l.first, l.end)) {
        Some(l) => Err(Error::reread(l.block, &l.reason)),
        None => Ok(()),
    }
}

/// Where the era array's values are.
#[derive(Debug, Clone)]
pub enum Eras {
    /// The era array the superblock names: `len` values, those of the `lost` ranges
    /// given `current`, blocks beyond `len` era 0.
    Array {
        /// The era array's index as salvaged.
        index: ArrayIndex<u32>,
        /// How many values it holds.
        len: u64,
        /// The ranges `[first, end)` of values that could not be read.
        lost: Vec<(u64, u64)>,
        /// The era the lost values are given.
        current: u32,
    },
    /// Rebuilt: the latest era any version of the era array found gives a block (the
    /// floor's versions).
    Versions,
}

/// The salvaged metadata, to be read; see the module doc.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The repaired superblock's fields.
    pub superblock: SuperblockIr,
    /// Ascending era.
    pub writesets: Vec<WritesetPlan>,
    /// Where the era array's values are.
    pub eras: Eras,
    /// The lower bounds on each block's era that what was lost imposes.
    pub floor: Floor,
    /// The blocks the floor raises, once [`Plan::settle`] has found them (compressed:
    /// they are mostly ranges, the blocks a lost array block describes).
    raised: Option<RoaringBitmap>,
}

/// How a writeset's bits are passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// All at once ([`Visitor::writeset_words`]): the plan holds the bitset.
    Words,
    /// Run by run ([`Visitor::writeset_run`]): the visitor holds what it keeps.
    Runs,
}

/// The raised blocks `[first, end)` of an ascending walk through them, `at(block)`
/// each.
fn raised_in(
    walk: &mut Peekable<roaring::bitmap::Iter<'_>>,
    first: u64,
    end: u64,
    mut at: impl FnMut(u64),
) {
    while let Some(b) = walk.next_if(|&b| u64::from(b) < end) {
        if u64::from(b) >= first {
            at(u64::from(b));
        }
    }
}

impl Plan {
    /// A plan that has not been settled yet.
    pub fn new(
        superblock: SuperblockIr,
        writesets: Vec<WritesetPlan>,
        eras: Eras,
        floor: Floor,
    ) -> Plan {
        Plan {
            superblock,
            writesets,
            eras,
            floor,
            raised: None,
        }
    }

    fn nr_blocks(&self) -> u64 {
        u64::from(self.superblock.nr_blocks)
    }

    /// The era-array values of blocks `first, …` as salvaged, before the floor.
    fn read_eras(&self, io: &dyn BlockIo, first: u64, out: &mut [u32]) -> Result<(), Error> {
        out.fill(0);
        let end = first + out.len() as u64;
        match &self.eras {
            Eras::Array {
                index,
                len,
                lost,
                current,
            } => {
                let blocks = index.blocks_of(first, end.min(*len));
                let now = index.read_blocks(io, *len, blocks, &mut |f, vs| {
                    for (i, &v) in vs.iter().enumerate() {
                        let b = f + i as u64;
                        if (first..end).contains(&b) {
                            out[(b - first) as usize] = v;
                        }
                    }
                });
                lost_before(&now, lost)?;
                for &(a, b) in lost {
                    let (a, b) = (a.max(first), b.min(end).min(*len));
                    if a < b {
                        out[(a - first) as usize..(b - first) as usize].fill(*current);
                    }
                }
            }
            Eras::Versions => {
                if let Some(v) = self.floor.versions() {
                    v.raise_eras(io, first, out)?;
                }
            }
        }
        Ok(())
    }

    /// The folded eras of blocks `first, …` as salvaged, before the floor: the era
    /// array with every writeset applied in ascending era.
    fn fold(
        &self,
        io: &dyn BlockIo,
        first: u64,
        out: &mut [u32],
        words: &mut Vec<u64>,
    ) -> Result<(), Error> {
        self.read_eras(io, first, out)?;
        let w0 = first / 64;
        words.resize(out.len().div_ceil(64), 0);
        let end = first + out.len() as u64;
        for ws in &self.writesets {
            ws.words(io, w0, words)?;
            let limit = u64::from(ws.nr_bits).min(self.nr_blocks()).min(end);
            for (i, &w) in words.iter().enumerate() {
                let mut w = w;
                while w != 0 {
                    let b = (w0 + i as u64) * 64 + u64::from(w.trailing_zeros());
                    w &= w - 1;
                    if b < limit {
                        out[(b - first) as usize] = ws.era;
                    }
                }
            }
        }
        Ok(())
    }

    /// Finds the blocks whose folded era is below the floor: they will be given the
    /// bound. Returns how many.
    pub fn settle(&mut self, io: &dyn BlockIo) -> Result<u64, Error> {
        if self.floor.is_empty() {
            return Ok(0);
        }
        let n = self.nr_blocks();
        let mut raised = RoaringBitmap::new();
        let mut run: Option<(u32, u32)> = None;
        let (mut folded, mut need, mut words) = (Vec::new(), Vec::new(), Vec::new());
        let mut count = 0;
        let mut first = 0;
        while first < n {
            let len = (n - first).min(CHUNK as u64) as usize;
            folded.resize(len, 0);
            need.resize(len, 0);
            self.fold(io, first, &mut folded, &mut words)?;
            self.floor.fill(io, first, &mut need)?;
            for (i, (&f, &b)) in folded.iter().zip(&need).enumerate() {
                if f < b {
                    // Below 2^32: the origin size is a u32.
                    let at = (first + i as u64) as u32;
                    match &mut run {
                        Some((_, end)) if *end == at => *end = at + 1,
                        _ => {
                            if let Some((a, e)) = run.replace((at, at + 1)) {
                                raised.insert_range(a..e);
                            }
                        }
                    }
                    count += 1;
                }
            }
            first += len as u64;
        }
        if let Some((a, e)) = run {
            raised.insert_range(a..e);
        }
        raised.optimize();
        self.raised = (count > 0).then_some(raised);
        Ok(count)
    }

    /// The entries a stream of `shape` passes: every writeset bit (full shape only) and
    /// every era-array entry.
    pub fn entries(&self, shape: Shape) -> u64 {
        let bits: u64 = match shape {
            Shape::Full => self.writesets.iter().map(|w| u64::from(w.nr_bits)).sum(),
            Shape::Logical => 0,
        };
        bits + self.nr_blocks()
    }

    /// Passes the metadata to `v` in document order (see the module doc). Reading `io`
    /// again fails ([`StreamError::Read`]) where a block the salvage read no longer
    /// reads; [`StreamError::Visit`] is `v`'s failure.
    pub fn stream<V: Visitor>(
        &self,
        io: &dyn BlockIo,
        v: &mut V,
        shape: Shape,
        feed: Feed,
    ) -> Result<(), StreamError<V::Error>> {
        v.superblock_begin(&self.superblock)
            .map_err(StreamError::Visit)?;
        if shape == Shape::Full {
            for ws in &self.writesets {
                self.stream_writeset(io, ws, v, feed)?;
            }
        }
        v.era_array_begin().map_err(StreamError::Visit)?;
        let n = self.nr_blocks();
        let (mut eras, mut need, mut words) = (Vec::new(), Vec::new(), Vec::new());
        let mut walk = self.raised.as_ref().map(|r| r.iter().peekable());
        let mut first = 0;
        while first < n {
            let len = (n - first).min(CHUNK as u64) as usize;
            eras.resize(len, 0);
            match shape {
                Shape::Full => self.read_eras(io, first, &mut eras)?,
                Shape::Logical => self.fold(io, first, &mut eras, &mut words)?,
            }
            if let Some(walk) = &mut walk {
                need.resize(len, 0);
                self.floor.fill(io, first, &mut need)?;
                raised_in(walk, first, first + len as u64, |b| {
                    let i = (b - first) as usize;
                    eras[i] = need[i];
                });
            }
            // Below 2^31: the origin size is a u32.
            v.eras(DataBlock::new(first as u32), &eras)
                .map_err(StreamError::Visit)?;
            first += len as u64;
        }
        v.era_array_end().map_err(StreamError::Visit)?;
        v.superblock_end().map_err(StreamError::Visit)
    }

    /// One writeset, its raised blocks cleared.
    fn stream_writeset<V: Visitor>(
        &self,
        io: &dyn BlockIo,
        ws: &WritesetPlan,
        v: &mut V,
        feed: Feed,
    ) -> Result<(), StreamError<V::Error>> {
        v.writeset_begin(&WritesetIr {
            era: Era::new(ws.era),
            nr_bits: ws.nr_bits,
        })
        .map_err(StreamError::Visit)?;
        let nr_bits = u64::from(ws.nr_bits);
        let total = nr_words(nr_bits);
        let per = (CHUNK / 64) as u64;
        let mut whole = Vec::with_capacity(if feed == Feed::Words {
            total as usize
        } else {
            0
        });
        let mut chunk = Vec::new();
        let mut run: Option<(u64, u64)> = None;
        let mut walk = self.raised.as_ref().map(|r| r.iter().peekable());
        let mut w0 = 0;
        while w0 < total {
            let len = (total - w0).min(per) as usize;
            chunk.resize(len, 0);
            ws.words(io, w0, &mut chunk)?;
            if let Some(walk) = &mut walk {
                let first = w0 * 64;
                raised_in(walk, first, first + len as u64 * 64, |b| {
                    let i = b - first;
                    chunk[(i / 64) as usize] &= !(1 << (i % 64));
                });
            }
            match feed {
                Feed::Words => whole.extend_from_slice(&chunk),
                Feed::Runs => {
                    let base = w0 * 64;
                    let mut result = Ok(());
                    for_each_run(&chunk, nr_bits - base, |b, e| {
                        let (b, e) = (base + b, base + e);
                        match &mut run {
                            Some((_, end)) if *end == b => *end = e,
                            _ => {
                                if let Some((rb, re)) = run.replace((b, e)) {
                                    if result.is_ok() {
                                        result = v.writeset_run(
                                            DataBlock::new(rb as u32),
                                            (re - rb) as u32,
                                        );
                                    }
                                }
                            }
                        }
                    });
                    result.map_err(StreamError::Visit)?;
                }
            }
            w0 += len as u64;
        }
        match feed {
            Feed::Words => {
                mask_tail(&mut whole, nr_bits);
                v.writeset_words(&whole, ws.nr_bits)
                    .map_err(StreamError::Visit)?;
            }
            Feed::Runs => {
                if let Some((b, e)) = run {
                    v.writeset_run(DataBlock::new(b as u32), (e - b) as u32)
                        .map_err(StreamError::Visit)?;
                }
            }
        }
        v.writeset_end().map_err(StreamError::Visit)
    }
}

/// Gathers a stream into an [`EraMetadata`].
#[derive(Default)]
struct Collect {
    md: EraMetadata,
}

impl Visitor for Collect {
    type Error = std::convert::Infallible;

    fn superblock_begin(&mut self, sb: &SuperblockIr) -> Result<(), Self::Error> {
        self.md.superblock = sb.clone();
        Ok(())
    }
    fn writeset_begin(&mut self, ws: &WritesetIr) -> Result<(), Self::Error> {
        self.md.writesets.push(Writeset {
            era: ws.era,
            nr_bits: ws.nr_bits,
            bits: Vec::new(),
        });
        Ok(())
    }
    fn writeset_run(&mut self, begin: DataBlock, len: u32) -> Result<(), Self::Error> {
        if let Some(ws) = self.md.writesets.last_mut() {
            ws.bits.resize(nr_words(u64::from(ws.nr_bits)) as usize, 0);
            let b = u64::from(begin.get());
            set_range(&mut ws.bits, b, b + u64::from(len));
        }
        Ok(())
    }
    fn writeset_words(&mut self, words: &[u64], _: u32) -> Result<(), Self::Error> {
        if let Some(ws) = self.md.writesets.last_mut() {
            ws.bits = words.to_vec();
        }
        Ok(())
    }
    fn writeset_end(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn era_array_begin(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn eras(&mut self, _: DataBlock, eras: &[u32]) -> Result<(), Self::Error> {
        self.md.era_array.extend_from_slice(eras);
        Ok(())
    }
    fn era_array_end(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn superblock_end(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl Plan {
    /// The whole metadata in memory (see [`super::Repaired::metadata`]).
    pub fn metadata(&self, io: &dyn BlockIo) -> Result<EraMetadata, Error> {
        let mut c = Collect::default();
        match self.stream(io, &mut c, Shape::Full, Feed::Words) {
            Ok(()) => Ok(c.md),
            Err(StreamError::Read(e)) => Err(e),
        }
    }
}

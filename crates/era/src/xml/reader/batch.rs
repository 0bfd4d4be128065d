//! Coalescing of consecutive marked blocks into runs and of consecutive `<era>`
//! entries into slices, so that the visitor sees few large calls. A batch never
//! crosses its container's size (`nr_bits`, `nr_blocks`), so that a visitor that
//! rejects blocks beyond it is blamed on the first element at fault.

use super::error::{Pos, ReadError, ReadErrorKind};
use crate::ir::Visitor;
use crate::units::DataBlock;
use std::fmt::Display;

/// Entries of an era batch before it is handed over.
const MAX_ERAS: usize = 64 * 1024;

/// Where an element is: an offset in the chunk being read, or a resolved position
/// (once that chunk is done with).
#[derive(Debug, Clone, Copy)]
pub(super) enum Loc {
    Here(u32),
    At(Pos),
}

/// A run of marked blocks waiting to be handed over.
#[derive(Debug, Default)]
pub(super) struct PendingRun {
    begin: u32,
    len: u32,
    /// Where the first element of the run is; `None` when empty.
    pos: Option<Loc>,
    /// Elements merged into the run.
    count: u64,
}

impl PendingRun {
    /// Adds `[begin, begin + len)`, handing over the pending run first unless the new
    /// one extends it within `limit`.
    pub fn add<V: Visitor>(
        &mut self,
        v: &mut V,
        begin: u32,
        len: u32,
        limit: u32,
        pos: Loc,
        resolve: impl Fn(Loc) -> Pos,
    ) -> Result<(), ReadError>
    where
        V::Error: Display,
    {
        if self.pos.is_some() {
            let end = u64::from(self.begin) + u64::from(self.len);
            let new_end = u64::from(begin) + u64::from(len);
            if u64::from(begin) == end && new_end <= u64::from(limit) {
                // new_end ≤ limit ≤ u32::MAX - begin + begin, so the length fits.
                self.len = (new_end - u64::from(self.begin)) as u32;
                self.count += 1;
                return Ok(());
            }
            self.flush(v, resolve)?;
        }
        self.begin = begin;
        self.len = len;
        self.pos = Some(pos);
        self.count = 1;
        Ok(())
    }

    /// Hands the pending run to the visitor.
    pub fn flush<V: Visitor>(
        &mut self,
        v: &mut V,
        resolve: impl Fn(Loc) -> Pos,
    ) -> Result<(), ReadError>
    where
        V::Error: Display,
    {
        if let Some(loc) = self.pos.take() {
            v.writeset_run(DataBlock::new(self.begin), self.len)
                .map_err(|e| visitor_error(resolve(loc), e, self.count, "marked blocks"))?;
        }
        Ok(())
    }

    /// Resolves the position of the pending run before its chunk goes.
    pub fn settle(&mut self, resolve: impl Fn(Loc) -> Pos) {
        if let Some(loc) = self.pos {
            self.pos = Some(Loc::At(resolve(loc)));
        }
    }
}

/// Consecutive `<era>` entries waiting to be handed over.
#[derive(Debug, Default)]
pub(super) struct PendingEras {
    first: u32,
    eras: Vec<u32>,
    pos: Option<Loc>,
}

impl PendingEras {
    /// Adds the era of `block`, handing over the batch first unless `block` follows it
    /// and is below `limit`.
    #[inline]
    pub fn add<V: Visitor>(
        &mut self,
        v: &mut V,
        block: u32,
        era: u32,
        limit: u32,
        pos: Loc,
        resolve: impl Fn(Loc) -> Pos,
    ) -> Result<(), ReadError>
    where
        V::Error: Display,
    {
        if self.pos.is_some() {
            let next = u64::from(self.first) + self.eras.len() as u64;
            if u64::from(block) == next && block < limit && self.eras.len() < MAX_ERAS {
                self.eras.push(era);
                return Ok(());
            }
            self.flush(v, resolve)?;
        }
        self.first = block;
        self.eras.push(era);
        self.pos = Some(pos);
        Ok(())
    }

    /// Hands the batch to the visitor.
    pub fn flush<V: Visitor>(
        &mut self,
        v: &mut V,
        resolve: impl Fn(Loc) -> Pos,
    ) -> Result<(), ReadError>
    where
        V::Error: Display,
    {
        if let Some(loc) = self.pos.take() {
            let n = self.eras.len() as u64;
            let r = v.eras(DataBlock::new(self.first), &self.eras);
            self.eras.clear();
            r.map_err(|e| visitor_error(resolve(loc), e, n, "<era> elements"))?;
        }
        Ok(())
    }

    /// Resolves the position of the pending batch before its chunk goes.
    pub fn settle(&mut self, resolve: impl Fn(Loc) -> Pos) {
        if let Some(loc) = self.pos {
            self.pos = Some(Loc::At(resolve(loc)));
        }
    }
}

fn visitor_error(pos: Pos, e: impl Display, count: u64, what: &str) -> ReadError {
    if count > 1 {
        ReadError::new(
            pos,
            ReadErrorKind::Visitor,
            format!("{e} (in the {count} consecutive {what} starting here)"),
        )
    } else {
        ReadError::new(pos, ReadErrorKind::Visitor, e)
    }
}

//! A visitor that forwards everything to another and counts the entries (writeset bits and
//! era-array entries) it has passed on as progress.

use super::progress::Progress;
use crate::era::ir::{SuperblockIr, Visitor, WritesetIr};
use crate::units::DataBlock;

/// Forwards to `inner`, counting on `progress`.
pub struct Counted<'a, V> {
    pub inner: V,
    pub progress: &'a Progress,
}

impl<V: Visitor> Visitor for Counted<'_, V> {
    type Error = V::Error;

    fn superblock_begin(&mut self, sb: &SuperblockIr) -> Result<(), Self::Error> {
        self.inner.superblock_begin(sb)
    }
    fn writeset_begin(&mut self, ws: &WritesetIr) -> Result<(), Self::Error> {
        self.inner.writeset_begin(ws)
    }
    fn writeset_run(&mut self, begin: DataBlock, len: u32) -> Result<(), Self::Error> {
        self.inner.writeset_run(begin, len)
    }
    fn writeset_words(&mut self, words: &[u64], nr_bits: u32) -> Result<(), Self::Error> {
        self.inner.writeset_words(words, nr_bits)?;
        self.progress.inc(u64::from(nr_bits));
        Ok(())
    }
    fn writeset_end(&mut self) -> Result<(), Self::Error> {
        self.inner.writeset_end()
    }
    fn era_array_begin(&mut self) -> Result<(), Self::Error> {
        self.inner.era_array_begin()
    }
    fn eras(&mut self, first: DataBlock, eras: &[u32]) -> Result<(), Self::Error> {
        self.inner.eras(first, eras)?;
        self.progress.inc(eras.len() as u64);
        Ok(())
    }
    fn era_array_end(&mut self) -> Result<(), Self::Error> {
        self.inner.era_array_end()
    }
    fn superblock_end(&mut self) -> Result<(), Self::Error> {
        self.inner.superblock_end()
    }
}

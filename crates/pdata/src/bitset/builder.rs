//! Writing a dm-bitset (format.md §6): its words as a dm-array of u64, with the bits at
//! or beyond `nr_bits` cleared.

use super::words::{mask_tail, nr_words};
use crate::alloc::BlockAllocator;
use crate::array::builder::ArrayBuilder;
use crate::checksum::BlockKind;
use crate::io::BlockIo;
use crate::units::MetaBlock;
use crate::{Error, Result};

/// Writes a bitset of `nr_bits` bits held in `words` (exactly `ceil(nr_bits / 64)` of
/// them); returns its root (not yet referenced).
pub fn write_bitset(
    alloc: &mut BlockAllocator,
    io: &dyn BlockIo,
    words: &[u64],
    nr_bits: u64,
) -> Result<MetaBlock> {
    if words.len() as u64 != nr_words(nr_bits) {
        return Err(Error::invalid(
            alloc.next_free(),
            BlockKind::ArrayBlock,
            format!(
                "a bitset of {nr_bits} bits needs {} words, {} given",
                nr_words(nr_bits),
                words.len()
            ),
        ));
    }
    let mut b = ArrayBuilder::<u64>::new();
    if let Some((&last, body)) = words.split_last() {
        b.push(alloc, io, body)?;
        let mut tail = [last];
        mask_tail(&mut tail, nr_bits);
        b.push(alloc, io, &tail)?;
    }
    b.finish(alloc, io)
}

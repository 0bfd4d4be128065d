//! Reading a dm-bitset (format.md §6) whole: its dm-array of u64 words.

use super::words::{mask_tail, nr_words};
use crate::array::read_array;
use crate::io::BlockIo;
use crate::units::MetaBlock;
use crate::Result;

/// Reads the bitset at `root` as words. Bits at or beyond `nr_bits` are cleared, as
/// readers must ignore them.
pub fn read_bitset(io: &dyn BlockIo, root: MetaBlock, nr_bits: u64) -> Result<Vec<u64>> {
    let mut words = read_array::<u64>(io, root, nr_words(nr_bits))?;
    mask_tail(&mut words, nr_bits);
    Ok(words)
}

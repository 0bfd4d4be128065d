//! Copy-on-write bitset updates (format.md §6): a dm-array of u64 words, bit `i` being
//! bit `i % 64` of word `i / 64`. Bits are written through to the array (the kernel keeps
//! a one-word cache and flushes it before each commit; the blocks that reach the disk
//! are the same).

use super::words::{nr_words, test_bit as word_has};
use crate::array::cow as array_cow;
use crate::transaction::TransactionManager;
use crate::units::MetaBlock;
use crate::Result;

/// A new bitset of `nr_bits` clear bits (an empty array resized with zero words).
pub fn create(tm: &mut TransactionManager, nr_bits: u64) -> Result<MetaBlock> {
    let root = array_cow::empty(tm)?;
    array_cow::resize(tm, root, 0, nr_words(nr_bits), 0u64)
}

/// Whether bit `bit` is set.
pub fn test_bit(tm: &mut TransactionManager, root: MetaBlock, bit: u64) -> Result<bool> {
    let w = array_cow::get::<u64>(tm, root, bit / 64)?;
    Ok(word_has(&[w], bit % 64))
}

/// Sets bit `bit`; returns the new root and whether the bit was clear before.
pub fn set_bit(
    tm: &mut TransactionManager,
    root: MetaBlock,
    bit: u64,
) -> Result<(MetaBlock, bool)> {
    let mask = 1u64 << (bit % 64);
    let w = array_cow::get::<u64>(tm, root, bit / 64)?;
    if w & mask != 0 {
        return Ok((root, false));
    }
    Ok((array_cow::set(tm, root, bit / 64, w | mask)?, true))
}

/// Every word of a bitset of `nr_bits` bits.
pub fn read(tm: &mut TransactionManager, root: MetaBlock, nr_bits: u64) -> Result<Vec<u64>> {
    array_cow::read_all(tm, root, nr_words(nr_bits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemIo;
    use std::sync::Arc;

    #[test]
    fn set_test_and_read_back() {
        let io = Arc::new(MemIo::new(1024));
        let mut tm = TransactionManager::format(io, true).unwrap();
        let mut root = create(&mut tm, 40_000).unwrap();
        for b in [0u64, 63, 64, 32_575, 32_576, 39_999] {
            let (r, changed) = set_bit(&mut tm, root, b).unwrap();
            assert!(changed);
            root = r;
            assert!(!set_bit(&mut tm, root, b).unwrap().1);
        }
        assert!(test_bit(&mut tm, root, 32_576).unwrap());
        assert!(!test_bit(&mut tm, root, 1).unwrap());
        assert!(set_bit(&mut tm, root, 40_000 + 64 * 10).is_err());
        let words = read(&mut tm, root, 40_000).unwrap();
        assert_eq!(words.len(), 625);
        assert_eq!(words[0], 1 | 1 << 63);
        assert_eq!(words[1], 1);
        assert_eq!(
            words[509], 1,
            "bit 32576 is the first of the second array block"
        );
    }
}

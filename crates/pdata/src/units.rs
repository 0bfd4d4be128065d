//! Units shared by every layer: the metadata block size and the on-disk constants that
//! do not belong to one structure.

use std::fmt;

/// Size of every metadata block in bytes (format.md §1). Nothing else is supported.
pub const BLOCK_SIZE: usize = 4096;

/// Metadata block size in 512-byte sectors, as stored in the superblock.
pub const BLOCK_SECTORS: u32 = (BLOCK_SIZE / 512) as u32;

/// One metadata block's bytes.
pub type BlockBuf = [u8; BLOCK_SIZE];

/// A metadata block number: an absolute 4096-byte block index on the metadata device.
///
/// A number read from disk becomes one only through [`MetaBlock::new`], and leaves as
/// an integer only through [`get`](Self::get); a table is indexed by one only through
/// the checked [`index`](Self::index), so a pointer too large for the machine is refused
/// rather than truncated onto another block. `Display` and `Debug` print the bare
/// number, as messages always have.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MetaBlock(u64);

impl MetaBlock {
    /// The block numbered `n`.
    pub const fn new(n: u64) -> MetaBlock {
        MetaBlock(n)
    }

    /// The block's number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The block's number as an index into an in-memory table, or `None` if it does not
    /// fit a `usize` (it is then beyond every table).
    pub fn index(self) -> Option<usize> {
        usize::try_from(self.0).ok()
    }

    /// The block `n` blocks after this one (`n = 0` is this one).
    ///
    /// # Panics
    ///
    /// If the number passes `u64::MAX`, which no device reaches.
    pub const fn offset(self, n: u64) -> MetaBlock {
        match self.0.checked_add(n) {
            Some(b) => MetaBlock(b),
            None => panic!("metadata block number overflows u64"),
        }
    }

    /// The block `n` blocks after this one, or `None` past `u64::MAX`.
    pub const fn checked_offset(self, n: u64) -> Option<MetaBlock> {
        match self.0.checked_add(n) {
            Some(b) => Some(MetaBlock(b)),
            None => None,
        }
    }

    /// Whether this is block 0: the superblock, never the target of a pointer, so a
    /// pointer to it means "none".
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The block number's on-disk encoding (a little-endian u64).
    pub const fn to_le_bytes(self) -> [u8; 8] {
        self.0.to_le_bytes()
    }

    /// Whether the block lies on a device (or in a table) of `nr_blocks` blocks.
    pub const fn is_below(self, nr_blocks: u64) -> bool {
        self.0 < nr_blocks
    }
}

impl From<u32> for MetaBlock {
    fn from(n: u32) -> MetaBlock {
        MetaBlock(u64::from(n))
    }
}

impl fmt::Display for MetaBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for MetaBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// An origin (data) block number: an index into the era array and a bit of a writeset.
///
/// Built from a stored or parsed number only through [`DataBlock::new`], read out
/// through [`get`](Self::get) (or [`index`](Self::index) for a table). Bulk tables (the
/// era array, writeset words) stay integers; a single block named at an API boundary is
/// one of these. `Display` and `Debug` print the bare number, as messages always have.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DataBlock(u32);

impl DataBlock {
    /// The block numbered `n`.
    pub const fn new(n: u32) -> DataBlock {
        DataBlock(n)
    }

    /// The block's number.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The block's number as an index into an in-memory table (a u32 fits the `usize`
    /// of every supported target).
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for DataBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for DataBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// An era number: the kernel's u32 counter, which wraps silently (target.md §6.1).
///
/// Built from a stored or parsed number only through [`Era::new`], read out through
/// [`get`](Self::get); the one piece of arithmetic the format has is [`next`](Self::next).
/// `Display` and `Debug` print the bare number, as messages always have.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Era(u32);

impl Era {
    /// Era `n`.
    pub const fn new(n: u32) -> Era {
        Era(n)
    }

    /// The era's number.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The era after this one, wrapping from `u32::MAX` to 0 as the kernel's counter
    /// does (it increments without a check).
    pub const fn next(self) -> Era {
        Era(self.0.wrapping_add(1))
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A zeroed block on the heap.
pub fn zeroed_block() -> Box<BlockBuf> {
    Box::new([0u8; BLOCK_SIZE])
}

/// `ceil(a / b)` for block arithmetic.
pub const fn div_up(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// Origin blocks, and so the bits of any writeset, must number fewer than this: the
/// kernel refuses an origin of 2^31 blocks or more (format.md §11, target.md §4).
pub const ORIGIN_BLOCKS_LIMIT: u64 = 1 << 31;

/// Whether `n` origin blocks (or writeset bits) are within the kernel's limit,
/// [`ORIGIN_BLOCKS_LIMIT`]: the one rule every tool applies.
pub const fn origin_blocks_ok(n: u32) -> bool {
    (n as u64) < ORIGIN_BLOCKS_LIMIT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meta_block_prints_its_bare_number() {
        let b = MetaBlock::new(4097);
        assert_eq!(b.to_string(), "4097");
        assert_eq!(format!("{b:?}"), "4097");
        assert_eq!(format!("{:?}", Some(b)), "Some(4097)");
        assert_eq!(format!("{b:>6}|"), "  4097|");
        assert_eq!(b.get(), 4097);
        assert_eq!(MetaBlock::from(7u32), MetaBlock::new(7));
        assert_eq!(MetaBlock::default(), MetaBlock::new(0));
        assert!(MetaBlock::default().is_zero());
        assert_eq!(b.to_le_bytes(), 4097u64.to_le_bytes());
    }

    #[test]
    fn a_meta_block_beyond_usize_has_no_index() {
        assert_eq!(MetaBlock::new(5).index(), Some(5));
        let huge = MetaBlock::new(u64::MAX);
        if usize::BITS < 64 {
            assert_eq!(huge.index(), None);
            // Its low bits must not name another block.
            assert_eq!(MetaBlock::new((1 << 32) + 1).index(), None);
        } else {
            assert_eq!(huge.index(), Some(usize::MAX));
        }
    }

    #[test]
    fn a_meta_block_beyond_a_table_is_not_below_it() {
        let table = [10u32, 20, 30];
        let look = |b: MetaBlock| {
            b.index()
                .filter(|_| b.is_below(table.len() as u64))
                .map(|i| table[i])
        };
        assert_eq!(look(MetaBlock::new(2)), Some(30));
        assert_eq!(look(MetaBlock::new(3)), None);
        // 2^32 + 1 truncated to 32 bits would be block 1.
        assert_eq!(look(MetaBlock::new((1 << 32) + 1)), None);
        assert_eq!(look(MetaBlock::new(u64::MAX)), None);
        assert!(MetaBlock::new(2).is_below(3));
        assert!(!MetaBlock::new(3).is_below(3));
    }

    #[test]
    fn meta_block_offsets_are_checked() {
        assert_eq!(MetaBlock::new(5).offset(0), MetaBlock::new(5));
        assert_eq!(MetaBlock::new(5).offset(3), MetaBlock::new(8));
        assert_eq!(
            MetaBlock::new(u64::MAX - 1).checked_offset(1),
            Some(MetaBlock::new(u64::MAX))
        );
        assert_eq!(MetaBlock::new(u64::MAX).checked_offset(1), None);
        assert!(MetaBlock::new(1) < MetaBlock::new(2));
    }

    #[test]
    #[should_panic(expected = "overflows")]
    fn a_meta_block_offset_past_u64_panics_rather_than_wraps() {
        let _ = MetaBlock::new(u64::MAX).offset(1);
    }

    #[test]
    fn a_data_block_prints_its_bare_number() {
        let b = DataBlock::new(129);
        assert_eq!(b.to_string(), "129");
        assert_eq!(format!("{b:?}"), "129");
        assert_eq!(
            format!("{:?}", vec![(b, DataBlock::new(130))]),
            "[(129, 130)]"
        );
        assert_eq!(format!("{b:>5}|"), "  129|");
        assert_eq!(b.get(), 129);
        assert_eq!(b.index(), 129usize);
        assert_eq!(DataBlock::new(u32::MAX).index(), u32::MAX as usize);
        assert_eq!(DataBlock::default(), DataBlock::new(0));
        assert!(DataBlock::new(3) < DataBlock::new(4));
    }

    #[test]
    fn an_era_prints_its_bare_number_and_wraps_like_the_kernel() {
        let e = Era::new(41);
        assert_eq!(e.to_string(), "41");
        assert_eq!(format!("{e:?}"), "41");
        assert_eq!(format!("{:?}", vec![e, e.next()]), "[41, 42]");
        assert_eq!(e.get(), 41);
        assert_eq!(e.next(), Era::new(42));
        assert_eq!(Era::default(), Era::new(0));
        // The kernel's counter is a u32 incremented without a check (target.md §6.1).
        assert_eq!(Era::new(u32::MAX).next(), Era::new(0));
        assert!(Era::new(3) < Era::new(4));
    }

    #[test]
    fn the_origin_limit_is_below_2_pow_31() {
        assert!(origin_blocks_ok((1 << 31) - 1));
        assert!(!origin_blocks_ok(1 << 31));
        assert!(!origin_blocks_ok(u32::MAX));
    }
}

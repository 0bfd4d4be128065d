//! Units shared by every layer: the metadata block size and the on-disk constants that
//! do not belong to one structure.

/// Size of every metadata block in bytes (format.md §1). Nothing else is supported.
pub const BLOCK_SIZE: usize = 4096;

/// Metadata block size in 512-byte sectors, as stored in the superblock.
pub const BLOCK_SECTORS: u32 = (BLOCK_SIZE / 512) as u32;

/// One metadata block's bytes.
pub type BlockBuf = [u8; BLOCK_SIZE];

/// A metadata block number (an absolute 4096-byte block index on the metadata device).
pub type MetaBlock = u64;

/// An origin (data) block index, as stored in era arrays and writesets.
pub type DataBlock = u32;

/// An era number.
pub type Era = u32;

/// A zeroed block on the heap.
pub fn zeroed_block() -> Box<BlockBuf> {
    Box::new([0u8; BLOCK_SIZE])
}

/// `ceil(a / b)` for block arithmetic.
pub const fn div_up(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

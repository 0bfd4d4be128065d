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
    fn the_origin_limit_is_below_2_pow_31() {
        assert!(origin_blocks_ok((1 << 31) - 1));
        assert!(!origin_blocks_ok(1 << 31));
        assert!(!origin_blocks_ok(u32::MAX));
    }
}

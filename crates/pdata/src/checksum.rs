//! Block checksums: CRC-32C of bytes 4..4096, without the final inversion, XOR a salt
//! per block type, stored little-endian at offset 0 (format.md §2).
//!
//! Sealing an all-zero block as a superblock gives the checksum of format.md §2.3;
//! verifying checks both the checksum and the block's record of its own location:
//!
//! ```rust
//! use dm_persistent_data::checksum::{compute, identify, seal, verify, BlockKind};
//! use dm_persistent_data::units::{zeroed_block, MetaBlock};
//!
//! let mut block = zeroed_block();
//! assert_eq!(compute(&block, BlockKind::Superblock), 0x5076_581C);
//!
//! seal(&mut block, BlockKind::Superblock);
//! assert_eq!(block[..4], [0x1c, 0x58, 0x76, 0x50]);
//! assert_eq!(identify(&block), Some(BlockKind::Superblock));
//! assert!(verify(&block, BlockKind::Superblock, MetaBlock::new(0)).is_ok());
//!
//! // The block says it is block 0: read from block 5 it is refused.
//! assert!(verify(&block, BlockKind::Superblock, MetaBlock::new(5)).is_err());
//! // One flipped bit is caught.
//! block[100] ^= 1;
//! assert!(verify(&block, BlockKind::Superblock, MetaBlock::new(0)).is_err());
//! ```

use super::codec::{get_block, get_u32, put_block, put_u32};
use super::{Error, Result};
use crate::units::{BlockBuf, MetaBlock};
use std::fmt;

/// The five kinds of checksummed metadata block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockKind {
    /// A superblock (the era superblock, block 0).
    Superblock,
    /// An internal or leaf btree node.
    BtreeNode,
    /// An array block: a header and packed values (format.md §5.1).
    ArrayBlock,
    /// A space-map bitmap block: two bits of reference count per metadata block.
    Bitmap,
    /// The space-map index block, listing the bitmap blocks.
    Index,
}

impl BlockKind {
    /// Every kind, for identifying an unknown block.
    pub const ALL: [BlockKind; 5] = [
        BlockKind::Superblock,
        BlockKind::BtreeNode,
        BlockKind::ArrayBlock,
        BlockKind::Bitmap,
        BlockKind::Index,
    ];

    /// The salt XOR-ed into the checksum.
    pub const fn salt(self) -> u32 {
        match self {
            BlockKind::Superblock => 146_538_381,
            BlockKind::BtreeNode => 121_107,
            BlockKind::ArrayBlock => 595_846_735,
            BlockKind::Bitmap => 240_779,
            BlockKind::Index => 160_478,
        }
    }

    /// Offset of the block's self-reference (`blocknr`).
    pub const fn blocknr_offset(self) -> usize {
        match self {
            BlockKind::ArrayBlock => 16,
            _ => 8,
        }
    }
}

impl fmt::Display for BlockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockKind::Superblock => "superblock",
            BlockKind::BtreeNode => "btree node",
            BlockKind::ArrayBlock => "array block",
            BlockKind::Bitmap => "space-map bitmap",
            BlockKind::Index => "space-map index",
        })
    }
}

/// CRC-32C register over bytes 4..4096 with no final inversion.
pub fn raw_crc(block: &BlockBuf) -> u32 {
    crc32c::crc32c(&block[4..]) ^ 0xFFFF_FFFF
}

/// The checksum a block of `kind` must carry.
pub fn compute(block: &BlockBuf, kind: BlockKind) -> u32 {
    raw_crc(block) ^ kind.salt()
}

/// Stores the block's self-reference (`blocknr`) for a block of `kind` at `location`.
pub fn set_blocknr(block: &mut BlockBuf, kind: BlockKind, location: MetaBlock) {
    put_block(block, kind.blocknr_offset(), location);
}

/// Stores the block's checksum at offset 0.
pub fn seal(block: &mut BlockBuf, kind: BlockKind) {
    let c = compute(block, kind);
    put_u32(block, 0, c);
}

/// Which kind's checksum the block carries, if any.
pub fn identify(block: &BlockBuf) -> Option<BlockKind> {
    let x = raw_crc(block) ^ get_u32(block, 0);
    BlockKind::ALL.into_iter().find(|k| k.salt() == x)
}

/// Verifies the checksum and the self-reference of a block read from `location`.
pub fn verify(block: &BlockBuf, kind: BlockKind, location: MetaBlock) -> Result<()> {
    let stored = get_u32(block, 0);
    let computed = compute(block, kind);
    if stored != computed {
        return Err(Error::BadChecksum {
            block: location,
            kind,
            stored,
            computed,
        });
    }
    let found = get_block(block, kind.blocknr_offset());
    if found != location {
        return Err(Error::WrongBlocknr {
            block: location,
            kind,
            found,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Vectors of format.md §2.3.
    use super::*;
    use crate::units::BLOCK_SIZE;

    #[test]
    fn standard_crc32c_check_value() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn raw_over_zero_block() {
        let b = [0u8; BLOCK_SIZE];
        assert_eq!(raw_crc(&b), 0x58CD_A791);
    }

    #[test]
    fn zero_block_checksums_per_kind() {
        let b = [0u8; BLOCK_SIZE];
        assert_eq!(compute(&b, BlockKind::Superblock), 0x5076_581C);
        assert_eq!(compute(&b, BlockKind::BtreeNode), 0x58CC_7E82);
        assert_eq!(compute(&b, BlockKind::ArrayBlock), 0x7B4E_41DE);
        assert_eq!(compute(&b, BlockKind::Bitmap), 0x58CE_0B1A);
        assert_eq!(compute(&b, BlockKind::Index), 0x58CF_D54F);
    }

    #[test]
    fn ramp_block_checksums_per_kind() {
        let mut b = [0u8; BLOCK_SIZE];
        for (i, x) in b.iter_mut().enumerate() {
            *x = (i % 256) as u8;
        }
        assert_eq!(raw_crc(&b), 0x80E8_4921);
        assert_eq!(compute(&b, BlockKind::Superblock), 0x8853_B6AC);
        assert_eq!(compute(&b, BlockKind::BtreeNode), 0x80E9_9032);
        assert_eq!(compute(&b, BlockKind::ArrayBlock), 0xA36B_AF6E);
        assert_eq!(compute(&b, BlockKind::Bitmap), 0x80EB_E5AA);
        assert_eq!(compute(&b, BlockKind::Index), 0x80EA_3BFF);
    }

    #[test]
    fn seal_then_verify_and_identify() {
        let mut b = [0u8; BLOCK_SIZE];
        put_u32(&mut b, 4, 2);
        b[8] = 7;
        seal(&mut b, BlockKind::BtreeNode);
        assert!(verify(&b, BlockKind::BtreeNode, MetaBlock::new(7)).is_ok());
        assert_eq!(identify(&b), Some(BlockKind::BtreeNode));
        assert!(matches!(
            verify(&b, BlockKind::BtreeNode, MetaBlock::new(8)),
            Err(Error::WrongBlocknr { found, .. }) if found == MetaBlock::new(7)
        ));
        assert!(matches!(
            verify(&b, BlockKind::ArrayBlock, MetaBlock::new(7)),
            Err(Error::BadChecksum { .. })
        ));
        b[100] ^= 1;
        assert_eq!(identify(&b), None);
    }
}

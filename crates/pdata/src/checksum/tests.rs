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

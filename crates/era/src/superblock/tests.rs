//! Example A of format.md §12.4, byte for byte.
use super::*;

fn example_a() -> Superblock {
    let mut sb = Superblock::new(128);
    sb.sm_root = SmRoot {
        nr_blocks: 256,
        nr_allocated: 6,
        bitmap_root: MetaBlock::new(1),
        ref_count_root: MetaBlock::new(2),
    };
    sb.writeset_tree_root = MetaBlock::new(4);
    sb.era_array_root = MetaBlock::new(5);
    sb
}

#[test]
fn example_a_checksum_and_bytes() {
    let b = example_a().pack();
    assert_eq!(&b[0..4], &[0x49, 0x41, 0x1d, 0xd9]);
    assert_eq!(&b[32..40], &[0x7b, 0x07, 0xc1, 0x7e, 0, 0, 0, 0]);
    assert_eq!(&b[172..180], &[0x80, 0, 0, 0, 8, 0, 0, 0]);
    assert!(b[SUPERBLOCK_USED..].iter().all(|&x| x == 0));
    assert_eq!(
        Superblock::unpack(&b, MetaBlock::new(0)).ok(),
        Some(example_a())
    );
}

#[test]
fn rejects_zeroes_magic_checksum_blocknr_version() {
    let zero = [0u8; BLOCK_SIZE];
    assert!(Superblock::unpack(&zero, MetaBlock::new(0))
        .unwrap_err()
        .to_string()
        .contains("all zeros"));

    let mut b = example_a().pack();
    b[32] ^= 1;
    assert!(Superblock::unpack(&b, MetaBlock::new(0))
        .unwrap_err()
        .to_string()
        .contains("magic"));

    let mut b = example_a().pack();
    b[300] = 1;
    assert!(Superblock::unpack(&b, MetaBlock::new(0))
        .unwrap_err()
        .to_string()
        .contains("checksum"));

    assert!(Superblock::unpack(&example_a().pack(), MetaBlock::new(3))
        .unwrap_err()
        .to_string()
        .contains("says it is block 0"));

    let mut sb = example_a();
    sb.version = 2;
    assert!(Superblock::unpack(&sb.pack(), MetaBlock::new(0))
        .unwrap_err()
        .to_string()
        .contains("version 2"));
}

/// The writeset tree's value: decode inverts encode, SIZE is the bytes encode writes,
/// and the layout is `nr_bits` (le32) then the bitset root (le64).
#[test]
fn writeset_root_value_round_trips() {
    use crate::pdata::value::encode_vec;
    let samples = [
        WritesetRoot::default(),
        WritesetRoot {
            nr_bits: 16_000_000,
            root: MetaBlock::new(0x0102_0304_0506_0708),
        },
        WritesetRoot {
            nr_bits: u32::MAX,
            root: MetaBlock::new(u64::MAX),
        },
    ];
    for ws in samples {
        let bytes = encode_vec(&ws);
        assert_eq!(bytes.len(), <WritesetRoot as Value>::SIZE);
        assert_eq!(bytes.len(), WRITESET_ROOT_SIZE);
        assert_eq!(&bytes[..4], &ws.nr_bits.to_le_bytes());
        assert_eq!(&bytes[4..], &ws.root.get().to_le_bytes());
        let Ok(back) = <WritesetRoot as Value>::decode(&bytes);
        assert_eq!(back, ws);
    }
    assert_eq!(<WritesetRoot as Value>::SIZE_U32, 12);
}

use super::*;
use crate::io::MemIo;
use crate::ir::SuperblockIr;
use crate::metadata::{open_view, read_metadata, Source};
use crate::pdata::bitset::set_bit;
use crate::pdata::codec::get_u32;
use crate::pdata::space_map::SmRoot;
use crate::units::Era;
use crate::units::MetaBlock;

/// format.md §12.5: N = 100, current era 2, writeset era 2 with bits {0, 5, 63, 64, 99},
/// era of block b = b mod 3, on a 1 MiB device.
fn example_b() -> EraMetadata {
    let mut bits = vec![0u64; 2];
    for b in [0, 5, 63, 64, 99] {
        set_bit(&mut bits, b);
    }
    EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: 128,
            nr_blocks: 100,
            current_era: Era::new(2),
        },
        writesets: vec![Writeset {
            era: Era::new(2),
            nr_bits: 100,
            bits,
        }],
        era_array: (0..100).map(|b| b % 3).collect(),
    }
}

#[test]
fn example_b_is_reproduced_byte_for_byte() {
    let io = MemIo::new(256);
    let summary = write_metadata(&io, &example_b()).unwrap();
    assert_eq!(summary.blocks_used, 9);
    assert_eq!(
        summary.superblock.sm_root,
        SmRoot {
            nr_blocks: 256,
            nr_allocated: 9,
            bitmap_root: MetaBlock::new(8),
            ref_count_root: MetaBlock::new(7)
        }
    );
    let bytes = io.to_bytes();
    let csum = |b: usize| get_u32(&bytes[b * BLOCK_SIZE..], 0);
    let expected = [
        0x3ED2_1E19u32,
        0x0764_821D,
        0xC55A_2D9C,
        0xAF7C_07FC,
        0x76B5_6B41,
        0x63A0_374D,
        0x4421_3501,
        0x41A2_E41B,
        0x0A88_2DBE,
    ];
    for (b, &c) in expected.iter().enumerate() {
        assert_eq!(csum(b), c, "checksum of block {b}");
    }
    assert!(bytes[9 * BLOCK_SIZE..].iter().all(|&x| x == 0));
    // Bitmap bytes: blocks 0-8 have count 1.
    assert_eq!(
        &bytes[6 * BLOCK_SIZE + 16..6 * BLOCK_SIZE + 19],
        &[0xaa, 0xaa, 0x02]
    );
}

#[test]
fn written_image_reads_back_equal() {
    let md = example_b();
    let io = MemIo::new(256);
    write_metadata(&io, &md).unwrap();
    let view = open_view(&io, Source::Live).unwrap();
    assert_eq!(view.current_writeset, None);
    assert_eq!(read_metadata(&io, &view).unwrap(), md);
}

#[test]
fn same_input_gives_same_bytes() {
    let md = example_b();
    let a = MemIo::new(300);
    let b = MemIo::from_bytes(vec![0x5a; 300 * BLOCK_SIZE]);
    write_metadata(&a, &md).unwrap();
    write_metadata(&b, &md).unwrap();
    let used = 9 * BLOCK_SIZE;
    assert_eq!(a.to_bytes()[..used], b.to_bytes()[..used]);
}

#[test]
fn too_small_device_is_refused_untouched_and_names_the_size() {
    let md = example_b();
    // 9 blocks are enough: 8 structure/space-map blocks + superblock, one bitmap.
    assert_eq!(blocks_needed(&md), Some(9));
    assert_eq!(bytes_needed(&md), Some(9 * 4096));
    let io = MemIo::from_bytes(vec![0x77; 8 * BLOCK_SIZE]);
    let err = write_metadata(&io, &md).unwrap_err();
    assert!(matches!(
        err,
        Error::DeviceTooSmall {
            needed_bytes: 36864,
            needed_blocks: 9,
            device_bytes: 32768
        }
    ));
    assert!(err.to_string().contains("36864 bytes"), "{err}");
    assert!(io.to_bytes().iter().all(|&b| b == 0x77));
    let io = MemIo::new(9);
    write_metadata(&io, &md).unwrap();
    let view = open_view(&io, Source::Live).unwrap();
    assert_eq!(read_metadata(&io, &view).unwrap(), md);
}

#[test]
fn needed_size_accounts_for_a_second_bitmap() {
    // A structure of 16318 blocks fits 16320 blocks with one bitmap only when the
    // bitmap, ref-count leaf and index fit too: the fixed point must find the real
    // minimum, which a device one block smaller must refuse.
    let mut md = example_b();
    md.superblock.nr_blocks = 15_000_000;
    md.superblock.current_era = Era::new(2);
    md.era_array = vec![1; 15_000_000];
    md.writesets.clear();
    let need = blocks_needed(&md).unwrap();
    assert!(fits(structure_blocks(&md), need));
    assert!(!fits(structure_blocks(&md), need - 1));
}

#[test]
fn invalid_input_is_refused_before_anything_is_written() {
    type Mutation = Box<dyn Fn(&mut EraMetadata)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "twice",
            Box::new(|m| {
                let ws = m.writesets[0].clone();
                m.writesets.push(ws)
            }),
        ),
        ("entries", Box::new(|m| m.era_array.push(0))),
        (
            "later than the current era",
            Box::new(|m| m.era_array[3] = 3),
        ),
        (
            "later than the current era",
            Box::new(|m| m.writesets[0].era = Era::new(7)),
        ),
        ("words", Box::new(|m| m.writesets[0].bits.push(0))),
        ("block size", Box::new(|m| m.superblock.block_size = 100)),
        ("block size", Box::new(|m| m.superblock.block_size = 0)),
        (
            "not one contiguous range",
            Box::new(|m| {
                // Eras 1 and 3 with current era 3: what era_check reports.
                m.superblock.current_era = Era::new(3);
                m.writesets[0].era = Era::new(1);
                let mut ws = m.writesets[0].clone();
                ws.era = Era::new(3);
                m.writesets.push(ws)
            }),
        ),
        (
            "nr_bits 2147483648 is not below",
            Box::new(|m| {
                // Lazily zeroed: no memory is touched.
                m.writesets[0].nr_bits = 1 << 31;
                m.writesets[0].bits = vec![0; 1 << 25];
            }),
        ),
    ];
    for (what, mutate) in cases {
        let mut md = example_b();
        mutate(&mut md);
        let io = MemIo::from_bytes(vec![0x33; 256 * BLOCK_SIZE]);
        let err = write_metadata(&io, &md).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{what}: {err}");
        assert!(err.to_string().contains(what), "{what}: {err}");
        assert!(io.to_bytes().iter().all(|&b| b == 0x33), "{what}");
    }
}

#[test]
fn stray_bits_beyond_nr_bits_are_written_as_zero() {
    let mut md = example_b();
    md.writesets[0].bits[1] |= 1 << 40; // bit 104 >= nr_bits 100
    let io = MemIo::new(256);
    write_metadata(&io, &md).unwrap();
    let view = open_view(&io, Source::Live).unwrap();
    assert_eq!(read_metadata(&io, &view).unwrap(), example_b());
}

#[test]
fn empty_metadata_is_an_empty_tree_and_array() {
    let md = EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: 8,
            nr_blocks: 0,
            current_era: Era::new(0),
        },
        writesets: vec![],
        era_array: vec![],
    };
    let io = MemIo::new(16);
    let s = write_metadata(&io, &md).unwrap();
    // superblock, writeset leaf, era leaf, bitmap, ref-count leaf, index
    assert_eq!(s.blocks_used, 6);
    let view = open_view(&io, Source::Live).unwrap();
    assert_eq!(read_metadata(&io, &view).unwrap(), md);
}

#[test]
fn writesets_are_archived_by_era_whatever_their_order() {
    let mut md = example_b();
    md.superblock.current_era = Era::new(3);
    let mut late = md.writesets[0].clone();
    late.era = Era::new(3);
    late.bits = vec![u64::MAX, (1 << 36) - 1];
    md.writesets.insert(0, late);
    let io = MemIo::new(256);
    write_metadata(&io, &md).unwrap();
    let back = read_metadata(&io, &open_view(&io, Source::Live).unwrap()).unwrap();
    md.writesets.sort_by_key(|w| w.era);
    assert_eq!(back, md);
}

#[test]
fn a_writeset_of_2_pow_31_minus_1_bits_passes_validation() {
    let mut md = example_b();
    md.writesets[0].nr_bits = (1 << 31) - 1;
    md.writesets[0].bits = vec![0; 1 << 25];
    validate(&md).unwrap();
}

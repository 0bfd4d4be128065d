use super::*;
use crate::io::MemIo;
use crate::ir::{SuperblockIr, Writeset};
use crate::pdata::write_block;
use crate::restore::write_metadata;
use crate::units::zeroed_block;
use crate::units::{Era, MetaBlock};

fn sample() -> EraMetadata {
    let nr_blocks = 5000u32;
    EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: 128,
            nr_blocks,
            current_era: Era::new(9),
        },
        writesets: vec![
            Writeset {
                era: Era::new(7),
                nr_bits: nr_blocks,
                bits: (0..79).map(|i| if i % 3 == 0 { 0x11 } else { 0 }).collect(),
            },
            Writeset {
                era: Era::new(8),
                nr_bits: nr_blocks,
                bits: (0..79).map(|i| if i % 5 == 0 { 0x3 } else { 0 }).collect(),
            },
        ],
        era_array: (0..nr_blocks).map(|b| b % 7).collect(),
    }
}

fn written(md: &EraMetadata) -> (MemIo, crate::restore::WriteSummary) {
    let io = MemIo::new(1024);
    let summary = write_metadata(&io, md).unwrap();
    (io, summary)
}

#[test]
fn undamaged_metadata_is_salvaged_exactly() {
    let md = sample();
    let (io, _) = written(&md);
    let r = salvage(&io, &RepairOptions::default()).unwrap();
    assert!(r.losses.is_empty(), "{:?}", r.losses);
    assert_eq!(r.metadata(&io), md);
}

#[test]
fn an_unreadable_era_array_gives_the_current_era_to_blocks_no_writeset_names() {
    let md = sample();
    let (io, summary) = written(&md);
    write_block(&io, summary.superblock.era_array_root, &zeroed_block()).unwrap();
    let r = salvage(&io, &RepairOptions::default()).unwrap();
    assert_eq!(r.losses.len(), 1, "{:?}", r.losses);
    assert_eq!(r.losses[0].block, summary.superblock.era_array_root);
    let (truth, got) = (md.folded_eras(), r.metadata(&io).folded_eras());
    for (b, (&t, &g)) in truth.iter().zip(&got).enumerate() {
        assert!(g >= t, "block {b}: {g} < {t}");
        let in_writeset = md
            .writesets
            .iter()
            .any(|w| crate::pdata::bitset::test_bit(&w.bits, b as u64));
        assert_eq!(g, if in_writeset { t } else { 9 }, "block {b}");
    }
}

#[test]
fn a_zeroed_superblock_needs_the_block_size_and_is_rebuilt_with_it() {
    let md = sample();
    let (io, _) = written(&md);
    write_block(&io, MetaBlock::new(0), &zeroed_block()).unwrap();
    let e = salvage(&io, &RepairOptions::default()).unwrap_err();
    assert!(e.to_string().contains("--data-block-size"), "{e}");
    let opts = RepairOptions {
        data_block_size: Some(128),
        nr_blocks: None,
    };
    let r = salvage(&io, &opts).unwrap();
    assert!(r.rebuilt_superblock);
    assert_eq!(r.metadata(&io).folded_eras(), md.folded_eras());
    // No structure shows era 9, which passed without writes: the highest era found is 8.
    let want = SuperblockIr {
        current_era: Era::new(8),
        ..md.superblock.clone()
    };
    assert_eq!(r.metadata(&io).superblock, want);
}

use super::*;
use crate::units::{DataBlock, Era};

fn sb(nr_blocks: u32) -> SuperblockIr {
    SuperblockIr {
        uuid: "x".into(),
        block_size: 128,
        nr_blocks,
        current_era: Era::new(9),
    }
}

fn ws(era: u32, nr_bits: u32) -> WritesetIr {
    WritesetIr {
        era: Era::new(era),
        nr_bits,
    }
}

#[test]
fn builds_in_input_order() {
    let mut b = IrBuilder::new();
    b.superblock_begin(&sb(130)).unwrap();
    b.writeset_begin(&ws(7, 130)).unwrap();
    b.writeset_run(DataBlock::new(60), 10).unwrap();
    b.writeset_run(DataBlock::new(65), 1).unwrap();
    b.writeset_run(DataBlock::new(129), 1).unwrap();
    b.writeset_end().unwrap();
    b.writeset_begin(&ws(2, 3)).unwrap();
    b.writeset_end().unwrap();
    b.era_array_begin().unwrap();
    b.eras(DataBlock::new(128), &[4, 5]).unwrap();
    b.eras(DataBlock::new(0), &[1]).unwrap();
    b.era_array_end().unwrap();
    b.superblock_end().unwrap();
    let md = b.into_metadata().unwrap();
    assert_eq!(md.superblock, sb(130));
    assert_eq!(md.writesets.len(), 2);
    assert_eq!(
        (md.writesets[0].era, md.writesets[1].era),
        (Era::new(7), Era::new(2))
    );
    assert_eq!(md.writesets[0].bits, vec![0xf << 60, 0x3f, 1 << 1]);
    assert_eq!(md.writesets[1].bits, vec![0]);
    let mut eras = vec![0; 130];
    eras[0] = 1;
    eras[128] = 4;
    eras[129] = 5;
    assert_eq!(md.era_array, eras);
}

#[test]
fn rejects_calls_out_of_order() {
    let mut b = IrBuilder::new();
    assert_eq!(
        b.writeset_run(DataBlock::new(0), 1),
        Err(BuildError::OutOfOrder("a run of marked blocks"))
    );
    b.superblock_begin(&sb(4)).unwrap();
    assert_eq!(
        b.eras(DataBlock::new(0), &[1]),
        Err(BuildError::OutOfOrder("an era entry"))
    );
    b.era_array_begin().unwrap();
    assert_eq!(
        b.writeset_begin(&ws(1, 4)),
        Err(BuildError::OutOfOrder("a writeset"))
    );
    assert_eq!(
        IrBuilder::new().into_metadata(),
        Err(BuildError::OutOfOrder("the end of the metadata"))
    );
}

#[test]
fn rejects_what_the_metadata_cannot_hold() {
    let mut b = IrBuilder::new();
    assert_eq!(
        b.superblock_begin(&SuperblockIr {
            block_size: 7,
            ..sb(4)
        }),
        Err(BuildError::BadBlockSize(7))
    );
    assert_eq!(
        b.superblock_begin(&sb(1 << 31)),
        Err(BuildError::TooManyBlocks(1 << 31))
    );
    b.superblock_begin(&sb(100)).unwrap();
    assert_eq!(
        b.writeset_begin(&ws(1, 1 << 31)),
        Err(BuildError::TooManyBits {
            era: 1,
            nr_bits: 1 << 31
        })
    );
    assert_eq!(
        b.writeset_begin(&ws(10, 4)),
        Err(BuildError::FutureWriteset {
            era: 10,
            current_era: 9
        })
    );
    b.writeset_begin(&ws(9, (1 << 31) - 1)).unwrap();
    assert_eq!(
        b.writeset_run(DataBlock::new(u32::MAX), 1),
        Err(BuildError::RunOverflow {
            begin: DataBlock::new(u32::MAX),
            len: 1
        })
    );
    b.writeset_run(DataBlock::new((1 << 31) - 2), 1).unwrap();
    assert_eq!(
        b.writeset_run(DataBlock::new((1 << 31) - 1), 1),
        Err(BuildError::BitBeyondEnd {
            era: 9,
            block: DataBlock::new((1 << 31) - 1),
            nr_bits: (1 << 31) - 1
        })
    );
    b.writeset_end().unwrap();
    assert_eq!(
        b.writeset_begin(&ws(9, 4)),
        Err(BuildError::RepeatedWriteset { era: 9 })
    );
    b.era_array_begin().unwrap();
    b.eras(DataBlock::new(5), &[1, 2, 3]).unwrap();
    assert_eq!(
        b.eras(DataBlock::new(0), &[0; 7]),
        Err(BuildError::RepeatedEra {
            block: DataBlock::new(5)
        })
    );
    assert_eq!(
        b.eras(DataBlock::new(98), &[0; 3]),
        Err(BuildError::EraBeyondEnd {
            block: DataBlock::new(100),
            nr_blocks: 100
        })
    );
}

use super::*;
use crate::generate::{generate, GenerateParams};
use crate::io::MemIo;
use crate::ir::EraMetadata;
use crate::pdata::array::array_max_entries;
use crate::pdata::array::builder::BATCH_BLOCKS;
use crate::pdata::bitset::for_each_run;
use crate::restore::{blocks_needed, write_metadata};
use crate::units::{DataBlock, Era};

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// Three writesets shorter than the era array, and an era array of three batches and a
/// bit, every block given.
fn metadata() -> EraMetadata {
    let batch = BATCH_BLOCKS as u32 * array_max_entries(4);
    let nr_blocks = 3 * batch + 777;
    let mut md = generate(&GenerateParams {
        nr_blocks,
        block_size: 128,
        current_era: 7,
        nr_writesets: 3,
        density: 0.25,
        seed: 7,
    })
    .unwrap();
    // The live era has no archived writeset.
    md.superblock.current_era = Era::new(8);
    for ws in &mut md.writesets {
        ws.nr_bits = nr_blocks - ws.era.get() * 1000;
        ws.bits.truncate(nr_words(u64::from(ws.nr_bits)) as usize);
        mask_tail(&mut ws.bits, u64::from(ws.nr_bits));
    }
    md
}

fn device(md: &EraMetadata) -> MemIo {
    MemIo::new(blocks_needed(md).unwrap() + 50)
}

#[test]
fn input_in_any_order_gives_the_bytes_of_input_in_order() {
    let md = metadata();
    let want = device(&md);
    write_metadata(&want, &md).unwrap();
    for hold in [0, 64, 1 << 20] {
        let got = device(&md);
        let mut w = StreamWriter::new(&got, hold);
        w.superblock_begin(&md.superblock).unwrap();
        // Writesets 7, 5, 6: each one below one already written moves those up.
        for &i in &[2usize, 0, 1] {
            let ws = &md.writesets[i];
            w.writeset_begin(&WritesetIr {
                era: ws.era,
                nr_bits: ws.nr_bits,
            })
            .unwrap();
            let mut runs = Vec::new();
            for_each_run(&ws.bits, u64::from(ws.nr_bits), |b, e| runs.push((b, e)));
            runs.reverse();
            for (b, e) in runs {
                w.writeset_run(DataBlock::new(b as u32), (e - b) as u32)
                    .unwrap();
            }
            w.writeset_end().unwrap();
        }
        w.era_array_begin().unwrap();
        // Pieces of odd sizes, backwards, and the block-0 era (0) never given.
        let eras = &md.era_array;
        let mut end = eras.len();
        let mut s = 3u64;
        while end > 1 {
            let len = (1 + xorshift(&mut s) % 3000) as usize;
            let begin = end.saturating_sub(len).max(1);
            w.eras(DataBlock::new(begin as u32), &eras[begin..end])
                .unwrap();
            end = begin;
        }
        w.era_array_end().unwrap();
        w.superblock_end().unwrap();
        let mut md0 = md.clone();
        md0.era_array[0] = 0;
        let want0 = device(&md);
        write_metadata(&want0, &md0).unwrap();
        w.finish().unwrap();
        assert!(got.to_bytes() == want0.to_bytes(), "hold {hold}");
    }
}

#[test]
fn late_checks_fail_at_the_end_with_nothing_written_when_held() {
    let md = EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: 8,
            nr_blocks: 4,
            current_era: Era::new(3),
        },
        writesets: Vec::new(),
        era_array: Vec::new(),
    };
    let run = |eras: &[u32], ws: &[u32]| {
        let io = MemIo::from_bytes(vec![0x44; 64 * 4096]);
        let mut w = StreamWriter::new(&io, 1000);
        w.superblock_begin(&md.superblock).unwrap();
        for &era in ws {
            w.writeset_begin(&WritesetIr {
                era: Era::new(era),
                nr_bits: 4,
            })
            .unwrap();
            w.writeset_end().unwrap();
        }
        w.era_array_begin().unwrap();
        w.eras(DataBlock::new(2), &eras[2..]).unwrap();
        w.eras(DataBlock::new(0), &eras[..2]).unwrap();
        w.era_array_end().unwrap();
        w.superblock_end().unwrap();
        let err = w.finish().unwrap_err().to_string();
        assert!(io.to_bytes().iter().all(|&b| b == 0x44), "{err}");
        err
    };
    // The lowest block is named, whatever the order of the entries.
    assert_eq!(
        run(&[1, 5, 2, 7], &[1, 3]),
        "invalid metadata: block 1 has era 5, later than the current era 3"
    );
    assert_eq!(
        run(&[1, 1, 2, 3], &[1, 3]),
        "invalid metadata: the writeset eras (1, 3) are not one contiguous range, which era_check reports"
    );
}

use super::*;
use crate::btree::btree_shape;
use crate::io::MemIo;
use crate::space_map::{read_index, read_ref_counts};

#[test]
fn managed_blocks_are_clamped_to_the_format_limit() {
    assert_eq!(managed_blocks(256), 256);
    assert_eq!(managed_blocks(4_194_304), 4_161_600);
    assert_eq!(space_map_size(256, 0), 3);
    assert_eq!(space_map_size(16_384, 0), 4);
    assert_eq!(space_map_size(4_161_600, 337), 255 + 2 + 1 + 1);
}

#[test]
fn written_counts_read_back_exactly_with_overflow_and_two_bitmaps() {
    let device = 17_100;
    let io = MemIo::new(device);
    let mut alloc = BlockAllocator::new(MetaBlock::new(1), device);
    alloc.alloc_run(17_000).unwrap();
    alloc.inc(MetaBlock::new(0));
    for b in 1..17_001u64 {
        let c = match b % 7 {
            0 | 1 => 1,
            2 => 2,
            3 => 3,
            4 => 0,
            5 => 4 + (b % 1000) as u32,
            _ => 1,
        };
        for _ in 0..c {
            alloc.inc(MetaBlock::new(b));
        }
    }
    let before: Vec<u32> = alloc.counts().to_vec();
    let overflow = before.iter().filter(|&&c| c >= 3).count() as u64;
    assert!(
        btree_shape(overflow, 4).len() >= 2,
        "want a multi-level ref-count tree"
    );
    let root = write_space_map(&mut alloc, &io, device).unwrap();
    let after = alloc.counts();
    assert_eq!(
        after.len() as u64,
        17_001 + space_map_size(device, overflow)
    );
    assert_eq!(&after[..before.len()], &before[..]);
    assert!(after[before.len()..].iter().all(|&c| c == 1));

    let mut expect = after.to_vec();
    expect.resize(device as usize, 0);
    assert_eq!(read_ref_counts(&io, &root).unwrap(), expect);
    assert_eq!(root.nr_blocks, device);
    assert_eq!(
        root.nr_allocated,
        expect.iter().filter(|&&c| c != 0).count() as u64
    );
    let index = read_index(&io, &root).unwrap();
    for (i, e) in index.iter().enumerate().take(2) {
        let lo = i * ENTRIES_PER_BITMAP;
        let slice: Vec<u32> = (lo..lo + ENTRIES_PER_BITMAP)
            .map(|b| expect.get(b).copied().unwrap_or(0))
            .collect();
        let free = slice.iter().filter(|&&c| c == 0).count() as u32;
        let first = slice
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(ENTRIES_PER_BITMAP) as u32;
        assert_eq!((e.nr_free, e.none_free_before), (free, first), "bitmap {i}");
    }
    assert_eq!(index[2].blocknr, MetaBlock::new(0));
}

#[test]
fn a_device_too_small_for_the_space_map_is_refused() {
    let io = MemIo::new(10);
    let mut alloc = BlockAllocator::new(MetaBlock::new(1), 10);
    alloc.alloc_run(7).unwrap();
    assert!(matches!(
        write_space_map(&mut alloc, &io, 10),
        Err(Error::NoSpace { .. })
    ));
}

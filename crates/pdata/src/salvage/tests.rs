use super::*;
use crate::alloc::BlockAllocator;
use crate::array::builder::write_array;
use crate::io::MemIo;
use crate::units::zeroed_block;
use crate::write_block;

/// An array of `len` u32 values `i % 7` written on a fresh device; returns the device,
/// the root and the array blocks in index order.
fn array(len: u32) -> (MemIo, MetaBlock, Vec<MetaBlock>) {
    let io = MemIo::new(4096);
    let mut alloc = BlockAllocator::new(MetaBlock::new(1), 4096);
    let values: Vec<u32> = (0..len).map(|i| i % 7).collect();
    let root = write_array(&mut alloc, &io, &values).unwrap();
    let ptrs = crate::array::array_block_pointers(&io, root, len as u64, 4).unwrap();
    (io, root, ptrs)
}

#[test]
fn an_intact_array_is_read_whole() {
    let (io, root, _) = array(5000);
    let s = salvage_array::<u32>(&io, root, 5000);
    assert!(s.lost.is_empty());
    assert!(s.values.iter().enumerate().all(|(i, &v)| v == i as u32 % 7));
}

#[test]
fn a_damaged_array_block_loses_only_its_values() {
    let (io, root, ptrs) = array(5000);
    write_block(&io, ptrs[2], &zeroed_block()).unwrap();
    let s = salvage_array::<u32>(&io, root, 5000);
    assert_eq!(s.lost.len(), 1);
    let l = &s.lost[0];
    assert_eq!((l.first, l.end, l.block), (2036, 3054, ptrs[2]));
    assert!(l.reason.contains("bad checksum"), "{}", l.reason);
    for (i, &v) in s.values.iter().enumerate() {
        if !(2036..3054).contains(&i) {
            assert_eq!(v, i as u32 % 7);
        }
    }
}

#[test]
fn a_damaged_index_loses_everything_below_it() {
    let (io, root, _) = array(3000);
    write_block(&io, root, &zeroed_block()).unwrap();
    let s = salvage_array::<u32>(&io, root, 3000);
    assert_eq!(s.lost.len(), 1, "{:?}", s.lost);
    assert_eq!((s.lost[0].first, s.lost[0].end), (0, 3000));
    assert_eq!(s.lost[0].block, root);
}

#[test]
fn a_lost_child_of_a_two_level_tree_reports_its_key_range() {
    // 300 array blocks need two leaves under one internal node.
    let len = 300 * 1018;
    let (io, root, _) = array(len);
    let data = read_block(&io, root).unwrap();
    let node = NodeView::parse(root, &data).unwrap();
    assert!(!node.is_leaf());
    let second = node.value_block(1);
    let second_key = node.key(1);
    write_block(&io, second, &zeroed_block()).unwrap();
    let t = salvage_btree::<u64>(&io, root);
    assert_eq!(t.lost.len(), 1);
    assert_eq!(t.lost[0].lo, second_key);
    assert_eq!(t.entries.len() as u64, second_key);
    let s = salvage_array::<u32>(&io, root, len as u64);
    assert_eq!(s.lost.len(), 1);
    assert_eq!(s.lost[0].first, second_key * 1018);
    assert_eq!(s.lost[0].end, len as u64);
}

#[test]
fn a_cycle_is_reported_not_followed() {
    let (io, root, _) = array(300 * 1018);
    let mut data = read_block(&io, root).unwrap();
    // Point the internal node's second child back at the root.
    let h = *NodeView::parse(root, &data).unwrap().header();
    crate::btree::put_value(&mut data, &h, 1, &root.to_le_bytes());
    crate::checksum::seal(&mut data, crate::checksum::BlockKind::BtreeNode);
    write_block(&io, root, &data).unwrap();
    let t = salvage_btree::<u64>(&io, root);
    assert!(t.lost.iter().any(|l| l.reason.contains("reached twice")));
}

#[test]
fn an_array_block_listed_twice_is_lost_in_both_places() {
    let (io, root, ptrs) = array(5000);
    let mut data = read_block(&io, root).unwrap();
    let h = *NodeView::parse(root, &data).unwrap().header();
    crate::btree::put_value(&mut data, &h, 3, &ptrs[1].to_le_bytes());
    crate::checksum::seal(&mut data, crate::checksum::BlockKind::BtreeNode);
    write_block(&io, root, &data).unwrap();
    let s = salvage_array::<u32>(&io, root, 5000);
    let lost: Vec<(u64, u64)> = s.lost.iter().map(|l| (l.first, l.end)).collect();
    assert_eq!(lost, [(1018, 2036), (3054, 4072)], "{:?}", s.lost);
    assert!(
        s.lost[0].reason.contains("listed at indices [1, 3]"),
        "{}",
        s.lost[0].reason
    );
}

#[test]
fn the_extent_is_what_the_index_and_its_last_block_tell() {
    let (io, root, ptrs) = array(5000);
    let ext = |io: &MemIo| salvage_index::<u32>(io, root, 5000).extent(io);
    assert_eq!(ext(&io).exact(), Some(5000));
    assert_eq!(ext(&io).blocks, Some(5));
    write_block(&io, ptrs[4], &zeroed_block()).unwrap();
    let e = ext(&io);
    assert_eq!((e.min, e.max, e.blocks), (4073, Some(5090), Some(5)));
    write_block(&io, root, &zeroed_block()).unwrap();
    let e = ext(&io);
    assert_eq!((e.min, e.max, e.blocks), (1, None, None));
}

/// Sets key `i` of the btree node at `b` to `key`, resealed.
fn set_key(io: &MemIo, b: MetaBlock, i: usize, key: u64) {
    let mut data = read_block(io, b).unwrap();
    crate::btree::put_key(&mut data, i, key);
    crate::checksum::seal(&mut data, crate::checksum::BlockKind::BtreeNode);
    write_block(io, b, &data).unwrap();
}

#[test]
fn a_key_beyond_the_limit_loses_the_keys_it_may_stand_for() {
    // One leaf, keys 0..=4; the last moved to 2^64 - 1.
    let (io, root, _) = array(5000);
    set_key(&io, root, 4, u64::MAX);
    let t = salvage_btree_below::<u64>(&io, root, 5);
    assert_eq!(t.entries.len(), 4);
    assert_eq!(
        (t.lost[0].lo, t.lost[0].hi, t.lost[0].block),
        (4, None, root)
    );
    assert!(
        t.lost[0].reason.contains(
            "key 18446744073709551615 at entry 4 is beyond the keys the tree can hold (0..5)"
        ),
        "{}",
        t.lost[0].reason
    );
    let index = salvage_index::<u32>(&io, root, 5000);
    let e = index.extent(&io);
    assert_eq!((e.min, e.max, e.blocks), (4073, None, None));
    let s = index.values(&io, 5000);
    let lost: Vec<(u64, u64)> = s.lost.iter().map(|l| (l.first, l.end)).collect();
    assert_eq!(lost, [(4072, 5000)]);
}

#[test]
fn a_last_key_moved_up_leaves_the_length_open_between_the_listed_blocks_and_it() {
    // Keys 0..=3 and 1004: the index no longer tells the length, and the 5000 values
    // its five blocks hold are admitted.
    let (io, root, _) = array(5000);
    set_key(&io, root, 4, 1004);
    let e = salvage_index::<u32>(&io, root, 1 << 30).extent(&io);
    assert_eq!(
        (e.min, e.max, e.blocks),
        (5000, Some(1004 * 1018 + 928), None)
    );
    assert!(e.admits(5000) && e.exact().is_none());
}

#[test]
fn a_child_below_its_parent_s_key_is_lost_from_its_own_first_key() {
    // Two leaves under one internal node; the internal node's last key moved far up.
    let len = 300 * 1018;
    let (io, root, _) = array(len);
    let data = read_block(&io, root).unwrap();
    let node = NodeView::parse(root, &data).unwrap();
    let last = node.nr_entries as usize - 1;
    let first_key_of_last_child = node.key(last);
    set_key(&io, root, last, u64::MAX);
    let t = salvage_btree::<u64>(&io, root);
    assert_eq!(t.lost.len(), 1, "{:?}", t.lost);
    assert_eq!(
        (t.lost[0].lo, t.lost[0].hi),
        (first_key_of_last_child, None)
    );
}

//! The walk's fault policies: one damaged node, three readings of it.

use super::*;
use crate::btree::{pack_node, NodeHeader};
use crate::io::MemIo;
use crate::salvage::salvage_btree;
use crate::write_block;

/// Root 1 over leaves 2 (keys 5, 3, 100: out of order at entry 1, key 100 beyond the
/// parent's bound 50 at entry 2) and 3.
fn damaged() -> MemIo {
    let io = MemIo::new(8);
    let internal = [2u64, 3].map(u64::to_le_bytes).concat();
    let blocks = [
        (
            1,
            pack_node(
                MetaBlock::new(1),
                NodeHeader::empty(true, 0),
                &[0, 50],
                &internal,
            ),
        ),
        (
            2,
            pack_node(
                MetaBlock::new(2),
                NodeHeader::empty(false, 4),
                &[5, 3, 100],
                &[0; 12],
            ),
        ),
        (
            3,
            pack_node(
                MetaBlock::new(3),
                NodeHeader::empty(false, 4),
                &[60],
                &[0; 4],
            ),
        ),
    ];
    for (b, data) in blocks {
        write_block(&io, MetaBlock::new(b), &data).unwrap();
    }
    io
}

#[test]
fn strict_reports_the_first_bad_entry() {
    let err = collect_leaves::<u32>(&damaged(), MetaBlock::new(1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "block 2: btree node: keys out of order at entry 1"
    );
}

#[test]
fn salvage_loses_the_node_for_its_range_first() {
    let s = salvage_btree::<u32>(&damaged(), MetaBlock::new(1));
    assert_eq!(s.entries.iter().map(|e| e.0).collect::<Vec<_>>(), vec![60]);
    assert_eq!(s.lost.len(), 1);
    let lost = &s.lost[0];
    assert_eq!(
        (lost.lo, lost.hi, lost.block),
        (0, Some(50), MetaBlock::new(2))
    );
    assert_eq!(
        lost.reason,
        "block 2: btree node: key 100 lies outside its parent's range"
    );
}

#[test]
fn the_checker_reports_both_and_keeps_the_leaf() {
    use crate::check::{walk_btree, Checker, TreeSpec};
    let io = damaged();
    let mut ck = Checker::new(&io, 8);
    let mut keys = Vec::new();
    let spec = TreeSpec {
        what: "t",
        value_size: 4,
    };
    let complete = walk_btree(&mut ck, MetaBlock::new(1), spec, &mut |_, e| {
        keys.push(e.key)
    });
    assert!(complete);
    assert_eq!(keys, vec![5, 3, 100, 60]);
    let messages: Vec<String> = ck
        .into_findings()
        .iter()
        .filter(|f| f.is_error())
        .map(|f| f.message.clone())
        .collect();
    assert_eq!(
        messages,
        vec![
            "btree node (t): key 100 at entry 2 lies outside its parent's range [0, 50)",
            "btree node (t): keys out of order at entry 1",
        ]
    );
}

//! Test helpers: recount every reference from the roots and compare with the space map.

use crate::io::BlockIo;
use crate::pdata::btree::cow::{TreeType, ValueRef};
use crate::pdata::btree::NodeView;
use crate::pdata::read_block;
use crate::pdata::space_map::{read_index, read_ref_counts, SmRoot};
use crate::pdata::transaction::REF_COUNT_TREE;
use crate::units::MetaBlock;

fn walk(io: &dyn BlockIo, b: MetaBlock, tt: &TreeType, counts: &mut [u32]) {
    counts[b.index().unwrap()] += 1;
    if counts[b.index().unwrap()] > 1 {
        return;
    }
    let data = read_block(io, b).unwrap();
    let n = NodeView::parse(b, &data).unwrap();
    for i in 0..n.nr_entries as usize {
        if n.is_leaf() {
            let v = n.value(i);
            match tt.reference(v) {
                ValueRef::None => {}
                ValueRef::Block(b) => counts[b.index().unwrap()] += 1,
                ValueRef::Tree(root, tt) => walk(io, root, tt, counts),
            }
        } else {
            walk(io, n.value_block(i), tt, counts);
        }
    }
}

/// Reference counts recomputed from the superblock (count 1), the space map's own
/// blocks, the given tree roots and `extra` single blocks.
pub fn recount(
    io: &dyn BlockIo,
    root: &SmRoot,
    trees: &[(MetaBlock, &TreeType)],
    extra: &[MetaBlock],
) -> Vec<u32> {
    let mut counts = vec![0u32; root.nr_blocks as usize];
    counts[0] += 1;
    counts[root.bitmap_root.index().unwrap()] += 1;
    for e in read_index(io, root)
        .unwrap()
        .iter()
        .take(root.nr_bitmaps() as usize)
    {
        counts[e.blocknr.index().unwrap()] += 1;
    }
    walk(io, root.ref_count_root, &REF_COUNT_TREE, &mut counts);
    for (r, tt) in trees {
        walk(io, *r, *tt, &mut counts);
    }
    for &b in extra {
        counts[b.index().unwrap()] += 1;
    }
    counts
}

/// Asserts the on-disk space map equals the recount.
pub fn assert_space_map_exact(
    io: &dyn BlockIo,
    root: &SmRoot,
    trees: &[(MetaBlock, &TreeType)],
    extra: &[MetaBlock],
) {
    let disk = read_ref_counts(io, root).unwrap();
    let mine = recount(io, root, trees, extra);
    for (b, (d, m)) in disk.iter().zip(&mine).enumerate() {
        assert_eq!(d, m, "block {b}: space map says {d}, references {m}");
    }
    let allocated = disk.iter().filter(|&&c| c != 0).count() as u64;
    assert_eq!(allocated, root.nr_allocated, "nr_allocated");
}

//! Test helpers: recount every reference from the roots and compare with the space map.

use crate::btree::NodeView;
use crate::io::BlockIo;
use crate::read_block;
use crate::space_map::{read_index, read_ref_counts, SmRoot};
use crate::units::MetaBlock;

/// What the leaf values of a tree to recount refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaves {
    /// Nothing: plain data (the ref-count tree, test trees).
    Plain,
    /// One block each, a u64 block number (a dm-array's index).
    Blocks,
}

fn walk(io: &dyn BlockIo, b: MetaBlock, leaves: Leaves, counts: &mut [u32]) {
    counts[b.index().unwrap()] += 1;
    if counts[b.index().unwrap()] > 1 {
        return;
    }
    let data = read_block(io, b).unwrap();
    let n = NodeView::parse(b, &data).unwrap();
    for i in 0..n.nr_entries as usize {
        if n.is_leaf() {
            if leaves == Leaves::Blocks {
                counts[n.value_block(i).index().unwrap()] += 1;
            }
        } else {
            walk(io, n.value_block(i), leaves, counts);
        }
    }
}

/// Reference counts recomputed from the superblock (count 1), the space map's own
/// blocks, the given tree roots and `extra` single blocks.
pub fn recount(
    io: &dyn BlockIo,
    root: &SmRoot,
    trees: &[(MetaBlock, Leaves)],
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
    walk(io, root.ref_count_root, Leaves::Plain, &mut counts);
    for &(r, leaves) in trees {
        walk(io, r, leaves, &mut counts);
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
    trees: &[(MetaBlock, Leaves)],
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

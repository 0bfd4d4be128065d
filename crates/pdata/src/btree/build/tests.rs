use super::*;
use crate::btree::{collect_leaves, NodeView};
use crate::io::MemIo;
use crate::read_block;
use crate::value::Value;

#[test]
fn max_entries_per_value_size() {
    assert_eq!(max_entries(4), 336);
    assert_eq!(max_entries(8), 252);
    assert_eq!(max_entries(12), 201);
    assert_eq!(max_entries(16), 168);
}

#[test]
fn shapes_match_the_spec_vectors() {
    // format.md §12.2: era-array btrees (over era array blocks) and bitset btrees.
    let era = |n: u64| btree_shape(n.div_ceil(1018), 8);
    let bitset = |n: u64| btree_shape(n.div_ceil(64).div_ceil(509), 8);
    assert_eq!(era(0), vec![1]);
    assert_eq!(era(1), vec![1]);
    assert_eq!(era(256_536), vec![1]);
    assert_eq!(era(256_537), vec![2, 1]);
    assert_eq!(era(600_000), vec![3, 1]);
    assert_eq!(era(1_048_576), vec![5, 1]);
    assert_eq!(era(16_384_000), vec![64, 1]);
    assert_eq!(era(2_147_483_647), vec![8372, 34, 1]);
    assert_eq!(bitset(16_384_000), vec![2, 1]);
    assert_eq!(bitset(2_147_483_647), vec![262, 2, 1]);
    assert_eq!(btree_shape(0, 12), vec![1]);
    assert_eq!(btree_shape(201, 12), vec![1]);
    assert_eq!(btree_shape(202, 12), vec![2, 1]);
}

#[test]
fn levels_fill_nodes_and_balance_the_last_two() {
    assert_eq!(node_sizes(0, 252), vec![0]);
    assert_eq!(node_sizes(252, 252), vec![252]);
    assert_eq!(node_sizes(253, 252), vec![126, 127]);
    assert_eq!(node_sizes(590, 252), vec![252, 169, 169]);
    assert_eq!(node_sizes(504, 252), vec![252, 252]);
    assert_eq!(node_sizes(756, 252), vec![252, 252, 252]);
    assert_eq!(node_sizes(757, 252), vec![252, 252, 126, 127]);
    for n in 253..3000u64 {
        let s = node_sizes(n, 252);
        assert_eq!(s.iter().sum::<u64>(), n);
        assert_eq!(s.len() as u64, n.div_ceil(252));
        assert!(s.iter().all(|&x| (126..=252).contains(&x)), "{n}: {s:?}");
    }
}

/// Node sizes level by level, leaves first, read back from the device.
fn levels(io: &MemIo, root: MetaBlock) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut level = vec![root];
    loop {
        let mut sizes = Vec::new();
        let mut next = Vec::new();
        let mut leaf = false;
        for &b in &level {
            let data = read_block(io, b).unwrap();
            let node = NodeView::parse(b, &data).unwrap();
            sizes.push(node.nr_entries);
            leaf = node.is_leaf();
            for i in 0..node.nr_entries as usize {
                next.push(node.value_block(i));
            }
        }
        out.push(sizes);
        if leaf {
            break;
        }
        level = next;
    }
    out.reverse();
    out
}

fn build<V: Value + From<u32>>(n: u64) -> (MemIo, BlockAllocator, MetaBlock) {
    let io = MemIo::new(2000);
    let mut alloc = BlockAllocator::new(MetaBlock::new(1), 2000);
    let mut b = BtreeBuilder::<V>::new();
    for i in 0..n {
        b.push(&mut alloc, &io, i * 3 + 1, &V::from(i as u32 * 7))
            .unwrap();
    }
    let root = b.finish(&mut alloc, &io).unwrap();
    (io, alloc, root)
}

#[test]
fn built_trees_walk_back_to_their_entries_with_the_spec_packing() {
    for n in [0u64, 1, 252, 253, 504, 505, 506, 590, 757, 63_505] {
        let (io, alloc, root) = build::<u64>(n);
        let got = collect_leaves::<u64>(&io, root).unwrap();
        let want: Vec<(u64, u64)> = (0..n).map(|i| (i * 3 + 1, i * 7)).collect();
        assert_eq!(got, want, "n = {n}");
        let lv = levels(&io, root);
        let leaf_sizes: Vec<u64> = lv[0].iter().map(|&x| x as u64).collect();
        assert_eq!(leaf_sizes, node_sizes(n, 252), "n = {n}");
        let shape: Vec<u64> = lv.iter().map(|l| l.len() as u64).collect();
        assert_eq!(shape, btree_shape(n, 8), "n = {n}");
        // Every node but the root is referenced once; the caller references the root.
        let counts = alloc.counts();
        assert_eq!(counts.len() as u64, 1 + btree_nr_nodes(n, 8));
        assert_eq!(counts[root.index().unwrap()], 0);
        assert_eq!(
            counts.iter().filter(|&&c| c == 1).count() as u64,
            btree_nr_nodes(n, 8) - 1
        );
    }
}

#[test]
fn internal_keys_are_the_first_key_of_each_child() {
    let (io, _, root) = build::<u32>(63_505);
    let data = read_block(&io, root).unwrap();
    let node = NodeView::parse(root, &data).unwrap();
    assert!(!node.is_leaf());
    for i in 0..node.nr_entries as usize {
        let child = node.value_block(i);
        let cd = read_block(&io, child).unwrap();
        let cn = NodeView::parse(child, &cd).unwrap();
        assert_eq!(node.key(i), cn.key(0));
        assert_eq!(cn.max_entries, if cn.is_leaf() { 336 } else { 252 });
    }
}

#[test]
fn out_of_order_keys_are_refused() {
    let io = MemIo::new(10);
    let mut alloc = BlockAllocator::new(MetaBlock::new(1), 10);
    let mut b = BtreeBuilder::<u64>::new();
    b.push(&mut alloc, &io, 5, &0).unwrap();
    assert!(b.push(&mut alloc, &io, 5, &0).is_err());
    assert!(b.push(&mut alloc, &io, 4, &0).is_err());
}

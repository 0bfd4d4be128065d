//! Bulk, bottom-up btree building for offline writers (format.md §4, §10.2).
//!
//! Entries arrive in strictly increasing key order. Each level is cut into nodes of
//! exactly `max_entries`, except the last `max_entries + (n mod max_entries)` entries
//! (the last `2 * max_entries` when that remainder is 0), which go into two nodes of
//! `⌊t/2⌋` and `t − ⌊t/2⌋`. A level of at most `max_entries` entries is one node, and an
//! empty tree is one empty leaf. Internal keys are the first key of each child. Leaves
//! are written as soon as they are complete, so memory stays at two leaves plus one
//! `(key, block)` pair per leaf.

use super::node::{max_entries, pack_node, NodeHeader, INTERNAL_VALUE_SIZE};
use crate::alloc::BlockAllocator;
use crate::checksum::BlockKind;
use crate::io::BlockIo;
use crate::units::MetaBlock;
use crate::value::Value;
use crate::{write_block, Error, Result};
use std::marker::PhantomData;

/// Builds one single-level btree with a fixed leaf value size.
#[derive(Debug)]
pub struct BtreeBuilder<V: Value> {
    value_size: usize,
    leaf_max: usize,
    /// Leaf entries not yet written.
    keys: Vec<u64>,
    values: Vec<u8>,
    /// Written leaves: (first key, block).
    leaves: Vec<(u64, MetaBlock)>,
    last_key: Option<u64>,
    value: PhantomData<V>,
}

impl<V: Value> Default for BtreeBuilder<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Value> BtreeBuilder<V> {
    /// A builder for leaves holding values of type `V`.
    pub fn new() -> BtreeBuilder<V> {
        BtreeBuilder {
            value_size: V::SIZE,
            leaf_max: max_entries(V::SIZE) as usize,
            keys: Vec::new(),
            values: Vec::new(),
            leaves: Vec::new(),
            last_key: None,
            value: PhantomData,
        }
    }

    /// Adds one entry. Keys must be strictly increasing. The caller records any
    /// reference the value holds.
    pub fn push(
        &mut self,
        alloc: &mut BlockAllocator,
        io: &dyn BlockIo,
        key: u64,
        value: &V,
    ) -> Result<()> {
        let bad = |reason: String| Error::invalid(alloc.next_free(), BlockKind::BtreeNode, reason);
        if self.last_key.is_some_and(|k| key <= k) {
            return Err(bad(format!(
                "btree builder: key {key} does not follow the previous key"
            )));
        }
        self.last_key = Some(key);
        self.keys.push(key);
        let at = self.values.len();
        self.values.resize(at + V::SIZE, 0);
        value.encode(&mut self.values[at..]);
        if self.keys.len() > 2 * self.leaf_max {
            self.write_leaf(alloc, io, self.leaf_max)?;
        }
        Ok(())
    }

    /// Writes the first `n` pending entries as a leaf.
    fn write_leaf(&mut self, alloc: &mut BlockAllocator, io: &dyn BlockIo, n: usize) -> Result<()> {
        let block = alloc.alloc()?;
        let node = pack_node(
            block,
            NodeHeader::empty(false, self.value_size),
            &self.keys[..n],
            &self.values[..n * self.value_size],
        );
        write_block(io, block, &node)?;
        self.leaves
            .push((self.keys.first().copied().unwrap_or(0), block));
        self.keys.drain(..n);
        self.values.drain(..n * self.value_size);
        Ok(())
    }

    /// Writes the remaining leaves and the internal levels; returns the root. The caller
    /// records the reference to the root.
    pub fn finish(mut self, alloc: &mut BlockAllocator, io: &dyn BlockIo) -> Result<MetaBlock> {
        let p = self.keys.len();
        if p <= self.leaf_max {
            if p > 0 || self.leaves.is_empty() {
                self.write_leaf(alloc, io, p)?;
            }
        } else {
            self.write_leaf(alloc, io, p / 2)?;
            self.write_leaf(alloc, io, p - p / 2)?;
        }
        let mut level = self.leaves;
        let internal_max = max_entries(INTERNAL_VALUE_SIZE) as usize;
        while level.len() > 1 {
            let mut next = Vec::with_capacity(level.len().div_ceil(internal_max));
            let mut start = 0;
            for size in node_sizes(level.len() as u64, internal_max as u64) {
                let children = &level[start..start + size as usize];
                start += size as usize;
                let block = alloc.alloc()?;
                let keys: Vec<u64> = children.iter().map(|c| c.0).collect();
                let mut values = Vec::with_capacity(children.len() * INTERNAL_VALUE_SIZE);
                for &(_, child) in children {
                    values.extend_from_slice(&child.to_le_bytes());
                    alloc.inc(child);
                }
                let node = pack_node(block, NodeHeader::empty(true, 0), &keys, &values);
                write_block(io, block, &node)?;
                next.push((keys[0], block));
            }
            level = next;
        }
        level
            .first()
            .map(|&(_, b)| b)
            .ok_or_else(|| Error::invalid(alloc.next_free(), BlockKind::BtreeNode, "no root"))
    }
}

/// Sizes of the nodes one level of `n` entries is cut into, `m` per node at most.
pub fn node_sizes(n: u64, m: u64) -> Vec<u64> {
    if n <= m {
        return vec![n];
    }
    let tail = m + n % m;
    let tail = if n.is_multiple_of(m) { 2 * m } else { tail };
    let mut v = vec![m; ((n - tail) / m) as usize];
    v.push(tail / 2);
    v.push(tail - tail / 2);
    v
}

/// Nodes per level, leaves first, of a tree of `n` entries whose leaves hold
/// `leaf_value_size`-byte values (format.md §12.2).
pub fn btree_shape(n: u64, leaf_value_size: usize) -> Vec<u64> {
    let mut shape = vec![n.div_ceil(max_entries(leaf_value_size) as u64).max(1)];
    let internal_max = max_entries(INTERNAL_VALUE_SIZE) as u64;
    while let Some(&last) = shape.last() {
        if last <= 1 {
            break;
        }
        shape.push(last.div_ceil(internal_max));
    }
    shape
}

/// Total number of nodes of such a tree.
pub fn btree_nr_nodes(n: u64, leaf_value_size: usize) -> u64 {
    btree_shape(n, leaf_value_size).iter().sum()
}

#[cfg(test)]
mod tests {
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
}

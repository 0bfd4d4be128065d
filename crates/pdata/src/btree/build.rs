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
mod tests;

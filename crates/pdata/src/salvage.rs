//! Salvaging reads: the strict readers' checks applied one node and one array block at a
//! time, so that a damaged block loses only what lies below it. Each walk returns what
//! it could read and, for everything it could not, the key range (or value range) lost
//! and why. Every node is visited at most once per walk and the depth is bounded, so no
//! input can make a walk loop or run away.

use super::btree::{walk_tree, BtreeVisitor, Flow, NodeAt, NodeView, WalkFault, MAX_DEPTH};
use super::checksum::{self, BlockKind};
use super::{read_block, Error};
use crate::io::BlockIo;
use crate::units::{BlockBuf, MetaBlock};
use crate::value::Value;
use std::convert::Infallible;

/// Keys `[lo, hi)` (`hi` `None`: unbounded) of a btree that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostKeys {
    /// The lowest key that may be lost.
    pub lo: u64,
    /// One past the highest key that may be lost; `None` when no bound is known.
    pub hi: Option<u64>,
    /// The block at fault.
    pub block: MetaBlock,
    /// What is wrong with it.
    pub reason: String,
}

/// What a salvaging btree walk found.
#[derive(Debug, Clone)]
pub struct TreeSalvage<T> {
    /// Every entry of every readable leaf, keys ascending.
    pub entries: Vec<(u64, T)>,
    /// The key ranges below the unreadable nodes.
    pub lost: Vec<LostKeys>,
}

/// Salvage's visitor: a fault loses the node's key range, and the walk goes on.
struct Salvage<'a, V> {
    io: &'a dyn BlockIo,
    /// Keys from this one on cannot be in the tree: a leaf entry holding one is damage.
    key_limit: Option<u64>,
    out: TreeSalvage<V>,
}

impl<V> Salvage<'_, V> {
    /// Loses the keys the node at `at` answers for, from `lo` on (its `cover_lo`, or a
    /// key it holds below that).
    fn lose(&mut self, at: &NodeAt, lo: u64, reason: String) {
        self.out.lost.push(LostKeys {
            lo,
            hi: at.hi,
            block: at.block,
            reason,
        });
    }
}

impl<V: Value> BtreeVisitor for Salvage<'_, V> {
    type Error = Infallible;
    type Block = Box<BlockBuf>;
    type Mark = ();

    fn read(&mut self, at: &NodeAt) -> Result<Option<Box<BlockBuf>>, Infallible> {
        let read = read_block(self.io, at.block).and_then(|data| {
            checksum::verify(&data, BlockKind::BtreeNode, at.block)?;
            Ok(data)
        });
        Ok(match read {
            Ok(data) => Some(data),
            Err(e) => {
                self.lose(at, at.cover_lo, e.to_string());
                None
            }
        })
    }

    fn fault(&mut self, at: &NodeAt, fault: WalkFault) -> Result<Flow, Infallible> {
        let block = at.block;
        let node_error = |reason: String| Error::invalid(block, BlockKind::BtreeNode, reason);
        let mut lo = at.cover_lo;
        let reason = match fault {
            WalkFault::TooDeep => format!("the btree is deeper than {MAX_DEPTH} levels"),
            WalkFault::Cycle { first } => format!(
                "btree node is reached twice (cycle or shared child): from {first} and from {}",
                at.from
            ),
            WalkFault::Header(f) => node_error(f.to_string()).to_string(),
            WalkFault::Keys {
                out_of_range: Some((_, k)),
                ..
            } => {
                // A key below the node's range: the parent's key may be the damaged one
                // (moved up), so what the node held reaches down to that key.
                lo = lo.min(k);
                node_error(format!("key {k} lies outside its parent's range")).to_string()
            }
            WalkFault::Keys {
                out_of_order: Some(i),
                ..
            } => node_error(format!("keys out of order at entry {i}")).to_string(),
            WalkFault::NoEntries => node_error("internal node has no entries".into()).to_string(),
            WalkFault::MaxEntries { .. } | WalkFault::LeafDepth { .. } | WalkFault::Keys { .. } => {
                return Ok(Flow::Continue)
            }
        };
        self.lose(at, lo, reason);
        Ok(Flow::Skip)
    }

    fn node(&mut self, _: &NodeAt, _: &NodeView) -> Result<(), Infallible> {
        Ok(())
    }

    fn leaf(&mut self, at: &NodeAt, node: &NodeView, (): ()) -> Result<(), Infallible> {
        // The lowest key the entry at hand can stand for: past the one before it.
        let mut lo = at.cover_lo;
        for i in 0..node.nr_entries as usize {
            let k = node.key(i);
            if let Some(limit) = self.key_limit.filter(|&l| k >= l) {
                // The walk checked the keys ascending, so the rest are beyond too. What
                // the damaged keys stood for is anywhere from `lo` on.
                self.out.lost.push(LostKeys {
                    lo,
                    hi: at.hi,
                    block: at.block,
                    reason: format!(
                        "key {k} at entry {i} is beyond the keys the tree can hold (0..{limit})"
                    ),
                });
                break;
            }
            lo = k.saturating_add(1);
            match V::decode(node.value(i)) {
                Ok(v) => self.out.entries.push((k, v)),
                Err(e) => self.out.lost.push(LostKeys {
                    lo: k,
                    hi: k.checked_add(1),
                    block: at.block,
                    reason: format!("value {i}: {e}"),
                }),
            }
        }
        Ok(())
    }

    fn child(&mut self, _: &NodeAt, _: MetaBlock, (): ()) -> Result<bool, Infallible> {
        Ok(true)
    }
}

/// Walks the btree at `root` (leaf values of type `V`), keeping every readable leaf
/// entry and recording the key range below every node that cannot be read or fails the
/// strict reader's checks (a value that does not decode loses its key).
pub fn salvage_btree<V: Value>(io: &dyn BlockIo, root: MetaBlock) -> TreeSalvage<V> {
    salvage_btree_with(io, root, None)
}

/// [`salvage_btree`] of a tree whose keys are all below `key_limit`: a leaf entry with a
/// key from `key_limit` on is damage, and the keys it may have stood for (from the
/// entry before it on) are lost.
pub fn salvage_btree_below<V: Value>(
    io: &dyn BlockIo,
    root: MetaBlock,
    key_limit: u64,
) -> TreeSalvage<V> {
    salvage_btree_with(io, root, Some(key_limit))
}

fn salvage_btree_with<V: Value>(
    io: &dyn BlockIo,
    root: MetaBlock,
    key_limit: Option<u64>,
) -> TreeSalvage<V> {
    let mut v = Salvage {
        io,
        key_limit,
        out: TreeSalvage {
            entries: Vec::new(),
            lost: Vec::new(),
        },
    };
    let Ok(()) = walk_tree(root, V::SIZE_U32, &mut v);
    let mut out = v.out;
    out.entries.sort_by_key(|(k, _)| *k);
    out.entries.dedup_by_key(|(k, _)| *k);
    out
}

mod array;
#[cfg(test)]
pub use array::salvage_array;
pub use array::{salvage_index, ArrayExtent, ArrayIndex, LostValues};

#[cfg(test)]
mod tests;

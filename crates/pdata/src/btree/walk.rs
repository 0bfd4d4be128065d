//! The one btree walk. It visits a tree depth first in key order and finds every
//! structural fault (excessive depth, a node reached twice, a bad header, keys outside
//! their parent's range or out of order, leaves at different depths, an empty internal
//! node); a [`BtreeVisitor`] reads the nodes and decides what each fault means: the
//! strict readers below fail, the checker reports and goes on, salvage records what is
//! lost, the copy-on-write code follows the kernel and ignores what the kernel ignores.
//! Depth is bounded, so no input can exhaust the stack.

use super::node::{NodeFault, NodeView};
use crate as pdata;
use crate::checksum::{self, BlockKind};
use crate::io::BlockIo;
use crate::units::{BlockBuf, MetaBlock};
use crate::value::{decode_in, Value};
use crate::{read_block, Error, Referrer};
use std::collections::HashMap;
use std::ops::Deref;

/// Deeper than any btree that fits on a metadata device (4 levels at most for era).
pub const MAX_DEPTH: usize = 8;

/// Where a node lies in the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeAt {
    /// The node's block.
    pub block: MetaBlock,
    /// 0 at the root.
    pub depth: usize,
    /// The node's keys must lie in `[lo, hi)` (`hi` `None`: unbounded).
    pub lo: u64,
    /// The bound above the node's keys (see `lo`).
    pub hi: Option<u64>,
    /// The lowest key the node's subtree answers for: its parent's for a first child
    /// (keys below the parent's first key would be looked up there), else `lo`.
    pub cover_lo: u64,
    /// The entry that points here.
    pub from: Referrer,
}

/// A fault the walk found in a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkFault {
    /// The node is [`MAX_DEPTH`] levels down: the walk never enters it.
    TooDeep,
    /// The node was reached before in this walk (a cycle or a shared child), first
    /// from `first`; `at.from` is the second place.
    Cycle {
        /// The entry that reached the node first.
        first: Referrer,
    },
    /// The header cannot be trusted: the walk leaves the node.
    Header(NodeFault),
    /// `max_entries` is not the capacity the kernel computes for the value size.
    MaxEntries {
        /// The capacity the header records.
        max_entries: u32,
        /// The capacity the kernel computes for `value_size`.
        kernel: u32,
        /// The value size the header records, in bytes.
        value_size: u32,
    },
    /// The first key outside `[lo, hi)` (entry, key) and the first entry not above the
    /// one before it.
    Keys {
        /// The first entry whose key lies outside `[lo, hi)`, with that key.
        out_of_range: Option<(usize, u64)>,
        /// The first entry whose key is not above the one before it.
        out_of_order: Option<usize>,
    },
    /// A leaf at another depth than the first leaf of the tree (at `other`).
    LeafDepth {
        /// The depth of the tree's first leaf.
        other: usize,
    },
    /// An internal node with no entries.
    NoEntries,
}

/// What the walk does after a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the node as if nothing was wrong.
    Continue,
    /// Leave the node and everything below it.
    Skip,
}

/// The walk's callbacks. For every node, in order: [`read`](Self::read), any faults,
/// [`node`](Self::node), then [`leaf`](Self::leaf) or one [`child`](Self::child) call per
/// child (each followed by the walk of that child if it returns true).
pub trait BtreeVisitor {
    /// What ends the walk early (`Infallible` for visitors that always go on).
    type Error;
    /// A block as [`read`](Self::read) hands it over.
    type Block: Deref<Target = BlockBuf>;
    /// What [`node`](Self::node) learns about a node, handed to its `leaf` or `child`
    /// calls.
    type Mark: Copy;

    /// Reads node `at.block` and checks what the visitor checks of a raw block (its
    /// checksum); `None` leaves the node (the visitor records why).
    fn read(&mut self, at: &NodeAt) -> Result<Option<Self::Block>, Self::Error>;
    /// A fault; the answer is ignored for `TooDeep` and `Header`, after which the walk
    /// always leaves the node.
    fn fault(&mut self, at: &NodeAt, fault: WalkFault) -> Result<Flow, Self::Error>;
    /// A node whose header passed, before its entries.
    fn node(&mut self, at: &NodeAt, node: &NodeView) -> Result<Self::Mark, Self::Error>;
    /// The entries of a leaf.
    fn leaf(&mut self, at: &NodeAt, node: &NodeView, mark: Self::Mark) -> Result<(), Self::Error>;
    /// Child `child` of the internal node at `at`; true to walk it.
    fn child(
        &mut self,
        at: &NodeAt,
        child: MetaBlock,
        mark: Self::Mark,
    ) -> Result<bool, Self::Error>;
}

struct Walker<'v, V> {
    visitor: &'v mut V,
    value_size: u32,
    /// Every node reached so far, with the entry it was first reached from.
    seen: HashMap<MetaBlock, Referrer>,
    leaf_depth: Option<usize>,
}

/// The first key outside `[lo, hi)` and the first key not above its predecessor.
fn key_faults(keys: &[u64], lo: u64, hi: Option<u64>) -> Option<WalkFault> {
    let out_of_range = keys
        .iter()
        .enumerate()
        .find(|(_, &k)| k < lo || hi.is_some_and(|h| k >= h))
        .map(|(i, &k)| (i, k));
    let out_of_order = (1..keys.len()).find(|&i| keys[i] <= keys[i - 1]);
    (out_of_range.is_some() || out_of_order.is_some()).then_some(WalkFault::Keys {
        out_of_range,
        out_of_order,
    })
}

impl<V: BtreeVisitor> Walker<'_, V> {
    fn fault(&mut self, at: &NodeAt, fault: WalkFault) -> Result<bool, V::Error> {
        Ok(self.visitor.fault(at, fault)? == Flow::Continue)
    }

    fn node(&mut self, at: NodeAt) -> Result<(), V::Error> {
        if at.depth >= MAX_DEPTH {
            return self.visitor.fault(&at, WalkFault::TooDeep).map(|_| ());
        }
        if let Some(&first) = self.seen.get(&at.block) {
            if !self.fault(&at, WalkFault::Cycle { first })? {
                return Ok(());
            }
        } else {
            self.seen.insert(at.block, at.from);
        }
        let Some(data) = self.visitor.read(&at)? else {
            return Ok(());
        };
        let node = match NodeView::decode(at.block, &data).and_then(|n| {
            n.header()
                .check_leaf_value_size(self.value_size)
                .map(|()| n)
        }) {
            Ok(n) => n,
            Err(f) => return self.visitor.fault(&at, WalkFault::Header(f)).map(|_| ()),
        };
        let h = *node.header();
        if h.max_entries != h.kernel_max_entries() {
            let fault = WalkFault::MaxEntries {
                max_entries: h.max_entries,
                kernel: h.kernel_max_entries(),
                value_size: h.value_size,
            };
            if !self.fault(&at, fault)? {
                return Ok(());
            }
        }
        let keys = node.keys();
        if let Some(fault) = key_faults(&keys, at.lo, at.hi) {
            if !self.fault(&at, fault)? {
                return Ok(());
            }
        }
        let mark = self.visitor.node(&at, &node)?;
        if node.is_leaf() {
            match self.leaf_depth {
                None => self.leaf_depth = Some(at.depth),
                Some(other) if other != at.depth => {
                    if !self.fault(&at, WalkFault::LeafDepth { other })? {
                        return Ok(());
                    }
                }
                Some(_) => {}
            }
            return self.visitor.leaf(&at, &node, mark);
        }
        if keys.is_empty() && !self.fault(&at, WalkFault::NoEntries)? {
            return Ok(());
        }
        let children: Vec<NodeAt> = (0..keys.len())
            .map(|i| NodeAt {
                block: node.value_block(i),
                depth: at.depth + 1,
                lo: keys[i],
                hi: keys.get(i + 1).copied().or(at.hi),
                cover_lo: if i == 0 { at.cover_lo } else { keys[i] },
                from: Referrer(Some((at.block, i))),
            })
            .collect();
        drop(data);
        for child in children {
            if self.visitor.child(&at, child.block, mark)? {
                self.node(child)?;
            }
        }
        Ok(())
    }
}

/// Walks the tree at `root`, whose leaves hold `value_size`-byte values, with `visitor`.
pub fn walk_tree<V: BtreeVisitor>(
    root: MetaBlock,
    value_size: u32,
    visitor: &mut V,
) -> Result<(), V::Error> {
    let mut w = Walker {
        visitor,
        value_size,
        seen: HashMap::new(),
        leaf_depth: None,
    };
    w.node(NodeAt {
        block: root,
        depth: 0,
        lo: 0,
        hi: None,
        cover_lo: 0,
        from: Referrer(None),
    })
}

/// The strict readers' visitor: every fault is an error naming the block.
struct Strict<'f, V> {
    io: &'f dyn BlockIo,
    last_key: Option<u64>,
    visit: &'f mut dyn FnMut(u64, V) -> pdata::Result<()>,
}

impl<V: Value> BtreeVisitor for Strict<'_, V> {
    type Error = Error;
    type Block = Box<BlockBuf>;
    type Mark = ();

    fn read(&mut self, at: &NodeAt) -> pdata::Result<Option<Box<BlockBuf>>> {
        let data = read_block(self.io, at.block)?;
        checksum::verify(&data, BlockKind::BtreeNode, at.block)?;
        Ok(Some(data))
    }

    fn fault(&mut self, at: &NodeAt, fault: WalkFault) -> pdata::Result<Flow> {
        let block = at.block;
        let reason = match fault {
            WalkFault::TooDeep => {
                return Err(Error::TooDeep {
                    block,
                    max: MAX_DEPTH,
                })
            }
            WalkFault::Cycle { first } => {
                return Err(Error::Cycle {
                    block,
                    first,
                    second: at.from,
                })
            }
            WalkFault::MaxEntries { .. } => return Ok(Flow::Continue),
            WalkFault::Header(f) => f.to_string(),
            WalkFault::Keys {
                out_of_range,
                out_of_order,
            } => match (out_of_range, out_of_order) {
                // Entry by entry, the range before the order.
                (Some((i, k)), o) if o.is_none_or(|o| i <= o) => {
                    format!("key {k} lies outside its parent's range")
                }
                (_, Some(i)) => format!("keys out of order at entry {i}"),
                (_, None) => return Ok(Flow::Continue),
            },
            WalkFault::LeafDepth { other } => {
                format!("leaf at depth {}, other leaves at {other}", at.depth)
            }
            WalkFault::NoEntries => "internal node has no entries".into(),
        };
        Err(Error::invalid(block, BlockKind::BtreeNode, reason))
    }

    fn node(&mut self, _: &NodeAt, _: &NodeView) -> pdata::Result<()> {
        Ok(())
    }

    fn leaf(&mut self, at: &NodeAt, node: &NodeView, (): ()) -> pdata::Result<()> {
        for i in 0..node.nr_entries as usize {
            let k = node.key(i);
            if self.last_key.is_some_and(|last| k <= last) {
                return Err(Error::invalid(
                    at.block,
                    BlockKind::BtreeNode,
                    format!("key {k} is not above the previous leaf's keys"),
                ));
            }
            self.last_key = Some(k);
            let v = decode_in(at.block, BlockKind::BtreeNode, i, node.value(i))?;
            (self.visit)(k, v)?;
        }
        Ok(())
    }

    fn child(&mut self, _: &NodeAt, _: MetaBlock, (): ()) -> pdata::Result<bool> {
        Ok(true)
    }
}

/// Visits every leaf entry of the tree at `root` in key order, its value decoded as a
/// `V`. Every node is validated, keys strictly increasing and within their parent's
/// bounds, leaves at one depth, values of `V`'s size; the first fault is the error.
pub fn walk_leaves<V: Value>(
    io: &dyn BlockIo,
    root: MetaBlock,
    visit: &mut dyn FnMut(u64, V) -> pdata::Result<()>,
) -> pdata::Result<()> {
    let mut v = Strict {
        io,
        last_key: None,
        visit,
    };
    walk_tree(root, V::SIZE_U32, &mut v)
}

/// Collects every `(key, value)` of the tree at `root`, checked as [`walk_leaves`]
/// checks it.
pub fn collect_leaves<V: Value>(io: &dyn BlockIo, root: MetaBlock) -> pdata::Result<Vec<(u64, V)>> {
    let mut out = Vec::new();
    walk_leaves(io, root, &mut |k, v| {
        out.push((k, v));
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
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
}

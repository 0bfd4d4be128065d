//! A tolerant btree walk: every node is checked as the kernel and the tools would check
//! it (format.md §4), each problem becomes a finding, and the walk skips only the
//! subtrees it cannot trust. Child references are counted once per node, however many
//! trees share it; a node reached twice within one tree is reported and not re-walked.

use super::Checker;
use crate::btree::{walk_tree, BtreeVisitor, Flow, NodeAt, NodeView, WalkFault, MAX_DEPTH};
use crate::checksum::BlockKind;
use crate::units::{BlockBuf, MetaBlock};
use std::convert::Infallible;

/// Which tree is walked.
#[derive(Debug, Clone, Copy)]
pub struct TreeSpec<'s> {
    /// Names the tree in findings, e.g. "era array".
    pub what: &'s str,
    /// The leaf value size.
    pub value_size: u32,
}

/// One leaf entry handed to the visitor.
#[derive(Debug, Clone, Copy)]
pub struct LeafEntry<'v> {
    /// The leaf holding the entry.
    pub leaf: MetaBlock,
    /// The entry's key.
    pub key: u64,
    /// The entry's value: `value_size` bytes as stored.
    pub value: &'v [u8],
    /// True the first time this leaf is visited in the whole check: the visitor counts
    /// the references the value holds only then.
    pub count_refs: bool,
}

/// The checker's visitor: every fault becomes a finding.
struct Tolerant<'c, 'a, 'v> {
    ck: &'c mut Checker<'a>,
    /// "btree node (<what>)", the subject of every finding.
    what: String,
    complete: bool,
    visit: &'v mut dyn FnMut(&mut Checker, LeafEntry),
}

impl BtreeVisitor for Tolerant<'_, '_, '_> {
    type Error = Infallible;
    type Block = Box<BlockBuf>;
    /// Whether this node's references are counted (the first time it is walked in the
    /// whole check).
    type Mark = bool;

    fn read(&mut self, at: &NodeAt) -> Result<Option<Box<BlockBuf>>, Infallible> {
        let data = self
            .ck
            .read_verified(at.block, BlockKind::BtreeNode, &self.what);
        if data.is_none() {
            self.complete = false;
        }
        Ok(data)
    }

    fn fault(&mut self, at: &NodeAt, fault: WalkFault) -> Result<Flow, Infallible> {
        let what = &self.what;
        let (message, flow) = match fault {
            WalkFault::TooDeep => (
                format!("{what}: the tree is deeper than {MAX_DEPTH} levels"),
                Flow::Skip,
            ),
            WalkFault::Cycle { first } => (
                format!(
                    "{what}: reached twice in one tree (a cycle or a shared child): from {first} and from {}",
                    at.from
                ),
                Flow::Skip,
            ),
            WalkFault::Header(f) => (format!("{what}: {f}"), Flow::Skip),
            WalkFault::MaxEntries {
                max_entries,
                kernel,
                value_size,
            } => {
                let m = format!(
                    "{what}: max_entries {max_entries}, the kernel requires {kernel} for value_size {value_size}"
                );
                (m, Flow::Continue)
            }
            WalkFault::Keys {
                out_of_range,
                out_of_order,
            } => {
                if let Some((i, k)) = out_of_range {
                    let range = match at.hi {
                        Some(h) => format!("[{}, {h})", at.lo),
                        None => format!("[{}, ...)", at.lo),
                    };
                    self.ck.error(
                        at.block,
                        format!(
                            "{what}: key {k} at entry {i} lies outside its parent's range {range}"
                        ),
                    );
                }
                if let Some(i) = out_of_order {
                    self.ck
                        .error(at.block, format!("{what}: keys out of order at entry {i}"));
                }
                return Ok(Flow::Continue);
            }
            WalkFault::LeafDepth { other } => (
                format!(
                    "{what}: leaf at depth {}, other leaves of the tree at depth {other}",
                    at.depth
                ),
                Flow::Continue,
            ),
            WalkFault::NoEntries => (format!("{what}: internal node has no entries"), Flow::Skip),
        };
        self.ck.error(at.block, message);
        if flow == Flow::Skip {
            self.complete = false;
        }
        Ok(flow)
    }

    fn node(&mut self, at: &NodeAt, node: &NodeView) -> Result<bool, Infallible> {
        let (nr, max) = (node.nr_entries, node.max_entries);
        if at.depth > 0 && nr < max / 3 {
            self.ck.warning(
                at.block,
                format!(
                    "{}: underfull: {nr} entries, fewer than a third of {max}",
                    self.what
                ),
            );
        }
        Ok(self.ck.first_expansion(at.block))
    }

    fn leaf(&mut self, at: &NodeAt, node: &NodeView, count_refs: bool) -> Result<(), Infallible> {
        for i in 0..node.nr_entries as usize {
            let entry = LeafEntry {
                leaf: at.block,
                key: node.key(i),
                value: node.value(i),
                count_refs,
            };
            (self.visit)(self.ck, entry);
        }
        Ok(())
    }

    fn child(
        &mut self,
        at: &NodeAt,
        child: MetaBlock,
        count_refs: bool,
    ) -> Result<bool, Infallible> {
        let readable = if count_refs {
            self.ck.reference(at.block, child, &self.what)
        } else {
            !child.is_zero() && self.ck.in_device(child)
        };
        if !readable {
            self.complete = false;
        }
        Ok(readable)
    }
}

/// Walks the tree at `root` (whose own reference the caller counts), reporting every
/// problem, and hands each leaf entry of every trustworthy leaf to `visit` in key order.
/// Returns true if no subtree had to be skipped.
pub fn walk_btree(
    ck: &mut Checker,
    root: MetaBlock,
    spec: TreeSpec,
    visit: &mut dyn FnMut(&mut Checker, LeafEntry),
) -> bool {
    let mut v = Tolerant {
        ck,
        what: format!("btree node ({})", spec.what),
        complete: true,
        visit,
    };
    let Ok(()) = walk_tree(root, spec.value_size, &mut v);
    if !v.complete {
        v.ck.note_damage();
    }
    v.complete
}

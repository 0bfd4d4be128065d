//! A tolerant btree walk: every node is checked as the kernel and the tools would check
//! it (format.md §4), each problem becomes a finding, and the walk skips only the
//! subtrees it cannot trust. Child references are counted once per node, however many
//! trees share it; a node reached twice within one tree is reported and not re-walked.

use super::Checker;
use crate::pdata::btree::{get_key, get_value, NodeHeader, MAX_DEPTH};
use crate::pdata::checksum::BlockKind;
use crate::pdata::codec::get_u64;
use crate::units::{BlockBuf, MetaBlock};
use std::collections::HashSet;

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
    pub key: u64,
    pub value: &'v [u8],
    /// True the first time this leaf is visited in the whole check: the visitor counts
    /// the references the value holds only then.
    pub count_refs: bool,
}

struct Walk<'s, 'v> {
    spec: TreeSpec<'s>,
    root: MetaBlock,
    seen: HashSet<MetaBlock>,
    leaf_depth: Option<usize>,
    complete: bool,
    visit: &'v mut dyn FnMut(&mut Checker, LeafEntry),
}

impl Walk<'_, '_> {
    fn node_what(&self) -> String {
        format!("btree node ({})", self.spec.what)
    }

    fn header(
        &mut self,
        ck: &mut Checker,
        block: MetaBlock,
        data: &BlockBuf,
    ) -> Option<NodeHeader> {
        let what = self.node_what();
        let h = NodeHeader::decode(data);
        if let Err(fault) = h.check(self.spec.value_size) {
            ck.error(block, format!("{what}: {fault}"));
            return None;
        }
        let (max, want, vs) = (h.max_entries, h.kernel_max_entries(), h.value_size);
        if max != want {
            ck.error(
                block,
                format!(
                    "{what}: max_entries {max}, the kernel requires {want} for value_size {vs}"
                ),
            );
        }
        Some(h)
    }

    fn check_keys(
        &self,
        ck: &mut Checker,
        block: MetaBlock,
        keys: &[u64],
        lo: u64,
        hi: Option<u64>,
    ) {
        let what = self.node_what();
        if let Some((i, k)) = keys
            .iter()
            .enumerate()
            .find(|(_, &k)| k < lo || hi.is_some_and(|h| k >= h))
        {
            let range = match hi {
                Some(h) => format!("[{lo}, {h})"),
                None => format!("[{lo}, ...)"),
            };
            ck.error(
                block,
                format!("{what}: key {k} at entry {i} lies outside its parent's range {range}"),
            );
        }
        if let Some(i) = (1..keys.len()).find(|&i| keys[i] <= keys[i - 1]) {
            ck.error(block, format!("{what}: keys out of order at entry {i}"));
        }
    }

    fn node(&mut self, ck: &mut Checker, block: MetaBlock, depth: usize, lo: u64, hi: Option<u64>) {
        let what = self.node_what();
        if depth >= MAX_DEPTH {
            ck.error(
                block,
                format!("{what}: the tree is deeper than {MAX_DEPTH} levels"),
            );
            self.complete = false;
            return;
        }
        if !self.seen.insert(block) {
            ck.error(
                block,
                format!("{what}: reached twice in one tree (a cycle or a shared child)"),
            );
            self.complete = false;
            return;
        }
        let Some(data) = ck.read_verified(block, BlockKind::BtreeNode, &what) else {
            self.complete = false;
            return;
        };
        let Some(h) = self.header(ck, block, &data) else {
            self.complete = false;
            return;
        };
        let nr = h.nr_entries as usize;
        let keys: Vec<u64> = (0..nr).map(|i| get_key(&data, i)).collect();
        self.check_keys(ck, block, &keys, lo, hi);
        if depth > 0 && h.nr_entries < h.max_entries / 3 {
            ck.warning(
                block,
                format!(
                    "{what}: underfull: {} entries, fewer than a third of {}",
                    h.nr_entries, h.max_entries
                ),
            );
        }
        let value = |i: usize| get_value(&data, &h, i);
        let count_refs = ck.first_expansion(block);
        if h.is_leaf() {
            match self.leaf_depth {
                None => self.leaf_depth = Some(depth),
                Some(d) if d != depth => ck.error(
                    block,
                    format!("{what}: leaf at depth {depth}, other leaves of the tree at depth {d}"),
                ),
                Some(_) => {}
            }
            for (i, &key) in keys.iter().enumerate() {
                (self.visit)(
                    ck,
                    LeafEntry {
                        leaf: block,
                        key,
                        value: value(i),
                        count_refs,
                    },
                );
            }
            return;
        }
        if nr == 0 {
            ck.error(block, format!("{what}: internal node has no entries"));
            self.complete = false;
            return;
        }
        let children: Vec<(MetaBlock, u64, Option<u64>)> = (0..nr)
            .map(|i| {
                let next = keys.get(i + 1).copied().or(hi);
                (get_u64(value(i), 0), keys[i], next)
            })
            .collect();
        drop(data);
        for (child, k, next) in children {
            let readable = if count_refs {
                ck.reference(block, child, &what)
            } else {
                child != 0 && ck.in_device(child)
            };
            if readable {
                self.node(ck, child, depth + 1, k, next);
            } else {
                self.complete = false;
            }
        }
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
    let mut w = Walk {
        spec,
        root,
        seen: HashSet::new(),
        leaf_depth: None,
        complete: true,
        visit,
    };
    w.node(ck, w.root, 0, 0, None);
    if !w.complete {
        ck.note_damage();
    }
    w.complete
}

//! A tolerant btree walk: every node is checked as the kernel and the tools would check
//! it (format.md §4), each problem becomes a finding, and the walk skips only the
//! subtrees it cannot trust. Child references are counted once per node, however many
//! trees share it; a node reached twice within one tree is reported and not re-walked.

use super::Checker;
use crate::pdata::btree::{max_entries, INTERNAL_FLAG, LEAF_FLAG, MAX_DEPTH, NODE_HEADER_SIZE};
use crate::pdata::checksum::BlockKind;
use crate::pdata::codec::{get_u32, get_u64};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::collections::HashSet;

const FLAGS_OFF: usize = 4;
const NR_ENTRIES_OFF: usize = 16;
const MAX_ENTRIES_OFF: usize = 20;
const VALUE_SIZE_OFF: usize = 24;

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

/// A node header that passed the checks the walk cannot continue without.
struct Header {
    flags: u32,
    nr: usize,
    max: usize,
    value_size: usize,
}

impl Walk<'_, '_> {
    fn node_what(&self) -> String {
        format!("btree node ({})", self.spec.what)
    }

    fn header(&mut self, ck: &mut Checker, block: MetaBlock, data: &BlockBuf) -> Option<Header> {
        let what = self.node_what();
        let flags = get_u32(data, FLAGS_OFF);
        let nr = get_u32(data, NR_ENTRIES_OFF);
        let max = get_u32(data, MAX_ENTRIES_OFF);
        let vs = get_u32(data, VALUE_SIZE_OFF);
        if flags != INTERNAL_FLAG && flags != LEAF_FLAG {
            ck.error(
                block,
                format!("{what}: flags {flags} is neither internal (1) nor leaf (2)"),
            );
            return None;
        }
        // In u128: a damaged value_size times max_entries overflows 64 bits.
        if vs == 0 || NODE_HEADER_SIZE as u128 + (8 + vs as u128) * max as u128 > BLOCK_SIZE as u128
        {
            ck.error(
                block,
                format!("{what}: max_entries {max} with value_size {vs} does not fit in a block"),
            );
            return None;
        }
        if nr > max {
            ck.error(
                block,
                format!("{what}: nr_entries {nr} exceeds max_entries {max}"),
            );
            return None;
        }
        if flags == INTERNAL_FLAG && vs != 8 {
            ck.error(
                block,
                format!("{what}: internal node has value_size {vs}, expected 8"),
            );
            return None;
        }
        if flags == LEAF_FLAG && vs != self.spec.value_size {
            ck.error(
                block,
                format!(
                    "{what}: leaf has value_size {vs}, this tree needs {}",
                    self.spec.value_size
                ),
            );
            return None;
        }
        let want = max_entries(vs as usize);
        if max != want {
            ck.error(
                block,
                format!(
                    "{what}: max_entries {max}, the kernel requires {want} for value_size {vs}"
                ),
            );
        }
        Some(Header {
            flags,
            nr: nr as usize,
            max: max as usize,
            value_size: vs as usize,
        })
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
        let keys: Vec<u64> = (0..h.nr)
            .map(|i| get_u64(&data[..], NODE_HEADER_SIZE + 8 * i))
            .collect();
        self.check_keys(ck, block, &keys, lo, hi);
        if depth > 0 && h.nr < h.max / 3 {
            ck.warning(
                block,
                format!(
                    "{what}: underfull: {} entries, fewer than a third of {}",
                    h.nr, h.max
                ),
            );
        }
        let values_off = NODE_HEADER_SIZE + 8 * h.max;
        let value =
            |i: usize| &data[values_off + h.value_size * i..values_off + h.value_size * (i + 1)];
        let count_refs = ck.first_expansion(block);
        if h.flags == LEAF_FLAG {
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
        if h.nr == 0 {
            ck.error(block, format!("{what}: internal node has no entries"));
            self.complete = false;
            return;
        }
        let children: Vec<(MetaBlock, u64, Option<u64>)> = (0..h.nr)
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

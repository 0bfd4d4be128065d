//! Strict walks over a btree for the readers: every node validated, keys strictly
//! increasing and within their parent's bounds, leaves at one depth, and a guard against
//! cycles and excessive depth so that damaged metadata cannot hang or exhaust the stack.

use super::node::NodeView;
use crate::io::BlockIo;
use crate::pdata::checksum::BlockKind;
use crate::pdata::{read_block, Error, Result};
use crate::units::MetaBlock;
use std::collections::HashSet;

/// Deeper than any btree that fits on a metadata device (4 levels at most for era).
pub const MAX_DEPTH: usize = 8;

struct Walk<'f> {
    io: &'f dyn BlockIo,
    value_size: u32,
    seen: HashSet<MetaBlock>,
    leaf_depth: Option<usize>,
    last_key: Option<u64>,
    visit: &'f mut dyn FnMut(u64, &[u8]) -> Result<()>,
}

impl Walk<'_> {
    fn node(&mut self, block: MetaBlock, depth: usize, lo: u64, hi: Option<u64>) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(Error::TooDeep {
                block,
                max: MAX_DEPTH,
            });
        }
        if !self.seen.insert(block) {
            return Err(Error::Cycle { block });
        }
        let data = read_block(self.io, block)?;
        let node = NodeView::parse(block, &data)?;
        node.check_leaf_value_size(self.value_size)?;
        let bad = |reason: String| Error::invalid(block, BlockKind::BtreeNode, reason);
        let n = node.nr_entries as usize;
        for i in 0..n {
            let k = node.key(i);
            if k < lo || hi.is_some_and(|h| k >= h) {
                return Err(bad(format!("key {k} lies outside its parent's range")));
            }
            if i > 0 && k <= node.key(i - 1) {
                return Err(bad(format!("keys out of order at entry {i}")));
            }
        }
        if node.is_leaf() {
            match self.leaf_depth {
                None => self.leaf_depth = Some(depth),
                Some(d) if d != depth => {
                    return Err(bad(format!("leaf at depth {depth}, other leaves at {d}")))
                }
                _ => {}
            }
            for i in 0..n {
                let k = node.key(i);
                if self.last_key.is_some_and(|last| k <= last) {
                    return Err(bad(format!(
                        "key {k} is not above the previous leaf's keys"
                    )));
                }
                self.last_key = Some(k);
                (self.visit)(k, node.value(i))?;
            }
        } else {
            if n == 0 {
                return Err(bad("internal node has no entries".into()));
            }
            let children: Vec<(u64, MetaBlock, Option<u64>)> = (0..n)
                .map(|i| {
                    let next = if i + 1 < n { Some(node.key(i + 1)) } else { hi };
                    (node.key(i), node.value_u64(i), next)
                })
                .collect();
            drop(data);
            for (k, child, next) in children {
                self.node(child, depth + 1, k, next)?;
            }
        }
        Ok(())
    }
}

/// Visits every leaf entry of the tree at `root` in key order. `value_size` is the
/// tree's leaf value size.
pub fn walk_leaves(
    io: &dyn BlockIo,
    root: MetaBlock,
    value_size: u32,
    visit: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut w = Walk {
        io,
        value_size,
        seen: HashSet::new(),
        leaf_depth: None,
        last_key: None,
        visit,
    };
    w.node(root, 0, 0, None)
}

/// Collects every `(key, value)` of the tree with `decode` applied to each value.
pub fn collect_leaves<T>(
    io: &dyn BlockIo,
    root: MetaBlock,
    value_size: u32,
    decode: impl Fn(&[u8]) -> T,
) -> Result<Vec<(u64, T)>> {
    let mut out = Vec::new();
    walk_leaves(io, root, value_size, &mut |k, v| {
        out.push((k, decode(v)));
        Ok(())
    })?;
    Ok(out)
}

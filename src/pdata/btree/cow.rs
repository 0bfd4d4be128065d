//! Copy-on-write btree updates through the [`TransactionManager`] (format.md §4, §9):
//! lookup, insert (splitting full nodes), remove (merging or redistributing underfull
//! nodes, collapsing a root with one child) and release of a whole tree. Every node on
//! the path of an update is shadowed; a node copied while shared passes one reference
//! on to everything it points to (format.md §7.6).

use super::node::{get_key, get_value, put_entries, put_key, put_value, NodeFault, NodeHeader};
use super::walk::MAX_DEPTH;
use crate::pdata::checksum::BlockKind;
use crate::pdata::codec::get_block;
use crate::pdata::transaction::TransactionManager;
use crate::pdata::{Error, Result};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};

type Entry = (u64, Vec<u8>);

mod insert;
mod remove;
mod value;
mod walk;
pub use insert::insert;
pub use remove::remove;
#[cfg(test)]
pub use value::ValueRef;
pub use value::{ArrayRoots, Plain, TreeType, ValueType, ARRAY_INDEX_TREE};
pub use walk::{collect, release};

fn header(b: &BlockBuf) -> NodeHeader {
    NodeHeader::decode(b)
}
fn nr(b: &BlockBuf) -> usize {
    header(b).nr_entries as usize
}
fn max(b: &BlockBuf) -> usize {
    header(b).max_entries as usize
}
fn is_leaf(b: &BlockBuf) -> bool {
    header(b).is_leaf()
}
fn key(b: &BlockBuf, i: usize) -> u64 {
    get_key(b, i)
}
fn value(b: &BlockBuf, i: usize) -> &[u8] {
    get_value(b, &header(b), i)
}
fn child(b: &BlockBuf, i: usize) -> MetaBlock {
    get_block(value(b, i), 0)
}
fn set_child(b: &mut BlockBuf, i: usize, c: MetaBlock) {
    let h = header(b);
    put_value(b, &h, i, &c.to_le_bytes());
}

/// Largest `i` with `key(i) <= k`.
fn find_le(b: &BlockBuf, k: u64) -> Option<usize> {
    let (mut lo, mut hi) = (0usize, nr(b));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if key(b, mid) <= k {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo.checked_sub(1)
}

/// Formats `buf` as an empty node.
pub fn init_node(buf: &mut BlockBuf, internal: bool, leaf_value_size: usize) {
    buf.fill(0);
    NodeHeader::empty(internal, leaf_value_size).encode(buf);
}

fn entries(b: &BlockBuf) -> Vec<Entry> {
    (0..nr(b))
        .map(|i| (key(b, i), value(b, i).to_vec()))
        .collect()
}

fn set_entries(b: &mut BlockBuf, es: &[Entry]) {
    put_entries(b, es.iter().map(|(k, v)| (*k, v.as_slice())));
}

fn bad(block: MetaBlock, reason: String) -> Error {
    Error::invalid(block, BlockKind::BtreeNode, reason)
}

/// Reads node `b` and checks its header against the tree.
fn load(tm: &mut TransactionManager, b: MetaBlock, tt: &TreeType) -> Result<BlockBuf> {
    let data = *tm.read(b, BlockKind::BtreeNode)?;
    let h = header(&data);
    // Exactly the header this tree's nodes are written with (the kernel's own check).
    match h.check(tt.size() as u32) {
        Err(NodeFault::Flags { flags }) => Err(bad(
            b,
            format!("flags {flags} is neither internal nor leaf"),
        )),
        Ok(()) if h.max_entries == h.kernel_max_entries() => Ok(data),
        _ => Err(bad(
            b,
            format!(
                "header (value_size {}, max_entries {}, nr_entries {}) does not fit this tree",
                h.value_size, h.max_entries, h.nr_entries
            ),
        )),
    }
}

/// Creates an empty tree (one empty leaf).
pub fn empty(tm: &mut TransactionManager, tt: &TreeType) -> Result<MetaBlock> {
    let b = tm.new_block(BlockKind::BtreeNode)?;
    init_node(tm.get_mut(b)?, false, tt.size());
    Ok(b)
}

/// The value stored under `k`, if any.
pub fn lookup(
    tm: &mut TransactionManager,
    root: MetaBlock,
    tt: &TreeType,
    k: u64,
) -> Result<Option<Vec<u8>>> {
    let mut b = root;
    for _ in 0..MAX_DEPTH {
        let n = load(tm, b, tt)?;
        let Some(i) = find_le(&n, k) else {
            return Ok(None);
        };
        if is_leaf(&n) {
            return Ok((key(&n, i) == k).then(|| value(&n, i).to_vec()));
        }
        b = child(&n, i);
    }
    Err(Error::TooDeep {
        block: root,
        max: MAX_DEPTH,
    })
}

/// The entry with the lowest key and the leaf holding it, if the tree is not empty.
pub fn first(
    tm: &mut TransactionManager,
    root: MetaBlock,
    tt: &TreeType,
) -> Result<Option<(MetaBlock, Entry)>> {
    let mut b = root;
    for _ in 0..MAX_DEPTH {
        let n = load(tm, b, tt)?;
        if nr(&n) == 0 {
            return Ok(None);
        }
        if is_leaf(&n) {
            return Ok(Some((b, (key(&n, 0), value(&n, 0).to_vec()))));
        }
        b = child(&n, 0);
    }
    Err(Error::TooDeep {
        block: root,
        max: MAX_DEPTH,
    })
}

/// Shadows node `b`; if it was shared, the copy's children and values gain a reference.
fn shadow_node(
    tm: &mut TransactionManager,
    b: MetaBlock,
    tt: &TreeType,
) -> Result<(MetaBlock, BlockBuf)> {
    let n = load(tm, b, tt)?;
    let (s, shared) = tm.shadow(b, BlockKind::BtreeNode)?;
    if shared {
        inc_children(tm, &n, tt)?;
    }
    Ok((s, n))
}

/// One more reference to everything node `n` points to: its children, or the values of
/// a leaf (the kernel's `inc_children`).
fn inc_children(tm: &mut TransactionManager, n: &BlockBuf, tt: &TreeType) -> Result<()> {
    for i in 0..nr(n) {
        if is_leaf(n) {
            tt.inc(tm, value(n, i))?;
        } else {
            tm.inc(child(n, i))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Copy-on-write btree updates through the [`TransactionManager`] (format.md §4, §9):
//! lookup, insert (splitting full nodes), remove (merging or redistributing underfull
//! nodes, collapsing a root with one child) and release of a whole tree. Every node on
//! the path of an update is shadowed; a node copied while shared passes one reference
//! on to everything it points to (format.md §7.6).

use super::node::{get_key, get_value, put_entries, put_key, put_value, NodeFault, NodeHeader};
use super::walk::MAX_DEPTH;
use crate::checksum::BlockKind;
use crate::codec::get_block;
use crate::transaction::TransactionManager;
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use crate::value::{decode_in, Value};
use crate::{Error, Result};

/// A raw leaf entry: key and value bytes.
type Entry = (u64, Vec<u8>);

mod insert;
mod remove;
mod walk;
pub use insert::insert;
pub use remove::remove;
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
fn load<V: Value>(tm: &mut TransactionManager, b: MetaBlock) -> Result<BlockBuf> {
    let data = *tm.read(b, BlockKind::BtreeNode)?;
    let h = header(&data);
    // Exactly the header this tree's nodes are written with (the kernel's own check).
    match h.check(V::SIZE_U32) {
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
pub fn empty<V: Value>(tm: &mut TransactionManager) -> Result<MetaBlock> {
    let b = tm.new_block(BlockKind::BtreeNode)?;
    init_node(tm.get_mut(b)?, false, V::SIZE);
    Ok(b)
}

/// The value stored under `k`, if any.
pub fn lookup<V: Value>(tm: &mut TransactionManager, root: MetaBlock, k: u64) -> Result<Option<V>> {
    let mut b = root;
    for _ in 0..MAX_DEPTH {
        let n = load::<V>(tm, b)?;
        let Some(i) = find_le(&n, k) else {
            return Ok(None);
        };
        if is_leaf(&n) {
            if key(&n, i) != k {
                return Ok(None);
            }
            return leaf_value(b, &n, i).map(Some);
        }
        b = child(&n, i);
    }
    Err(Error::TooDeep {
        block: root,
        max: MAX_DEPTH,
    })
}

/// The entry with the lowest key and the leaf holding it, if the tree is not empty.
pub fn first<V: Value>(
    tm: &mut TransactionManager,
    root: MetaBlock,
) -> Result<Option<(MetaBlock, (u64, V))>> {
    let mut b = root;
    for _ in 0..MAX_DEPTH {
        let n = load::<V>(tm, b)?;
        if nr(&n) == 0 {
            return Ok(None);
        }
        if is_leaf(&n) {
            return Ok(Some((b, (key(&n, 0), leaf_value(b, &n, 0)?))));
        }
        b = child(&n, 0);
    }
    Err(Error::TooDeep {
        block: root,
        max: MAX_DEPTH,
    })
}

/// Value `i` of leaf `n` (at `block`), decoded.
fn leaf_value<V: Value>(block: MetaBlock, n: &BlockBuf, i: usize) -> Result<V> {
    decode_in(block, BlockKind::BtreeNode, i, value(n, i))
}

/// Shadows node `b`; if it was shared, the copy's children and values gain a reference.
fn shadow_node<V: Value>(
    tm: &mut TransactionManager,
    b: MetaBlock,
) -> Result<(MetaBlock, BlockBuf)> {
    let n = load::<V>(tm, b)?;
    let (s, shared) = tm.shadow(b, BlockKind::BtreeNode)?;
    if shared {
        inc_children::<V>(tm, &n)?;
    }
    Ok((s, n))
}

/// One more reference to everything node `n` points to: its children, or the values of
/// a leaf (the kernel's `inc_children`).
fn inc_children<V: Value>(tm: &mut TransactionManager, n: &BlockBuf) -> Result<()> {
    for i in 0..nr(n) {
        if is_leaf(n) {
            leaf_value::<V>(header(n).blocknr, n, i)?.inc(tm)?;
        } else {
            tm.inc(child(n, i))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Copy-on-write dm-array updates (format.md §5, §6): get, set, resize and read-all of
//! an array of [`Value`]s, through the [`TransactionManager`]. A bitset is an array of
//! u64 words.

use super::block::{array_max_entries, value, value_mut, ArrayHeader};
use crate::btree::cow as btree_cow;
use crate::checksum::BlockKind;
use crate::transaction::TransactionManager;
use crate::units::{BlockBuf, MetaBlock};
use crate::value::{decode_in, Value};
use crate::{Error, Result};

fn bad(block: MetaBlock, reason: String) -> Error {
    Error::invalid(block, BlockKind::ArrayBlock, reason)
}

/// Value `i` of array block `b`.
fn get_val<V: Value>(b: MetaBlock, data: &BlockBuf, i: usize) -> Result<V> {
    decode_in(b, BlockKind::ArrayBlock, i, value(data, V::SIZE, i))
}

/// Reads array block `b` and checks its header; returns the block and `nr_entries`.
fn load_ablock<V: Value>(tm: &mut TransactionManager, b: MetaBlock) -> Result<(BlockBuf, usize)> {
    let vs = V::SIZE;
    let data = *tm.read(b, BlockKind::ArrayBlock)?;
    let m = array_max_entries(vs);
    let h = ArrayHeader::decode(&data);
    let (hm, hn, hv) = (h.max_entries, h.nr_entries, h.value_size);
    if hm != m || hv != V::SIZE_U32 || hn > m {
        return Err(bad(
            b,
            format!("header max_entries {hm}, nr_entries {hn}, value_size {hv} does not fit an array of {vs}-byte values"),
        ));
    }
    Ok((data, hn as usize))
}

fn new_ablock<V: Value>(tm: &mut TransactionManager, nr: usize, default: V) -> Result<MetaBlock> {
    let b = tm.new_block(BlockKind::ArrayBlock)?;
    let buf = tm.get_mut(b)?;
    ArrayHeader::new::<V>(nr).encode(buf);
    for i in 0..nr {
        default.encode(value_mut(buf, V::SIZE, i));
    }
    Ok(b)
}

/// An empty array.
pub fn empty(tm: &mut TransactionManager) -> Result<MetaBlock> {
    btree_cow::empty::<MetaBlock>(tm)
}

fn ablock_of(tm: &mut TransactionManager, root: MetaBlock, bi: u64) -> Result<MetaBlock> {
    match btree_cow::lookup::<MetaBlock>(tm, root, bi)? {
        Some(b) => Ok(b),
        None => Err(bad(root, format!("array has no block {bi}"))),
    }
}

/// Value `index`.
pub fn get<V: Value>(tm: &mut TransactionManager, root: MetaBlock, index: u64) -> Result<V> {
    let m = u64::from(array_max_entries(V::SIZE));
    let ab = ablock_of(tm, root, index / m)?;
    let (data, n) = load_ablock::<V>(tm, ab)?;
    let off = (index % m) as usize;
    if off >= n {
        return Err(bad(ab, format!("index {index} beyond the array")));
    }
    get_val(ab, &data, off)
}

/// Shadows array block `bi` and stores it back into the index; returns the new root,
/// the writable block and its `nr_entries`.
fn shadow_ablock<V: Value>(
    tm: &mut TransactionManager,
    root: MetaBlock,
    bi: u64,
) -> Result<(MetaBlock, MetaBlock, usize)> {
    let ab = ablock_of(tm, root, bi)?;
    let (_, n) = load_ablock::<V>(tm, ab)?;
    let (s, _) = tm.shadow(ab, BlockKind::ArrayBlock)?;
    let mut root = root;
    if s != ab {
        // The shadow already dropped the old block; the index still holds it, and
        // overwriting the index value drops it again.
        tm.inc(ab)?;
        root = btree_cow::insert(tm, root, bi, &s)?;
    }
    Ok((root, s, n))
}

/// Sets value `index`; returns the new root.
pub fn set<V: Value>(
    tm: &mut TransactionManager,
    root: MetaBlock,
    index: u64,
    v: V,
) -> Result<MetaBlock> {
    let m = u64::from(array_max_entries(V::SIZE));
    let (root, s, n) = shadow_ablock::<V>(tm, root, index / m)?;
    let off = (index % m) as usize;
    if off >= n {
        return Err(bad(s, format!("index {index} beyond the array")));
    }
    v.encode(value_mut(tm.get_mut(s)?, V::SIZE, off));
    Ok(root)
}

/// Resizes an array of `old_len` values to `new_len`; new values are `default`.
pub fn resize<V: Value>(
    tm: &mut TransactionManager,
    root: MetaBlock,
    old_len: u64,
    new_len: u64,
    default: V,
) -> Result<MetaBlock> {
    let m = u64::from(array_max_entries(V::SIZE));
    let old_blocks = old_len.div_ceil(m);
    let new_blocks = new_len.div_ceil(m);
    let mut root = root;
    if new_len > old_len {
        if !old_len.is_multiple_of(m) {
            let bi = old_blocks - 1;
            let (r, s, n) = shadow_ablock::<V>(tm, root, bi)?;
            root = r;
            let want = (new_len - bi * m).min(m) as usize;
            let buf = tm.get_mut(s)?;
            for i in n..want {
                default.encode(value_mut(buf, V::SIZE, i));
            }
            ArrayHeader::encode_nr_entries(buf, want as u32);
        }
        for bi in old_blocks..new_blocks {
            let nr = (new_len - bi * m).min(m) as usize;
            let b = new_ablock(tm, nr, default)?;
            root = btree_cow::insert(tm, root, bi, &b)?;
        }
    } else if new_len < old_len {
        // Ascending, as the kernel's shrink (dm-array.c) removes them with
        // dm_btree_remove_leaves: each removal moves the leaf's tail down, so the stale
        // slots past the new end all hold the last entry, as in the kernel's images.
        for bi in new_blocks..old_blocks {
            if let Some(r) = btree_cow::remove::<MetaBlock>(tm, root, bi)? {
                root = r;
            }
        }
        if !new_len.is_multiple_of(m) {
            let bi = new_blocks - 1;
            let (r, s, _) = shadow_ablock::<V>(tm, root, bi)?;
            root = r;
            ArrayHeader::encode_nr_entries(tm.get_mut(s)?, (new_len % m) as u32);
        }
    }
    Ok(root)
}

/// Every value of an array of `len` values, checking the array's shape.
pub fn read_all<V: Value>(
    tm: &mut TransactionManager,
    root: MetaBlock,
    len: u64,
) -> Result<Vec<V>> {
    let m = u64::from(array_max_entries(V::SIZE));
    let index = btree_cow::collect::<MetaBlock>(tm, root)?;
    let nb = len.div_ceil(m);
    if index.len() as u64 != nb {
        return Err(bad(
            root,
            format!(
                "array of {len} values has {} blocks, expected {nb}",
                index.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(len as usize);
    for (i, &(k, ab)) in index.iter().enumerate() {
        if k != i as u64 {
            return Err(bad(
                root,
                format!("array index has key {k} at position {i}"),
            ));
        }
        let (data, n) = load_ablock::<V>(tm, ab)?;
        let want = (len - k * m).min(m) as usize;
        if n != want {
            return Err(bad(ab, format!("nr_entries {n}, expected {want}")));
        }
        for j in 0..n {
            out.push(get_val(ab, &data, j)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

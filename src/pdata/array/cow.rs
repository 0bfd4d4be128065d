//! Copy-on-write dm-array updates (format.md §5, §6): get, set, resize and read-all of
//! an array of little-endian values of 4 or 8 bytes, through the
//! [`TransactionManager`]. A bitset is an array of u64 words.

use super::block::{array_max_entries, value, value_mut, ArrayHeader};
use crate::pdata::btree::cow::{self as btree_cow, ARRAY_INDEX_TREE};
use crate::pdata::checksum::BlockKind;
use crate::pdata::codec::{get_block, get_u32, get_u64, put_u32, put_u64};
use crate::pdata::transaction::TransactionManager;
use crate::pdata::{Error, Result};
use crate::units::{BlockBuf, MetaBlock};

fn bad(block: MetaBlock, reason: String) -> Error {
    Error::invalid(block, BlockKind::ArrayBlock, reason)
}

fn get_val(b: &BlockBuf, vs: usize, i: usize) -> u64 {
    let v = value(b, vs, i);
    if vs == 4 {
        u64::from(get_u32(v, 0))
    } else {
        get_u64(v, 0)
    }
}

fn put_val(b: &mut BlockBuf, vs: usize, i: usize, v: u64) {
    let out = value_mut(b, vs, i);
    if vs == 4 {
        put_u32(out, 0, v as u32);
    } else {
        put_u64(out, 0, v);
    }
}

fn check_vs(vs: usize) -> Result<()> {
    if vs == 4 || vs == 8 {
        Ok(())
    } else {
        Err(bad(
            MetaBlock::new(0),
            format!("unsupported array value size {vs}"),
        ))
    }
}

/// Reads array block `b` and checks its header; returns the block and `nr_entries`.
fn load_ablock(tm: &mut TransactionManager, b: MetaBlock, vs: usize) -> Result<(BlockBuf, usize)> {
    let data = *tm.read(b, BlockKind::ArrayBlock)?;
    let m = array_max_entries(vs);
    let h = ArrayHeader::decode(&data);
    let (hm, hn, hv) = (h.max_entries, h.nr_entries, h.value_size);
    if hm != m || hv as usize != vs || hn > m {
        return Err(bad(
            b,
            format!("header max_entries {hm}, nr_entries {hn}, value_size {hv} does not fit an array of {vs}-byte values"),
        ));
    }
    Ok((data, hn as usize))
}

fn new_ablock(
    tm: &mut TransactionManager,
    vs: usize,
    nr: usize,
    default: u64,
) -> Result<MetaBlock> {
    let b = tm.new_block(BlockKind::ArrayBlock)?;
    let buf = tm.get_mut(b)?;
    ArrayHeader::new(vs, nr).encode(buf);
    for i in 0..nr {
        put_val(buf, vs, i, default);
    }
    Ok(b)
}

/// An empty array.
pub fn empty(tm: &mut TransactionManager) -> Result<MetaBlock> {
    btree_cow::empty(tm, &ARRAY_INDEX_TREE)
}

fn ablock_of(tm: &mut TransactionManager, root: MetaBlock, bi: u64) -> Result<MetaBlock> {
    match btree_cow::lookup(tm, root, &ARRAY_INDEX_TREE, bi)? {
        Some(v) => Ok(get_block(&v, 0)),
        None => Err(bad(root, format!("array has no block {bi}"))),
    }
}

/// Value `index`.
pub fn get(tm: &mut TransactionManager, root: MetaBlock, vs: usize, index: u64) -> Result<u64> {
    check_vs(vs)?;
    let m = array_max_entries(vs) as u64;
    let ab = ablock_of(tm, root, index / m)?;
    let (data, n) = load_ablock(tm, ab, vs)?;
    let off = (index % m) as usize;
    if off >= n {
        return Err(bad(ab, format!("index {index} beyond the array")));
    }
    Ok(get_val(&data, vs, off))
}

/// Shadows array block `bi` and stores it back into the index; returns the new root,
/// the writable block and its `nr_entries`.
fn shadow_ablock(
    tm: &mut TransactionManager,
    root: MetaBlock,
    vs: usize,
    bi: u64,
) -> Result<(MetaBlock, MetaBlock, usize)> {
    let ab = ablock_of(tm, root, bi)?;
    let (_, n) = load_ablock(tm, ab, vs)?;
    let (s, _) = tm.shadow(ab, BlockKind::ArrayBlock)?;
    let mut root = root;
    if s != ab {
        // The shadow already dropped the old block; the index still holds it, and
        // overwriting the index value drops it again.
        tm.inc(ab)?;
        root = btree_cow::insert(tm, root, &ARRAY_INDEX_TREE, bi, &s.to_le_bytes())?;
    }
    Ok((root, s, n))
}

/// Sets value `index`; returns the new root.
pub fn set(
    tm: &mut TransactionManager,
    root: MetaBlock,
    vs: usize,
    index: u64,
    v: u64,
) -> Result<MetaBlock> {
    check_vs(vs)?;
    let m = array_max_entries(vs) as u64;
    let (root, s, n) = shadow_ablock(tm, root, vs, index / m)?;
    let off = (index % m) as usize;
    if off >= n {
        return Err(bad(s, format!("index {index} beyond the array")));
    }
    put_val(tm.get_mut(s)?, vs, off, v);
    Ok(root)
}

/// Resizes an array of `old_len` values to `new_len`; new values are `default`.
pub fn resize(
    tm: &mut TransactionManager,
    root: MetaBlock,
    vs: usize,
    old_len: u64,
    new_len: u64,
    default: u64,
) -> Result<MetaBlock> {
    check_vs(vs)?;
    let m = array_max_entries(vs) as u64;
    let old_blocks = old_len.div_ceil(m);
    let new_blocks = new_len.div_ceil(m);
    let mut root = root;
    if new_len > old_len {
        if !old_len.is_multiple_of(m) {
            let bi = old_blocks - 1;
            let (r, s, n) = shadow_ablock(tm, root, vs, bi)?;
            root = r;
            let want = (new_len - bi * m).min(m) as usize;
            let buf = tm.get_mut(s)?;
            for i in n..want {
                put_val(buf, vs, i, default);
            }
            ArrayHeader::encode_nr_entries(buf, want as u32);
        }
        for bi in old_blocks..new_blocks {
            let nr = (new_len - bi * m).min(m) as usize;
            let b = new_ablock(tm, vs, nr, default)?;
            root = btree_cow::insert(tm, root, &ARRAY_INDEX_TREE, bi, &b.to_le_bytes())?;
        }
    } else if new_len < old_len {
        // Ascending, as the kernel's shrink (dm-array.c) removes them with
        // dm_btree_remove_leaves: each removal moves the leaf's tail down, so the stale
        // slots past the new end all hold the last entry, as in the kernel's images.
        for bi in new_blocks..old_blocks {
            if let Some(r) = btree_cow::remove(tm, root, &ARRAY_INDEX_TREE, bi)? {
                root = r;
            }
        }
        if !new_len.is_multiple_of(m) {
            let bi = new_blocks - 1;
            let (r, s, _) = shadow_ablock(tm, root, vs, bi)?;
            root = r;
            ArrayHeader::encode_nr_entries(tm.get_mut(s)?, (new_len % m) as u32);
        }
    }
    Ok(root)
}

/// Every value of an array of `len` values, checking the array's shape.
pub fn read_all(
    tm: &mut TransactionManager,
    root: MetaBlock,
    vs: usize,
    len: u64,
) -> Result<Vec<u64>> {
    check_vs(vs)?;
    let m = array_max_entries(vs) as u64;
    let index = btree_cow::collect(tm, root, &ARRAY_INDEX_TREE)?;
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
    for (i, (k, v)) in index.iter().enumerate() {
        if *k != i as u64 {
            return Err(bad(
                root,
                format!("array index has key {k} at position {i}"),
            ));
        }
        let ab = get_block(v, 0);
        let (data, n) = load_ablock(tm, ab, vs)?;
        let want = (len - *k * m).min(m) as usize;
        if n != want {
            return Err(bad(ab, format!("nr_entries {n}, expected {want}")));
        }
        out.extend((0..n).map(|j| get_val(&data, vs, j)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

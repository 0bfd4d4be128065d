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
mod tests {
    use super::*;
    use crate::io::MemIo;
    use crate::test_support::{assert_space_map_exact, Leaves};
    use crate::units::BLOCK_SIZE;
    use std::sync::Arc;

    fn commit(tm: &mut TransactionManager) -> crate::space_map::SmRoot {
        let root = tm.prepare_commit().unwrap();
        tm.commit(&[0u8; BLOCK_SIZE]).unwrap();
        root
    }

    #[test]
    fn resize_set_and_read_back() {
        let io = Arc::new(MemIo::new(2048));
        let mut tm = TransactionManager::format(io.clone(), true).unwrap();
        let mut root = empty(&mut tm).unwrap();
        root = resize::<u32>(&mut tm, root, 0, 5000, 0).unwrap();
        let mut model = vec![0u32; 5000];
        for i in (0..5000).step_by(7) {
            let v = u32::try_from(i + 1).unwrap();
            root = set(&mut tm, root, i, v).unwrap();
            model[i as usize] = v;
        }
        let sm = commit(&mut tm);
        assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Blocks)], &[]);
        assert_eq!(read_all::<u32>(&mut tm, root, 5000).unwrap(), model);
        // The committed array is checked by the read-side code too.
        let read = crate::array::read_array::<u32>(io.as_ref(), root, 5000).unwrap();
        assert_eq!(read, model);
        root = resize::<u32>(&mut tm, root, 5000, 1500, 0).unwrap();
        root = resize::<u32>(&mut tm, root, 1500, 3000, 9).unwrap();
        model.truncate(1500);
        model.resize(3000, 9);
        assert_eq!(get::<u32>(&mut tm, root, 2999).unwrap(), 9);
        let sm = commit(&mut tm);
        assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Blocks)], &[]);
        assert_eq!(read_all::<u32>(&mut tm, root, 3000).unwrap(), model);
        assert!(set::<u32>(&mut tm, root, 3000, 1).is_err());
    }

    #[test]
    fn bitset_words_in_a_shared_array() {
        let io = Arc::new(MemIo::new(2048));
        let mut tm = TransactionManager::format(io.clone(), true).unwrap();
        let mut root = empty(&mut tm).unwrap();
        root = resize::<u64>(&mut tm, root, 0, 1200, 0).unwrap();
        commit(&mut tm);
        let snap = root;
        tm.inc(snap).unwrap();
        root = set::<u64>(&mut tm, root, 600, 0x8000_0000_0000_0001).unwrap();
        let sm = commit(&mut tm);
        assert_space_map_exact(
            io.as_ref(),
            &sm,
            &[(root, Leaves::Blocks), (snap, Leaves::Blocks)],
            &[],
        );
        assert_eq!(get::<u64>(&mut tm, snap, 600).unwrap(), 0);
        assert_eq!(
            get::<u64>(&mut tm, root, 600).unwrap(),
            0x8000_0000_0000_0001
        );
    }

    #[test]
    fn a_transaction_larger_than_the_cache_is_written_early_and_read_back() {
        use crate::transaction::MIN_CACHE_BLOCKS;
        let io = Arc::new(MemIo::new(4096));
        let mut tm = TransactionManager::format(io.clone(), true).unwrap();
        tm.set_cache_limit(MIN_CACHE_BLOCKS);
        let mut root = empty(&mut tm).unwrap();
        // About 200 array blocks plus index nodes: three times the cache, in one transaction.
        let n = 200_000;
        root = resize::<u32>(&mut tm, root, 0, n, 3).unwrap();
        assert!(tm.cached_blocks() <= MIN_CACHE_BLOCKS);
        let mut model = vec![3u32; n as usize];
        // Changes to blocks already written out early, in the same transaction.
        for i in (0..n).step_by(997) {
            let v = u32::try_from(i + 1).unwrap();
            root = set(&mut tm, root, i, v).unwrap();
            model[i as usize] = v;
            assert!(tm.cached_blocks() <= MIN_CACHE_BLOCKS);
        }
        let sm = commit(&mut tm);
        assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Blocks)], &[]);
        let mut reopened = TransactionManager::open(io.clone(), &sm, true).unwrap();
        assert_eq!(read_all::<u32>(&mut reopened, root, n).unwrap(), model);

        // A second transaction, also larger than the cache, that never commits (a power
        // cut): its early writes leave the committed state intact.
        let committed = root;
        for i in (0..n).step_by(500) {
            root = set::<u32>(&mut tm, root, i, 7).unwrap();
        }
        assert_ne!(root, committed);
        let mut after_cut = TransactionManager::open(io.clone(), &sm, true).unwrap();
        assert_eq!(
            read_all::<u32>(&mut after_cut, committed, n).unwrap(),
            model
        );
        assert_space_map_exact(io.as_ref(), &sm, &[(committed, Leaves::Blocks)], &[]);
    }
}

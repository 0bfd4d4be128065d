//! dm-array (format.md §5): a btree from array-block index to array block, each array
//! block holding `max_entries` packed values (layout in `block.rs`).
//! The length is stored by the owner.

pub mod block;
pub mod builder;
pub mod cow;
pub mod reader;

use crate::block_set::MetaBlockSet;
use crate::btree::walk_leaves;
use crate::checksum::{self, BlockKind};
use crate::io::BlockIo;
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use crate::value::{decode_in, Value};
use crate::{Error, Result};
use block::value;
pub use block::{array_max_entries, ArrayHeader};
use rayon::prelude::*;

/// Number of array blocks of an array of `len` values.
pub fn nr_array_blocks(len: u64, value_size: usize) -> u64 {
    len.div_ceil(array_max_entries(value_size) as u64)
}

/// Validates an array block of `V` values read from `block` and returns its header.
/// `expected_nr` is the number of values this block must hold given its position in
/// the array.
pub fn check_array_block<V: Value>(
    block: MetaBlock,
    data: &BlockBuf,
    expected_nr: usize,
) -> Result<ArrayHeader> {
    let value_size = V::SIZE_U32;
    checksum::verify(data, BlockKind::ArrayBlock, block)?;
    let h = ArrayHeader::decode(data);
    let bad = |reason: String| Error::invalid(block, BlockKind::ArrayBlock, reason);
    if h.value_size != value_size {
        return Err(bad(format!(
            "value_size {}, expected {value_size}",
            h.value_size
        )));
    }
    let m = array_max_entries(V::SIZE);
    if h.max_entries != m {
        return Err(bad(format!("max_entries {}, expected {m}", h.max_entries)));
    }
    if u64::from(h.nr_entries) != expected_nr as u64 {
        return Err(bad(format!(
            "nr_entries {}, expected {expected_nr} for its place in the array",
            h.nr_entries
        )));
    }
    Ok(h)
}

/// The array blocks of the array at `root`, in index order, checked to be exactly the
/// `ceil(len / M)` dense indices an array of `len` values needs.
pub fn array_block_pointers(
    io: &dyn BlockIo,
    root: MetaBlock,
    len: u64,
    value_size: usize,
) -> Result<Vec<MetaBlock>> {
    // The pointers alone (8 bytes per array block, not a key beside each), and the
    // first gap noted but reported only once the walk has checked every node, as a
    // collect-then-check would.
    let want = nr_array_blocks(len, value_size);
    let mut ptrs: Vec<MetaBlock> = Vec::with_capacity(want.min(1 << 22) as usize);
    let mut gap: Option<(u64, usize)> = None;
    // Each array block belongs to one index entry: a block listed twice would hand the
    // values of one place to both, and the values of the block it replaced to none.
    // (Blocks beyond the device fail when read: they are not kept.)
    let mut listed = MetaBlockSet::new();
    let mut twice: Option<usize> = None;
    let device = io.nr_blocks();
    walk_leaves(io, root, &mut |k, block: MetaBlock| {
        let i = ptrs.len();
        if gap.is_none() && k != i as u64 {
            gap = Some((k, i));
        }
        if block.is_below(device) && !listed.insert(block) && twice.is_none() {
            twice = Some(i);
        }
        ptrs.push(block);
        Ok(())
    })?;
    if let Some((k, i)) = gap {
        return Err(Error::invalid(
            root,
            BlockKind::BtreeNode,
            format!("array index has a gap: key {k} where {i} was expected"),
        ));
    }
    if let Some(second) = twice {
        let block = ptrs[second];
        let first = ptrs.iter().position(|&p| p == block).unwrap_or(second);
        return Err(Error::ListedTwice {
            block,
            index: root,
            first: first as u64,
            second: second as u64,
        });
    }
    if ptrs.len() as u64 != want {
        return Err(Error::invalid(
            root,
            BlockKind::BtreeNode,
            format!(
                "array of {len} values needs {want} array blocks, the index has {}",
                ptrs.len()
            ),
        ));
    }
    Ok(ptrs)
}

/// Reads a whole array of `len` values. Array blocks are read in parallel, consecutive
/// block numbers in one read.
pub fn read_array<V: Value + Default>(
    io: &dyn BlockIo,
    root: MetaBlock,
    len: u64,
) -> Result<Vec<V>> {
    let ptrs = array_block_pointers(io, root, len, V::SIZE)?;
    let m = array_max_entries(V::SIZE) as usize;
    let mut out = vec![V::default(); len as usize];
    let runs = consecutive_runs(&ptrs, 256);
    // Split the output along the runs so that each run fills its own slice.
    let mut slices = Vec::with_capacity(runs.len());
    let mut rest: &mut [V] = &mut out;
    for &(first_idx, count) in &runs {
        let start = first_idx * m;
        let end = ((first_idx + count) * m).min(len as usize);
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(end - start);
        slices.push((first_idx, count, head));
        rest = tail;
    }
    slices
        .into_par_iter()
        .try_for_each(|(first_idx, count, dest)| -> Result<()> {
            let first_block = ptrs[first_idx];
            let mut buf = vec![0u8; count * BLOCK_SIZE];
            io.read_blocks(first_block, &mut buf)
                .map_err(|source| Error::Io {
                    block: first_block,
                    source,
                })?;
            for (j, chunk) in buf.chunks_exact(BLOCK_SIZE).enumerate() {
                let idx = first_idx + j;
                let block = first_block.offset(j as u64);
                let data: &BlockBuf = chunk
                    .try_into()
                    .map_err(|_| Error::invalid(block, BlockKind::ArrayBlock, "short read"))?;
                let nr = (len as usize - idx * m).min(m);
                check_array_block::<V>(block, data, nr)?;
                let d = &mut dest[j * m..j * m + nr];
                for (k, v) in d.iter_mut().enumerate() {
                    *v = decode_in(block, BlockKind::ArrayBlock, k, value(data, V::SIZE, k))?;
                }
            }
            Ok(())
        })?;
    Ok(out)
}

/// Groups indices of `ptrs` into runs `(first_index, count)` whose block numbers are
/// consecutive, at most `max` long.
pub(super) fn consecutive_runs(ptrs: &[MetaBlock], max: usize) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, &p) in ptrs.iter().enumerate() {
        match runs.last_mut() {
            Some((first, count))
                if *count < max && ptrs[*first].checked_offset(*count as u64) == Some(p) =>
            {
                *count += 1
            }
            _ => runs.push((i, 1)),
        }
    }
    runs
}

#[cfg(test)]
mod tests;

//! Salvaging reads: the strict readers' checks applied one node and one array block at a
//! time, so that a damaged block loses only what lies below it. Each walk returns what
//! it could read and, for everything it could not, the key range (or value range) lost
//! and why. Every node is visited at most once per walk and the depth is bounded, so no
//! input can make a walk loop or run away.

use super::array::{array_max_entries, check_array_block, nr_array_blocks};
use super::array_block::value;
use super::btree::{NodeView, MAX_DEPTH};
use super::read_block;
use crate::io::BlockIo;
use crate::units::MetaBlock;
use std::collections::{BTreeMap, HashSet};

/// Keys `[lo, hi)` (`hi` `None`: unbounded) of a btree that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostKeys {
    pub lo: u64,
    pub hi: Option<u64>,
    /// The block at fault.
    pub block: MetaBlock,
    /// What is wrong with it.
    pub reason: String,
}

/// What a salvaging btree walk found.
#[derive(Debug, Clone)]
pub struct TreeSalvage<T> {
    /// Every entry of every readable leaf, keys ascending.
    pub entries: Vec<(u64, T)>,
    /// The key ranges below the unreadable nodes.
    pub lost: Vec<LostKeys>,
}

struct Walk<'a, T> {
    io: &'a dyn BlockIo,
    value_size: u32,
    decode: &'a dyn Fn(&[u8]) -> T,
    seen: HashSet<MetaBlock>,
    out: TreeSalvage<T>,
}

impl<T> Walk<'_, T> {
    fn lose(&mut self, lo: u64, hi: Option<u64>, block: MetaBlock, reason: String) {
        self.out.lost.push(LostKeys {
            lo,
            hi,
            block,
            reason,
        });
    }

    /// Walks the node at `block`, whose keys must lie in `[lo, hi)`; `lost_lo` is the
    /// lowest key lost if the node cannot be read.
    fn node(&mut self, block: MetaBlock, depth: usize, lo: u64, lost_lo: u64, hi: Option<u64>) {
        if depth >= MAX_DEPTH {
            let reason = format!("the btree is deeper than {MAX_DEPTH} levels");
            return self.lose(lost_lo, hi, block, reason);
        }
        if !self.seen.insert(block) {
            let reason = "btree node is reached twice (cycle or shared child)".to_string();
            return self.lose(lost_lo, hi, block, reason);
        }
        let data = match read_block(self.io, block) {
            Ok(d) => d,
            Err(e) => return self.lose(lost_lo, hi, block, e.to_string()),
        };
        let node = match NodeView::parse(block, &data)
            .and_then(|n| n.check_leaf_value_size(self.value_size).map(|()| n))
        {
            Ok(n) => n,
            Err(e) => return self.lose(lost_lo, hi, block, e.to_string()),
        };
        let n = node.nr_entries as usize;
        let keys: Vec<u64> = (0..n).map(|i| node.key(i)).collect();
        if let Some(k) = keys.iter().find(|&&k| k < lo || hi.is_some_and(|h| k >= h)) {
            let reason =
                format!("block {block}: btree node: key {k} lies outside its parent's range");
            return self.lose(lost_lo, hi, block, reason);
        }
        if let Some(i) = (1..n).find(|&i| keys[i] <= keys[i - 1]) {
            let reason = format!("block {block}: btree node: keys out of order at entry {i}");
            return self.lose(lost_lo, hi, block, reason);
        }
        if node.is_leaf() {
            for (i, &k) in keys.iter().enumerate() {
                let v = (self.decode)(node.value(i));
                self.out.entries.push((k, v));
            }
            return;
        }
        if n == 0 {
            let reason = format!("block {block}: btree node: internal node has no entries");
            return self.lose(lost_lo, hi, block, reason);
        }
        let children: Vec<(MetaBlock, u64, u64, Option<u64>)> = (0..n)
            .map(|i| {
                let next = keys.get(i + 1).copied().or(hi);
                let child_lost_lo = if i == 0 { lost_lo } else { keys[i] };
                (node.value_u64(i), keys[i], child_lost_lo, next)
            })
            .collect();
        drop(data);
        for (child, k, child_lost_lo, next) in children {
            self.node(child, depth + 1, k, child_lost_lo, next);
        }
    }
}

/// Walks the btree at `root` (leaf values of `value_size` bytes, decoded by `decode`),
/// keeping every readable leaf entry and recording the key range below every node that
/// cannot be read or fails the strict reader's checks.
pub fn salvage_btree<T>(
    io: &dyn BlockIo,
    root: MetaBlock,
    value_size: u32,
    decode: &dyn Fn(&[u8]) -> T,
) -> TreeSalvage<T> {
    let mut w = Walk {
        io,
        value_size,
        decode,
        seen: HashSet::new(),
        out: TreeSalvage {
            entries: Vec::new(),
            lost: Vec::new(),
        },
    };
    w.node(root, 0, 0, 0, None);
    let mut out = w.out;
    out.entries.sort_by_key(|(k, _)| *k);
    out.entries.dedup_by_key(|(k, _)| *k);
    out
}

/// Values `[first, end)` of an array that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostValues {
    pub first: u64,
    pub end: u64,
    /// The block at fault (an array block, or the index node above it).
    pub block: MetaBlock,
    pub reason: String,
}

/// What a salvaging array read found.
#[derive(Debug, Clone)]
pub struct ArraySalvage<T> {
    /// `len` values; those in a lost range hold `T::default()`.
    pub values: Vec<T>,
    /// The value ranges that could not be read, ascending; adjacent ranges lost for
    /// the same reason are merged.
    pub lost: Vec<LostValues>,
}

/// Reads the array at `root` of `len` values of `value_size` bytes, keeping every array
/// block that passes the strict reader's checks for its position and recording the
/// values of every other one as lost.
pub fn salvage_array<T: Copy + Default>(
    io: &dyn BlockIo,
    root: MetaBlock,
    len: u64,
    value_size: usize,
    decode: &dyn Fn(&[u8]) -> T,
) -> ArraySalvage<T> {
    let m = u64::from(array_max_entries(value_size));
    let want = nr_array_blocks(len, value_size);
    let index = salvage_btree(io, root, 8, &|v: &[u8]| crate::pdata::codec::get_u64(v, 0));
    let pointers: BTreeMap<u64, MetaBlock> = index
        .entries
        .into_iter()
        .filter(|(k, _)| *k < want)
        .collect();
    let mut values = vec![T::default(); usize::try_from(len).unwrap_or(0)];
    let mut lost: Vec<LostValues> = Vec::new();
    let mut push_lost = |l: LostValues| match lost.last_mut() {
        Some(prev) if prev.end == l.first && prev.block == l.block && prev.reason == l.reason => {
            prev.end = l.end
        }
        _ => lost.push(l),
    };
    for i in 0..want {
        let first = i * m;
        let end = ((i + 1) * m).min(len);
        let Some(&ptr) = pointers.get(&i) else {
            let (block, reason) = match index
                .lost
                .iter()
                .find(|l| l.lo <= i && l.hi.is_none_or(|h| i < h))
            {
                Some(l) => (l.block, l.reason.clone()),
                None => (
                    root,
                    format!("block {root}: the array's index has no entry for array block {i}"),
                ),
            };
            push_lost(LostValues {
                first,
                end,
                block,
                reason,
            });
            continue;
        };
        let nr = (end - first) as u32;
        let read = read_block(io, ptr).and_then(|data| {
            check_array_block(ptr, &data, value_size as u32, nr)?;
            Ok(data)
        });
        match read {
            Ok(data) => {
                for (k, v) in values[first as usize..end as usize].iter_mut().enumerate() {
                    *v = decode(value(&data, value_size, k));
                }
            }
            Err(e) => push_lost(LostValues {
                first,
                end,
                block: ptr,
                reason: e.to_string(),
            }),
        }
    }
    ArraySalvage { values, lost }
}

#[cfg(test)]
mod tests;

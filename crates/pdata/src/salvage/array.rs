//! Salvaging arrays: the index first ([`salvage_index`]), which tells how long the array
//! is at least and at most ([`ArrayIndex::extent`]) before anything is sized by it, then
//! the values ([`ArrayIndex::values`]). An array block the index lists at two places is
//! damage in both: neither place can be told to be the right one.

use super::{salvage_btree_below, LostKeys};
use crate::array::block::{array_max_entries, value, ArrayHeader};
use crate::array::{check_array_block, nr_array_blocks};
use crate::checksum::{self, BlockKind};
use crate::io::BlockIo;
use crate::read_block;
use crate::units::MetaBlock;
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::ops::Range;

/// Values `[first, end)` of an array that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostValues {
    /// Index of the first value lost.
    pub first: u64,
    /// One past the index of the last value lost.
    pub end: u64,
    /// The block at fault (an array block, or the index node above it).
    pub block: MetaBlock,
    /// What is wrong with it.
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

/// How many values an array's index evidences: at least `min`, at most `max` (`None`:
/// the index's tail is lost, so no bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayExtent {
    /// The fewest values the readable index and lost ranges allow.
    pub min: u64,
    /// The most values they allow; `None` when a lost range has no upper key bound.
    pub max: Option<u64>,
    /// The number of array blocks the index lists, when its tail could be read.
    pub blocks: Option<u64>,
}

impl ArrayExtent {
    /// Whether the index tells the length exactly.
    pub fn exact(&self) -> Option<u64> {
        (self.max == Some(self.min)).then_some(self.min)
    }

    /// Whether a length of `len` agrees with the index.
    pub fn admits(&self, len: u64) -> bool {
        len >= self.min && self.max.is_none_or(|m| len <= m)
    }
}

/// An array's index as salvaged: the array block each readable key names, and the key
/// ranges below index nodes that could not be read.
#[derive(Debug, Clone)]
pub struct ArrayIndex<V> {
    root: MetaBlock,
    value: PhantomData<V>,
    pointers: BTreeMap<u64, MetaBlock>,
    /// The keys of every array block listed at more than one key.
    shared: HashMap<MetaBlock, Vec<u64>>,
    lost: Vec<LostKeys>,
}

/// Reads the index of the array at `root` (array blocks of `V` values), an array that
/// holds at most `max_len` values: an index key beyond the blocks of that many values is
/// damage, and the keys it may have stood for are lost.
pub fn salvage_index<V: Value>(io: &dyn BlockIo, root: MetaBlock, max_len: u64) -> ArrayIndex<V> {
    let index = salvage_btree_below::<MetaBlock>(io, root, nr_array_blocks(max_len, V::SIZE));
    let pointers: BTreeMap<u64, MetaBlock> = index.entries.into_iter().collect();
    // Sorted by block, so that only the blocks listed twice are kept in a map.
    let mut by_block: Vec<(MetaBlock, u64)> = pointers.iter().map(|(&k, &p)| (p, k)).collect();
    by_block.sort_unstable();
    let mut shared: HashMap<MetaBlock, Vec<u64>> = HashMap::new();
    for pair in by_block.windows(2) {
        if pair[0].0 == pair[1].0 {
            let keys = shared.entry(pair[0].0).or_default();
            if keys.last() != Some(&pair[0].1) {
                keys.push(pair[0].1);
            }
            keys.push(pair[1].1);
        }
    }
    ArrayIndex {
        root,
        value: PhantomData,
        pointers,
        shared,
        lost: index.lost,
    }
}

impl<V: Value + Default> ArrayIndex<V> {
    fn per_block(&self) -> u64 {
        u64::from(array_max_entries(V::SIZE))
    }

    /// The length the index evidences: the last listed array block's `nr_entries` after
    /// the full blocks before it, widened by index subtrees that could not be read.
    pub fn extent(&self, io: &dyn BlockIo) -> ArrayExtent {
        let m = self.per_block();
        let mut ext = match self.pointers.last_key_value() {
            None => ArrayExtent {
                min: 0,
                max: Some(0),
                blocks: Some(0),
            },
            Some((&k, &ptr)) => {
                let nr = read_block(io, ptr).ok().and_then(|data| {
                    checksum::verify(&data, BlockKind::ArrayBlock, ptr).ok()?;
                    let h = ArrayHeader::decode(&data);
                    let ok = h.value_size == V::SIZE_U32
                        && h.max_entries == array_max_entries(V::SIZE)
                        && (1..=h.max_entries).contains(&h.nr_entries);
                    ok.then_some(u64::from(h.nr_entries))
                });
                // Keys are below the index's key limit, so these fit; saturating all
                // the same, as nothing read from disk may make them panic.
                let first = k.saturating_mul(m);
                let (lo_in_last, hi_in_last) = match nr {
                    Some(nr) => (nr, nr),
                    None => (1, m),
                };
                if self.has_unexplained_gap() {
                    // A key is damaged, perhaps the last one: the array is as long as
                    // its listed blocks at least, and as the last key says at most.
                    let listed = self.pointers.len() as u64;
                    ArrayExtent {
                        min: (listed - 1).saturating_mul(m).saturating_add(lo_in_last),
                        max: Some(first.saturating_add(hi_in_last)),
                        blocks: None,
                    }
                } else {
                    ArrayExtent {
                        min: first.saturating_add(lo_in_last),
                        max: Some(first.saturating_add(hi_in_last)),
                        blocks: Some(k.saturating_add(1)),
                    }
                }
            }
        };
        let last = self.pointers.last_key_value().map(|(&k, _)| k);
        for l in &self.lost {
            if last.is_some_and(|k| l.hi.is_some_and(|h| h <= k.saturating_add(1))) {
                continue;
            }
            // The lost subtree holds key `lo` at least, and keys below `hi`.
            if last.is_none_or(|k| l.lo > k) {
                ext.min = ext.min.max(l.lo.saturating_mul(m).saturating_add(1));
            }
            ext.blocks = None;
            ext.max = match (ext.max, l.hi) {
                (Some(a), Some(h)) => Some(a.max(h.saturating_mul(m))),
                _ => None,
            };
        }
        ext
    }

    /// Whether a key below the last listed one is neither listed nor in a lost key range:
    /// the gap of a readable index, which only a damaged key makes.
    fn has_unexplained_gap(&self) -> bool {
        let mut expected = 0u64;
        for &k in self.pointers.keys() {
            if k > expected && !self.lost_covers(expected, k) {
                return true;
            }
            expected = k.saturating_add(1);
        }
        false
    }

    /// Whether the lost key ranges together cover the keys `[lo, hi)`.
    fn lost_covers(&self, lo: u64, hi: u64) -> bool {
        let mut at = lo;
        while at < hi {
            let next = self
                .lost
                .iter()
                .filter(|l| l.lo <= at)
                .map(|l| l.hi)
                .max_by_key(|h| h.unwrap_or(u64::MAX));
            match next {
                Some(None) => return true,
                Some(Some(h)) if h > at => at = h,
                _ => return false,
            }
        }
        true
    }

    /// Reads the `len` values of the array, keeping every array block that passes the
    /// strict reader's checks for its place and recording the values of every other one
    /// (and of every block listed at two places) as lost.
    pub fn values(&self, io: &dyn BlockIo, len: u64) -> ArraySalvage<V> {
        let mut values = vec![V::default(); usize::try_from(len).unwrap_or(0)];
        let want = nr_array_blocks(len, V::SIZE);
        let lost = self.read_blocks(io, len, 0..want, &mut |first, vals| {
            let first = first as usize;
            if let Some(dst) = values.get_mut(first..first + vals.len()) {
                dst.copy_from_slice(vals);
            }
        });
        ArraySalvage { values, lost }
    }

    /// The array blocks holding values `[first, end)` of the array.
    pub fn blocks_of(&self, first: u64, end: u64) -> Range<u64> {
        let m = self.per_block();
        first / m..end.div_ceil(m)
    }

    /// Reads array blocks `blocks` of the array of `len` values, as [`ArrayIndex::values`]
    /// does, passing the values of each one that passes the checks to `f` (with the index
    /// of its first value) and returning the value ranges lost among them: memory for one
    /// array block, whatever the array's length.
    pub fn read_blocks(
        &self,
        io: &dyn BlockIo,
        len: u64,
        blocks: Range<u64>,
        f: &mut dyn FnMut(u64, &[V]),
    ) -> Vec<LostValues> {
        let (m, vs, root) = (self.per_block(), V::SIZE, self.root);
        let want = nr_array_blocks(len, vs);
        let mut lost: Vec<LostValues> = Vec::new();
        let mut push_lost = |l: LostValues| match lost.last_mut() {
            Some(prev)
                if prev.end == l.first && prev.block == l.block && prev.reason == l.reason =>
            {
                prev.end = l.end
            }
            _ => lost.push(l),
        };
        let mut buf: Vec<V> = Vec::with_capacity(m as usize);
        for i in blocks.start..blocks.end.min(want) {
            let first = i * m;
            let end = ((i + 1) * m).min(len);
            let Some(&ptr) = self.pointers.get(&i) else {
                let (block, reason) = match self
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
            let keys: Vec<u64> = self
                .shared
                .get(&ptr)
                .map(|ks| ks.iter().copied().filter(|&k| k < want).collect())
                .unwrap_or_default();
            if keys.len() > 1 {
                push_lost(LostValues {
                    first,
                    end,
                    block: ptr,
                    reason: format!(
                        "block {ptr} is listed at indices {keys:?} of the array's index (at most one can be right)"
                    ),
                });
                continue;
            }
            let nr = (end - first) as u32;
            let read = read_block(io, ptr).and_then(|data| {
                check_array_block::<V>(ptr, &data, nr as usize)?;
                Ok(data)
            });
            match read {
                Ok(data) => {
                    buf.clear();
                    // A value that does not decode keeps the default.
                    buf.extend(
                        (0..nr as usize)
                            .map(|k| V::decode(value(&data, vs, k)).unwrap_or_default()),
                    );
                    f(first, &buf);
                }
                Err(e) => push_lost(LostValues {
                    first,
                    end,
                    block: ptr,
                    reason: e.to_string(),
                }),
            }
        }
        lost
    }
}

/// Reads the array at `root` of `len` values (see
/// [`ArrayIndex::values`]).
#[cfg(test)]
pub fn salvage_array<V: Value + Default>(
    io: &dyn BlockIo,
    root: MetaBlock,
    len: u64,
) -> ArraySalvage<V> {
    salvage_index::<V>(io, root, len).values(io, len)
}

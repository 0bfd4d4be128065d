//! Salvaging reads: the strict readers' checks applied one node and one array block at a
//! time, so that a damaged block loses only what lies below it. Each walk returns what
//! it could read and, for everything it could not, the key range (or value range) lost
//! and why. Every node is visited at most once per walk and the depth is bounded, so no
//! input can make a walk loop or run away.

use super::array::{array_max_entries, check_array_block, nr_array_blocks};
use super::array_block::value;
use super::btree::{walk_tree, BtreeVisitor, Flow, NodeAt, NodeView, WalkFault, MAX_DEPTH};
use super::checksum::{self, BlockKind};
use super::{read_block, Error};
use crate::io::BlockIo;
use crate::units::{BlockBuf, MetaBlock};
use std::collections::BTreeMap;
use std::convert::Infallible;

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

/// Salvage's visitor: a fault loses the node's key range, and the walk goes on.
struct Salvage<'a, T> {
    io: &'a dyn BlockIo,
    decode: &'a dyn Fn(&[u8]) -> T,
    out: TreeSalvage<T>,
}

impl<T> Salvage<'_, T> {
    /// Loses the keys the node at `at` answers for.
    fn lose(&mut self, at: &NodeAt, reason: String) {
        self.out.lost.push(LostKeys {
            lo: at.cover_lo,
            hi: at.hi,
            block: at.block,
            reason,
        });
    }
}

impl<T> BtreeVisitor for Salvage<'_, T> {
    type Error = Infallible;
    type Block = Box<BlockBuf>;
    type Mark = ();

    fn read(&mut self, at: &NodeAt) -> Result<Option<Box<BlockBuf>>, Infallible> {
        let read = read_block(self.io, at.block).and_then(|data| {
            checksum::verify(&data, BlockKind::BtreeNode, at.block)?;
            Ok(data)
        });
        Ok(match read {
            Ok(data) => Some(data),
            Err(e) => {
                self.lose(at, e.to_string());
                None
            }
        })
    }

    fn fault(&mut self, at: &NodeAt, fault: WalkFault) -> Result<Flow, Infallible> {
        let block = at.block;
        let node_error = |reason: String| Error::invalid(block, BlockKind::BtreeNode, reason);
        let reason = match fault {
            WalkFault::TooDeep => format!("the btree is deeper than {MAX_DEPTH} levels"),
            WalkFault::Cycle { first } => format!(
                "btree node is reached twice (cycle or shared child): from {first} and from {}",
                at.from
            ),
            WalkFault::Header(f) => node_error(f.to_string()).to_string(),
            WalkFault::Keys {
                out_of_range: Some((_, k)),
                ..
            } => node_error(format!("key {k} lies outside its parent's range")).to_string(),
            WalkFault::Keys {
                out_of_order: Some(i),
                ..
            } => node_error(format!("keys out of order at entry {i}")).to_string(),
            WalkFault::NoEntries => node_error("internal node has no entries".into()).to_string(),
            WalkFault::MaxEntries { .. } | WalkFault::LeafDepth { .. } | WalkFault::Keys { .. } => {
                return Ok(Flow::Continue)
            }
        };
        self.lose(at, reason);
        Ok(Flow::Skip)
    }

    fn node(&mut self, _: &NodeAt, _: &NodeView) -> Result<(), Infallible> {
        Ok(())
    }

    fn leaf(&mut self, _: &NodeAt, node: &NodeView, (): ()) -> Result<(), Infallible> {
        for i in 0..node.nr_entries as usize {
            let v = (self.decode)(node.value(i));
            self.out.entries.push((node.key(i), v));
        }
        Ok(())
    }

    fn child(&mut self, _: &NodeAt, _: MetaBlock, (): ()) -> Result<bool, Infallible> {
        Ok(true)
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
    let mut v = Salvage {
        io,
        decode,
        out: TreeSalvage {
            entries: Vec::new(),
            lost: Vec::new(),
        },
    };
    let Ok(()) = walk_tree(root, value_size, &mut v);
    let mut out = v.out;
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
    let index = salvage_btree(io, root, 8, &|v: &[u8]| {
        crate::pdata::codec::get_block(v, 0)
    });
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

//! The transaction manager (format.md §7.7, §9): copy-on-write access to metadata blocks
//! over a [`BlockIo`], with the metadata space map kept in core and written back at
//! commit.
//!
//! Rules it enforces:
//! * a block may be changed in place only if it was allocated in this transaction and
//!   its count is 1; anything else is shadowed (copied to a new block, the original
//!   decremented);
//! * a block freed in a transaction is not reused before that transaction commits;
//! * a bitmap is copied to a new block at the first count change in it in a transaction,
//!   as the kernel's space map does (sm_ll_inc/sm_ll_dec -> shadow_bitmap), so the copy
//!   takes the block right after the allocation that caused it;
//! * commit = update the ref-count tree, copy the index to a new block, write every dirty
//!   block, flush, write the superblock, flush.
//!
//! Memory is bounded by the cache limit, not by the size of a transaction: when the
//! cache is full, the blocks allocated in this transaction that changed since they were
//! last written are sealed and written out early, and the whole cache is dropped; they
//! are read back when needed. This is crash safe because no committed superblock refers
//! to a block allocated in the open transaction; one changed again after its early write
//! is written again at commit.

use crate::btree::cow as btree_cow;
use crate::checksum::{self, BlockKind};
use crate::io::BlockIo;
use crate::space_map::{
    bitmap_position, pack_index, read_index, read_ref_counts, CoreSpaceMap, IndexEntry, SmRoot,
    ENTRIES_PER_BITMAP, MAX_METADATA_BLOCKS,
};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use crate::value::Value;
use crate::{read_block, write_block, Error, Result};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

mod commit;

/// Blocks kept in memory before the cache is emptied by default (64 MiB).
pub const DEFAULT_CACHE_BLOCKS: usize = 16_384;

/// The smallest cache limit accepted. Any limit is correct (an evicted block is read
/// back when needed); a very small one only means more reads and early writes.
pub const MIN_CACHE_BLOCKS: usize = 8;

/// A value of the ref-count tree (block number → count): plain data, no references.
type RefCount = u32;

/// Copy-on-write block access and the in-core space map of one metadata device.
pub struct TransactionManager {
    io: Arc<dyn BlockIo>,
    sm: CoreSpaceMap,
    blocks: HashMap<MetaBlock, Arc<BlockBuf>>,
    /// Blocks allocated in this transaction, with the kind they are sealed as.
    fresh: HashMap<MetaBlock, BlockKind>,
    /// Fresh blocks whose cached content has not been written since it last changed.
    dirty: HashSet<MetaBlock>,
    /// Fresh blocks freed again before their write, with their kind and last content.
    /// They are still written at the commit, as the kernel's block manager writes every
    /// dirty buffer whatever the space map says, unless allocated again meanwhile.
    freed_dirty: HashMap<MetaBlock, (BlockKind, Arc<BlockBuf>)>,
    /// Blocks kept in memory before the cache is emptied.
    cache_limit: usize,
    index_block: MetaBlock,
    bitmaps: Vec<IndexEntry>,
    ref_count_root: MetaBlock,
    /// Where the space map's own blocks were at the last commit.
    committed: (MetaBlock, Vec<IndexEntry>, MetaBlock),
    sync: bool,
    /// The index as the kernel's space-map bootstrap commits it, written instead of the
    /// packed one at the format's commit (format.md §10.1).
    bootstrap_index: Option<Box<BlockBuf>>,
}

/// Stamps `buf` as a `kind` block at `b`, seals its checksum and writes it there.
fn seal_and_write(
    io: &dyn BlockIo,
    b: MetaBlock,
    kind: BlockKind,
    buf: &mut BlockBuf,
) -> Result<()> {
    checksum::set_blocknr(buf, kind, b);
    checksum::seal(buf, kind);
    write_block(io, b, buf)
}

impl std::fmt::Debug for TransactionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionManager")
            .field("nr_blocks", &self.sm.nr_blocks())
            .field("nr_allocated", &self.sm.nr_allocated())
            .field("index_block", &self.index_block)
            .field("ref_count_root", &self.ref_count_root)
            .finish()
    }
}

impl TransactionManager {
    /// Creates a space map over the device (at most 4,161,600 blocks) the way the kernel
    /// bootstraps it: block 0 reserved for the superblock, then the index, the ref-count
    /// tree root and the bitmaps, all with count 1. Nothing is written before the first
    /// commit.
    pub fn format(io: Arc<dyn BlockIo>, sync: bool) -> Result<TransactionManager> {
        let nr_blocks = io.nr_blocks().min(MAX_METADATA_BLOCKS);
        let nb = nr_blocks.div_ceil(ENTRIES_PER_BITMAP as u64);
        if nr_blocks < 3 + nb {
            return Err(Error::NoSpace { nr_blocks });
        }
        let mut sm = CoreSpaceMap::new(vec![0; nr_blocks as usize]);
        let mut tm = TransactionManager {
            io,
            sm: CoreSpaceMap::new(Vec::new()),
            blocks: HashMap::new(),
            fresh: HashMap::new(),
            dirty: HashSet::new(),
            freed_dirty: HashMap::new(),
            cache_limit: DEFAULT_CACHE_BLOCKS,
            index_block: MetaBlock::new(1),
            bitmaps: Vec::new(),
            ref_count_root: MetaBlock::new(2),
            committed: (MetaBlock::new(0), Vec::new(), MetaBlock::new(0)),
            sync,
            bootstrap_index: None,
        };
        for b in 0..3 + nb {
            sm.set(MetaBlock::new(b), 1)?;
        }
        sm.set_cursor(MetaBlock::new(3 + nb));
        tm.sm = sm;
        tm.insert_fresh(
            MetaBlock::new(1),
            BlockKind::Index,
            Arc::new([0u8; BLOCK_SIZE]),
        )?;
        let mut leaf = [0u8; BLOCK_SIZE];
        btree_cow::init_node(&mut leaf, false, RefCount::SIZE);
        tm.insert_fresh(MetaBlock::new(2), BlockKind::BtreeNode, Arc::new(leaf))?;
        for i in 0..nb {
            let b = MetaBlock::new(3 + i);
            tm.insert_fresh(b, BlockKind::Bitmap, Arc::new([0u8; BLOCK_SIZE]))?;
            tm.bitmaps.push(IndexEntry {
                blocknr: b,
                nr_free: ENTRIES_PER_BITMAP as u32,
                none_free_before: 0,
            });
        }
        // The bootstrap's increments of blocks 0..3 + nb moved the first hint past them
        // (sm_ll_inc_bitmap, one entry at a time); 3 + nb <= 258.
        let bootstrapped = u32::try_from(3 + nb).unwrap_or(u32::MAX);
        if let Some(first) = tm.bitmaps.first_mut() {
            first.none_free_before = bootstrapped;
        }
        // dm_sm_metadata_create commits the space map with just those blocks counted, and
        // the format's own commit (write_superblock: dm_tm_commit without
        // dm_tm_pre_commit) does not write the index again: it keeps these values, while
        // the bitmap, changed in place, counts the format's blocks too.
        let mut bootstrap = tm.bitmaps.clone();
        if let Some(first) = bootstrap.first_mut() {
            first.nr_free = first.nr_free.saturating_sub(bootstrapped);
        }
        tm.bootstrap_index = Some(pack_index(MetaBlock::new(1), &bootstrap));
        Ok(tm)
    }

    /// Opens the space map recorded in `root`.
    pub fn open(io: Arc<dyn BlockIo>, root: &SmRoot, sync: bool) -> Result<TransactionManager> {
        let counts = read_ref_counts(io.as_ref(), root)?;
        let mut bitmaps = read_index(io.as_ref(), root)?;
        bitmaps.truncate(root.nr_bitmaps() as usize);
        // The hints are taken from disk and kept up to date incrementally, as the
        // kernel's sm_ll_open_metadata does: `none_free_before` may lag (a lower bound),
        // `nr_free` may be high right after a format (format.md §7.2). Both are only
        // hints; the allocator searches the counts.
        Ok(TransactionManager {
            io,
            sm: CoreSpaceMap::new(counts),
            blocks: HashMap::new(),
            fresh: HashMap::new(),
            dirty: HashSet::new(),
            freed_dirty: HashMap::new(),
            cache_limit: DEFAULT_CACHE_BLOCKS,
            index_block: root.bitmap_root,
            committed: (root.bitmap_root, bitmaps.clone(), root.ref_count_root),
            bitmaps,
            ref_count_root: root.ref_count_root,
            sync,
            bootstrap_index: None,
        })
    }

    /// Sets how many blocks (4 KiB each) the cache holds before it is emptied; at least
    /// [`MIN_CACHE_BLOCKS`].
    pub fn set_cache_limit(&mut self, blocks: usize) {
        self.cache_limit = blocks.max(MIN_CACHE_BLOCKS);
    }

    /// Blocks in memory now (for tests and measurements).
    pub fn cached_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// The device.
    pub fn io(&self) -> &Arc<dyn BlockIo> {
        &self.io
    }

    /// Number of blocks the space map manages (`total` of the status line).
    pub fn nr_blocks(&self) -> u64 {
        self.sm.nr_blocks()
    }

    /// The kernel's `used` figure: blocks allocated at the last commit, plus every
    /// allocation since (frees not subtracted; the bitmap copies are allocations).
    pub fn used(&self) -> u64 {
        self.sm.committed_nr_allocated() + self.sm.allocated_this_transaction()
    }

    /// The in-core space map.
    pub fn space_map(&self) -> &CoreSpaceMap {
        &self.sm
    }

    /// Current reference count of `b`.
    pub fn count(&self, b: MetaBlock) -> u32 {
        self.sm.count(b)
    }

    /// Reads block `b`; blocks read from the device are checked to be a `kind` block at
    /// location `b` (checksum and self-reference).
    pub fn read(&mut self, b: MetaBlock, kind: BlockKind) -> Result<Arc<BlockBuf>> {
        if let Some(buf) = self.blocks.get(&b) {
            return Ok(Arc::clone(buf));
        }
        // A fresh block written out early was sealed as the kind it was allocated as.
        let kind = self.fresh.get(&b).copied().unwrap_or(kind);
        let data = read_block(self.io.as_ref(), b)?;
        checksum::verify(&data, kind, b)?;
        self.make_room()?;
        let rc: Arc<BlockBuf> = Arc::from(data);
        self.blocks.insert(b, Arc::clone(&rc));
        Ok(rc)
    }

    /// Empties the cache if it is full: fresh blocks changed since their last write are
    /// sealed and written first (nothing committed refers to them, so no flush is
    /// needed; commit flushes before the superblock).
    fn make_room(&mut self) -> Result<()> {
        if self.blocks.len() < self.cache_limit {
            return Ok(());
        }
        self.write_dirty()?;
        self.blocks.clear();
        Ok(())
    }

    /// Seals and writes every fresh block changed since its last write, in block order.
    fn write_dirty(&mut self) -> Result<()> {
        let mut dirty: Vec<MetaBlock> = self.dirty.drain().collect();
        dirty.sort_unstable();
        for b in dirty {
            let Some(&kind) = self.fresh.get(&b) else {
                continue;
            };
            if self.sm.count(b) == 0 {
                continue;
            }
            let Some(rc) = self.blocks.get_mut(&b) else {
                return Err(Error::invalid(
                    b,
                    kind,
                    "changed block missing from the cache before its write",
                ));
            };
            seal_and_write(self.io.as_ref(), b, kind, Arc::make_mut(rc))?;
        }
        let mut freed: Vec<_> = self.freed_dirty.drain().collect();
        freed.sort_unstable_by_key(|&(b, _)| b);
        for (b, (kind, data)) in freed {
            seal_and_write(self.io.as_ref(), b, kind, &mut { *data })?;
        }
        Ok(())
    }

    /// Caches `data` as the new content of fresh block `b`, to be sealed as `kind`.
    fn insert_fresh(&mut self, b: MetaBlock, kind: BlockKind, data: Arc<BlockBuf>) -> Result<()> {
        self.make_room()?;
        self.freed_dirty.remove(&b);
        self.fresh.insert(b, kind);
        self.dirty.insert(b);
        self.blocks.insert(b, data);
        Ok(())
    }

    /// Allocates a zeroed block that will be sealed as `kind`.
    pub fn new_block(&mut self, kind: BlockKind) -> Result<MetaBlock> {
        let b = self.sm.alloc()?;
        self.hint(b, 0, 1);
        self.insert_fresh(b, kind, Arc::new([0u8; BLOCK_SIZE]))?;
        self.copy_bitmap_of(b)?;
        Ok(b)
    }

    /// Makes `b` writable: itself if it was allocated in this transaction and is not
    /// shared, else a copy in a new block (the original loses one reference). Returns
    /// the writable block and whether the original was shared (count > 1), in which case
    /// the caller must add a reference to everything the copy points to.
    pub fn shadow(&mut self, b: MetaBlock, kind: BlockKind) -> Result<(MetaBlock, bool)> {
        let count = self.sm.count(b);
        if self.fresh.contains_key(&b) && count == 1 {
            return Ok((b, false));
        }
        let data = self.read(b, kind)?;
        let n = self.sm.alloc()?;
        self.hint(n, 0, 1);
        self.insert_fresh(n, kind, Arc::new(*data))?;
        self.copy_bitmap_of(n)?;
        self.dec(b)?;
        Ok((n, count > 1))
    }

    /// Mutable access to a block allocated in this transaction.
    pub fn get_mut(&mut self, b: MetaBlock) -> Result<&mut BlockBuf> {
        let Some(&kind) = self.fresh.get(&b) else {
            return Err(Error::invalid(
                b,
                BlockKind::BtreeNode,
                "write to a block that was not shadowed in this transaction",
            ));
        };
        if !self.blocks.contains_key(&b) {
            // Written out early and dropped from the cache: read it back.
            self.read(b, kind)?;
        }
        self.dirty.insert(b);
        match self.blocks.get_mut(&b) {
            Some(rc) => Ok(Arc::make_mut(rc)),
            None => Err(Error::invalid(
                b,
                BlockKind::BtreeNode,
                "shadowed block missing from the cache",
            )),
        }
    }

    /// Adds a reference to `b`.
    pub fn inc(&mut self, b: MetaBlock) -> Result<u32> {
        self.copy_bitmap_of(b)?;
        let old = self.sm.count(b);
        let new = self.sm.inc(b)?;
        self.hint(b, old, new);
        Ok(new)
    }

    /// Drops a reference to `b`; returns the new count (0 = freed).
    pub fn dec(&mut self, b: MetaBlock) -> Result<u32> {
        self.copy_bitmap_of(b)?;
        let c = self.sm.dec(b)?;
        self.hint(b, c.saturating_add(1), c);
        if c == 0 {
            if let Some(kind) = self.fresh.remove(&b) {
                let data = self.blocks.remove(&b);
                if let (true, Some(data)) = (self.dirty.remove(&b), data) {
                    self.freed_dirty.insert(b, (kind, data));
                }
            }
        }
        Ok(c)
    }

    /// Updates the index hint `none_free_before` for a count change of `b` from `old` to
    /// `new`, as the kernel does at each change (sm_ll_inc_bitmap / sm_ll_dec_bitmap,
    /// dm-space-map-common.c): taking the entry it names moves it up by one, freeing an
    /// entry lowers it to that entry. It is therefore a lower bound that can lag behind
    /// the first free entry (format.md §7.2), as in the kernel's images.
    fn hint(&mut self, b: MetaBlock, old: u32, new: u32) {
        let Some((i, e)) = bitmap_position(b) else {
            return;
        };
        // An entry's position is below ENTRIES_PER_BITMAP, which fits a u32.
        let e = e as u32;
        if let Some(entry) = self.bitmaps.get_mut(i) {
            if old == 0 && new != 0 && entry.none_free_before == e {
                entry.none_free_before = e + 1;
            } else if old != 0 && new == 0 {
                entry.none_free_before = entry.none_free_before.min(e);
            }
        }
    }

    /// Copies the bitmap holding `b`'s count to a new block unless that was done in this
    /// transaction, as the kernel does at every count change (sm_ll_inc / sm_ll_dec ->
    /// shadow_bitmap -> dm_tm_shadow_block, dm-space-map-common.c): the copy is
    /// allocated (its own count changing in turn), then the original loses its reference.
    /// (For a new block the kernel's order is the same: `b` is found, its count raised,
    /// which copies the bitmap into the next free block.)
    fn copy_bitmap_of(&mut self, b: MetaBlock) -> Result<()> {
        let Some((i, _)) = bitmap_position(b) else {
            return Ok(());
        };
        let Some(old) = self.bitmaps.get(i).map(|e| e.blocknr) else {
            return Ok(());
        };
        if self.fresh.contains_key(&old) {
            return Ok(());
        }
        let data = self.read(old, BlockKind::Bitmap)?;
        let n = self.sm.alloc()?;
        self.hint(n, 0, 1);
        self.insert_fresh(n, BlockKind::Bitmap, Arc::new(*data))?;
        self.bitmaps[i].blocknr = n;
        self.copy_bitmap_of(n)?;
        self.dec(old)?;
        Ok(())
    }

    /// Writes a whole block of `kind` at a freshly allocated location.
    pub fn write_new(&mut self, kind: BlockKind, data: &BlockBuf) -> Result<MetaBlock> {
        let b = self.new_block(kind)?;
        *self.get_mut(b)? = *data;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemIo;

    #[test]
    fn allocation_fails_cleanly_when_full() {
        let io = Arc::new(MemIo::new(8));
        let mut tm = TransactionManager::format(io, true).unwrap();
        for _ in 0..4 {
            tm.new_block(BlockKind::BtreeNode).unwrap();
        }
        assert!(matches!(
            tm.new_block(BlockKind::BtreeNode),
            Err(Error::NoSpace { nr_blocks: 8 })
        ));
    }
}

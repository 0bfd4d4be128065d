//! Commit and abort: the ref-count tree, the bitmap and index copies, the ordered
//! writes and flushes around the superblock (format.md §7.7, §9).

use super::{RefCount, TransactionManager};
use crate::btree::cow as btree_cow;
use crate::checksum::BlockKind;
use crate::space_map::{bitmap_position, pack_index, set_bitmap_entry, SmRoot};
use crate::units::{BlockBuf, MetaBlock};
use crate::{write_block, Error, Result};

impl TransactionManager {
    fn sync_ref_count_tree(&mut self) -> Result<()> {
        for (b, old, new) in self.sm.changes() {
            if new >= 3 && new != old {
                let count: RefCount = new;
                self.ref_count_root =
                    btree_cow::insert(self, self.ref_count_root, b.get(), &count)?;
            } else if old >= 3 && new < 3 {
                if let Some(r) = btree_cow::remove::<RefCount>(self, self.ref_count_root, b.get())?
                {
                    self.ref_count_root = r;
                }
            }
        }
        Ok(())
    }

    /// Copies the index if a count changed in this transaction (the bitmaps were copied
    /// at their first change), as the kernel's metadata_ll_commit shadows it.
    fn relocate_space_map(&mut self) -> Result<()> {
        if !self.sm.touched_bitmaps().is_empty() && !self.fresh.contains_key(&self.index_block) {
            let n = self.new_block(BlockKind::Index)?;
            let old = self.index_block;
            self.dec(old)?;
            self.index_block = n;
        }
        Ok(())
    }

    /// Brings the (already copied) bitmaps and the index up to date: only the entries
    /// changed in this transaction are rewritten, and `nr_free` is adjusted
    /// (`none_free_before` was, at each change). A `nr_free` read from a damaged index
    /// that would overflow is an error naming that index, not a wrap.
    fn pack_space_map(&mut self) -> Result<()> {
        let committed_index = self.committed.0;
        for (b, old, new) in self.sm.changes() {
            let Some((i, e)) = bitmap_position(b) else {
                continue;
            };
            let Some(entry) = self.bitmaps.get_mut(i) else {
                continue;
            };
            if old == 0 && new != 0 {
                entry.nr_free = entry.nr_free.saturating_sub(1);
            } else if old != 0 && new == 0 {
                let nr_free = entry.nr_free;
                entry.nr_free = nr_free.checked_add(1).ok_or_else(|| {
                    Error::invalid(
                        committed_index,
                        BlockKind::Index,
                        format!("entry {i}: nr_free {nr_free} overflows when block {b} is freed"),
                    )
                })?;
            }
            let loc = entry.blocknr;
            set_bitmap_entry(self.get_mut(loc)?, e, new.min(3) as u8);
        }
        if let Some(bootstrap) = self.bootstrap_index.take() {
            let loc = self.index_block;
            *self.get_mut(loc)? = *bootstrap;
        } else if self.fresh.contains_key(&self.index_block) {
            let packed = pack_index(self.index_block, &self.bitmaps);
            let loc = self.index_block;
            *self.get_mut(loc)? = *packed;
        }
        Ok(())
    }

    /// The space-map root as it stands (valid after [`prepare_commit`](Self::prepare_commit)).
    pub fn sm_root(&self) -> SmRoot {
        SmRoot {
            nr_blocks: self.sm.nr_blocks(),
            nr_allocated: self.sm.nr_allocated(),
            bitmap_root: self.index_block,
            ref_count_root: self.ref_count_root,
        }
    }

    /// Finishes the space map for this transaction (ref-count tree, bitmap and index
    /// copies) and returns its root. No reference count may change afterwards until
    /// [`commit`](Self::commit).
    pub fn prepare_commit(&mut self) -> Result<SmRoot> {
        self.sync_ref_count_tree()?;
        self.relocate_space_map()?;
        self.pack_space_map()?;
        Ok(self.sm_root())
    }

    /// Writes every block of the transaction, flushes, writes `superblock` at block 0
    /// and flushes again. Call [`prepare_commit`](Self::prepare_commit) first.
    pub fn commit(&mut self, superblock: &BlockBuf) -> Result<()> {
        // Fresh blocks not dirty were written (sealed) since their last change.
        self.write_dirty()?;
        self.flush()?;
        write_block(self.io.as_ref(), MetaBlock::new(0), superblock)?;
        self.flush()?;
        self.fresh.clear();
        self.sm.end_transaction();
        self.committed = (self.index_block, self.bitmaps.clone(), self.ref_count_root);
        if self.blocks.len() >= self.cache_limit {
            self.blocks.clear();
        }
        Ok(())
    }

    /// Drops every change since the last commit: counts, new blocks and the space
    /// map's own block locations go back to their committed state. (Not for a
    /// transaction that never committed, such as a format's.)
    pub fn abort(&mut self) {
        self.sm.abort_transaction();
        for b in self.fresh.keys() {
            self.blocks.remove(b);
        }
        self.fresh.clear();
        self.dirty.clear();
        self.freed_dirty.clear();
        let (index, bitmaps, ref_root) = self.committed.clone();
        self.index_block = index;
        self.bitmaps = bitmaps;
        self.ref_count_root = ref_root;
    }

    fn flush(&self) -> Result<()> {
        if self.sync {
            self.io.flush().map_err(|source| Error::Io {
                block: MetaBlock::new(0),
                source,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemIo;
    use crate::space_map::{read_index, read_ref_counts};
    use crate::units::BLOCK_SIZE;
    use std::sync::Arc;

    #[test]
    fn format_then_commit_writes_an_exact_space_map() {
        let io = Arc::new(MemIo::new(40_000));
        let mut tm = TransactionManager::format(io.clone(), true).unwrap();
        assert_eq!(tm.nr_blocks(), 40_000);
        let a = btree_cow::empty::<u64>(&mut tm).unwrap();
        assert_eq!(
            a,
            MetaBlock::new(6),
            "three bitmaps at 3..=5, then the first allocation"
        );
        let root = tm.prepare_commit().unwrap();
        tm.commit(&[0u8; BLOCK_SIZE]).unwrap();
        assert_eq!(root.nr_allocated, 7);
        assert_eq!(tm.used(), 7);
        let counts = read_ref_counts(io.as_ref(), &root).unwrap();
        assert_eq!(&counts[..8], &[1, 1, 1, 1, 1, 1, 1, 0]);
        // A change in the next transaction copies the bitmap and the index.
        let (s, shared) = tm.shadow(a, BlockKind::BtreeNode).unwrap();
        assert!(!shared);
        assert_ne!(s, a);
        assert_eq!(tm.used(), 7 + 1 + 1);
        let root2 = tm.prepare_commit().unwrap();
        tm.commit(&[0u8; BLOCK_SIZE]).unwrap();
        assert_ne!(root2.bitmap_root, root.bitmap_root);
        assert_eq!(root2.nr_allocated, 7);
        let counts = read_ref_counts(io.as_ref(), &root2).unwrap();
        assert_eq!(counts[a.index().unwrap()], 0);
        assert_eq!(counts[s.index().unwrap()], 1);
        // Reopen from disk.
        let tm2 = TransactionManager::open(io.clone(), &root2, true).unwrap();
        assert_eq!(tm2.count(s), 1);
        assert_eq!(tm2.used(), 7);
    }

    #[test]
    fn a_damaged_nr_free_that_would_overflow_is_an_error_naming_the_index() {
        let io = Arc::new(MemIo::new(100));
        let mut tm = TransactionManager::format(io.clone(), true).unwrap();
        let a = tm.new_block(BlockKind::BtreeNode).unwrap();
        let root = tm.prepare_commit().unwrap();
        tm.commit(&[0u8; BLOCK_SIZE]).unwrap();
        // The hints are read from disk on open (as the kernel does): damage nr_free.
        let mut entries = read_index(io.as_ref(), &root).unwrap();
        entries[0].nr_free = u32::MAX;
        write_block(
            io.as_ref(),
            root.bitmap_root,
            &pack_index(root.bitmap_root, &entries),
        )
        .unwrap();
        let mut tm = TransactionManager::open(io.clone(), &root, true).unwrap();
        assert_eq!(tm.dec(a).unwrap(), 0);
        match tm.prepare_commit() {
            Err(Error::Invalid {
                block,
                kind,
                reason,
            }) => {
                assert_eq!((block, kind), (root.bitmap_root, BlockKind::Index));
                assert!(reason.contains("nr_free 4294967295 overflows"), "{reason}");
            }
            other => panic!("expected an error naming the index, got {other:?}"),
        }
    }
}

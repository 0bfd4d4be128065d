//! The era metadata as the running target changes it (target.md §3, §5, §6, §8, §11):
//! format/open, commit, resize, archive, new era, marks, digest primitives and the
//! metadata snapshot, all copy-on-write through the transaction manager.

use super::{Error, Result};
use crate::io::BlockIo;
use crate::pdata::array::cow as array_cow;
use crate::pdata::bitset::cow as bitset_cow;
use crate::pdata::btree::cow as btree_cow;
use crate::pdata::checksum::BlockKind;
use crate::pdata::transaction::TransactionManager;
use crate::pdata::{narrow, read_block};
use crate::superblock::{Superblock, WritesetRoot, SUPERBLOCK_LOCATION};
use crate::units::{BlockBuf, MetaBlock};
use crate::units::{DataBlock, Era};
use std::sync::Arc;

/// In-core copy of the metadata fields and the open transaction.
#[derive(Debug)]
pub struct LiveMetadata {
    tm: TransactionManager,
    /// Origin block size in sectors.
    pub data_block_size: u32,
    /// Origin size in blocks: the length of the era array.
    pub nr_blocks: u32,
    /// The era writes are being recorded in.
    pub current_era: Era,
    /// Length and bitset root of the current era's writeset; root 0 when there is none
    /// on disk yet.
    pub current_writeset: WritesetRoot,
    /// Root of the btree of archived writesets, keyed by era.
    pub writeset_tree_root: MetaBlock,
    /// Root of the era array: one era per origin block.
    pub era_array_root: MetaBlock,
    /// Block of the held metadata snapshot's superblock copy; 0 when none is held.
    pub metadata_snap: MetaBlock,
    /// The superblock of the last commit.
    last_superblock: Box<BlockBuf>,
}

impl LiveMetadata {
    /// Formats the device if block 0 is all zeros, else opens it (target.md §3).
    /// Returns the metadata and whether it was formatted.
    pub fn open_or_format(
        io: Arc<dyn BlockIo>,
        data_block_size: u32,
        sync: bool,
    ) -> Result<(LiveMetadata, bool)> {
        let b0 = read_block(io.as_ref(), SUPERBLOCK_LOCATION)?;
        if b0.iter().all(|&b| b == 0) {
            Ok((Self::format(io, data_block_size, sync)?, true))
        } else {
            Ok((Self::open(io, &b0, data_block_size, sync)?, false))
        }
    }

    fn format(io: Arc<dyn BlockIo>, data_block_size: u32, sync: bool) -> Result<LiveMetadata> {
        let mut tm = TransactionManager::format(io, sync)?;
        let writeset_tree_root = btree_cow::empty::<WritesetRoot>(&mut tm)?;
        let era_array_root = array_cow::empty(&mut tm)?;
        let mut md = LiveMetadata {
            tm,
            data_block_size,
            nr_blocks: 0,
            current_era: Era::new(0),
            current_writeset: WritesetRoot::default(),
            writeset_tree_root,
            era_array_root,
            metadata_snap: MetaBlock::new(0),
            last_superblock: Box::new([0; crate::units::BLOCK_SIZE]),
        };
        md.commit()?;
        Ok(md)
    }

    fn open(
        io: Arc<dyn BlockIo>,
        b0: &BlockBuf,
        data_block_size: u32,
        sync: bool,
    ) -> Result<LiveMetadata> {
        let sb = Superblock::unpack(b0, SUPERBLOCK_LOCATION)?;
        if sb.data_block_size != data_block_size {
            return Err(Error::BadTable(format!(
                "changing the data block size (from {} to {data_block_size}) is not supported",
                sb.data_block_size
            )));
        }
        let tm = TransactionManager::open(io, &sb.sm_root, sync)?;
        Ok(LiveMetadata {
            tm,
            data_block_size,
            nr_blocks: sb.nr_blocks,
            current_era: sb.current_era,
            current_writeset: sb.current_writeset,
            writeset_tree_root: sb.writeset_tree_root,
            era_array_root: sb.era_array_root,
            metadata_snap: sb.metadata_snap,
            last_superblock: Box::new(*b0),
        })
    }

    /// Sets how many 4 KiB metadata blocks the cache holds (see
    /// [`TransactionManager::set_cache_limit`]).
    pub fn set_cache_limit(&mut self, blocks: usize) {
        self.tm.set_cache_limit(blocks);
    }

    /// The `used` figure of the INFO status (target.md §9.4).
    pub fn used(&self) -> u64 {
        self.tm.used()
    }

    /// Blocks managed by the space map (`total` of the INFO status).
    pub fn total(&self) -> u64 {
        self.tm.nr_blocks()
    }

    /// Commits the transaction (target.md §5): space map first, then its root into the
    /// superblock, blocks, flush, superblock, flush.
    pub fn commit(&mut self) -> Result<()> {
        let sm_root = self.tm.prepare_commit()?;
        let mut sb = Superblock::new(self.data_block_size);
        sb.sm_root = sm_root;
        sb.nr_blocks = self.nr_blocks;
        sb.current_era = self.current_era;
        sb.current_writeset = self.current_writeset;
        sb.writeset_tree_root = self.writeset_tree_root;
        sb.era_array_root = self.era_array_root;
        sb.metadata_snap = self.metadata_snap;
        let packed = sb.pack();
        self.tm.commit(&packed)?;
        self.last_superblock = packed;
        Ok(())
    }

    /// Drops every change since the last commit (after a failed operation), so that
    /// nothing half done can reach the disk.
    pub fn abort(&mut self) {
        self.tm.abort();
        let sb = Superblock::decode(&self.last_superblock);
        self.nr_blocks = sb.nr_blocks;
        self.current_era = sb.current_era;
        self.current_writeset = sb.current_writeset;
        self.writeset_tree_root = sb.writeset_tree_root;
        self.era_array_root = sb.era_array_root;
        self.metadata_snap = sb.metadata_snap;
    }

    /// Resizes the era array to `new_nr_blocks` entries (new ones 0).
    pub fn resize(&mut self, new_nr_blocks: u32) -> Result<()> {
        self.era_array_root = array_cow::resize(
            &mut self.tm,
            self.era_array_root,
            u64::from(self.nr_blocks),
            u64::from(new_nr_blocks),
            0u32,
        )?;
        self.nr_blocks = new_nr_blocks;
        Ok(())
    }

    /// Moves the current writeset into the tree under `current_era` (target.md §6.2).
    /// Does nothing when there is no current writeset.
    pub fn archive(&mut self) -> Result<bool> {
        if self.current_writeset.root.is_zero() {
            return Ok(false);
        }
        self.writeset_tree_root = btree_cow::insert(
            &mut self.tm,
            self.writeset_tree_root,
            u64::from(self.current_era.get()),
            &self.current_writeset,
        )?;
        self.current_writeset.root = MetaBlock::new(0);
        Ok(true)
    }

    /// Starts a new era with an empty writeset of `nr_blocks` bits (target.md §6.3).
    pub fn new_era(&mut self) -> Result<()> {
        let root = bitset_cow::create(&mut self.tm, self.nr_blocks as u64)?;
        self.current_writeset = WritesetRoot {
            nr_bits: self.nr_blocks,
            root,
        };
        self.current_era = self.current_era.next();
        Ok(())
    }

    /// Sets bit `block` of the on-disk current writeset; false if it was already set.
    pub fn mark(&mut self, block: DataBlock) -> Result<bool> {
        let cw = self.current_writeset;
        if cw.root.is_zero() || block.get() >= cw.nr_bits {
            return Err(Error::BadMessage(format!(
                "no current writeset covers block {block}"
            )));
        }
        let (root, changed) = bitset_cow::set_bit(&mut self.tm, cw.root, u64::from(block.get()))?;
        self.current_writeset.root = root;
        Ok(changed)
    }

    /// The archived writeset with the lowest era. A key that is no era (32 bits) is
    /// damage, named by its leaf.
    pub fn lowest_writeset(&mut self) -> Result<Option<(u32, WritesetRoot)>> {
        let Some((leaf, (k, v))) =
            btree_cow::first::<WritesetRoot>(&mut self.tm, self.writeset_tree_root)?
        else {
            return Ok(None);
        };
        let era = narrow(k, leaf, BlockKind::BtreeNode, "writeset tree key (era)")?;
        Ok(Some((era, v)))
    }

    /// The words of a bitset.
    pub fn read_bitset(&mut self, ws: &WritesetRoot) -> Result<Vec<u64>> {
        Ok(bitset_cow::read(&mut self.tm, ws.root, ws.nr_bits as u64)?)
    }

    /// `era_array[block] = era`.
    pub fn set_era(&mut self, block: DataBlock, era: u32) -> Result<()> {
        self.era_array_root = array_cow::set(
            &mut self.tm,
            self.era_array_root,
            u64::from(block.get()),
            era,
        )?;
        Ok(())
    }

    /// Removes the writeset of `era` from the tree, releasing its bitset. An era the
    /// removal cannot find (a damaged tree) is an error, as the kernel's removal fails.
    pub fn remove_writeset(&mut self, era: u32) -> Result<()> {
        let root = self.writeset_tree_root;
        match btree_cow::remove::<WritesetRoot>(&mut self.tm, root, u64::from(era))? {
            Some(r) => {
                self.writeset_tree_root = r;
                Ok(())
            }
            None => Err(crate::pdata::Error::invalid(
                root,
                BlockKind::BtreeNode,
                format!("the writeset tree's lookup does not find era {era}, its lowest key"),
            )
            .into()),
        }
    }

    /// Takes the metadata snapshot after a commit (target.md §11.2 steps 3–5), in the
    /// kernel's order (metadata_take_snap): a reference to block 0 first, then its copy
    /// (which drops that reference again), then the two roots. The first count change of
    /// the transaction is thus block 0's, as in the kernel, where it is what makes the
    /// space map copy its bitmap before the copy of the superblock is placed
    /// (docs/placement.md).
    pub fn take_snapshot(&mut self) -> Result<()> {
        self.tm.inc(SUPERBLOCK_LOCATION)?;
        let c = self
            .tm
            .write_new(BlockKind::Superblock, &self.last_superblock)?;
        self.tm.dec(SUPERBLOCK_LOCATION)?;
        self.tm.inc(self.writeset_tree_root)?;
        self.tm.inc(self.era_array_root)?;
        self.metadata_snap = c;
        Ok(())
    }

    /// Drops the held snapshot (target.md §11.3 steps 2–4).
    pub fn drop_snapshot(&mut self) -> Result<()> {
        let c = self.metadata_snap;
        let data = self.tm.read(c, BlockKind::Superblock)?;
        let snap = Superblock::unpack(&data, c)?;
        self.metadata_snap = MetaBlock::new(0);
        btree_cow::release::<WritesetRoot>(&mut self.tm, snap.writeset_tree_root)?;
        btree_cow::release::<MetaBlock>(&mut self.tm, snap.era_array_root)?;
        self.tm.dec(c)?;
        Ok(())
    }
}

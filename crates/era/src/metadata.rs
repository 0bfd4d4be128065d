//! Opening a consistent view of era metadata from a device: the live superblock, or the
//! held metadata snapshot, and reading everything it references into the IR.

use super::ir::{EraMetadata, SuperblockIr, Writeset};
use super::superblock::{Superblock, WritesetRoot, SUPERBLOCK_LOCATION};
use super::writeset::{read_writeset_tree, WritesetSource};
use super::{Error, Result};
use crate::io::BlockIo;
use crate::pdata::array::read_array;
use crate::pdata::bitset::read_bitset;
use crate::pdata::read_block;
use crate::units::MetaBlock;
use rayon::prelude::*;

/// Which superblock a view is read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The live superblock at block 0.
    Live,
    /// The metadata snapshot's copy of the superblock (`metadata_snap`): its writeset
    /// tree and era array only.
    Snapshot,
}

/// The structures one view refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The live superblock (block 0).
    pub live: Superblock,
    /// The superblock the view is read through: the live one or the snapshot copy.
    pub sb: Superblock,
    /// The current writeset, when the view has one (never for a snapshot, whose copy's
    /// current writeset is not held).
    pub current_writeset: Option<WritesetRoot>,
}

/// Reads and validates the live superblock.
pub fn read_superblock(io: &dyn BlockIo) -> Result<Superblock> {
    let data = read_block(io, SUPERBLOCK_LOCATION)?;
    Superblock::unpack(&data, SUPERBLOCK_LOCATION)
}

/// Reads and validates the snapshot copy at `location`.
pub fn read_snapshot_superblock(io: &dyn BlockIo, location: MetaBlock) -> Result<Superblock> {
    let data = read_block(io, location)?;
    Superblock::unpack(&data, location)
}

/// Opens the view of `source`.
pub fn open_view(io: &dyn BlockIo, source: Source) -> Result<View> {
    let live = read_superblock(io)?;
    match source {
        Source::Live => {
            let cw = live.current_writeset;
            Ok(View {
                sb: live.clone(),
                live,
                current_writeset: (!cw.root.is_zero()).then_some(cw),
            })
        }
        Source::Snapshot => {
            if live.metadata_snap.is_zero() {
                return Err(Error::NoSnapshot);
            }
            let sb = read_snapshot_superblock(io, live.metadata_snap)?;
            Ok(View {
                live,
                sb,
                current_writeset: None,
            })
        }
    }
}

/// The writesets of a view in dump order: the tree's eras ascending, then the live
/// current writeset as `current_era`.
pub fn writeset_sources(io: &dyn BlockIo, view: &View) -> Result<Vec<WritesetSource>> {
    let mut list = read_writeset_tree(io, view.sb.writeset_tree_root)?;
    if let Some(cw) = view.current_writeset {
        list.push(WritesetSource {
            era: view.sb.current_era,
            root: cw,
            live: true,
        });
    }
    Ok(list)
}

/// Reads everything a view refers to. Writesets are decoded in parallel.
pub fn read_metadata(io: &dyn BlockIo, view: &View) -> Result<EraMetadata> {
    let sources = writeset_sources(io, view)?;
    let (writesets, era_array) = rayon::join(
        || -> Result<Vec<Writeset>> {
            sources
                .par_iter()
                .map(|s| {
                    Ok(Writeset {
                        era: s.era,
                        nr_bits: s.root.nr_bits,
                        bits: read_bitset(io, s.root.root, s.root.nr_bits as u64)?,
                    })
                })
                .collect()
        },
        || read_era_array(io, view.sb.era_array_root, view.sb.nr_blocks),
    );
    Ok(EraMetadata {
        superblock: superblock_ir(&view.sb),
        writesets: writesets?,
        era_array: era_array?,
    })
}

/// Reads the era array of `nr_blocks` entries.
pub fn read_era_array(io: &dyn BlockIo, root: MetaBlock, nr_blocks: u32) -> Result<Vec<u32>> {
    Ok(read_array::<u32>(io, root, u64::from(nr_blocks))?)
}

/// The superblock fields the XML carries.
pub fn superblock_ir(sb: &Superblock) -> SuperblockIr {
    SuperblockIr {
        uuid: String::new(),
        block_size: sb.data_block_size,
        nr_blocks: sb.nr_blocks,
        current_era: sb.current_era,
    }
}

//! Writing era metadata to a device: a complete image the kernel accepts
//! (format.md §10.3, §10.4).
//!
//! Layout, allocated sequentially from block 1: for each writeset in ascending era, its
//! bitset's array blocks then its index btree; the writeset tree; the era array's blocks
//! then its index btree; the space-map bitmaps, the ref-count tree and the index block.
//! Every writeset is archived in the writeset tree (key = era) and the superblock's
//! current writeset is `{nr_bits: nr_blocks, root: 0}`, as `era_restore` writes it.
//!
//! Protocol: block 0 is overwritten with the mark of an interrupted restore
//! (`era::interrupted`) and flushed first (so a crash leaves a device that every tool
//! and the kernel refuse: never an old superblock that points at overwritten blocks, nor
//! one that looks unformatted); every other block is written, a flush, then the
//! superblock, then a flush. The same input always gives the same bytes.
//!
//! [`StreamWriter`] writes this layout as visitor calls arrive (`era_restore` streams
//! its XML through it); [`write_metadata`] validates a whole [`EraMetadata`] and the
//! size first, then hands it to one.

mod era_array;
mod held;
mod stream;
mod writesets;

pub use stream::{StreamError, StreamWriter};

use super::ir::{EraMetadata, Visitor, Writeset, WritesetIr};
use super::ir_builder::BuildError;
use super::superblock::{Superblock, WRITESET_ROOT_SIZE};
use super::writeset::writeset_eras_fault;
use super::{Error, Result};
use crate::io::BlockIo;
use crate::pdata::array::nr_array_blocks;
use crate::pdata::bitset::nr_words;
use crate::pdata::btree::btree_nr_nodes;
use crate::pdata::space_map::{managed_blocks, space_map_size, MAX_METADATA_BLOCKS};
use crate::units::{origin_blocks_ok, DataBlock, BLOCK_SECTORS, BLOCK_SIZE, ORIGIN_BLOCKS_LIMIT};
use std::collections::HashSet;

/// What [`write_metadata`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteSummary {
    /// The superblock as written at block 0.
    pub superblock: Superblock,
    /// Metadata blocks in use (the space map's `nr_allocated`).
    pub blocks_used: u64,
    /// Metadata blocks the space map manages.
    pub blocks_managed: u64,
}

/// Checks an origin geometry the kernel accepts: a block size that is a positive
/// multiple of 8 sectors and fewer than 2^31 blocks.
pub fn check_geometry(block_size: u32, nr_blocks: u32) -> Result<()> {
    let bad = |reason: String| Err(Error::InvalidInput { reason });
    if block_size == 0 || !block_size.is_multiple_of(BLOCK_SECTORS) {
        return bad(format!(
            "block size {block_size} sectors is not a positive multiple of {BLOCK_SECTORS}"
        ));
    }
    if !origin_blocks_ok(nr_blocks) {
        return bad(format!(
            "nr_blocks {nr_blocks} is not below the kernel's limit of 2^31 ({ORIGIN_BLOCKS_LIMIT}) origin blocks"
        ));
    }
    Ok(())
}

/// Checks that `md` can be written as it is: a valid block size, `nr_blocks` and every
/// writeset's `nr_bits` below 2^31, `nr_blocks` equal to the era array's length, eras
/// no later than the current era, unique and contiguous writeset eras, and each
/// writeset's words matching its `nr_bits`. Bits at or beyond a writeset's `nr_bits`
/// are not an error: they are written as zero.
pub fn validate(md: &EraMetadata) -> Result<()> {
    let bad = |reason: String| Err(Error::InvalidInput { reason });
    let sb = &md.superblock;
    check_geometry(sb.block_size, sb.nr_blocks)?;
    if md.era_array.len() as u64 != sb.nr_blocks as u64 {
        return bad(format!(
            "the era array has {} entries, nr_blocks is {}",
            md.era_array.len(),
            sb.nr_blocks
        ));
    }
    if let Some((b, e)) = md
        .era_array
        .iter()
        .enumerate()
        .find(|(_, &e)| e > sb.current_era.get())
    {
        return bad(format!(
            "block {b} has era {e}, later than the current era {}",
            sb.current_era
        ));
    }
    let mut eras = HashSet::new();
    for ws in &md.writesets {
        if !eras.insert(ws.era) {
            return bad(format!("writeset era {} appears twice", ws.era));
        }
        if ws.era > sb.current_era {
            return bad(format!(
                "writeset era {} is later than the current era {}",
                ws.era, sb.current_era
            ));
        }
        if !origin_blocks_ok(ws.nr_bits) {
            return bad(format!(
                "writeset of era {}: nr_bits {} is not below the kernel's limit of 2^31 ({ORIGIN_BLOCKS_LIMIT})",
                ws.era, ws.nr_bits
            ));
        }
        if ws.bits.len() as u64 != nr_words(ws.nr_bits as u64) {
            return bad(format!(
                "writeset of era {} has {} words of bits, {} bits need {}",
                ws.era,
                ws.bits.len(),
                ws.nr_bits,
                nr_words(ws.nr_bits as u64)
            ));
        }
    }
    let mut sorted: Vec<u64> = md
        .writesets
        .iter()
        .map(|ws| u64::from(ws.era.get()))
        .collect();
    sorted.sort_unstable();
    if let Some(fault) = writeset_eras_fault(&sorted) {
        return bad(format!("{fault}, which era_check reports"));
    }
    Ok(())
}

/// Blocks of a dm-array of `len` values of `value_size` bytes, its index btree included.
fn array_blocks(len: u64, value_size: usize) -> u64 {
    let n = nr_array_blocks(len, value_size);
    n + btree_nr_nodes(n, 8)
}

/// Blocks of the era array of `nr_blocks` origin blocks.
pub fn era_array_blocks(nr_blocks: u32) -> u64 {
    array_blocks(u64::from(nr_blocks), 4)
}

/// Blocks of the bitset of a writeset of `nr_bits` bits.
pub fn bitset_blocks(nr_bits: u32) -> u64 {
    array_blocks(nr_words(u64::from(nr_bits)), 8)
}

/// Blocks of the writeset tree holding `nr_writesets` writesets.
pub fn writeset_tree_blocks(nr_writesets: u64) -> u64 {
    btree_nr_nodes(nr_writesets, WRITESET_ROOT_SIZE)
}

/// Blocks of everything but the space map: the superblock, the bitsets, the writeset
/// tree and the era array.
fn structure_blocks(md: &EraMetadata) -> u64 {
    structure_blocks_for(
        md.superblock.nr_blocks,
        md.writesets.iter().map(|ws| ws.nr_bits),
    )
}

/// Blocks of everything but the space map (the superblock, the bitsets, the writeset
/// tree and the era array) of metadata of `nr_blocks` origin blocks with writesets of
/// `writeset_bits` bits each.
pub fn structure_blocks_for(nr_blocks: u32, writeset_bits: impl Iterator<Item = u32>) -> u64 {
    let (mut bitsets, mut n) = (0, 0u64);
    for nr_bits in writeset_bits {
        bitsets += bitset_blocks(nr_bits);
        n += 1;
    }
    1 + bitsets + writeset_tree_blocks(n) + era_array_blocks(nr_blocks)
}

/// Whether `structure` blocks (everything but the space map) fit on a device of
/// `device_blocks` blocks, space map included.
pub fn fits(structure: u64, device_blocks: u64) -> bool {
    let managed = managed_blocks(device_blocks);
    structure + space_map_size(managed, 0) <= managed
}

/// The smallest metadata device, in blocks, that holds `structure` blocks plus the space
/// map. `None` when no device can: more blocks than a space map manages.
pub fn blocks_needed_for(structure: u64) -> Option<u64> {
    // The space map grows with the device, so iterate up to the least fixed point.
    let mut d = structure + 1;
    loop {
        let need = structure + space_map_size(managed_blocks(d), 0);
        if need <= d {
            return Some(d);
        }
        if need > MAX_METADATA_BLOCKS {
            return None;
        }
        d = need;
    }
}

/// The smallest metadata device, in blocks, that holds `md` (validated or not).
/// `None` when no device can: the metadata needs more blocks than a space map manages.
pub fn blocks_needed(md: &EraMetadata) -> Option<u64> {
    blocks_needed_for(structure_blocks(md))
}

/// The smallest metadata device, in bytes, that holds `md`.
pub fn bytes_needed(md: &EraMetadata) -> Option<u64> {
    blocks_needed(md).map(|b| b * BLOCK_SIZE as u64)
}

/// The error for `structure` blocks that do not fit on `device_blocks`.
pub fn too_small(structure: u64, device_blocks: u64) -> Error {
    match blocks_needed_for(structure) {
        Some(needed) => Error::DeviceTooSmall {
            needed_bytes: needed * BLOCK_SIZE as u64,
            needed_blocks: needed,
            device_bytes: device_blocks * BLOCK_SIZE as u64,
        },
        None => Error::InvalidInput {
            reason: format!(
                "the metadata needs more than the {MAX_METADATA_BLOCKS} blocks a metadata device can hold"
            ),
        },
    }
}

/// Writes `md` as a complete metadata image on `io`. Nothing is written when `md` is
/// invalid or the device too small.
pub fn write_metadata(io: &dyn BlockIo, md: &EraMetadata) -> Result<WriteSummary> {
    validate(md)?;
    let device_blocks = io.nr_blocks();
    let structure = structure_blocks(md);
    if !fits(structure, device_blocks) {
        return Err(too_small(structure, device_blocks));
    }
    // Checked whole already: nothing to hold back.
    let mut w = StreamWriter::new(io, 0);
    if let Err(e) = feed(md, &mut w) {
        return Err(w.take_failure().unwrap_or(Error::InvalidInput {
            reason: e.to_string(),
        }));
    }
    w.finish()
}

/// Hands `md` to `w`, writesets in ascending era (their order on disk).
fn feed(md: &EraMetadata, w: &mut StreamWriter<'_>) -> std::result::Result<(), StreamError> {
    w.superblock_begin(&md.superblock)?;
    let mut order: Vec<&Writeset> = md.writesets.iter().collect();
    order.sort_by_key(|ws| ws.era);
    for ws in order {
        w.writeset_begin(&WritesetIr {
            era: ws.era,
            nr_bits: ws.nr_bits,
        })?;
        w.writeset_words(&ws.bits, ws.nr_bits)?;
        w.writeset_end()?;
    }
    w.era_array_begin()?;
    // In pieces: the writer gathers them a batch at a time anyway.
    for (i, piece) in md.era_array.chunks(1 << 20).enumerate() {
        let first = u32::try_from(i << 20).map_err(|_| BuildError::TooManyBlocks(u32::MAX))?;
        w.eras(DataBlock::new(first), piece)?;
    }
    w.era_array_end()?;
    w.superblock_end()
}

#[cfg(test)]
mod tests;

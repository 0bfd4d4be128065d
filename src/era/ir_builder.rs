//! A [`Visitor`] that assembles an [`EraMetadata`] and checks what it is given: the
//! limits of format.md §3 and §11, blocks within their bounds, nothing given twice.
//!
//! Memory is bounded by the metadata it describes: one `u32` per origin block, one bit
//! per writeset bit, and one bit per origin block to notice a repeated era entry. Given
//! the device it is for ([`IrBuilder::for_device`]), it refuses metadata too large for
//! it from the sizes declared, before it allocates for them: memory then stays bounded
//! by what will actually be written.

use crate::era::ir::{EraMetadata, SuperblockIr, Visitor, Writeset, WritesetIr};
use crate::era::restore::{
    bitset_blocks, blocks_needed_for, era_array_blocks, fits, writeset_tree_blocks,
};
use crate::pdata::space_map::MAX_METADATA_BLOCKS;
use crate::units::{origin_blocks_ok, BLOCK_SIZE};
use std::collections::HashSet;

/// Why the metadata handed to an [`IrBuilder`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("block_size {0} is invalid: it must be a non-zero multiple of 8 sectors")]
    BadBlockSize(u32),
    #[error("nr_blocks {0} is too large: it must be below 2^31")]
    TooManyBlocks(u32),
    #[error("writeset of era {era}: nr_bits {nr_bits} is too large: it must be below 2^31")]
    TooManyBits { era: u32, nr_bits: u32 },
    #[error("writeset of era {era} is given twice")]
    RepeatedWriteset { era: u32 },
    #[error("writeset of era {era} is newer than the current era {current_era}")]
    FutureWriteset { era: u32, current_era: u32 },
    #[error("marked blocks {begin}+{len} overflow a 32-bit block number")]
    RunOverflow { begin: u32, len: u32 },
    #[error("writeset of era {era}: block {block} is beyond nr_bits {nr_bits}")]
    BitBeyondEnd { era: u32, block: u32, nr_bits: u32 },
    #[error("era of block {block}: the block is beyond nr_blocks {nr_blocks}")]
    EraBeyondEnd { block: u32, nr_blocks: u32 },
    #[error("era of block {block} is given twice")]
    RepeatedEra { block: u32 },
    #[error("the metadata device is too small: at least {needed_bytes} bytes are needed, the device has {device_bytes}")]
    DeviceTooSmall {
        needed_bytes: u64,
        device_bytes: u64,
    },
    #[error("the metadata needs more than the {0} blocks a metadata device can hold")]
    TooMuchMetadata(u64),
    #[error("{0} is out of order (the metadata must be one superblock, its writesets, then its era array)")]
    OutOfOrder(&'static str),
}

/// Where the builder is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    Superblock,
    Writeset,
    EraArray,
    AfterEraArray,
    Done,
}

/// Builds an [`EraMetadata`] from visitor calls; see [`IrBuilder::into_metadata`].
#[derive(Debug)]
pub struct IrBuilder {
    stage: Stage,
    md: EraMetadata,
    /// The eras of the writesets seen so far.
    writeset_eras: HashSet<u32>,
    /// One bit per origin block: its era has been given.
    seen: Vec<u64>,
    /// The blocks of the device the metadata is for, if it is known.
    device_blocks: Option<u64>,
    /// Blocks the structures declared so far need, the writeset tree's aside.
    structure: u64,
}

impl Default for IrBuilder {
    fn default() -> Self {
        IrBuilder::new()
    }
}

impl IrBuilder {
    pub fn new() -> IrBuilder {
        IrBuilder {
            stage: Stage::Start,
            md: EraMetadata::default(),
            writeset_eras: HashSet::new(),
            seen: Vec::new(),
            device_blocks: None,
            structure: 1,
        }
    }

    /// A builder for a device of `device_blocks` metadata blocks: metadata that cannot
    /// fit is refused as soon as its declared sizes show it, before any allocation.
    pub fn for_device(device_blocks: u64) -> IrBuilder {
        IrBuilder {
            device_blocks: Some(device_blocks),
            ..IrBuilder::new()
        }
    }

    /// Adds `blocks` to the structure and refuses it if the device cannot hold it.
    fn reserve(&mut self, blocks: u64, nr_writesets: u64) -> Result<(), BuildError> {
        self.structure += blocks;
        let Some(device) = self.device_blocks else {
            return Ok(());
        };
        let structure = self.structure + writeset_tree_blocks(nr_writesets);
        if fits(structure, device) {
            return Ok(());
        }
        Err(match blocks_needed_for(structure) {
            Some(needed) => BuildError::DeviceTooSmall {
                needed_bytes: needed * BLOCK_SIZE as u64,
                device_bytes: device * BLOCK_SIZE as u64,
            },
            None => BuildError::TooMuchMetadata(MAX_METADATA_BLOCKS),
        })
    }

    /// The metadata, once `superblock_end` has been visited.
    pub fn into_metadata(self) -> Result<EraMetadata, BuildError> {
        if self.stage != Stage::Done {
            return Err(BuildError::OutOfOrder("the end of the metadata"));
        }
        Ok(self.md)
    }

    fn expect(&self, stage: Stage, what: &'static str) -> Result<(), BuildError> {
        if self.stage == stage {
            Ok(())
        } else {
            Err(BuildError::OutOfOrder(what))
        }
    }
}

/// Sets bits `[begin, end)` of `words`.
fn set_range(words: &mut [u64], begin: u64, end: u64) {
    let mut b = begin;
    while b < end {
        let w = (b / 64) as usize;
        let lo = b % 64;
        let hi = (end - (b - lo)).min(64);
        let mask = if hi - lo == 64 {
            u64::MAX
        } else {
            ((1u64 << (hi - lo)) - 1) << lo
        };
        if let Some(word) = words.get_mut(w) {
            *word |= mask;
        }
        b = b - lo + hi;
    }
}

/// The first set bit of `words` in `[begin, end)`, if any.
fn first_set(words: &[u64], begin: u64, end: u64) -> Option<u64> {
    let mut b = begin;
    while b < end {
        let w = (b / 64) as usize;
        let lo = b % 64;
        let hi = (end - (b - lo)).min(64);
        let word = words.get(w).copied().unwrap_or(0) >> lo;
        let masked = if hi - lo == 64 {
            word
        } else {
            word & ((1u64 << (hi - lo)) - 1)
        };
        if masked != 0 {
            return Some(b + u64::from(masked.trailing_zeros()));
        }
        b = b - lo + hi;
    }
    None
}

impl Visitor for IrBuilder {
    type Error = BuildError;

    fn superblock_begin(&mut self, sb: &SuperblockIr) -> Result<(), BuildError> {
        self.expect(Stage::Start, "the superblock")?;
        if sb.block_size == 0 || !sb.block_size.is_multiple_of(8) {
            return Err(BuildError::BadBlockSize(sb.block_size));
        }
        if !origin_blocks_ok(sb.nr_blocks) {
            return Err(BuildError::TooManyBlocks(sb.nr_blocks));
        }
        self.reserve(era_array_blocks(sb.nr_blocks), 0)?;
        self.md.superblock = sb.clone();
        // Zeroed allocations are lazy: untouched pages cost nothing.
        self.md.era_array = vec![0; sb.nr_blocks as usize];
        self.seen = vec![0; (sb.nr_blocks as usize).div_ceil(64)];
        self.stage = Stage::Superblock;
        Ok(())
    }

    fn writeset_begin(&mut self, ws: &WritesetIr) -> Result<(), BuildError> {
        self.expect(Stage::Superblock, "a writeset")?;
        let sb = &self.md.superblock;
        if !origin_blocks_ok(ws.nr_bits) {
            return Err(BuildError::TooManyBits {
                era: ws.era,
                nr_bits: ws.nr_bits,
            });
        }
        if ws.era > sb.current_era {
            return Err(BuildError::FutureWriteset {
                era: ws.era,
                current_era: sb.current_era,
            });
        }
        if self.writeset_eras.contains(&ws.era) {
            return Err(BuildError::RepeatedWriteset { era: ws.era });
        }
        let nr_writesets = self.writeset_eras.len() as u64 + 1;
        self.reserve(bitset_blocks(ws.nr_bits), nr_writesets)?;
        self.writeset_eras.insert(ws.era);
        self.md.writesets.push(Writeset {
            era: ws.era,
            nr_bits: ws.nr_bits,
            bits: vec![0; (ws.nr_bits as usize).div_ceil(64)],
        });
        self.stage = Stage::Writeset;
        Ok(())
    }

    fn writeset_run(&mut self, begin: u32, len: u32) -> Result<(), BuildError> {
        self.expect(Stage::Writeset, "a run of marked blocks")?;
        let Some(end) = begin.checked_add(len) else {
            return Err(BuildError::RunOverflow { begin, len });
        };
        let Some(ws) = self.md.writesets.last_mut() else {
            return Err(BuildError::OutOfOrder("a run of marked blocks"));
        };
        if end > ws.nr_bits {
            return Err(BuildError::BitBeyondEnd {
                era: ws.era,
                block: begin.max(ws.nr_bits),
                nr_bits: ws.nr_bits,
            });
        }
        set_range(&mut ws.bits, u64::from(begin), u64::from(end));
        Ok(())
    }

    fn writeset_end(&mut self) -> Result<(), BuildError> {
        self.expect(Stage::Writeset, "the end of a writeset")?;
        self.stage = Stage::Superblock;
        Ok(())
    }

    fn era_array_begin(&mut self) -> Result<(), BuildError> {
        self.expect(Stage::Superblock, "the era array")?;
        self.stage = Stage::EraArray;
        Ok(())
    }

    fn eras(&mut self, first: u32, eras: &[u32]) -> Result<(), BuildError> {
        self.expect(Stage::EraArray, "an era entry")?;
        let nr_blocks = self.md.superblock.nr_blocks;
        let begin = u64::from(first);
        let end = begin + eras.len() as u64;
        if end > u64::from(nr_blocks) {
            return Err(BuildError::EraBeyondEnd {
                block: first.max(nr_blocks),
                nr_blocks,
            });
        }
        if let Some(b) = first_set(&self.seen, begin, end) {
            return Err(BuildError::RepeatedEra { block: b as u32 });
        }
        set_range(&mut self.seen, begin, end);
        if let Some(dst) = self.md.era_array.get_mut(begin as usize..end as usize) {
            dst.copy_from_slice(eras);
        }
        Ok(())
    }

    fn era_array_end(&mut self) -> Result<(), BuildError> {
        self.expect(Stage::EraArray, "the end of the era array")?;
        self.stage = Stage::AfterEraArray;
        Ok(())
    }

    fn superblock_end(&mut self) -> Result<(), BuildError> {
        self.expect(Stage::AfterEraArray, "the end of the superblock")?;
        self.stage = Stage::Done;
        self.seen = Vec::new();
        Ok(())
    }
}

#[cfg(test)]
mod tests;

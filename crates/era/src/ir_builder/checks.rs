//! The checks every consumer of visitor calls makes, whether it keeps the metadata
//! ([`super::IrBuilder`]) or writes it as it comes (`era::restore::stream`): the order of
//! the calls, the limits of format.md §3 and §11, blocks within their bounds, nothing
//! given twice, and, given the device, a size that fits it.
//!
//! Memory stays small whatever the origin size: a repeated era entry is noticed from the
//! prefix of blocks given in order, and only entries given out of order are marked in a
//! bitmap (allocated zeroed, so that its pages cost nothing until an entry out of order
//! touches them).

use super::BuildError;
use crate::ir::{SuperblockIr, WritesetIr};
use crate::pdata::bitset::{first_set, nr_words, set_range};
use crate::pdata::space_map::MAX_METADATA_BLOCKS;
use crate::restore::{
    bitset_blocks, blocks_needed_for, era_array_blocks, fits, writeset_tree_blocks,
};
use crate::units::{origin_blocks_ok, DataBlock, BLOCK_SIZE};
use std::collections::HashSet;

/// Where the document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Start,
    Superblock,
    Writeset,
    EraArray,
    AfterEraArray,
    Done,
}

/// The era entries given so far.
#[derive(Debug, Default)]
struct Seen {
    /// Blocks `[0, prefix)` are given.
    prefix: u64,
    /// Blocks given beyond the prefix, out of order; none at or beyond `hi`.
    bits: Vec<u64>,
    hi: u64,
}

impl Seen {
    fn new(nr_blocks: u32) -> Seen {
        Seen {
            prefix: 0,
            // Zeroed allocations are lazy: untouched pages cost nothing.
            bits: vec![0; nr_words(u64::from(nr_blocks)) as usize],
            hi: 0,
        }
    }

    /// The first block of `[begin, end)` already given.
    fn first_given(&self, begin: u64, end: u64) -> Option<u64> {
        if begin >= end {
            None
        } else if begin < self.prefix {
            Some(begin)
        } else if begin >= self.hi {
            None
        } else {
            first_set(&self.bits, begin, end.min(self.hi))
        }
    }

    fn mark(&mut self, begin: u64, end: u64) {
        if begin == self.prefix {
            self.prefix = end;
        } else {
            set_range(&mut self.bits, begin, end);
            self.hi = self.hi.max(end);
        }
    }
}

/// Checks visitor calls in order; see the module doc.
#[derive(Debug)]
pub(crate) struct Checker {
    pub stage: Stage,
    pub superblock: SuperblockIr,
    /// The open (or last) writeset.
    pub writeset: WritesetIr,
    /// The eras of the writesets seen so far.
    pub writeset_eras: HashSet<u32>,
    seen: Seen,
    /// The blocks of the device the metadata is for, if it is known.
    device_blocks: Option<u64>,
    /// Blocks the structures declared so far need, the writeset tree's aside.
    structure: u64,
}

impl Checker {
    pub fn new(device_blocks: Option<u64>) -> Checker {
        Checker {
            stage: Stage::Start,
            superblock: SuperblockIr::default(),
            writeset: WritesetIr::default(),
            writeset_eras: HashSet::new(),
            seen: Seen::default(),
            device_blocks,
            structure: 1,
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

    pub fn expect(&self, stage: Stage, what: &'static str) -> Result<(), BuildError> {
        if self.stage == stage {
            Ok(())
        } else {
            Err(BuildError::OutOfOrder(what))
        }
    }

    pub fn superblock_begin(&mut self, sb: &SuperblockIr) -> Result<(), BuildError> {
        self.expect(Stage::Start, "the superblock")?;
        if sb.block_size == 0 || !sb.block_size.is_multiple_of(8) {
            return Err(BuildError::BadBlockSize(sb.block_size));
        }
        if !origin_blocks_ok(sb.nr_blocks) {
            return Err(BuildError::TooManyBlocks(sb.nr_blocks));
        }
        self.reserve(era_array_blocks(sb.nr_blocks), 0)?;
        self.superblock = sb.clone();
        self.seen = Seen::new(sb.nr_blocks);
        self.stage = Stage::Superblock;
        Ok(())
    }

    pub fn writeset_begin(&mut self, ws: &WritesetIr) -> Result<(), BuildError> {
        self.expect(Stage::Superblock, "a writeset")?;
        let sb = &self.superblock;
        if !origin_blocks_ok(ws.nr_bits) {
            return Err(BuildError::TooManyBits {
                era: ws.era.get(),
                nr_bits: ws.nr_bits,
            });
        }
        if ws.era > sb.current_era {
            return Err(BuildError::FutureWriteset {
                era: ws.era.get(),
                current_era: sb.current_era.get(),
            });
        }
        if self.writeset_eras.contains(&ws.era.get()) {
            return Err(BuildError::RepeatedWriteset { era: ws.era.get() });
        }
        let nr_writesets = self.writeset_eras.len() as u64 + 1;
        self.reserve(bitset_blocks(ws.nr_bits), nr_writesets)?;
        self.writeset_eras.insert(ws.era.get());
        self.writeset = *ws;
        self.stage = Stage::Writeset;
        Ok(())
    }

    /// Checks a run of the open writeset; returns its end.
    pub fn writeset_run(&mut self, begin: DataBlock, len: u32) -> Result<u32, BuildError> {
        self.expect(Stage::Writeset, "a run of marked blocks")?;
        let Some(end) = begin.get().checked_add(len) else {
            return Err(BuildError::RunOverflow { begin, len });
        };
        let ws = self.writeset;
        if end > ws.nr_bits {
            return Err(BuildError::BitBeyondEnd {
                era: ws.era.get(),
                block: DataBlock::new(begin.get().max(ws.nr_bits)),
                nr_bits: ws.nr_bits,
            });
        }
        Ok(end)
    }

    pub fn writeset_end(&mut self) -> Result<(), BuildError> {
        self.expect(Stage::Writeset, "the end of a writeset")?;
        self.stage = Stage::Superblock;
        Ok(())
    }

    pub fn era_array_begin(&mut self) -> Result<(), BuildError> {
        self.expect(Stage::Superblock, "the era array")?;
        self.stage = Stage::EraArray;
        Ok(())
    }

    /// Checks the eras of blocks `first..` and notes them as given.
    pub fn eras(&mut self, first: DataBlock, eras: &[u32]) -> Result<(), BuildError> {
        self.expect(Stage::EraArray, "an era entry")?;
        let nr_blocks = self.superblock.nr_blocks;
        let begin = u64::from(first.get());
        let end = begin + eras.len() as u64;
        if end > u64::from(nr_blocks) {
            return Err(BuildError::EraBeyondEnd {
                block: DataBlock::new(first.get().max(nr_blocks)),
                nr_blocks,
            });
        }
        if let Some(b) = self.seen.first_given(begin, end) {
            return Err(BuildError::RepeatedEra {
                block: DataBlock::new(b as u32),
            });
        }
        self.seen.mark(begin, end);
        Ok(())
    }

    pub fn era_array_end(&mut self) -> Result<(), BuildError> {
        self.expect(Stage::EraArray, "the end of the era array")?;
        self.stage = Stage::AfterEraArray;
        Ok(())
    }

    pub fn superblock_end(&mut self) -> Result<(), BuildError> {
        self.expect(Stage::AfterEraArray, "the end of the superblock")?;
        self.stage = Stage::Done;
        self.seen = Seen::default();
        Ok(())
    }
}

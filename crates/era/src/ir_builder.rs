//! A [`Visitor`] that assembles an [`EraMetadata`] and checks what it is given: the
//! limits of format.md §3 and §11, blocks within their bounds, nothing given twice.
//!
//! Memory is bounded by the metadata it describes: one `u32` per origin block and one
//! bit per writeset bit (`checks` notices a repeated era entry in little more). Given
//! the device it is for ([`IrBuilder::for_device`]), it refuses metadata too large for
//! it from the sizes declared, before it allocates for them: memory then stays bounded
//! by what will actually be written.

mod checks;

pub(crate) use checks::{Checker, Stage};

use crate::ir::{EraMetadata, SuperblockIr, Visitor, Writeset, WritesetIr};
use crate::pdata::bitset::{nr_words, set_range};
use crate::units::DataBlock;

/// Why the metadata handed to an [`IrBuilder`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The superblock's origin block size, in sectors, is zero or not a multiple of 8.
    #[error("block_size {0} is invalid: it must be a non-zero multiple of 8 sectors")]
    BadBlockSize(u32),
    #[error("nr_blocks {0} is too large: it must be below 2^31")]
    /// The superblock's `nr_blocks` (origin blocks) is 2^31 or more.
    TooManyBlocks(u32),
    #[error("writeset of era {era}: nr_bits {nr_bits} is too large: it must be below 2^31")]
    /// A writeset's `nr_bits` is 2^31 or more.
    TooManyBits {
        /// The writeset's era.
        era: u32,
        /// Its declared length in bits.
        nr_bits: u32,
    },
    #[error("writeset of era {era} is given twice")]
    /// Two writesets have the same era.
    RepeatedWriteset {
        /// The era given twice.
        era: u32,
    },
    #[error("writeset of era {era} is newer than the current era {current_era}")]
    /// A writeset's era is greater than the superblock's `current_era`.
    FutureWriteset {
        /// The writeset's era.
        era: u32,
        /// The superblock's current era.
        current_era: u32,
    },
    #[error("marked blocks {begin}+{len} overflow a 32-bit block number")]
    /// A run of marked blocks ends beyond block 2^32 - 1.
    RunOverflow {
        /// First block of the run.
        begin: DataBlock,
        /// Length of the run in blocks.
        len: u32,
    },
    #[error("writeset of era {era}: block {block} is beyond nr_bits {nr_bits}")]
    /// A marked block lies at or beyond its writeset's `nr_bits`.
    BitBeyondEnd {
        /// The writeset's era.
        era: u32,
        /// The first marked block out of range.
        block: DataBlock,
        /// The writeset's length in bits.
        nr_bits: u32,
    },
    #[error("era of block {block}: the block is beyond nr_blocks {nr_blocks}")]
    /// An era-array entry lies at or beyond the superblock's `nr_blocks`.
    EraBeyondEnd {
        /// The first block out of range.
        block: DataBlock,
        /// The superblock's number of origin blocks.
        nr_blocks: u32,
    },
    #[error("era of block {block} is given twice")]
    /// A block's era is given twice.
    RepeatedEra {
        /// The block given twice.
        block: DataBlock,
    },
    #[error("the metadata device is too small: at least {needed_bytes} bytes are needed, the device has {device_bytes}")]
    /// The metadata would not fit on the device given to [`IrBuilder::for_device`].
    DeviceTooSmall {
        /// Bytes the metadata needs, a whole number of 4096-byte blocks.
        needed_bytes: u64,
        /// Bytes the device holds.
        device_bytes: u64,
    },
    #[error("the metadata needs more than the {0} blocks a metadata device can hold")]
    /// The metadata needs more blocks than any metadata device can hold (the limit is
    /// carried).
    TooMuchMetadata(u64),
    #[error("{0} is out of order (the metadata must be one superblock, its writesets, then its era array)")]
    /// A visitor call came out of document order; names what came.
    OutOfOrder(&'static str),
}

/// Builds an [`EraMetadata`] from visitor calls; see [`IrBuilder::into_metadata`].
#[derive(Debug)]
pub struct IrBuilder {
    checks: Checker,
    md: EraMetadata,
}

impl Default for IrBuilder {
    fn default() -> Self {
        IrBuilder::new()
    }
}

impl IrBuilder {
    /// A builder with no device limit: only the format's own limits apply.
    pub fn new() -> IrBuilder {
        IrBuilder {
            checks: Checker::new(None),
            md: EraMetadata::default(),
        }
    }

    /// A builder for a device of `device_blocks` metadata blocks: metadata that cannot
    /// fit is refused as soon as its declared sizes show it, before any allocation.
    pub fn for_device(device_blocks: u64) -> IrBuilder {
        IrBuilder {
            checks: Checker::new(Some(device_blocks)),
            md: EraMetadata::default(),
        }
    }

    /// The metadata, once `superblock_end` has been visited.
    pub fn into_metadata(self) -> Result<EraMetadata, BuildError> {
        if self.checks.stage != Stage::Done {
            return Err(BuildError::OutOfOrder("the end of the metadata"));
        }
        Ok(self.md)
    }
}

impl Visitor for IrBuilder {
    type Error = BuildError;

    fn superblock_begin(&mut self, sb: &SuperblockIr) -> Result<(), BuildError> {
        self.checks.superblock_begin(sb)?;
        self.md.superblock = sb.clone();
        // Zeroed allocations are lazy: untouched pages cost nothing.
        self.md.era_array = vec![0; sb.nr_blocks as usize];
        Ok(())
    }

    fn writeset_begin(&mut self, ws: &WritesetIr) -> Result<(), BuildError> {
        self.checks.writeset_begin(ws)?;
        self.md.writesets.push(Writeset {
            era: ws.era,
            nr_bits: ws.nr_bits,
            bits: vec![0; nr_words(u64::from(ws.nr_bits)) as usize],
        });
        Ok(())
    }

    fn writeset_run(&mut self, begin: DataBlock, len: u32) -> Result<(), BuildError> {
        let end = self.checks.writeset_run(begin, len)?;
        let begin = begin.get();
        let Some(ws) = self.md.writesets.last_mut() else {
            return Err(BuildError::OutOfOrder("a run of marked blocks"));
        };
        set_range(&mut ws.bits, u64::from(begin), u64::from(end));
        Ok(())
    }

    fn writeset_end(&mut self) -> Result<(), BuildError> {
        self.checks.writeset_end()
    }

    fn era_array_begin(&mut self) -> Result<(), BuildError> {
        self.checks.era_array_begin()
    }

    fn eras(&mut self, first: DataBlock, eras: &[u32]) -> Result<(), BuildError> {
        self.checks.eras(first, eras)?;
        let begin = first.index();
        if let Some(dst) = self.md.era_array.get_mut(begin..begin + eras.len()) {
            dst.copy_from_slice(eras);
        }
        Ok(())
    }

    fn era_array_end(&mut self) -> Result<(), BuildError> {
        self.checks.era_array_end()
    }

    fn superblock_end(&mut self) -> Result<(), BuildError> {
        self.checks.superblock_end()
    }
}

#[cfg(test)]
mod tests;

//! Block runs turned into origin offsets: blocks, 512-byte sectors or bytes.
//!
//! The metadata records `nr_blocks` and `block_size` but not the table's length in
//! sectors, which may end inside the last block (target.md §3: `nr_blocks` is
//! `ceil(length / block_size)`). Without a known length the last block is taken whole
//! (the end is rounded up to a block); with one, offsets are clamped to it.

use crate::units::DataBlock;

/// Bytes in a sector.
const SECTOR_BYTES: u64 = 512;

/// The unit of the offsets printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// Origin block numbers.
    #[default]
    Blocks,
    /// 512-byte sectors of the origin.
    Sectors,
    /// Bytes of the origin.
    Bytes,
}

impl Unit {
    /// The unit's name as the options and the JSON spell it.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Blocks => "blocks",
            Unit::Sectors => "sectors",
            Unit::Bytes => "bytes",
        }
    }
}

/// Why block runs cannot be turned into offsets.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OffsetError {
    /// A block size of 0 gives no offsets.
    #[error("the metadata's block size is 0 sectors, so blocks have no offsets")]
    ZeroBlockSize,
    /// The length given does not make the metadata's number of blocks.
    #[error(
        "--length {length} sectors makes {blocks} blocks of {block_size} sectors, \
         but the metadata tracks {nr_blocks} blocks"
    )]
    LengthMismatch {
        length: u64,
        blocks: u64,
        block_size: u32,
        nr_blocks: u32,
    },
    /// The origin's size in the unit does not fit in 64 bits.
    #[error("{nr_blocks} blocks of {block_size} sectors do not fit in 64-bit {unit}")]
    Overflow {
        nr_blocks: u32,
        block_size: u32,
        unit: &'static str,
    },
}

/// How block runs become offsets in one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    unit: Unit,
    per_block: u64,
    length: u64,
    rounded_up: bool,
}

impl Scale {
    /// The scale for `unit`, given the metadata's geometry and, optionally, the table's
    /// length in sectors (which must make exactly `nr_blocks` blocks).
    pub fn new(
        unit: Unit,
        block_size: u32,
        nr_blocks: u32,
        length_sectors: Option<u64>,
    ) -> Result<Scale, OffsetError> {
        let overflow = || OffsetError::Overflow {
            nr_blocks,
            block_size,
            unit: unit.name(),
        };
        let unit_per_sector = match unit {
            Unit::Blocks => {
                return Ok(Scale {
                    unit,
                    per_block: 1,
                    length: u64::from(nr_blocks),
                    rounded_up: false,
                })
            }
            Unit::Sectors => 1,
            Unit::Bytes => SECTOR_BYTES,
        };
        if block_size == 0 {
            return Err(OffsetError::ZeroBlockSize);
        }
        let per_block = u64::from(block_size) * unit_per_sector;
        let whole = u64::from(nr_blocks)
            .checked_mul(per_block)
            .ok_or_else(overflow)?;
        let Some(length) = length_sectors else {
            return Ok(Scale {
                unit,
                per_block,
                length: whole,
                rounded_up: true,
            });
        };
        let blocks = length.div_ceil(u64::from(block_size));
        if blocks != u64::from(nr_blocks) {
            return Err(OffsetError::LengthMismatch {
                length,
                blocks,
                block_size,
                nr_blocks,
            });
        }
        Ok(Scale {
            unit,
            per_block,
            // length <= nr_blocks * block_size, so this fits where `whole` did.
            length: length.checked_mul(unit_per_sector).ok_or_else(overflow)?,
            rounded_up: false,
        })
    }

    /// Units per block.
    pub fn per_block(&self) -> u64 {
        self.per_block
    }

    /// The unit.
    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// The origin's length in the unit: the end of the last block, or the table's
    /// length where it was given.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// Whether [`Scale::length`] is rounded up to a whole block (the table may end
    /// earlier, inside the last block).
    pub fn rounded_up(&self) -> bool {
        self.rounded_up
    }

    /// The run of blocks `[begin, end)` as offsets `[begin, end)` in the unit, the end
    /// clamped to the length.
    pub fn run(&self, (begin, end): (DataBlock, DataBlock)) -> (u64, u64) {
        let at = |b: DataBlock| {
            u64::from(b.get())
                .saturating_mul(self.per_block)
                .min(self.length)
        };
        (at(begin), at(end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(b: u32, e: u32) -> (DataBlock, DataBlock) {
        (DataBlock::new(b), DataBlock::new(e))
    }

    #[test]
    fn blocks_are_unchanged() {
        let s = Scale::new(Unit::Blocks, 8, 10, None).unwrap();
        assert_eq!(s.run(run(3, 7)), (3, 7));
        assert_eq!((s.length(), s.rounded_up()), (10, false));
    }

    #[test]
    fn sectors_and_bytes_round_up_without_a_length() {
        let s = Scale::new(Unit::Sectors, 8, 10, None).unwrap();
        assert_eq!(s.run(run(3, 10)), (24, 80));
        assert_eq!((s.length(), s.rounded_up()), (80, true));
        let b = Scale::new(Unit::Bytes, 8, 10, None).unwrap();
        assert_eq!(b.run(run(3, 10)), (24 * 512, 80 * 512));
    }

    #[test]
    fn a_length_clamps_the_last_block() {
        let s = Scale::new(Unit::Sectors, 8, 10, Some(75)).unwrap();
        assert_eq!(s.run(run(9, 10)), (72, 75));
        assert_eq!((s.length(), s.rounded_up()), (75, false));
        let b = Scale::new(Unit::Bytes, 8, 10, Some(75)).unwrap();
        assert_eq!(b.run(run(0, 10)), (0, 75 * 512));
    }

    #[test]
    fn a_length_of_another_block_count_is_refused() {
        for bad in [72, 81, 0] {
            assert!(matches!(
                Scale::new(Unit::Sectors, 8, 10, Some(bad)),
                Err(OffsetError::LengthMismatch { .. })
            ));
        }
        assert_eq!(
            Scale::new(Unit::Bytes, 0, 10, None),
            Err(OffsetError::ZeroBlockSize)
        );
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(matches!(
            Scale::new(Unit::Bytes, u32::MAX, u32::MAX, None),
            Err(OffsetError::Overflow { .. })
        ));
        assert!(Scale::new(Unit::Sectors, u32::MAX, u32::MAX, None).is_ok());
    }
}

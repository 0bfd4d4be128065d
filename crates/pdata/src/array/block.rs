//! The array block codec (format.md §5): the one place that knows where an array
//! block's fields lie. The reader, the builder, the copy-on-write code, the checker and
//! salvage all decode and encode array blocks through it.
//!
//! ```text
//! 0 csum | 4 max_entries | 8 nr_entries | 12 value_size | 16 blocknr | 24 values
//! ```

use crate::checksum::{self, BlockKind};
use crate::codec::{get_block, get_u32, put_block, put_u32};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use crate::value::Value;

/// Size of the array-block header.
pub const ARRAY_HEADER_SIZE: usize = 24;
const MAX_ENTRIES_OFF: usize = 4;
const NR_ENTRIES_OFF: usize = 8;
const VALUE_SIZE_OFF: usize = 12;
const BLOCKNR_OFF: usize = 16;

/// Values per array block for a value size: 1018 for u32, 509 for u64.
pub const fn array_max_entries(value_size: usize) -> u32 {
    ((BLOCK_SIZE - ARRAY_HEADER_SIZE) / value_size) as u32
}

/// Header fields of an array block (all but the checksum, which [`checksum`] owns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayHeader {
    /// The block's capacity in values: [`array_max_entries`] of the value size.
    pub max_entries: u32,
    /// The values the block holds: `max_entries` in every block but the last.
    pub nr_entries: u32,
    /// Bytes per value.
    pub value_size: u32,
    /// The block's self-reference.
    pub blocknr: MetaBlock,
}

impl ArrayHeader {
    /// The header of a block of `nr_entries` values of type `V`, with the capacity
    /// writers use (blocknr 0: it is stamped when the block is sealed). The size comes
    /// from `V`; `nr_entries` is at most the capacity, which writers bound it by.
    pub fn new<V: Value>(nr_entries: usize) -> ArrayHeader {
        let max_entries = array_max_entries(V::SIZE);
        // At most `max_entries`, a u32; a larger count would saturate, never wrap.
        let nr_entries = u32::try_from(nr_entries).unwrap_or(u32::MAX);
        debug_assert!(nr_entries <= max_entries, "{nr_entries} > {max_entries}");
        ArrayHeader {
            max_entries,
            nr_entries,
            value_size: V::SIZE_U32,
            blocknr: MetaBlock::new(0),
        }
    }

    /// Reads the header fields of `data`, unchecked.
    pub fn decode(data: &BlockBuf) -> ArrayHeader {
        ArrayHeader {
            max_entries: get_u32(data, MAX_ENTRIES_OFF),
            nr_entries: get_u32(data, NR_ENTRIES_OFF),
            value_size: get_u32(data, VALUE_SIZE_OFF),
            blocknr: get_block(data, BLOCKNR_OFF),
        }
    }

    /// Writes the header fields into `data` (the checksum is left alone).
    pub fn encode(&self, data: &mut BlockBuf) {
        put_u32(data, MAX_ENTRIES_OFF, self.max_entries);
        put_u32(data, NR_ENTRIES_OFF, self.nr_entries);
        put_u32(data, VALUE_SIZE_OFF, self.value_size);
        put_block(data, BLOCKNR_OFF, self.blocknr);
    }

    /// Sets only `nr_entries` in `data`, leaving every other byte as it is.
    pub fn encode_nr_entries(data: &mut BlockBuf, nr_entries: u32) {
        put_u32(data, NR_ENTRIES_OFF, nr_entries);
    }
}

/// Byte offset of value `i` in an array block of `value_size`-byte values.
pub const fn value_offset(value_size: usize, i: usize) -> usize {
    ARRAY_HEADER_SIZE + value_size * i
}

/// Values `0..nr` (of `value_size` bytes each) of an array block, packed. The caller
/// has bounded `nr` by the block's capacity.
pub fn values(data: &BlockBuf, value_size: usize, nr: usize) -> &[u8] {
    &data[ARRAY_HEADER_SIZE..value_offset(value_size, nr)]
}

/// Value `i` of an array block of `value_size`-byte values.
pub fn value(data: &BlockBuf, value_size: usize, i: usize) -> &[u8] {
    let o = value_offset(value_size, i);
    &data[o..o + value_size]
}

/// Value `i` of an array block of `value_size`-byte values, mutable.
pub fn value_mut(data: &mut BlockBuf, value_size: usize, i: usize) -> &mut [u8] {
    let o = value_offset(value_size, i);
    &mut data[o..o + value_size]
}

/// A sealed array block at `location`: `nr_entries` values of type `V`, written by
/// `pack(i, out)` one at a time.
pub fn pack_array_block_with<V: Value>(
    location: MetaBlock,
    nr_entries: usize,
    mut pack: impl FnMut(usize, &mut [u8]),
) -> Box<BlockBuf> {
    let mut b = Box::new([0u8; BLOCK_SIZE]);
    let mut h = ArrayHeader::new::<V>(nr_entries);
    h.blocknr = location;
    h.encode(&mut b);
    for i in 0..nr_entries {
        pack(i, value_mut(&mut b, V::SIZE, i));
    }
    checksum::seal(&mut b, BlockKind::ArrayBlock);
    b
}

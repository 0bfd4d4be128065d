//! Btree node layout and a validated, borrowed view of one node.
//!
//! ```text
//! 0 csum | 4 flags | 8 blocknr | 16 nr_entries | 20 max_entries | 24 value_size | 28 pad
//! 32 keys[max_entries] (u64) | values[max_entries] (value_size each)
//! ```

use crate::pdata::checksum::{self, BlockKind};
use crate::pdata::codec::{get_u32, get_u64};
use crate::pdata::{Error, Result};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};

/// Flag of an internal node.
pub const INTERNAL_FLAG: u32 = 1;
/// Flag of a leaf node.
pub const LEAF_FLAG: u32 = 2;
/// Size of the node header; keys start here.
pub const NODE_HEADER_SIZE: usize = 32;

const FLAGS_OFF: usize = 4;
const NR_ENTRIES_OFF: usize = 16;
const MAX_ENTRIES_OFF: usize = NR_ENTRIES_OFF + 4;
const VALUE_SIZE_OFF: usize = MAX_ENTRIES_OFF + 4;

/// The capacity writers must use for a value size (format.md §4.2).
pub const fn max_entries(value_size: usize) -> u32 {
    let n = (BLOCK_SIZE - NODE_HEADER_SIZE) / (8 + value_size);
    (3 * (n / 3)) as u32
}

/// A node whose checksum, self-reference and header sizes have been checked.
#[derive(Debug, Clone, Copy)]
pub struct NodeView<'a> {
    /// Where the node was read from.
    pub block: MetaBlock,
    data: &'a BlockBuf,
    /// `INTERNAL_FLAG` or `LEAF_FLAG`.
    pub flags: u32,
    pub nr_entries: u32,
    pub max_entries: u32,
    pub value_size: u32,
}

impl<'a> NodeView<'a> {
    /// Validates the node read from `block`: checksum, blocknr, flags, sizes, and (for
    /// internal nodes) value size 8. Leaf value size is checked by the caller, which
    /// knows the tree.
    pub fn parse(block: MetaBlock, data: &'a BlockBuf) -> Result<NodeView<'a>> {
        checksum::verify(data, BlockKind::BtreeNode, block)?;
        let bad = |reason: String| Error::invalid(block, BlockKind::BtreeNode, reason);
        let flags = get_u32(data, FLAGS_OFF);
        let nr_entries = get_u32(data, NR_ENTRIES_OFF);
        let max_entries = get_u32(data, MAX_ENTRIES_OFF);
        let value_size = get_u32(data, VALUE_SIZE_OFF);
        if flags != INTERNAL_FLAG && flags != LEAF_FLAG {
            return Err(bad(format!(
                "flags {flags} is neither internal (1) nor leaf (2)"
            )));
        }
        if value_size == 0
            || (8 + value_size as u64).saturating_mul(max_entries as u64)
                > (BLOCK_SIZE - NODE_HEADER_SIZE) as u64
        {
            return Err(bad(format!(
                "max_entries {max_entries} with value_size {value_size} does not fit in a block"
            )));
        }
        if nr_entries > max_entries {
            return Err(bad(format!(
                "nr_entries {nr_entries} exceeds max_entries {max_entries}"
            )));
        }
        if flags == INTERNAL_FLAG && value_size != 8 {
            return Err(bad(format!(
                "internal node has value_size {value_size}, expected 8"
            )));
        }
        Ok(NodeView {
            block,
            data,
            flags,
            nr_entries,
            max_entries,
            value_size,
        })
    }

    /// True for a leaf.
    pub fn is_leaf(&self) -> bool {
        self.flags == LEAF_FLAG
    }

    /// Key `i` (`i < nr_entries`).
    pub fn key(&self, i: usize) -> u64 {
        get_u64(self.data, NODE_HEADER_SIZE + 8 * i)
    }

    /// Value `i` as raw bytes.
    pub fn value(&self, i: usize) -> &'a [u8] {
        let vs = self.value_size as usize;
        let off = NODE_HEADER_SIZE + 8 * self.max_entries as usize + vs * i;
        &self.data[off..off + vs]
    }

    /// Value `i` read as a u64 (child pointer of an internal node, array-block pointer).
    pub fn value_u64(&self, i: usize) -> u64 {
        get_u64(self.value(i), 0)
    }

    /// Requires the leaf value size `expected`.
    pub fn check_leaf_value_size(&self, expected: u32) -> Result<()> {
        if self.is_leaf() && self.value_size != expected {
            return Err(Error::invalid(
                self.block,
                BlockKind::BtreeNode,
                format!(
                    "leaf has value_size {}, this tree needs {expected}",
                    self.value_size
                ),
            ));
        }
        Ok(())
    }
}

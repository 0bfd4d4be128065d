//! The btree node codec (format.md §4): the one place that knows where a node's fields
//! lie. Readers, the builder, the copy-on-write code, the checker and salvage all decode
//! and encode nodes through it.
//!
//! ```text
//! 0 csum | 4 flags | 8 blocknr | 16 nr_entries | 20 max_entries | 24 value_size | 28 pad
//! 32 keys[max_entries] (u64) | values[max_entries] (value_size each)
//! ```

use crate::checksum::{self, BlockKind};
use crate::codec::{get_block, get_u32, get_u64, put_block, put_u32, put_u64};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use crate::{Error, Result};
use std::fmt;

/// Flag of an internal node.
pub const INTERNAL_FLAG: u32 = 1;
/// Flag of a leaf node.
pub const LEAF_FLAG: u32 = 2;
/// Size of the node header; keys start here.
pub const NODE_HEADER_SIZE: usize = 32;
/// Value size of internal nodes: a child's block number.
pub const INTERNAL_VALUE_SIZE: usize = 8;

const FLAGS_OFF: usize = 4;
const BLOCKNR_OFF: usize = 8;
const NR_ENTRIES_OFF: usize = 16;
const MAX_ENTRIES_OFF: usize = 20;
const VALUE_SIZE_OFF: usize = 24;
const PADDING_OFF: usize = 28;

/// The capacity writers must use for a value size (format.md §4.2).
pub const fn max_entries(value_size: usize) -> u32 {
    let n = (BLOCK_SIZE - NODE_HEADER_SIZE) / (8 + value_size);
    (3 * (n / 3)) as u32
}

/// The header fields of a node (all but the checksum, which [`checksum`] owns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeHeader {
    /// `INTERNAL_FLAG` or `LEAF_FLAG` in a valid node.
    pub flags: u32,
    /// The node's self-reference.
    pub blocknr: MetaBlock,
    /// How many entries (keys and values) are in use.
    pub nr_entries: u32,
    /// The node's capacity; keys take `8 * max_entries` bytes, values start after them.
    pub max_entries: u32,
    /// Bytes per value: 8 in an internal node, the tree's value size in a leaf.
    pub value_size: u32,
    /// The padding word, carried along so that a copied header is byte for byte the
    /// original.
    pub padding: u32,
}

/// Why a node header cannot be trusted. The text is what every reader reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeFault {
    /// The flags are neither [`INTERNAL_FLAG`] nor [`LEAF_FLAG`].
    Flags {
        /// The flags found.
        flags: u32,
    },
    /// `max_entries` keys and values of `value_size` bytes do not fit after the header,
    /// or `value_size` is 0.
    DoesNotFit {
        /// The capacity found.
        max_entries: u32,
        /// The value size found.
        value_size: u32,
    },
    /// More entries are in use than the node holds.
    TooManyEntries {
        /// The entries in use.
        nr_entries: u32,
        /// The capacity.
        max_entries: u32,
    },
    /// An internal node's values are not 8-byte block numbers.
    InternalValueSize {
        /// The value size found.
        value_size: u32,
    },
    /// A leaf's value size is not the one its tree stores.
    LeafValueSize {
        /// The value size found.
        value_size: u32,
        /// The tree's value size.
        expected: u32,
    },
}

impl fmt::Display for NodeFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NodeFault::Flags { flags } => {
                write!(f, "flags {flags} is neither internal (1) nor leaf (2)")
            }
            NodeFault::DoesNotFit {
                max_entries,
                value_size,
            } => write!(
                f,
                "max_entries {max_entries} with value_size {value_size} does not fit in a block"
            ),
            NodeFault::TooManyEntries {
                nr_entries,
                max_entries,
            } => write!(
                f,
                "nr_entries {nr_entries} exceeds max_entries {max_entries}"
            ),
            NodeFault::InternalValueSize { value_size } => {
                write!(f, "internal node has value_size {value_size}, expected 8")
            }
            NodeFault::LeafValueSize {
                value_size,
                expected,
            } => write!(
                f,
                "leaf has value_size {value_size}, this tree needs {expected}"
            ),
        }
    }
}

impl NodeHeader {
    /// The header of an empty node with the capacity writers use (blocknr 0: it is
    /// stamped when the node is sealed).
    pub fn empty(internal: bool, leaf_value_size: usize) -> NodeHeader {
        let value_size = if internal {
            INTERNAL_VALUE_SIZE
        } else {
            leaf_value_size
        };
        NodeHeader {
            flags: if internal { INTERNAL_FLAG } else { LEAF_FLAG },
            blocknr: MetaBlock::new(0),
            nr_entries: 0,
            max_entries: max_entries(value_size),
            value_size: value_size as u32,
            padding: 0,
        }
    }

    /// Reads the header fields of `data`, unchecked.
    pub fn decode(data: &BlockBuf) -> NodeHeader {
        NodeHeader {
            flags: get_u32(data, FLAGS_OFF),
            blocknr: get_block(data, BLOCKNR_OFF),
            nr_entries: get_u32(data, NR_ENTRIES_OFF),
            max_entries: get_u32(data, MAX_ENTRIES_OFF),
            value_size: get_u32(data, VALUE_SIZE_OFF),
            padding: get_u32(data, PADDING_OFF),
        }
    }

    /// Writes the header fields into `data` (the checksum is left alone).
    pub fn encode(&self, data: &mut BlockBuf) {
        put_u32(data, FLAGS_OFF, self.flags);
        put_block(data, BLOCKNR_OFF, self.blocknr);
        put_u32(data, NR_ENTRIES_OFF, self.nr_entries);
        put_u32(data, MAX_ENTRIES_OFF, self.max_entries);
        put_u32(data, VALUE_SIZE_OFF, self.value_size);
        put_u32(data, PADDING_OFF, self.padding);
    }

    /// True for a leaf.
    pub fn is_leaf(&self) -> bool {
        self.flags == LEAF_FLAG
    }

    /// Checks what every reader needs before it can index the node: known flags,
    /// entries that fit in the block, `nr_entries <= max_entries` and internal value
    /// size 8. The leaf value size is for [`check_leaf_value_size`](Self::check_leaf_value_size).
    pub fn check_shape(&self) -> std::result::Result<(), NodeFault> {
        let (flags, nr, max, vs) = (
            self.flags,
            self.nr_entries,
            self.max_entries,
            self.value_size,
        );
        if flags != INTERNAL_FLAG && flags != LEAF_FLAG {
            return Err(NodeFault::Flags { flags });
        }
        // In u64 with saturation: a damaged value_size times max_entries overflows u32.
        if vs == 0
            || (8 + u64::from(vs)).saturating_mul(u64::from(max))
                > (BLOCK_SIZE - NODE_HEADER_SIZE) as u64
        {
            return Err(NodeFault::DoesNotFit {
                max_entries: max,
                value_size: vs,
            });
        }
        if nr > max {
            return Err(NodeFault::TooManyEntries {
                nr_entries: nr,
                max_entries: max,
            });
        }
        if flags == INTERNAL_FLAG && vs != INTERNAL_VALUE_SIZE as u32 {
            return Err(NodeFault::InternalValueSize { value_size: vs });
        }
        Ok(())
    }

    /// Requires the leaf value size `expected` (internal nodes pass).
    pub fn check_leaf_value_size(&self, expected: u32) -> std::result::Result<(), NodeFault> {
        if self.is_leaf() && self.value_size != expected {
            return Err(NodeFault::LeafValueSize {
                value_size: self.value_size,
                expected,
            });
        }
        Ok(())
    }

    /// [`check_shape`](Self::check_shape), then the leaf value size of the tree.
    pub fn check(&self, leaf_value_size: u32) -> std::result::Result<(), NodeFault> {
        self.check_shape()?;
        self.check_leaf_value_size(leaf_value_size)
    }

    /// The capacity the kernel computes for this node's value size.
    pub fn kernel_max_entries(&self) -> u32 {
        max_entries(self.value_size as usize)
    }

    /// Byte offset of value `i` (the header must have passed [`check_shape`](Self::check_shape)).
    pub fn value_offset(&self, i: usize) -> usize {
        NODE_HEADER_SIZE + 8 * self.max_entries as usize + self.value_size as usize * i
    }
}

/// Byte offset of key `i`.
pub const fn key_offset(i: usize) -> usize {
    NODE_HEADER_SIZE + 8 * i
}

/// Key `i` of the node in `data`.
pub fn get_key(data: &BlockBuf, i: usize) -> u64 {
    get_u64(data, key_offset(i))
}

/// Sets key `i` of the node in `data`.
pub fn put_key(data: &mut BlockBuf, i: usize, k: u64) {
    put_u64(data, key_offset(i), k)
}

/// Value `i` of the node in `data`, whose header is `h`.
pub fn get_value<'a>(data: &'a BlockBuf, h: &NodeHeader, i: usize) -> &'a [u8] {
    let o = h.value_offset(i);
    &data[o..o + h.value_size as usize]
}

/// Sets value `i` (exactly `h.value_size` bytes) of the node in `data`, whose header
/// is `h`.
pub fn put_value(data: &mut BlockBuf, h: &NodeHeader, i: usize, v: &[u8]) {
    let o = h.value_offset(i);
    data[o..o + h.value_size as usize].copy_from_slice(v);
}

/// Writes `entries` as entries `0..` of the node in `data` and sets its `nr_entries`.
/// Whatever lies beyond the new entries is left as it was.
pub fn put_entries<'e>(
    data: &mut BlockBuf,
    entries: impl ExactSizeIterator<Item = (u64, &'e [u8])>,
) {
    let mut h = NodeHeader::decode(data);
    h.nr_entries = entries.len() as u32;
    for (i, (k, v)) in entries.enumerate() {
        put_key(data, i, k);
        put_value(data, &h, i, v);
    }
    h.encode(data);
}

/// A sealed node at `location`: `keys` with their `values` packed one after the other
/// (`header.value_size` bytes each). `header.nr_entries` and `blocknr` are set here.
///
/// A one-leaf btree of three 4-byte values, written to an in-memory image and read
/// back through the checks every reader makes:
///
/// ```rust
/// use dm_persistent_data::io::MemIo;
/// use dm_persistent_data::btree::{pack_node, NodeHeader, NodeView};
/// use dm_persistent_data::{read_block, write_block};
/// use dm_persistent_data::units::MetaBlock;
///
/// let at = MetaBlock::new(1);
/// let values: Vec<u8> = [10u32, 20, 30].iter().flat_map(|v| v.to_le_bytes()).collect();
/// let leaf = pack_node(at, NodeHeader::empty(false, 4), &[3, 5, 8], &values);
/// let io = MemIo::new(2);
/// write_block(&io, at, &leaf)?;
///
/// let data = read_block(&io, at)?;
/// let node = NodeView::parse(at, &data)?;
/// assert!(node.is_leaf());
/// assert_eq!(node.keys(), [3, 5, 8]);
/// assert_eq!(node.value(1), 20u32.to_le_bytes());
///
/// // The node records its own location: the same bytes at block 0 are refused.
/// assert!(NodeView::parse(MetaBlock::new(0), &data).is_err());
/// # Ok::<(), dm_persistent_data::Error>(())
/// ```
pub fn pack_node(
    location: MetaBlock,
    mut header: NodeHeader,
    keys: &[u64],
    values: &[u8],
) -> Box<BlockBuf> {
    let mut b = Box::new([0u8; BLOCK_SIZE]);
    header.blocknr = location;
    header.nr_entries = keys.len() as u32;
    header.encode(&mut b);
    for (i, &k) in keys.iter().enumerate() {
        put_key(&mut b, i, k);
    }
    let o = header.value_offset(0);
    b[o..o + values.len()].copy_from_slice(values);
    checksum::seal(&mut b, BlockKind::BtreeNode);
    b
}

/// A node whose header has been checked, borrowed from its block.
#[derive(Debug, Clone, Copy)]
pub struct NodeView<'a> {
    /// Where the node was read from.
    pub block: MetaBlock,
    data: &'a BlockBuf,
    header: NodeHeader,
    /// `INTERNAL_FLAG` or `LEAF_FLAG`.
    pub flags: u32,
    /// How many entries are in use (at most `max_entries`).
    pub nr_entries: u32,
    /// The node's capacity.
    pub max_entries: u32,
    /// Bytes per value (8 in an internal node).
    pub value_size: u32,
}

impl<'a> NodeView<'a> {
    /// Validates the node read from `block`: checksum, blocknr, flags, sizes, and (for
    /// internal nodes) value size 8. Leaf value size is checked by the caller, which
    /// knows the tree.
    pub fn parse(block: MetaBlock, data: &'a BlockBuf) -> Result<NodeView<'a>> {
        checksum::verify(data, BlockKind::BtreeNode, block)?;
        NodeView::decode(block, data)
            .map_err(|f| Error::invalid(block, BlockKind::BtreeNode, f.to_string()))
    }

    /// Decodes a node whose checksum the caller has verified (or that was never sealed)
    /// and checks its header's shape.
    pub fn decode(block: MetaBlock, data: &'a BlockBuf) -> std::result::Result<Self, NodeFault> {
        let header = NodeHeader::decode(data);
        header.check_shape()?;
        Ok(NodeView {
            block,
            data,
            header,
            flags: header.flags,
            nr_entries: header.nr_entries,
            max_entries: header.max_entries,
            value_size: header.value_size,
        })
    }

    /// The decoded header.
    pub fn header(&self) -> &NodeHeader {
        &self.header
    }

    /// True for a leaf.
    pub fn is_leaf(&self) -> bool {
        self.header.is_leaf()
    }

    /// Key `i` (`i < nr_entries`).
    pub fn key(&self, i: usize) -> u64 {
        get_key(self.data, i)
    }

    /// Keys `0..nr_entries`.
    pub fn keys(&self) -> Vec<u64> {
        (0..self.nr_entries as usize).map(|i| self.key(i)).collect()
    }

    /// Value `i` as raw bytes.
    pub fn value(&self, i: usize) -> &'a [u8] {
        get_value(self.data, &self.header, i)
    }

    /// Value `i` read as a block pointer (child of an internal node, array block).
    pub fn value_block(&self, i: usize) -> MetaBlock {
        get_block(self.value(i), 0)
    }

    /// Requires the leaf value size `expected`.
    pub fn check_leaf_value_size(&self, expected: u32) -> Result<()> {
        self.header
            .check_leaf_value_size(expected)
            .map_err(|f| Error::invalid(self.block, BlockKind::BtreeNode, f.to_string()))
    }
}

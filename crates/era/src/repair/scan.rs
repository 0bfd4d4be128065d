//! A scan of every block of the device, for when the superblock or the roots it names
//! cannot be trusted: every block is identified by its checksum and self block number.
//! The scan keeps what each block is (a superblock copy, a btree node's entries, an
//! array block's header), never an array block's values: a metadata block's worth of
//! state at most for each index node, a few bytes for each array block.

use crate::io::BlockIo;
use crate::pdata::array::block::{array_max_entries, values, ArrayHeader};
use crate::pdata::btree::NodeView;
use crate::pdata::checksum::{self, BlockKind};
use crate::pdata::read_block;
use crate::pdata::space_map::MAX_METADATA_BLOCKS;
use crate::superblock::{Superblock, WritesetRoot, MAGIC, VERSION};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use crate::Error;
use std::collections::{BTreeSet, HashMap};

/// Blocks read at once during the scan.
const SCAN_CHUNK: u64 = 256;

/// A btree node with 8-byte values found by the scan.
#[derive(Debug, Clone)]
pub struct Node8 {
    pub leaf: bool,
    pub entries: Vec<(u64, MetaBlock)>,
}

/// Everything the scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The blocks scanned.
    pub blocks: u64,
    pub snapshots: Vec<(MetaBlock, Superblock)>,
    pub nodes8: HashMap<MetaBlock, Node8>,
    /// Writeset-tree leaf entries: (era, nr_bits, root).
    pub writeset_entries: BTreeSet<(u64, u32, MetaBlock)>,
    /// Array blocks: their headers.
    pub arrays: HashMap<MetaBlock, ArrayHeader>,
}

/// The header of `data` read from `block`, if it is an array block of 4- or 8-byte
/// values that passes its checksum and the capacity writers use.
pub fn array_block(block: MetaBlock, data: &BlockBuf) -> Option<ArrayHeader> {
    if checksum::identify(data) != Some(BlockKind::ArrayBlock) {
        return None;
    }
    checksum::verify(data, BlockKind::ArrayBlock, block).ok()?;
    let h = ArrayHeader::decode(data);
    let (max, nr, vs) = (h.max_entries, h.nr_entries, h.value_size);
    ((vs == 4 || vs == 8) && max == array_max_entries(vs as usize) && nr <= max).then_some(h)
}

/// The raw values of the array block at `block`, of `value_size`-byte values, read again
/// and checked as the scan checks it.
pub fn array_values(io: &dyn BlockIo, block: MetaBlock, value_size: u32) -> Option<Vec<u8>> {
    let data = read_block(io, block).ok()?;
    let h = array_block(block, &data).filter(|h| h.value_size == value_size)?;
    Some(values(&data, value_size as usize, h.nr_entries as usize).to_vec())
}

/// [`array_values`] of a block the scan found to be an array block of `value_size`-byte
/// values: that it no longer reads as one is an error.
pub fn array_values_again(
    io: &dyn BlockIo,
    block: MetaBlock,
    value_size: u32,
) -> Result<Vec<u8>, Error> {
    let data = read_block(io, block).map_err(|e| Error::reread(block, &e.to_string()))?;
    let h = array_block(block, &data)
        .filter(|h| h.value_size == value_size)
        .ok_or_else(|| {
            Error::reread(
                block,
                &format!("no longer an array block of {value_size}-byte values"),
            )
        })?;
    Ok(values(&data, value_size as usize, h.nr_entries as usize).to_vec())
}

impl Scan {
    fn take(&mut self, block: MetaBlock, data: &BlockBuf) {
        let Some(kind) = checksum::identify(data) else {
            return;
        };
        if checksum::verify(data, kind, block).is_err() {
            return;
        }
        match kind {
            BlockKind::Superblock => {
                let sb = Superblock::decode(data);
                if sb.magic == MAGIC && sb.version == VERSION {
                    self.snapshots.push((block, sb));
                }
            }
            BlockKind::BtreeNode => {
                let Ok(node) = NodeView::parse(block, data) else {
                    return;
                };
                let n = node.nr_entries as usize;
                match node.value_size {
                    8 => {
                        let entries = (0..n).map(|i| (node.key(i), node.value_block(i))).collect();
                        self.nodes8.insert(
                            block,
                            Node8 {
                                leaf: node.is_leaf(),
                                entries,
                            },
                        );
                    }
                    12 if node.is_leaf() => {
                        for i in 0..n {
                            let ws = WritesetRoot::unpack(node.value(i));
                            self.writeset_entries
                                .insert((node.key(i), ws.nr_bits, ws.root));
                        }
                    }
                    _ => {}
                }
            }
            BlockKind::ArrayBlock => {
                if let Some(h) = array_block(block, data) {
                    self.arrays.insert(block, h);
                }
            }
            BlockKind::Bitmap | BlockKind::Index => {}
        }
    }

    /// Whether a leaf indexes an array of value size `vs`: at least one of the blocks it
    /// points to is such an array block and none is another kind of array block (the
    /// others are lost: a stale leaf whose blocks were reused points to other kinds).
    pub fn leaf_targets(&self, node: &Node8, vs: u32) -> bool {
        let mut found = false;
        for (_, p) in &node.entries {
            match self.arrays.get(p) {
                Some(a) if a.value_size == vs => found = true,
                Some(_) => return false,
                None => {}
            }
        }
        node.leaf && found
    }
}

/// Reads every block of the device once (up to the format's limit).
pub fn scan(io: &dyn BlockIo) -> Scan {
    let mut s = Scan {
        blocks: io.nr_blocks().min(MAX_METADATA_BLOCKS),
        ..Scan::default()
    };
    // Block 0 too: a superblock swapped away leaves something else there.
    let mut first = 0;
    let mut buf = vec![0u8; SCAN_CHUNK as usize * BLOCK_SIZE];
    while first < s.blocks {
        let n = SCAN_CHUNK.min(s.blocks - first);
        let buf = &mut buf[..n as usize * BLOCK_SIZE];
        if io.read_blocks(MetaBlock::new(first), buf).is_ok() {
            for (i, chunk) in buf.chunks_exact(BLOCK_SIZE).enumerate() {
                if let Ok(data) = <&BlockBuf>::try_from(chunk) {
                    s.take(MetaBlock::new(first + i as u64), data);
                }
            }
        } else {
            // Read one by one: an unreadable block is just not found.
            for b in (first..first + n).map(MetaBlock::new) {
                let mut data = [0u8; BLOCK_SIZE];
                if io.read_block(b, &mut data).is_ok() {
                    s.take(b, &data);
                }
            }
        }
        first += n;
    }
    s
}

//! Damaging kernel images for the emulator's robustness tests: a copy-on-write device
//! over a shared base image, the writeset tree's leaves, and runs bounded in time.

use super::null_origin::NullOrigin;
use era_tools::emulate::runner::RunConfig;
use era_tools::era::superblock::Superblock;
use era_tools::io::BlockIo;
use era_tools::pdata::btree::NodeView;
use era_tools::pdata::checksum::{identify, seal};
use era_tools::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::collections::HashMap;
use std::io;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// A device reading `base` except for the blocks written (or patched) since.
pub struct OverlayIo {
    base: Arc<Vec<u8>>,
    changed: Mutex<HashMap<MetaBlock, BlockBuf>>,
}

impl OverlayIo {
    pub fn new(base: Arc<Vec<u8>>) -> OverlayIo {
        OverlayIo {
            base,
            changed: Mutex::new(HashMap::new()),
        }
    }

    /// Applies `f` to `block` and re-seals its checksum (when the block was a valid
    /// block of a known kind), so that the damage gets past the checksum.
    pub fn patch(&self, block: MetaBlock, f: impl FnOnce(&mut BlockBuf)) {
        let mut b = [0u8; BLOCK_SIZE];
        self.read_block(block, &mut b).unwrap();
        let kind = identify(&b);
        f(&mut b);
        if let Some(kind) = kind {
            seal(&mut b, kind);
        }
        self.write_block(block, &b).unwrap();
    }
}

impl BlockIo for OverlayIo {
    fn nr_blocks(&self) -> u64 {
        (self.base.len() / BLOCK_SIZE) as u64
    }
    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        if let Some(b) = self.changed.lock().unwrap().get(&block) {
            buf.copy_from_slice(b);
            return Ok(());
        }
        let o = block.index().and_then(|b| b.checked_mul(BLOCK_SIZE));
        match o.and_then(|o| self.base.get(o..o + BLOCK_SIZE)) {
            Some(d) => {
                buf.copy_from_slice(d);
                Ok(())
            }
            None => Err(io::Error::other(format!("block {block} beyond the device"))),
        }
    }
    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        if block >= MetaBlock::new(self.nr_blocks()) {
            return Err(io::Error::other(format!("block {block} beyond the device")));
        }
        self.changed.lock().unwrap().insert(block, *buf);
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

fn block_of(img: &[u8], b: MetaBlock) -> &BlockBuf {
    let o = b.index().unwrap() * BLOCK_SIZE;
    img[o..o + BLOCK_SIZE].try_into().unwrap()
}

/// The superblock of an image.
pub fn superblock(img: &[u8]) -> Superblock {
    Superblock::decode(block_of(img, MetaBlock::new(0)))
}

/// The leaves of the (valid) writeset tree of an image, left to right.
pub fn writeset_leaves(img: &[u8]) -> Vec<MetaBlock> {
    fn walk(img: &[u8], b: MetaBlock, out: &mut Vec<MetaBlock>) {
        let n = NodeView::parse(b, block_of(img, b)).unwrap();
        if n.is_leaf() {
            out.push(b);
        } else {
            for i in 0..n.nr_entries as usize {
                walk(img, n.value_block(i), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(img, superblock(img).writeset_tree_root, &mut out);
    out
}

/// The keys (eras) of a btree leaf.
pub fn leaf_keys(img: &[u8], leaf: MetaBlock) -> Vec<u64> {
    let n = NodeView::parse(leaf, block_of(img, leaf)).unwrap();
    (0..n.nr_entries as usize).map(|i| n.key(i)).collect()
}

/// Byte offset of key `i` in a btree node.
pub fn key_offset(i: usize) -> usize {
    era_tools::pdata::btree::NODE_HEADER_SIZE + 8 * i
}

/// A run of the emulator on `meta` with the table of the image's superblock and an
/// origin that keeps no data.
pub fn config_for(meta: Arc<dyn BlockIo>, img: &[u8]) -> RunConfig {
    let sb = superblock(img);
    let bytes = u64::from(sb.nr_blocks) * u64::from(sb.data_block_size) * 512;
    RunConfig {
        meta,
        origin: Arc::new(NullOrigin(bytes.max(4096))),
        block_size: sb.data_block_size,
        length: None,
        sync: false,
        meta_name: "meta".into(),
        origin_name: "origin".into(),
    }
}

/// Runs `f` on a thread of its own and returns its result; panics if it has not
/// finished within `limit` (a hang), naming `what`.
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// The nodes of the (valid) btree at `root`, and the u64 at `offset` of every leaf
/// value (the array blocks of a dm-array index at 0, a writeset's bitset at 4).
pub fn tree_blocks(img: &[u8], root: MetaBlock, offset: usize) -> (Vec<MetaBlock>, Vec<MetaBlock>) {
    let (mut nodes, mut values) = (vec![root], Vec::new());
    let n = NodeView::parse(root, block_of(img, root)).unwrap();
    for i in 0..n.nr_entries as usize {
        if n.is_leaf() {
            let v = &n.value(i)[offset..offset + 8];
            values.push(MetaBlock::new(u64::from_le_bytes(v.try_into().unwrap())));
        } else {
            let (c, v) = tree_blocks(img, n.value_block(i), offset);
            nodes.extend(c);
            values.extend(v);
        }
    }
    (nodes, values)
}

/// The blocks the digest reads or changes: the writeset tree, each archived bitset
/// (index nodes and array blocks) and the era array.
pub fn digest_blocks(img: &[u8]) -> Vec<MetaBlock> {
    let sb = superblock(img);
    let array = |root| {
        let (mut nodes, blocks) = tree_blocks(img, root, 0);
        nodes.extend(blocks);
        nodes
    };
    let (mut out, bitsets) = tree_blocks(img, sb.writeset_tree_root, 4);
    for b in bitsets {
        out.extend(array(b));
    }
    out.extend(array(sb.era_array_root));
    out
}

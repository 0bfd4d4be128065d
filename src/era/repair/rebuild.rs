//! Rebuilding an unreadable superblock from a scan of the device.
//!
//! Every block is identified by its checksum and self block number. The kernel's
//! copy-on-write leaves earlier versions of its structures on the device, and without
//! the superblock nothing tells the live versions from the stale ones, so the rebuild
//! takes every version and keeps the latest era any of them gives a block:
//!
//! * era array: every btree leaf whose values are era-array blocks gives candidates for
//!   its array-block indices; each block gets the highest era of all candidates;
//!   `nr_blocks` is the longest array found (or a snapshot copy's, if longer);
//! * writesets: every writeset-tree leaf gives (era, bitset) pairs; all readable ones
//!   are merged per era;
//! * a bitset that no writeset-tree leaf refers to may be the live current writeset:
//!   its bits count as written in the current era;
//! * current era: the highest era any structure or snapshot copy shows, one more if
//!   such an unreferenced bitset has bits set;
//! * data block size: the metadata snapshot copy's (a valid superblock elsewhere on
//!   the device), else the damaged superblock's if its magic is intact and the value
//!   plausible, else `--data-block-size`; otherwise the rebuild fails and says so.

use super::floor::Floor;
use super::view::{assemble, merge_writeset, Roots, Salvaged};
use super::{check_block_size, Loss, RepairOptions, Repaired};
use crate::era::ir::Writeset;
use crate::era::superblock::{Superblock, WritesetRoot, MAGIC, VERSION};
use crate::era::{Error, Result};
use crate::io::BlockIo;
use crate::pdata::array_block::{array_max_entries, values, ArrayHeader};
use crate::pdata::bitset::{mask_tail, nr_words};
use crate::pdata::btree::NodeView;
use crate::pdata::checksum::{self, BlockKind};
use crate::pdata::codec::{get_u32, get_u64};
use crate::pdata::salvage::salvage_array;
use crate::pdata::space_map::MAX_METADATA_BLOCKS;
use crate::units::{origin_blocks_ok, BlockBuf, Era, MetaBlock, BLOCK_SIZE};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Blocks read at once during the scan.
const SCAN_CHUNK: u64 = 256;

/// An array block found by the scan.
#[derive(Debug, Clone)]
struct ArrayBlock {
    value_size: u32,
    /// The values in use, raw.
    values: Vec<u8>,
}

/// A btree node with 8-byte values found by the scan.
#[derive(Debug, Clone)]
struct Node8 {
    leaf: bool,
    entries: Vec<(u64, MetaBlock)>,
}

/// Everything the scan found.
#[derive(Debug, Default)]
struct Scan {
    blocks: u64,
    snapshots: Vec<(MetaBlock, Superblock)>,
    nodes8: HashMap<MetaBlock, Node8>,
    /// Writeset-tree leaf entries: (era, root).
    writeset_entries: BTreeSet<(u64, u32, MetaBlock)>,
    arrays: HashMap<MetaBlock, ArrayBlock>,
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
                let h = ArrayHeader::decode(data);
                let (max, nr, vs) = (h.max_entries, h.nr_entries, h.value_size);
                if (vs == 4 || vs == 8) && max == array_max_entries(vs as usize) && nr <= max {
                    self.arrays.insert(
                        block,
                        ArrayBlock {
                            value_size: vs,
                            values: values(data, vs as usize, nr as usize).to_vec(),
                        },
                    );
                }
            }
            BlockKind::Bitmap | BlockKind::Index => {}
        }
    }

    /// The array blocks of value size `vs` a leaf points to, if all its values are such.
    fn leaf_targets(&self, node: &Node8, vs: u32) -> bool {
        node.leaf
            && !node.entries.is_empty()
            && node
                .entries
                .iter()
                .all(|(_, p)| self.arrays.get(p).is_some_and(|a| a.value_size == vs))
    }
}

/// Reads every block of the device once (up to the format's limit).
fn scan(io: &dyn BlockIo) -> Scan {
    let mut s = Scan {
        blocks: io.nr_blocks().min(MAX_METADATA_BLOCKS),
        ..Scan::default()
    };
    let mut first = 1;
    while first < s.blocks {
        let n = SCAN_CHUNK.min(s.blocks - first);
        let mut buf = vec![0u8; n as usize * BLOCK_SIZE];
        if io.read_blocks(MetaBlock::new(first), &mut buf).is_ok() {
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

/// Rebuilds the metadata of a device whose superblock is unreadable (`why`).
pub fn rebuild(io: &dyn BlockIo, opts: &RepairOptions, why: &Error) -> Result<Repaired> {
    let s = scan(io);
    let mut notes = vec![format!(
        "the superblock is unreadable ({why}); it is rebuilt from a scan of {} blocks",
        s.blocks
    )];
    let mut losses = Vec::new();
    let data_block_size = block_size(io, &s, opts, why, &mut notes)?;

    // The era array: every era-array leaf's candidates, the latest era winning.
    let m = u64::from(array_max_entries(4));
    let mut candidates: BTreeMap<u64, Vec<MetaBlock>> = BTreeMap::new();
    for node in s.nodes8.values().filter(|n| s.leaf_targets(n, 4)) {
        for &(k, p) in &node.entries {
            candidates.entry(k).or_default().push(p);
        }
    }
    let mut nr_blocks: u64 = 0;
    for (&k, ps) in &candidates {
        for p in ps {
            if let Some(a) = s.arrays.get(p) {
                let nr = (a.values.len() / 4) as u64;
                if nr > 0 {
                    nr_blocks = nr_blocks.max(k * m + nr);
                }
            }
        }
    }
    let snap_nr = s
        .snapshots
        .iter()
        .map(|(_, sb)| u64::from(sb.nr_blocks))
        .max();
    if let Some(n) = snap_nr.filter(|&n| n > nr_blocks) {
        notes.push(format!(
            "nr_blocks {n} is taken from a metadata snapshot copy, longer than any era array found"
        ));
        nr_blocks = n;
    }
    let nr_blocks = u32::try_from(nr_blocks)
        .ok()
        .filter(|&n| origin_blocks_ok(n))
        .ok_or_else(|| Error::Unrepairable {
            reason: format!("the superblock is unreadable ({why}) and the longest era array found has {nr_blocks} entries, not below 2^31"),
        })?;
    let mut era_array = vec![0u32; nr_blocks as usize];
    let mut known = vec![false; u64::from(nr_blocks).div_ceil(m) as usize];
    for (&k, ps) in &candidates {
        for p in ps {
            let Some(a) = s.arrays.get(p) else { continue };
            for (j, v) in a.values.chunks_exact(4).enumerate() {
                let b = k * m + j as u64;
                if let Some(e) = era_array.get_mut(b as usize) {
                    *e = (*e).max(get_u32(v, 0));
                }
            }
            if let Some(flag) = known.get_mut(k as usize) {
                *flag = true;
            }
        }
    }

    // The writesets: every readable one any writeset-tree leaf names.
    let mut writesets: BTreeMap<u32, Writeset> = BTreeMap::new();
    let mut referenced: HashSet<MetaBlock> = HashSet::new();
    let mut ignored = 0usize;
    for &(era, nr_bits, root) in &s.writeset_entries {
        let Ok(era) = u32::try_from(era) else {
            ignored += 1;
            continue;
        };
        if root.is_zero() || !origin_blocks_ok(nr_bits) {
            ignored += 1;
            continue;
        }
        mark_reachable(&s, root, &mut referenced, 0);
        let words = nr_words(u64::from(nr_bits));
        let a = salvage_array(io, root, words, 8, &|b| get_u64(b, 0));
        if !a.lost.is_empty() {
            ignored += 1;
            continue;
        }
        let mut bits = a.values;
        mask_tail(&mut bits, u64::from(nr_bits));
        merge_writeset(
            &mut writesets,
            Writeset {
                era: Era::new(era),
                nr_bits,
                bits,
            },
        );
    }
    if ignored > 0 {
        notes.push(format!(
            "{ignored} writeset-tree entries found by the scan could not be read whole and are taken for stale copies"
        ));
    }

    // Bitsets no writeset-tree leaf refers to: perhaps the live current writeset.
    let mut orphan = vec![0u64; nr_words(u64::from(nr_blocks)) as usize];
    let wm = u64::from(array_max_entries(8));
    for (block, node) in &s.nodes8 {
        if referenced.contains(block) || !s.leaf_targets(node, 8) {
            continue;
        }
        for &(k, p) in &node.entries {
            let Some(a) = s.arrays.get(&p) else { continue };
            for (j, v) in a.values.chunks_exact(8).enumerate() {
                if let Some(w) = orphan.get_mut((k * wm + j as u64) as usize) {
                    *w |= get_u64(v, 0);
                }
            }
        }
    }
    mask_tail(&mut orphan, u64::from(nr_blocks));
    let orphan_bits = orphan.iter().any(|&w| w != 0);

    let highest = era_array
        .iter()
        .copied()
        .chain(writesets.keys().copied())
        .chain(s.snapshots.iter().map(|(_, sb)| sb.current_era.get()))
        .max()
        .unwrap_or(0);
    let current_era = if orphan_bits {
        highest.saturating_add(1)
    } else {
        highest
    };
    notes.push(format!(
        "rebuilt superblock: data block size {data_block_size}, nr_blocks {nr_blocks} (the longest era array found), current era {current_era} (the highest era found{})",
        if orphan_bits {
            ", plus one for bitsets no writeset tree refers to, which may be the live current writeset and count as written in it"
        } else {
            ""
        }
    ));
    notes.push(
        "the true current era may be higher than the rebuilt one if eras passed without writes the metadata still shows".into(),
    );
    if orphan_bits {
        merge_writeset(
            &mut writesets,
            Writeset {
                era: Era::new(current_era),
                nr_bits: nr_blocks,
                bits: orphan,
            },
        );
    }

    // Every block keeps the latest era any version gives it.
    let mut floor = Floor::new(nr_blocks);
    for (i, &e) in era_array.iter().enumerate() {
        floor.raise(i as u64, i as u64 + 1, e);
    }
    for (k, &ok) in known.iter().enumerate() {
        if !ok {
            let (first, end) = (k as u64 * m, ((k as u64 + 1) * m).min(u64::from(nr_blocks)));
            losses.push(Loss::new(
                MetaBlock::new(0),
                format!(
                    "era array: no readable era-array block was found for blocks {first}..{end}; they get the current era {current_era}"
                ),
            ));
            floor.raise(first, end, current_era);
        }
    }
    let roots = Roots {
        data_block_size,
        nr_blocks,
        current_era,
        writeset_tree_root: MetaBlock::new(0),
        era_array_root: MetaBlock::new(0),
        current_writeset: None,
    };
    let metadata = assemble(
        &roots,
        Salvaged {
            writesets,
            era_array,
            floor,
        },
        &mut notes,
    );
    Ok(Repaired {
        metadata,
        losses,
        notes,
        rebuilt_superblock: true,
    })
}

/// Marks the bitset nodes below `root` (as scanned) as referenced.
fn mark_reachable(s: &Scan, root: MetaBlock, seen: &mut HashSet<MetaBlock>, depth: usize) {
    if depth >= crate::pdata::btree::MAX_DEPTH || !seen.insert(root) {
        return;
    }
    if let Some(node) = s.nodes8.get(&root) {
        if !node.leaf {
            for &(_, child) in &node.entries {
                mark_reachable(s, child, seen, depth + 1);
            }
        }
    }
}

/// The data block size: given, from a snapshot copy, or from the damaged superblock.
fn block_size(
    io: &dyn BlockIo,
    s: &Scan,
    opts: &RepairOptions,
    why: &Error,
    notes: &mut Vec<String>,
) -> Result<u32> {
    if let Some(bs) = opts.data_block_size {
        check_block_size(bs)?;
        return Ok(bs);
    }
    let plausible = |bs: u32| check_block_size(bs).is_ok();
    if let Some((at, sb)) = s
        .snapshots
        .iter()
        .filter(|(_, sb)| plausible(sb.data_block_size))
        .max_by_key(|(_, sb)| sb.current_era)
    {
        notes.push(format!(
            "the data block size {} is taken from the metadata snapshot copy at block {at}",
            sb.data_block_size
        ));
        return Ok(sb.data_block_size);
    }
    let mut data = [0u8; BLOCK_SIZE];
    if io.read_block(MetaBlock::new(0), &mut data).is_ok() {
        let sb = Superblock::decode(&data);
        if sb.magic == MAGIC && plausible(sb.data_block_size) {
            notes.push(format!(
                "the data block size {} is taken from the damaged superblock and cannot be verified: check it against the era target's table line (or give --data-block-size)",
                sb.data_block_size
            ));
            return Ok(sb.data_block_size);
        }
    }
    Err(Error::Unrepairable {
        reason: format!(
            "the superblock is unreadable ({why}) and no metadata snapshot copy records the data block size: give it with --data-block-size (the era target's third table argument, in sectors)"
        ),
    })
}

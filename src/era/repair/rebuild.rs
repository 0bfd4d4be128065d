//! Rebuilding an unreadable superblock from a scan of the device.
//!
//! Every block is identified by its checksum and self block number. The kernel's
//! copy-on-write leaves earlier versions of its structures on the device, and without
//! the superblock nothing tells the live versions from the stale ones, so the rebuild
//! takes every version and keeps the latest era any of them gives a block:
//!
//! * era array: every btree leaf that points to era-array blocks (and to no other kind)
//!   gives candidates for its array-block indices; each block gets the highest era of
//!   all candidates, and the blocks of an index no readable candidate covers get the
//!   current era;
//! * `nr_blocks`: the largest any surviving structure describes (the era arrays found,
//!   a lost last era-array block at its longest, the writesets' `nr_bits`, a snapshot
//!   copy's), bounded by what the device can hold; when nothing tells it, the rebuild
//!   refuses and asks for `--nr-blocks`;
//! * writesets: every writeset-tree leaf gives (era, bitset) pairs, merged per era;
//!   the bits of a bitset that cannot be read whole count as written in its era (a
//!   stale copy cannot be told from the live one);
//! * a bitset that no writeset-tree leaf refers to may be the live current writeset:
//!   its bits count as written in the current era;
//! * current era: the highest era any structure or snapshot copy shows, one more if
//!   such an unreferenced bitset has bits set;
//! * data block size: the metadata snapshot copy's (a valid superblock elsewhere on
//!   the device), else the damaged superblock's if its magic is intact and the value
//!   plausible, else `--data-block-size`; otherwise the rebuild fails and says so.

use super::evidence::{capacity, lose_last_block, nr_bits as nr_bits_of};
use super::floor::Floor;
use super::view::{assemble, merge_writeset, Roots, Salvaged};
use super::{check_block_size, Loss, RepairOptions, Repaired};
use crate::era::ir::Writeset;
use crate::era::superblock::{Superblock, WritesetRoot, MAGIC, VERSION};
use crate::era::{Error, Result};
use crate::io::BlockIo;
use crate::pdata::array::block::{array_max_entries, values, ArrayHeader};
use crate::pdata::bitset::{mask_tail, nr_words};
use crate::pdata::btree::NodeView;
use crate::pdata::checksum::{self, BlockKind};
use crate::pdata::codec::{get_u32, get_u64};
use crate::pdata::salvage::salvage_index;
use crate::pdata::space_map::MAX_METADATA_BLOCKS;
use crate::units::{BlockBuf, Era, MetaBlock, BLOCK_SIZE};
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

    /// Whether a leaf indexes an array of value size `vs`: at least one of the blocks it
    /// points to is such an array block and none is another kind of array block (the
    /// others are lost: a stale leaf whose blocks were reused points to other kinds).
    fn leaf_targets(&self, node: &Node8, vs: u32) -> bool {
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
fn scan(io: &dyn BlockIo) -> Scan {
    let mut s = Scan {
        blocks: io.nr_blocks().min(MAX_METADATA_BLOCKS),
        ..Scan::default()
    };
    // Block 0 too: a superblock swapped away leaves something else there.
    let mut first = 0;
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
    let cap = capacity(io);
    let mut candidates: BTreeMap<u64, Vec<MetaBlock>> = BTreeMap::new();
    for node in s.nodes8.values().filter(|n| s.leaf_targets(n, 4)) {
        for &(k, p) in &node.entries {
            candidates.entry(k).or_default().push(p);
        }
    }
    let nr_blocks = origin_size(io, &s, &candidates, opts.nr_blocks, &mut notes)?;
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

    // The writesets: every one any writeset-tree leaf names. What cannot be read of
    // one counts as written in its era: nothing tells a stale copy from the live one.
    let mut floor = Floor::new(nr_blocks);
    let mut writesets: BTreeMap<u32, Writeset> = BTreeMap::new();
    let mut referenced: HashSet<MetaBlock> = HashSet::new();
    for &(era, nr_bits, root) in &s.writeset_entries {
        let Ok(era) = u32::try_from(era) else {
            continue;
        };
        if root.is_zero() {
            losses.push(Loss::new(
                MetaBlock::new(0),
                format!("a writeset of era {era} has bitset root 0; every block counts as written in era {era}"),
            ));
            floor.raise_all(era);
            continue;
        }
        mark_reachable(&s, root, &mut referenced, 0);
        let index = salvage_index::<u64>(io, root);
        let stated = nr_bits;
        let (nr_bits, suspect) = nr_bits_of(stated, &index.extent(io), nr_blocks, cap);
        let words = nr_words(u64::from(nr_bits));
        let mut a = index.values(io, words);
        if suspect {
            lose_last_block(
                &mut a.lost,
                words,
                u64::from(array_max_entries(8)),
                root,
                format!("its bitset's last block and its nr_bits {stated} disagree on the bitset's length; one of them is wrong"),
            );
        }
        for l in &a.lost {
            let (first, end) = (l.first * 64, (l.end * 64).min(u64::from(nr_bits)));
            losses.push(Loss::new(
                l.block,
                format!(
                    "a writeset of era {era} found by the scan: the bits of blocks {first}..{end} could not be read ({}); they count as written in era {era}",
                    l.reason
                ),
            ));
            floor.raise(first, end, era);
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

    // Bitsets no writeset-tree leaf refers to: perhaps the live current writeset.
    let mut orphan = vec![0u64; nr_words(u64::from(nr_blocks)) as usize];
    let wm = u64::from(array_max_entries(8));
    for (block, node) in &s.nodes8 {
        if referenced.contains(block) || !node.leaf || s.leaf_targets(node, 4) {
            continue;
        }
        let bitset = s.leaf_targets(node, 8);
        for &(k, p) in &node.entries {
            let Some(a) = s.arrays.get(&p) else {
                // A lost block of what may be the live writeset: every bit it holds
                // counts as set.
                let first = word_at(k, wm, 0).unwrap_or(usize::MAX);
                let end = word_at(k.saturating_add(1), wm, 0).unwrap_or(usize::MAX);
                for w in orphan.iter_mut().take(end).skip(first) {
                    *w = u64::MAX;
                }
                continue;
            };
            if !bitset {
                continue;
            }
            for (j, v) in a.values.chunks_exact(8).enumerate() {
                if let Some(w) = word_at(k, wm, j).and_then(|i| orphan.get_mut(i)) {
                    *w |= get_u64(v, 0);
                }
            }
        }
    }
    // Bitset blocks no leaf found refers to (their index is lost): they may be the
    // live writeset's at any place, so their bits count at every place.
    let listed: HashSet<MetaBlock> = s
        .nodes8
        .values()
        .filter(|n| n.leaf)
        .flat_map(|n| n.entries.iter().map(|e| e.1))
        .collect();
    let places = (orphan.len() as u64).div_ceil(wm);
    for (block, a) in &s.arrays {
        if a.value_size != 8 || listed.contains(block) {
            continue;
        }
        for k in 0..places {
            for (j, v) in a.values.chunks_exact(8).enumerate() {
                if let Some(w) = word_at(k, wm, j).and_then(|i| orphan.get_mut(i)) {
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
        "rebuilt superblock: data block size {data_block_size}, nr_blocks {nr_blocks}, current era {current_era} (the highest era found{})",
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
            nr_blocks,
            current_era,
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
        lossless: false,
    })
}

/// Raises `s` to the latest era any version of the era array or of a writeset found on
/// the device gives each block, for when the roots `s` was read from may be wrong (the
/// checker finds errors): a root pointing at a stale copy, a block swapped. Every
/// version found is older than or as old as the live one, so this never raises a block
/// beyond what its history allows but for blocks reused since; the origin size grows
/// to the longest era array found.
pub fn raise_to_versions(io: &dyn BlockIo, s: &mut Salvaged, notes: &mut Vec<String>) {
    let scan = scan(io);
    let cap = usize::try_from(capacity(io)).unwrap_or(usize::MAX);
    let m = u64::from(array_max_entries(4));
    let mut latest: Vec<u32> = Vec::new();
    for node in scan.nodes8.values().filter(|n| scan.leaf_targets(n, 4)) {
        for &(k, p) in &node.entries {
            let Some(a) = scan.arrays.get(&p).filter(|a| a.value_size == 4) else {
                continue;
            };
            for (j, v) in a.values.chunks_exact(4).enumerate() {
                let Some(b) = usize::try_from(k * m + j as u64).ok().filter(|&b| b < cap) else {
                    break;
                };
                if latest.len() <= b {
                    latest.resize(b + 1, 0);
                }
                latest[b] = latest[b].max(get_u32(v, 0));
            }
        }
    }
    let nr_blocks = u32::try_from(latest.len()).map_or(s.nr_blocks, |n| n.max(s.nr_blocks));
    latest.resize(nr_blocks as usize, 0);
    for &(era, nr_bits, root) in &scan.writeset_entries {
        let Ok(era) = u32::try_from(era) else {
            continue;
        };
        if root.is_zero() {
            continue;
        }
        let bits = u64::from(nr_bits.min(nr_blocks));
        let a = salvage_index::<u64>(io, root).values(io, nr_words(bits));
        for (w, &word) in a.values.iter().enumerate() {
            for bit in (0..64).filter(|i| word >> i & 1 == 1) {
                if let Some(e) = latest
                    .get_mut(w * 64 + bit)
                    .filter(|_| ((w * 64 + bit) as u64) < bits)
                {
                    *e = (*e).max(era);
                }
            }
        }
    }
    if nr_blocks > s.nr_blocks {
        notes.push(format!(
            "nr_blocks {nr_blocks} is taken from the longest era array found on the device, longer than the one the superblock names ({})",
            s.nr_blocks
        ));
        s.era_array.resize(nr_blocks as usize, 0);
        s.floor.grow(nr_blocks);
        s.nr_blocks = nr_blocks;
    }
    let mut raised = 0u64;
    for (b, &e) in latest.iter().enumerate() {
        if e > 0 {
            s.floor.raise(b as u64, b as u64 + 1, e);
            raised += 1;
        }
    }
    if let Some(&top) = latest.iter().max() {
        s.current_era = s.current_era.max(top);
    }
    notes.push(format!(
        "era_check finds errors, so the roots may be wrong: every block keeps the latest era any version of the era array or of a writeset found by a scan of {} blocks gives it ({raised} blocks have one)",
        scan.blocks
    ));
}

/// The origin size, as the largest any surviving structure describes: the era-array
/// blocks found (an era-array leaf's key whose block is lost reaches to the end of that
/// block), the writesets' `nr_bits`, the metadata snapshot copies'; all bounded by what
/// the device can hold, and `--nr-blocks` if given. Fails when nothing describes it.
fn origin_size(
    io: &dyn BlockIo,
    s: &Scan,
    candidates: &BTreeMap<u64, Vec<MetaBlock>>,
    given: Option<u32>,
    notes: &mut Vec<String>,
) -> Result<u32> {
    let m = u64::from(array_max_entries(4));
    let mut found: u64 = 0;
    let mut lost_key: Option<u64> = None;
    for (&k, ps) in candidates {
        let lens = ps
            .iter()
            .filter_map(|p| s.arrays.get(p))
            .map(|a| (a.values.len() / 4) as u64)
            .filter(|&nr| nr > 0);
        match lens.max() {
            Some(nr) => found = found.max(k * m + nr),
            None => lost_key = Some(k),
        }
    }
    let mut evidence = vec![(found, "the longest era array found".to_string())];
    if let Some(k) = s.writeset_entries.iter().map(|e| e.1).max() {
        evidence.push((u64::from(k), "a writeset's nr_bits".into()));
    }
    if let Some(n) = given {
        evidence.push((u64::from(n), "--nr-blocks".into()));
    }
    for (at, sb) in &s.snapshots {
        let len = salvage_index::<u32>(io, sb.era_array_root).extent(io).min;
        let n = u64::from(sb.nr_blocks).min(len.max(found));
        evidence.push((n, format!("the metadata snapshot copy at block {at}")));
    }
    let (mut nr, mut from) = evidence
        .into_iter()
        .max_by_key(|e| e.0)
        .unwrap_or((0, String::new()));
    if let Some(k) = lost_key.filter(|&k| nr <= k * m) {
        nr = (k + 1) * m;
        from = format!("the era array's block {k}, which is lost, at its longest");
    }
    let nr = nr.min(capacity(io));
    if nr == 0 && !(s.arrays.is_empty() && s.writeset_entries.is_empty()) {
        return Err(Error::Unrepairable {
            reason: format!(
                "the superblock is unreadable and no structure found tells the origin's size ({} array blocks and {} writesets found, no era array among them): give it with --nr-blocks",
                s.arrays.len(),
                s.writeset_entries.len()
            ),
        });
    }
    notes.push(format!("nr_blocks {nr} is taken from {from}"));
    u32::try_from(nr).map_err(|_| Error::Unrepairable {
        reason: format!("the origin size {nr} found is not below 2^31"),
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

/// The index of word `j` of the bitset array block at index key `k` (`per_block` words a
/// block), or `None` when a key read from disk puts it beyond any bitset.
fn word_at(k: u64, per_block: u64, j: usize) -> Option<usize> {
    let i = k
        .checked_mul(per_block)?
        .checked_add(u64::try_from(j).ok()?)?;
    usize::try_from(i).ok()
}

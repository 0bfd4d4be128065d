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

use super::bits;
use super::evidence::capacity;
use super::floor::Floor;
use super::loss::{Loss, Lost, NoBitset, Whose};
use super::orphan::Orphans;
use super::plan::{Bits, Eras, WritesetPlan, CHUNK};
use super::scan::{scan, Scan};
use super::versions::{Versions, WritesetVersion};
use super::view::{assemble, merge, Salvaged};
use super::{check_block_size, RepairOptions, Repaired};
use crate::io::BlockIo;
use crate::pdata::array::block::array_max_entries;
use crate::pdata::bitset::nr_words;
use crate::pdata::salvage::salvage_index;
use crate::superblock::{Superblock, MAGIC};
use crate::units::{MetaBlock, BLOCK_SIZE};
use crate::{Error, Result};
use std::collections::{BTreeMap, HashSet};

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
    let mut versions = Versions::era_arrays(&s, capacity(io));
    let nr_blocks = origin_size(io, &s, &versions.eras, opts.nr_blocks, &mut notes)?;
    let mut floor = Floor::new(nr_blocks);
    let (mut writesets, referenced) = scanned_writesets(io, &s, nr_blocks, &mut losses, &mut floor);
    let orphan = orphan_bits(&s, &referenced, nr_blocks);
    let orphan_bits = orphan.any(io, CHUNK / 64)?;
    let current_era = rebuilt_current_era(io, &s, &versions, &writesets, nr_blocks, orphan_bits);
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
        merge(
            &mut writesets,
            current_era,
            nr_blocks,
            Bits::Orphans(orphan),
        );
    }
    // Every block keeps the latest era any version gives it; the blocks of an index no
    // readable version covers get the current era.
    for (first, end) in unknown_era_blocks(&s, &versions, nr_blocks) {
        losses.push(Loss::new(
            MetaBlock::new(0),
            Lost::EraArrayNotFound {
                first,
                end,
                current: current_era,
            },
        ));
        floor.raise(first, end, current_era);
    }
    versions.record(io);
    floor.raise_to(versions);
    let salvaged = Salvaged {
        nr_blocks,
        current_era,
        writesets,
        eras: Eras::Versions,
        floor,
        grow_limit: None,
    };
    let plan = assemble(io, data_block_size, salvaged, &mut notes)?;
    Ok(Repaired {
        plan,
        losses,
        notes,
        rebuilt_superblock: true,
        lossless: false,
    })
}

/// The writesets every writeset-tree leaf found names, merged per era, and the bitset
/// nodes they reach. What cannot be read of one counts as written in its era: nothing
/// tells a stale copy from the live one.
fn scanned_writesets(
    io: &dyn BlockIo,
    s: &Scan,
    nr_blocks: u32,
    losses: &mut Vec<Loss>,
    floor: &mut Floor,
) -> (BTreeMap<u32, WritesetPlan>, HashSet<MetaBlock>) {
    let cap = capacity(io);
    let mut writesets = BTreeMap::new();
    let mut referenced: HashSet<MetaBlock> = HashSet::new();
    for &(era, nr_bits, root) in &s.writeset_entries {
        let Ok(era) = u32::try_from(era) else {
            continue;
        };
        let whose = Whose::Scanned(era);
        if root.is_zero() {
            losses.push(Loss::new(
                MetaBlock::new(0),
                Lost::Bitset {
                    whose,
                    why: NoBitset::RootZero,
                },
            ));
            floor.raise_all(era);
            continue;
        }
        mark_reachable(s, root, &mut referenced, 0);
        let ws = crate::superblock::WritesetRoot { nr_bits, root };
        let sized = bits::size(io, ws, nr_blocks, cap);
        let used = sized.nr_bits;
        let b = bits::salvage(io, whose, ws, sized, losses, floor);
        merge(&mut writesets, era, used, b);
    }
    (writesets, referenced)
}

/// Where the bits of bitsets no writeset-tree leaf refers to are: perhaps the live
/// current writeset's. Kept as places on the device, read again when written.
fn orphan_bits(s: &Scan, referenced: &HashSet<MetaBlock>, nr_blocks: u32) -> Orphans {
    let mut orphan = Orphans::new(nr_blocks);
    for (block, node) in &s.nodes8 {
        if referenced.contains(block) || !node.leaf || s.leaf_targets(node, 4) {
            continue;
        }
        let bitset = s.leaf_targets(node, 8);
        for &(k, p) in &node.entries {
            if !s.arrays.contains_key(&p) {
                // A lost block of what may be the live writeset: every bit it holds
                // counts as set.
                orphan.lose(k);
            } else if bitset {
                orphan.place(k, p);
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
    for (&block, a) in &s.arrays {
        if a.value_size == 8 && !listed.contains(&block) {
            orphan.anywhere(block);
        }
    }
    orphan
}

/// The highest era any structure or snapshot copy shows, one more if bitsets no
/// writeset tree refers to have bits set.
fn rebuilt_current_era(
    io: &dyn BlockIo,
    s: &Scan,
    versions: &Versions,
    writesets: &BTreeMap<u32, WritesetPlan>,
    nr_blocks: u32,
    orphan_bits: bool,
) -> u32 {
    let mut highest = 0u32;
    versions.for_each_era_block(io, |first, eras| {
        let n = u64::from(nr_blocks)
            .saturating_sub(first)
            .min(eras.len() as u64) as usize;
        if let Some(&top) = eras[..n].iter().max() {
            highest = highest.max(top);
        }
    });
    let highest = writesets
        .keys()
        .copied()
        .chain(s.snapshots.iter().map(|(_, sb)| sb.current_era.get()))
        .fold(highest, u32::max);
    if orphan_bits {
        highest.saturating_add(1)
    } else {
        highest
    }
}

/// The ranges of blocks (one era-array block each) no readable version covers.
fn unknown_era_blocks(s: &Scan, versions: &Versions, nr_blocks: u32) -> Vec<(u64, u64)> {
    let m = u64::from(array_max_entries(4));
    let n = u64::from(nr_blocks);
    (0..n.div_ceil(m))
        .filter(|k| {
            !versions
                .eras
                .get(k)
                .is_some_and(|ps| ps.iter().any(|p| s.arrays.contains_key(p)))
        })
        .map(|k| (k * m, ((k + 1) * m).min(n)))
        .collect()
}

/// Raises `s` to the latest era any version of the era array or of a writeset found on
/// the device gives each block, for when the roots `s` was read from may be wrong (the
/// checker finds errors): a root pointing at a stale copy, a block swapped. Every
/// version found is older than or as old as the live one, so this never raises a block
/// beyond what its history allows but for blocks reused since; the origin size grows
/// to the longest era array found, within [`Salvaged::grow_limit`].
pub fn raise_to_versions(io: &dyn BlockIo, s: &mut Salvaged, notes: &mut Vec<String>) {
    let scan = scan(io);
    let cap = capacity(io);
    let m = u64::from(array_max_entries(4));
    let mut versions = Versions::era_arrays(&scan, cap);
    let mut longest = 0u64;
    for (&k, ps) in &versions.eras {
        for p in ps {
            if let Some(h) = scan
                .arrays
                .get(p)
                .filter(|h| h.value_size == 4 && h.nr_entries > 0)
            {
                let end = k.saturating_mul(m).saturating_add(u64::from(h.nr_entries));
                longest = longest.max(end.min(cap));
            }
        }
    }
    let longest = s.grow_limit.map_or(longest, |l| longest.min(u64::from(l)));
    let nr_blocks = u32::try_from(longest).map_or(s.nr_blocks, |n| n.max(s.nr_blocks));
    for &(era, nr_bits, root) in &scan.writeset_entries {
        let Ok(era) = u32::try_from(era) else {
            continue;
        };
        if root.is_zero() {
            continue;
        }
        versions.writesets.push(WritesetVersion {
            era,
            nr_bits: u64::from(nr_bits.min(nr_blocks)),
            index: salvage_index::<u64>(io, root, nr_words(cap)),
            lost: None,
        });
    }
    if nr_blocks > s.nr_blocks {
        notes.push(format!(
            "nr_blocks {nr_blocks} is taken from the longest era array found on the device, longer than the one the superblock names ({})",
            s.nr_blocks
        ));
        s.floor.grow(nr_blocks);
        s.nr_blocks = nr_blocks;
    }
    let (raised, top) = versions.reach(io, nr_blocks);
    if let Some(top) = top {
        s.current_era = s.current_era.max(top);
    }
    s.floor.raise_to(versions);
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
    let cap = capacity(io);
    let mut found: u64 = 0;
    let mut lost_key: Option<u64> = None;
    for (&k, ps) in candidates {
        let lens = ps
            .iter()
            .filter_map(|p| s.arrays.get(p))
            .map(|a| u64::from(a.nr_entries))
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
        let len = salvage_index::<u32>(io, sb.era_array_root, cap)
            .extent(io)
            .min;
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
    let nr = nr.min(cap);
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

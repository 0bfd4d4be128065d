//! Salvaging the structures one set of roots refers to: the writeset tree and its
//! bitsets, the current writeset and the era array. What cannot be read becomes a
//! [`Loss`] and is covered: unreadable era-array entries get the current era (a writeset
//! naming the block still decides its era, as in the undamaged fold), unreadable
//! writeset bits count as written in their writeset's era, and a writeset-tree subtree
//! whose eras are unknown counts every block as written in the latest era it may hold
//! (the last two through the [`Floor`]).

use super::floor::Floor;
use super::Loss;
use crate::era::ir::{EraMetadata, SuperblockIr, Writeset};
use crate::era::superblock::WritesetRoot;
use crate::era::writeset::WRITESET_VALUE_SIZE;
use crate::io::BlockIo;
use crate::pdata::bitset::{mask_tail, nr_words};
use crate::pdata::codec::{get_u32, get_u64};
use crate::pdata::salvage::{salvage_array, salvage_btree};
use crate::units::Era;
use crate::units::{origin_blocks_ok, MetaBlock};
use std::collections::BTreeMap;

/// The roots and sizes to salvage from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    pub data_block_size: u32,
    pub nr_blocks: u32,
    pub current_era: u32,
    pub writeset_tree_root: MetaBlock,
    pub era_array_root: MetaBlock,
    /// The live current writeset, when its root is not 0.
    pub current_writeset: Option<WritesetRoot>,
}

/// What salvaging one set of roots gave.
#[derive(Debug, Clone)]
pub struct Salvaged {
    /// Writesets by era, bits as read (lost words zero).
    pub writesets: BTreeMap<u32, Writeset>,
    /// The era array as read (lost entries zero).
    pub era_array: Vec<u32>,
    /// Lower bounds for what was lost.
    pub floor: Floor,
}

/// Reads everything `roots` refers to, recording every loss in `losses`.
pub fn salvage_roots(io: &dyn BlockIo, roots: &Roots, losses: &mut Vec<Loss>) -> Salvaged {
    let current = roots.current_era;
    let nr_blocks = roots.nr_blocks;
    let mut floor = Floor::new(nr_blocks);
    let mut writesets: BTreeMap<u32, Writeset> = BTreeMap::new();

    let tree = salvage_btree(io, roots.writeset_tree_root, WRITESET_VALUE_SIZE, &|v| {
        WritesetRoot::unpack(v)
    });
    for l in &tree.lost {
        if l.lo > u64::from(current) {
            continue;
        }
        let top = l.hi.map_or(current, |h| {
            h.saturating_sub(1).min(u64::from(current)) as u32
        });
        let eras = match l.hi {
            Some(h) => format!("eras {}..{}", l.lo, h.min(u64::from(current) + 1)),
            None => format!("eras from {}", l.lo),
        };
        losses.push(Loss::new(
            l.block,
            format!(
                "writeset tree: the writesets of {eras} could not be read ({}); every block counts as written in era {top}",
                l.reason
            ),
        ));
        floor.raise_all(top);
    }
    let mut sources: Vec<(u32, WritesetRoot, MetaBlock, &str)> = Vec::new();
    for &(key, ws) in &tree.entries {
        let Some(era) = u32::try_from(key).ok().filter(|&e| e <= current) else {
            losses.push(Loss::new(
                roots.writeset_tree_root,
                format!(
                    "writeset tree: an entry for era {key} is beyond the current era {current}; every block counts as written in era {current}"
                ),
            ));
            floor.raise_all(current);
            continue;
        };
        sources.push((era, ws, roots.writeset_tree_root, "writeset"));
    }
    if let Some(cw) = roots.current_writeset {
        sources.push((current, cw, MetaBlock::new(0), "current writeset"));
    }
    for (era, ws, holder, name) in sources {
        if ws.root.is_zero() || !origin_blocks_ok(ws.nr_bits) {
            let why = if ws.root.is_zero() {
                "its bitset root is 0".to_string()
            } else {
                format!("its nr_bits {} is not below 2^31", ws.nr_bits)
            };
            losses.push(Loss::new(
                holder,
                format!("{name} of era {era}: {why}; every block counts as written in era {era}"),
            ));
            floor.raise_all(era);
            continue;
        }
        let words = nr_words(u64::from(ws.nr_bits));
        let s = salvage_array(io, ws.root, words, 8, &|b| get_u64(b, 0));
        for l in &s.lost {
            let (first, end) = (l.first * 64, (l.end * 64).min(u64::from(ws.nr_bits)));
            losses.push(Loss::new(
                l.block,
                format!(
                    "{name} of era {era}: the bits of blocks {first}..{end} could not be read ({}); they count as written in era {era}",
                    l.reason
                ),
            ));
            floor.raise(first, end, era);
        }
        let mut bits = s.values;
        mask_tail(&mut bits, u64::from(ws.nr_bits));
        merge_writeset(
            &mut writesets,
            Writeset {
                era: Era::new(era),
                nr_bits: ws.nr_bits,
                bits,
            },
        );
    }

    let s = salvage_array(io, roots.era_array_root, u64::from(nr_blocks), 4, &|b| {
        get_u32(b, 0)
    });
    for l in &s.lost {
        losses.push(Loss::new(
            l.block,
            format!(
                "era array: the eras of blocks {}..{} could not be read ({}); blocks no writeset names get the current era {current}",
                l.first, l.end, l.reason
            ),
        ));
    }
    let mut era_array = s.values;
    // The fold still gives a block any writeset names that writeset's era: the era
    // array only decides for the others.
    for l in &s.lost {
        let end = l.end.min(era_array.len() as u64) as usize;
        for e in &mut era_array[(l.first as usize).min(end)..end] {
            *e = current;
        }
    }
    let beyond = era_array.iter().filter(|&&e| e > current).count();
    if beyond > 0 {
        losses.push(Loss::new(
            roots.era_array_root,
            format!(
                "era array: {beyond} entries hold an era beyond the current era {current}; they get the current era"
            ),
        ));
        for e in era_array.iter_mut().filter(|e| **e > current) {
            *e = current;
        }
    }
    Salvaged {
        writesets,
        era_array,
        floor,
    }
}

/// Adds `ws`, OR-ing its bits into a writeset of the same era already there.
pub fn merge_writeset(writesets: &mut BTreeMap<u32, Writeset>, ws: Writeset) {
    match writesets.get_mut(&ws.era.get()) {
        None => {
            writesets.insert(ws.era.get(), ws);
        }
        Some(old) => {
            if ws.bits.len() > old.bits.len() {
                old.bits.resize(ws.bits.len(), 0);
            }
            old.nr_bits = old.nr_bits.max(ws.nr_bits);
            for (o, n) in old.bits.iter_mut().zip(&ws.bits) {
                *o |= n;
            }
        }
    }
}

/// The metadata to write: the salvaged writesets (with an empty writeset for every era
/// missing between the first and the last, so that their eras stay one contiguous range
/// as the kernel leaves them), the era array, then the floor applied.
pub fn assemble(roots: &Roots, s: Salvaged, notes: &mut Vec<String>) -> EraMetadata {
    let Salvaged {
        mut writesets,
        era_array,
        floor,
    } = s;
    if let (Some(&lo), Some(&hi)) = (writesets.keys().next(), writesets.keys().next_back()) {
        let missing: Vec<u32> = (lo..=hi).filter(|e| !writesets.contains_key(e)).collect();
        if !missing.is_empty() {
            notes.push(format!(
                "writesets of eras {missing:?} are written empty, to keep the writeset eras one contiguous range (their blocks are covered by the era array)"
            ));
        }
        for era in missing {
            writesets.insert(
                era,
                Writeset {
                    era: Era::new(era),
                    nr_bits: roots.nr_blocks,
                    bits: vec![0; nr_words(u64::from(roots.nr_blocks)) as usize],
                },
            );
        }
    }
    let mut md = EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: roots.data_block_size,
            nr_blocks: roots.nr_blocks,
            current_era: Era::new(roots.current_era),
        },
        writesets: writesets.into_values().collect(),
        era_array,
    };
    let raised = floor.apply(&mut md);
    if raised > 0 {
        notes.push(format!(
            "{raised} blocks were given a later era than the readable metadata shows, to cover what was lost"
        ));
    }
    md
}

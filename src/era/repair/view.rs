//! Salvaging the structures one set of roots refers to: the writeset tree and its
//! bitsets, the current writeset and the era array. What cannot be read becomes a
//! [`Loss`] and is covered: unreadable era-array entries get the current era (a writeset
//! naming the block still decides its era, as in the undamaged fold), unreadable
//! writeset bits count as written in their writeset's era, and a writeset-tree subtree
//! whose eras are unknown counts every block as written in the latest era it may hold
//! (the last two through the [`Floor`]).

use super::evidence::{self, capacity, lose_last_block, nr_bits};
use super::floor::Floor;
use super::Loss;
use crate::era::ir::{EraMetadata, SuperblockIr, Writeset};
use crate::era::superblock::WritesetRoot;
use crate::io::BlockIo;
use crate::pdata::array::block::array_max_entries;
use crate::pdata::bitset::{mask_tail, nr_words};
use crate::pdata::salvage::{salvage_btree, salvage_index};
use crate::units::{Era, MetaBlock};
use std::collections::{BTreeMap, HashMap};

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
    /// The origin size, as the structures evidence it.
    pub nr_blocks: u32,
    /// The current era, as the structures evidence it.
    pub current_era: u32,
    /// Writesets by era, bits as read (lost words zero).
    pub writesets: BTreeMap<u32, Writeset>,
    /// The era array as read (lost entries zero).
    pub era_array: Vec<u32>,
    /// Lower bounds for what was lost.
    pub floor: Floor,
}

/// A writeset to read: its era, its root as stated, the block holding it and its name.
struct Source {
    era: u32,
    ws: WritesetRoot,
    holder: MetaBlock,
    name: &'static str,
}

/// Reads everything `roots` refers to, recording every loss in `losses`. The sizes and
/// the current era of `roots` are claims: each is taken as the largest value the
/// structures evidence ([`evidence`]), and every change is a loss on block 0.
pub fn salvage_roots(io: &dyn BlockIo, roots: &Roots, losses: &mut Vec<Loss>) -> Salvaged {
    let cap = capacity(io);
    let sb = MetaBlock::new(0);
    let era_index = salvage_index::<u32>(io, roots.era_array_root);
    let era_extent = era_index.extent(io);
    let tree = salvage_btree::<WritesetRoot>(io, roots.writeset_tree_root);

    // The writesets, each sized by how far its bitset reaches.
    let mut sources = Vec::new();
    let mut beyond_u32 = Vec::new();
    for &(key, ws) in &tree.entries {
        match u32::try_from(key) {
            Ok(era) => sources.push(Source {
                era,
                ws,
                holder: roots.writeset_tree_root,
                name: "writeset",
            }),
            Err(_) => beyond_u32.push(key),
        }
    }
    let highest_key = sources.last().map(|s| s.era);
    if let Some(cw) = roots.current_writeset {
        // Its era is the current era, decided once the era array is read.
        sources.push(Source {
            era: roots.current_era,
            ws: cw,
            holder: sb,
            name: "current writeset",
        });
    }
    // A bitset root two writesets name is damage in both: neither can be told to
    // be the right one.
    let mut named: HashMap<MetaBlock, Vec<u32>> = HashMap::new();
    for src in &sources {
        named.entry(src.ws.root).or_default().push(src.era);
    }
    let mut bitsets = Vec::new();
    for src in sources {
        if src.ws.root.is_zero() {
            bitsets.push((src, Err("its bitset root is 0".to_string())));
            continue;
        }
        if let Some(eras) = named.get(&src.ws.root).filter(|e| e.len() > 1) {
            let why = format!(
                "its bitset root {} is named by the writesets of eras {eras:?} too (at most one can be right)",
                src.ws.root
            );
            bitsets.push((src, Err(why)));
            continue;
        }
        let index = salvage_index::<u64>(io, src.ws.root);
        let words = index.extent(io);
        let (nr, suspect) = nr_bits(src.ws.nr_bits, &words, roots.nr_blocks, cap);
        if nr != src.ws.nr_bits {
            losses.push(Loss::new(
                src.holder,
                format!(
                    "{} of era {}: nr_bits {} disagrees with its bitset, which reaches {}..={} bits; {nr} is used",
                    src.name,
                    src.era,
                    src.ws.nr_bits,
                    words.min.saturating_sub(1) * 64 + 1,
                    words.max.map_or("?".into(), |w| (w * 64).to_string())
                ),
            ));
        }
        bitsets.push((src, Ok((index, nr, suspect))));
    }

    let (nr_blocks, last_suspect) = evidence::nr_blocks(
        roots.nr_blocks,
        &era_extent,
        bitsets
            .iter()
            .filter_map(|(_, b)| b.as_ref().ok().map(|b| b.1)),
        cap,
    );
    if nr_blocks != roots.nr_blocks {
        losses.push(Loss::new(
            sb,
            format!(
                "superblock: nr_blocks {} disagrees with the era array, whose index holds {}{} values; {nr_blocks} is used",
                roots.nr_blocks,
                era_extent.min,
                match era_extent.max {
                    Some(m) if m == era_extent.min => String::new(),
                    Some(m) => format!("..={m}"),
                    None => " or more".into(),
                }
            ),
        ));
    }
    let mut s = era_index.values(io, u64::from(nr_blocks));
    if last_suspect {
        lose_last_block(
            &mut s.lost,
            u64::from(nr_blocks),
            u64::from(array_max_entries(4)),
            roots.era_array_root,
            format!(
                "the era array's last block and the superblock's nr_blocks {} disagree on the array's length; one of them is wrong",
                roots.nr_blocks
            ),
        );
    }
    let mut era_array = s.values;
    // Every recorded era is at most the current one, and below it while a live
    // writeset records the current era.
    let recorded = era_array.iter().copied().chain(highest_key).max();
    let live = u32::from(roots.current_writeset.is_some());
    let current = recorded.map_or(roots.current_era, |r| {
        roots.current_era.max(r.saturating_add(live))
    });
    if let Some((src, _)) = bitsets
        .last_mut()
        .filter(|(s, _)| s.name == "current writeset")
    {
        src.era = current;
    }
    if current != roots.current_era {
        losses.push(Loss::new(
            sb,
            format!(
                "superblock: current_era {} is below the eras the metadata records; {current} is used",
                roots.current_era
            ),
        ));
    }

    let mut floor = Floor::new(nr_blocks);
    for key in beyond_u32 {
        losses.push(Loss::new(
            roots.writeset_tree_root,
            format!(
                "writeset tree: an entry for era {key} is not a valid era; every block counts as written in era {current}"
            ),
        ));
        floor.raise_all(current);
    }
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
    let mut writesets: BTreeMap<u32, Writeset> = BTreeMap::new();
    for (src, bitset) in bitsets {
        let Source {
            era, holder, name, ..
        } = src;
        let (index, nr_bits, suspect) = match bitset {
            Ok(b) => b,
            Err(why) => {
                losses.push(Loss::new(
                    holder,
                    format!(
                        "{name} of era {era}: {why}; every block counts as written in era {era}"
                    ),
                ));
                floor.raise_all(era);
                continue;
            }
        };
        let words = nr_words(u64::from(nr_bits));
        let mut s = index.values(io, words);
        if suspect {
            lose_last_block(
                &mut s.lost,
                words,
                u64::from(array_max_entries(8)),
                src.ws.root,
                format!(
                    "its bitset's last block and its nr_bits {} disagree on the bitset's length; one of them is wrong",
                    src.ws.nr_bits
                ),
            );
        }
        for l in &s.lost {
            let (first, end) = (l.first * 64, (l.end * 64).min(u64::from(nr_bits)));
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

    for l in &s.lost {
        losses.push(Loss::new(
            l.block,
            format!(
                "era array: the eras of blocks {}..{} could not be read ({}); blocks no writeset names get the current era {current}",
                l.first, l.end, l.reason
            ),
        ));
    }
    // The fold still gives a block any writeset names that writeset's era: the era
    // array only decides for the others.
    for l in &s.lost {
        let end = l.end.min(era_array.len() as u64) as usize;
        for e in &mut era_array[(l.first as usize).min(end)..end] {
            *e = current;
        }
    }
    Salvaged {
        nr_blocks,
        current_era: current,
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
        nr_blocks,
        current_era,
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
                    nr_bits: nr_blocks,
                    bits: vec![0; nr_words(u64::from(nr_blocks)) as usize],
                },
            );
        }
    }
    let mut md = EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: roots.data_block_size,
            nr_blocks,
            current_era: Era::new(current_era),
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

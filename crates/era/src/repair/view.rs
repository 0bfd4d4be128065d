//! Salvaging the structures one set of roots refers to: the writeset tree and its
//! bitsets, the current writeset and the era array. What cannot be read becomes a
//! [`Loss`] and is covered: unreadable era-array entries get the current era (a writeset
//! naming the block still decides its era, as in the undamaged fold), unreadable
//! writeset bits count as written in their writeset's era, and a writeset-tree subtree
//! whose eras are unknown counts every block as written in the latest era it may hold
//! (the last two through the [`Floor`]).
//!
//! This reads the indexes, and every array block once to find what is lost, keeping no
//! values: the result is a [`Plan`] to read them again as they are written.

use super::bits::{self, Sized};
use super::evidence::{self, capacity, lose_last_block};
use super::floor::Floor;
use super::loss::{Loss, Lost, NoBitset, Whose};
use super::plan::{Bits, Eras, Plan, WritesetPlan};
use crate::io::BlockIo;
use crate::ir::SuperblockIr;
use crate::pdata::array::block::array_max_entries;
use crate::pdata::salvage::{
    salvage_btree, salvage_index, ArrayExtent, ArrayIndex, LostValues, TreeSalvage,
};
use crate::superblock::WritesetRoot;
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
    /// Writesets by era.
    pub writesets: BTreeMap<u32, WritesetPlan>,
    /// The era array.
    pub eras: Eras,
    /// Lower bounds for what was lost.
    pub floor: Floor,
    /// The most blocks a longer version of the era array found on the device may grow
    /// the origin to (`None`: no bound): where the era array's index tells its length
    /// exactly, the larger of that and the superblock's claim, since a longer version
    /// is then an older one, of an origin since shrunk.
    pub grow_limit: Option<u32>,
}

/// A writeset to read: its era, its root as stated, the block holding it, and whether
/// it is the superblock's current writeset.
struct Source {
    era: u32,
    ws: WritesetRoot,
    holder: MetaBlock,
    current: bool,
}

impl Source {
    fn whose(&self) -> Whose {
        if self.current {
            Whose::Current(self.era)
        } else {
            Whose::Writeset(self.era)
        }
    }
}

/// The writesets of the tree and the current writeset.
struct Sources {
    list: Vec<Source>,
    /// Tree keys that are no era.
    beyond_u32: Vec<u64>,
    /// The highest era a tree key gives.
    highest_key: Option<u32>,
}

/// What the read of the era array found.
struct EraRead {
    lost: Vec<LostValues>,
    /// The highest era read (lost entries counting as 0), `None` for no entries.
    max: Option<u32>,
}

/// Reads everything `roots` refers to, recording every loss in `losses`. The sizes and
/// the current era of `roots` are claims: each is taken as the largest value the
/// structures evidence ([`evidence`]), and every change is a loss on block 0.
pub fn salvage_roots(io: &dyn BlockIo, roots: &Roots, losses: &mut Vec<Loss>) -> Salvaged {
    let cap = capacity(io);
    let era_index = salvage_index::<u32>(io, roots.era_array_root, cap);
    let era_extent = era_index.extent(io);
    let tree = salvage_btree::<WritesetRoot>(io, roots.writeset_tree_root);
    let sources = sources(roots, &tree);
    let mut bitsets = size_bitsets(io, roots, sources.list, cap, losses);
    let (nr_blocks, last_suspect) = origin_size(roots, &era_extent, &bitsets, cap, losses);
    let era = read_era_array(io, roots, &era_index, nr_blocks, last_suspect);
    let grow_limit =
        (era_extent.exact().is_some() && !last_suspect).then_some(nr_blocks.max(roots.nr_blocks));
    let current = current_era(roots, era.max, sources.highest_key, losses);
    if let Some((src, _)) = bitsets.last_mut().filter(|(s, _)| s.current) {
        // Its era is the current era, decided once the era array is read.
        src.era = current;
    }
    let mut floor = Floor::new(nr_blocks);
    tree_losses(
        roots,
        &tree,
        sources.beyond_u32,
        current,
        losses,
        &mut floor,
    );
    let mut writesets = BTreeMap::new();
    for (src, sized) in bitsets {
        if let Some((era, nr_bits, bits)) = read_bitset(io, src, sized, losses, &mut floor) {
            merge(&mut writesets, era, nr_bits, bits);
        }
    }
    for l in &era.lost {
        losses.push(Loss::new(
            l.block,
            Lost::EraArray {
                first: l.first,
                end: l.end,
                reason: l.reason.clone(),
                current,
            },
        ));
    }
    Salvaged {
        nr_blocks,
        current_era: current,
        writesets,
        eras: Eras::Array {
            index: era_index,
            len: u64::from(nr_blocks),
            lost: era.lost.iter().map(|l| (l.first, l.end)).collect(),
            current,
        },
        floor,
        grow_limit,
    }
}

/// The writesets to read: every tree entry whose key is an era, then the current
/// writeset (given the superblock's current era for now).
fn sources(roots: &Roots, tree: &TreeSalvage<WritesetRoot>) -> Sources {
    let mut list = Vec::new();
    let mut beyond_u32 = Vec::new();
    for &(key, ws) in &tree.entries {
        match u32::try_from(key) {
            Ok(era) => list.push(Source {
                era,
                ws,
                holder: roots.writeset_tree_root,
                current: false,
            }),
            Err(_) => beyond_u32.push(key),
        }
    }
    let highest_key = list.last().map(|s| s.era);
    if let Some(cw) = roots.current_writeset {
        list.push(Source {
            era: roots.current_era,
            ws: cw,
            holder: MetaBlock::new(0),
            current: true,
        });
    }
    Sources {
        list,
        beyond_u32,
        highest_key,
    }
}

/// Each writeset's bitset index, sized by how far it reaches; or why it cannot be read.
/// A bitset root two writesets name is damage in both: neither can be told to be the
/// right one.
fn size_bitsets(
    io: &dyn BlockIo,
    roots: &Roots,
    sources: Vec<Source>,
    cap: u64,
    losses: &mut Vec<Loss>,
) -> Vec<(Source, Result<Sized, NoBitset>)> {
    let mut named: HashMap<MetaBlock, Vec<u32>> = HashMap::new();
    for src in &sources {
        named.entry(src.ws.root).or_default().push(src.era);
    }
    let mut bitsets = Vec::new();
    for src in sources {
        if src.ws.root.is_zero() {
            bitsets.push((src, Err(NoBitset::RootZero)));
            continue;
        }
        if let Some(eras) = named.get(&src.ws.root).filter(|e| e.len() > 1) {
            let why = NoBitset::Shared {
                root: src.ws.root,
                eras: eras.clone(),
            };
            bitsets.push((src, Err(why)));
            continue;
        }
        let sized = bits::size(io, src.ws, roots.nr_blocks, cap);
        if sized.nr_bits != src.ws.nr_bits {
            losses.push(Loss::new(
                src.holder,
                Lost::NrBits {
                    whose: src.whose(),
                    stated: src.ws.nr_bits,
                    words: sized.words,
                    used: sized.nr_bits,
                },
            ));
        }
        bitsets.push((src, Ok(sized)));
    }
    bitsets
}

/// The origin size the structures evidence, and whether the era array's last block must
/// be taken as lost.
fn origin_size(
    roots: &Roots,
    era_extent: &ArrayExtent,
    bitsets: &[(Source, Result<Sized, NoBitset>)],
    cap: u64,
    losses: &mut Vec<Loss>,
) -> (u32, bool) {
    let (nr_blocks, last_suspect) = evidence::nr_blocks(
        roots.nr_blocks,
        era_extent,
        bitsets
            .iter()
            .filter_map(|(_, b)| b.as_ref().ok().map(|b| b.nr_bits)),
        cap,
    );
    if nr_blocks != roots.nr_blocks {
        losses.push(Loss::new(
            MetaBlock::new(0),
            Lost::NrBlocks {
                stated: roots.nr_blocks,
                era_array: *era_extent,
                used: nr_blocks,
            },
        ));
    }
    (nr_blocks, last_suspect)
}

/// Reads the era array once, an array block at a time: what is lost and the highest
/// era it holds.
fn read_era_array(
    io: &dyn BlockIo,
    roots: &Roots,
    index: &ArrayIndex<u32>,
    nr_blocks: u32,
    last_suspect: bool,
) -> EraRead {
    let len = u64::from(nr_blocks);
    let mut max = (len > 0).then_some(0u32);
    let mut lost = index.read_blocks(io, len, 0..u64::MAX, &mut |_, vs| {
        if let Some(top) = vs.iter().copied().max() {
            max = max.map(|m| m.max(top));
        }
    });
    if last_suspect {
        lose_last_block(
            &mut lost,
            len,
            u64::from(array_max_entries(4)),
            roots.era_array_root,
            format!(
                "the era array's last block and the superblock's nr_blocks {} disagree on the array's length; one of them is wrong",
                roots.nr_blocks
            ),
        );
    }
    EraRead { lost, max }
}

/// The current era: every recorded era is at most the current one, and below it while
/// a live writeset records the current era.
fn current_era(
    roots: &Roots,
    era_max: Option<u32>,
    highest_key: Option<u32>,
    losses: &mut Vec<Loss>,
) -> u32 {
    let recorded = era_max.into_iter().chain(highest_key).max();
    let live = u32::from(roots.current_writeset.is_some());
    let current = recorded.map_or(roots.current_era, |r| {
        roots.current_era.max(r.saturating_add(live))
    });
    if current != roots.current_era {
        losses.push(Loss::new(
            MetaBlock::new(0),
            Lost::CurrentEra {
                stated: roots.current_era,
                used: current,
            },
        ));
    }
    current
}

/// The writeset-tree entries lost or unusable: every block counts as written in the
/// latest era each may hold.
fn tree_losses(
    roots: &Roots,
    tree: &TreeSalvage<WritesetRoot>,
    beyond_u32: Vec<u64>,
    current: u32,
    losses: &mut Vec<Loss>,
    floor: &mut Floor,
) {
    for key in beyond_u32 {
        losses.push(Loss::new(
            roots.writeset_tree_root,
            Lost::InvalidEra {
                key,
                covered: current,
            },
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
        losses.push(Loss::new(
            l.block,
            Lost::WritesetTree {
                lo: l.lo,
                hi: l.hi,
                current,
                reason: l.reason.clone(),
                covered: top,
            },
        ));
        floor.raise_all(top);
    }
}

/// One writeset's bitset ([`bits::salvage`]), or, when it cannot be read at all, every
/// block counted as written in its era.
fn read_bitset(
    io: &dyn BlockIo,
    src: Source,
    sized: Result<Sized, NoBitset>,
    losses: &mut Vec<Loss>,
    floor: &mut Floor,
) -> Option<(u32, u32, Bits)> {
    let whose = src.whose();
    match sized {
        Err(why) => {
            losses.push(Loss::new(src.holder, Lost::Bitset { whose, why }));
            floor.raise_all(src.era);
            None
        }
        Ok(sized) => {
            let nr_bits = sized.nr_bits;
            let bits = bits::salvage(io, whose, src.ws, sized, losses, floor);
            Some((src.era, nr_bits, bits))
        }
    }
}

/// Adds bits to the writeset of `era`, merging them with those already there.
pub fn merge(writesets: &mut BTreeMap<u32, WritesetPlan>, era: u32, nr_bits: u32, bits: Bits) {
    let ws = writesets.entry(era).or_insert_with(|| WritesetPlan {
        era,
        nr_bits,
        sources: Vec::new(),
    });
    ws.nr_bits = ws.nr_bits.max(nr_bits);
    ws.sources.push(bits);
}

/// Eras listed in a note: all of them up to 16, else the first 16 and how many.
fn shown_eras(eras: &[u32]) -> String {
    if eras.len() <= 16 {
        return format!("{eras:?}");
    }
    let shown: Vec<String> = eras.iter().take(16).map(u32::to_string).collect();
    format!("[{}, ...] ({} eras)", shown.join(", "), eras.len())
}

/// Keeps the writeset eras within a range of at most `span` eras (the blocks of the
/// device they were read from): every era of the range had a writeset with a bitset
/// block of its own (the kernel leaves no gap), so a longer range comes from a damaged
/// era, and filling it with empty writesets could take more than memory holds. The
/// writesets below the latest `span` eras are merged into the first of them: a later
/// era only lists their blocks as written for more eras, never for fewer.
fn move_up_below_span(
    writesets: &mut BTreeMap<u32, WritesetPlan>,
    span: u64,
    notes: &mut Vec<String>,
) {
    let Some(&hi) = writesets.keys().next_back() else {
        return;
    };
    let below = u32::try_from(span.max(1) - 1).unwrap_or(u32::MAX);
    let first = hi.saturating_sub(below);
    let moved: Vec<u32> = writesets.range(..first).map(|(&era, _)| era).collect();
    if moved.is_empty() {
        return;
    }
    for era in &moved {
        if let Some(ws) = writesets.remove(era) {
            for bits in ws.sources {
                merge(writesets, first, ws.nr_bits, bits);
            }
        }
    }
    notes.push(format!(
        "the writesets of eras {} lie more eras below the latest writeset (era {hi}) than the device has blocks ({span}): an era is damaged; their blocks count as written in era {first}",
        shown_eras(&moved)
    ));
}

/// The metadata to write: the salvaged writesets (with an empty writeset for every era
/// missing between the first and the last, so that their eras stay one contiguous range
/// as the kernel leaves them), the era array, then the floor applied.
pub fn assemble(
    io: &dyn BlockIo,
    data_block_size: u32,
    s: Salvaged,
    notes: &mut Vec<String>,
) -> crate::Result<Plan> {
    let Salvaged {
        nr_blocks,
        current_era,
        mut writesets,
        eras,
        floor,
        ..
    } = s;
    move_up_below_span(&mut writesets, io.nr_blocks(), notes);
    if let (Some(&lo), Some(&hi)) = (writesets.keys().next(), writesets.keys().next_back()) {
        let missing: Vec<u32> = (lo..=hi).filter(|e| !writesets.contains_key(e)).collect();
        if !missing.is_empty() {
            notes.push(format!(
                "writesets of eras {} are written empty, to keep the writeset eras one contiguous range (their blocks are covered by the era array)",
                shown_eras(&missing)
            ));
        }
        for era in missing {
            writesets.insert(
                era,
                WritesetPlan {
                    era,
                    nr_bits: nr_blocks,
                    sources: Vec::new(),
                },
            );
        }
    }
    let superblock = SuperblockIr {
        uuid: String::new(),
        block_size: data_block_size,
        nr_blocks,
        current_era: Era::new(current_era),
    };
    let mut plan = Plan::new(superblock, writesets.into_values().collect(), eras, floor);
    let raised = plan.settle(io)?;
    if raised > 0 {
        notes.push(format!(
            "{raised} blocks were given a later era than the readable metadata shows, to cover what was lost"
        ));
    }
    Ok(plan)
}

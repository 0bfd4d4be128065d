//! The damage kinds of the repair matrix: each scenario replaces one or more blocks of a
//! kernel image (the image itself is shared, never copied). Besides one damaged block
//! (the four ways of [`Damage`]) there are fields of a valid-checksum superblock changed
//! up and down, two blocks swapped (as they are, or with their self block numbers fixed
//! so that both pass their checksums), a block listed twice in a btree node, and the
//! superblock lost together with a damaged block, and a btree key moved up (near, or
//! beyond any key the tree can hold).

use crate::common::block_damage::{block_of, damage, Damage, PatchedIo};
use era_tools::pdata::btree::{put_key, put_value, NodeView};
use era_tools::pdata::checksum::{self, BlockKind};
use era_tools::pdata::codec::{get_u32, get_u64, put_u32, put_u64};
use era_tools::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::sync::Arc;

/// The kinds of damage, each sampled or run whole on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// One block damaged in one of the four ways of [`Damage`].
    Block,
    /// A field of the superblock changed, its checksum valid.
    SuperblockField,
    /// Two blocks in use swapped.
    Swap,
    /// A btree node lists one of its values at a second entry too.
    ListedTwice,
    /// The superblock zeroed together with another block damaged.
    SuperblockLostAnd,
    /// A btree node's last key moved up, near or far, its checksum valid.
    KeyMoved,
}

/// One damaged image: the blocks replaced, and how it is named in reports.
pub struct Scenario {
    pub label: String,
    pub patches: Vec<(MetaBlock, Box<BlockBuf>)>,
}

impl Scenario {
    /// The damaged image over `base`.
    pub fn io(&self, base: &Arc<Vec<u8>>) -> PatchedIo {
        PatchedIo::new(base, self.patches.iter().cloned())
    }
}

/// Every block in use, with its kind.
pub type InUse = [(MetaBlock, BlockKind)];

/// Every scenario of `kind` on the image `base` whose blocks in use are `in_use`.
pub fn scenarios(base: &[u8], in_use: &InUse, kind: Kind) -> Vec<Scenario> {
    match kind {
        Kind::Block => in_use
            .iter()
            .flat_map(|&(b, k)| Damage::ALL.map(|how| one(base, b, k, how)))
            .collect(),
        Kind::SuperblockField => superblock_fields(base),
        Kind::Swap => swaps(base, in_use),
        Kind::ListedTwice => listed_twice(base, in_use),
        Kind::KeyMoved => keys_moved(base, in_use),
        Kind::SuperblockLostAnd => in_use
            .iter()
            .filter(|&&(b, _)| b != MetaBlock::new(0))
            .flat_map(|&(b, k)| {
                [Damage::Zero, Damage::FlipByte].map(|how| {
                    let mut s = one(base, b, k, how);
                    s.label = format!("superblock zeroed and {}", s.label);
                    s.patches
                        .push((MetaBlock::new(0), Box::new([0u8; BLOCK_SIZE])));
                    s
                })
            })
            .collect(),
    }
}

fn one(base: &[u8], b: MetaBlock, kind: BlockKind, how: Damage) -> Scenario {
    Scenario {
        label: format!("{kind} block {b} {}", how.label()),
        patches: vec![(b, damage(&block_of(base, b), b, &how))],
    }
}

/// The superblock's fields a valid checksum does not vouch for: (name, offset, width).
const FIELDS: [(&str, usize, usize); 6] = [
    ("nr_blocks", 180, 4),
    ("current_era", 184, 4),
    ("current_writeset.nr_bits", 188, 4),
    ("current_writeset.root", 192, 8),
    ("writeset_tree_root", 200, 8),
    ("era_array_root", 208, 8),
];

/// Each field moved down (to 0, half, one less) and up (one more, double and one, the
/// largest 31-bit value), the checksum resealed.
fn superblock_fields(base: &[u8]) -> Vec<Scenario> {
    let sb = block_of(base, MetaBlock::new(0));
    let mut out = Vec::new();
    for (name, off, width) in FIELDS {
        let v = match width {
            4 => u64::from(get_u32(&sb[..], off)),
            _ => get_u64(&sb[..], off),
        };
        let mut values = vec![
            0,
            v / 2,
            v.saturating_sub(1),
            v + 1,
            v * 2 + 1,
            (1 << 31) - 1,
        ];
        values.sort_unstable();
        values.dedup();
        for new in values.into_iter().filter(|&n| n != v) {
            let mut d = sb.clone();
            match width {
                4 => put_u32(&mut d[..], off, new as u32),
                _ => put_u64(&mut d[..], off, new),
            }
            checksum::seal(&mut d, BlockKind::Superblock);
            out.push(Scenario {
                label: format!("superblock {name} {v} -> {new}"),
                patches: vec![(MetaBlock::new(0), d)],
            });
        }
    }
    out
}

/// Every block in use swapped with the next one in use, as they are and with their self
/// block numbers fixed.
fn swaps(base: &[u8], in_use: &InUse) -> Vec<Scenario> {
    let mut out = Vec::new();
    for pair in in_use.windows(2) {
        let ((a, ka), (b, kb)) = (pair[0], pair[1]);
        let (da, db) = (block_of(base, a), block_of(base, b));
        out.push(Scenario {
            label: format!("{ka} block {a} swapped with {kb} block {b}"),
            patches: vec![(a, db.clone()), (b, da.clone())],
        });
        let moved = |mut d: Box<BlockBuf>, kind: BlockKind, to: MetaBlock| {
            put_u64(&mut d[..], kind.blocknr_offset(), to.get());
            checksum::seal(&mut d, kind);
            d
        };
        out.push(Scenario {
            label: format!("{ka} block {a} swapped with {kb} block {b}, block numbers fixed"),
            patches: vec![(a, moved(db, kb, a)), (b, moved(da, ka, b))],
        });
    }
    out
}

/// Every btree node in use with two entries or more, its second entry's value (for a
/// writeset-tree leaf, the bitset root) made the first's, the checksum resealed.
fn listed_twice(base: &[u8], in_use: &InUse) -> Vec<Scenario> {
    let mut out = Vec::new();
    for &(b, kind) in in_use {
        if kind != BlockKind::BtreeNode {
            continue;
        }
        let mut d = block_of(base, b);
        let Ok(node) = NodeView::parse(b, &d) else {
            continue;
        };
        if node.nr_entries < 2 {
            continue;
        }
        let h = *node.header();
        let (first, second) = (node.value(0).to_vec(), node.value(1).to_vec());
        let value = match first.len() {
            8 => first,
            // A writeset-tree value: nr_bits, then the bitset root.
            12 => [&second[..4], &first[4..]].concat(),
            _ => continue,
        };
        put_value(&mut d, &h, 1, &value);
        checksum::seal(&mut d, BlockKind::BtreeNode);
        out.push(Scenario {
            label: format!("btree node {b} lists entry 0's value at entry 1 too"),
            patches: vec![(b, d)],
        });
    }
    out
}

/// Every btree node in use, its last key moved up by 1000, to 2^40 and to 2^64 - 1, the
/// checksum resealed.
fn keys_moved(base: &[u8], in_use: &InUse) -> Vec<Scenario> {
    let mut out = Vec::new();
    for &(b, kind) in in_use {
        if kind != BlockKind::BtreeNode {
            continue;
        }
        let d = block_of(base, b);
        let Ok(node) = NodeView::parse(b, &d) else {
            continue;
        };
        let Some(last) = (node.nr_entries as usize).checked_sub(1) else {
            continue;
        };
        let key = node.key(last);
        for new in [key.saturating_add(1000), 1 << 40, u64::MAX] {
            if new <= key {
                continue;
            }
            let mut d = d.clone();
            put_key(&mut d, last, new);
            checksum::seal(&mut d, BlockKind::BtreeNode);
            out.push(Scenario {
                label: format!("btree node {b}: last key {key} -> {new}"),
                patches: vec![(b, d)],
            });
        }
    }
    out
}

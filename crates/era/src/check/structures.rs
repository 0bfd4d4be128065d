//! The era structures of one view (the live metadata or the held snapshot): writeset
//! tree, writeset bitsets, current writeset and era array, checked for shape (through the
//! tolerant pdata walks, which also count references) and for era semantics (format.md
//! §8): eras within the current era, the era array's length, the current writeset's era
//! not archived too, and writeset eras contiguous (a warning at most; `era_restore`
//! refuses what this warns about).

use crate::pdata::bitset::nr_words;
use crate::pdata::check::{check_array, walk_btree, ArraySpec, Checker, TreeSpec};
use crate::pdata::codec::get_u32;
use crate::superblock::WritesetRoot;
use crate::units::{origin_blocks_ok, Era, MetaBlock};
use crate::writeset::{writeset_eras_fault, WRITESET_VALUE_SIZE};
use std::collections::{BTreeMap, HashSet};

/// The roots and sizes one view is made of.
#[derive(Debug, Clone)]
pub struct ViewSpec {
    /// "" for the live metadata, "snapshot " for the held snapshot.
    pub label: &'static str,
    /// The superblock (or copy) holding the roots.
    pub sb_block: MetaBlock,
    pub writeset_tree_root: MetaBlock,
    pub era_array_root: MetaBlock,
    pub nr_blocks: u32,
    pub current_era: Era,
    /// The live current writeset when its root is not 0 (never for a snapshot).
    pub current_writeset: Option<WritesetRoot>,
}

/// State shared by the views of one check.
#[derive(Debug, Default)]
pub struct Structures {
    /// Bitsets already checked, by root and size: a bitset shared by the live writeset
    /// tree and the snapshot's is walked once.
    bitsets_checked: HashSet<(MetaBlock, u32)>,
}

/// An archived writeset as found in a tree leaf.
struct Archived {
    ws: WritesetRoot,
    leaf: MetaBlock,
}

impl Structures {
    /// Counts the view's root references and checks everything it holds.
    pub fn check_view(&mut self, ck: &mut Checker, v: &ViewSpec) {
        let eras = self.check_writeset_tree(ck, v);
        if let Some(cw) = v.current_writeset {
            if let Some(a) = eras.get(&u64::from(v.current_era.get())) {
                ck.error(
                    a.leaf,
                    format!(
                        "{}writeset tree: holds era {}, which is also the era of the current writeset",
                        v.label, v.current_era
                    ),
                );
            }
            if ck.count_root(cw.root) {
                let what = format!("current writeset (era {})", v.current_era);
                self.check_bitset(ck, v.sb_block, cw, &what);
            }
        }
        check_contiguity(ck, v, &eras);
        if !v.era_array_root.is_zero() && ck.count_root(v.era_array_root) {
            check_era_array(ck, v);
        }
    }

    /// Walks the writeset tree and checks each archived writeset; returns them by era.
    fn check_writeset_tree(&mut self, ck: &mut Checker, v: &ViewSpec) -> BTreeMap<u64, Archived> {
        let mut eras = BTreeMap::new();
        let root = v.writeset_tree_root;
        if root.is_zero() || !ck.count_root(root) {
            return eras;
        }
        let tree_what = format!("{}writeset tree", v.label);
        walk_btree(
            ck,
            root,
            TreeSpec {
                what: &tree_what,
                value_size: WRITESET_VALUE_SIZE,
            },
            &mut |ck, e| {
                let ws = WritesetRoot::unpack(e.value);
                if e.key > u64::from(v.current_era.get()) {
                    ck.error(
                        e.leaf,
                        format!(
                            "{tree_what}: writeset of era {} is beyond the current era {}",
                            e.key, v.current_era
                        ),
                    );
                }
                if ws.root.is_zero() {
                    ck.error(
                        e.leaf,
                        format!("{tree_what}: writeset of era {} has bitset root 0", e.key),
                    );
                    return;
                }
                if e.count_refs {
                    let what = format!("{tree_what} entry for era {}", e.key);
                    ck.reference(e.leaf, ws.root, &what);
                }
                eras.insert(e.key, Archived { ws, leaf: e.leaf });
            },
        );
        for (&era, a) in &eras {
            if ck.in_device(a.ws.root) {
                let what = format!("{}writeset of era {era}", v.label);
                self.check_bitset(ck, a.leaf, a.ws, &what);
            }
        }
        eras
    }

    /// Checks one writeset's bitset, once per root and size.
    fn check_bitset(&mut self, ck: &mut Checker, holder: MetaBlock, ws: WritesetRoot, what: &str) {
        if !origin_blocks_ok(ws.nr_bits) {
            ck.error(
                holder,
                format!(
                    "{what}: nr_bits {} is not below 2^31 origin blocks",
                    ws.nr_bits
                ),
            );
        }
        if ws.root.is_zero() || !self.bitsets_checked.insert((ws.root, ws.nr_bits)) {
            return;
        }
        check_array(
            ck,
            ws.root,
            ArraySpec {
                what,
                value_size: 8,
                len: nr_words(ws.nr_bits as u64),
            },
            &mut |_, _| {},
        );
    }
}

/// The era array: `nr_blocks` entries, none beyond the current era.
fn check_era_array(ck: &mut Checker, v: &ViewSpec) {
    let what = format!("{}era array", v.label);
    let current = v.current_era;
    check_array(
        ck,
        v.era_array_root,
        ArraySpec {
            what: &what,
            value_size: 4,
            len: v.nr_blocks as u64,
        },
        &mut |ck, a| {
            let mut first = None;
            let mut n = 0usize;
            for (j, b) in a.values.chunks_exact(4).enumerate() {
                let era = get_u32(b, 0);
                if era > current.get() {
                    n += 1;
                    first.get_or_insert((j, era));
                }
            }
            if let Some((j, era)) = first {
                let place = match a.first.and_then(|f| f.checked_add(j as u64)) {
                    Some(origin) => format!("origin block {origin}"),
                    None => format!("entry {j} of the array block at index {}", a.index),
                };
                ck.error(
                    a.block,
                    format!(
                        "array block ({what}): {n} entries hold an era beyond the current era {current} (first: {place} has era {era})"
                    ),
                );
            }
        },
    );
}

/// Warns unless the writeset eras (with the live current writeset's) form one
/// contiguous range ([`writeset_eras_fault`], the rule `era_restore` applies too).
fn check_contiguity(ck: &mut Checker, v: &ViewSpec, eras: &BTreeMap<u64, Archived>) {
    let mut all: Vec<u64> = eras.keys().copied().collect();
    if v.current_writeset.is_some() && !eras.contains_key(&u64::from(v.current_era.get())) {
        // Damaged metadata can have a current era below archived ones: keep the list sorted.
        all.push(u64::from(v.current_era.get()));
        all.sort_unstable();
    }
    if let Some(fault) = writeset_eras_fault(&all) {
        ck.warning(
            v.writeset_tree_root,
            format!("{}writeset tree: {fault}", v.label),
        );
    }
}

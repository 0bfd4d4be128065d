//! Verification of the metadata space map (format.md §7) against the reference counts
//! computed from every structure: the index block, the bitmaps, the ref-count tree, the
//! index hints and `nr_allocated`.
//!
//! A count lower than the references found is an error (the kernel would reuse a live
//! block); a higher one is a leak and only a warning (§7.5, §13 item 7). An index hint
//! that is optimistic (`nr_free` too high, `none_free_before` too low) is harmless and
//! not reported (§7.2, §10.1); a pessimistic one hides free blocks and is an error.

use super::btree::{walk_btree, TreeSpec};
use super::Checker;
use crate::checksum::BlockKind;
use crate::codec::get_u32;
use crate::space_map::{
    bitmap_position, unpack_bitmap, unpack_index, SmRoot, ENTRIES_PER_BITMAP, MAX_METADATA_BLOCKS,
};
use crate::units::MetaBlock;
use std::collections::BTreeMap;

const BITMAP_WHAT: &str = "space-map bitmap";
const INDEX_WHAT: &str = "space-map index";
const REF_COUNT_WHAT: &str = "ref-count tree";

/// A count of 3 or more, as the ref-count tree holds it.
struct Overflow {
    count: u32,
    leaf: MetaBlock,
}

/// A readable bitmap: its location and its 16320 two-bit entries.
struct Bitmap {
    block: MetaBlock,
    entries: Vec<u8>,
}

/// Checks the space map whose root lives in block `root_location`. It first counts the
/// space map's own blocks, so every other structure must have been walked already.
/// The caller has checked the root's fields themselves (ranges, non-zero roots).
pub fn check_space_map(ck: &mut Checker, root: &SmRoot, root_location: MetaBlock) {
    let nr_blocks = root
        .nr_blocks
        .min(ck.device_blocks())
        .min(MAX_METADATA_BLOCKS);
    let bitmaps = read_bitmaps(ck, root, nr_blocks);
    let overflow = read_ref_count_tree(ck, root, nr_blocks);
    let mut allocated = 0u64;
    let mut all_known = true;
    for (i, bm) in bitmaps.iter().enumerate() {
        let first = (i * ENTRIES_PER_BITMAP) as u64;
        let n = (nr_blocks - first).min(ENTRIES_PER_BITMAP as u64) as usize;
        let Some(bm) = bm else {
            all_known = false;
            continue;
        };
        for (e, &v) in bm.entries[..n].iter().enumerate() {
            let block = MetaBlock::new(first + e as u64);
            let on_disk = if v < 3 {
                v as u32
            } else if let Some(o) = overflow.get(&block.get()) {
                o.count
            } else {
                ck.error(
                    bm.block,
                    format!("{BITMAP_WHAT}: entry of block {block} is 3 (count of 3 or more), but the {REF_COUNT_WHAT} has no entry for it"),
                );
                all_known = false;
                allocated += 1;
                continue;
            };
            if on_disk > 0 {
                allocated += 1;
            }
            compare_count(ck, block, on_disk);
        }
    }
    for (&block, o) in &overflow {
        // A key read from disk: no truncating cast onto another bitmap.
        let bitmap_entry = bitmap_position(MetaBlock::new(block))
            .and_then(|(i, e)| Some(bitmaps.get(i)?.as_ref()?.entries[e]));
        if bitmap_entry.is_some_and(|v| v != 3) {
            ck.error(
                o.leaf,
                format!(
                    "{REF_COUNT_WHAT}: holds a count for block {block}, whose bitmap entry is {} (not 3)",
                    bitmap_entry.unwrap_or(0)
                ),
            );
        }
    }
    if all_known && allocated != root.nr_allocated {
        ck.error(
            root_location,
            format!(
                "space map: nr_allocated is {}, but {allocated} blocks have a non-zero count",
                root.nr_allocated
            ),
        );
    }
}

/// Compares the on-disk count of one block with the references found.
fn compare_count(ck: &mut Checker, block: MetaBlock, on_disk: u32) {
    let found = ck.refs.get(block);
    if found > on_disk {
        ck.error(
            block,
            format!(
                "reference count too low: the space map says {on_disk}, but {found} references were found"
            ),
        );
    } else if on_disk > found {
        let refs = match found {
            0 if ck.damaged() => "nothing readable references it".to_string(),
            0 => "nothing references it".to_string(),
            1 => "only 1 reference was found".to_string(),
            n => format!("only {n} references were found"),
        };
        let hint = match (ck.damaged(), found) {
            (false, _) => "",
            (true, 0) => " (a damaged block may)",
            (true, _) => " (a damaged block may hold the others)",
        };
        ck.warning_in_run(
            block,
            format!("leaked: the space map count is {on_disk}, but {refs}{hint}"),
        );
    }
}

/// Counts and reads the index block and the bitmaps; checks the index hints. Returns
/// one slot per bitmap the space map needs, `None` where it cannot be read.
fn read_bitmaps(ck: &mut Checker, root: &SmRoot, nr_blocks: u64) -> Vec<Option<Bitmap>> {
    let nr_bitmaps = nr_blocks.div_ceil(ENTRIES_PER_BITMAP as u64) as usize;
    let mut out: Vec<Option<Bitmap>> = (0..nr_bitmaps).map(|_| None).collect();
    let index_block = root.bitmap_root;
    if !ck.count_root(index_block) || index_block.is_zero() {
        return out;
    }
    let Some(data) = ck.read_verified(index_block, BlockKind::Index, INDEX_WHAT) else {
        return out;
    };
    let entries = unpack_index(&data);
    for (i, (slot, entry)) in out.iter_mut().zip(entries.iter()).enumerate() {
        if entry.blocknr.is_zero() {
            ck.error(
                index_block,
                format!("{INDEX_WHAT}: entry {i} has no bitmap (block 0)"),
            );
            continue;
        }
        let what = format!("{BITMAP_WHAT} {i}");
        if !ck.reference(
            index_block,
            entry.blocknr,
            &format!("{INDEX_WHAT} entry {i}"),
        ) {
            continue;
        }
        let Some(bdata) = ck.read_verified(entry.blocknr, BlockKind::Bitmap, &what) else {
            continue;
        };
        let entries = unpack_bitmap(&bdata);
        let first = (i * ENTRIES_PER_BITMAP) as u64;
        let real = (nr_blocks - first).min(ENTRIES_PER_BITMAP as u64) as usize;
        if let Some(e) = entries[real..].iter().position(|&v| v != 0) {
            ck.warning(
                entry.blocknr,
                format!(
                    "{what}: entry of block {} is {}, but the space map ends at block {nr_blocks}",
                    first + (real + e) as u64,
                    entries[real + e]
                ),
            );
        }
        let nr_free = entries.iter().filter(|&&v| v == 0).count() as u32;
        let first_free = entries
            .iter()
            .position(|&v| v == 0)
            .unwrap_or(ENTRIES_PER_BITMAP) as u32;
        if entry.nr_free < nr_free {
            ck.error(
                index_block,
                format!(
                    "{INDEX_WHAT}: entry {i} says bitmap {} has {} free entries, it has {nr_free}: free blocks are hidden from the allocator",
                    entry.blocknr, entry.nr_free
                ),
            );
        }
        if entry.none_free_before > first_free {
            ck.error(
                index_block,
                format!(
                    "{INDEX_WHAT}: entry {i} says bitmap {} has no free entry before {}, but entry {first_free} is free",
                    entry.blocknr, entry.none_free_before
                ),
            );
        }
        *slot = Some(Bitmap {
            block: entry.blocknr,
            entries,
        });
    }
    out
}

/// Counts and walks the ref-count tree; returns its entries by block.
fn read_ref_count_tree(ck: &mut Checker, root: &SmRoot, nr_blocks: u64) -> BTreeMap<u64, Overflow> {
    let mut out = BTreeMap::new();
    let tree = root.ref_count_root;
    if !ck.count_root(tree) || tree.is_zero() {
        return out;
    }
    walk_btree(
        ck,
        tree,
        TreeSpec {
            what: REF_COUNT_WHAT,
            value_size: 4,
        },
        &mut |ck, e| {
            let count = get_u32(e.value, 0);
            if e.key >= nr_blocks {
                ck.error(
                    e.leaf,
                    format!(
                        "{REF_COUNT_WHAT}: holds a count for block {}, beyond the space map's {nr_blocks} blocks",
                        e.key
                    ),
                );
            } else if count < 3 {
                ck.error(
                    e.leaf,
                    format!(
                        "{REF_COUNT_WHAT}: holds count {count} for block {}; counts below 3 belong in the bitmap",
                        e.key
                    ),
                );
            }
            out.insert(
                e.key,
                Overflow {
                    count,
                    leaf: e.leaf,
                },
            );
        },
    );
    out
}

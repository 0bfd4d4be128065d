//! Tolerant check of a dm-array (format.md §5): its index btree must hold exactly the
//! dense keys `0 .. ceil(len / M)`, and every array block must carry the header the
//! kernel computes for its position. Bitsets are arrays of u64 words (§6).

use super::btree::{walk_btree, TreeSpec};
use super::{Checker, MetaBlockSet};
use crate::array::block::{array_max_entries, values, ArrayHeader};
use crate::array::nr_array_blocks;
use crate::checksum::BlockKind;
use crate::codec::get_block;
use crate::units::MetaBlock;

/// Which array is checked.
#[derive(Debug, Clone, Copy)]
pub struct ArraySpec<'s> {
    /// Names the array in findings, e.g. "era array" or "writeset of era 3".
    pub what: &'s str,
    /// Bytes per value.
    pub value_size: u32,
    /// Number of values the owner says the array holds.
    pub len: u64,
}

/// The values of one array block handed to the visitor.
#[derive(Debug, Clone, Copy)]
pub struct ArrayBlockValues<'v> {
    /// The block's position in the array (its key in the index, as found on disk).
    pub index: u64,
    /// The position in the array of the block's first value: `index` times the values a
    /// block holds, or `None` when a damaged key puts it beyond any array (past 2^64).
    pub first: Option<u64>,
    /// Where the array block lives.
    pub block: MetaBlock,
    /// The bytes of its values in use.
    pub values: &'v [u8],
}

/// A gap in the index keys, reported only if the whole index could be walked.
struct Gap {
    leaf: MetaBlock,
    key: u64,
    expected: u64,
}

/// Checks the array at `root` (whose own reference the caller counts). `visit` gets, for
/// every array block that passed its checks, its values in use. Array blocks already
/// checked (shared with another array) are counted but not checked or visited again.
pub fn check_array(
    ck: &mut Checker,
    root: MetaBlock,
    spec: ArraySpec,
    visit: &mut dyn FnMut(&mut Checker, ArrayBlockValues),
) {
    let index_what = format!("{} index", spec.what);
    let ablock_what = format!("array block ({})", spec.what);
    let vs = spec.value_size as usize;
    let m = array_max_entries(vs) as u64;
    let want = nr_array_blocks(spec.len, vs);
    let mut nr_pointers = 0u64;
    let mut gap: Option<Gap> = None;
    // The array blocks in index order, to name both places of a block listed twice.
    let mut listed = MetaBlockSet::new();
    let mut ptrs: Vec<MetaBlock> = Vec::new();
    let mut twice: Vec<(MetaBlock, usize)> = Vec::new();
    let complete = walk_btree(
        ck,
        root,
        TreeSpec {
            what: &index_what,
            value_size: 8,
        },
        &mut |ck, e| {
            if e.key != nr_pointers && gap.is_none() {
                gap = Some(Gap {
                    leaf: e.leaf,
                    key: e.key,
                    expected: nr_pointers,
                });
            }
            nr_pointers += 1;
            let ablock = get_block(e.value, 0);
            if ck.in_device(ablock) && !listed.insert(ablock) {
                twice.push((e.leaf, ptrs.len()));
            }
            ptrs.push(ablock);
            let readable = if e.count_refs {
                ck.reference(e.leaf, ablock, &ablock_what)
            } else {
                !ablock.is_zero() && ck.in_device(ablock)
            };
            if readable && ck.first_array_check(ablock) {
                let expected_nr = (e.key < want).then(|| (spec.len - e.key * m).min(m) as u32);
                check_array_block(ck, ablock, e.key, expected_nr, &spec, &ablock_what, visit);
            }
        },
    );
    report_listed_twice(ck, &index_what, &ptrs, &twice);
    if complete {
        if let Some(g) = gap {
            ck.error(
                g.leaf,
                format!(
                    "{index_what}: array index has a gap: key {} where {} was expected",
                    g.key, g.expected
                ),
            );
        }
        if nr_pointers != want {
            ck.error(
                root,
                format!(
                    "{index_what}: an array of {} values needs {want} array blocks, the index has {nr_pointers}",
                    spec.len
                ),
            );
        }
    }
}

/// Findings reported for blocks listed twice in one index, at most; the rest are counted.
const LISTED_TWICE_SHOWN: usize = 8;

/// Reports every array block listed at a second place `(leaf, index)` of `ptrs`, with
/// the place where it was listed first.
fn report_listed_twice(
    ck: &mut Checker,
    index_what: &str,
    ptrs: &[MetaBlock],
    twice: &[(MetaBlock, usize)],
) {
    for &(leaf, second) in twice.iter().take(LISTED_TWICE_SHOWN) {
        let block = ptrs[second];
        let first = ptrs.iter().position(|&p| p == block).unwrap_or(second);
        ck.error(
            leaf,
            format!(
                "{index_what}: array block {block} is listed twice: at index {first} and at index {second}"
            ),
        );
    }
    if twice.len() > LISTED_TWICE_SHOWN {
        ck.error(
            None,
            format!(
                "{index_what}: {} more array blocks are listed twice",
                twice.len() - LISTED_TWICE_SHOWN
            ),
        );
    }
}

/// Checks one array block at position `index` and visits its values.
fn check_array_block(
    ck: &mut Checker,
    ablock: MetaBlock,
    index: u64,
    expected_nr: Option<u32>,
    spec: &ArraySpec,
    ablock_what: &str,
    visit: &mut dyn FnMut(&mut Checker, ArrayBlockValues),
) {
    let vs = spec.value_size as usize;
    let m = array_max_entries(vs) as u64;
    let Some(data) = ck.read_verified(ablock, BlockKind::ArrayBlock, ablock_what) else {
        return;
    };
    let h = ArrayHeader::decode(&data);
    let (max, nr, got_vs) = (h.max_entries, h.nr_entries, h.value_size);
    if got_vs != spec.value_size {
        ck.error(
            ablock,
            format!(
                "{ablock_what}: value_size {got_vs}, expected {}",
                spec.value_size
            ),
        );
        return;
    }
    if max as u64 != m {
        ck.error(
            ablock,
            format!("{ablock_what}: max_entries {max}, expected {m}"),
        );
    }
    if nr as u64 > m {
        ck.error(
            ablock,
            format!("{ablock_what}: nr_entries {nr} exceeds the {m} values that fit"),
        );
        return;
    }
    if let Some(e) = expected_nr {
        if nr != e {
            ck.error(
                ablock,
                format!(
                    "{ablock_what}: nr_entries {nr}, expected {e} for index {index} of an array of {} values",
                    spec.len
                ),
            );
        }
    }
    let used = nr.min(expected_nr.unwrap_or(nr)) as usize;
    visit(
        ck,
        ArrayBlockValues {
            index,
            first: index.checked_mul(m),
            block: ablock,
            values: values(&data, vs, used),
        },
    );
}

//! Hand-made images for the tolerant walks and the space-map verification.

use super::*;
use crate::btree::max_entries;
use crate::codec::{put_u32, put_u64};
use crate::io::MemIo;
use crate::space_map::{pack_bitmap, pack_index, IndexEntry, SmRoot};
use crate::units::BLOCK_SIZE;

const DEVICE: u64 = 64;

/// A btree node at `block` with `entries` (key, value bytes) and explicit header fields.
fn node(
    block: u64,
    flags: u32,
    value_size: u32,
    max: u32,
    entries: &[(u64, Vec<u8>)],
) -> Box<BlockBuf> {
    let mut b = Box::new([0u8; BLOCK_SIZE]);
    put_u32(&mut b[..], 4, flags);
    put_u64(&mut b[..], 8, block);
    put_u32(&mut b[..], 16, entries.len() as u32);
    put_u32(&mut b[..], 20, max);
    put_u32(&mut b[..], 24, value_size);
    let values = 32 + 8 * max as usize;
    for (i, (k, v)) in entries.iter().enumerate() {
        put_u64(&mut b[..], 32 + 8 * i, *k);
        let o = values + value_size as usize * i;
        b[o..o + v.len()].copy_from_slice(v);
    }
    checksum::seal(&mut b, BlockKind::BtreeNode);
    b
}

fn leaf(block: u64, value_size: u32, entries: &[(u64, Vec<u8>)]) -> Box<BlockBuf> {
    node(
        block,
        2,
        value_size,
        max_entries(value_size as usize),
        entries,
    )
}

fn internal(block: u64, children: &[(u64, u64)]) -> Box<BlockBuf> {
    let entries: Vec<(u64, Vec<u8>)> = children
        .iter()
        .map(|&(k, c)| (k, c.to_le_bytes().to_vec()))
        .collect();
    node(block, 1, 8, max_entries(8), &entries)
}

fn u64v(v: u64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

fn u32v(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

fn image(blocks: &[(u64, Box<BlockBuf>)]) -> MemIo {
    let io = MemIo::new(DEVICE);
    for (b, data) in blocks {
        io.write_block(MetaBlock::new(*b), data).expect("in range");
    }
    io
}

/// Walks the tree at `root` (value size 8) and returns the keys visited.
fn walk(ck: &mut Checker, root: u64, value_size: u32) -> (Vec<u64>, bool) {
    let mut keys = Vec::new();
    ck.count_root(MetaBlock::new(root));
    let complete = walk_btree(
        ck,
        MetaBlock::new(root),
        TreeSpec {
            what: "test tree",
            value_size,
        },
        &mut |_, e| keys.push(e.key),
    );
    (keys, complete)
}

fn messages(ck: Checker) -> Vec<String> {
    ck.into_findings().iter().map(|f| f.to_string()).collect()
}

/// The findings, leaving out the underfull warnings small hand-made trees cause.
fn messages_but_underfull(ck: Checker) -> Vec<String> {
    let mut m = messages(ck);
    m.retain(|s| !s.contains("underfull"));
    m
}

#[test]
fn finding_display_is_one_line_with_block() {
    let f = Finding::error(
        MetaBlock::new(12),
        "btree node: keys out of order at entry 3",
    );
    assert_eq!(
        f.to_string(),
        "error: block 12: btree node: keys out of order at entry 3"
    );
    assert_eq!(Finding::warning(None, "x").to_string(), "warning: x");
}

#[test]
fn two_level_tree_walks_in_order_and_counts_children_once() {
    let io = image(&[
        (1, internal(1, &[(0, 2), (10, 3)])),
        (2, leaf(2, 8, &[(0, u64v(0)), (5, u64v(0))])),
        (3, leaf(3, 8, &[(10, u64v(0)), (11, u64v(0))])),
    ]);
    let mut ck = Checker::new(&io, DEVICE);
    let (keys, complete) = walk(&mut ck, 1, 8);
    assert_eq!(keys, vec![0, 5, 10, 11]);
    assert!(complete);
    // A second tree sharing the root: the root gets a second reference, its children
    // keep one each.
    let (keys2, _) = walk(&mut ck, 1, 8);
    assert_eq!(keys2, keys);
    assert_eq!(
        (
            ck.refs.get(MetaBlock::new(1)),
            ck.refs.get(MetaBlock::new(2)),
            ck.refs.get(MetaBlock::new(3))
        ),
        (2, 1, 1)
    );
    assert_eq!(messages_but_underfull(ck), Vec::<String>::new());
}

#[test]
fn keys_out_of_order_and_outside_the_parent_range() {
    let io = image(&[
        (1, internal(1, &[(0, 2), (10, 3)])),
        (2, leaf(2, 8, &[(0, u64v(0)), (12, u64v(0))])),
        (3, leaf(3, 8, &[(11, u64v(0)), (10, u64v(0))])),
    ]);
    let mut ck = Checker::new(&io, DEVICE);
    walk(&mut ck, 1, 8);
    let m = messages_but_underfull(ck);
    assert_eq!(m.len(), 2, "{m:?}");
    assert_eq!(
        m[0],
        "error: block 2: btree node (test tree): key 12 at entry 1 lies outside its parent's range [0, 10)"
    );
    assert_eq!(
        m[1],
        "error: block 3: btree node (test tree): keys out of order at entry 1"
    );
}

#[test]
fn cycle_is_reported_and_the_walk_ends() {
    let io = image(&[(1, internal(1, &[(0, 2)])), (2, internal(2, &[(0, 1)]))]);
    let mut ck = Checker::new(&io, DEVICE);
    let (_, complete) = walk(&mut ck, 1, 8);
    assert!(!complete);
    let m = messages(ck);
    assert!(
        m.iter()
            .any(|s| s.starts_with("error: block 1: ") && s.contains("reached twice in one tree")),
        "{m:?}"
    );
}

#[test]
fn self_loop_and_deep_chain_terminate() {
    // Every internal node points to the next, 20 levels deep.
    let blocks: Vec<(u64, Box<BlockBuf>)> =
        (1..21).map(|b| (b, internal(b, &[(0, b + 1)]))).collect();
    let io = image(&blocks);
    let mut ck = Checker::new(&io, DEVICE);
    walk(&mut ck, 1, 8);
    assert!(messages(ck).iter().any(|s| s.contains("deeper than")));
}

#[test]
fn leaves_at_different_depths() {
    let io = image(&[
        (1, internal(1, &[(0, 2), (10, 3)])),
        (2, leaf(2, 8, &[(0, u64v(0))])),
        (3, internal(3, &[(10, 4)])),
        (4, leaf(4, 8, &[(10, u64v(0))])),
    ]);
    let mut ck = Checker::new(&io, DEVICE);
    walk(&mut ck, 1, 8);
    let m = messages(ck);
    assert!(
        m.iter().any(|s| s.starts_with("error: block 4: ")
            && s.contains("leaf at depth 2, other leaves of the tree at depth 1")),
        "{m:?}"
    );
}

#[test]
fn header_problems() {
    let io = image(&[
        (1, internal(1, &[(0, 2), (5, 3), (9, 4), (12, 5)])),
        // max_entries not the kernel's value: reported, the leaf is still used.
        (2, node(2, 2, 8, 250, &[(0, u64v(0))])),
        // Wrong leaf value size: reported, the leaf is skipped.
        (3, leaf(3, 12, &[(5, vec![0; 12])])),
        // Flags neither internal nor leaf.
        (4, node(4, 3, 8, 252, &[(9, u64v(0))])),
        // nr_entries beyond max_entries.
        (5, {
            let mut b = leaf(5, 8, &[(12, u64v(0))]);
            put_u32(&mut b[..], 16, 253);
            checksum::seal(&mut b, BlockKind::BtreeNode);
            b
        }),
    ]);
    let mut ck = Checker::new(&io, DEVICE);
    let (keys, complete) = walk(&mut ck, 1, 8);
    assert_eq!(keys, vec![0]);
    assert!(!complete);
    let m = messages(ck);
    let expect = [
        "error: block 2: btree node (test tree): max_entries 250, the kernel requires 252 for value_size 8",
        "warning: block 2: btree node (test tree): underfull: 1 entries, fewer than a third of 250",
        "error: block 3: btree node (test tree): leaf has value_size 12, this tree needs 8",
        "error: block 4: btree node (test tree): flags 3 is neither internal (1) nor leaf (2)",
        "error: block 5: btree node (test tree): nr_entries 253 exceeds max_entries 252",
    ];
    assert_eq!(m, expect);
}

#[test]
fn checksum_blocknr_and_range_problems() {
    let mut bad_csum = leaf(3, 8, &[(5, u64v(0))]);
    bad_csum[100] ^= 1;
    let io = image(&[
        (
            1,
            internal(1, &[(0, 2), (5, 3), (9, 4), (12, 63), (13, 100)]),
        ),
        (2, leaf(7, 8, &[(0, u64v(0))])),
        (3, bad_csum),
        (4, Box::new([0u8; BLOCK_SIZE])),
    ]);
    // The space map manages 63 blocks: block 63 is on the device but beyond it.
    let mut ck = Checker::new(&io, 63);
    walk(&mut ck, 1, 8);
    let m = messages(ck);
    let has =
        |prefix: &str, part: &str| m.iter().any(|s| s.starts_with(prefix) && s.contains(part));
    assert!(
        has(
            "error: block 2: ",
            "btree node (test tree): blocknr field says 7"
        ),
        "{m:?}"
    );
    assert!(
        has(
            "error: block 3: ",
            "btree node (test tree): bad checksum (stored"
        ),
        "{m:?}"
    );
    assert!(has("error: block 4: ", "the block is all zeros"), "{m:?}");
    assert!(
        has(
            "error: block 1: ",
            "points to block 63, beyond the space map's 63 blocks"
        ),
        "{m:?}"
    );
    assert!(
        has(
            "error: block 1: ",
            "points to block 100, beyond the end of the device (64 blocks)"
        ),
        "{m:?}"
    );
}

// ---- space map ----

/// A space map over `nr_blocks` blocks: index at 1, ref-count leaf at 2, bitmap at 3,
/// with the given bitmap entries, overflow entries and index hints.
struct Sm {
    nr_blocks: u64,
    entries: Vec<u8>,
    overflow: Vec<(u64, u32)>,
    nr_free: Option<u32>,
    none_free_before: Option<u32>,
    nr_allocated: Option<u64>,
}

impl Sm {
    /// Blocks 0..=4 in use with count 1 (block 4 stands for a user structure).
    fn exact() -> Sm {
        let mut entries = vec![0u8; ENTRIES];
        entries[..5].fill(1);
        Sm {
            nr_blocks: DEVICE,
            entries,
            overflow: Vec::new(),
            nr_free: None,
            none_free_before: None,
            nr_allocated: None,
        }
    }

    fn build(&self) -> (MemIo, SmRoot) {
        let real = &self.entries[..self.nr_blocks as usize];
        let free = self.entries.iter().filter(|&&v| v == 0).count() as u32;
        let first = self.entries.iter().position(|&v| v == 0).unwrap_or(ENTRIES) as u32;
        let index = pack_index(
            MetaBlock::new(1),
            &[IndexEntry {
                blocknr: MetaBlock::new(3),
                nr_free: self.nr_free.unwrap_or(free),
                none_free_before: self.none_free_before.unwrap_or(first),
            }],
        );
        let overflow: Vec<(u64, Vec<u8>)> =
            self.overflow.iter().map(|&(b, c)| (b, u32v(c))).collect();
        let io = image(&[
            (1, index),
            (2, leaf(2, 4, &overflow)),
            (3, pack_bitmap(MetaBlock::new(3), &self.entries)),
            (4, leaf(4, 8, &[])),
        ]);
        let root = SmRoot {
            nr_blocks: self.nr_blocks,
            nr_allocated: self
                .nr_allocated
                .unwrap_or(real.iter().filter(|&&v| v != 0).count() as u64),
            bitmap_root: MetaBlock::new(1),
            ref_count_root: MetaBlock::new(2),
        };
        (io, root)
    }

    /// Counts block 0 and block 4 `user_refs` times, then checks the space map.
    fn check(&self, user_refs: u32) -> Vec<String> {
        let (io, root) = self.build();
        let mut ck = Checker::new(&io, root.nr_blocks);
        ck.count_root(MetaBlock::new(0));
        for _ in 0..user_refs {
            ck.count_root(MetaBlock::new(4));
        }
        check_space_map(&mut ck, &root, MetaBlock::new(0));
        messages(ck)
    }
}

const ENTRIES: usize = crate::space_map::ENTRIES_PER_BITMAP;

#[test]
fn exact_space_map_has_no_findings() {
    assert_eq!(Sm::exact().check(1), Vec::<String>::new());
}

#[test]
fn leaked_block_is_a_warning() {
    let mut sm = Sm::exact();
    sm.entries[9] = 1;
    assert_eq!(
        sm.check(1),
        ["warning: block 9: leaked: the space map count is 1, but nothing references it"]
    );
    let mut sm = Sm::exact();
    sm.entries[4] = 2;
    assert_eq!(
        sm.check(1),
        ["warning: block 4: leaked: the space map count is 2, but only 1 reference was found"]
    );
}

#[test]
fn count_too_low_is_an_error() {
    assert_eq!(
        Sm::exact().check(2),
        ["error: block 4: reference count too low: the space map says 1, but 2 references were found"]
    );
    let mut sm = Sm::exact();
    sm.entries[4] = 0;
    let m = sm.check(1);
    assert!(m.contains(&"error: block 4: reference count too low: the space map says 0, but 1 references were found".to_string()), "{m:?}");
}

#[test]
fn pessimistic_index_hints_are_errors_optimistic_ones_are_fine() {
    let exact_free = (ENTRIES - 5) as u32;
    let mut sm = Sm::exact();
    sm.nr_free = Some(exact_free - 1);
    assert_eq!(
        sm.check(1),
        [format!("error: block 1: space-map index: entry 0 says bitmap 3 has {} free entries, it has {exact_free}: free blocks are hidden from the allocator", exact_free - 1)]
    );
    let mut sm = Sm::exact();
    sm.none_free_before = Some(6);
    assert_eq!(
        sm.check(1),
        ["error: block 1: space-map index: entry 0 says bitmap 3 has no free entry before 6, but entry 5 is free"]
    );
    // Like a freshly formatted kernel image (format.md §10.1): the index lags two
    // allocations behind, which only makes the allocator look further.
    let mut sm = Sm::exact();
    sm.nr_free = Some(exact_free + 2);
    sm.none_free_before = Some(3);
    assert_eq!(sm.check(1), Vec::<String>::new());
}

#[test]
fn nr_allocated_must_be_exact() {
    let mut sm = Sm::exact();
    sm.nr_allocated = Some(6);
    assert_eq!(
        sm.check(1),
        ["error: block 0: space map: nr_allocated is 6, but 5 blocks have a non-zero count"]
    );
}

#[test]
fn overflow_counts_come_from_the_ref_count_tree() {
    let mut sm = Sm::exact();
    sm.entries[4] = 3;
    sm.overflow = vec![(4, 3)];
    assert_eq!(sm.check(3), Vec::<String>::new());
    assert_eq!(
        sm.check(2),
        ["warning: block 4: leaked: the space map count is 3, but only 2 references were found"]
    );

    let mut sm = Sm::exact();
    sm.entries[4] = 3;
    let m = sm.check(3);
    assert_eq!(
        m,
        ["error: block 3: space-map bitmap: entry of block 4 is 3 (count of 3 or more), but the ref-count tree has no entry for it"]
    );

    let mut sm = Sm::exact();
    sm.overflow = vec![(4, 5)];
    let m = sm.check(1);
    assert_eq!(
        m,
        ["error: block 2: ref-count tree: holds a count for block 4, whose bitmap entry is 1 (not 3)"]
    );

    let mut sm = Sm::exact();
    sm.entries[4] = 3;
    sm.overflow = vec![(4, 2)];
    let m = sm.check(2);
    assert_eq!(
        m,
        ["error: block 2: ref-count tree: holds count 2 for block 4; counts below 3 belong in the bitmap"]
    );
}

#[test]
fn entries_beyond_the_space_map_must_be_free() {
    let mut sm = Sm::exact();
    sm.nr_blocks = 40;
    sm.entries[50] = 1;
    let m = sm.check(1);
    assert_eq!(
        m,
        ["warning: block 3: space-map bitmap 0: entry of block 50 is 1, but the space map ends at block 40"]
    );
}

#[test]
fn unreadable_bitmap_is_reported_and_counts_are_not_compared() {
    let (io, root) = Sm::exact().build();
    io.write_block(MetaBlock::new(3), &[0u8; BLOCK_SIZE])
        .expect("in range");
    let mut ck = Checker::new(&io, root.nr_blocks);
    ck.count_root(MetaBlock::new(0));
    ck.count_root(MetaBlock::new(4));
    check_space_map(&mut ck, &root, MetaBlock::new(0));
    let m = messages(ck);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].starts_with("error: block 3: space-map bitmap 0: bad checksum"),
        "{m:?}"
    );
}

#[test]
fn read_budget_stops_a_walk_that_revisits_blocks() {
    // One leaf, walked as a "new tree" far more often than a valid image would need.
    let io = image(&[(1, leaf(1, 8, &[(0, u64v(0))]))]);
    let mut ck = Checker::new(&io, DEVICE);
    for _ in 0..10_000 {
        walk(&mut ck, 1, 8);
    }
    assert!(ck.exhausted());
    assert!(ck.reads() <= DEVICE * READS_PER_BLOCK + READS_SLACK + 1);
    let m = messages(ck);
    assert!(m.iter().any(|s| s.contains("gave up after")), "{m:?}");
}

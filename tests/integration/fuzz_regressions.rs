//! Inputs the fuzz targets (fuzz/) crashed on, reduced by hand to the library calls they
//! make. The raw inputs are kept in fuzz/regressions/TARGET/ and replayed by
//! `fuzz/run.sh`.

use crate::common;

use common::kernel_image;
use era_tools::era::check::{check, CheckOptions};
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::era::repair::{salvage, RepairOptions};
use era_tools::era::superblock::Superblock;
use era_tools::io::BlockIo;
use era_tools::io::MemIo;
use era_tools::pdata::btree::{pack_node, put_key, NodeHeader, NodeView};
use era_tools::pdata::checksum::{seal, BlockKind};
use era_tools::pdata::codec::{get_u32, put_u32, put_u64};
use era_tools::units::Era;
use era_tools::units::MetaBlock;
use era_tools::units::{BlockBuf, BLOCK_SIZE};

fn superblock(img: &[u8]) -> Superblock {
    let b0: &BlockBuf = img[..BLOCK_SIZE].try_into().expect("one block");
    Superblock::decode(b0)
}

/// Edits block `b` of `img` and re-seals it as `kind`.
fn edit(img: &mut [u8], b: u64, kind: BlockKind, f: impl FnOnce(&mut BlockBuf)) {
    let o = b as usize * BLOCK_SIZE;
    let blk: &mut BlockBuf = (&mut img[o..o + BLOCK_SIZE]).try_into().expect("one block");
    f(blk);
    seal(blk, kind);
}

fn findings(img: Vec<u8>) -> Vec<String> {
    findings_of(&MemIo::from_bytes(img))
}

fn findings_of(io: &MemIo) -> Vec<String> {
    let report = check(io, &CheckOptions::default());
    report.findings.iter().map(|f| f.to_string()).collect()
}

/// fuzz/regressions/check/current-era-below-archived: a live current writeset whose era
/// (the superblock's current era) is below an archived writeset's era. The checker's
/// contiguity test took the last of an unsorted list of eras and subtracted: overflow.
#[test]
fn current_era_below_an_archived_writeset() {
    // checkpoints: writeset tree {5 -> bitset 147}, current era 5, no current writeset.
    // Make 147 the current writeset too, of era 4.
    let mut img = kernel_image("checkpoints");
    let mut sb = superblock(&img);
    sb.current_writeset.root = MetaBlock::new(147);
    sb.current_era = Era::new(4);
    img[..BLOCK_SIZE].copy_from_slice(&sb.pack()[..]);
    let found = findings(img);
    assert!(found.iter().any(|f| f.starts_with("error")), "{found:?}");
    // The eras 4 and 5 are contiguous once sorted; era 5 is beyond the current era.
    assert!(
        found
            .iter()
            .any(|f| f.contains("writeset of era 5 is beyond the current era 4")),
        "{found:?}"
    );
}

/// fuzz/regressions/check/btree-max-entries-times-value-size: a btree node whose
/// max_entries and value_size are both near 2^32. The checker's fit test multiplied them
/// in 64 bits: overflow.
#[test]
fn btree_node_max_entries_times_value_size_beyond_64_bits() {
    let mut img = kernel_image("checkpoints");
    let root = superblock(&img).era_array_root;
    edit(&mut img, root.get(), BlockKind::BtreeNode, |d| {
        put_u32(&mut d[..], 20, u32::MAX); // max_entries
        put_u32(&mut d[..], 24, u32::MAX); // value_size
    });
    let found = findings(img);
    assert!(
        found.iter().any(|f| f.contains(&format!(
            "block {root}: btree node (era array index): max_entries 4294967295 with value_size 4294967295 does not fit in a block"
        ))),
        "{found:?}"
    );
}

/// fuzz/regressions/read_metadata/array-block-pointer-u64-max: block 8 of `fresh` (a
/// btree leaf) with a value's block pointer set to 2^64 - 1, re-sealed. Grouping the
/// array's block pointers into runs of consecutive blocks added to it: overflow.
#[test]
fn array_block_pointer_at_the_top_of_u64() {
    let mut img = kernel_image("fresh");
    edit(&mut img, 8, BlockKind::BtreeNode, |d| {
        d[2052..2056].copy_from_slice(&2u32.to_le_bytes());
        d[2056..2064].copy_from_slice(&u64::MAX.to_le_bytes());
    });
    let io = MemIo::from_bytes(img);
    let view = open_view(&io, Source::Live).expect("the superblock is intact");
    assert!(read_metadata(&io, &view).is_err());
    assert!(findings_of(&io).iter().any(|f| f.starts_with("error")));
}

/// fuzz/regressions/check/writeset-eras-0-and-u64-max: writeset eras 0 and 2^64 - 1 (a
/// damaged tree key). The contiguity test computed `last - first + 1`: overflow.
#[test]
fn writeset_eras_zero_and_u64_max() {
    // checkpoints: writeset tree leaf 149 {5 -> bitset 147}. Make the key 2^64 - 1, and
    // 147 also the current writeset, of era 0.
    let mut img = kernel_image("checkpoints");
    edit(&mut img, 149, BlockKind::BtreeNode, |d| {
        put_u64(&mut d[..], 32, u64::MAX)
    });
    let mut sb = superblock(&img);
    sb.current_writeset.root = MetaBlock::new(147);
    sb.current_era = Era::new(0);
    img[..BLOCK_SIZE].copy_from_slice(&sb.pack()[..]);
    let found = findings(img);
    assert!(
        found.iter().any(|f| f
            .contains("the writeset eras (0, 18446744073709551615) are not one contiguous range")),
        "{found:?}"
    );
}

/// fuzz/regressions/check/era-array-index-times-entries: an era array index whose key is
/// far beyond the array, pointing at an array block that holds an era beyond the current
/// era. Naming the origin block of that entry multiplied the key by the values a block
/// holds: overflow. The finding names the entry by its index key instead.
#[test]
fn era_array_key_beyond_any_origin_block() {
    // checkpoints: the era array index is one leaf; its first value points at the array
    // block of origin blocks 0 .. 1017.
    let mut img = kernel_image("checkpoints");
    let root = superblock(&img).era_array_root;
    let data: &BlockBuf = img[root.get() as usize * BLOCK_SIZE..][..BLOCK_SIZE]
        .try_into()
        .expect("one block");
    let node = NodeView::parse(root, data).expect("the era array index reads");
    let ablock = node.value_block(0).get();
    let key = u64::MAX / 2;
    edit(&mut img, root.get(), BlockKind::BtreeNode, |d| {
        put_key(d, 0, key)
    });
    edit(&mut img, ablock, BlockKind::ArrayBlock, |d| {
        put_u32(&mut d[..], 24, u32::MAX)
    });
    let found = findings(img);
    assert!(
        found.iter().any(|f| f.contains(&format!(
            "block {ablock}: array block (era array): 1 entries hold an era beyond the current era 5 (first: entry 0 of the array block at index {key} has era 4294967295)"
        ))),
        "{found:?}"
    );
}

/// Points the writeset of era 5 in `checkpoints` (tree leaf 149, bitset 147) at a new
/// index root appended to the image: an internal node whose second child, under the
/// damaged key `key`, lies beyond the device.
fn bitset_index_with_a_lost_child_at(key: u64) -> MemIo {
    let mut img = kernel_image("checkpoints");
    let at = (img.len() / BLOCK_SIZE) as u64;
    let beyond = MetaBlock::new(at + 1_000);
    let values = [147u64, beyond.get()].map(u64::to_le_bytes).concat();
    let node = pack_node(
        MetaBlock::new(at),
        NodeHeader::empty(true, 0),
        &[0, key],
        &values,
    );
    img.extend_from_slice(&node[..]);
    edit(&mut img, 149, BlockKind::BtreeNode, |d| {
        let max_entries = get_u32(&d[..], 20) as usize;
        put_u64(&mut d[..], 32 + 8 * max_entries + 4, at);
    });
    MemIo::from_bytes(img)
}

/// A writeset's bitset index whose lost subtree lies under a key near 2^64 (a damaged
/// key of an internal node): the words the index evidences saturate at 2^64 - 1, and
/// the repair's lower bound on the bitset's size added 1 to 64 times them: overflow.
/// The writeset is sized by what the device can describe and its lost bits covered.
#[test]
fn bitset_index_lost_under_a_key_near_the_top_of_u64() {
    let io = bitset_index_with_a_lost_child_at(u64::MAX / 2);
    let r = salvage(&io, &RepairOptions::default()).expect("the geometry is intact");
    assert!(
        r.losses
            .iter()
            .any(|l| l.to_string().contains("nr_bits") && l.to_string().contains("era 5")),
        "{:?}",
        r.losses
    );
    let ws = r
        .plan
        .writesets
        .iter()
        .find(|w| w.era == 5)
        .expect("the writeset of era 5 is kept");
    // What an era array on this device can describe: 1018 origin blocks a block.
    assert!(
        u64::from(ws.nr_bits) <= io.nr_blocks() * 1018,
        "{}",
        ws.nr_bits
    );
}

/// fuzz/regressions/repair/writeset-eras-4e9-apart-empty-writesets-out-of-memory (the
/// same damage with the era 4,000,000,000, written for the fuzz target, not found by it):
/// a writeset tree whose second entry's era lies a million eras above the first (a
/// damaged key): the repair kept the eras one contiguous range by writing an empty
/// writeset for every era between, a million of them (four billion from a key near
/// 2^32, more than memory holds). The kernel leaves no gap, and every archived writeset
/// has a bitset block of its own, so a range longer than the device has blocks comes
/// from a damaged key: the writesets below it are moved up into its first era (a later
/// era only lists a block as written for more eras).
#[test]
fn writeset_eras_further_apart_than_the_device_has_blocks() {
    // checkpoints: writeset tree leaf 149 {5 -> bitset 147}. Add the entry
    // {1000005 -> a bitset root beyond the device}.
    let mut img = kernel_image("checkpoints");
    let far = 1_000_005u64;
    let beyond = (img.len() / BLOCK_SIZE + 1_000) as u64;
    edit(&mut img, 149, BlockKind::BtreeNode, |d| {
        let max_entries = get_u32(&d[..], 20) as usize;
        let v1 = 32 + 8 * max_entries + 12;
        put_u32(&mut d[..], 16, 2);
        put_u64(&mut d[..], 40, far);
        let nr_bits = get_u32(&d[..], v1 - 12);
        put_u32(&mut d[..], v1, nr_bits);
        put_u64(&mut d[..], v1 + 4, beyond);
    });
    let io = MemIo::from_bytes(img);
    let r = salvage(&io, &RepairOptions::default()).expect("the geometry is intact");
    let eras: Vec<u32> = r.plan.writesets.iter().map(|w| w.era).collect();
    assert!(
        eras.len() as u64 <= io.nr_blocks(),
        "{} writesets",
        eras.len()
    );
    assert_eq!(eras.last(), Some(&(far as u32)));
    // One contiguous range, its first writeset holding the bits of era 5's.
    assert!(eras.windows(2).all(|w| w[1] == w[0] + 1));
    assert!(!r.plan.writesets[0].sources.is_empty());
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("eras [5]") && n.contains(&format!("era {}", eras[0]))),
        "{:?}",
        r.notes
            .iter()
            .map(|n| &n[..n.len().min(300)])
            .collect::<Vec<_>>()
    );
}

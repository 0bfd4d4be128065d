use super::*;
use crate::alloc::BlockAllocator;
use crate::array::builder::write_array;
use crate::array::read_array;
use crate::bitset::builder::write_bitset;
use crate::bitset::{mask_tail, nr_words, read_bitset};
use crate::btree::{put_value, NodeHeader, NodeView};
use crate::checksum::seal;
use crate::io::MemIo;
use crate::{read_block, write_block};

#[test]
fn ranges_of_blocks_read_what_the_whole_array_holds() {
    let io = MemIo::new(64);
    let mut alloc = BlockAllocator::new(MetaBlock::new(1), 64);
    let values: Vec<u32> = (0..5000u32)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();
    let root = write_array(&mut alloc, &io, &values).unwrap();
    let whole = read_array::<u32>(&io, root, values.len() as u64).unwrap();
    assert_eq!(whole, values);
    let r = ArrayReader::<u32>::open(&io, root, values.len() as u64).unwrap();
    assert_eq!(r.nr_blocks(), 5);
    let mut out = Vec::new();
    let mut joined = Vec::new();
    for b in 0..r.nr_blocks() {
        r.read_blocks(b..b + 1, &mut out).unwrap();
        joined.extend_from_slice(&out);
    }
    assert_eq!(joined, values);
    r.read_blocks(1..99, &mut out).unwrap();
    assert_eq!(out, values[1018..]);
    r.read_blocks(7..9, &mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(r.blocks_of(1017..1019), 0..2);
    assert_eq!(r.blocks_of(1018..2036), 1..2);
    assert_eq!(r.blocks_of(5..5), 0..0);
}

/// Sets value `entry` of btree node `node` to `to` (a block number) and re-seals it.
fn point(io: &MemIo, node: MetaBlock, entry: usize, to: MetaBlock) {
    let mut data = read_block(io, node).unwrap();
    let h = NodeHeader::decode(&data);
    put_value(&mut data, &h, entry, &to.get().to_le_bytes());
    seal(&mut data, BlockKind::BtreeNode);
    write_block(io, node, &data).unwrap();
}

/// The node `entry` of node `node` points to.
fn child(io: &MemIo, node: MetaBlock, entry: usize) -> MetaBlock {
    let data = read_block(io, node).unwrap();
    NodeView::parse(node, &data).unwrap().value_block(entry)
}

/// R6 (testdata/repro): one array block listed at two places of the index hands its values
/// to both and the replaced block's to none; every read refuses, naming both places.
#[test]
fn an_array_block_listed_twice_is_refused() {
    let io = MemIo::new(64);
    let mut alloc = BlockAllocator::new(MetaBlock::new(1), 64);
    let values: Vec<u32> = (0..5000u32).collect();
    let root = write_array(&mut alloc, &io, &values).unwrap();
    point(&io, root, 3, child(&io, root, 1));
    let want = format!(
        "array block {} is listed twice in the array index at block {root}: at index 1 and at index 3",
        child(&io, root, 1)
    );
    let e = ArrayReader::<u32>::open(&io, root, 5000).err().unwrap();
    assert!(
        matches!(
            e,
            Error::ListedTwice {
                first: 1,
                second: 3,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.to_string(), want);
    let e = read_array::<u32>(&io, root, 5000).unwrap_err();
    assert_eq!(e.to_string(), want);
}

/// The same in a writeset's bitset (an array of u64 words).
#[test]
fn a_bitset_block_listed_twice_is_refused() {
    let io = MemIo::new(64);
    let mut alloc = BlockAllocator::new(MetaBlock::new(1), 64);
    let nr_bits = 4 * 509 * 64 + 7;
    let mut words: Vec<u64> = (0..nr_words(nr_bits)).map(|i| i * 3 + 1).collect();
    mask_tail(&mut words, nr_bits);
    let root = write_bitset(&mut alloc, &io, &words, nr_bits).unwrap();
    assert_eq!(read_bitset(&io, root, nr_bits).unwrap(), words);
    point(&io, root, 0, child(&io, root, 4));
    let e = read_bitset(&io, root, nr_bits).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ListedTwice {
                first: 0,
                second: 4,
                ..
            }
        ),
        "{e}"
    );
}

/// Two entries of a two-level index pointing at one leaf: the btree walk's own
/// guard (a node reached twice) refuses it, naming both entries.
#[test]
fn an_index_leaf_reached_twice_is_refused() {
    let io = MemIo::new(300);
    let mut alloc = BlockAllocator::new(MetaBlock::new(1), 300);
    let len = 253 * 1018;
    let values: Vec<u32> = (0..len).collect();
    let root = write_array(&mut alloc, &io, &values).unwrap();
    let data = read_block(&io, root).unwrap();
    let n = NodeView::parse(root, &data).unwrap();
    assert!(!n.is_leaf() && n.nr_entries == 2, "a two-level index");
    point(&io, root, 1, child(&io, root, 0));
    let e = ArrayReader::<u32>::open(&io, root, len.into())
        .err()
        .unwrap();
    assert!(matches!(e, Error::Cycle { .. }), "{e}");
    assert_eq!(e.block(), Some(child(&io, root, 0)));
    assert!(
        e.to_string().ends_with(&format!(
            "from entry 0 of node {root} and from entry 1 of node {root}"
        )),
        "{e}"
    );
}

//! The era checks on kernel images with one deliberate change each (blocks re-sealed, so
//! that only the intended problem remains), and on devices that are not era metadata.

use super::*;
use crate::io::MemIo;
use crate::pdata::checksum::{self, BlockKind};
use crate::pdata::codec::{get_u32, get_u64, put_u32, put_u64};
use crate::pdata::space_map::{pack_bitmap, pack_index, unpack_bitmap, unpack_index};
use crate::superblock::Superblock;
use crate::units::Era;
use crate::units::{BlockBuf, BLOCK_SIZE};
use std::io::Read;

fn kernel_image(case: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join("testdata/kernel")
        .join(case)
        .join("meta.img.gz");
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("kernel image"))
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// A kernel image being edited.
struct Img(Vec<u8>);

impl Img {
    fn new(case: &str) -> Img {
        Img(kernel_image(case))
    }

    fn block(&self, b: u64) -> Box<BlockBuf> {
        let mut buf = Box::new([0u8; BLOCK_SIZE]);
        let o = b as usize * BLOCK_SIZE;
        buf.copy_from_slice(&self.0[o..o + BLOCK_SIZE]);
        buf
    }

    fn put(&mut self, b: u64, data: &BlockBuf) {
        let o = b as usize * BLOCK_SIZE;
        self.0[o..o + BLOCK_SIZE].copy_from_slice(data);
    }

    /// Edits block `b` and re-seals it as `kind`.
    fn edit(&mut self, b: u64, kind: BlockKind, f: impl FnOnce(&mut BlockBuf)) {
        let mut d = self.block(b);
        f(&mut d);
        checksum::seal(&mut d, kind);
        self.put(b, &d);
    }

    fn sb(&self) -> Superblock {
        Superblock::decode(&self.block(0))
    }

    fn set_sb(&mut self, sb: &Superblock) {
        self.put(0, &sb.pack());
    }

    /// Sets the space-map count of block `target` (< 3) and keeps the index hints and
    /// `nr_allocated` exact, so that only the count itself is wrong.
    fn set_count(&mut self, target: u64, count: u8) {
        let mut sb = self.sb();
        let index_at = sb.sm_root.bitmap_root;
        let mut index = unpack_index(&self.block(index_at.get()));
        let bitmap_at = index[0].blocknr;
        let mut entries = unpack_bitmap(&self.block(bitmap_at.get()));
        let old = entries[target as usize];
        entries[target as usize] = count;
        self.put(bitmap_at.get(), &pack_bitmap(bitmap_at, &entries));
        index[0].nr_free = entries.iter().filter(|&&v| v == 0).count() as u32;
        index[0].none_free_before =
            entries.iter().position(|&v| v == 0).expect("a free block") as u32;
        self.put(index_at.get(), &pack_index(index_at, &index));
        match (old, count) {
            (0, c) if c > 0 => sb.sm_root.nr_allocated += 1,
            (o, 0) if o > 0 => sb.sm_root.nr_allocated -= 1,
            _ => {}
        }
        self.set_sb(&sb);
    }

    fn check(&self) -> Vec<String> {
        self.check_with(false)
    }

    fn check_with(&self, super_block_only: bool) -> Vec<String> {
        let io = MemIo::from_bytes(self.0.clone());
        check(
            &io,
            &CheckOptions {
                super_block_only,
                ..CheckOptions::default()
            },
        )
        .findings
        .iter()
        .map(|f| f.to_string())
        .collect()
    }
}

#[test]
fn unchanged_image_is_clean() {
    assert_eq!(Img::new("crash").check(), Vec::<String>::new());
}

#[test]
fn era_array_value_beyond_the_current_era() {
    // crash: current era 3; the era array's second block is block 9.
    let mut img = Img::new("crash");
    img.edit(9, BlockKind::ArrayBlock, |d| {
        put_u32(&mut d[..], 24 + 4 * 5, 4);
        put_u32(&mut d[..], 24 + 4 * 7, 9);
    });
    assert_eq!(
        img.check(),
        ["error: block 9: array block (era array): 2 entries hold an era beyond the current era 3 (first: origin block 1023 has era 4)"]
    );
}

#[test]
fn current_writeset_era_also_archived() {
    // checkpoints: tree {5 -> bitset 147}, current era 5, no current writeset. Make the
    // archived bitset the current writeset too.
    let mut img = Img::new("checkpoints");
    let mut sb = img.sb();
    sb.current_writeset.root = MetaBlock::new(147);
    img.set_sb(&sb);
    assert_eq!(
        img.check(),
        [
            "error: block 149: writeset tree: holds era 5, which is also the era of the current writeset",
            "error: block 147: reference count too low: the space map says 1, but 2 references were found",
        ]
    );
}

#[test]
fn writeset_eras_beyond_the_current_era_or_not_contiguous() {
    let leaf = 149; // checkpoints' writeset tree, one entry: era 5
                    // An archived range ending before the current era (a restored snapshot's) is what
                    // the kernel opens: no finding.
    let mut img = Img::new("checkpoints");
    img.edit(leaf, BlockKind::BtreeNode, |d| put_u64(&mut d[..], 32, 3));
    assert!(img.check().is_empty(), "{:?}", img.check());
    let mut img = Img::new("checkpoints");
    img.edit(leaf, BlockKind::BtreeNode, |d| put_u64(&mut d[..], 32, 6));
    assert_eq!(
        img.check(),
        ["error: block 149: writeset tree: writeset of era 6 is beyond the current era 5"]
    );
}

#[test]
fn writeset_size_must_match_its_bitset() {
    // resize_shrink_undigested: era 2 has 2097152 bits (more than the 1048576 origin
    // blocks, which is fine after a shrink); claiming 64 more bits is not.
    let mut img = Img::new("resize_shrink_undigested");
    let sb = img.sb();
    let leaf = sb.writeset_tree_root;
    let d = img.block(leaf.get());
    let max = get_u32(&d[..], 20) as usize;
    assert_eq!(get_u64(&d[..], 32), 2);
    img.edit(leaf.get(), BlockKind::BtreeNode, |d| {
        let o = 32 + 8 * max;
        let bits = get_u32(&d[..], o);
        put_u32(&mut d[..], o, bits + 64);
    });
    assert_eq!(
        img.check(),
        ["error: block 2255: array block (writeset of era 2): nr_entries 192, expected 193 for index 64 of an array of 32769 values"]
    );
}

#[test]
fn leaked_block_is_only_a_warning() {
    let mut img = Img::new("crash");
    img.set_count(1000, 1);
    assert_eq!(
        img.check(),
        ["warning: block 1000: leaked: the space map count is 1, but nothing references it"]
    );
}

#[test]
fn count_too_low_is_an_error() {
    let mut img = Img::new("crash");
    img.set_count(9, 0);
    assert_eq!(
        img.check(),
        ["error: block 9: reference count too low: the space map says 0, but 1 references were found"]
    );
}

#[test]
fn snapshot_structures_are_counted() {
    // metadata_snap: a snapshot is held at block 127. Without it, the copy leaks and
    // the blocks it shares with the live trees are counted once too often on disk.
    let mut img = Img::new("metadata_snap");
    let mut sb = img.sb();
    sb.metadata_snap = MetaBlock::new(0);
    img.set_sb(&sb);
    let m = img.check();
    assert!(!m.is_empty());
    assert!(
        m.iter()
            .all(|s| s.starts_with("warning: ") && s.contains("leaked")),
        "{m:?}"
    );
    assert!(
        m.contains(
            &"warning: block 127: leaked: the space map count is 1, but nothing references it"
                .to_string()
        ),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|s| s.contains("count is 2, but only 1 reference")),
        "{m:?}"
    );
}

#[test]
fn blocks_below_a_damaged_node_are_leaks_with_a_hint() {
    // crash: the current writeset's bitset is the leaf at block 100, holding one array
    // block (98).
    let mut img = Img::new("crash");
    img.put(100, &[0u8; BLOCK_SIZE]);
    assert_eq!(
        img.check(),
        [
            "error: block 100: btree node (current writeset (era 3) index): bad checksum (stored 0x00000000, computed 0x58cc7e82); the block is all zeros",
            "warning: block 98: leaked: the space map count is 1, but nothing readable references it (a damaged block may)",
        ]
    );
}

#[test]
fn snapshot_copy_is_checked() {
    let mut img = Img::new("metadata_snap");
    img.edit(127, BlockKind::Superblock, |d| put_u64(&mut d[..], 8, 0));
    assert_eq!(
        img.check(),
        ["error: block 127: metadata snapshot: blocknr field says 0"]
    );
}

#[test]
fn btree_max_entries_must_be_the_kernel_formula() {
    // crash: the writeset tree is one empty leaf at block 86.
    let mut img = Img::new("crash");
    img.edit(86, BlockKind::BtreeNode, |d| put_u32(&mut d[..], 20, 198));
    assert_eq!(
        img.check(),
        ["error: block 86: btree node (writeset tree): max_entries 198, the kernel requires 201 for value_size 12"]
    );
}

#[test]
fn superblock_fields() {
    let mut img = Img::new("crash");
    let mut sb = img.sb();
    sb.data_block_size = 12;
    sb.metadata_block_size = 16;
    sb.nr_blocks = 1 << 31;
    sb.sm_root.nr_blocks = 5000;
    sb.writeset_tree_root = MetaBlock::new(0);
    sb.era_array_root = MetaBlock::new(4000);
    img.set_sb(&sb);
    assert_eq!(
        img.check_with(true),
        [
            "error: block 0: superblock: data_block_size 12 sectors is not a positive multiple of 8",
            "warning: block 0: superblock: metadata_block_size 16 sectors, expected 8 (the field is not used)",
            "error: block 0: superblock: nr_blocks 2147483648 is not below 2^31 origin blocks",
            "error: block 0: superblock: the space map manages 5000 blocks, more than the device's 1024",
            "error: block 0: superblock: writeset_tree_root is 0, but it must point to a block",
            "error: block 0: superblock: era_array_root 4000 lies beyond the end of the device (1024 blocks)",
        ]
    );
    // The full check goes on past them without panicking.
    assert!(img.check().len() >= 6);
}

#[test]
fn superblock_checksum_blocknr_version() {
    let mut img = Img::new("crash");
    img.edit(0, BlockKind::Superblock, |d| {
        put_u64(&mut d[..], 8, 3);
        put_u32(&mut d[..], 40, 2);
    });
    assert_eq!(
        img.check_with(true),
        [
            "error: block 0: superblock: blocknr field says 3",
            "error: block 0: superblock: unsupported metadata version 2 (only 1 exists)",
        ]
    );
    let mut img = Img::new("crash");
    let mut d = img.block(0);
    d[200] ^= 1;
    img.put(0, &d);
    let m = img.check_with(true);
    assert_eq!(m.len(), 1);
    assert!(
        m[0].starts_with("error: block 0: superblock: bad checksum"),
        "{m:?}"
    );
}

#[test]
fn not_era_metadata() {
    let blank = MemIo::new(16);
    let r = check(&blank, &CheckOptions::default());
    assert!(r.has_errors());
    assert_eq!(
        r.findings[0].to_string(),
        "error: block 0: superblock: all zeros: the metadata has never been formatted"
    );
    let empty = MemIo::new(0);
    let r = check(&empty, &CheckOptions::default());
    assert!(r.has_errors());
    assert_eq!(r.findings[0].block, Some(MetaBlock::new(0)));
    let mut garbage = vec![0u8; 64 * BLOCK_SIZE];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for b in garbage.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let r = check(&MemIo::from_bytes(garbage), &CheckOptions::default());
    assert!(r.has_errors());
    assert!(r.findings[0].message.contains("bad magic"));
}

// ---- the spec's hand-made examples (format.md §12.4, §12.5, §10.1) ----

fn node(block: u64, value_size: u32, entries: &[(u64, Vec<u8>)]) -> Box<BlockBuf> {
    let max = crate::pdata::btree::max_entries(value_size as usize);
    let mut b = Box::new([0u8; BLOCK_SIZE]);
    put_u32(&mut b[..], 4, 2);
    put_u64(&mut b[..], 8, block);
    put_u32(&mut b[..], 16, entries.len() as u32);
    put_u32(&mut b[..], 20, max);
    put_u32(&mut b[..], 24, value_size);
    for (i, (k, v)) in entries.iter().enumerate() {
        put_u64(&mut b[..], 32 + 8 * i, *k);
        let o = 32 + 8 * max as usize + value_size as usize * i;
        b[o..o + v.len()].copy_from_slice(v);
    }
    checksum::seal(&mut b, BlockKind::BtreeNode);
    b
}

fn array_block(block: u64, value_size: u32, values: &[u8]) -> Box<BlockBuf> {
    let mut b = Box::new([0u8; BLOCK_SIZE]);
    put_u32(&mut b[..], 4, (4072 / value_size as usize) as u32);
    put_u32(&mut b[..], 8, (values.len() / value_size as usize) as u32);
    put_u32(&mut b[..], 12, value_size);
    put_u64(&mut b[..], 16, block);
    b[24..24 + values.len()].copy_from_slice(values);
    checksum::seal(&mut b, BlockKind::ArrayBlock);
    b
}

fn bitmap_with_first(block: u64, in_use: usize) -> Box<BlockBuf> {
    let mut entries = vec![0u8; 16320];
    entries[..in_use].fill(1);
    pack_bitmap(MetaBlock::new(block), &entries)
}

fn index(block: u64, bitmap: u64, nr_free: u32, none_free_before: u32) -> Box<BlockBuf> {
    pack_index(
        MetaBlock::new(block),
        &[crate::pdata::space_map::IndexEntry {
            blocknr: MetaBlock::new(bitmap),
            nr_free,
            none_free_before,
        }],
    )
}

/// Example A: freshly formatted metadata on a 1 MiB device; `index_hint` is the index
/// entry's `(nr_free, none_free_before)`.
fn example_a(index_hint: (u32, u32)) -> (MemIo, [u32; 6]) {
    let mut sb = Superblock::new(128);
    sb.sm_root = crate::pdata::space_map::SmRoot {
        nr_blocks: 256,
        nr_allocated: 6,
        bitmap_root: MetaBlock::new(1),
        ref_count_root: MetaBlock::new(2),
    };
    sb.writeset_tree_root = MetaBlock::new(4);
    sb.era_array_root = MetaBlock::new(5);
    let blocks = [
        sb.pack(),
        index(1, 3, index_hint.0, index_hint.1),
        node(2, 4, &[]),
        bitmap_with_first(3, 6),
        node(4, 12, &[]),
        node(5, 8, &[]),
    ];
    let io = MemIo::new(256);
    let mut sums = [0u32; 6];
    for (b, data) in blocks.iter().enumerate() {
        io.write_block(MetaBlock::new(b as u64), data)
            .expect("in range");
        sums[b] = get_u32(&data[..], 0);
    }
    (io, sums)
}

#[test]
fn spec_example_a_checks_clean() {
    let (io, sums) = example_a((16314, 6));
    assert_eq!(
        sums,
        [0xD91D4149, 0x96593B1E, 0xC360E452, 0x2C9F4F8E, 0xCED489CE, 0x49D8085D]
    );
    let r = check(&io, &CheckOptions::default());
    assert_eq!(r.findings, []);
    assert_eq!((r.blocks_read, r.blocks_referenced), (6, 6));
}

#[test]
fn kernel_format_with_lagging_index_checks_clean() {
    // format.md §10.1: the kernel's format leaves the index two allocations behind
    // (nr_free 16320 - (3 + nb), none_free_before 3 + nb, with nb = 1 bitmap).
    let (io, _) = example_a((16316, 4));
    assert_eq!(check(&io, &CheckOptions::default()).findings, []);
    // The opposite direction hides free blocks.
    let (io, _) = example_a((16313, 6));
    let r = check(&io, &CheckOptions::default());
    assert_eq!(
        r.findings.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        ["error: block 1: space-map index: entry 0 says bitmap 3 has 16313 free entries, it has 16314: free blocks are hidden from the allocator"]
    );
}

#[test]
fn spec_example_b_checks_clean() {
    let mut sb = Superblock::new(128);
    sb.sm_root = crate::pdata::space_map::SmRoot {
        nr_blocks: 256,
        nr_allocated: 9,
        bitmap_root: MetaBlock::new(8),
        ref_count_root: MetaBlock::new(7),
    };
    sb.nr_blocks = 100;
    sb.current_era = Era::new(2);
    sb.current_writeset.nr_bits = 100;
    sb.writeset_tree_root = MetaBlock::new(3);
    sb.era_array_root = MetaBlock::new(5);
    let mut words = Vec::new();
    words.extend_from_slice(&0x8000_0000_0000_0021u64.to_le_bytes());
    words.extend_from_slice(&0x0000_0008_0000_0001u64.to_le_bytes());
    let eras: Vec<u8> = (0..100u32).flat_map(|i| (i % 3).to_le_bytes()).collect();
    let mut ws = vec![0u8; 12];
    put_u32(&mut ws, 0, 100);
    put_u64(&mut ws, 4, 2);
    let blocks = [
        sb.pack(),
        array_block(1, 8, &words),
        node(2, 8, &[(0, 1u64.to_le_bytes().to_vec())]),
        node(3, 12, &[(2, ws)]),
        array_block(4, 4, &eras),
        node(5, 8, &[(0, 4u64.to_le_bytes().to_vec())]),
        bitmap_with_first(6, 9),
        node(7, 4, &[]),
        index(8, 6, 16311, 9),
    ];
    let io = MemIo::new(256);
    let mut sums = Vec::new();
    for (b, data) in blocks.iter().enumerate() {
        io.write_block(MetaBlock::new(b as u64), data)
            .expect("in range");
        sums.push(get_u32(&data[..], 0));
    }
    assert_eq!(
        sums,
        [
            0x3ED21E19, 0x0764821D, 0xC55A2D9C, 0xAF7C07FC, 0x76B56B41, 0x63A0374D, 0x44213501,
            0x41A2E41B, 0x0A882DBE
        ]
    );
    let r = check(&io, &CheckOptions::default());
    assert_eq!(r.findings, []);
    assert_eq!((r.blocks_read, r.blocks_referenced), (9, 9));
    // The same writeset made the live current writeset as well: a duplicated era and a
    // bitset referenced twice but counted once.
    sb.current_writeset.root = MetaBlock::new(2);
    io.write_block(MetaBlock::new(0), &sb.pack())
        .expect("in range");
    let r = check(&io, &CheckOptions::default());
    assert_eq!(
        r.findings.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        [
            "error: block 3: writeset tree: holds era 2, which is also the era of the current writeset",
            "error: block 2: reference count too low: the space map says 1, but 2 references were found",
        ]
    );
}

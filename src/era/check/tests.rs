//! The era checks on kernel images with one deliberate change each (blocks re-sealed, so
//! that only the intended problem remains), and on devices that are not era metadata.

use super::*;
use crate::era::superblock::Superblock;
use crate::io::MemIo;
use crate::pdata::checksum::{self, BlockKind};
use crate::pdata::codec::{get_u32, get_u64, put_u32, put_u64};
use crate::pdata::space_map::{pack_bitmap, pack_index, unpack_bitmap, unpack_index};
use crate::units::{BlockBuf, BLOCK_SIZE};
use std::io::Read;

fn kernel_image(case: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
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
        let mut index = unpack_index(&self.block(index_at));
        let bitmap_at = index[0].blocknr;
        let mut entries = unpack_bitmap(&self.block(bitmap_at));
        let old = entries[target as usize];
        entries[target as usize] = count;
        self.put(bitmap_at, &pack_bitmap(bitmap_at, &entries));
        index[0].nr_free = entries.iter().filter(|&&v| v == 0).count() as u32;
        index[0].none_free_before =
            entries.iter().position(|&v| v == 0).expect("a free block") as u32;
        self.put(index_at, &pack_index(index_at, &index));
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
        check(&io, &CheckOptions { super_block_only })
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
    sb.current_writeset.root = 147;
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
    let mut img = Img::new("checkpoints");
    img.edit(leaf, BlockKind::BtreeNode, |d| put_u64(&mut d[..], 32, 3));
    assert_eq!(
        img.check(),
        ["warning: block 149: writeset tree: the writeset eras (3) are not one contiguous range ending at the current era 5"]
    );
    let mut img = Img::new("checkpoints");
    img.edit(leaf, BlockKind::BtreeNode, |d| put_u64(&mut d[..], 32, 6));
    assert_eq!(
        img.check(),
        [
            "error: block 149: writeset tree: writeset of era 6 is beyond the current era 5",
            "warning: block 149: writeset tree: the writeset eras (6) are not one contiguous range ending at the current era 5",
        ]
    );
}

#[test]
fn writeset_size_must_match_its_bitset() {
    // resize_shrink_undigested: era 2 has 2097152 bits (more than the 1048576 origin
    // blocks, which is fine after a shrink); claiming 64 more bits is not.
    let mut img = Img::new("resize_shrink_undigested");
    let sb = img.sb();
    let leaf = sb.writeset_tree_root;
    let d = img.block(leaf);
    let max = get_u32(&d[..], 20) as usize;
    assert_eq!(get_u64(&d[..], 32), 2);
    img.edit(leaf, BlockKind::BtreeNode, |d| {
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
    sb.metadata_snap = 0;
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
fn snapshot_copy_is_checked() {
    let mut img = Img::new("metadata_snap");
    img.edit(127, BlockKind::Superblock, |d| put_u64(&mut d[..], 8, 0));
    assert_eq!(
        img.check(),
        ["error: block 127: metadata snapshot: says it is block 0"]
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
    sb.writeset_tree_root = 0;
    sb.era_array_root = 4000;
    img.set_sb(&sb);
    assert_eq!(
        img.check_with(true),
        [
            "error: block 0: superblock: data_block_size 12 sectors is not a positive multiple of 8",
            "error: block 0: superblock: metadata_block_size 16 sectors, expected 8",
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
            "error: block 0: superblock: says it is block 3",
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
    assert_eq!(r.findings[0].block, Some(0));
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

//! On-disk index and bitmap blocks, and reading every block's reference count.
//!
//! ```text
//! index:  0 csum | 4 pad | 8 blocknr | 16 entries[255] {blocknr u64, nr_free u32, none_free_before u32}
//! bitmap: 0 csum | 4 pad | 8 blocknr | 16 510 LE u64 words of 2-bit entries (bit p = 2, bit p+1 = 1)
//! ```

use super::SmRoot;
use crate::btree::collect_leaves;
use crate::checksum::{self, BlockKind};
use crate::codec::{get_block, get_u32, get_u64, put_block, put_u32, put_u64};
use crate::io::BlockIo;
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use crate::{read_block, Error, Result};

/// Two-bit entries per bitmap block.
pub const ENTRIES_PER_BITMAP: usize = (BLOCK_SIZE - HEADER_SIZE) * 4;
/// Index entries that fit in the index block.
pub const MAX_BITMAPS: usize = (BLOCK_SIZE - HEADER_SIZE) / INDEX_ENTRY_SIZE;
/// The most metadata blocks a space map can manage.
pub const MAX_METADATA_BLOCKS: u64 = (MAX_BITMAPS * ENTRIES_PER_BITMAP) as u64;

/// Where the count of `block` lives: the bitmap's position in the index and the entry's
/// within the bitmap. `None` for a block number too large for any table (never
/// truncated onto another bitmap).
pub fn bitmap_position(block: MetaBlock) -> Option<(usize, usize)> {
    let i = block.index()?;
    Some((i / ENTRIES_PER_BITMAP, i % ENTRIES_PER_BITMAP))
}

const HEADER_SIZE: usize = 16;
const INDEX_ENTRY_SIZE: usize = 16;

/// One index entry: where bitmap *i* lives and its free-space hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexEntry {
    /// Where the bitmap block lives.
    pub blocknr: MetaBlock,
    /// How many entries of the bitmap have count 0, the entries past the space map's
    /// end included.
    pub nr_free: u32,
    /// A lower bound of the first entry with count 0 in the bitmap: a search start,
    /// which the kernel lets lag behind (format.md §7.2).
    pub none_free_before: u32,
}

/// Decodes the 255 entries of a verified index block.
pub fn unpack_index(data: &BlockBuf) -> Vec<IndexEntry> {
    (0..MAX_BITMAPS)
        .map(|i| {
            let o = HEADER_SIZE + INDEX_ENTRY_SIZE * i;
            IndexEntry {
                blocknr: get_block(data, o),
                nr_free: get_u32(data, o + 8),
                none_free_before: get_u32(data, o + 12),
            }
        })
        .collect()
}

/// Builds a sealed index block at `location`.
pub fn pack_index(location: MetaBlock, entries: &[IndexEntry]) -> Box<BlockBuf> {
    let mut b = Box::new([0u8; BLOCK_SIZE]);
    checksum::set_blocknr(&mut b, BlockKind::Index, location);
    for (i, e) in entries.iter().take(MAX_BITMAPS).enumerate() {
        let o = HEADER_SIZE + INDEX_ENTRY_SIZE * i;
        put_block(&mut b[..], o, e.blocknr);
        put_u32(&mut b[..], o + 8, e.nr_free);
        put_u32(&mut b[..], o + 12, e.none_free_before);
    }
    checksum::seal(&mut b, BlockKind::Index);
    b
}

/// Decodes the 16320 two-bit entries of a verified bitmap block.
pub fn unpack_bitmap(data: &BlockBuf) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENTRIES_PER_BITMAP);
    for w in 0..ENTRIES_PER_BITMAP / 32 {
        let word = get_u64(data, HEADER_SIZE + 8 * w);
        out.extend((0..32).map(|e| entry_of(word, e)));
    }
    out
}

/// Builds a sealed bitmap block at `location` from up to 16320 entries (0..=3).
pub fn pack_bitmap(location: MetaBlock, entries: &[u8]) -> Box<BlockBuf> {
    let mut b = Box::new([0u8; BLOCK_SIZE]);
    checksum::set_blocknr(&mut b, BlockKind::Bitmap, location);
    for (w, chunk) in entries.chunks(32).take(ENTRIES_PER_BITMAP / 32).enumerate() {
        let word = chunk
            .iter()
            .enumerate()
            .fold(0u64, |word, (e, &v)| word | entry_bits(e, v));
        put_u64(&mut b[..], HEADER_SIZE + 8 * w, word);
    }
    checksum::seal(&mut b, BlockKind::Bitmap);
    b
}

/// Sets entry `e` (0..16320) of a bitmap block to `v` (0..=3).
pub fn set_bitmap_entry(b: &mut BlockBuf, e: usize, v: u8) {
    let o = HEADER_SIZE + 8 * (e / 32);
    let word = get_u64(&b[..], o) & !(3u64 << (2 * (e % 32)));
    put_u64(&mut b[..], o, word | entry_bits(e % 32, v));
}

/// Entry `e` (0..32) of a bitmap word: its high bit at bit `2e`, its low bit at `2e + 1`.
fn entry_of(word: u64, e: usize) -> u8 {
    let p = 2 * e;
    let hi = (word >> p) & 1;
    let lo = (word >> (p + 1)) & 1;
    (2 * hi + lo) as u8
}

/// The bits of entry `e` (0..32) of a bitmap word holding `v` (0..=3).
fn entry_bits(e: usize, v: u8) -> u64 {
    let p = 2 * e;
    (u64::from((v >> 1) & 1) << p) | (u64::from(v & 1) << (p + 1))
}

/// Number of bitmap entries that describe real blocks in bitmap `i`.
pub fn bitmap_entries(root: &SmRoot, i: usize) -> usize {
    let start = (i * ENTRIES_PER_BITMAP) as u64;
    (root.nr_blocks.saturating_sub(start)).min(ENTRIES_PER_BITMAP as u64) as usize
}

/// Reads and verifies the index block.
pub fn read_index(io: &dyn BlockIo, root: &SmRoot) -> Result<Vec<IndexEntry>> {
    let block = root.bitmap_root;
    let data = read_block(io, block)?;
    checksum::verify(&data, BlockKind::Index, block)?;
    Ok(unpack_index(&data))
}

/// Reads and verifies one bitmap block.
pub fn read_bitmap(io: &dyn BlockIo, block: MetaBlock) -> Result<Vec<u8>> {
    let data = read_block(io, block)?;
    checksum::verify(&data, BlockKind::Bitmap, block)?;
    Ok(unpack_bitmap(&data))
}

/// The on-disk reference count of every managed block (`root.nr_blocks` of them):
/// bitmap entries, with entries of 3 replaced by the ref-count tree's value.
pub fn read_ref_counts(io: &dyn BlockIo, root: &SmRoot) -> Result<Vec<u32>> {
    if root.nr_blocks > MAX_METADATA_BLOCKS || root.nr_blocks > io.nr_blocks() {
        return Err(Error::invalid(
            MetaBlock::new(0),
            BlockKind::Superblock,
            format!(
                "space map manages {} blocks, more than the device ({}) or the format ({MAX_METADATA_BLOCKS}) allows",
                root.nr_blocks,
                io.nr_blocks()
            ),
        ));
    }
    let index = read_index(io, root)?;
    let mut counts = Vec::with_capacity(root.nr_blocks as usize);
    for (i, entry) in index.iter().enumerate().take(root.nr_bitmaps() as usize) {
        let bm = read_bitmap(io, entry.blocknr)?;
        counts.extend(bm[..bitmap_entries(root, i)].iter().map(|&v| v as u32));
    }
    let overflow = collect_leaves::<u32>(io, root.ref_count_root)?;
    for (block, count) in overflow {
        match usize::try_from(block).ok().and_then(|i| counts.get_mut(i)) {
            Some(c) if *c == 3 => *c = count,
            _ => {
                return Err(Error::invalid(
                    root.ref_count_root,
                    BlockKind::BtreeNode,
                    format!("ref-count tree holds block {block}, whose bitmap entry is not 3"),
                ))
            }
        }
    }
    Ok(counts)
}

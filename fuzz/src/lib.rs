//! Shared pieces of the fuzz targets: the seed images from `testdata/`, the damage format
//! that turns a short fuzz input into a damaged image, and a copy-on-write block device
//! that serves such an image without copying it.
//!
//! # The damage format (targets `read_metadata`, `check`, `emulate_open`, `repair`)
//!
//! A whole metadata image (4–64 MiB) is far too large for a fuzz input, and random bytes
//! almost never pass a block checksum. So an input describes damage to one of the seed
//! images instead:
//!
//! ```text
//! byte 0      seed image: index into IMAGES (modulo its length; for the `repair`
//!             target into IMAGES followed by REPAIR_IMAGES)
//! byte 1      flags: FLAG_NO_RESEAL, FLAG_TRUNCATE, and bits 4..8 for the target
//! then, until the input ends, patches of 6 header bytes and `len` data bytes:
//!   u16 LE    block, modulo (the image's used blocks + 1)
//!   u16 LE    offset in the block, modulo 4096
//!   u8        seal: 0 = re-seal with the block's own checksum kind (if it had one),
//!             1..=5 = seal as BlockKind::ALL[seal - 1], anything else = leave as is
//!   u8        len, then `len` bytes written at the offset (cut at the block's end)
//! ```
//!
//! Patches are applied in order on a copy-on-write overlay of the seed image. Unless
//! FLAG_NO_RESEAL is set, every patched block is then re-sealed as the patch says, so that
//! the damage gets past the checksum and reaches the decoders. With FLAG_TRUNCATE the
//! device ends right after the image's last used block.

use era_tools::emulate::runner::Runner;
use era_tools::emulate::script::parse_script;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::era::restore::{blocks_needed, write_metadata};
use era_tools::io::{BlockIo, MemIo};
use era_tools::pdata::checksum::{identify, seal, BlockKind};
use era_tools::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

/// Seed images. Inputs name an image by its index here, so this list is append-only:
/// reordering it would change what saved corpora and regression inputs mean.
///
/// - `kernel:P`: the image `testdata/P` as the kernel wrote it (origin of 16384 blocks);
/// - `restored:P`: that image's live metadata cut to its first 256 blocks and restored
///   (the layout `era_restore` writes: every writeset archived, no current writeset);
/// - `emulated:CASE`: the workload of `testdata/kernel/CASE` run by the emulator on an
///   origin of 256 blocks (its layout: current writeset, held snapshots, crashes).
///
/// The derived images are small, so the fuzzer runs them far faster than the kernel's.
pub const IMAGES: &[&str] = &[
    "kernel:kernel/fresh/meta.img.gz",
    "kernel:kernel/crash/meta.img.gz",
    "kernel:kernel/checkpoints/meta.img.gz",
    "kernel:kernel/checkpoints_suspend/meta.img.gz",
    "kernel:kernel/metadata_snap/meta.img.gz",
    "kernel:kernel/drop_snap/meta.img.gz",
    "kernel:kernel/reopen/meta.img.gz",
    "kernel:kernel/resize_shrink/meta.img.gz",
    "kernel:kernel_accepts/emulate_snap_held/meta_in.img.gz",
    "kernel:kernel_accepts/emulate_crash_snap/meta_in.img.gz",
    "kernel:kernel_accepts/restore_deep_writesets/meta_in.img.gz",
    "restored:kernel/checkpoints/meta.img.gz",
    "restored:kernel/metadata_snap/meta.img.gz",
    "restored:kernel_accepts/restore_deep_writesets/meta_in.img.gz",
    "emulated:crash",
    "emulated:checkpoints_suspend",
    "emulated:metadata_snap",
    "emulated:drop_snap",
    "emulated:resize_grow",
    "emulated:writes_one_era",
];

/// Origin blocks of the derived seed images.
pub const SMALL_BLOCKS: u32 = 256;

/// Do not re-seal patched blocks: the damage then mostly stops at checksums.
pub const FLAG_NO_RESEAL: u8 = 1 << 0;
/// The device ends after the image's last used block.
pub const FLAG_TRUNCATE: u8 = 1 << 1;

/// One seed image in memory.
pub struct Image {
    /// Its entry in [`IMAGES`].
    pub name: &'static str,
    pub bytes: Vec<u8>,
    /// One past the last block that is not all zeros.
    pub used_end: u64,
}

/// The repository's `testdata/` folder.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("testdata")
}

/// Reads a gzip'd file under `testdata/`.
pub fn read_gz(name: &str) -> io::Result<Vec<u8>> {
    let file = std::fs::File::open(testdata().join(name))?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file).read_to_end(&mut out)?;
    Ok(out)
}

fn restored(path: &str) -> Vec<u8> {
    let io = MemIo::from_bytes(read_gz(path).unwrap_or_else(|e| panic!("{path}: {e}")));
    let view = open_view(&io, Source::Live).unwrap_or_else(|e| panic!("{path}: {e}"));
    let md = read_metadata(&io, &view).unwrap_or_else(|e| panic!("{path}: {e}"));
    let small = restore::shrink(&md, SMALL_BLOCKS);
    let need = blocks_needed(&small).unwrap_or_else(|| panic!("{path}: no device fits"));
    let out = MemIo::new(need);
    write_metadata(&out, &small).unwrap_or_else(|e| panic!("{path}: {e}"));
    out.to_bytes()
}

fn emulated(case: &str) -> Vec<u8> {
    let path = testdata().join("kernel").join(case).join("workload.sh");
    let workload =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = script::translate_workload(&workload, SMALL_BLOCKS as u64);
    let lines = parse_script(&text).unwrap_or_else(|e| panic!("{case}: {e}"));
    let meta = Arc::new(MemIo::new(SMALL_BLOCKS as u64));
    let mut runner = Runner::new(script::run_config(meta.clone()));
    for l in &lines {
        runner
            .execute(&l.command, &mut Vec::new())
            .unwrap_or_else(|e| panic!("{case}: {}: {e}", l.command));
    }
    meta.to_bytes()
}

fn load_image(name: &'static str) -> Image {
    let bytes = match name.split_once(':') {
        Some(("kernel", path)) => read_gz(path).unwrap_or_else(|e| panic!("{path}: {e}")),
        Some(("restored", path)) => restored(path),
        Some(("emulated", case)) => emulated(case),
        _ => panic!("seed image {name}: unknown kind"),
    };
    let used_end = bytes
        .chunks_exact(BLOCK_SIZE)
        .rposition(|b| b.iter().any(|&x| x != 0))
        .map_or(0, |i| i as u64 + 1);
    Image {
        name,
        bytes,
        used_end,
    }
}

/// Every seed image, loaded on first use.
pub fn images() -> &'static [Image] {
    static IMGS: OnceLock<Vec<Image>> = OnceLock::new();
    IMGS.get_or_init(|| IMAGES.iter().map(|&n| load_image(n)).collect())
}

/// A block device over a shared base image: reads see the base unless a block has been
/// written, writes go to a private overlay. Cheap to create for every fuzz input.
pub struct PatchedIo {
    base: &'static [u8],
    nr_blocks: u64,
    overlay: RwLock<HashMap<MetaBlock, Box<BlockBuf>>>,
}

impl PatchedIo {
    /// A device of `nr_blocks` blocks over `base` (blocks beyond `base` read as zeros).
    pub fn new(base: &'static [u8], nr_blocks: u64) -> PatchedIo {
        PatchedIo {
            base,
            nr_blocks,
            overlay: RwLock::new(HashMap::new()),
        }
    }

    fn base_block(&self, block: MetaBlock) -> Box<BlockBuf> {
        let mut b = Box::new([0u8; BLOCK_SIZE]);
        if let Some(src) = self.base_slice(block) {
            b.copy_from_slice(src);
        }
        b
    }

    /// The current contents of `block`.
    pub fn block(&self, block: MetaBlock) -> Box<BlockBuf> {
        let overlay = self.overlay.read().expect("overlay lock");
        match overlay.get(&block) {
            Some(b) => b.clone(),
            None => self.base_block(block),
        }
    }

    /// Replaces `block`.
    pub fn put(&self, block: MetaBlock, data: Box<BlockBuf>) {
        self.overlay
            .write()
            .expect("overlay lock")
            .insert(block, data);
    }

    /// The bytes of `block` in the base image, if it holds them.
    fn base_slice(&self, block: MetaBlock) -> Option<&'static [u8]> {
        let off = block.index()?.checked_mul(BLOCK_SIZE)?;
        self.base.get(off..off.checked_add(BLOCK_SIZE)?)
    }

    fn bounds(&self, block: MetaBlock) -> io::Result<()> {
        if !block.is_below(self.nr_blocks) {
            Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("block {block} is beyond the end of the device"),
            ))
        } else {
            Ok(())
        }
    }
}

impl BlockIo for PatchedIo {
    fn nr_blocks(&self) -> u64 {
        self.nr_blocks
    }

    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        self.bounds(block)?;
        let overlay = self.overlay.read().expect("overlay lock");
        match overlay.get(&block) {
            Some(b) => buf.copy_from_slice(&b[..]),
            None => match self.base_slice(block) {
                Some(src) => buf.copy_from_slice(src),
                None => buf.fill(0),
            },
        }
        Ok(())
    }

    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        self.bounds(block)?;
        self.put(block, Box::new(*buf));
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

/// A damaged image decoded from a fuzz input.
pub struct Damaged {
    pub io: PatchedIo,
    pub image: &'static Image,
    /// Byte 1 of the input.
    pub flags: u8,
    /// Patches applied.
    pub patches: usize,
}

/// Damaged images for the salvage target (`repair`), after [`IMAGES`]: the outside
/// testers' reproductions (testdata/repro), each already damaged as its name says. Append-only,
/// as [`IMAGES`].
pub const REPAIR_IMAGES: &[&str] = &[
    "kernel:repro/repair/discard_sb_and_one_era_array_block.img.gz",
    "kernel:repro/repair/discard_zero_multi_9747.img.gz",
    "kernel:repro/repair/rand_11_7_sb_field_9507.img.gz",
    "kernel:repro/repair/rand_23_22_sb_field_17474.img.gz",
    "kernel:repro/repair/large_block_sb_field_9884.img.gz",
    "kernel:repro/repair/long_history_sb_field_2137.img.gz",
    "kernel:repro/repair/rand_23_20_zero_multi_17746.img.gz",
    "kernel:repro/repair/crash_mid_digest_swap_fix_2538.img.gz",
    "kernel:repro/repair/rand_23_17_sb_field_9559.img.gz",
    "kernel:repro/repair/long_history_dup_ref_9973.img.gz",
    "kernel:repro/dupref/bigger_dup_ref_66624.img.gz",
    "kernel:repro/limits/nb_2p28.img.gz",
    "kernel:repro/limits/nb_2p31m1.img.gz",
];

/// The seed images of the salvage target: every one of [`images`] (same indices), then
/// [`REPAIR_IMAGES`], loaded on first use.
pub fn repair_images() -> &'static [&'static Image] {
    static IMGS: OnceLock<Vec<&'static Image>> = OnceLock::new();
    static REPRO: OnceLock<Vec<Image>> = OnceLock::new();
    IMGS.get_or_init(|| {
        let repro = REPRO.get_or_init(|| REPAIR_IMAGES.iter().map(|&n| load_image(n)).collect());
        images().iter().chain(repro.iter()).collect()
    })
}

/// Decodes a fuzz input in the damage format (module docs) over [`images`]. `None` for
/// inputs shorter than the two header bytes.
pub fn damaged(data: &[u8]) -> Option<Damaged> {
    static REFS: OnceLock<Vec<&'static Image>> = OnceLock::new();
    damaged_among(REFS.get_or_init(|| images().iter().collect()), data)
}

/// Decodes a fuzz input in the damage format (module docs), byte 0 naming one of `imgs`.
pub fn damaged_among(imgs: &[&'static Image], data: &[u8]) -> Option<Damaged> {
    let (&index, rest) = data.split_first()?;
    let (&flags, mut rest) = rest.split_first()?;
    let image: &'static Image = imgs.get(index as usize % imgs.len().max(1))?;
    let full = image.bytes.len() as u64 / BLOCK_SIZE as u64;
    let nr_blocks = if flags & FLAG_TRUNCATE != 0 {
        image.used_end
    } else {
        full
    };
    let io = PatchedIo::new(&image.bytes, nr_blocks);
    let mut seals: Vec<(MetaBlock, Option<BlockKind>)> = Vec::new();
    let mut patches = 0;
    while rest.len() >= 6 {
        let block = MetaBlock::new(
            u64::from(u16::from_le_bytes([rest[0], rest[1]])) % (image.used_end + 1),
        );
        let offset = u16::from_le_bytes([rest[2], rest[3]]) as usize % BLOCK_SIZE;
        let how = rest[4];
        let len = rest[5] as usize;
        rest = &rest[6..];
        let bytes = &rest[..len.min(rest.len())];
        rest = &rest[bytes.len()..];
        let mut blk = io.block(block);
        let kind = match how {
            0 => identify(&blk),
            k @ 1..=5 => Some(BlockKind::ALL[k as usize - 1]),
            _ => None,
        };
        let n = bytes.len().min(BLOCK_SIZE - offset);
        blk[offset..offset + n].copy_from_slice(&bytes[..n]);
        io.put(block, blk);
        // A block patched twice keeps the seal its first patch chose.
        if !seals.iter().any(|&(b, _)| b == block) {
            seals.push((block, kind));
        }
        patches += 1;
    }
    if flags & FLAG_NO_RESEAL == 0 {
        for (block, kind) in seals {
            if let Some(kind) = kind {
                let mut blk = io.block(block);
                seal(&mut blk, kind);
                io.put(block, blk);
            }
        }
    }
    Some(Damaged {
        io,
        image,
        flags,
        patches,
    })
}

/// Encodes one patch in the damage format (for the seed generator and tests).
pub fn encode_patch(out: &mut Vec<u8>, block: u16, offset: u16, seal: u8, bytes: &[u8]) {
    out.extend_from_slice(&block.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.push(seal);
    let n = bytes.len().min(255);
    out.push(n as u8);
    out.extend_from_slice(&bytes[..n]);
}

/// A small cursor over fuzz bytes that yields zeros once the input is used up.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.data.split_at(n.min(self.data.len()));
        self.data = b;
        a
    }
}

pub mod nbd;
pub mod restore;
pub mod script;

//! Damaging one metadata block of an image without copying it: the four kinds of damage
//! the corruption tests apply to every block in use.

use era_tools::io::BlockIo;
use era_tools::pdata::checksum::{self, BlockKind};
use era_tools::pdata::codec::{get_u32, get_u64, put_u64};
use era_tools::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::collections::HashMap;
use std::io;
use std::sync::Arc;

/// An image with some blocks replaced, without copying the image.
pub struct PatchedIo {
    base: Arc<Vec<u8>>,
    patches: HashMap<MetaBlock, Box<BlockBuf>>,
}

impl PatchedIo {
    /// `base` with the blocks of `patches` replaced.
    pub fn new(
        base: &Arc<Vec<u8>>,
        patches: impl IntoIterator<Item = (MetaBlock, Box<BlockBuf>)>,
    ) -> PatchedIo {
        PatchedIo {
            base: base.clone(),
            patches: patches.into_iter().collect(),
        }
    }

    /// `base` with `block` replaced by `data`.
    pub fn one(base: &Arc<Vec<u8>>, block: MetaBlock, data: Box<BlockBuf>) -> PatchedIo {
        PatchedIo::new(base, [(block, data)])
    }
}

impl BlockIo for PatchedIo {
    fn nr_blocks(&self) -> u64 {
        (self.base.len() / BLOCK_SIZE) as u64
    }

    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        if block >= MetaBlock::new(self.nr_blocks()) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "beyond the end",
            ));
        }
        match self.patches.get(&block) {
            Some(data) => buf.copy_from_slice(&data[..]),
            None => buf.copy_from_slice(&block_of(&self.base, block)[..]),
        }
        Ok(())
    }

    fn write_block(&self, _: MetaBlock, _: &BlockBuf) -> io::Result<()> {
        Err(io::Error::other("read only"))
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

pub fn block_of(base: &[u8], b: MetaBlock) -> Box<BlockBuf> {
    let mut buf = Box::new([0u8; BLOCK_SIZE]);
    let off = b.index().unwrap() * BLOCK_SIZE;
    buf.copy_from_slice(&base[off..off + BLOCK_SIZE]);
    buf
}

/// Bytes `[4, end)` of a block carry its meaning: the header and the entries in use.
pub fn used_end(data: &BlockBuf, kind: BlockKind) -> usize {
    match kind {
        BlockKind::Superblock => 224,
        BlockKind::BtreeNode => {
            let nr = get_u32(data, 16) as usize;
            let max = get_u32(data, 20) as usize;
            let vs = get_u32(data, 24) as usize;
            if nr == 0 {
                32
            } else {
                // Keys and values in use: pick the end of the values' span.
                32 + 8 * max + vs * nr
            }
        }
        BlockKind::ArrayBlock => {
            let nr = get_u32(data, 8) as usize;
            let vs = get_u32(data, 12) as usize;
            24 + nr * vs
        }
        BlockKind::Bitmap | BlockKind::Index => BLOCK_SIZE,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    FlipByte,
    Zero,
    WrongBlocknr,
    BadChecksum,
}

pub fn damage(orig: &BlockBuf, b: MetaBlock, how: &Damage) -> Box<BlockBuf> {
    let kind = checksum::identify(orig).expect("every block in use carries a valid checksum");
    let mut d = Box::new(*orig);
    match how {
        Damage::FlipByte => {
            let end = used_end(orig, kind).min(BLOCK_SIZE);
            let off = 4 + (b.index().unwrap() * 7919) % (end - 4);
            d[off] ^= 0x10;
        }
        Damage::Zero => d.fill(0),
        Damage::WrongBlocknr => {
            let off = kind.blocknr_offset();
            let found = get_u64(&d[..], off);
            put_u64(&mut d[..], off, found ^ 1);
            checksum::seal(&mut d, kind);
        }
        Damage::BadChecksum => d[0] ^= 1,
    }
    d
}

impl Damage {
    /// Every kind of damage.
    pub const ALL: [Damage; 4] = [
        Damage::FlipByte,
        Damage::Zero,
        Damage::WrongBlocknr,
        Damage::BadChecksum,
    ];

    /// How the damage is named in reports.
    pub fn label(&self) -> &'static str {
        match self {
            Damage::FlipByte => "flipped byte",
            Damage::Zero => "zeroed",
            Damage::WrongBlocknr => "wrong blocknr",
            Damage::BadChecksum => "bad checksum",
        }
    }
}

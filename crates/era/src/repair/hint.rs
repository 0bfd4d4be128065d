//! A damaged superblock whose fields may still be right: a bad checksum or self block
//! number, or a flipped byte in a field nothing reads. Its fields are used only if the
//! whole metadata checks clean with them, the space map's exact reference counts
//! included (a root, size or pointer that is wrong fails that check), so that stale
//! structures are never mistaken for live ones.

use crate::check::{check, CheckOptions};
use crate::io::BlockIo;
use crate::pdata::read_block;
use crate::superblock::{Superblock, MAGIC, SUPERBLOCK_LOCATION, VERSION};
use crate::units::{BlockBuf, MetaBlock};
use std::io;

/// A device seen with block 0 replaced.
struct WithBlock0<'a> {
    inner: &'a dyn BlockIo,
    block0: Box<BlockBuf>,
}

impl BlockIo for WithBlock0<'_> {
    fn nr_blocks(&self) -> u64 {
        self.inner.nr_blocks()
    }

    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        if block == SUPERBLOCK_LOCATION {
            buf.copy_from_slice(&self.block0[..]);
            Ok(())
        } else {
            self.inner.read_block(block, buf)
        }
    }

    fn write_block(&self, _: MetaBlock, _: &BlockBuf) -> io::Result<()> {
        Err(io::Error::other("the damaged metadata is only read"))
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

/// The damaged superblock's fields, if its magic is intact and the metadata checks
/// without error once the superblock is resealed with them.
pub fn verified_fields(io: &dyn BlockIo) -> Option<Superblock> {
    let data = read_block(io, SUPERBLOCK_LOCATION).ok()?;
    let mut sb = Superblock::decode(&data);
    if sb.magic != MAGIC {
        return None;
    }
    sb.blocknr = SUPERBLOCK_LOCATION;
    sb.version = VERSION;
    let overlay = WithBlock0 {
        inner: io,
        block0: sb.pack(),
    };
    let report = check(&overlay, &CheckOptions::default());
    (!report.has_errors()).then_some(sb)
}

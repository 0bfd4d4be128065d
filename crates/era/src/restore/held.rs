//! Writes held back: a streaming restore keeps its first writes (and flushes) in memory,
//! in order, until they pass a limit, and only then replays them on the device and
//! writes through. A restore whose metadata fits under the limit therefore touches the
//! device only once the whole input is read and checked, exactly as a restore that
//! builds everything first; a larger one starts writing once the limit is reached, with
//! the same sequence of writes and flushes.

use crate::io::BlockIo;
use crate::units::{BlockBuf, MetaBlock};
use std::collections::HashMap;
use std::io;
use std::sync::{Mutex, MutexGuard};

/// One held operation.
enum Op {
    Write(MetaBlock, Box<BlockBuf>),
    Flush,
}

/// What is held: the operations in order, and the latest held write of each block.
#[derive(Default)]
struct Held {
    ops: Vec<Op>,
    latest: HashMap<MetaBlock, usize>,
    /// Set once the operations have been replayed: everything now writes through.
    through: bool,
}

/// A device whose writes are held back until `limit` operations are held or
/// [`HeldIo::release`] is called. Reads see the held writes.
pub struct HeldIo<'a> {
    inner: &'a dyn BlockIo,
    limit: usize,
    held: Mutex<Held>,
}

impl<'a> HeldIo<'a> {
    /// Holds up to `limit` operations (0: write through at once).
    pub fn new(inner: &'a dyn BlockIo, limit: usize) -> HeldIo<'a> {
        HeldIo {
            inner,
            limit,
            held: Mutex::new(Held {
                through: limit == 0,
                ..Held::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        // A panic while holding the lock leaves nothing half-changed worth refusing.
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replays what is held on the device, and writes through from now on.
    pub fn release(&self) -> io::Result<()> {
        let mut held = self.lock();
        self.replay(&mut held)
    }

    fn replay(&self, held: &mut Held) -> io::Result<()> {
        held.through = true;
        held.latest.clear();
        for op in std::mem::take(&mut held.ops) {
            match op {
                Op::Write(block, buf) => self.inner.write_block(block, &buf)?,
                Op::Flush => self.inner.flush()?,
            }
        }
        Ok(())
    }

    /// Whether anything has reached the device.
    #[cfg(test)]
    fn touched(&self) -> bool {
        self.lock().through
    }
}

impl BlockIo for HeldIo<'_> {
    fn nr_blocks(&self) -> u64 {
        self.inner.nr_blocks()
    }

    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        {
            let held = self.lock();
            if let Some(Op::Write(_, data)) = held.latest.get(&block).and_then(|&i| held.ops.get(i))
            {
                buf.copy_from_slice(&data[..]);
                return Ok(());
            }
        }
        self.inner.read_block(block, buf)
    }

    fn read_blocks(&self, first: MetaBlock, buf: &mut [u8]) -> io::Result<()> {
        crate::io::read_blocks_one_at_a_time(self, first, buf)
    }

    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        let mut held = self.lock();
        if held.through {
            drop(held);
            return self.inner.write_block(block, buf);
        }
        // Checked now, as the device would, so that a bad block fails where it is written.
        crate::io::check_bounds(block, self.inner.nr_blocks())?;
        let i = held.ops.len();
        held.ops.push(Op::Write(block, Box::new(*buf)));
        held.latest.insert(block, i);
        if held.ops.len() >= self.limit {
            self.replay(&mut held)?;
        }
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        let mut held = self.lock();
        if held.through {
            drop(held);
            return self.inner.flush();
        }
        held.ops.push(Op::Flush);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemIo;
    use crate::units::BLOCK_SIZE;

    #[test]
    fn holds_writes_until_the_limit_then_replays_them_in_order() {
        let dev = MemIo::new(8);
        let io = HeldIo::new(&dev, 5);
        let block = |v: u8| Box::new([v; BLOCK_SIZE]);
        io.write_block(MetaBlock::new(1), &block(1)).unwrap();
        io.flush().unwrap();
        io.write_block(MetaBlock::new(1), &block(2)).unwrap();
        io.write_block(MetaBlock::new(2), &block(3)).unwrap();
        assert!(!io.touched());
        assert!(dev.to_bytes().iter().all(|&b| b == 0));
        let mut buf = [0u8; BLOCK_SIZE];
        io.read_block(MetaBlock::new(1), &mut buf).unwrap();
        assert_eq!(buf[0], 2, "reads see the latest held write");
        assert!(
            io.write_block(MetaBlock::new(8), &block(9)).is_err(),
            "beyond the device"
        );
        io.write_block(MetaBlock::new(3), &block(4)).unwrap();
        assert!(io.touched());
        let bytes = dev.to_bytes();
        assert_eq!(
            [1, 2, 3].map(|b| bytes[b * BLOCK_SIZE]),
            [2, 3, 4],
            "replayed in order"
        );
        io.write_block(MetaBlock::new(4), &block(5)).unwrap();
        assert_eq!(dev.to_bytes()[4 * BLOCK_SIZE], 5, "then written through");
    }
}

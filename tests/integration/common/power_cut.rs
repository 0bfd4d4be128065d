//! A metadata device with a volatile write cache that loses power after a given number
//! of block writes. What the cut leaves on the medium follows a survival policy: none of
//! the writes since the last flush, all of them, or a seeded random subset (as a disk
//! that destages its cache in any order may leave).

use era_tools::io::BlockIo;
use era_tools::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Which unflushed writes reach the medium at the power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Survival {
    /// Every write since the last flush is lost.
    None,
    /// Every write since the last flush reached the medium.
    All,
    /// Each write since the last flush reached the medium or not, at random (seeded);
    /// those that did land in the order they were issued.
    Random(u64),
}

/// The device. Reads see every write; the medium only what flushes (and the cut) put
/// there.
pub struct PowerCutIo {
    durable: Mutex<Vec<u8>>,
    /// The latest unflushed contents of each block, for reads.
    cache: Mutex<HashMap<MetaBlock, BlockBuf>>,
    /// Every unflushed write in issue order, for the survival policy.
    pending: Mutex<Vec<(MetaBlock, BlockBuf)>>,
    writes: AtomicU64,
    cut_after: u64,
    nr_blocks: u64,
}

impl PowerCutIo {
    pub fn new(nr_blocks: u64, cut_after: u64) -> PowerCutIo {
        PowerCutIo {
            durable: Mutex::new(vec![0; nr_blocks as usize * BLOCK_SIZE]),
            cache: Mutex::new(HashMap::new()),
            pending: Mutex::new(Vec::new()),
            writes: AtomicU64::new(0),
            cut_after,
            nr_blocks,
        }
    }

    /// Whether the power is off.
    pub fn is_cut(&self) -> bool {
        self.writes.load(Ordering::SeqCst) >= self.cut_after
    }

    /// Block writes made before the cut.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    fn cut() -> io::Error {
        io::Error::other("power cut")
    }

    fn land(d: &mut [u8], block: MetaBlock, buf: &BlockBuf) {
        let o = block.index().unwrap() * BLOCK_SIZE;
        d[o..o + BLOCK_SIZE].copy_from_slice(buf);
    }

    /// What is on the medium after the cut, under `policy`.
    pub fn durable_image(&self, policy: Survival) -> Vec<u8> {
        let mut d = self.durable.lock().unwrap().clone();
        let pending = self.pending.lock().unwrap();
        let mut rng = match policy {
            Survival::Random(seed) => Some(fastrand::Rng::with_seed(seed)),
            _ => None,
        };
        for (b, buf) in pending.iter() {
            let lands = match (&mut rng, policy) {
                (Some(r), _) => r.bool(),
                (None, p) => p == Survival::All,
            };
            if lands {
                Self::land(&mut d, *b, buf);
            }
        }
        d
    }
}

impl BlockIo for PowerCutIo {
    fn nr_blocks(&self) -> u64 {
        self.nr_blocks
    }
    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        if let Some(b) = self.cache.lock().unwrap().get(&block) {
            buf.copy_from_slice(b);
            return Ok(());
        }
        let d = self.durable.lock().unwrap();
        let o = block.index().unwrap() * BLOCK_SIZE;
        buf.copy_from_slice(&d[o..o + BLOCK_SIZE]);
        Ok(())
    }
    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        if self.is_cut() {
            return Err(Self::cut());
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.cache.lock().unwrap().insert(block, *buf);
        self.pending.lock().unwrap().push((block, *buf));
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        if self.is_cut() {
            return Err(Self::cut());
        }
        let mut d = self.durable.lock().unwrap();
        self.pending.lock().unwrap().clear();
        for (b, buf) in self.cache.lock().unwrap().drain() {
            Self::land(&mut d, b, &buf);
        }
        Ok(())
    }
}

//! An interrupted restore must never leave the old superblock in place over new blocks:
//! the writer invalidates block 0 before anything else, so whenever the writing stops
//! part-way the device holds no valid superblock at all, and tools refuse it instead of
//! reading a mix of old and new structures. (If the very first write fails, nothing
//! changed and the old metadata stays whole.)

mod common;

use common::*;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::era::restore::write_metadata;
use era_tools::io::{BlockIo, MemIo};
use era_tools::units::BlockBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fails every write after the first `budget`.
struct FailingIo {
    inner: MemIo,
    budget: AtomicU64,
    writes: AtomicU64,
}

impl BlockIo for FailingIo {
    fn nr_blocks(&self) -> u64 {
        self.inner.nr_blocks()
    }
    fn read_block(&self, block: u64, buf: &mut BlockBuf) -> std::io::Result<()> {
        self.inner.read_block(block, buf)
    }
    fn write_block(&self, block: u64, buf: &BlockBuf) -> std::io::Result<()> {
        if self.writes.fetch_add(1, Ordering::SeqCst) >= self.budget.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("simulated failure"));
        }
        self.inner.write_block(block, buf)
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_restore_stopped_at_any_write_leaves_no_valid_superblock() {
    // New metadata (from one kernel image) restored over old metadata (another).
    let source = MemIo::from_bytes(kernel_image("metadata_snap"));
    let md = read_metadata(&source, &open_view(&source, Source::Live).unwrap()).unwrap();
    let old = kernel_image("checkpoints");

    let counter = FailingIo {
        inner: MemIo::from_bytes(old.clone()),
        budget: AtomicU64::new(u64::MAX),
        writes: AtomicU64::new(0),
    };
    write_metadata(&counter, &md).unwrap();
    let total = counter.writes.load(Ordering::SeqCst);
    assert!(total > 20, "{total} writes");

    for k in 0..total {
        let io = FailingIo {
            inner: MemIo::from_bytes(old.clone()),
            budget: AtomicU64::new(k),
            writes: AtomicU64::new(0),
        };
        assert!(
            write_metadata(&io, &md).is_err(),
            "stopped after {k} writes"
        );
        if k == 0 {
            // Nothing was written: the old metadata is whole.
            assert!(
                io.inner.to_bytes() == old,
                "the first write failed, yet bytes changed"
            );
            continue;
        }
        let err = open_view(&io.inner, Source::Live).unwrap_err().to_string();
        assert!(
            err.contains("block 0"),
            "after {k} of {total} writes: {err}"
        );
    }
    // Completed, it reads back as the new metadata.
    let io = MemIo::from_bytes(old);
    write_metadata(&io, &md).unwrap();
    assert_eq!(
        read_metadata(&io, &open_view(&io, Source::Live).unwrap()).unwrap(),
        md
    );
}

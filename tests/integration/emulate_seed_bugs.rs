//! The 2014 seed's bugs that later kernels fixed (target.md §16) must not come back.

use crate::common;

use common::recount::assert_space_map_exact;
use era_tools::emulate::origin::MemOrigin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::parse_script;
use era_tools::emulate::target::Target;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::{BlockIo, MemIo};
use era_tools::units::{BlockBuf, MetaBlock};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A metadata device whose writes fail while `failing` is set.
struct FlakyIo {
    inner: MemIo,
    failing: AtomicBool,
}

impl BlockIo for FlakyIo {
    fn nr_blocks(&self) -> u64 {
        self.inner.nr_blocks()
    }
    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        self.inner.read_block(block, buf)
    }
    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected write error"));
        }
        self.inner.write_block(block, buf)
    }
    fn flush(&self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn config(meta: Arc<dyn BlockIo>) -> RunConfig {
    RunConfig {
        meta,
        origin: Arc::new(MemOrigin::new(128 * 512)),
        block_size: 8,
        length: None,
        sync: true,
        meta_name: "m".into(),
        origin_name: "o".into(),
    }
}

fn exec(r: &mut Runner, s: &str) -> Result<(), String> {
    for l in parse_script(s).unwrap() {
        r.execute(&l.command, &mut Vec::new())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Seed bug 2 ("Update in-core bitset after committing the metadata"): a write whose
/// mark could not be committed must not leave the block marked in core, or the next
/// write to it would skip the metadata and its mark could be lost in a crash.
#[test]
fn a_failed_mark_is_retried_by_the_next_write() {
    let io = Arc::new(FlakyIo {
        inner: MemIo::new(1024),
        failing: AtomicBool::new(false),
    });
    let mut r = Runner::new(config(io.clone()));
    exec(&mut r, "open").unwrap();
    io.failing.store(true, Ordering::SeqCst);
    let e = exec(&mut r, "write 8 8").unwrap_err();
    assert!(e.contains("EIO"), "{e}");
    io.failing.store(false, Ordering::SeqCst);
    exec(&mut r, "write 8 8\ncrash").unwrap();
    let view = open_view(&io.inner, Source::Live).unwrap();
    let md = read_metadata(&io.inner, &view).unwrap();
    assert_eq!(md.folded_eras()[1], 1, "the second write's mark is durable");
    assert_space_map_exact(&io.inner, "retry");
}

/// Seed bug 7 ("only resize metadata in preresume"): loading a table (the constructor)
/// changes nothing on the metadata device; only the resume does.
#[test]
fn the_constructor_writes_nothing() {
    let meta = Arc::new(MemIo::new(1024));
    let mut r = Runner::new(config(meta.clone()));
    exec(&mut r, "open\nwrite 0 8\nclose").unwrap();
    let before = meta.to_bytes();
    let t = Target::construct(
        meta.clone(),
        Arc::new(MemOrigin::new(256 * 512)),
        256,
        8,
        true,
    )
    .unwrap();
    drop(t);
    assert!(
        meta.to_bytes() == before,
        "the constructor changed the metadata"
    );
    // A constructor refused for its block size writes nothing either.
    assert!(Target::construct(meta.clone(), Arc::new(MemOrigin::new(512)), 1, 16, true).is_err());
    assert!(meta.to_bytes() == before);
}

/// Seed bug 1 ("Recover committed writeset after crash") and its archive order: the
/// live writeset of a crashed instance is archived, not dropped, at the next resume,
/// and its blocks are not leaked.
#[test]
fn a_crashed_era_is_archived_at_the_next_open() {
    let meta = Arc::new(MemIo::new(1024));
    let mut r = Runner::new(config(meta.clone()));
    exec(&mut r, "open\nwrite 0 8\nwrite 120 8\ncrash\nopen\nclose").unwrap();
    let view = open_view(meta.as_ref(), Source::Live).unwrap();
    let md = read_metadata(meta.as_ref(), &view).unwrap();
    let f = md.folded_eras();
    assert_eq!((f[0], f[15], md.superblock.current_era.get()), (1, 1, 2));
    assert_space_map_exact(meta.as_ref(), "recovery");
}

//! An interrupted restore must never leave the old superblock in place over new blocks,
//! nor a block 0 of zeros that the kernel would format over: the writer first puts the
//! mark of an interrupted restore in block 0, so whenever the writing stops part-way
//! every tool names it ("an interrupted era_restore left this device") instead of
//! reading a mix of old and new structures, and neither `era_emulate` nor the kernel
//! (`tests/integration/kernel_refuses.rs`) formats over it. (If the very first write fails, nothing
//! changed and the old metadata stays whole.)

use crate::common;

use common::failing_io::FailingIo;
use common::*;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::era::restore::write_metadata;
use era_tools::io::MemIo;
use std::sync::atomic::Ordering;

const INTERRUPTED: &str =
    "block 0: an interrupted era_restore left this device; run era_restore again";

/// The image a restore of `kernel_image("metadata_snap")` over `kernel_image("checkpoints")`
/// leaves when it stops after `writes` writes.
fn interrupted_image(writes: u64) -> Vec<u8> {
    let source = MemIo::from_bytes(kernel_image("metadata_snap"));
    let md = read_metadata(&source, &open_view(&source, Source::Live).unwrap()).unwrap();
    let io = FailingIo::new(MemIo::from_bytes(kernel_image("checkpoints")), writes);
    assert!(write_metadata(&io, &md).is_err());
    io.inner.to_bytes()
}

#[test]
fn every_tool_names_an_interrupted_restore() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interrupted.img");
    std::fs::write(&path, interrupted_image(5)).unwrap();
    let expected = "an interrupted era_restore left this device; run era_restore again";
    for (tool, args) in [
        ("era_check", &[][..]),
        ("era_dump", &[][..]),
        ("era_dump", &["--logical"][..]),
        ("era_invalidate", &["--written-since", "1"][..]),
    ] {
        let o = std::process::Command::new(assert_cmd::cargo::cargo_bin(tool))
            .args(args)
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{tool} {args:?}: {err}");
        assert!(err.contains(expected), "{tool} {args:?}: {err}");
        assert!(!err.contains("never been formatted"), "{tool}: {err}");
    }
}

#[test]
fn the_emulator_does_not_format_over_an_interrupted_restore() {
    let image = interrupted_image(5);
    let io = std::sync::Arc::new(MemIo::from_bytes(image.clone()));
    let err = era_tools::emulate::metadata::LiveMetadata::open_or_format(io.clone(), 8, false)
        .expect_err("opened")
        .to_string();
    assert!(
        err.contains("an interrupted era_restore left this device"),
        "{err}"
    );
    assert!(io.to_bytes() == image, "the metadata changed");
}

#[test]
fn a_restore_stopped_at_any_write_leaves_no_valid_superblock() {
    // New metadata (from one kernel image) restored over old metadata (another).
    let source = MemIo::from_bytes(kernel_image("metadata_snap"));
    let md = read_metadata(&source, &open_view(&source, Source::Live).unwrap()).unwrap();
    let old = kernel_image("checkpoints");

    let counter = FailingIo::new(MemIo::from_bytes(old.clone()), u64::MAX);
    write_metadata(&counter, &md).unwrap();
    let total = counter.writes.load(Ordering::SeqCst);
    assert!(total > 20, "{total} writes");

    for k in 0..total {
        let io = FailingIo::new(MemIo::from_bytes(old.clone()), k);
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
        assert_eq!(err, INTERRUPTED, "after {k} of {total} writes");
    }
    // Completed, it reads back as the new metadata.
    let io = MemIo::from_bytes(old);
    write_metadata(&io, &md).unwrap();
    assert_eq!(
        read_metadata(&io, &open_view(&io, Source::Live).unwrap()).unwrap(),
        md
    );
}

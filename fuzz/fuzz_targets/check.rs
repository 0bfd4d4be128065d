//! The checker (`era_check`) over damaged images. It must terminate without a panic
//! whatever the image holds, and what it passes the readers must read: an image with no
//! error reads back through `open_view` + `read_metadata`, live and (when one is held)
//! through the metadata snapshot.
//!
//! Input: the damage format of `era_fuzz` (flag bit 4: superblock only).
#![no_main]

use era_fuzz::damaged;
use era_tools::era::check::{check, CheckOptions};
use era_tools::era::metadata::{open_view, read_metadata, Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(d) = damaged(data) else { return };
    let opts = CheckOptions {
        super_block_only: d.flags & 0x10 != 0,
        metadata_snapshot: d.flags & 0x20 != 0,
    };
    let report = check(&d.io, &opts);
    if opts.super_block_only {
        assert!(
            report.blocks_read <= 1,
            "a superblock-only check read other blocks"
        );
    }
    if report.has_errors() {
        return;
    }
    let view = open_view(&d.io, Source::Live)
        .unwrap_or_else(|e| panic!("check passed, but the superblock does not open: {e}"));
    if opts.super_block_only {
        return;
    }
    // A snapshot-only check vouches for the snapshot alone.
    if !opts.metadata_snapshot {
        read_metadata(&d.io, &view)
            .unwrap_or_else(|e| panic!("check passed, but the metadata does not read: {e}"));
    }
    if !view.live.metadata_snap.is_zero() {
        let snap = open_view(&d.io, Source::Snapshot)
            .unwrap_or_else(|e| panic!("check passed, but the snapshot does not open: {e}"));
        read_metadata(&d.io, &snap)
            .unwrap_or_else(|e| panic!("check passed, but the snapshot does not read: {e}"));
    }
});

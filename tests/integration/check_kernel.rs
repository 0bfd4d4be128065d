//! The checker against the kernel's own images: every image the real dm-era target wrote
//! must check clean, with no error and no warning (the corpus's space maps are exact,
//! snapshot-held structures included).

use crate::common;

use common::*;
use era_tools::era::check::{check, CheckOptions};
use era_tools::era::metadata::read_superblock;
use era_tools::io::MemIo;
use era_tools::units::MetaBlock;

#[test]
fn every_kernel_image_checks_clean() {
    let mut failures = Vec::new();
    for case in kernel_cases() {
        let io = MemIo::from_bytes(kernel_image(&case));
        let report = check(&io, &CheckOptions::default());
        for f in &report.findings {
            failures.push(format!("{case}: {f}"));
        }
        assert!(
            report.blocks_read > 5,
            "{case}: read only {}",
            report.blocks_read
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn superblock_only_reads_one_block() {
    for case in kernel_cases() {
        let io = MemIo::from_bytes(kernel_image(&case));
        let report = check(
            &io,
            &CheckOptions {
                super_block_only: true,
                ..CheckOptions::default()
            },
        );
        assert!(report.findings.is_empty(), "{case}: {:?}", report.findings);
        assert_eq!(report.blocks_read, 1, "{case}");
    }
}

/// The snapshot check reads the held snapshot's structures only, finds nothing in the
/// kernel's images that hold one, and reports its absence as an error elsewhere.
#[test]
fn snapshot_check_of_every_kernel_image() {
    let opts = CheckOptions {
        metadata_snapshot: true,
        ..CheckOptions::default()
    };
    let mut held = 0;
    for case in kernel_cases() {
        let io = MemIo::from_bytes(kernel_image(&case));
        let has_snapshot = read_superblock(&io).unwrap().metadata_snap != MetaBlock::new(0);
        let report = check(&io, &opts);
        if has_snapshot {
            held += 1;
            assert!(report.findings.is_empty(), "{case}: {:?}", report.findings);
            let full = check(&io, &CheckOptions::default());
            assert!(report.blocks_read < full.blocks_read, "{case}");
        } else {
            let msgs: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
            assert_eq!(
                msgs,
                vec![
                    "error: block 0: superblock: no metadata snapshot is held (metadata_snap is 0)"
                ],
                "{case}"
            );
        }
    }
    assert!(held >= 1);
}

#[test]
fn snapshot_check_finds_damage_to_the_snapshot() {
    let mut image = kernel_image("metadata_snap");
    let snap = read_superblock(&MemIo::from_bytes(image.clone()))
        .unwrap()
        .metadata_snap;
    image[snap.index().unwrap() * 4096 + 200] ^= 1;
    let report = check(
        &MemIo::from_bytes(image),
        &CheckOptions {
            metadata_snapshot: true,
            ..CheckOptions::default()
        },
    );
    assert!(report.has_errors());
    let first = report.findings[0].to_string();
    assert!(first.contains(&format!("block {snap}:")), "{first}");
}

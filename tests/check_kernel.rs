//! The checker against the kernel's own images: every image the real dm-era target wrote
//! must check clean, with no error and no warning (the corpus's space maps are exact,
//! snapshot-held structures included).

mod common;

use common::*;
use era_tools::era::check::{check, CheckOptions};
use era_tools::io::MemIo;

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
            },
        );
        assert!(report.findings.is_empty(), "{case}: {:?}", report.findings);
        assert_eq!(report.blocks_read, 1, "{case}");
    }
}

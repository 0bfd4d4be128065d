//! Inputs the fuzz targets (fuzz/) crashed on, reduced by hand to the library calls they
//! make. The raw inputs are kept in fuzz/regressions/TARGET/ and replayed by
//! `fuzz/run.sh`.

mod common;

use common::kernel_image;
use era_tools::era::check::{check, CheckOptions};
use era_tools::era::superblock::Superblock;
use era_tools::io::MemIo;
use era_tools::units::{BlockBuf, BLOCK_SIZE};

/// fuzz/regressions/check/current-era-below-archived: a live current writeset whose era
/// (the superblock's current era) is below an archived writeset's era. The checker's
/// contiguity test took the last of an unsorted list of eras and subtracted: overflow.
#[test]
fn current_era_below_an_archived_writeset() {
    // checkpoints: writeset tree {5 -> bitset 147}, current era 5, no current writeset.
    // Make 147 the current writeset too, of era 4.
    let mut img = kernel_image("checkpoints");
    let b0: &BlockBuf = img[..BLOCK_SIZE].try_into().expect("one block");
    let mut sb = Superblock::decode(b0);
    sb.current_writeset.root = 147;
    sb.current_era = 4;
    img[..BLOCK_SIZE].copy_from_slice(&sb.pack()[..]);
    let report = check(&MemIo::from_bytes(img), &CheckOptions::default());
    let findings: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
    assert!(report.has_errors(), "{findings:?}");
    assert!(
        findings.iter().any(|f| f.contains(
            "the writeset eras (4, 5) are not one contiguous range ending at the current era 4"
        )),
        "{findings:?}"
    );
}

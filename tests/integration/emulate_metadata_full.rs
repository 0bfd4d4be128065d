//! A failed operation: the kernel keeps the failed step's changes in its open
//! transaction, `era_emulate` rolls back to the last commit (docs/placement.md §2.13).
//!
//! `testdata/kernel_behaviour/meta_full`: the real kernel on a 256-block metadata device
//! under an origin whose era array has 202 blocks. One write lands in every array block,
//! then a checkpoint starts a digest that must copy every array block and runs out of
//! metadata space part-way ("digest step failed, stopping digestion"). The kernel keeps
//! the copies made so far in its open transaction, so every later commit fails for want
//! of space: the next status lines say `Error`, a checkpoint fails, and the image keeps
//! the checkpoint's commit. The emulator aborts the failed step's transaction instead.
//! Up to the failure both must agree line for line, and the state the emulator rolls back
//! to must be the kernel's durable state: the same superblock and the same blocks
//! reachable from it, byte for byte.

use crate::common;

use common::gunzip;
use common::kernel_replay::translate_dir;
use common::recount::recount;
use era_tools::emulate::script::Command;
use era_tools::io::MemIo;
use std::path::Path;

const BLOCK: usize = 4096;

#[test]
fn a_failed_digest_rolls_back_to_the_kernels_durable_state() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kernel_behaviour/meta_full");
    let r = translate_dir(&dir);
    let kernel = gunzip(&dir.join("meta.img.gz"));
    let (meta, mut runner) = r.runner();
    let mut equal_before_failure = 0;
    let mut after_failure = None;
    for (n, (cmd, expected)) in r.steps.iter().enumerate() {
        let mut out = Vec::new();
        runner
            .execute(cmd, &mut out)
            .unwrap_or_else(|e| panic!("step {n} ({cmd}): {e}"));
        let Some(kernel_line) = expected else {
            continue;
        };
        let ours = String::from_utf8(out).unwrap();
        if kernel_line.ends_with("era Error") {
            // The kernel's open transaction still holds the failed step's copies; ours
            // was rolled back, so the emulator answers from the last commit.
            after_failure = Some(ours.trim().to_string());
            break;
        }
        assert_eq!(ours.trim(), kernel_line.trim(), "step {n}");
        equal_before_failure += 1;
    }
    assert_eq!(equal_before_failure, 3, "status lines before the failure");
    assert_eq!(
        after_failure.as_deref(),
        Some("0 1638400 era 8 224/256 2 -"),
        "the emulator's status after the failed digest step"
    );
    let digest_failed = runner
        .target()
        .unwrap()
        .log
        .iter()
        .any(|l| l.contains("digest step failed") && l.contains("metadata device full"));
    assert!(digest_failed, "{:?}", runner.target().unwrap().log);
    // Stop here, as a crash would: the image holds the last commit.
    runner.execute(&Command::Crash, &mut Vec::new()).unwrap();
    let ours = meta.to_bytes();
    assert_eq!(ours[..BLOCK], kernel[..BLOCK], "superblock");
    let counts = recount(&MemIo::from_bytes(kernel.clone()));
    let reachable: Vec<usize> = (0..counts.len()).filter(|&b| counts[b] != 0).collect();
    assert!(
        reachable.len() > 200,
        "{} reachable blocks",
        reachable.len()
    );
    for b in reachable {
        assert_eq!(
            ours[b * BLOCK..(b + 1) * BLOCK],
            kernel[b * BLOCK..(b + 1) * BLOCK],
            "block {b}, reachable from the kernel's superblock"
        );
    }
}

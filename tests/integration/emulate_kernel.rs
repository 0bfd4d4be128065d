//! Conformance of `era_emulate` with the real kernel: every case of `testdata/kernel` (and
//! of `testdata/kernel_random`) is
//! replayed from its `workload.log` on zeroed images of the same sizes. The emulator
//! must print the same era and held field in every status line, end with the same
//! geometry and era, fold to the per-block truth (live and snapshot), and leave an exact
//! space map. The `used` figures are compared too (target.md §9.4).

use crate::common;

use common::kernel_replay::translate;
use common::recount::assert_space_map_exact;
use common::*;
use era_tools::era::ir::EraMetadata;
use era_tools::era::metadata::{open_view, writeset_sources, Source};
use era_tools::io::{BlockIo, MemIo};
use era_tools::pdata::space_map::SmRoot;
use std::sync::Arc;

struct Outcome {
    meta: Arc<MemIo>,
    status_lines: usize,
    used_exact: usize,
    mismatches: Vec<String>,
}

fn replay(case: &str) -> Outcome {
    let r = translate(case);
    let (meta, mut runner) = r.runner();
    let mut out = Outcome {
        meta: meta.clone(),
        status_lines: 0,
        used_exact: 0,
        mismatches: Vec::new(),
    };
    for (n, (cmd, expected)) in r.steps.iter().enumerate() {
        let mut buf = Vec::new();
        runner
            .execute(cmd, &mut buf)
            .unwrap_or_else(|e| panic!("{case}: step {n} ({cmd}): {e}"));
        let Some(kernel) = expected else { continue };
        let ours = String::from_utf8(buf).unwrap();
        let ours: Vec<&str> = ours.split_whitespace().collect();
        let theirs: Vec<&str> = kernel.split_whitespace().collect();
        assert_eq!(ours.len(), 7, "{case}: step {n}: {ours:?}");
        assert_eq!(theirs.len(), 7, "{case}: step {n}: {theirs:?}");
        assert_eq!(&ours[..4], &theirs[..4], "{case}: step {n}: length or type");
        assert_eq!(
            ours[5], theirs[5],
            "{case}: step {n}: era ({ours:?} vs {theirs:?})"
        );
        assert_eq!(
            ours[6] == "-",
            theirs[6] == "-",
            "{case}: step {n}: held field ({ours:?} vs {theirs:?})"
        );
        let (u, t) = ours[4].split_once('/').unwrap();
        let (ku, kt) = theirs[4].split_once('/').unwrap();
        assert_eq!(t, kt, "{case}: step {n}: total");
        out.status_lines += 1;
        if u == ku {
            out.used_exact += 1;
        } else {
            out.mismatches
                .push(format!("step {n}: used {u}, kernel {ku}"));
        }
    }
    out
}

fn read(io: &MemIo, source: Source) -> EraMetadata {
    read_era_metadata(io, source, "emulated")
}

fn sm_root(io: &dyn BlockIo) -> (SmRoot, u64) {
    let sb = era_tools::era::metadata::read_superblock(io).unwrap();
    (sb.sm_root, sb.metadata_snap.get())
}

fn check_case(case: &str) -> (usize, usize, Vec<String>) {
    let out = replay(case);
    let io = out.meta.as_ref();
    // For checking the images with other tools: EMULATE_DUMP_DIR=/some/dir.
    if let Some(dir) = std::env::var_os("EMULATE_DUMP_DIR") {
        std::fs::write(
            std::path::Path::new(&dir).join(format!("{case}.img")),
            io.to_bytes(),
        )
        .unwrap();
    }
    let live = read(io, Source::Live);
    truth(case, false).unwrap().assert_folds(case, &live);
    let kernel = MemIo::from_bytes(kernel_image(case));
    let kernel_live = read(&kernel, Source::Live);
    assert_eq!(
        live.superblock.block_size, kernel_live.superblock.block_size,
        "{case}: block size"
    );
    let (ours, our_snap) = sm_root(io);
    let (theirs, their_snap) = sm_root(&kernel);
    assert_eq!(our_snap != 0, their_snap != 0, "{case}: snapshot held");
    match truth(case, true) {
        Some(t) => t.assert_folds(case, &read(io, Source::Snapshot)),
        None => assert_eq!(our_snap, 0, "{case}: unexpected snapshot"),
    }
    assert_space_map_exact(io, case);
    assert_eq!(ours.nr_blocks, theirs.nr_blocks, "{case}: space map size");
    let mut mismatches = out.mismatches;
    // Same structures as the kernel at rest, once the writesets the kernel had not
    // digested yet (timing) are accounted for: each holds a bitset of one btree leaf
    // plus its array blocks.
    let eras = |io: &MemIo| -> Vec<(u32, u32)> {
        let v = open_view(io, Source::Live).unwrap();
        writeset_sources(io, &v)
            .unwrap()
            .into_iter()
            .map(|w| (w.era.get(), w.root.nr_bits))
            .collect()
    };
    let ours_ws = eras(io);
    let undigested: u64 = eras(&kernel)
        .into_iter()
        .filter(|w| !ours_ws.contains(w))
        .map(|(_, nr_bits)| 1 + (nr_bits as u64).div_ceil(64).div_ceil(509))
        .sum();
    assert_eq!(
        ours.nr_allocated + undigested,
        theirs.nr_allocated,
        "{case}: final nr_allocated (+{undigested} in writesets the kernel had not digested)"
    );
    if ours.nr_allocated != theirs.nr_allocated {
        mismatches.push(format!(
            "final nr_allocated {}, kernel {}",
            ours.nr_allocated, theirs.nr_allocated
        ));
    }
    (out.status_lines, out.used_exact, mismatches)
}

/// Cases whose `used` figures after the first checkpoint the schedule of target.md §9
/// cannot reproduce: their writesets have 1M or 2M bits, so one digest takes over 10,000
/// worker passes, and the kernel's digest was still running (or had not started) when
/// the next operation came (timing, Appendix B item 2; the `*_undigested` cases were
/// written to catch exactly that). Eras, held field, folds and the space map are still
/// asserted, and their `used` figures before the first digest do match.
const USED_NOT_REPRODUCED: &[&str] =
    &["huge", "resize_grow_undigested", "resize_shrink_undigested"];

macro_rules! kernel_case {
    ($name:ident) => {
        #[test]
        fn $name() {
            let case = stringify!($name);
            let (lines, exact, mismatches) = check_case(case);
            eprintln!("{case}: used exact in {exact}/{lines} status lines {mismatches:?}");
            if !USED_NOT_REPRODUCED.contains(&case) {
                assert!(mismatches.is_empty(), "{case}: {mismatches:?}");
                assert_eq!(exact, lines);
            }
        }
    };
}

kernel_case!(bigger);
kernel_case!(checkpoints);
kernel_case!(checkpoints_suspend);
kernel_case!(crash);
kernel_case!(drop_snap);
kernel_case!(fresh);
kernel_case!(huge);
kernel_case!(metadata_snap);
kernel_case!(reopen);
kernel_case!(resize_grow);
kernel_case!(resize_grow_undigested);
kernel_case!(resize_shrink);
kernel_case!(resize_shrink_undigested);
kernel_case!(shrink_two_level);
kernel_case!(wide);
kernel_case!(writes_one_era);

#[test]
fn every_kernel_case_has_a_test() {
    assert_eq!(first_corpus_cases().len(), 16);
}

/// The random and placement-stress corpus (testdata/kernel_random): the same checks on
/// every case. In the `race_*` cases the kernel's digest raced the workload by design, so
/// there only the `used` figures may differ (as in `USED_NOT_REPRODUCED`).
#[test]
fn random_corpus() {
    let mut failures = Vec::new();
    for case in random_cases() {
        let (lines, exact, mismatches) = check_case(&case);
        eprintln!("{case}: used exact in {exact}/{lines} status lines {mismatches:?}");
        if !case.starts_with("race_") && (!mismatches.is_empty() || exact != lines) {
            failures.push(format!("{case}: {mismatches:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

//! The readers against the kernel's own images: every case must decode to exactly the
//! per-block truth of its workload, and the default dump must equal the reference tool's.

use crate::common;

use common::*;
use era_tools::era::ir::EraMetadata;
use era_tools::era::metadata::Source;
use era_tools::io::MemIo;
use era_tools::units::DataBlock;
use era_tools::xml::{XmlStyle, XmlWriter};

fn read(case: &str, source: Source) -> EraMetadata {
    read_era_metadata(&MemIo::from_bytes(kernel_image(case)), source, case)
}

#[test]
fn every_kernel_image_folds_to_its_truth() {
    for case in kernel_cases() {
        let t = truth(&case, false).unwrap();
        t.assert_folds(&case, &read(&case, Source::Live));
    }
}

#[test]
fn snapshot_views_fold_to_their_truth() {
    let mut seen = 0;
    for case in kernel_cases() {
        if let Some(t) = truth(&case, true) {
            t.assert_folds(&case, &read(&case, Source::Snapshot));
            seen += 1;
        }
    }
    assert!(seen >= 1, "no case holds a snapshot");
}

#[test]
fn verbose_dump_equals_the_reference_dump() {
    let mut seen = 0;
    for case in kernel_cases() {
        let Some(reference) = reference_dump(&case) else {
            continue;
        };
        let md = read(&case, Source::Live);
        let mut w = XmlWriter::new(Vec::new(), XmlStyle::Verbose);
        md.visit(&mut w).unwrap();
        let ours = w.into_inner().unwrap();
        assert!(ours == reference, "{case}: dump differs from the reference");
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} reference dumps");
}

#[test]
fn written_since_lists_the_truth_for_every_threshold() {
    for case in kernel_cases() {
        let md = read(&case, Source::Live);
        let t = truth(&case, false).unwrap();
        let rmq = RangeMinMax::new(&t.dense());
        for n in 0..=t.current_era + 1 {
            let runs = era_tools::era::invalidate::written_since(md.clone(), n);
            assert_runs_are_truth(&runs, &rmq, t.nr_blocks, n, &format!("{case} N={n}"));
        }
    }
}

#[test]
fn the_run_check_itself_catches_wrong_lists() {
    let truth = [0, 3, 3, 1, 5];
    let rmq = RangeMinMax::new(&truth);
    let b = DataBlock::new;
    assert_runs_are_truth(&[(b(1), b(3)), (b(4), b(5))], &rmq, 5, 3, "right");
    for wrong in [
        vec![(b(1), b(3))],
        vec![(b(1), b(4)), (b(4), b(5))],
        vec![(b(1), b(2)), (b(4), b(5))],
        vec![(b(0), b(3)), (b(4), b(5))],
    ] {
        let r = std::panic::catch_unwind(|| assert_runs_are_truth(&wrong, &rmq, 5, 3, "wrong"));
        assert!(r.is_err(), "{wrong:?} was accepted");
    }
}

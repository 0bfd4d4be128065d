//! era_invalidate against the kernel corpus: for every case and every threshold the
//! listed blocks are exactly those whose truth era is at least the threshold.

use super::support::*;
use crate::common::*;

/// Thresholds to run the binary with: every one, except for cases with hundreds of eras
/// where a sample is taken (the library test covers every threshold of every case).
fn thresholds(current_era: u32) -> Vec<u32> {
    if current_era <= 20 {
        (0..=current_era + 1).collect()
    } else {
        vec![
            0,
            1,
            2,
            current_era / 2,
            current_era - 1,
            current_era,
            current_era + 1,
        ]
    }
}

#[test]
fn every_case_lists_the_truth() {
    for case in kernel_cases() {
        let img = kernel_image_file(&case);
        let t = truth(&case, false).unwrap();
        for n in thresholds(t.current_era) {
            let (code, out, err) = run(
                "era_invalidate",
                &["--written-since", &n.to_string()],
                img.path(),
            );
            assert_eq!(code, 0, "{case} N={n}: {err}");
            assert!(
                out.starts_with("<blocks>") && out.ends_with("</blocks>"),
                "{case}"
            );
            let listed = listed_blocks(&out);
            let want = (0..t.nr_blocks).filter(|&b| t.era(b) >= n);
            assert!(listed.iter().copied().eq(want), "{case} N={n}");
        }
    }
}

#[test]
fn the_live_writeset_of_a_crash_counts() {
    let img = kernel_image_file("crash");
    let (code, out, _) = run("era_invalidate", &["--written-since", "3"], img.path());
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "<blocks>\n  <block block=\"3\"/>\n  <range begin=\"5\" end=\"7\"/>\n  <block block=\"2000\"/>\n</blocks>"
    );
    let (_, out, _) = run("era_invalidate", &["--written-since", "4"], img.path());
    assert_eq!(out, "<blocks>\n</blocks>");
}

#[test]
fn snapshot_view_and_bad_thresholds() {
    let img = kernel_image_file("metadata_snap");
    let t = truth("metadata_snap", true).unwrap();
    let (code, out, _) = run(
        "era_invalidate",
        &["--metadata-snapshot", "--written-since", "4"],
        img.path(),
    );
    assert_eq!(code, 0);
    let want: Vec<u32> = (0..t.nr_blocks).filter(|&b| t.era(b) >= 4).collect();
    assert_eq!(listed_blocks(&out), want);
    for bad in ["x", "-1", "4294967296", ""] {
        let (code, _, _) = run("era_invalidate", &["--written-since", bad], img.path());
        assert_eq!(code, 2, "--written-since {bad:?}");
    }
}

#[test]
fn output_file_is_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let img = kernel_image_file("crash");
    let dest = dir.path().join("blocks.xml");
    let (code, out, err) = run_to_file(
        "era_invalidate",
        &["--written-since", "3"],
        &dest,
        img.path(),
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert_eq!(
        listed_blocks(&std::fs::read_to_string(&dest).unwrap()),
        vec![3, 5, 6, 2000]
    );
    let bad = dir.path().join("bad.img");
    std::fs::write(&bad, vec![0u8; 8192]).unwrap();
    let fresh = dir.path().join("fresh.xml");
    let (code, _, _) = run_to_file("era_invalidate", &["--written-since", "3"], &fresh, &bad);
    assert_eq!(code, 1);
    assert!(!fresh.exists());
}

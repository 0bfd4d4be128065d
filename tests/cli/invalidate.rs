//! era_invalidate against the kernel corpus: for every case and every threshold the
//! listed blocks are exactly those whose truth era is at least the threshold.

use super::support::*;
use crate::common::*;

#[test]
fn every_threshold_of_every_case_lists_the_truth() {
    for case in kernel_cases() {
        let img = kernel_image_file(&case);
        let t = truth(&case, false).unwrap();
        for n in 0..=t.current_era + 1 {
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
            let want: Vec<u32> = (0..t.nr_blocks).filter(|&b| t.era(b) >= n).collect();
            assert_eq!(listed_blocks(&out), want, "{case} N={n}");
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

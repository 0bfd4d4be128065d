//! R6 (testdata/repro): a block referenced twice. An outside tester changed one entry of a
//! kernel image's era-array index so that array block 699 is listed at indices 1 and 4 (and
//! 696, which held the other index's values, is listed nowhere). The readers answered
//! with the wrong blocks and exit 0; every reader must refuse, naming the block and both
//! places, and `era_check` must say so directly, not only through reference counts.

use crate::cli::support::run;
use crate::common::gunzip;
use std::path::{Path, PathBuf};

fn repro(name: &str) -> tempfile::NamedTempFile {
    let gz = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/repro/dupref")
        .join(format!("{name}.img.gz"));
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), gunzip(&gz)).unwrap();
    f
}

/// The error a reader must give: the block and both of its places in the index.
fn assert_names_both_places(what: &str, stderr: &str) {
    assert!(
        stderr.contains("array block 699") && stderr.contains("listed twice"),
        "{what}: {stderr}"
    );
    assert!(
        stderr.contains("at index 1 and at index 4"),
        "{what}: both places named: {stderr}"
    );
}

#[test]
fn readers_refuse_an_array_block_listed_twice() {
    let damaged = repro("bigger_dup_ref_66624");
    let orig = repro("bigger.orig");
    let path: PathBuf = damaged.path().into();
    let cases: [(&str, &[&str]); 4] = [
        (
            "era_invalidate",
            &["--written-since", "1", "--format", "ranges"],
        ),
        ("era_dump", &[]),
        ("era_dump", &["--logical"]),
        ("era_invalidate", &["--written-since", "0"]),
    ];
    for (tool, args) in cases {
        // The undamaged image reads.
        let (code, _, err) = run(tool, args, orig.path());
        assert_eq!(code, 0, "{tool} {args:?} on the original: {err}");
        let (code, out, err) = run(tool, args, &path);
        assert_eq!(code, 1, "{tool} {args:?}: exit code; stdout {out:.200}");
        assert_names_both_places(&format!("{tool} {args:?}"), &err);
    }
}

#[test]
fn check_reports_the_block_listed_twice() {
    let damaged = repro("bigger_dup_ref_66624");
    let (code, out, err) = run("era_check", &[], damaged.path());
    assert_eq!(code, 1, "{out}{err}");
    assert_names_both_places("era_check", &format!("{out}{err}"));
}

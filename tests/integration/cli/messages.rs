//! What a new user reads: values no run can accept are usage errors (exit 2), and a
//! missing metadata snapshot says how to take one.

use super::support::*;

#[test]
fn impossible_values_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = tool("era_generate")
        .args(["--nr-blocks", "100", "--density", "2", "-o"])
        .arg(dir.path().join("m.img"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!dir.path().join("m.img").exists());
    let out = tool("era_invalidate")
        .args([
            "--written-since",
            "1",
            "--unit",
            "bytes",
            "--format",
            "ranges",
        ])
        .args(["--length", "0", "meta.img"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn a_missing_snapshot_says_how_to_take_one() {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("meta.img");
    let out = tool("era_generate")
        .args(["--nr-blocks", "100", "-o"])
        .arg(&meta)
        .output()
        .unwrap();
    assert!(out.status.success());
    let (code, _, stderr) = run("era_dump", &["--metadata-snapshot"], &meta);
    assert_eq!(code, 1);
    assert!(stderr.contains("take_metadata_snap"), "{stderr}");
}

#[test]
fn logical_compact_is_accepted_and_documented() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/example/meta.img");
    let (code, logical, err) = run("era_dump", &["--logical"], &example);
    assert_eq!(code, 0, "{err}");
    let (code, both, err) = run("era_dump", &["--logical", "--compact"], &example);
    assert_eq!(code, 0, "{err}");
    assert_eq!(both, logical);
    let help = tool("era_dump").arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("With --logical, which prints no writesets"),
        "{help}"
    );
}

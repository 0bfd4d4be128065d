//! `era_emulate` refuses tables that would destroy data or fail every write: the same
//! file as metadata and origin, a table longer than the origin or of no sectors, and a
//! block size the kernel refuses. Nothing is written when it refuses. A script's `open`
//! or `reload` that fails on a device names it.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn image(dir: &Path, name: &str, bytes: u64) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().set_len(bytes).unwrap();
    p
}

/// Runs `era_emulate run` with a one-write script; returns (code, stderr).
fn emulate(meta: &Path, origin: &Path, extra: &[&str]) -> (i32, String) {
    emulate_with(meta, origin, extra, None, "write 0 8\n")
}

/// Runs `era_emulate run` with `extra` arguments, then `script_file` if given, and
/// `stdin`; returns (code, stderr).
fn emulate_with(
    meta: &Path,
    origin: &Path,
    extra: &[&str],
    script_file: Option<&Path>,
    stdin: &str,
) -> (i32, String) {
    let o = Command::cargo_bin("era_emulate")
        .unwrap()
        .args(["run", "--meta"])
        .arg(meta)
        .arg("--origin")
        .arg(origin)
        .args(extra)
        .args(script_file)
        .write_stdin(stdin)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn is_zero(path: &Path) -> bool {
    std::fs::read(path).unwrap().iter().all(|&b| b == 0)
}

#[test]
fn the_same_file_as_metadata_and_origin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), "both.img", 4 << 20);
    let (code, err) = emulate(&img, &img, &["--block-size", "8"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("are the same file"), "{err}");
    assert!(is_zero(&img));
    // A hard link is the same file under another name.
    let link = dir.path().join("link.img");
    std::fs::hard_link(&img, &link).unwrap();
    let (code, err) = emulate(&img, &link, &["--block-size", "8"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("are the same file"), "{err}");
    assert!(is_zero(&img));
}

#[test]
fn a_table_longer_than_the_origin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let meta = image(dir.path(), "meta.img", 4 << 20);
    let origin = image(dir.path(), "origin.img", 64 << 10);
    let (code, err) = emulate(&meta, &origin, &["--block-size", "8", "--length", "129"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("length (129 sectors) is larger than the origin (128 sectors)"),
        "{err}"
    );
    assert!(is_zero(&meta), "the metadata was formatted");
    // Exactly the origin's length is fine.
    let (code, err) = emulate(&meta, &origin, &["--block-size", "8", "--length", "128"]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn an_empty_origin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let meta = image(dir.path(), "meta.img", 4 << 20);
    let origin = image(dir.path(), "origin.img", 0);
    let (code, err) = emulate(&meta, &origin, &["--block-size", "8"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the table has no sectors"), "{err}");
    assert!(is_zero(&meta));
}

#[test]
fn an_invalid_block_size_says_what_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let meta = image(dir.path(), "meta.img", 4 << 20);
    let origin = image(dir.path(), "origin.img", 64 << 10);
    for bs in ["7", "0", "12"] {
        let (code, err) = emulate(&meta, &origin, &["--block-size", bs]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("Invalid block size: {bs} sectors"))
                && err.contains("positive multiple of 8 sectors"),
            "{err}"
        );
    }
    assert!(is_zero(&meta));
}

/// Runs `era_emulate run` with `script` written to a file; returns (code, stderr).
fn run_script(meta: &Path, origin: &Path, extra: &[&str], script: &str) -> (i32, String) {
    let file = meta.with_file_name("script");
    std::fs::write(&file, script).unwrap();
    emulate_with(meta, origin, extra, Some(&file), "")
}

/// A script's `open` or `reload` the origin cannot take names the origin, as the first
/// open does.
#[test]
fn a_script_open_or_reload_past_the_origin_names_the_origin() {
    let dir = tempfile::tempdir().unwrap();
    let meta = image(dir.path(), "meta.img", 4 << 20);
    let origin = image(dir.path(), "origin.img", 64 << 10);
    let o = origin.display();
    for (script, line) in [
        ("reload 129\n", format!("line 1: reload 129: {o}: the table's length (129 sectors) is larger than the origin (128 sectors)")),
        ("close\nopen 129\n", format!("line 2: open 129: {o}: the table's length (129 sectors) is larger than the origin (128 sectors)")),
        ("close\nopen 0\n", format!("line 2: open 0: {o}: the table has no sectors (the origin has 128): nothing to map")),
    ] {
        let (code, err) = run_script(&meta, &origin, &["--block-size", "8"], script);
        assert_eq!(code, 1, "{script}: {err}");
        assert!(err.contains(&format!("era_emulate: {line}\n")), "{script}: {err}");
    }
}

/// A script's `open` or `reload` whose metadata cannot hold the new table names the
/// metadata device.
#[test]
fn a_script_open_or_reload_the_metadata_cannot_hold_names_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let origin = image(dir.path(), "origin.img", 1 << 30);
    for (script, line) in [
        ("reload 2097152\n", "line 1: reload 2097152"),
        ("close\nopen 2097152\n", "line 2: open 2097152"),
    ] {
        // Room for a table of 2048 sectors, not for one of the whole origin.
        let meta = image(dir.path(), "meta.img", 120 << 10);
        let (code, err) = run_script(
            &meta,
            &origin,
            &["--block-size", "8", "--length", "2048"],
            script,
        );
        assert_eq!(code, 1, "{script}: {err}");
        let named = format!("era_emulate: {line}: {}: metadata: ", meta.display());
        assert!(err.contains(&named), "{script}: {err}");
    }
}

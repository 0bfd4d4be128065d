//! What every tool promises: help and version, exit codes, clear one-line errors on bad
//! input, and a read-only tool never changes its input.

use super::support::*;
use std::io::Write;

#[test]
fn help_and_version_exit_zero() {
    for name in TOOLS {
        let out = tool(name).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name} --help");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("Usage:") && text.contains("Exit status: 0"),
            "{name}: {text}"
        );
        let out = tool(name).arg("-V").output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8(out.stdout)
            .unwrap()
            .contains(env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn usage_errors_exit_two() {
    for (name, args) in READERS {
        let out = tool(name)
            .args(args)
            .arg("--no-such-flag")
            .arg("x")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let out = tool(name).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name} without INPUT");
    }
}

fn assert_one_line_failure(name: &str, args: &[&str], input: &std::path::Path, needle: &str) {
    let (code, stdout, stderr) = run(name, args, input);
    assert_eq!(code, 1, "{name} on {}: {stderr}", input.display());
    assert!(stdout.is_empty(), "{name} printed output: {stdout}");
    assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{name}: {stderr:?} lacks {needle:?}"
    );
    assert!(stderr.starts_with(name), "{name}: {stderr}");
}

#[test]
fn bad_inputs_give_one_clear_line_and_exit_one() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.img");
    std::fs::write(&small, [0u8; 100]).unwrap();
    let xml = dir.path().join("dump.xml");
    std::fs::write(
        &xml,
        "<superblock uuid=\"\" block_size=\"8\">\n".repeat(200),
    )
    .unwrap();
    let zeroed = dir.path().join("zeroed.img");
    std::fs::write(&zeroed, vec![0u8; 16 * 4096]).unwrap();
    let missing = dir.path().join("missing.img");
    for (name, args) in READERS {
        assert_one_line_failure(name, args, &missing, "No such file");
        assert_one_line_failure(name, args, dir.path(), "is a directory");
        assert_one_line_failure(name, args, &small, "smaller than one 4096-byte");
        assert_one_line_failure(name, args, &xml, "looks like XML");
        let (code, _, stderr) = run(name, args, &zeroed);
        assert_eq!(code, 1, "{name} on zeroed metadata: {stderr}");
        assert!(
            stderr.contains("block 0") && stderr.contains("never been formatted"),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn read_only_tools_leave_their_input_unchanged() {
    for case in ["crash", "metadata_snap"] {
        let img = crate::common::kernel_image_file(case);
        let before = digest(img.path());
        let mtime = std::fs::metadata(img.path()).unwrap().modified().unwrap();
        for (name, args) in READERS {
            run(name, args, img.path());
        }
        run("era_dump", &["--metadata-snapshot"], img.path());
        assert_eq!(digest(img.path()), before, "{case} changed");
        assert_eq!(
            std::fs::metadata(img.path()).unwrap().modified().unwrap(),
            mtime
        );
    }
}

#[test]
fn broken_pipe_exits_non_zero_silently() {
    let img = crate::common::kernel_image_file("bigger");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("era_dump"))
        .arg(img.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::io::stdout().flush();
}

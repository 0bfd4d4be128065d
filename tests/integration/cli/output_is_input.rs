//! A tool never writes over what it reads: an output that is the input, under any name
//! (the same path, a hard link, a symbolic link, standard output opened on it), is
//! refused with exit 2 before anything is written, and both names are left as they were.
//! Block devices (the same device by another node, a loop device and its backing file)
//! are covered in `block_device.rs`.

use super::support::*;
use crate::common::*;
use std::path::{Path, PathBuf};

/// How the output names the input.
#[derive(Debug, Clone, Copy)]
enum Alias {
    SamePath,
    HardLink,
    Symlink,
}

const ALIASES: [Alias; 3] = [Alias::SamePath, Alias::HardLink, Alias::Symlink];

/// A second name for `input` in its directory.
fn alias(input: &Path, kind: Alias) -> PathBuf {
    let dir = input.parent().unwrap();
    match kind {
        Alias::SamePath => dir.join(".").join(input.file_name().unwrap()),
        Alias::HardLink => {
            let p = dir.join("hard");
            std::fs::hard_link(input, &p).unwrap();
            p
        }
        Alias::Symlink => {
            let p = dir.join("soft");
            std::os::unix::fs::symlink(input, &p).unwrap();
            p
        }
    }
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs `tool args` with `input` written to a fresh directory under each alias kind;
/// `args` builds the arguments from (input, output). Every run must be refused and
/// leave the directory as it was.
fn assert_refused_for_every_alias(
    tool_name: &str,
    content: &[u8],
    args: impl Fn(&Path, &Path) -> Vec<std::ffi::OsString>,
) {
    for kind in ALIASES {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("input");
        std::fs::write(&input, content).unwrap();
        let out = alias(&input, kind);
        let before = names(dir.path());
        let o = tool(tool_name).args(args(&input, &out)).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let what = format!("{tool_name}, output = input by {kind:?}");
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("is the input"), "{what}: {err}");
        assert!(err.starts_with(&format!("{tool_name}: ")), "{what}: {err}");
        assert!(
            std::fs::read(&input).unwrap() == content,
            "{what}: input changed"
        );
        assert_eq!(names(dir.path()), before, "{what}");
        if let Alias::Symlink = kind {
            assert!(out.symlink_metadata().unwrap().is_symlink(), "{what}");
        }
    }
}

fn os(v: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<std::ffi::OsString> {
    v.iter().map(|s| s.as_ref().to_os_string()).collect()
}

#[test]
fn dump_refuses_its_input_as_output() {
    let img = kernel_image("checkpoints");
    assert_refused_for_every_alias("era_dump", &img, |i, o| os(&[&"-o", &o, &i]));
    assert_refused_for_every_alias("era_dump", &img, |i, o| os(&[&"--repair", &"-o", &o, &i]));
}

#[test]
fn invalidate_refuses_its_input_as_output() {
    let img = kernel_image("checkpoints");
    assert_refused_for_every_alias("era_invalidate", &img, |i, o| {
        os(&[&"--written-since", &"2", &"-o", &o, &i])
    });
}

#[test]
fn restore_refuses_its_input_as_output() {
    let xml = reference_dump("checkpoints").unwrap();
    assert_refused_for_every_alias("era_restore", &xml, |i, o| {
        os(&[&"-q", &"-i", &i, &"-o", &o])
    });
}

#[test]
fn repair_refuses_its_input_as_output() {
    let img = kernel_image("crash");
    assert_refused_for_every_alias("era_repair", &img, |i, o| {
        os(&[&"-q", &"-i", &i, &"-o", &o])
    });
}

/// Standard output opened on the input (`era_dump meta.img >>meta.img`) is the input too.
#[test]
fn standard_output_on_the_input_is_refused() {
    let img = kernel_image("checkpoints");
    for (tool_name, args) in [
        ("era_dump", &[][..]),
        ("era_invalidate", &["--written-since", "1"][..]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("input");
        std::fs::write(&input, &img).unwrap();
        let stdout = std::fs::File::options().append(true).open(&input).unwrap();
        let o = std::process::Command::new(assert_cmd::cargo::cargo_bin(tool_name))
            .args(args)
            .arg(&input)
            .stdout(stdout)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{tool_name}: {err}");
        assert!(err.contains("standard output is the input"), "{err}");
        assert!(std::fs::read(&input).unwrap() == img, "{tool_name}");
    }
}

/// Another file, even one in the same directory, is still written.
#[test]
fn a_different_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::write(&input, kernel_image("checkpoints")).unwrap();
    let out = dir.path().join("copy");
    std::fs::copy(&input, &out).unwrap();
    let (code, _, err) = run_to_file("era_dump", &[], &out, &input);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(&out).unwrap() == reference_dump("checkpoints").unwrap());
}

//! The tools on a real block device (a loop device over a kernel image): reading it,
//! refusing it while something holds it exclusively (as a live era target does), and
//! reading the metadata snapshot of a held device.
//!
//! Needs root and `losetup` (CI runs as root); without a loop device the tests say so
//! on stderr and check nothing.

mod common;

use assert_cmd::Command;
use common::*;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

struct Loop {
    dev: PathBuf,
    _image: tempfile::NamedTempFile,
}

impl Loop {
    fn attach(case: &str) -> Option<Loop> {
        let image = kernel_image_file(case);
        let out = std::process::Command::new("losetup")
            .args(["-f", "--show"])
            .arg(image.path())
            .output()
            .ok()?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                std::env::var_os("CI").is_none(),
                "no loop device in CI: {why}"
            );
            eprintln!("skipped: no loop device ({why})");
            return None;
        }
        let dev = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        Some(Loop { dev, _image: image })
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .arg("-d")
            .arg(&self.dev)
            .status();
    }
}

fn run(tool: &str, args: &[&str], dev: &PathBuf) -> (i32, String, String) {
    let o = Command::cargo_bin(tool)
        .unwrap()
        .args(args)
        .arg(dev)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_held_device_is_refused_but_its_snapshot_can_be_read() {
    let Some(lo) = Loop::attach("metadata_snap") else {
        return;
    };
    let file = kernel_image_file("metadata_snap");

    // Free device: the same answers as the image file.
    let (code, from_dev, err) = run("era_dump", &["--logical"], &lo.dev);
    assert_eq!(code, 0, "{err}");
    let (_, from_file, _) = run("era_dump", &["--logical"], &file.path().to_path_buf());
    assert!(from_dev == from_file);
    assert_eq!(run("era_check", &[], &lo.dev).0, 0);

    // Held exclusively, as by a live target.
    let _holder = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_EXCL)
        .open(&lo.dev)
        .unwrap();
    for (tool, args) in [
        ("era_dump", &[][..]),
        ("era_check", &[][..]),
        ("era_invalidate", &["--written-since", "1"][..]),
    ] {
        let (code, out, err) = run(tool, args, &lo.dev);
        assert_eq!((code, out.as_str()), (1, ""), "{tool}");
        assert!(err.contains("in use"), "{tool}: {err}");
    }
    // The snapshot is read without an exclusive open: the same list as from the file.
    let args = ["--metadata-snapshot", "--written-since", "1"];
    let (code, out, err) = run("era_invalidate", &args, &lo.dev);
    assert_eq!(code, 0, "{err}");
    let (_, want, _) = run("era_invalidate", &args, &file.path().to_path_buf());
    assert!(out == want && out.contains("<range "), "{out}");
    let (code, _, err) = run("era_dump", &["--metadata-snapshot"], &lo.dev);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn restore_writes_a_free_device_and_refuses_a_held_one() {
    let Some(lo) = Loop::attach("crash") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("in.xml");
    std::fs::write(&xml, reference_dump("checkpoints").unwrap()).unwrap();
    let restore = || {
        Command::cargo_bin("era_restore")
            .unwrap()
            .arg("-q")
            .arg("-i")
            .arg(&xml)
            .arg("-o")
            .arg(&lo.dev)
            .output()
            .unwrap()
    };
    {
        let _holder = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_EXCL)
            .open(&lo.dev)
            .unwrap();
        let o = restore();
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains("in use"));
    }
    let o = restore();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (code, out, _) = run("era_dump", &[], &lo.dev);
    assert_eq!(code, 0);
    assert!(out.as_bytes() == reference_dump("checkpoints").unwrap());
}

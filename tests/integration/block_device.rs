//! The tools on a real block device (a loop device over a kernel image): reading it,
//! refusing it while something holds it exclusively (as a live era target does), and
//! reading the metadata snapshot of a held device, and knowing it under its other names
//! (another device node, the loop device's backing file).
//!
//! Needs root and `losetup` (CI runs as root); without a loop device the tests say so
//! on stdout and check nothing (under CI they fail).

use crate::common;

use assert_cmd::Command;
use common::loop_device::LoopDevice;
use common::*;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

struct Loop {
    // Detached before the image is deleted.
    _attached: LoopDevice,
    dev: PathBuf,
    image: tempfile::NamedTempFile,
}

impl Loop {
    /// A loop device over the kernel image of `case`, or `None` (the test is skipped,
    /// visibly; under CI it fails: see [`common::skip`]).
    fn attach(case: &str) -> Option<Loop> {
        let image = kernel_image_file(case);
        let attached = LoopDevice::attach(image.path())?;
        Some(Loop {
            dev: attached.path().to_path_buf(),
            _attached: attached,
            image,
        })
    }
}

impl Loop {
    /// Opens the device exclusively (`O_EXCL`), as a live target or `era_emulate serve`
    /// holds it.
    fn hold(&self) -> std::fs::File {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::EXCL.bits().cast_signed())
            .open(&self.dev)
            .unwrap()
    }
}

fn run(tool: &str, args: &[&str], dev: &PathBuf) -> (i32, String, String) {
    outcome(
        &Command::cargo_bin(tool)
            .unwrap()
            .args(args)
            .arg(dev)
            .output()
            .unwrap(),
    )
}

/// A finished run's (exit code, stdout, stderr).
fn outcome(o: &std::process::Output) -> (i32, String, String) {
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
    let _holder = lo.hold();
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
        let _holder = lo.hold();
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

/// `metadata_snap`'s image after more writes and a new metadata snapshot, as a live
/// target leaves it while a backup job reads it.
fn with_new_snapshot() -> Vec<u8> {
    use era_tools::emulate::origin::MemOrigin;
    use era_tools::emulate::runner::{RunConfig, Runner};
    use era_tools::io::MemIo;
    use std::sync::Arc;
    let meta = Arc::new(MemIo::from_bytes(kernel_image("metadata_snap")));
    let mut runner = Runner::new(RunConfig {
        meta: meta.clone(),
        origin: Arc::new(MemOrigin::new(64 << 20)),
        block_size: 8,
        length: None,
        sync: false,
        meta_name: "m".into(),
        origin_name: "o".into(),
    });
    common::script::run_script(
        &mut runner,
        "open\nwrite 160 16\ncheckpoint\nwrite 240 8\ndrop_metadata_snap\ntake_metadata_snap\nclose",
    );
    meta.to_bytes()
}

/// Something keeps the device open (as a live target does), so the pages an earlier
/// read cached stay; the metadata then changes underneath the page cache (the kernel
/// writes it with its own bios). Every later read must see the new metadata.
#[test]
fn a_device_kept_open_is_never_read_stale() {
    let Some(lo) = Loop::attach("metadata_snap") else {
        return;
    };
    let _live = std::fs::File::open(&lo.dev).unwrap();
    let new_image = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(new_image.path(), with_new_snapshot()).unwrap();
    let new_path = new_image.path().to_path_buf();
    let reads: [(&str, &[&str]); 4] = [
        (
            "era_invalidate",
            &["--metadata-snapshot", "--written-since", "1"],
        ),
        ("era_dump", &["--metadata-snapshot", "--logical"]),
        ("era_dump", &["--logical"]),
        ("era_check", &[]),
    ];
    for (tool, args) in reads {
        let (code, _, err) = run(tool, args, &lo.dev);
        assert_eq!(code, 0, "{tool}: {err}");
    }
    std::fs::write(lo.image.path(), std::fs::read(&new_path).unwrap()).unwrap();
    for (tool, args) in reads {
        let from_dev = run(tool, args, &lo.dev);
        let want = run(tool, args, &new_path);
        assert_eq!(want.0, 0, "{tool}: {}", want.2);
        assert!(
            from_dev == want,
            "{tool} {args:?} read stale metadata: {from_dev:?}"
        );
    }
}

/// Runs `tool args…` writing `out` from `input` (given with `-i` to era_restore and
/// era_repair, last to the others); returns (exit code, stderr).
fn write_with(tool: &str, args: &[&str], input: &Path, out: &Path) -> (i32, String) {
    let mut cmd = Command::cargo_bin(tool).unwrap();
    cmd.args(args);
    if matches!(tool, "era_restore" | "era_repair") {
        cmd.args(["-q", "-i"]).arg(input).arg("-o").arg(out);
    } else {
        cmd.arg("-o").arg(out).arg(input);
    }
    let (code, _, err) = outcome(&cmd.output().unwrap());
    (code, err)
}

/// A device is the same image under any name: its own path, another device node with
/// the same device number, and, for a loop device, its backing file. None may be the
/// output of a tool that reads it (exit 2, nothing written).
#[test]
fn a_device_under_another_name_is_not_the_output() {
    let Some(lo) = Loop::attach("checkpoints") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    let rdev = std::fs::metadata(&lo.dev).unwrap().rdev();
    let (major, minor) = (rustix::fs::major(rdev), rustix::fs::minor(rdev));
    let made = std::process::Command::new("mknod")
        .arg(&node)
        .args(["b", &major.to_string(), &minor.to_string()])
        .status()
        .unwrap();
    assert!(made.success());
    let backing = lo.image.path().to_path_buf();
    let before = std::fs::read(&backing).unwrap();
    let invalidate = ["--written-since", "2"];
    let cases: [(&str, &[&str], &Path, &Path); 9] = [
        ("era_dump", &[], &lo.dev, &lo.dev),
        ("era_dump", &[], &lo.dev, &node),
        ("era_invalidate", &invalidate, &node, &lo.dev),
        ("era_dump", &[], &backing, &lo.dev),
        ("era_invalidate", &invalidate, &lo.dev, &backing),
        ("era_dump", &["--repair"], &backing, &lo.dev),
        ("era_repair", &[], &backing, &lo.dev),
        ("era_repair", &[], &lo.dev, &backing),
        ("era_repair", &[], &lo.dev, &node),
    ];
    for (tool, args, input, out) in cases {
        let (code, err) = write_with(tool, args, input, out);
        let what = format!("{tool} from {} to {}", input.display(), out.display());
        assert_eq!(code, 2, "{what}: {err}");
        assert!(err.contains("is the input"), "{what}: {err}");
        let now = std::fs::read(&backing).unwrap();
        assert!(now == before, "{what} wrote over its input");
    }
}

/// The backing file of a loop device that something holds exclusively (as
/// `era_emulate serve --meta /dev/loopN` or a live target does) is the held image by
/// another name: a tool that writes it is refused, "in use", and writes nothing. Once
/// the device is free, the file is written.
#[test]
fn the_backing_file_of_a_held_loop_device_is_not_written() {
    let Some(lo) = Loop::attach("crash") else {
        return;
    };
    let backing = lo.image.path().to_path_buf();
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("in.xml");
    std::fs::write(&xml, reference_dump("checkpoints").unwrap()).unwrap();
    let source = kernel_image_file("metadata_snap");
    let before = std::fs::read(&backing).unwrap();
    {
        let _holder = lo.hold();
        for (tool, input) in [
            ("era_restore", xml.as_path()),
            ("era_repair", source.path()),
            ("era_dump", source.path()),
        ] {
            let (code, err) = write_with(tool, &[], input, &backing);
            assert_eq!(code, 1, "{tool}: {err}");
            let dev = lo.dev.display().to_string();
            assert!(
                err.contains("in use") && err.contains(&dev),
                "{tool}: {err}"
            );
            let now = std::fs::read(&backing).unwrap();
            assert!(now == before, "{tool} wrote the held image");
        }
    }
    let (code, err) = write_with("era_restore", &[], &xml, &backing);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run("era_dump", &[], &lo.dev);
    assert_eq!(code, 0);
    assert!(out.as_bytes() == reference_dump("checkpoints").unwrap());
}

/// Text written to a block device (`era_dump -o /dev/…`) takes the device exclusively:
/// one that a live target holds is refused, "in use", and left as it was.
#[test]
fn a_held_device_is_not_written_as_an_output() {
    let Some(lo) = Loop::attach("crash") else {
        return;
    };
    let source = kernel_image_file("metadata_snap");
    let before = std::fs::read(lo.image.path()).unwrap();
    let _holder = lo.hold();
    for (tool, args) in [
        ("era_dump", &[][..]),
        ("era_invalidate", &["--written-since", "1"][..]),
    ] {
        let (code, err) = write_with(tool, args, source.path(), &lo.dev);
        assert_eq!(code, 1, "{tool}: {err}");
        assert!(err.contains("in use"), "{tool}: {err}");
        let now = std::fs::read(lo.image.path()).unwrap();
        assert!(now == before, "{tool} wrote the held device");
    }
}

/// A loop device and its backing file are one image: `era_emulate` refuses them as the
/// metadata and the origin of one table, either way round, and writes neither.
#[test]
fn a_loop_device_and_its_backing_file_are_not_two_devices_of_a_table() {
    let Some(lo) = Loop::attach("crash") else {
        return;
    };
    let backing = lo.image.path().to_path_buf();
    let before = std::fs::read(&backing).unwrap();
    for (meta, origin) in [(&lo.dev, &backing), (&backing, &lo.dev)] {
        let o = Command::cargo_bin("era_emulate")
            .unwrap()
            .args(["run", "--block-size", "8", "--meta"])
            .arg(meta)
            .arg("--origin")
            .arg(origin)
            .write_stdin("write 0 8\n")
            .output()
            .unwrap();
        let (code, _, err) = outcome(&o);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("are the same image (a loop device and its backing file)"),
            "{err}"
        );
        assert!(std::fs::read(&backing).unwrap() == before, "written: {err}");
    }
}

//! Image files are locked (`flock`): a writer exclusively, a reader shared. A second
//! writer, or a reader of a file being written, is refused with "in use by another
//! process", exit 1, and nothing is touched; `--metadata-snapshot` reads without a lock.
//! The lock is held here by the test process, exactly as another tool would hold it.

use super::support::*;
use crate::common::*;
use std::fs::File;
use std::path::Path;

fn locked(path: &Path, exclusive: bool) -> File {
    let f = File::options().read(true).write(true).open(path).unwrap();
    if exclusive {
        f.try_lock().unwrap();
    } else {
        f.try_lock_shared().unwrap();
    }
    f
}

/// Releases a lock held by `locked`. Unlocking, not just closing: a child another test
/// thread forks at that moment holds a copy of the descriptor until it execs, and would
/// keep the lock alive past a close.
fn release(f: File) {
    f.unlock().unwrap();
}

fn assert_refused(code: i32, err: &str, what: &str) {
    assert_eq!(code, 1, "{what}: {err}");
    assert!(err.contains("in use by another process"), "{what}: {err}");
}

fn emulate(meta: &Path, origin: &Path) -> (i32, String) {
    let o = tool("era_emulate")
        .args(["run", "--block-size", "8", "--meta"])
        .arg(meta)
        .arg("--origin")
        .arg(origin)
        .write_stdin("write 0 8\ncheckpoint\n")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn readers_are_refused_while_a_writer_holds_the_image() {
    let img = kernel_image_file("metadata_snap");
    let before = digest(img.path());
    let _writer = locked(img.path(), true);
    for (tool, args) in READERS {
        let (code, _, err) = run(tool, args, img.path());
        assert_refused(code, &err, tool);
    }
    // The held metadata snapshot is read as on a live device.
    let args = ["--metadata-snapshot", "--written-since", "1"];
    let (code, out, err) = run("era_invalidate", &args, img.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("<range"), "{out}");
    assert_eq!(digest(img.path()), before);
}

#[test]
fn readers_share_the_image() {
    let img = kernel_image_file("crash");
    let _reader = locked(img.path(), false);
    for (tool, args) in READERS {
        let (code, _, err) = run(tool, args, img.path());
        assert_eq!(code, 0, "{tool}: {err}");
    }
}

#[test]
fn a_second_writer_is_refused_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, origin) = (dir.path().join("m.img"), dir.path().join("o.img"));
    File::create(&meta).unwrap().set_len(4 << 20).unwrap();
    File::create(&origin).unwrap().set_len(1 << 20).unwrap();
    let xml = dir.path().join("in.xml");
    std::fs::write(&xml, reference_dump("checkpoints").unwrap()).unwrap();

    // The metadata held by another writer (or by a reader): emulate and restore refuse.
    for exclusive in [true, false] {
        let holder = locked(&meta, exclusive);
        let (code, err) = emulate(&meta, &origin);
        assert_refused(code, &err, "era_emulate");
        let (code, err) = restore(&xml, &meta);
        assert_refused(code, &err, "era_restore");
        release(holder);
    }
    // The origin held: emulate refuses before it formats the metadata.
    let holder = locked(&origin, true);
    let (code, err) = emulate(&meta, &origin);
    assert_refused(code, &err, "era_emulate (origin)");
    release(holder);
    assert!(std::fs::read(&meta).unwrap().iter().all(|&b| b == 0));
    assert!(std::fs::read(&origin).unwrap().iter().all(|&b| b == 0));

    // Free again: both work.
    assert_eq!(emulate(&meta, &origin), (0, String::new()));
    let (code, err) = restore(&xml, &meta);
    assert_eq!(code, 0, "{err}");
}

//! A tool killed while it writes `-o FILE` (SIGINT, SIGTERM, SIGHUP, or SIGKILL, which
//! no handler sees) leaves the output's directory as it was: no staging file beside the
//! output, an existing output unchanged, and the process dead of the signal.
//!
//! The signal is sent once the tool has its staging file open (seen in
//! `/proc/PID/fd`), on an input large enough that the write takes a while, or one that
//! comes through a FIFO and stops half-way.

use super::support::*;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;

/// A large image, made once: it takes seconds to dump.
fn big_image() -> &'static Path {
    static IMAGE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, image) = IMAGE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("big.img");
        let o = tool("era_generate")
            .args(["--nr-blocks", "4000000", "--block-size", "8"])
            .args(["--current-era", "40", "--nr-writesets", "4", "--seed", "7"])
            .arg("-o")
            .arg(&image)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (dir, image)
    });
    image
}

/// The names in `dir` with their contents, sorted.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Waits until `child` has `count` files open in `dir` (its staging file, named or not,
/// and the output it writes in place).
fn wait_for_open_files(child: &mut Child, dir: &Path, count: usize, what: &str) {
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let start = Instant::now();
    loop {
        let open_in_dir = std::fs::read_dir(&fds)
            .into_iter()
            .flatten()
            .filter(|e| {
                e.as_ref()
                    .ok()
                    .and_then(|e| std::fs::read_link(e.path()).ok())
                    .is_some_and(|target| target.starts_with(dir))
            })
            .count();
        if open_in_dir >= count {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what}: finished ({status}) before it opened its output");
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{what}: never opened its output"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn signal(child: &Child, sig: i32) {
    let sent = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Starts `tool args…` (its output in `dir`), signals it once it has `open` files open
/// in `dir`, and checks that it died of the signal and left `dir` as it was. `feed`
/// runs between the start and the wait.
fn assert_interrupted_cleanly(
    tool_name: &str,
    args: &[&std::ffi::OsStr],
    dir: &Path,
    open: usize,
    sig: i32,
    feed: impl FnOnce(),
) {
    let before = snapshot(dir);
    let what = format!("{tool_name} killed by signal {sig}");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin(tool_name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    feed();
    wait_for_open_files(&mut child, dir, open, &what);
    signal(&child, sig);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(sig), "{what}: {status}");
    assert!(snapshot(dir) == before, "{what}: {:?}", names(dir));
}

fn names(dir: &Path) -> Vec<String> {
    snapshot(dir).into_iter().map(|(n, _)| n).collect()
}

#[test]
fn an_interrupted_dump_leaves_nothing_beside_its_output() {
    for sig in [SIGINT, SIGTERM, SIGHUP, SIGKILL] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.xml");
        let args = ["-o".as_ref(), out.as_os_str(), big_image().as_os_str()];
        assert_interrupted_cleanly("era_dump", &args, dir.path(), 1, sig, || ());
        // An existing output is left as it was.
        std::fs::write(&out, b"previous").unwrap();
        assert_interrupted_cleanly("era_dump", &args, dir.path(), 1, sig, || ());
    }
}

#[test]
fn an_interrupted_invalidate_leaves_nothing_beside_its_output() {
    for sig in [SIGINT, SIGTERM, SIGKILL] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.xml");
        let args = [
            "--written-since".as_ref(),
            "38".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--unit".as_ref(),
            "bytes".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
            big_image().as_os_str(),
        ];
        assert_interrupted_cleanly("era_invalidate", &args, dir.path(), 1, sig, || ());
    }
}

/// The XML comes through a FIFO that the test stops feeding half-way, so the restore
/// is still reading it (its staging file open) when the signal comes.
#[test]
fn an_interrupted_restore_leaves_its_output_as_it_was() {
    let xml = crate::common::reference_dump("checkpoints").unwrap();
    for sig in [SIGINT, SIGTERM, SIGKILL] {
        let fifo_dir = tempfile::tempdir().unwrap();
        let fifo = fifo_dir.path().join("in.xml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("meta.img");
        std::fs::write(&out, vec![7u8; 4 << 20]).unwrap();
        let args = [
            "-q".as_ref(),
            "-i".as_ref(),
            fifo.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ];
        let mut writer = None;
        // The output and the staging file open.
        assert_interrupted_cleanly("era_restore", &args, dir.path(), 2, sig, || {
            let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            w.write_all(&xml[..xml.len() / 2]).unwrap();
            writer = Some(w);
        });
    }
}

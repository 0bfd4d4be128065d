//! The `era_emulate run` command line: exit codes (0 ok, 1 runtime errors with their
//! line numbers, 2 bad syntax before anything changes), script from a file or stdin, and
//! the metadata it leaves on real files.

use crate::common;

use assert_cmd::Command;
use common::recount::assert_space_map_exact;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::MemIo;
use era_tools::units::Era;
use std::path::Path;

fn images(dir: &Path, meta_bytes: u64, origin_bytes: u64) -> (String, String) {
    let meta = dir.join("meta.img");
    let origin = dir.join("origin.img");
    std::fs::File::create(&meta)
        .unwrap()
        .set_len(meta_bytes)
        .unwrap();
    std::fs::File::create(&origin)
        .unwrap()
        .set_len(origin_bytes)
        .unwrap();
    (
        meta.to_string_lossy().into_owned(),
        origin.to_string_lossy().into_owned(),
    )
}

fn emulate(meta: &str, origin: &str, extra: &[&str]) -> Command {
    let mut c = Command::cargo_bin("era_emulate").unwrap();
    c.args([
        "run",
        "--meta",
        meta,
        "--origin",
        origin,
        "--block-size",
        "8",
    ]);
    c.args(extra);
    c
}

#[test]
fn runs_a_script_from_stdin_and_leaves_kernel_style_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, origin) = images(dir.path(), 4 << 20, 64 << 10);
    let out = emulate(&meta, &origin, &[])
        .write_stdin(
            "write 8 8 # block 1\nwrite 16 8\nstatus\ncheckpoint\nstatus\nread 8 8\ntable\n",
        )
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let want_read = format!("read 8 8 crc32c={:08x}", crc32c::crc32c(&[0xffu8; 4096]));
    assert_eq!(
        lines,
        vec![
            "0 128 era 8 9/1024 1 -",
            "0 128 era 8 11/1024 2 -",
            want_read.as_str(),
            &format!("0 128 era {meta} {origin} 8"),
        ]
    );
    let img = MemIo::from_bytes(std::fs::read(&meta).unwrap());
    assert_space_map_exact(&img, "cli");
    let view = open_view(&img, Source::Live).unwrap();
    let md = read_metadata(&img, &view).unwrap();
    assert_eq!(md.superblock.current_era, Era::new(2));
    let folded = md.folded_eras();
    assert_eq!(&folded[..4], &[0, 1, 1, 0]);
    // The data reached the origin at the same offset.
    let data = std::fs::read(&origin).unwrap();
    assert!(data[4096..3 * 4096].iter().all(|&b| b == 0xff));
    assert!(data[..4096].iter().all(|&b| b == 0));
}

#[test]
fn runtime_errors_exit_1_with_line_numbers_and_later_commands_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, origin) = images(dir.path(), 4 << 20, 64 << 10);
    let script = dir.path().join("s.txt");
    std::fs::write(
        &script,
        "drop_metadata_snap\n\nwrite 120 16\nmessage bogus\ntake_metadata_snap\ntake_metadata_snap\nsuspend\nstatus\nresume\nstatus\n",
    )
    .unwrap();
    let out = emulate(&meta, &origin, &[script.to_str().unwrap()])
        .assert()
        .code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    for line in ["line 1:", "line 3:", "line 4:", "line 6:", "line 8:"] {
        assert!(stderr.contains(line), "{line} missing in {stderr}");
    }
    assert!(stderr.contains("no snap to drop"), "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(stderr.contains("suspended"), "{stderr}");
    assert!(!stderr.contains("line 10:"), "{stderr}");
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "only the last status prints: {stdout}"
    );
    let f: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(&f[..4], &["0", "128", "era", "8"], "{stdout}");
    assert_eq!(f[5], "3", "one take and one resume: {stdout}");
    assert_ne!(f[6], "-", "the snapshot is held: {stdout}");
}

#[test]
fn bad_syntax_exits_2_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, origin) = images(dir.path(), 4 << 20, 64 << 10);
    let out = emulate(&meta, &origin, &["-"])
        .write_stdin("write 0 8\nfrobnicate\n")
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(std::fs::read(&meta).unwrap().iter().all(|&b| b == 0));
    emulate(&meta, &origin, &[])
        .arg("--length")
        .arg("x")
        .write_stdin("")
        .assert()
        .code(2);
}

#[test]
fn a_crash_leaves_a_live_writeset_that_the_next_run_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, origin) = images(dir.path(), 4 << 20, 64 << 10);
    emulate(&meta, &origin, &["--unsafe-no-sync"])
        .write_stdin("write 0 8\ncrash\n")
        .assert()
        .success();
    let img = MemIo::from_bytes(std::fs::read(&meta).unwrap());
    let view = open_view(&img, Source::Live).unwrap();
    assert!(!view.sb.current_writeset.root.is_zero());
    emulate(&meta, &origin, &[])
        .write_stdin("status\n")
        .assert()
        .success()
        .stdout("0 128 era 8 11/1024 2 -\n");
}

#[test]
fn open_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, origin) = images(dir.path(), 4 << 20, 64 << 10);
    emulate(&meta, &origin, &[])
        .write_stdin("")
        .assert()
        .success();
    // The metadata was formatted with block size 8.
    let mut c = Command::cargo_bin("era_emulate").unwrap();
    c.args([
        "run",
        "--meta",
        &meta,
        "--origin",
        &origin,
        "--block-size",
        "16",
    ]);
    let out = c.write_stdin("status\n").assert().code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("changing the data block size"), "{stderr}");
    // A metadata device too small for the era array is refused before it is formatted,
    // with the size it needs.
    let (meta, origin) = images(dir.path(), 6 * 4096, 16 << 20);
    let out = emulate(&meta, &origin, &[])
        .write_stdin("")
        .assert()
        .code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    let needed = era_tools::era::sizing::MetadataSize::for_blocks(4096).bytes();
    assert!(
        stderr.contains("too small") && stderr.contains(&format!("needs at least {needed} bytes")),
        "{stderr}"
    );
    assert!(std::fs::read(&meta).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn metadata_errors_at_open_name_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, origin) = images(dir.path(), 4 << 20, 64 << 10);
    // Not zeroes (which the constructor formats) but garbage: no superblock.
    std::fs::write(&meta, vec![0xa5u8; 4 << 20]).unwrap();
    let socket = dir.path().join("s.sock");
    let mut serve = Command::cargo_bin("era_emulate").unwrap();
    serve.args([
        "serve",
        "--meta",
        &meta,
        "--origin",
        &origin,
        "--block-size",
        "8",
    ]);
    serve.arg("--socket").arg(&socket);
    for mut cmd in [emulate(&meta, &origin, &[]), serve] {
        let out = cmd
            .write_stdin("")
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(1);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(
            stderr.starts_with(&format!("era_emulate: {meta}: metadata: block 0: ")),
            "{stderr}"
        );
    }
    assert!(std::fs::read(&meta).unwrap().iter().all(|&b| b == 0xa5));
}

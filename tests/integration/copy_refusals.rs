//! `era_copy` on bad input: a source of the wrong length, the source (under any name,
//! a loop device over it among them) or the metadata as the destination, a delta
//! written over the source or the metadata or applied onto itself, damaged metadata, a
//! live metadata image without --metadata-snapshot, an interrupted copy then a rerun,
//! and truncated, bit-flipped and wrong-version deltas. Each one is a clear message and exit 1, and nothing is lost.

use crate::common::loop_device::LoopDevice;
use crate::copy_support::*;
use crate::serve_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const ORIGIN: u64 = 32 << 20;

/// Metadata with writes in eras 1 and 2 (through `era_emulate run`) over an origin of
/// random bytes.
fn prepared() -> Images {
    let img = Images::new(ORIGIN);
    let mut rng = fastrand::Rng::with_seed(5);
    let data: Vec<u8> = (0..ORIGIN).map(|_| rng.u8(..)).collect();
    std::fs::write(&img.origin, data).unwrap();
    let script =
        "write 0 8\nwrite 4096 64\ncheckpoint\nwrite 64 16 7\nwrite 20000 800\nwrite 65000 536\n";
    let script_path = img.path("script");
    std::fs::write(&script_path, script).unwrap();
    ok(era_emulate()
        .args(["run", "--meta"])
        .arg(&img.meta)
        .arg("--origin")
        .arg(&img.origin)
        .args(["--block-size", "8"])
        .arg(&script_path));
    img
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn copy_args<'a>(img: &'a Images, since: &'a str, source: &'a Path) -> Vec<&'a str> {
    vec![
        "--metadata",
        s(&img.meta),
        "--written-since",
        since,
        "--source",
        s(source),
    ]
}

#[test]
fn a_source_of_another_length_is_refused_unless_length_says_so() {
    let img = prepared();
    let longer = img.path("longer.img");
    std::fs::copy(&img.origin, &longer).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&longer)
        .unwrap()
        .set_len(ORIGIN + (1 << 20))
        .unwrap();
    let dest = img.path("backup.img");
    let mut args = copy_args(&img, "0", &longer);
    args.extend(["--dest", s(&dest)]);
    let (code, err) = code_err(&era_copy(&args));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("longer.img") && err.contains("metadata tracks 8192 blocks"),
        "{err}"
    );
    assert!(!dest.exists(), "a refused copy created its destination");
    let len = (ORIGIN / 512).to_string();
    args.extend(["--length", &len]);
    let o = era_copy(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same(&img.origin, &dest, "backup with --length");
}

#[test]
fn the_source_as_destination_is_refused() {
    let img = prepared();
    let before = digest(&img.origin);
    let (link, hard) = (img.path("link.img"), img.path("hard.img"));
    std::os::unix::fs::symlink(&img.origin, &link).unwrap();
    std::fs::hard_link(&img.origin, &hard).unwrap();
    for dest in [&img.origin, &link, &hard] {
        let mut args = copy_args(&img, "0", &img.origin);
        args.extend(["--dest", s(dest)]);
        let (code, err) = code_err(&era_copy(&args));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("the destination is the source"), "{err}");
    }
    assert_eq!(digest(&img.origin), before);
}

#[test]
fn a_loop_device_and_its_backing_file_are_one_image() {
    let img = prepared();
    let before = digest(&img.origin);
    let Some(dev) = LoopDevice::attach(&img.origin) else {
        return;
    };
    // Each way round: the file read and its device written, the device read and its
    // file written.
    let pairs: [(&Path, &Path); 2] = [(&img.origin, dev.path()), (dev.path(), &img.origin)];
    for (source, dest) in pairs {
        let mut args = copy_args(&img, "0", source);
        args.extend(["--dest", s(dest)]);
        let (code, err) = code_err(&era_copy(&args));
        assert_eq!(code, 1, "{} over {}: {err}", s(source), s(dest));
        assert!(
            err.contains(&format!(
                "{}: the destination is the source {} (a loop device and its backing file)",
                s(dest),
                s(source)
            )),
            "{err}"
        );
    }
    drop(dev);
    assert_eq!(digest(&img.origin), before);
}

#[test]
fn the_metadata_as_destination_is_refused() {
    let img = prepared();
    let meta = digest(&img.meta);
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend(["--dest", s(&img.meta)]);
    let (code, err) = code_err(&era_copy(&args));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "{}: the destination is the metadata {} (the same device or file)",
            s(&img.meta),
            s(&img.meta)
        )),
        "{err}"
    );
    assert_eq!(digest(&img.meta), meta, "the metadata was written");
}

#[test]
fn a_delta_over_the_source_or_the_metadata_is_refused() {
    let img = prepared();
    let (origin, meta) = (digest(&img.origin), digest(&img.meta));
    let link = img.path("meta-link.img");
    std::os::unix::fs::symlink(&img.meta, &link).unwrap();
    for (dest, role, other) in [
        (&img.origin, "source", &img.origin),
        (&img.meta, "metadata", &img.meta),
        (&link, "metadata", &img.meta),
    ] {
        let mut args = copy_args(&img, "0", &img.origin);
        args.extend(["--dest-delta", s(dest)]);
        let (code, err) = code_err(&era_copy(&args));
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(&format!(
                "{}: the destination is the {role} {}",
                s(dest),
                s(other)
            )),
            "{err}"
        );
        assert_eq!(digest(&img.origin), origin, "the source was written");
        assert_eq!(digest(&img.meta), meta, "the metadata was written");
    }
}

#[test]
fn standard_streams_open_on_what_is_read_or_written_are_refused() {
    let img = prepared();
    let origin = digest(&img.origin);
    // The delta to standard output, appended to the source.
    let append = std::fs::OpenOptions::new()
        .append(true)
        .open(&img.origin)
        .unwrap();
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend(["--dest-delta", "-"]);
    let o = Command::new(env!("CARGO_BIN_EXE_era_copy"))
        .args(&args)
        .stdout(append)
        .output()
        .unwrap();
    let (code, err) = code_err(&o);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "standard output, the destination, is the source {}",
            s(&img.origin)
        )),
        "{err}"
    );
    assert_eq!(digest(&img.origin), origin, "the source was written");

    // A delta on standard input applied onto its own file.
    let delta = img.path("stdin.delta");
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend(["--dest-delta", s(&delta), "--report", "json"]);
    copy_ok(&args);
    let before = digest(&delta);
    let o = Command::new(env!("CARGO_BIN_EXE_era_copy"))
        .args(["--apply", "-", "--dest", s(&delta)])
        .stdin(std::fs::File::open(&delta).unwrap())
        .output()
        .unwrap();
    let (code, err) = code_err(&o);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "{}: the destination is the delta on standard input",
            s(&delta)
        )),
        "{err}"
    );
    assert_eq!(digest(&delta), before, "the delta was written");
}

#[test]
fn a_delta_applied_onto_itself_is_refused() {
    let img = prepared();
    let delta = img.path("self.delta");
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend(["--dest-delta", s(&delta), "--report", "json"]);
    copy_ok(&args);
    let before = digest(&delta);
    let (code, err) = code_err(&era_copy(&["--apply", s(&delta), "--dest", s(&delta)]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "{}: the destination is the delta {} (the same device or file)",
            s(&delta),
            s(&delta)
        )),
        "{err}"
    );
    assert_eq!(digest(&delta), before, "the delta was written");
}

#[test]
fn a_destination_smaller_than_the_source_is_extended_if_a_file_refused_if_a_device() {
    let img = prepared();
    // A file is extended to the source's length, and the copy completes.
    let short = img.path("short.img");
    std::fs::write(&short, vec![0u8; 1 << 20]).unwrap();
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend(["--dest", s(&short), "--report", "json"]);
    copy_ok(&args);
    assert_same(&img.origin, &short, "the extended file destination");

    // A device cannot be: copy mode and --apply both refuse it, writing nothing.
    let backing = img.path("small-device.img");
    let pattern = vec![0x5au8; (ORIGIN / 2) as usize];
    std::fs::write(&backing, &pattern).unwrap();
    let Some(dev) = LoopDevice::attach(&backing) else {
        return;
    };
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend(["--dest", s(dev.path())]);
    let (code, err) = code_err(&era_copy(&args));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("smaller than the source's"),
        "copy mode: {err}"
    );
    let delta = img.path("full.delta");
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend(["--dest-delta", s(&delta), "--report", "json"]);
    copy_ok(&args);
    let (code, err) = code_err(&era_copy(&["--apply", s(&delta), "--dest", s(dev.path())]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("smaller than the source's"), "apply: {err}");
    drop(dev);
    assert!(digest(&backing) == pattern, "the device was written");
}

fn digest(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn damaged_metadata_is_refused_with_a_pointer_to_era_repair() {
    let img = prepared();
    let meta = std::fs::read(&img.meta).unwrap();
    // Damage, one at a time, each used block after the superblock until era_check
    // rejects the metadata.
    let damaged = img.path("damaged.img");
    let found = (1..meta.len() / 4096).find(|&b| {
        let block = &meta[b * 4096..(b + 1) * 4096];
        if block.iter().all(|&x| x == 0) {
            return false;
        }
        let mut m = meta.clone();
        m[b * 4096 + 100] ^= 0xff;
        std::fs::write(&damaged, &m).unwrap();
        !Command::new(env!("CARGO_BIN_EXE_era_check"))
            .arg(&damaged)
            .output()
            .unwrap()
            .status
            .success()
    });
    assert!(found.is_some(), "no damage era_check rejects");
    let dest = img.path("backup.img");
    let o = era_copy(&[
        "--metadata",
        s(&damaged),
        "--written-since",
        "0",
        "--source",
        s(&img.origin),
        "--dest",
        s(&dest),
    ]);
    let (code, err) = code_err(&o);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("era_repair") && err.contains("damaged.img"),
        "{err}"
    );
    assert!(!dest.exists());
}

#[test]
fn live_metadata_needs_the_snapshot() {
    let img = Images::new(4 << 20);
    let server = Server::start(&img, &[]);
    let dest = img.path("backup.img");
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend(["--dest", s(&dest)]);
    let (code, err) = code_err(&era_copy(&args));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("in use by another process"), "{err}");
    // With the snapshot (taken) it runs.
    assert!(server.message("take_metadata_snap").status.success());
    args.push("--metadata-snapshot");
    let o = era_copy(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    server.stop();
}

#[test]
fn an_interrupted_copy_is_completed_by_a_rerun() {
    let img = prepared();
    let dest = img.path("backup.img");
    let state = img.path("backup.state");
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend([
        "--dest",
        s(&dest),
        "--state",
        s(&state),
        "--buffer-size",
        "64K",
    ]);
    let child = Command::new(env!("CARGO_BIN_EXE_era_copy"))
        .args(&args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let out = child.wait_with_output().unwrap();
    let (code, err) = code_err(&out);
    if code != 0 {
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("interrupted") && err.contains("again"),
            "{err}"
        );
        assert!(
            !state.exists(),
            "the state advanced after an interrupted copy"
        );
    }
    let o = era_copy(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same(&img.origin, &dest, "backup after the rerun");
    assert!(state.exists());
}

/// A delta of eras 2.. (several extents) and a backup holding era 1's state.
fn delta_and_base(img: &Images) -> (PathBuf, PathBuf, Vec<u8>) {
    let base = img.path("base.img");
    let mut args = copy_args(img, "0", &img.origin);
    args.extend(["--dest", s(&base)]);
    assert!(era_copy(&args).status.success());
    // The base as it was before era 2: the origin with era 2's blocks zeroed.
    let mut older = std::fs::read(&base).unwrap();
    for b in written_since(&img.meta, 2, &[]) {
        let at = (b * 4096) as usize;
        older[at..at + 4096].fill(0);
    }
    std::fs::write(&base, &older).unwrap();
    let delta = img.path("delta");
    let mut args = copy_args(img, "2", &img.origin);
    args.extend(["--dest-delta", s(&delta)]);
    assert!(era_copy(&args).status.success());
    (delta, base, older)
}

fn apply(delta: &Path, dest: &Path) -> (i32, String) {
    code_err(&era_copy(&["--apply", s(delta), "--dest", s(dest)]))
}

#[test]
fn a_truncated_delta_stops_at_the_extent_it_names() {
    let img = prepared();
    let (delta, base, older) = delta_and_base(&img);
    let bytes = std::fs::read(&delta).unwrap();
    // Cut inside the last extent's data (the trailer is the last 32 bytes).
    let cut = img.path("cut");
    std::fs::write(&cut, &bytes[..bytes.len() - 32 - 100]).unwrap();
    let (code, err) = apply(&cut, &base);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("truncated") && err.contains("inside extent"),
        "{err}"
    );
    // Every extent before it is applied, the cut one is not: its last block (at the
    // origin's last written range) is as before.
    let now = std::fs::read(&base).unwrap();
    let last_block = *written_since(&img.meta, 2, &[]).last().unwrap() as usize;
    let r = last_block * 4096..last_block * 4096 + 4096;
    assert_eq!(now[r.clone()], older[r], "the cut extent was written");
    // The whole delta completes it.
    let (code, err) = apply(&delta, &base);
    assert_eq!(code, 0, "{err}");
    assert_same(&img.origin, &base, "after the whole delta");
}

#[test]
fn a_bit_flipped_delta_is_refused_naming_the_extent() {
    let img = prepared();
    let (delta, base, older) = delta_and_base(&img);
    let mut bytes = std::fs::read(&delta).unwrap();
    // The first extent's data starts after the 48-byte header and a 32-byte head.
    bytes[48 + 32 + 10] ^= 0x04;
    let bad = img.path("flipped");
    std::fs::write(&bad, &bytes).unwrap();
    let (code, err) = apply(&bad, &base);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("extent 0 (bytes 32768..40960)") && err.contains("checksum"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&base).unwrap(),
        older,
        "a damaged delta wrote"
    );
}

#[test]
fn a_delta_of_another_version_is_refused() {
    let img = prepared();
    let (delta, base, older) = delta_and_base(&img);
    let mut bytes = std::fs::read(&delta).unwrap();
    bytes[8] = 9;
    let crc = crc32c::crc32c(&bytes[..44]);
    bytes[44..48].copy_from_slice(&crc.to_le_bytes());
    let bad = img.path("v9");
    std::fs::write(&bad, &bytes).unwrap();
    let (code, err) = apply(&bad, &base);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("version 9 is not supported"), "{err}");
    std::fs::write(&bad, b"not a delta at all, but long enough for a header!!").unwrap();
    let (code, err) = apply(&bad, &base);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not an era delta stream"), "{err}");
    assert_eq!(std::fs::read(&base).unwrap(), older);
}

#[test]
fn a_delta_through_a_pipe_equals_the_copy() {
    let img = prepared();
    let (_, base, _) = delta_and_base(&img);
    let mut args = copy_args(&img, "2", &img.origin);
    args.extend(["--dest-delta", "-"]);
    let mut producer = Command::new(env!("CARGO_BIN_EXE_era_copy"))
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_era_copy"))
        .args(["--apply", "-", "--dest", s(&base)])
        .stdin(producer.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(producer.wait().unwrap().success());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same(&img.origin, &base, "after the piped delta");
}

/// The copy made slow for sure: a delta to a pipe the test reads only part of before
/// it sends SIGINT, then drains. The run stops at the next piece with exit 1; its
/// state is not advanced; the same command run again completes.
#[test]
fn an_interrupted_delta_stops_cleanly_and_a_rerun_completes() {
    use std::io::Read;
    let img = prepared();
    let state = img.path("delta.state");
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend([
        "--dest-delta",
        "-",
        "--state",
        s(&state),
        "--buffer-size",
        "64K",
    ]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_era_copy"))
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = vec![0u8; 1 << 20];
    stdout.read_exact(&mut first).unwrap();
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    let (code, err) = code_err(&out);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("interrupted") && err.contains("again"),
        "{err}"
    );
    assert!(
        (first.len() + rest.len()) < ORIGIN as usize,
        "the whole stream was written"
    );
    assert!(
        !state.exists(),
        "the state advanced after an interrupted run"
    );
    let delta = img.path("delta");
    let mut args = copy_args(&img, "0", &img.origin);
    args.extend(["--dest-delta", s(&delta), "--state", s(&state)]);
    assert!(era_copy(&args).status.success());
    let dest = img.path("backup.img");
    let (code, err) = apply(&delta, &dest);
    assert_eq!(code, 0, "{err}");
    assert_same(&img.origin, &dest, "after the rerun's delta");
}

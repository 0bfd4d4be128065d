//! Helpers of the `era_copy` tests: running it, reading its JSON report, comparing
//! images, and one round of writes through qemu-io.
#![allow(dead_code)]

use crate::serve_support::{qemu_io, Images};
use std::path::Path;
use std::process::{Command, Output};

/// `era_copy ARGS`.
pub fn era_copy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_era_copy"))
        .args(args)
        .output()
        .unwrap()
}

/// `era_copy ARGS`, which must succeed; returns its `--report json` (ARGS must ask for
/// it).
pub fn copy_ok(args: &[&str]) -> serde_json::Value {
    let o = era_copy(args);
    assert!(
        o.status.success(),
        "era_copy {args:?}: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The exit code and stderr of a run.
pub fn code_err(o: &Output) -> (i32, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Asserts that two files hold the same bytes, naming the first 4 KiB block that
/// differs.
pub fn assert_same(a: &Path, b: &Path, what: &str) {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert_eq!(x.len(), y.len(), "{what}: lengths differ");
    if let Some(i) = x.iter().zip(&y).position(|(p, q)| p != q) {
        panic!("{what}: block {} differs (byte {i})", i / 4096);
    }
}

/// Random writes of whole sectors within `origin` bytes, `n` of them, by qemu-io
/// with `pattern`; returns how many were made.
pub fn random_writes(img: &Images, rng: &mut fastrand::Rng, origin: u64, n: usize, pattern: u8) {
    let mut cmds: Vec<String> = (0..n)
        .map(|_| {
            let len = rng.u64(1..=40) * 512;
            let off = rng.u64(0..(origin - len) / 512) * 512;
            format!("aio_write -P {pattern} {off} {len}")
        })
        .collect();
    cmds.push("aio_flush".into());
    let out = qemu_io(img, &cmds);
    assert_eq!(out.matches("wrote ").count(), n, "{out}");
}

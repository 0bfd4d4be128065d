//! The metadata size `era_metadata_size` computes (crates/era/src/sizing.rs) is checked against
//! the emulated target: at several geometries, a workload that makes every era array
//! block and every writeset block change in every era, with a metadata snapshot held and
//! a digest in flight, runs without a metadata failure on a device of the computed size,
//! and the computed size is not far above the smallest device on which it runs.

use crate::common;

use common::null_origin::NullOrigin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::parse_script;
use era_tools::era::sizing::MetadataSize;
use era_tools::io::MemIo;
use std::sync::Arc;

/// The worst workload: in each of three eras, a write into every era array block (and so
/// into every writeset array block), then a checkpoint whose digest copies the whole era
/// array, with a metadata snapshot held throughout.
fn workload(nr_blocks: u64, block_size: u64) -> String {
    let mut s = String::from("take_metadata_snap\n");
    for era in 0..3 {
        for b in (era..nr_blocks).step_by(1018) {
            s.push_str(&format!("write {} 1\n", b * block_size));
        }
        s.push_str("checkpoint\nstatus\n");
    }
    s.push_str("drop_metadata_snap\ncheckpoint\nstatus\n");
    s
}

/// Whether the workload runs on `meta_blocks` of metadata without a metadata failure.
fn fits(nr_blocks: u64, block_size: u32, meta_blocks: u64) -> bool {
    let origin = nr_blocks * u64::from(block_size) * 512;
    let mut runner = Runner::new(RunConfig {
        meta: Arc::new(MemIo::new(meta_blocks)),
        origin: Arc::new(NullOrigin(origin)),
        block_size,
        length: None,
        sync: false,
        meta_name: "m".into(),
        origin_name: "o".into(),
    });
    if runner.open(None).is_err() {
        return false;
    }
    let mut out = Vec::new();
    for l in parse_script(&workload(nr_blocks, u64::from(block_size))).unwrap() {
        if runner.execute(&l.command, &mut out).is_err() {
            return false;
        }
    }
    let log = &runner.target().unwrap().log;
    !log.iter()
        .any(|l| l.contains("failed") || l.contains("full"))
}

#[test]
fn the_computed_size_suffices_and_is_not_wildly_over() {
    for (nr_blocks, block_size) in [(5_000, 8), (300_000, 128), (1_500_000, 8)] {
        let needed = MetadataSize::for_blocks(nr_blocks).blocks;
        assert!(
            fits(nr_blocks, block_size, needed),
            "{nr_blocks} blocks: the computed {needed} metadata blocks do not suffice"
        );
        // The smallest device on which the workload runs.
        let (mut lo, mut hi) = (8, needed);
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if fits(nr_blocks, block_size, mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        eprintln!("{nr_blocks} blocks: computed {needed}, smallest that works {hi}");
        assert!(
            needed <= hi * 11 / 10 + 8,
            "{nr_blocks} blocks: computed {needed}, but {hi} suffice"
        );
    }
}

/// The reproduction: a 4 MiB metadata file for a 1 TiB origin (64 KiB blocks). `run` and
/// `serve` refuse it before writing anything, naming the size to use, so that the same
/// file, grown to that size, then works.
#[test]
fn a_too_small_metadata_file_is_refused_untouched_with_the_size_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("meta.img");
    let origin = dir.path().join("origin.img");
    std::fs::File::create(&meta)
        .unwrap()
        .set_len(4 << 20)
        .unwrap();
    std::fs::File::create(&origin)
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let needed = MetadataSize::for_origin(1 << 40, 128).bytes();
    let table = |sub: &str| {
        let mut c = assert_cmd::Command::cargo_bin("era_emulate").unwrap();
        c.arg(sub)
            .arg("--meta")
            .arg(&meta)
            .arg("--origin")
            .arg(&origin);
        c.args(["--block-size", "128"]);
        if sub == "serve" {
            c.arg("--socket").arg(dir.path().join("s.sock"));
        } else {
            c.write_stdin("status\n");
        }
        c
    };
    for mut cmd in [table("run"), table("serve")] {
        let out = cmd
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.starts_with("era_emulate: ")
                && stderr.contains("too small")
                && stderr.contains(&needed.to_string())
                && stderr.contains("nothing was written"),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        let bytes = std::fs::read(&meta).unwrap();
        assert!(bytes.iter().all(|&b| b == 0), "the metadata was written");
    }
    // Grown to the size named, the same file works.
    std::fs::File::options()
        .write(true)
        .open(&meta)
        .unwrap()
        .set_len(needed)
        .unwrap();
    let out = table("run").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let status = String::from_utf8(out.stdout).unwrap();
    assert!(status.contains(&format!("/{} ", needed / 4096)), "{status}");
}

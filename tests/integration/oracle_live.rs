//! Our tools inside the oracle's VM, against a LIVE dm-era target of the real kernel:
//! reads through the metadata snapshot, over many snapshot cycles, must answer from what
//! the kernel just wrote, never from pages cached by an earlier read (the workloads in
//! testdata/live/ fail on a stale answer).
//!
//! Needs the oracle harness (`oracle/`, or the directory `$ERA_ORACLE` names) and qemu,
//! which its `setup.sh` installs (`.ci/run` runs it). Where either is missing the test
//! says so on stdout and checks nothing; under CI it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The oracle harness: `$ERA_ORACLE`, else the repository's `oracle/`.
fn oracle_dir() -> PathBuf {
    std::env::var_os("ERA_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("oracle"))
}

/// Whether the oracle can run here; under CI it must (see [`crate::common::skip`]).
fn oracle_available() -> bool {
    let run_sh = oracle_dir().join("run.sh");
    let qemu = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    crate::common::skip::require(if run_sh.is_file() && qemu {
        Ok(())
    } else {
        Err(format!(
            "oracle not available ({} present: {}, qemu-system-x86_64 runs: {qemu})",
            run_sh.display(),
            run_sh.is_file()
        ))
    })
}

/// Our tools without their debug information (the guest's initramfs stays small).
fn guest_bins(dir: &Path) -> String {
    let mut paths = Vec::new();
    for (name, built) in [
        ("era_invalidate", env!("CARGO_BIN_EXE_era_invalidate")),
        ("era_dump", env!("CARGO_BIN_EXE_era_dump")),
        ("era_check", env!("CARGO_BIN_EXE_era_check")),
        ("era_copy", env!("CARGO_BIN_EXE_era_copy")),
    ] {
        let dest = dir.join(name);
        let stripped = Command::new("objcopy")
            .arg("--strip-debug")
            .arg(built)
            .arg(&dest)
            .status()
            .is_ok_and(|s| s.success());
        if !stripped {
            std::fs::copy(built, &dest).unwrap();
        }
        paths.push(dest.to_string_lossy().into_owned());
    }
    paths.join(" ")
}

/// Runs `testdata/live/WORKLOAD` in the VM with our tools; its workload log, after
/// asserting that the run succeeded.
fn run_live(tmp: &Path, bins: &str, workload: &str) -> String {
    let live = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/live");
    let out = tmp.join(workload);
    let run = Command::new(oracle_dir().join("run.sh"))
        .arg(live.join(workload))
        .arg(&out)
        .env("GUEST_BINS", bins)
        .output()
        .unwrap();
    let log = std::fs::read_to_string(out.join("workload.log")).unwrap_or_default();
    assert!(
        run.status.success(),
        "{workload} failed in the kernel VM:\n{}\n{log}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(log.contains("@@RC 0"), "{log}");
    log
}

#[test]
fn live_snapshot_reads_are_never_stale() {
    if !oracle_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bins = guest_bins(tmp.path());
    for workload in ["snapshot_reads.sh", "snapshot_cycles.sh"] {
        let log = run_live(tmp.path(), &bins, workload);
        // The workload really read through the tools (not skipped).
        assert!(log.contains("@@READ"), "{workload}: no read in\n{log}");
    }
}

/// `era_copy` against the real kernel's live target: six increments (full, then five
/// with writes, checkpoint, take_metadata_snap, suspend, copy, resume, drop), the backup
/// equal to the origin after each; a source with a dm error block stops the copy naming
/// the block, and with --keep-going is copied around it, listed, exit 1
/// (testdata/live/copy_chain.sh).
#[test]
fn era_copy_backs_up_a_live_kernel_target() {
    if !oracle_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bins = guest_bins(tmp.path());
    let log = run_live(tmp.path(), &bins, "copy_chain.sh");
    assert_eq!(log.matches("@@COPY ").count(), 6, "{log}");
    assert!(log.contains("@@KEEPGOING rc=1"), "{log}");
}

//! Tests that need something from outside the repository (a client such as qemu-io or
//! nbdinfo, root for a loop device, the kernel oracle, `make`, `script`): one place
//! decides what happens where it is missing. Under CI (env `CI` set, as `.ci/run` does)
//! nothing may skip: the test fails. Elsewhere the test returns early and says so in one
//! line on standard output, written past the harness's capture so that it shows in the
//! `cargo test` output beside the test's `ok`.

use std::io::Write;

/// Whether the test can go on: `needed` is `Ok` when what it needs is there, or the
/// reason it is not (with how to get it). On `Err`, fails under CI, else prints
/// `SKIPPED <test>: <reason>` and returns false.
pub fn require(needed: Result<(), String>) -> bool {
    let Err(why) = needed else {
        return true;
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: {why} (CI is set: nothing may be skipped)"
    );
    // `println!` would be captured and dropped with the output of a passing test.
    let _ = writeln!(std::io::stdout().lock(), "SKIPPED {test}: {why}");
    false
}

/// Whether the program `tool` is on PATH; if not, the reason names its Debian package.
pub fn on_path(tool: &str) -> Result<(), String> {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
    if found {
        return Ok(());
    }
    let package = match tool {
        t if t.starts_with("qemu-") => "qemu-utils",
        t if t.starts_with("nbd") => "libnbd-bin",
        "script" => "bsdutils",
        "losetup" => "mount",
        other => other,
    };
    Err(format!(
        "{tool} is not installed (apt-get install {package})"
    ))
}

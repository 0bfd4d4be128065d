//! A loop device over a file, for the tests that need a real block device.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A loop device over a file, detached when dropped.
pub struct LoopDevice(PathBuf);

impl LoopDevice {
    /// Attaches a loop device over `file`, or returns `None` when the test cannot have
    /// one (it is skipped visibly; under CI it fails: see [`super::skip`]). Needs root
    /// and `losetup`.
    pub fn attach(file: &Path) -> Option<LoopDevice> {
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(file)
            .output();
        let attached = match &out {
            Err(e) => Err(format!("no losetup ({e}; apt-get install mount)")),
            Ok(o) if !o.status.success() => Err(format!(
                "no loop device (needs root): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Ok(_) => Ok(()),
        };
        if !super::skip::require(attached) {
            return None;
        }
        let dev = String::from_utf8(out.unwrap().stdout).unwrap();
        Some(LoopDevice(PathBuf::from(dev.trim())))
    }

    /// The device node, `/dev/loopN`.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.0).status();
    }
}

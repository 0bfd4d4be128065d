//! Two names for one image. A regular file is known by its device and inode (hard links
//! and symbolic links lead to the same pair), a block device by its device number
//! (whatever node names it), and a loop device also by its backing file's pair: what
//! is written to the one is written to the other.
//!
//! The loop devices come from sysfs (`/sys/block/loopN/loop/backing_file`); the backing
//! file is compared by device and inode, never by its path string.

use rustix::fs::OFlags;
use rustix::io::Errno;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What an image is, whatever its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageId {
    /// Device and inode of the file, or of a loop device's backing file.
    file: Option<(u64, u64)>,
    /// The device number of a block device.
    rdev: Option<u64>,
}

impl ImageId {
    /// The image `meta` describes (followed through symbolic links).
    pub fn of(meta: &Metadata) -> ImageId {
        if meta.file_type().is_block_device() {
            ImageId {
                file: loop_backing_file(meta.rdev()),
                rdev: Some(meta.rdev()),
            }
        } else {
            ImageId {
                file: Some((meta.dev(), meta.ino())),
                rdev: None,
            }
        }
    }

    /// The image at `path`; `None` if it does not exist.
    pub fn at(path: &Path) -> io::Result<Option<ImageId>> {
        match std::fs::metadata(path) {
            Ok(m) => Ok(Some(ImageId::of(&m))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the two are one image: the same file, or the same block device, or a loop
    /// device and its backing file.
    pub fn same(&self, other: &ImageId) -> bool {
        (self.file.is_some() && self.file == other.file)
            || (self.rdev.is_some() && self.rdev == other.rdev)
    }

    /// Whether this is a block device (a loop device among them), not a regular file.
    pub fn is_device(&self) -> bool {
        self.rdev.is_some()
    }
}

/// The backing file (device, inode) of the loop device `rdev`; `None` for any other
/// device, or a loop device without a backing file, or one whose file was deleted.
fn loop_backing_file(rdev: u64) -> Option<(u64, u64)> {
    let (major, minor) = (rustix::fs::major(rdev), rustix::fs::minor(rdev));
    backing_file_id(Path::new(&format!("/sys/dev/block/{major}:{minor}")))
}

/// The (device, inode) of the file named in `sysdir/loop/backing_file`.
fn backing_file_id(sysdir: &Path) -> Option<(u64, u64)> {
    let name = std::fs::read_to_string(sysdir.join("loop/backing_file")).ok()?;
    let name = name.strip_suffix('\n').unwrap_or(&name);
    if name.ends_with(" (deleted)") {
        return None;
    }
    let m = std::fs::metadata(name).ok()?;
    Some((m.dev(), m.ino()))
}

/// The loop devices whose backing file is the regular file `meta`, as (device node,
/// sysfs directory).
fn loop_devices_backed_by(meta: &Metadata) -> Vec<(PathBuf, PathBuf)> {
    let id = Some((meta.dev(), meta.ino()));
    let Ok(entries) = std::fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    let mut found: Vec<_> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("loop"))
        .filter(|e| backing_file_id(&e.path()) == id)
        .map(|e| (Path::new("/dev").join(e.file_name()), e.path()))
        .collect();
    found.sort();
    found
}

/// Holds, exclusively, every loop device backed by the regular file `meta`, so
/// that nothing takes the image through the device while the file is written: the
/// devices are opened with `O_EXCL`, as a live target or `era_emulate serve` opens
/// them. A device that something already holds is a `ResourceBusy` error naming it. A
/// device that cannot be opened here (no node, no permission) counts as held when
/// sysfs lists a holder (a device-mapper target) and is passed over otherwise.
pub fn hold_loop_devices(meta: &Metadata) -> io::Result<Vec<File>> {
    let mut held = Vec::new();
    for (dev, sysdir) in loop_devices_backed_by(meta) {
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(OFlags::EXCL.bits().cast_signed())
            .open(&dev);
        let busy = match opened {
            Ok(f) => {
                held.push(f);
                false
            }
            Err(e) if Errno::from_io_error(&e) == Some(Errno::BUSY) => true,
            Err(_) => std::fs::read_dir(sysdir.join("holders"))
                .map(|mut d| d.next().is_some())
                .unwrap_or(false),
        };
        if busy {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!(
                    "in use by another program through {}, a loop device backed by this file (held by a live era target or era_emulate serve): writing the file would write the image under it",
                    dev.display()
                ),
            ));
        }
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_one_file_and_copies_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"x").unwrap();
        let (hard, soft, copy) = (
            dir.path().join("h"),
            dir.path().join("s"),
            dir.path().join("c"),
        );
        std::fs::hard_link(&a, &hard).unwrap();
        std::os::unix::fs::symlink(&a, &soft).unwrap();
        std::fs::copy(&a, &copy).unwrap();
        let id = |p: &Path| ImageId::at(p).unwrap().unwrap();
        assert!(id(&a).same(&id(&hard)));
        assert!(id(&a).same(&id(&soft)));
        assert!(!id(&a).same(&id(&copy)));
        assert_eq!(ImageId::at(&dir.path().join("none")).unwrap(), None);
    }

    #[test]
    fn a_plain_file_backs_no_loop_device() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let meta = f.as_file().metadata().unwrap();
        assert!(hold_loop_devices(&meta).unwrap().is_empty());
    }
}

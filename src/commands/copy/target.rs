//! The source and the destination of a copy: opened, measured and told apart.
//!
//! A block device is read and written with `O_DIRECT` (the buffers are aligned), so that
//! neither side goes through, or pollutes, the page cache. The source is opened
//! read-only without a lock or `O_EXCL` (a frozen view may still be open elsewhere, and
//! an image that `era_emulate serve` holds is read while its writes are paused). The
//! destination is held exclusively: `O_EXCL` on a device, an exclusive `flock` on a file.

use super::error::CopyError;
use super::pipeline::Buffer;
use crate::commands::error::{Error, Result};
use crate::io::alias::ImageId;
use crate::io::{lock, OpenMode};
use rustix::fs::{Advice, OFlags};
use rustix::io::Errno;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::num::NonZeroU64;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The average length of the pieces of a batch from which [`Side::write_back`] writes
/// them back at once.
pub const LONG_RUN: u64 = 256 << 10;

/// What a destination must not be: something the run reads (in messages, `role`: the
/// source, the metadata, the delta), at `path` (as given), that `id` identifies.
#[derive(Debug, Clone, Copy)]
pub struct Guarded<'a> {
    pub role: &'static str,
    pub path: &'a Path,
    pub id: ImageId,
}

impl<'a> Guarded<'a> {
    /// What is at `path`, if it exists (a missing file is its reader's to report).
    pub fn at(role: &'static str, path: &'a Path) -> Option<Guarded<'a>> {
        let id = ImageId::at(path).ok().flatten()?;
        Some(Guarded { role, path, id })
    }
}

/// Refuses a destination (`None`: standard output) that `id` identifies if it is one of
/// `guarded` under any name: the same path, a link, another node of the same device, or
/// a loop device and its backing file. Nothing is opened or written.
pub fn refuse_guarded(dest: Option<&Path>, id: &ImageId, guarded: &[Guarded<'_>]) -> Result<()> {
    let Some(g) = guarded.iter().find(|g| g.id.same(id)) else {
        return Ok(());
    };
    let how = if g.id.is_device() == id.is_device() {
        "the same device or file"
    } else {
        "a loop device and its backing file"
    };
    Err(CopyError::SameFile {
        dest: dest.map(Path::to_path_buf),
        role: g.role,
        other: g.path.to_path_buf(),
        how,
    }
    .into())
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> Error + '_ {
    move |source| Error::InputIo {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that `m` is a regular file or a block device.
fn check_kind(path: &Path, m: &Metadata) -> Result<()> {
    let ft = m.file_type();
    if ft.is_file() || ft.is_block_device() {
        return Ok(());
    }
    let kind = if ft.is_dir() {
        "a directory"
    } else {
        "neither a regular file nor a block device"
    };
    Err(CopyError::BadKind {
        path: path.to_path_buf(),
        path_kind: kind.into(),
    }
    .into())
}

/// An open file or device with its length.
pub struct Side {
    file: File,
    pub path: PathBuf,
    pub len: u64,
    pub id: ImageId,
    direct: bool,
}

fn length(file: &File, m: &Metadata) -> io::Result<u64> {
    if m.file_type().is_block_device() {
        let mut f = file;
        f.seek(SeekFrom::End(0))
    } else {
        Ok(m.len())
    }
}

impl Side {
    /// Opens the source read-only.
    pub fn source(path: &Path) -> Result<Side> {
        let m = std::fs::metadata(path).map_err(io_err(path))?;
        check_kind(path, &m)?;
        let direct = m.file_type().is_block_device();
        let mut opts = OpenOptions::new();
        opts.read(true);
        if direct {
            opts.custom_flags(OFlags::DIRECT.bits().cast_signed());
        }
        let file = opts.open(path).map_err(io_err(path))?;
        let len = length(&file, &m).map_err(io_err(path))?;
        Ok(Side {
            file,
            path: path.to_path_buf(),
            len,
            id: ImageId::of(&m),
            direct,
        })
    }

    /// Opens (or creates) the destination for writing, held exclusively; an image file
    /// shorter than `needed` bytes is extended, a device shorter is refused, and what
    /// the run reads (`not`: the source, the metadata, the delta) is refused.
    pub fn dest(path: &Path, needed: u64, not: &[Guarded<'_>]) -> Result<Side> {
        let out_err = |source: io::Error| Error::Output {
            path: path.display().to_string(),
            source,
        };
        let existing = match std::fs::metadata(path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(out_err(e)),
        };
        if let Some(m) = &existing {
            check_kind(path, m)?;
            refuse_guarded(Some(path), &ImageId::of(m), not)?;
        }
        let device = existing
            .as_ref()
            .is_some_and(|m| m.file_type().is_block_device());
        let mut opts = OpenOptions::new();
        opts.read(true).write(true);
        if device {
            opts.custom_flags((OFlags::DIRECT | OFlags::EXCL).bits().cast_signed());
        } else {
            opts.create(true);
        }
        let file = opts.open(path).map_err(|e| {
            if device && Errno::from_io_error(&e) == Some(Errno::BUSY) {
                out_err(io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    "the device is in use by another program (mounted, or held by a target)",
                ))
            } else {
                out_err(e)
            }
        })?;
        if !device {
            lock(&file, OpenMode::WriteExclusive).map_err(out_err)?;
        }
        let m = file.metadata().map_err(out_err)?;
        let mut len = length(&file, &m).map_err(out_err)?;
        if len < needed {
            if device {
                return Err(CopyError::DestSmall {
                    path: path.to_path_buf(),
                    bytes: len,
                    needed,
                }
                .into());
            }
            file.set_len(needed).map_err(out_err)?;
            len = needed;
        }
        Ok(Side {
            file,
            path: path.to_path_buf(),
            len,
            id: ImageId::of(&m),
            direct: device,
        })
    }

    /// Whether the side is read and written with `O_DIRECT` (a block device).
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// Reads `buf.len()` bytes at `offset` (`buf` aligned when the side is direct).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    /// Writes `buf` at `offset` (`buf` aligned when the side is direct).
    pub fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.file.write_all_at(buf, offset)
    }

    /// After a batch of `pieces` pieces of `bytes` bytes in all was written in
    /// `begin..end`: where the pieces are long runs (at least [`LONG_RUN`] bytes on
    /// average), starts writing them back without waiting, so that the disk works while
    /// the copy goes on rather than all at the final sync, and asks the kernel to drop
    /// those pages once they are clean (a backup's blocks are not worth keeping in the
    /// page cache); `POSIX_FADV_DONTNEED` does both on Linux. Scattered single blocks
    /// are left to the final sync, which writes them in one sorted sweep: written back
    /// early they cost more (16 GiB origin, 10 % of its 4 KiB blocks changed, scattered:
    /// 3.7 to 3.9 s without, 6.7 to 7.3 s with; at 50 % in 1 MiB runs the delta pipe
    /// took 1.0 to 1.1 s with, 1.3 to 2.0 s without). Advice only: an error changes
    /// nothing that the final sync does not check, so it is ignored. Nothing to do on a
    /// direct side (no page cache).
    pub fn write_back(&self, begin: u64, end: u64, pieces: usize, bytes: u64) {
        let long = u64::try_from(pieces).is_ok_and(|n| n > 0 && bytes / n >= LONG_RUN);
        if self.direct || !long {
            return;
        }
        if let Some(len) = NonZeroU64::new(end.saturating_sub(begin)) {
            let _ = rustix::fs::fadvise(&self.file, begin, Some(len), Advice::DontNeed);
        }
    }

    /// Writes `data` at `offset` from any memory: through `bounce` when the side is
    /// direct.
    pub fn write_unaligned(&self, data: &[u8], offset: u64, bounce: &mut Buffer) -> io::Result<()> {
        if !self.direct {
            return self.write_at(data, offset);
        }
        let cap = bounce.all_mut().len().max(1);
        for (i, piece) in data.chunks(cap).enumerate() {
            let b = bounce.slice_mut(piece.len());
            b.copy_from_slice(piece);
            self.write_at(b, offset + (i * cap) as u64)?;
        }
        Ok(())
    }

    /// Makes the writes durable.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

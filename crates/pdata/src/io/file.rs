//! File and block-device engine: positioned reads and writes (`pread`/`pwrite`).
//!
//! Block devices are read and written with `O_DIRECT`, through aligned bounce buffers:
//! a live era target writes its metadata around the page cache, so a page cached by an
//! earlier read would otherwise be served again, stale. Regular files are read through
//! the page cache (every writer of an image file writes through it too) and are locked
//! with `flock`: exclusively by a writer, shared by a reader. A writer of a regular file
//! also holds every loop device backed by it ([`hold_loop_devices`]), so that the image
//! is not written under a target or server that holds it by the device's name.

use super::alias::hold_loop_devices;
use super::aligned::with_bounce;
use super::{check_bounds, BlockIo};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use rustix::fs::OFlags;
use rustix::io::Errno;
use std::fs::{File, Metadata, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// How a metadata device is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Read only. A block device is opened with `O_EXCL`, so that one held by a live
    /// target is refused; a regular file takes a shared lock, so that one being written
    /// by another tool is refused.
    ReadExclusive,
    /// Read only, without `O_EXCL` and without a lock: for reading the metadata snapshot
    /// of a live device, or of an image that `era_emulate` holds.
    ReadShared,
    /// Read and write. A block device is opened with `O_EXCL`; a regular file takes an
    /// exclusive lock.
    WriteExclusive,
}

/// A metadata device backed by a regular file or a block device.
#[derive(Debug)]
pub struct FileIo {
    file: File,
    nr_blocks: u64,
    /// Opened with `O_DIRECT`: every transfer goes through an aligned buffer.
    direct: bool,
    /// The loop devices backed by a regular file opened for writing, held exclusively
    /// while it is open.
    _loops: Vec<File>,
}

impl FileIo {
    /// Opens `path` in `mode`. The size is taken from the file or, for a block device,
    /// from its end offset.
    pub fn open(path: &Path, mode: OpenMode) -> io::Result<FileIo> {
        let meta = std::fs::metadata(path)?;
        let is_block_device = meta.file_type().is_block_device();
        let file = open_held(path, &meta, mode, true)?;
        let mut loops = Vec::new();
        if !is_block_device && mode == OpenMode::WriteExclusive {
            loops = hold_loop_devices(&file.metadata()?)?;
        }
        let bytes = if is_block_device {
            use std::io::Seek;
            let mut f = &file;
            f.seek(io::SeekFrom::End(0))?
        } else {
            meta.len()
        };
        Ok(FileIo {
            file,
            nr_blocks: bytes / BLOCK_SIZE as u64,
            direct: is_block_device,
            _loops: loops,
        })
    }

    /// Wraps an already-open file (read through the page cache, not locked).
    pub fn from_file(file: File) -> io::Result<FileIo> {
        let bytes = file.metadata()?.len();
        Ok(FileIo {
            file,
            nr_blocks: bytes / BLOCK_SIZE as u64,
            direct: false,
            _loops: Vec::new(),
        })
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        if !self.direct {
            return self.file.read_exact_at(buf, offset);
        }
        let mut done = 0;
        while done < buf.len() {
            let n = with_bounce(buf.len() - done, |bounce| {
                self.file.read_exact_at(bounce, offset + done as u64)?;
                buf[done..done + bounce.len()].copy_from_slice(bounce);
                Ok(bounce.len())
            })?;
            done += n;
        }
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        if !self.direct {
            return self.file.write_all_at(buf, offset);
        }
        let mut done = 0;
        while done < buf.len() {
            let n = with_bounce(buf.len() - done, |bounce| {
                bounce.copy_from_slice(&buf[done..done + bounce.len()]);
                self.file.write_all_at(bounce, offset + done as u64)?;
                Ok(bounce.len())
            })?;
            done += n;
        }
        Ok(())
    }
}

/// Opens `path` (whose metadata is `meta`) and holds it as `mode` says: a block device
/// with `O_EXCL` (none for [`OpenMode::ReadShared`]) and, when `direct`, `O_DIRECT`; a
/// regular file under the [`lock`] of `mode`. It is opened for writing only in
/// [`OpenMode::WriteExclusive`]. A device or file that another program holds is a
/// `ResourceBusy` error saying so, without the path (the caller names it).
pub fn open_held(path: &Path, meta: &Metadata, mode: OpenMode, direct: bool) -> io::Result<File> {
    let is_block_device = meta.file_type().is_block_device();
    let mut opts = OpenOptions::new();
    opts.read(true);
    if mode == OpenMode::WriteExclusive {
        opts.write(true);
    }
    if is_block_device {
        let excl = if mode == OpenMode::ReadShared {
            OFlags::empty()
        } else {
            OFlags::EXCL
        };
        let direct = if direct {
            OFlags::DIRECT
        } else {
            OFlags::empty()
        };
        opts.custom_flags((direct | excl).bits().cast_signed());
    }
    let file = opts
        .open(path)
        .map_err(|e| open_error(is_block_device, direct, e))?;
    if !is_block_device {
        lock(&file, mode)?;
    }
    Ok(file)
}

/// Explains the open errors a user can act on (without the path: the caller names it).
fn open_error(is_block_device: bool, direct: bool, e: io::Error) -> io::Error {
    match Errno::from_io_error(&e) {
        Some(Errno::BUSY) if is_block_device => io::Error::new(
            io::ErrorKind::ResourceBusy,
            "in use by another program (a live era target holds its metadata device exclusively; era_dump and era_invalidate can read a live device through --metadata-snapshot)",
        ),
        Some(Errno::INVAL) if is_block_device && direct => io::Error::new(
            io::ErrorKind::Unsupported,
            "the device refuses direct I/O (O_DIRECT), which the era tools need so that they never read stale metadata from the page cache",
        ),
        _ => e,
    }
}

/// Takes the advisory lock `mode` asks for on a regular file, without waiting: shared for
/// [`OpenMode::ReadExclusive`], exclusive for [`OpenMode::WriteExclusive`], none for
/// [`OpenMode::ReadShared`]. A lock held by another process is a `ResourceBusy` error
/// saying so, without the path (the caller names it).
pub fn lock(file: &File, mode: OpenMode) -> io::Result<()> {
    let taken = match mode {
        OpenMode::ReadShared => return Ok(()),
        OpenMode::ReadExclusive => file.try_lock_shared(),
        OpenMode::WriteExclusive => file.try_lock(),
    };
    match taken {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => {
            let what = if mode == OpenMode::WriteExclusive {
                "another process is using it"
            } else {
                "another process is writing it"
            };
            Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!(
                    "in use by another process ({what}; the era tools lock image files: writers exclusively, readers shared; --metadata-snapshot reads without a lock)"
                ),
            ))
        }
        Err(TryLockError::Error(e)) => Err(e),
    }
}

impl BlockIo for FileIo {
    fn nr_blocks(&self) -> u64 {
        self.nr_blocks
    }

    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        check_bounds(block, self.nr_blocks)?;
        self.read_at(buf, block.get() * BLOCK_SIZE as u64)
    }

    fn read_blocks(&self, first: MetaBlock, buf: &mut [u8]) -> io::Result<()> {
        let count = (buf.len() / BLOCK_SIZE) as u64;
        if count == 0 {
            return Ok(());
        }
        check_bounds(first.offset(count - 1), self.nr_blocks)?;
        self.read_at(buf, first.get() * BLOCK_SIZE as u64)
    }

    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        check_bounds(block, self.nr_blocks)?;
        self.write_at(buf, block.get() * BLOCK_SIZE as u64)
    }

    fn flush(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

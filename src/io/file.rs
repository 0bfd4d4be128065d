//! File and block-device engine: positioned reads and writes (`pread`/`pwrite`).

use super::{check_bounds, BlockIo};
use crate::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// How a metadata device is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Read only. A block device is opened with `O_EXCL`, so that one held by a live
    /// target is refused.
    ReadExclusive,
    /// Read only, without `O_EXCL`: for reading the metadata snapshot of a live device.
    ReadShared,
    /// Read and write; a block device is opened with `O_EXCL`.
    WriteExclusive,
}

/// A metadata device backed by a regular file or a block device.
#[derive(Debug)]
pub struct FileIo {
    file: File,
    nr_blocks: u64,
}

impl FileIo {
    /// Opens `path` in `mode`. The size is taken from the file or, for a block device,
    /// from its end offset.
    pub fn open(path: &Path, mode: OpenMode) -> io::Result<FileIo> {
        let meta = std::fs::metadata(path)?;
        let is_block_device = meta.file_type().is_block_device();
        let mut opts = OpenOptions::new();
        opts.read(true);
        if mode == OpenMode::WriteExclusive {
            opts.write(true);
        }
        if is_block_device && mode != OpenMode::ReadShared {
            opts.custom_flags(libc::O_EXCL);
        }
        let file = opts.open(path).map_err(|e| {
            if is_block_device && e.raw_os_error() == Some(libc::EBUSY) {
                io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!(
                        "{} is in use by another program (a live era target holds its metadata device exclusively; era_dump and era_invalidate can read a live device through --metadata-snapshot)",
                        path.display()
                    ),
                )
            } else {
                e
            }
        })?;
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
        })
    }

    /// Wraps an already-open file.
    pub fn from_file(file: File) -> io::Result<FileIo> {
        let bytes = file.metadata()?.len();
        Ok(FileIo {
            file,
            nr_blocks: bytes / BLOCK_SIZE as u64,
        })
    }
}

impl BlockIo for FileIo {
    fn nr_blocks(&self) -> u64 {
        self.nr_blocks
    }

    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        check_bounds(block, self.nr_blocks)?;
        self.file.read_exact_at(buf, block * BLOCK_SIZE as u64)
    }

    fn read_blocks(&self, first: MetaBlock, buf: &mut [u8]) -> io::Result<()> {
        let count = (buf.len() / BLOCK_SIZE) as u64;
        if count == 0 {
            return Ok(());
        }
        check_bounds(first + count - 1, self.nr_blocks)?;
        self.file.read_exact_at(buf, first * BLOCK_SIZE as u64)
    }

    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        check_bounds(block, self.nr_blocks)?;
        self.file.write_all_at(buf, block * BLOCK_SIZE as u64)
    }

    fn flush(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

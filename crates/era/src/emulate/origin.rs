//! The origin device: where data I/O goes, at the same sector (target.md §7.4).

use std::fs::File;
use std::io::{self, Seek};
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

/// Byte-addressed access to the origin device.
pub trait Origin: Send + Sync {
    /// Size in bytes.
    fn len(&self) -> u64;
    /// Whether the origin is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads `buf.len()` bytes at `offset`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Writes `buf` at `offset`.
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()>;
    /// Makes completed writes durable.
    fn flush(&self) -> io::Result<()>;
    /// Discards `len` bytes at `offset` (their contents become unspecified); an origin
    /// that cannot discard leaves them as they are.
    fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        let _ = (offset, len);
        Ok(())
    }
}

fn beyond(offset: u64, n: usize, len: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!(
            "bytes {offset}..{} are beyond the end of the origin ({len} bytes)",
            offset + n as u64
        ),
    )
}

/// An origin image file; never grown.
#[derive(Debug)]
pub struct FileOrigin {
    file: File,
    len: u64,
    sync: bool,
}

impl FileOrigin {
    /// Wraps an open read-write file or block device; `sync` makes `flush` call
    /// fdatasync.
    pub fn new(file: File, sync: bool) -> io::Result<FileOrigin> {
        // A block device's size is its end offset (its metadata says 0 bytes).
        let len = (&file).seek(io::SeekFrom::End(0))?;
        Ok(FileOrigin { file, len, sync })
    }
}

impl Origin for FileOrigin {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        if offset + buf.len() as u64 > self.len {
            return Err(beyond(offset, buf.len(), self.len));
        }
        self.file.read_exact_at(buf, offset)
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        if offset + buf.len() as u64 > self.len {
            return Err(beyond(offset, buf.len(), self.len));
        }
        self.file.write_all_at(buf, offset)
    }
    fn flush(&self) -> io::Result<()> {
        if self.sync {
            self.file.sync_data()
        } else {
            Ok(())
        }
    }
    /// Punches a hole in an image file (reads return zeros); a file system or device
    /// that cannot leaves the data as it is.
    fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        if offset.saturating_add(len) > self.len {
            return Err(beyond(offset, len as usize, self.len));
        }
        use rustix::fs::{fallocate, FallocateFlags};
        match fallocate(
            &self.file,
            FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
            offset,
            len,
        ) {
            Ok(()) => Ok(()),
            Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NODEV => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// An origin held in memory (tests).
#[derive(Debug)]
pub struct MemOrigin {
    data: Mutex<Vec<u8>>,
}

impl MemOrigin {
    /// A zeroed origin of `len` bytes.
    pub fn new(len: usize) -> MemOrigin {
        MemOrigin {
            data: Mutex::new(vec![0; len]),
        }
    }

    fn lock(&self) -> io::Result<std::sync::MutexGuard<'_, Vec<u8>>> {
        self.data
            .lock()
            .map_err(|_| io::Error::other("origin lock poisoned"))
    }
}

impl Origin for MemOrigin {
    fn len(&self) -> u64 {
        self.lock().map(|d| d.len() as u64).unwrap_or(0)
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let d = self.lock()?;
        let end = offset as usize + buf.len();
        if end > d.len() {
            return Err(beyond(offset, buf.len(), d.len() as u64));
        }
        buf.copy_from_slice(&d[offset as usize..end]);
        Ok(())
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let mut d = self.lock()?;
        let end = offset as usize + buf.len();
        if end > d.len() {
            return Err(beyond(offset, buf.len(), d.len() as u64));
        }
        d[offset as usize..end].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

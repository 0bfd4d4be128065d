//! Staging files: where an output is written before it is complete, on the output's
//! filesystem. A staging file has no name (`O_TMPFILE`) wherever the filesystem allows,
//! so that whatever ends the process (a signal, SIGKILL, a power cut) it leaves nothing
//! behind; it gets a name only at [`StagedFile::persist`], linked in and renamed over
//! the output at once. Where `O_TMPFILE` is refused, the staging file is named
//! `.era-tools-XXXXXX` beside the output, and every such name is listed until it goes
//! so that [`remove_named`] (run on SIGINT, SIGTERM and SIGHUP by the tools) can remove
//! it.

use rustix::fs::{AtFlags, Mode, OFlags, CWD};
use rustix::io::Errno;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The prefix of a named staging file.
const PREFIX: &str = ".era-tools-";

/// The named staging files of this process that exist now.
static NAMED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn named() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    NAMED.lock().unwrap_or_else(|e| e.into_inner())
}

fn forget(path: &Path) {
    named().retain(|p| p != path);
}

/// Removes every named staging file of this process. For the thread that handles a
/// termination signal; the process is expected to end right after.
pub fn remove_named() {
    for p in named().drain(..) {
        let _ = std::fs::remove_file(p);
    }
}

/// Creates a new file named `.era-tools-XXXXXX` in `dir`, listed for [`remove_named`].
fn create_named(dir: &Path, mode: u32) -> io::Result<(File, PathBuf)> {
    loop {
        let path = dir.join(random_name());
        // Listed before it exists, so that no signal finds it unlisted.
        named().push(path.clone());
        let flags = OFlags::CREATE | OFlags::EXCL | OFlags::RDWR | OFlags::CLOEXEC;
        match rustix::fs::open(&path, flags, Mode::from_raw_mode(mode)) {
            Ok(fd) => return Ok((File::from(fd), path)),
            Err(e) => {
                forget(&path);
                if e != Errno::EXIST {
                    return Err(e.into());
                }
            }
        }
    }
}

fn random_name() -> String {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(6)
        .collect();
    format!("{PREFIX}{tail}")
}

/// An unnamed file in `dir`, or `None` where the filesystem refuses one.
fn create_unnamed(dir: &Path, mode: u32) -> Option<File> {
    let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
    let fd = rustix::fs::open(dir, flags, Mode::from_raw_mode(mode)).ok()?;
    Some(File::from(fd))
}

/// A scratch file in `dir` that no name leads to and that goes when it is closed: an
/// unnamed file, or a named one removed at once.
pub fn scratch_in(dir: &Path) -> io::Result<File> {
    if let Some(f) = create_unnamed(dir, 0o600) {
        return Ok(f);
    }
    let (file, path) = create_named(dir, 0o600)?;
    let removed = std::fs::remove_file(&path);
    forget(&path);
    removed.map(|()| file)
}

/// A file being written in place of an output. Dropped without
/// [`persist`](StagedFile::persist), it leaves nothing.
#[derive(Debug)]
pub struct StagedFile {
    file: File,
    dir: PathBuf,
    /// The name of a named staging file; `None` for an unnamed one.
    name: Option<PathBuf>,
}

impl StagedFile {
    /// A new staging file in `dir` created with `mode` (less the umask).
    pub fn new_in(dir: &Path, mode: u32) -> io::Result<StagedFile> {
        match create_unnamed(dir, mode) {
            Some(file) => Ok(StagedFile {
                file,
                dir: dir.to_path_buf(),
                name: None,
            }),
            None => StagedFile::new_named_in(dir, mode),
        }
    }

    /// A named staging file, for a filesystem that refuses unnamed ones.
    fn new_named_in(dir: &Path, mode: u32) -> io::Result<StagedFile> {
        let (file, name) = create_named(dir, mode)?;
        Ok(StagedFile {
            file,
            dir: dir.to_path_buf(),
            name: Some(name),
        })
    }

    /// The file, to write to.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Makes the staging file durable, then puts it in place of `dest` in one rename,
    /// and makes the rename durable.
    pub fn persist(mut self, dest: &Path) -> io::Result<()> {
        self.file.sync_all()?;
        let name = match self.name.take() {
            Some(name) => name,
            None => self.link_in()?,
        };
        let renamed = std::fs::rename(&name, dest);
        if renamed.is_err() {
            let _ = std::fs::remove_file(&name);
        }
        forget(&name);
        renamed?;
        match File::open(&self.dir).and_then(|d| d.sync_all()) {
            // A filesystem that cannot sync a directory has nothing more to do.
            Err(e)
                if matches!(
                    Errno::from_io_error(&e),
                    Some(Errno::INVAL | Errno::OPNOTSUPP)
                ) =>
            {
                Ok(())
            }
            done => done,
        }
    }

    /// Gives the unnamed file a staging name in its directory.
    fn link_in(&self) -> io::Result<PathBuf> {
        loop {
            let path = self.dir.join(random_name());
            named().push(path.clone());
            let proc_fd = format!("/proc/self/fd/{}", self.file.as_raw_fd());
            let linked = rustix::fs::linkat(CWD, &proc_fd, CWD, &path, AtFlags::SYMLINK_FOLLOW)
                .or_else(
                    // Without /proc: by the descriptor itself (needs CAP_DAC_READ_SEARCH).
                    |_| rustix::fs::linkat(&self.file, "", CWD, &path, AtFlags::EMPTY_PATH),
                );
            match linked {
                Ok(()) => return Ok(path),
                Err(e) => {
                    forget(&path);
                    if e != Errno::EXIST {
                        return Err(e.into());
                    }
                }
            }
        }
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            let _ = std::fs::remove_file(&name);
            forget(&name);
        }
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn an_unnamed_staging_file_shows_only_when_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        std::fs::write(&dest, b"old").unwrap();
        let mut s = StagedFile::new_in(dir.path(), 0o644).unwrap();
        assert!(s.name.is_none(), "this filesystem takes O_TMPFILE");
        s.write_all(b"new").unwrap();
        assert_eq!(names(dir.path()), ["out"]);
        s.persist(&dest).unwrap();
        assert_eq!(names(dir.path()), ["out"]);
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        drop(StagedFile::new_in(dir.path(), 0o644).unwrap());
        assert_eq!(names(dir.path()), ["out"]);
    }

    #[test]
    fn a_named_staging_file_is_listed_until_it_goes() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        let listed = |dir: &Path| named().iter().filter(|p| p.starts_with(dir)).count();
        // Persisted: renamed over the output, no longer listed.
        let mut s = StagedFile::new_named_in(dir.path(), 0o644).unwrap();
        s.write_all(b"new").unwrap();
        assert!(names(dir.path())[0].starts_with(PREFIX));
        assert_eq!(listed(dir.path()), 1);
        s.persist(&dest).unwrap();
        assert_eq!(names(dir.path()), ["out"]);
        assert_eq!(listed(dir.path()), 0);
        // Dropped: removed.
        drop(StagedFile::new_named_in(dir.path(), 0o644).unwrap());
        assert_eq!(names(dir.path()), ["out"]);
        // Removed by the signal handler's call while still open.
        let s = StagedFile::new_named_in(dir.path(), 0o644).unwrap();
        assert_eq!(names(dir.path()).len(), 2);
        remove_named();
        assert_eq!(names(dir.path()), ["out"]);
        drop(s);
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
    }

    #[test]
    fn a_scratch_file_has_no_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = scratch_in(dir.path()).unwrap();
        f.write_all(b"x").unwrap();
        assert!(names(dir.path()).is_empty());
    }
}

//! Where a tool's text goes: standard output, or `-o FILE` written atomically (a
//! staging file beside FILE, unnamed where the filesystem allows, put in its place on
//! success) when FILE is a regular file or does not exist yet. Other targets (a FIFO, a
//! character device, a block device held exclusively) are written directly. An output
//! that is the tool's input, under any name, is refused before anything is opened
//! ([`refuse_output_is_input`]).

use crate::commands::error::{Error, Result};
use crate::io::alias::{hold_loop_devices, ImageId};
use crate::io::staging::StagedFile;
use rustix::fs::OFlags;
use rustix::io::Errno;
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const BUFFER: usize = 1 << 20;
/// Writes at least this large skip the buffer (after what it holds): copying megabytes
/// of formatted text into it would cost as much as formatting them.
const DIRECT: usize = 64 << 10;

enum Target {
    Stdout(BufWriter<StdoutSink>),
    Temp {
        file: BufWriter<StagedFile>,
        dest: PathBuf,
        /// The loop devices backed by the file replaced, held until it is.
        _loops: Vec<std::fs::File>,
    },
    Direct(BufWriter<std::fs::File>),
}

/// An output being written. Dropping it without [`Output::commit`] leaves no file.
pub struct Output {
    target: Target,
    name: String,
}

impl Output {
    /// Opens standard output (`None`, or `-`) or `path`.
    pub fn open(path: Option<&Path>) -> Result<Output> {
        let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
            return Ok(Output {
                target: Target::Stdout(BufWriter::with_capacity(BUFFER, StdoutSink::open())),
                name: "-".into(),
            });
        };
        let name = path.display().to_string();
        let err = |source| Error::Output {
            path: name.clone(),
            source,
        };
        let target = match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => {
                if m.is_dir() {
                    return Err(err(io::Error::other("is a directory")));
                }
                let mut opts = OpenOptions::new();
                opts.write(true);
                if m.file_type().is_block_device() {
                    // Held exclusively, as every writer of a device holds it.
                    opts.custom_flags(OFlags::EXCL.bits().cast_signed());
                }
                let f = opts.open(path).map_err(|e| err(busy_device(e)))?;
                Target::Direct(BufWriter::with_capacity(BUFFER, f))
            }
            existing => {
                // The new file gets the old one's mode, or the mode a newly created file
                // would get (0666 less the umask), not a temporary file's 0600.
                let mode = match &existing {
                    Ok(m) => m.permissions().mode() & 0o7777,
                    Err(_) => 0o666,
                };
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                if !dir.is_dir() {
                    return Err(err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("the directory {} does not exist", dir.display()),
                    )));
                }
                let loops = match &existing {
                    Ok(m) => hold_loop_devices(m).map_err(err)?,
                    Err(_) => Vec::new(),
                };
                let tmp = StagedFile::new_in(dir, mode).map_err(err)?;
                Target::Temp {
                    file: BufWriter::with_capacity(BUFFER, tmp),
                    dest: path.to_path_buf(),
                    _loops: loops,
                }
            }
        };
        Ok(Output { target, name })
    }

    /// The name to show in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Flushes and, for a temporary file, renames it over the destination.
    pub fn commit(self) -> Result<()> {
        let name = self.name;
        let err = |source| Error::output(&name, source);
        match self.target {
            Target::Stdout(mut w) => w.flush().map_err(err),
            Target::Direct(mut w) => w.flush().map_err(err),
            Target::Temp { file, dest, .. } => {
                let tmp = file.into_inner().map_err(|e| err(e.into_error()))?;
                tmp.persist(&dest).map_err(err)
            }
        }
    }
}

/// Explains a block device that another program holds.
fn busy_device(e: io::Error) -> io::Error {
    if Errno::from_io_error(&e) == Some(Errno::BUSY) {
        io::Error::new(
            io::ErrorKind::ResourceBusy,
            "in use by another program (held exclusively, as by a live era target)",
        )
    } else {
        e
    }
}

/// Refuses an output that is `input` under any name (the same path, a link, another
/// node of the same device, a loop device and its backing file), or, with no output
/// (`None` or `-`), standard output opened on `input`. Nothing is opened or written.
pub fn refuse_output_is_input(input: &Path, output: Option<&Path>) -> Result<()> {
    let output = output.filter(|p| p.as_os_str() != "-");
    let Ok(Some(input_id)) = ImageId::at(input) else {
        // A missing input is the reader's to report.
        return Ok(());
    };
    if output_id(output).is_some_and(|o| o.same(&input_id)) {
        return Err(Error::OutputIsInput {
            output: output.map(Path::to_path_buf),
            input: input.to_path_buf(),
        });
    }
    Ok(())
}

/// What an output (`None` or `-`: standard output) is, if it exists already.
pub fn output_id(output: Option<&Path>) -> Option<ImageId> {
    match output.filter(|p| p.as_os_str() != "-") {
        Some(p) => ImageId::at(p).ok().flatten(),
        None => open_id(io::stdout().as_fd()),
    }
}

/// What the descriptor `fd` (standard input or output) is open on.
pub fn open_id(fd: BorrowedFd<'_>) -> Option<ImageId> {
    let fd = fd.try_clone_to_owned().ok()?;
    let meta = std::fs::File::from(fd).metadata().ok()?;
    Some(ImageId::of(&meta))
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.target {
            Target::Stdout(w) => w.write(buf),
            Target::Temp { file, .. } => file.write(buf),
            Target::Direct(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.target {
            Target::Stdout(w) => write_all(w, buf),
            Target::Temp { file, .. } => write_all(file, buf),
            Target::Direct(w) => write_all(w, buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Stdout(w) => w.flush(),
            Target::Temp { file, .. } => file.flush(),
            Target::Direct(w) => w.flush(),
        }
    }
}

/// `w.write_all(buf)`, a large `buf` straight to the writer underneath.
fn write_all<W: Write>(w: &mut BufWriter<W>, buf: &[u8]) -> io::Result<()> {
    if buf.len() >= DIRECT && !w.buffer().is_empty() {
        w.flush()?;
    }
    if buf.len() >= DIRECT {
        w.get_mut().write_all(buf)
    } else {
        w.write_all(buf)
    }
}

/// Standard output as a file of its own (a duplicate of descriptor 1), so that writes
/// go to it whole; [`io::Stdout`] scans every write for its last newline and keeps the
/// text after it back. [`io::Stdout`] itself if the descriptor cannot be duplicated.
enum StdoutSink {
    File(std::fs::File),
    Std(io::Stdout),
}

impl StdoutSink {
    fn open() -> StdoutSink {
        match io::stdout().as_fd().try_clone_to_owned() {
            Ok(fd) => StdoutSink::File(std::fs::File::from(fd)),
            Err(_) => StdoutSink::Std(io::stdout()),
        }
    }
}

impl Write for StdoutSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            StdoutSink::File(f) => f.write(buf),
            StdoutSink::Std(s) => s.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            StdoutSink::File(f) => f.write_all(buf),
            StdoutSink::Std(s) => s.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            StdoutSink::File(f) => f.flush(),
            StdoutSink::Std(s) => s.flush(),
        }
    }
}

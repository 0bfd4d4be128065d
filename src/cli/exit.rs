//! Exit codes, the same for every tool (documented in the README):
//! 0 success, 1 failure (damaged metadata, I/O error, bad input), 2 usage error.

use crate::commands::error::Error;
use std::process::ExitCode;

/// Everything went well.
pub const SUCCESS: u8 = 0;
/// The work failed: damaged metadata, an I/O error, bad input.
pub const FAILURE: u8 = 1;
/// The command line was wrong (clap exits with this code itself), or names the input
/// as the output.
pub const USAGE: u8 = 2;

/// The last line of a tool that stopped on damaged metadata (not after `era_repair`
/// itself).
pub const REPAIR_HINT: &str = "the metadata is damaged: run era_repair to salvage it";

/// Turns a command's outcome into an exit code, printing the error as one line on
/// standard error (nothing for a broken pipe), then, when the metadata is damaged, a
/// line pointing to `era_repair`.
pub fn finish(tool: &str, result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(SUCCESS),
        Err(Error::BrokenPipe | Error::Reported) => ExitCode::from(FAILURE),
        Err(Error::CheckFailed { damaged }) => {
            if damaged {
                eprintln!("{tool}: {REPAIR_HINT}");
            }
            ExitCode::from(FAILURE)
        }
        Err(e @ Error::Usage(_)) => {
            eprintln!("{tool}: {e}");
            ExitCode::from(USAGE)
        }
        Err(e) => {
            eprintln!("{tool}: {e}");
            if e.is_damage() && tool != "era_repair" {
                eprintln!("{tool}: {REPAIR_HINT}");
            }
            ExitCode::from(if e.is_usage() { USAGE } else { FAILURE })
        }
    }
}

/// Standard error with every line starting `TOOL: `, for a tool that reports several
/// lines (`era_check`'s findings, `era_emulate run`'s script errors).
pub fn prefixed_stderr(tool: &'static str) -> Prefixed<std::io::Stderr> {
    Prefixed {
        tool,
        inner: std::io::stderr(),
        at_line_start: true,
    }
}

/// A writer that starts every line with `TOOL: `.
pub struct Prefixed<W> {
    tool: &'static str,
    inner: W,
    at_line_start: bool,
}

impl<W: std::io::Write> std::io::Write for Prefixed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for line in buf.split_inclusive(|&b| b == b'\n') {
            if self.at_line_start {
                write!(self.inner, "{}: ", self.tool)?;
            }
            self.inner.write_all(line)?;
            self.at_line_start = line.ends_with(b"\n");
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

macro_rules! exit_status {
    () => {
        "Exit status: 0 on success; 1 on failure (damaged metadata, an I/O error, bad input); 2 on a usage error."
    };
}

/// The exit-status paragraph shown at the end of every tool's help and man page.
pub const EXIT_STATUS_HELP: &str = exit_status!();

/// What a tool that reads metadata locks, then the exit status.
pub const READER_HELP: &str = concat!(
    "Devices and locks: a block device is read with O_DIRECT, never from the page cache, and opened exclusively (O_EXCL), so a device held by a live target is refused: read it through --metadata-snapshot, which opens it shared. An image file is read under a shared lock (flock); a file that another era tool is writing is refused (\"in use by another process\").",
    "\n\n",
    exit_status!()
);

/// What `era_repair` locks, what it reports, then the exit status.
pub const REPAIR_HELP: &str = concat!(
    "Devices and locks: the input is opened read-only and exclusively (O_EXCL for a block device, a shared flock for an image file); the output is held exclusively while it is written (O_EXCL and O_DIRECT for a block device, an exclusive flock for an image file). The output is written only once the whole salvage has succeeded, superblock last.",
    "\n\n",
    "Report: every structure that could not be read is named on standard error with its block and how it was covered. When the superblock is unreadable and no metadata snapshot copy records the data block size, the repair stops and says so: give --data-block-size.",
    "\n\n",
    exit_status!()
);

/// What a tool that writes an image locks, then the exit status.
pub const WRITER_HELP: &str = concat!(
    "Devices and locks: the output is held exclusively while it is written: a block device with O_EXCL (and written with O_DIRECT), an image file with an exclusive lock (flock). An output that another process uses or reads is refused (\"in use by another process\") and left untouched.",
    "\n\n",
    exit_status!()
);

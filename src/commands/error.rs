//! The crate's umbrella error: what a command can fail with. Each layer keeps its own
//! error type; this one only gathers them, plus the commands' own input and output
//! failures.

use std::path::{Path, PathBuf};

/// A command's failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The metadata read from `path` is damaged or inconsistent, or could not be read
    /// (the error names the block where there is one).
    #[error("{}: {source}", path.display())]
    Era {
        path: PathBuf,
        #[source]
        source: crate::era::Error,
    },
    /// The metadata could not be written to the output `path`: the device is too small,
    /// or a block could not be written.
    #[error("writing {}: {source}", path.display())]
    EraOutput {
        path: PathBuf,
        #[source]
        source: crate::era::Error,
    },
    /// Generator parameters that describe no metadata (`era_generate`).
    #[error("{source}")]
    BadParams {
        #[source]
        source: crate::era::Error,
    },
    /// The input is not something the tool can read (missing, a directory, too small,
    /// XML where binary metadata is expected…).
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
    /// The input could not be opened or read.
    #[error("{path}: {source}")]
    InputIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Block runs cannot be turned into the offsets asked for.
    #[error(transparent)]
    Offsets(#[from] super::invalidate::OffsetError),
    /// The XML input is not era metadata as `era_dump` writes it.
    #[error("{path}: {source}")]
    Xml {
        path: PathBuf,
        #[source]
        source: crate::xml::ReadError,
    },
    /// The output cannot be used.
    #[error("{path}: {reason}")]
    BadOutput { path: PathBuf, reason: String },
    /// The output is the input under some name (`None`: standard output). A usage error.
    #[error("{}", output_is_input(output.as_deref(), input))]
    OutputIsInput {
        output: Option<PathBuf>,
        input: PathBuf,
    },
    /// The output could not be written.
    #[error("{path}: {source}")]
    Output {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The output's reader went away (broken pipe): nothing is printed for this.
    #[error("broken pipe")]
    BrokenPipe,
    /// `era_copy` refused or failed.
    #[error(transparent)]
    Copy(#[from] super::copy::CopyError),
    /// The request cannot be met whatever the input (exit status 2, as a usage error).
    #[error("{0}")]
    Usage(String),
    /// Checking found problems in the metadata (already reported); `damaged` when one
    /// of them is an error, not only a warning, and the findings were printed.
    #[error("the metadata has errors")]
    CheckFailed { damaged: bool },
    /// Some of the work failed and every failure was already reported, each on its own
    /// line (`era_emulate run`'s script commands): nothing more is printed.
    #[error("a command failed")]
    Reported,
    /// The emulated target refused or failed (`era_emulate`).
    #[error(transparent)]
    Emulate(#[from] crate::emulate::Error),
    /// The server or a control request failed (`era_emulate`).
    #[error(transparent)]
    Serve(#[from] crate::serve::Error),
}

/// The message for [`Error::OutputIsInput`].
fn output_is_input(output: Option<&Path>, input: &Path) -> String {
    const ADVICE: &str = "the era tools never write over what they read; give another output";
    match output {
        Some(o) if o == input => format!("{}: is the input: {ADVICE}", o.display()),
        Some(o) => format!(
            "{}: is the input {} under another name (a link, another node of the same device, or a loop device and its backing file): {ADVICE}",
            o.display(),
            input.display()
        ),
        None => format!(
            "standard output is the input {}: {ADVICE}",
            input.display()
        ),
    }
}

impl Error {
    /// Whether the command line itself was wrong (exit status 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::OutputIsInput { .. })
    }

    /// Whether the error is damage in the metadata (a bad checksum, a block in the wrong
    /// place, a structure that does not hold together), which `era_repair` may salvage;
    /// not an I/O error, a missing file or a usage error.
    pub fn is_damage(&self) -> bool {
        match self {
            Error::Era { source, .. } => source.is_damage(),
            Error::CheckFailed { damaged } => *damaged,
            _ => false,
        }
    }

    /// An error reading the metadata at `path` (or, for `era_restore`, the metadata the
    /// XML at `path` describes).
    pub fn era_input(path: &Path, source: crate::era::Error) -> Error {
        Error::Era {
            path: path.to_path_buf(),
            source,
        }
    }

    /// An error writing the metadata to the output `path`. Metadata that cannot be
    /// written whatever the output ([`crate::era::Error::InvalidInput`]) is the input's
    /// fault, and is named after `input`.
    pub fn era_output(input: &Path, path: &Path, source: crate::era::Error) -> Error {
        if matches!(source, crate::era::Error::InvalidInput { .. }) {
            return Error::era_input(input, source);
        }
        Error::EraOutput {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Wraps a write error on `path` (`-` for standard output), recognising a broken pipe.
    pub fn output(path: &str, source: std::io::Error) -> Error {
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            Error::BrokenPipe
        } else {
            Error::Output {
                path: path.to_string(),
                source,
            }
        }
    }
}

/// Result of a command.
pub type Result<T> = std::result::Result<T, Error>;

//! `era_invalidate`'s arguments.

use crate::commands::invalidate::InvalidateOptions;
use clap::Parser;
use std::path::PathBuf;

/// List the blocks written since an era.
///
/// Prints, as XML, every origin block whose latest write happened in era N or later:
/// the era array, the archived writesets and the live writeset of a target that did not
/// shut down cleanly all count. Runs of two or more blocks are printed as range
/// elements (begin, and end exclusive), single blocks as block elements.
#[derive(Debug, Parser)]
#[command(name = "era_invalidate", version, after_help = super::exit::READER_HELP)]
pub struct InvalidateArgs {
    /// List blocks written in era N or later.
    #[arg(long, value_name = "N", required = true)]
    pub written_since: u32,
    /// Read the metadata snapshot held by a live target (the device is not opened
    /// exclusively, so this works while the target runs).
    #[arg(long, visible_alias = "metadata-snap")]
    pub metadata_snapshot: bool,
    /// Write the list to FILE instead of standard output. A regular file is replaced
    /// only when the listing has succeeded.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The metadata device or image.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
}

impl InvalidateArgs {
    /// The options for the command.
    pub fn options(&self) -> InvalidateOptions {
        InvalidateOptions {
            input: self.input.clone(),
            output: self.output.clone(),
            written_since: self.written_since,
            metadata_snapshot: self.metadata_snapshot,
        }
    }
}

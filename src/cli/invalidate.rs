//! `era_invalidate`'s arguments.

// The doc comments are clap's help text, where `<blocks>` names the XML element, not an
// HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use crate::commands::invalidate::{Format, InvalidateOptions, Unit};
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, ValueEnum, ValueHint};
use std::path::PathBuf;

/// List the blocks written since an era.
///
/// Prints every origin block whose latest write happened in era N or later: the era
/// array, the archived writesets and the live writeset of a target that did not shut
/// down cleanly all count. Consecutive blocks are printed as runs [BEGIN, END), END
/// exclusive. An N beyond the current era lists nothing, with a warning on standard
/// error (the exit status is unchanged).
#[derive(Debug, Parser)]
#[command(name = "era_invalidate", version, disable_version_flag = true, after_help = super::exit::READER_HELP, after_long_help = super::examples::long_help("era_invalidate", super::exit::READER_HELP))]
pub struct InvalidateArgs {
    #[command(flatten)]
    pub compat: super::compat::Compat,
    /// List blocks written in era N or later.
    #[arg(long, value_name = "N", value_hint = ValueHint::Other, required = true)]
    pub written_since: u32,
    /// Read the metadata snapshot held by a live target (the device is not opened
    /// exclusively, so this works while the target runs).
    #[arg(long, visible_alias = "metadata-snap")]
    pub metadata_snapshot: bool,
    /// How to print the list.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = FormatArg::Xml)]
    pub format: FormatArg,
    /// The unit of the ranges and JSON offsets. With sectors or bytes the last block is
    /// taken whole (the metadata does not record where the table ends inside it): give
    /// --length to clamp to the table's end. The XML is always in blocks.
    #[arg(long, value_enum, value_name = "UNIT")]
    pub unit: Option<UnitArg>,
    /// The era target's table length in 512-byte sectors (dmsetup table's second
    /// field), to end the last run exactly there with --unit sectors or bytes. It must
    /// make the metadata's number of blocks.
    #[arg(long, value_name = "SECTORS", value_hint = ValueHint::Other, value_parser = clap::value_parser!(u64).range(1..))]
    pub length: Option<u64>,
    /// Write the list to FILE instead of standard output. A regular file is replaced
    /// only when the listing has succeeded.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The metadata device or image.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// <blocks> with range (begin, end exclusive) and block elements, in blocks, as
    /// thin-provisioning-tools prints it.
    Xml,
    /// One BEGIN END line per run, END exclusive; nothing when no block is listed.
    Ranges,
    /// One object: view (live or snapshot), block_size (sectors), nr_blocks,
    /// current_era, written_since, unit, length (the origin's end in the unit),
    /// length_rounded_up (true when that end is rounded up to a whole block), and runs,
    /// a list of {begin, end} with end exclusive.
    Json,
}

/// `--unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnitArg {
    /// Origin block numbers.
    Blocks,
    /// 512-byte sectors of the origin.
    Sectors,
    /// Bytes of the origin.
    Bytes,
}

impl InvalidateArgs {
    /// The options for the command, or a usage error for options that do not go
    /// together.
    pub fn options(&self) -> Result<InvalidateOptions, clap::Error> {
        let format = match self.format {
            FormatArg::Xml => Format::Xml,
            FormatArg::Ranges => Format::Ranges,
            FormatArg::Json => Format::Json,
        };
        let unit = match self.unit {
            None | Some(UnitArg::Blocks) => Unit::Blocks,
            Some(UnitArg::Sectors) => Unit::Sectors,
            Some(UnitArg::Bytes) => Unit::Bytes,
        };
        let conflict = |msg: &str| Err(Self::command().error(ErrorKind::ArgumentConflict, msg));
        if format == Format::Xml && unit != Unit::Blocks {
            return conflict("--format xml is always in blocks: use --format ranges or json with --unit sectors or bytes");
        }
        if self.length.is_some() && unit == Unit::Blocks {
            return conflict(
                "--length clamps offsets in sectors or bytes: it needs --unit sectors or bytes",
            );
        }
        Ok(InvalidateOptions {
            input: self.input.clone(),
            output: self.output.clone(),
            written_since: self.written_since,
            metadata_snapshot: self.metadata_snapshot,
            format,
            unit,
            length: self.length,
        })
    }
}

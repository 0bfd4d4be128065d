//! `era_dump`'s arguments.

use crate::commands::dump::DumpOptions;
use clap::{Parser, ValueHint};
use std::path::PathBuf;

/// Print era metadata as XML.
///
/// Reads the binary metadata of a device-mapper era target (a device or an image file)
/// and prints it as XML: the superblock, every writeset not yet folded into the era
/// array, and the era array. The device is opened exclusively, so one held by a live
/// target is refused; use --metadata-snapshot to read such a device.
#[derive(Debug, Parser)]
#[command(name = "era_dump", version, disable_version_flag = true, after_help = super::exit::READER_HELP, after_long_help = super::examples::long_help("era_dump", super::exit::READER_HELP))]
pub struct DumpArgs {
    #[command(flatten)]
    pub compat: super::compat::Compat,
    /// Fold the writesets into the era array and print only the superblock and the
    /// era array, giving every block the era of its latest write.
    #[arg(long)]
    pub logical: bool,
    /// Print each writeset as runs of marked blocks (marked elements with block_begin
    /// and len) instead of one line per block. With --logical, which prints no
    /// writesets, it is accepted and changes nothing.
    #[arg(long)]
    pub compact: bool,
    /// Read the metadata snapshot held by a live target instead of the live metadata.
    #[arg(long, visible_alias = "metadata-snap", conflicts_with = "repair")]
    pub metadata_snapshot: bool,
    /// Salvage damaged metadata as era_repair does and print the salvaged XML; what
    /// could not be read is reported on standard error.
    #[arg(short, long)]
    pub repair: bool,
    /// With --repair: the origin block size in sectors, for when the superblock is
    /// unreadable and no metadata snapshot copy records it.
    #[arg(long, value_name = "SECTORS", value_hint = ValueHint::Other, requires = "repair")]
    pub data_block_size: Option<u32>,
    /// With --repair: the number of origin blocks, for when the superblock is unreadable
    /// and no era array found tells it.
    #[arg(long, value_name = "BLOCKS", value_hint = ValueHint::Other, requires = "repair")]
    pub nr_blocks: Option<u32>,
    /// Write the XML to FILE instead of standard output. A regular file is replaced
    /// only when the dump has succeeded.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The metadata device or image.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
}

impl DumpArgs {
    /// The options for the command.
    pub fn options(&self) -> DumpOptions {
        DumpOptions {
            input: self.input.clone(),
            output: self.output.clone(),
            logical: self.logical,
            compact: self.compact,
            metadata_snapshot: self.metadata_snapshot,
            repair: self.repair,
            data_block_size: self.data_block_size,
            nr_blocks: self.nr_blocks,
        }
    }
}

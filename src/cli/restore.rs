//! `era_restore`'s arguments.

use crate::commands::restore::RestoreOptions;
use clap::Parser;
use std::path::PathBuf;

/// Turn XML into era metadata.
///
/// Reads the XML that era_dump prints (writesets in either form, bit by bit or as runs
/// of marked blocks) and writes binary metadata that the kernel's era target accepts,
/// with an exact space map, as the XML is read, in memory that does not grow with the
/// origin. Bad input leaves the output as it was: an image file is written through an
/// unnamed staging file beside it and copied in only once the whole input is read and
/// checked; a device holds back up to 16 MiB of metadata the same way, and past that is
/// written as the input arrives. Either way block 0 is first marked as an interrupted
/// restore and the superblock is written last, so a restore that fails on a device or is
/// interrupted never leaves a valid superblock over new blocks, and every tool names
/// what it left.
#[derive(Debug, Parser)]
#[command(name = "era_restore", version, disable_version_flag = true, after_help = super::exit::WRITER_HELP, after_long_help = super::examples::long_help("era_restore", super::exit::WRITER_HELP))]
pub struct RestoreArgs {
    #[command(flatten)]
    pub compat: super::compat::Compat,
    /// The XML file to read.
    #[arg(short, long, value_name = "FILE")]
    pub input: PathBuf,
    /// The metadata device or image to write; it must exist and be large enough.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Print no progress.
    #[arg(short, long)]
    pub quiet: bool,
}

impl RestoreArgs {
    /// The options for the command.
    pub fn options(&self) -> RestoreOptions {
        RestoreOptions {
            input: self.input.clone(),
            output: self.output.clone(),
        }
    }
}

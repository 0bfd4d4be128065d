//! `era_check`'s arguments.

use clap::Parser;
use std::path::PathBuf;

/// Verify era metadata.
///
/// Checks every structure of the metadata of a device-mapper era target: the
/// superblock, every btree node, array block and bitset, the writesets and the era
/// array against each other, the metadata snapshot when one is held, and the space
/// map's reference count of every block. Every problem is reported on its own line,
/// naming the block. The exit status is 1 when an error is found.
#[derive(Debug, Parser)]
#[command(name = "era_check", version, disable_version_flag = true, after_help = super::exit::READER_HELP, after_long_help = super::examples::long_help("era_check", super::exit::READER_HELP))]
pub struct CheckArgs {
    #[command(flatten)]
    pub compat: super::compat::Compat,
    /// Print nothing; only the exit status tells the outcome.
    #[arg(short, long)]
    pub quiet: bool,
    /// Check the superblock only.
    #[arg(long)]
    pub super_block_only: bool,
    /// Check the metadata snapshot held by a live target (its superblock copy, writeset
    /// tree, writesets and era array), without an exclusive open; the space map, which
    /// the live target keeps changing, is not checked.
    #[arg(
        long,
        visible_alias = "metadata-snap",
        conflicts_with = "super_block_only"
    )]
    pub metadata_snapshot: bool,
    /// Succeed when only non-fatal problems (such as leaked blocks) are found.
    #[arg(long)]
    pub ignore_non_fatal_errors: bool,
    /// The metadata device or image.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
}

impl CheckArgs {
    /// The options for the command.
    pub fn options(&self) -> crate::commands::check::CheckCommandOptions {
        crate::commands::check::CheckCommandOptions {
            input: self.input.clone(),
            quiet: self.quiet,
            super_block_only: self.super_block_only,
            metadata_snapshot: self.metadata_snapshot,
            ignore_non_fatal_errors: self.ignore_non_fatal_errors,
        }
    }
}

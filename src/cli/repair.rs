//! `era_repair`'s arguments.

use crate::commands::repair::RepairCmdOptions;
use clap::{Parser, ValueHint};
use std::path::PathBuf;

/// Salvage damaged era metadata into a new device or image.
///
/// Reads everything readable from damaged metadata and writes valid metadata to OUTPUT
/// (never over the input), reporting on standard error what could not be read and how
/// it was covered. Nothing a backup needs is given up: for every era N, the blocks that
/// era_invalidate --written-since N lists on the repaired metadata include every block
/// it would have listed on the undamaged metadata. Unreadable era-array entries get the
/// current era; the blocks of an unreadable writeset (or part of one) count as written
/// in its era; an unreadable superblock is rebuilt from a scan of the device and the
/// metadata snapshot copy, if one is held. A metadata snapshot is not carried over.
#[derive(Debug, Parser)]
#[command(name = "era_repair", version, disable_version_flag = true, after_help = super::exit::REPAIR_HELP, after_long_help = super::examples::long_help("era_repair", super::exit::REPAIR_HELP))]
pub struct RepairArgs {
    #[command(flatten)]
    pub compat: super::compat::Compat,
    /// The damaged metadata device or image; it is only read.
    #[arg(short, long, value_name = "FILE")]
    pub input: PathBuf,
    /// The metadata device or image to write; it must exist, be large enough, and not
    /// be the input.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// The origin block size in sectors (the era target's third table argument), for
    /// when the superblock is unreadable and no metadata snapshot copy records it.
    #[arg(long, value_name = "SECTORS", value_hint = ValueHint::Other)]
    pub data_block_size: Option<u32>,
    /// The number of origin blocks, for when the superblock is unreadable and no era
    /// array found tells it (a structure found that describes more blocks still wins).
    #[arg(long, value_name = "BLOCKS", value_hint = ValueHint::Other)]
    pub nr_blocks: Option<u32>,
    /// Print no progress and no report, only errors; the exit status tells the outcome.
    #[arg(short, long)]
    pub quiet: bool,
}

impl RepairArgs {
    /// The options for the command.
    pub fn options(&self) -> RepairCmdOptions {
        RepairCmdOptions {
            input: self.input.clone(),
            output: self.output.clone(),
            repair: crate::era::repair::RepairOptions {
                data_block_size: self.data_block_size,
                nr_blocks: self.nr_blocks,
            },
            quiet: self.quiet,
        }
    }
}

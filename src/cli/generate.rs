//! `era_generate`'s arguments (a developer tool for tests and benchmarks).

use crate::commands::generate::GenerateOptions;
use crate::era::generate::GenerateParams;
use clap::{Parser, ValueHint};
use std::path::PathBuf;

/// Write deterministic synthetic dm-era metadata to a file.
///
/// Writesets are archived for the eras CURRENT_ERA-NR_WRITESETS+1 ..= CURRENT_ERA, each
/// with about DENSITY of its bits set; the era array holds random eras below the first
/// writeset's era. The same flags always give the same bytes.
#[derive(Debug, Parser)]
#[command(name = "era_generate", version, after_help = super::exit::WRITER_HELP, after_long_help = super::examples::long_help("era_generate", super::exit::WRITER_HELP))]
pub struct GenerateArgs {
    /// Origin blocks (era array length).
    #[arg(long, value_name = "N", value_hint = ValueHint::Other)]
    pub nr_blocks: u32,
    /// Origin block size in 512-byte sectors (a multiple of 8).
    #[arg(long, value_name = "SECTORS", value_hint = ValueHint::Other, default_value_t = 128)]
    pub block_size: u32,
    /// The current era.
    #[arg(long, value_name = "ERA", value_hint = ValueHint::Other, default_value_t = 1)]
    pub current_era: u32,
    /// Number of archived writesets (at most the current era).
    #[arg(long, value_name = "N", value_hint = ValueHint::Other, default_value_t = 1)]
    pub nr_writesets: u32,
    /// Fraction of each writeset's bits that are set, in [0, 1].
    #[arg(long, value_name = "FRACTION", value_hint = ValueHint::Other, default_value_t = 0.1, value_parser = parse_fraction)]
    pub density: f64,
    /// Seed of the pseudo-random generator.
    #[arg(long, value_name = "N", value_hint = ValueHint::Other, default_value_t = 0)]
    pub seed: u64,
    /// Minimum size of the output file in bytes; by default the file is made just large
    /// enough (an existing larger file keeps its size).
    #[arg(long, value_name = "BYTES", value_hint = ValueHint::Other)]
    pub meta_size: Option<u64>,
    /// The metadata file to write (created or extended as needed).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
}

/// A number in [0, 1].
fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "{s} is not a fraction within [0, 1], for example 0.12"
        )),
    }
}

impl GenerateArgs {
    /// The command's options.
    pub fn options(&self) -> GenerateOptions {
        GenerateOptions {
            params: self.params(),
            meta_size: self.meta_size,
            output: self.output.clone(),
        }
    }

    /// The generator's parameters.
    pub fn params(&self) -> GenerateParams {
        GenerateParams {
            nr_blocks: self.nr_blocks,
            block_size: self.block_size,
            current_era: self.current_era,
            nr_writesets: self.nr_writesets,
            density: self.density,
            seed: self.seed,
        }
    }
}

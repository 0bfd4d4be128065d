//! era_generate: write synthetic era metadata (for tests and benchmarks) to a file.

use anyhow::Context;
use clap::Parser;
use era_tools::era::generate::{generate, write_to_file, GenerateParams};
use std::path::PathBuf;
use std::process::ExitCode;

/// Write deterministic synthetic dm-era metadata to a file.
///
/// Writesets are archived for the eras CURRENT_ERA-NR_WRITESETS+1 ..= CURRENT_ERA, each
/// with about DENSITY of its bits set; the era array holds random eras below the first
/// writeset's era. The same flags always give the same bytes.
#[derive(Debug, Parser)]
#[command(name = "era_generate", version)]
struct Args {
    /// Origin blocks (era array length).
    #[arg(long, value_name = "N")]
    nr_blocks: u32,
    /// Origin block size in 512-byte sectors (a multiple of 8).
    #[arg(long, value_name = "SECTORS", default_value_t = 128)]
    block_size: u32,
    /// The current era.
    #[arg(long, value_name = "ERA", default_value_t = 1)]
    current_era: u32,
    /// Number of archived writesets (at most the current era).
    #[arg(long, value_name = "N", default_value_t = 1)]
    nr_writesets: u32,
    /// Fraction of each writeset's bits that are set, in [0, 1].
    #[arg(long, value_name = "FRACTION", default_value_t = 0.1)]
    density: f64,
    /// Seed of the pseudo-random generator.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Minimum size of the output file in bytes; by default the file is made just large
    /// enough (an existing larger file keeps its size).
    #[arg(long, value_name = "BYTES")]
    meta_size: Option<u64>,
    /// The metadata file to write (created or extended as needed).
    #[arg(short = 'o', long, value_name = "FILE")]
    output: PathBuf,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let params = GenerateParams {
        nr_blocks: args.nr_blocks,
        block_size: args.block_size,
        current_era: args.current_era,
        nr_writesets: args.nr_writesets,
        density: args.density,
        seed: args.seed,
    };
    let md = generate(&params)?;
    write_to_file(&args.output, &md, args.meta_size)
        .with_context(|| format!("writing {}", args.output.display()))?;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("era_generate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

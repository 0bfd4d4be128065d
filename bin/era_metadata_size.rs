//! `era_metadata_size`: see `era_metadata_size --help`.

use clap::Parser;
use era_tools::cli::{exit, metadata_size::MetadataSizeArgs};
use era_tools::commands::metadata_size;

fn main() -> std::process::ExitCode {
    let args = MetadataSizeArgs::parse();
    let result = metadata_size::run(&args.options(), &mut std::io::stdout().lock());
    exit::finish("era_metadata_size", result)
}

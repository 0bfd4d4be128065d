//! `era_generate`: see `era_generate --help`.

use clap::Parser;
use era_tools::cli::{exit, generate::GenerateArgs};
use era_tools::era::generate::generate_to_file;

fn main() -> std::process::ExitCode {
    let args = GenerateArgs::parse();
    let result = generate_to_file(&args.output, &args.params(), args.meta_size)
        .map(|_| ())
        .map_err(era_tools::commands::Error::from);
    exit::finish("era_generate", result)
}

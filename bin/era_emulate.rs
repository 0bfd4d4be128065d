//! era_emulate: run the Linux dm-era target against a metadata image and an origin image.

use anyhow::Context;
use clap::{Parser, Subcommand};
use era_tools::emulate::origin::FileOrigin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::parse_script;
use era_tools::emulate::target::parse_block_size;
use era_tools::io::{FileIo, OpenMode};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Run the whole dm-era target offline against two image files.
#[derive(Parser, Debug)]
#[command(name = "era_emulate", version, about)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Open the target (format zeroed metadata, or open it and recover a crashed era),
    /// run SCRIPT, and close it cleanly unless the last command was `crash`.
    ///
    /// Script commands, one a line (`#` starts a comment):
    /// write SECTOR COUNT [BYTE] | read SECTOR COUNT | discard SECTOR COUNT | flush |
    /// checkpoint | take_metadata_snap | drop_metadata_snap | message WORD... | status |
    /// table | suspend | resume | reload SECTORS | close | open [SECTORS] | crash.
    /// `write` fills the sectors with BYTE (default 0xff); `read` prints a CRC-32C of the
    /// data. A discard marks only the block of its first sector, as the kernel does.
    #[command(
        after_help = "Exit status: 0 when every command succeeded; 1 when the open or \
a command failed (each error is printed on stderr with its line number, and later commands \
still run); 2 for bad usage or script syntax (nothing is changed)."
    )]
    Run {
        /// The metadata image (an existing file; all zeros = unformatted).
        #[arg(long)]
        meta: PathBuf,
        /// The origin image (an existing file, read and written at SECTOR*512).
        #[arg(long)]
        origin: PathBuf,
        /// Data block size in 512-byte sectors (a multiple of 8).
        #[arg(long = "block-size", value_name = "SECTORS")]
        block_size: String,
        /// Table length in sectors [default: the origin's size].
        #[arg(long, value_name = "SECTORS")]
        length: Option<u64>,
        /// Skip the flushes (fdatasync) of every commit: fast, not crash safe.
        #[arg(long = "unsafe-no-sync")]
        unsafe_no_sync: bool,
        /// The script; stdin when absent or `-`.
        script: Option<PathBuf>,
    },
}

fn open_rw(path: &PathBuf) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Cmd::Run {
        meta,
        origin,
        block_size,
        length,
        unsafe_no_sync,
        script,
    } = args.command;
    let text = match &script {
        Some(p) if p.as_os_str() != "-" => std::fs::read_to_string(p)
            .with_context(|| format!("cannot read script {}", p.display())),
        _ => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map(|_| s)
                .context("cannot read the script from stdin")
        }
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("era_emulate: {e:#}");
            return ExitCode::from(2);
        }
    };
    let lines = match parse_script(&text) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("era_emulate: syntax error: {e}");
            return ExitCode::from(2);
        }
    };
    let block_size = match parse_block_size(&block_size) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("era_emulate: --block-size {block_size}: {e}");
            return ExitCode::from(2);
        }
    };
    let sync = !unsafe_no_sync;
    let devices = (|| -> anyhow::Result<RunConfig> {
        let meta_io = FileIo::open(&meta, OpenMode::WriteExclusive)
            .with_context(|| format!("Error opening metadata device {}", meta.display()))?;
        let origin_io = FileOrigin::new(open_rw(&origin)?, sync)
            .with_context(|| format!("Error opening data device {}", origin.display()))?;
        Ok(RunConfig {
            meta: Arc::new(meta_io),
            origin: Arc::new(origin_io),
            block_size,
            length,
            sync,
            meta_name: meta.display().to_string(),
            origin_name: origin.display().to_string(),
        })
    })();
    let cfg = match devices {
        Ok(c) => c,
        Err(e) => {
            eprintln!("era_emulate: {e:#}");
            return ExitCode::from(1);
        }
    };
    let mut runner = Runner::new(cfg);
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let ok = runner.run(&lines, &mut stdout.lock(), &mut stderr.lock());
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

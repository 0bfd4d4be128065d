//! `era_emulate`'s arguments.

// The doc comments are clap's help text, where `[ARG]` means an optional argument, not a
// rustdoc link.
#![allow(rustdoc::broken_intra_doc_links)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Run the whole dm-era target offline against two image files.
#[derive(Parser, Debug)]
#[command(name = "era_emulate", version, about, after_help = super::exit::EXIT_STATUS_HELP)]
pub struct EmulateArgs {
    #[command(subcommand)]
    pub command: EmulateCommand,
}

#[derive(Subcommand, Debug)]
pub enum EmulateCommand {
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
        after_help = "Devices and locks: the metadata and the origin are each held \
exclusively while the target runs: a block device with O_EXCL, an image file with an \
exclusive lock (flock); a file another process uses is refused (\"in use by another \
process\"). The two must be different files. While a metadata snapshot is held, \
era_dump, era_invalidate and era_check read it with --metadata-snapshot.\n\n\
Exit status: 0 when every command succeeded; 1 when the open or \
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
        /// Data block size in 512-byte sectors: a positive multiple of 8 (8, 16, 24, 128...).
        #[arg(long = "block-size", value_name = "SECTORS")]
        block_size: String,
        /// Table length in sectors, at most the origin's size [default: the origin's size].
        #[arg(long, value_name = "SECTORS")]
        length: Option<u64>,
        /// Skip the flushes (fdatasync) of every commit: fast, not crash safe.
        #[arg(long = "unsafe-no-sync")]
        unsafe_no_sync: bool,
        /// The script; stdin when absent or `-`.
        script: Option<PathBuf>,
    },
}

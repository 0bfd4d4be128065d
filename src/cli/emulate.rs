//! `era_emulate`'s arguments.

// The doc comments are clap's help text, where `[ARG]` means an optional argument, not a
// rustdoc link.
#![allow(rustdoc::broken_intra_doc_links)]

use clap::{Parser, Subcommand, ValueHint};
use std::path::PathBuf;

/// Run the whole dm-era target offline against two image files.
#[derive(Parser, Debug)]
#[command(
    name = "era_emulate",
    version,
    disable_help_subcommand = true,
    after_help = super::exit::EXIT_STATUS_HELP
)]
pub struct EmulateArgs {
    #[command(subcommand)]
    pub command: EmulateCommand,
}

#[derive(Subcommand, Debug)]
pub enum EmulateCommand {
    /// Run the target on two image files, driven by a script of commands.
    ///
    /// Opens the target as `dmsetup create` would (formats metadata whose block 0 is all
    /// zeros; otherwise opens it, and a crashed era's live writeset is archived), runs
    /// SCRIPT one command at a time, and closes the target cleanly (suspend + remove)
    /// unless the last command was `crash`. SECTOR and COUNT are in 512-byte sectors;
    /// numbers are decimal or 0x-prefixed hex; `#` starts a comment.
    ///
    /// write SECTOR COUNT [BYTE]: write COUNT sectors at SECTOR, every byte BYTE (default
    /// 0xff). Each block the write touches that is not yet marked in the current era is
    /// marked and committed before the data reaches the origin. With block size 8,
    /// `write 64 16 7` writes blocks 8 and 9 with bytes of value 7.
    ///
    /// read SECTOR COUNT: read and print `read SECTOR COUNT crc32c=XXXXXXXX`.
    ///
    /// discard SECTOR COUNT: one discard request; as in the kernel it marks only the block
    /// of its first sector, and the origin's data is left as it is.
    ///
    /// flush: an empty flush (fdatasync of the origin unless --unsafe-no-sync).
    ///
    /// checkpoint | take_metadata_snap | drop_metadata_snap | message WORD...: a message,
    /// as `dmsetup message DEV 0 WORD...` sends it. checkpoint starts a new era;
    /// take_metadata_snap starts a new era and freezes a copy of the metadata for
    /// `--metadata-snapshot` readers; drop_metadata_snap releases it.
    ///
    /// status: print the INFO status line, as `dmsetup status` does:
    /// `0 LENGTH era 8 USED/TOTAL CURRENT_ERA SNAP` (USED/TOTAL in 4 KiB metadata blocks,
    /// SNAP the held snapshot's block or `-`). table: print the table line.
    ///
    /// suspend | resume: as `dmsetup suspend` / `resume` (a suspend archives the era's
    /// writeset; the resume starts a new era).
    ///
    /// reload SECTORS: `dmsetup reload` of a table of a new length, then suspend + resume:
    /// the era array grows or shrinks to the new number of blocks.
    ///
    /// close: suspend (if needed) and remove the device. open [SECTORS]: create it again,
    /// with the given or the default length.
    ///
    /// crash: stop at once, as a power cut would (no suspend, no final commit); only what
    /// was committed survives, and every write that was acknowledged is marked.
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
        #[arg(long = "block-size", value_name = "SECTORS", value_hint = ValueHint::Other)]
        block_size: String,
        /// Table length in sectors, at most the origin's size [default: the origin's size].
        #[arg(long, value_name = "SECTORS", value_hint = ValueHint::Other)]
        length: Option<u64>,
        /// Skip the flushes (fdatasync) of every commit: fast, not crash safe.
        #[arg(long = "unsafe-no-sync")]
        unsafe_no_sync: bool,
        /// The script; stdin when absent or `-`.
        script: Option<PathBuf>,
    },
}

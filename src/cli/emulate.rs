//! `era_emulate`'s arguments.

// The doc comments are clap's help text, where `[ARG]` means an optional argument, not a
// rustdoc link.
#![allow(rustdoc::broken_intra_doc_links)]

use crate::commands::emulate::{EmulateOptions, TableOptions};
use crate::serve::server::Options;
use crate::serve::{DiscardMode, Limits};
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Run the dm-era target on a metadata image and an origin image: from a script
/// (run), or live over NBD (serve, with message and status).
#[derive(Parser, Debug)]
#[command(
    name = "era_emulate",
    version,
    disable_help_subcommand = true,
    after_help = super::exit::EXIT_STATUS_HELP,
    after_long_help = super::examples::long_help("era_emulate", super::exit::EXIT_STATUS_HELP),
    mut_subcommands = super::examples::with_examples_of("era_emulate")
)]
pub struct EmulateArgs {
    #[command(subcommand)]
    pub command: EmulateCommand,
}

/// The table and the images, as `run` and `serve` take them.
#[derive(Args, Debug)]
pub struct TableArgs {
    /// The metadata image (an existing file; all zeros = unformatted).
    #[arg(long)]
    pub meta: PathBuf,
    /// The origin image (an existing file, read and written at SECTOR*512).
    #[arg(long)]
    pub origin: PathBuf,
    /// Data block size in 512-byte sectors: a positive multiple of 8 (8, 16, 24, 128...).
    #[arg(long = "block-size", value_name = "SECTORS", value_hint = ValueHint::Other)]
    pub block_size: String,
    /// Table length in sectors, at most the origin's size [default: the origin's size].
    #[arg(long, value_name = "SECTORS", value_hint = ValueHint::Other)]
    pub length: Option<u64>,
    /// Skip the flushes (fdatasync) of every commit: fast, not crash safe.
    #[arg(long = "unsafe-no-sync")]
    pub unsafe_no_sync: bool,
    /// Metadata blocks kept in memory, in MiB (at least 1): the metadata's share of the
    /// memory, whatever the size of the metadata or of a transaction.
    #[arg(long = "cache-mb", value_name = "MIB", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..), value_hint = ValueHint::Other)]
    pub cache_mb: u64,
}

impl TableArgs {
    /// The cache limit in 4 KiB blocks.
    pub fn cache_blocks(&self) -> usize {
        usize::try_from(self.cache_mb.saturating_mul(256)).unwrap_or(usize::MAX)
    }

    /// The table as the command takes it.
    pub fn table(&self) -> TableOptions {
        TableOptions {
            meta: self.meta.clone(),
            origin: self.origin.clone(),
            block_size: self.block_size.clone(),
            length: self.length,
            sync: !self.unsafe_no_sync,
            cache_blocks: self.cache_blocks(),
        }
    }
}

impl EmulateArgs {
    /// Whether the command is `serve` (which stops on SIGTERM and SIGINT).
    pub fn is_serve(&self) -> bool {
        matches!(self.command, EmulateCommand::Serve { .. })
    }

    /// The command's options.
    pub fn options(&self) -> EmulateOptions {
        match &self.command {
            EmulateCommand::Run { table, script } => EmulateOptions::Run {
                table: table.table(),
                script: script.clone(),
            },
            EmulateCommand::Serve {
                table,
                socket,
                listen,
                discard,
                handshake_limit,
            } => EmulateOptions::Serve {
                table: table.table(),
                server: Options {
                    socket: socket.clone(),
                    listen: *listen,
                    limits: Limits {
                        discard: match discard {
                            DiscardArg::Mark => DiscardMode::Mark,
                            DiscardArg::Kernel => DiscardMode::Kernel,
                            DiscardArg::Ignore => DiscardMode::Ignore,
                        },
                        handshake: Duration::from_secs(*handshake_limit),
                    },
                },
            },
            EmulateCommand::Message { socket, words } => EmulateOptions::Control {
                socket: socket.clone(),
                line: format!("message {}", words.join(" ")),
            },
            EmulateCommand::Status { socket } => EmulateOptions::Control {
                socket: socket.clone(),
                line: "status".into(),
            },
        }
    }
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
    /// of its first sector, and the origin's data is left as it is (DISCARDS in
    /// era_emulate-serve(8) says why this matters to backups).
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
        #[command(flatten)]
        table: TableArgs,
        /// The script; stdin when absent or `-`.
        script: Option<PathBuf>,
    },

    /// Serve the target over the NBD protocol on a Unix socket (and optionally TCP)
    /// until SIGTERM or SIGINT, then close it cleanly.
    ///
    /// The export (the default, empty name) is the table: LENGTH sectors. Reads pass
    /// through to the origin. A write to a block not yet marked in the current era is
    /// acknowledged only after its mark is committed (fdatasync unless
    /// --unsafe-no-sync); writes in flight together share one commit. TRIM marks every
    /// block it touches, then punches a hole in the origin (--discard says otherwise;
    /// see DISCARDS). WRITE_ZEROES is a write of zeros. FUA and FLUSH flush the origin.
    /// Several requests may be in flight on one connection (replies out of order), and
    /// several connections at once share one target (the export advertises
    /// multi-connection consistency). The old writesets' digest runs in the background.
    #[command(
        after_help = "Control: `era_emulate message --socket PATH checkpoint` (or \
take_metadata_snap, drop_metadata_snap) and `era_emulate status --socket PATH` talk to the \
running server through the control socket PATH.ctl. While a metadata snapshot is held, \
era_dump, era_invalidate and era_check read it with --metadata-snapshot.\n\n\
Discards: the kernel's era target does not split a discard at its block boundaries and \
marks only the block of the discard's first sector, while the device below it may \
discard the whole range. The other blocks of the range then change (they read as zeros, \
or as anything) without being marked: era_invalidate does not list them, and a backup \
that copies the blocks it lists differs from the origin from then on. --discard mark (the \
default) marks every block a discard touches, so every block that changed is listed. \
--discard kernel does what the kernel does, to reproduce what a live dm-era device \
records (era_emulate run always does). --discard ignore does not offer TRIM to the \
clients: nothing is discarded, nothing needs a mark. On a live dm-era device, keep \
discards from reaching it (no discard mount option, no fstrim) or follow them with a full \
backup.\n\n\
Clients: at most 64 clients are served at once. A client must finish the NBD handshake \
within --handshake-limit seconds; while it has not, it may be disconnected to make room \
for another one (at most 32 connections are in their handshake at once), so silent \
connections cannot lock working clients out.\n\n\
Stopping: SIGTERM or SIGINT stops accepting connections, answers every request already \
read, commits and closes the target as `close` does, removes the sockets and exits 0. A \
client that does not take its replies within 5 seconds is disconnected first. After a \
kill -9 the images reopen with every acknowledged write marked, as after `crash`.\n\n\
Sockets: a socket path (or PATH.ctl) a running server answers on is refused; a socket \
file left by a server that stopped is replaced.\n\n\
Devices and locks: as for `run`, both images are held with an exclusive lock while the \
server runs.\n\n\
Exit status: 0 after a clean stop; 1 when the open, the sockets or the close failed; 2 for \
bad usage."
    )]
    Serve {
        #[command(flatten)]
        table: TableArgs,
        /// The NBD Unix socket to create (the control socket is PATH.ctl).
        #[arg(long, value_name = "PATH")]
        socket: PathBuf,
        /// Serve NBD on TCP as well, at [ADDR:]PORT (ADDR defaults to 127.0.0.1).
        #[arg(long, value_name = "ADDR:PORT", value_parser = parse_listen)]
        listen: Option<SocketAddr>,
        /// What a TRIM (discard) request marks (see DISCARDS).
        #[arg(long, value_name = "MODE", value_enum, default_value_t = DiscardArg::Mark)]
        discard: DiscardArg,
        /// Seconds a client may take over the NBD handshake before it is disconnected.
        #[arg(long = "handshake-limit", value_name = "SECONDS", default_value_t = 10,
              value_parser = clap::value_parser!(u64).range(1..=3600), value_hint = ValueHint::Other)]
        handshake_limit: u64,
    },
    /// Send a message to a running `serve`, as `dmsetup message` does to a live
    /// target: checkpoint, take_metadata_snap or drop_metadata_snap.
    #[command(
        after_help = "Exit status: 0 when the target took the message; 1 when it \
rejected it or the server could not be reached; 2 for bad usage."
    )]
    Message {
        /// The server's NBD socket (its --socket).
        #[arg(long, value_name = "PATH")]
        socket: PathBuf,
        /// The message.
        #[arg(required = true, num_args = 1..)]
        words: Vec<String>,
    },
    /// Print the INFO status line of a running `serve`, as `dmsetup status` does (the
    /// same line as `run`'s `status`).
    #[command(
        after_help = "Exit status: 0 when the line was printed; 1 when the server \
could not be reached or the status failed; 2 for bad usage."
    )]
    Status {
        /// The server's NBD socket (its --socket).
        #[arg(long, value_name = "PATH")]
        socket: PathBuf,
    },
}

/// `serve --discard`: what a TRIM request marks.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscardArg {
    /// Mark every block the discard touches, then discard the range on the origin.
    Mark,
    /// Mark only the block of the discard's first sector, as the kernel's target does,
    /// then discard the range on the origin.
    Kernel,
    /// Do not offer TRIM; a TRIM request is refused and nothing is discarded.
    Ignore,
}

/// Parses `[ADDR:]PORT`; the address defaults to 127.0.0.1.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse::<SocketAddr>()
        .map_err(|e| format!("{s:?} is not [ADDR:]PORT: {e}"))
}

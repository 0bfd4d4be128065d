//! `era_copy`'s arguments.

pub use crate::commands::copy::Job;
use crate::commands::copy::{
    ApplyOptions, CopyOptions, Dest, ReportFormat, DEFAULT_BUFFER, MIN_BUFFER,
};
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, ValueEnum, ValueHint};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// What `era_copy` locks and reports, then the exit status.
pub const COPY_HELP: &str = "Devices and locks: the source is read without a lock (it must be a frozen view: an LVM or dm snapshot of the origin, a suspended device, or an image file nothing writes while the copy runs); a block device is read and written with O_DIRECT. The destination is held exclusively (O_EXCL for a block device, an exclusive flock for an image file); an image file is created, or extended, to the source's length. The metadata is opened as era_invalidate opens it: exclusively, or shared with --metadata-snapshot (a live device needs it).

Report: every run prints on standard error what it copied and the era the next run starts from (--written-since); --report json prints the same as JSON on standard output (standard error when the delta goes to standard output): mode, since, until, next_written_since, block_size, source_length, blocks, bytes, extents, seconds, verified, failed (a list of {block, begin, end} in bytes).

Interrupted: a copy or an apply stopped part-way (SIGINT, a crash) is completed by running the same command again; --state advances only after a run that completed.

Exit status: 0 on success; 1 on failure (damaged metadata, an I/O error, bad input, ranges the source could not read with --keep-going); 2 on a usage error.";

/// Copy the blocks written since an era: the incremental backup.
///
/// Copies every origin block that era_invalidate --written-since N lists (the live
/// writeset counts; the last block ends at the source's end) from SOURCE, a frozen
/// view of the origin, to the same offset of DEST, a backup image or device; nothing
/// else is read or written. --written-since 0 is the full first backup. With
/// --dest-delta the blocks are written as a delta stream instead, which --apply writes
/// into a backup (docs/delta-format.md): every extent's checksum is verified before it
/// is written. Adjacent blocks are copied as large reads, several in flight.
#[derive(Debug, Parser)]
#[command(
    name = "era_copy",
    version,
    after_help = COPY_HELP,
    after_long_help = super::examples::long_help("era_copy", COPY_HELP)
)]
pub struct CopyArgs {
    /// The era metadata device or image.
    #[arg(long, value_name = "META", required_unless_present = "apply")]
    pub metadata: Option<PathBuf>,
    /// Read the metadata snapshot held by a live target (take_metadata_snap first).
    #[arg(long, visible_alias = "metadata-snap")]
    pub metadata_snapshot: bool,
    /// Copy the blocks written in era N or later (0: everything, the first backup).
    #[arg(long, value_name = "N", value_hint = ValueHint::Other, required_unless_present = "apply")]
    pub written_since: Option<u32>,
    /// The origin as a frozen view: a snapshot, a suspended device or an image file.
    #[arg(long, value_name = "SRC", required_unless_present = "apply")]
    pub source: Option<PathBuf>,
    /// The backup: a block device or an image file (created or extended).
    #[arg(long, value_name = "DST", required_unless_present = "dest_delta")]
    pub dest: Option<PathBuf>,
    /// Write the changed blocks as a delta stream to FILE (- for standard output),
    /// replaced only when complete.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dest", "apply", "verify"])]
    pub dest_delta: Option<PathBuf>,
    /// Apply the delta stream DELTA (- for standard input) to --dest.
    #[arg(long, value_name = "DELTA", conflicts_with_all = ["metadata", "source", "written_since", "metadata_snapshot", "length", "keep_going", "verify"])]
    pub apply: Option<PathBuf>,
    /// The era table's length in 512-byte sectors (dmsetup table's second field), when
    /// the source is longer than the table; it must make the metadata's number of
    /// blocks.
    #[arg(long, value_name = "SECTORS", value_hint = ValueHint::Other)]
    pub length: Option<u64>,
    /// Memory for data in flight, in bytes (suffixes K, M, G), at least 64K.
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_size, value_hint = ValueHint::Other)]
    pub buffer_size: usize,
    /// Read back what was written and compare it with the source.
    #[arg(long)]
    pub verify: bool,
    /// On a read error of the source, copy the rest, list the ranges that failed and
    /// exit 1 (without it, the copy stops naming the block).
    #[arg(long)]
    pub keep_going: bool,
    /// A state file beside the backup recording the era range it holds: a run that
    /// would leave a gap or go backwards is refused. Written after a complete run.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Run even though --state says it leaves a gap or goes backwards.
    #[arg(long)]
    pub force: bool,
    /// How to print the report.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = ReportArg::Text)]
    pub report: ReportArg,
}

/// `--report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportArg {
    /// One line on standard error.
    Text,
    /// The line, and a JSON object on standard output.
    Json,
}

impl From<ReportArg> for ReportFormat {
    fn from(arg: ReportArg) -> ReportFormat {
        match arg {
            ReportArg::Text => ReportFormat::Text,
            ReportArg::Json => ReportFormat::Json,
        }
    }
}

/// Parses a size: a number with an optional K, M or G (powers of 1024).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let (num, mul) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1usize << 10),
        Some((i, 'M' | 'm')) => (&s[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    let n: usize = num
        .parse()
        .map_err(|e| format!("{s:?} is not a size (a number, then K, M or G): {e}"))?;
    let bytes = n
        .checked_mul(mul)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if bytes < MIN_BUFFER {
        return Err(format!("{s:?} is below the minimum of 64K"));
    }
    Ok(bytes)
}

impl CopyArgs {
    /// The job, or a usage error.
    pub fn job(&self, interrupt: Arc<AtomicBool>) -> Result<Job, clap::Error> {
        let missing = |msg: &str| Self::command().error(ErrorKind::MissingRequiredArgument, msg);
        if let Some(delta) = &self.apply {
            let dest = self
                .dest
                .clone()
                .ok_or_else(|| missing("--apply needs --dest"))?;
            return Ok(Job::Apply(ApplyOptions {
                delta: delta.clone(),
                dest,
                state: self.state.clone(),
                force: self.force,
                buffer_size: self.buffer_size.max(MIN_BUFFER),
                interrupt,
            }));
        }
        let dest = match (&self.dest, &self.dest_delta) {
            (_, Some(d)) => Dest::Delta(d.clone()),
            (Some(d), None) => Dest::Image(d.clone()),
            (None, None) => return Err(missing("give --dest or --dest-delta")),
        };
        let need = |v: Option<PathBuf>, name: &str| v.ok_or_else(|| missing(name));
        Ok(Job::Copy(CopyOptions {
            metadata: need(self.metadata.clone(), "--metadata is required")?,
            metadata_snapshot: self.metadata_snapshot,
            written_since: self
                .written_since
                .ok_or_else(|| missing("--written-since is required"))?,
            source: need(self.source.clone(), "--source is required")?,
            dest,
            length: self.length,
            buffer_size: self.buffer_size.max(MIN_BUFFER),
            verify: self.verify,
            keep_going: self.keep_going,
            state: self.state.clone(),
            force: self.force,
            interrupt,
        }))
    }
}

// The help's default, "64M", is the commands' default.
const _: () = assert!(DEFAULT_BUFFER == 64 << 20);

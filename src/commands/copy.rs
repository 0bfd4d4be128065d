//! `era_copy`: the incremental backup. Copies every block `era_invalidate
//! --written-since N` lists from a frozen view of the origin to the same offset of a
//! backup image or device, or writes them as a delta stream ([`delta`]); `--apply`
//! writes a delta stream into a backup ([`apply`]).
//!
//! The blocks come from the same set as `era_invalidate`'s ([`written_since_set`]: the
//! live writeset counts), as maximal runs, each turned into bytes (the last block ends
//! at the source's end) and split into pieces of at most the chunk size, read by
//! several threads into a bounded pool of buffers (`pipeline`) and written in order.
//! Memory is the buffer (`--buffer-size`) plus the set, `nr_blocks / 8` bytes.

mod apply;
pub mod delta;
mod error;
mod pipe;
mod pipeline;
mod report;
mod state;
mod target;

pub use apply::{apply, ApplyOptions};
pub use error::CopyError;
pub use report::{CopyReport, FailedRange, ReportFormat};

use super::input::open_view_at;
use super::invalidate::{Scale, Unit};
use super::output::{output_id, Output};
use super::progress::{Progress, Unit as ProgressUnit};
use crate::commands::error::{Error, Result};
use crate::era::check::{check, CheckOptions};
use crate::era::invalidate::{written_since_set, DataBlockSet};
use delta::{DeltaHeader, DeltaWriter};
use pipeline::{batches, split, Piece, Shape};
use report::push_failed;
use state::State;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use target::{refuse_guarded, Guarded, Side};

/// The default `--buffer-size`.
pub const DEFAULT_BUFFER: usize = 64 << 20;
/// The smallest `--buffer-size`.
pub const MIN_BUFFER: usize = 64 << 10;
/// Reads in flight.
const THREADS: usize = 4;
/// Buffers in the pool (more than the threads, so that reading goes on while the
/// consumer writes).
const BUFFERS: usize = 8;

/// Where the changed blocks go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// To the same offsets of this image or device.
    Image(PathBuf),
    /// As a delta stream to this file (`-`: standard output).
    Delta(PathBuf),
}

/// What `era_copy` is to do.
#[derive(Debug, Clone)]
pub enum Job {
    /// A copy to an image or a delta stream.
    Copy(CopyOptions),
    /// `--apply`: a delta stream written into a backup.
    Apply(ApplyOptions),
}

/// Does `job`, then reports its outcome as every tool does, on `report` (the tool's
/// prefixed standard error): the summary line naming the next run's `--written-since`,
/// then a line for each range the source could not read; with [`ReportFormat::Json`],
/// the summary as JSON too. A run that could not read some ranges (`--keep-going`) has
/// said so: it ends in [`Error::Reported`].
pub fn run_job(
    job: &Job,
    format: ReportFormat,
    progress: &Progress,
    report: &mut dyn Write,
) -> Result<()> {
    let (outcome, delta_on_stdout) = match job {
        Job::Copy(opts) => (run(opts, progress)?, opts.dest == Dest::Delta("-".into())),
        Job::Apply(opts) => (apply(opts, progress)?, false),
    };
    progress.finish();
    report::write_outcome(&outcome, format, delta_on_stdout, report)?;
    if outcome.failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Reported)
    }
}

/// What `era_copy` was asked to copy.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    pub metadata: PathBuf,
    pub metadata_snapshot: bool,
    pub written_since: u32,
    pub source: PathBuf,
    pub dest: Dest,
    /// The era table's length in sectors, when the source is longer.
    pub length: Option<u64>,
    pub buffer_size: usize,
    pub verify: bool,
    pub keep_going: bool,
    pub state: Option<PathBuf>,
    pub force: bool,
    /// Set (by a signal handler) to stop at the next piece.
    pub interrupt: Arc<AtomicBool>,
}

/// The pool's shape for a buffer of `bytes` and blocks of `block_bytes`: pieces are a
/// whole number of blocks when a block fits, of 4096 bytes otherwise.
fn shape(bytes: usize, block_bytes: u64) -> Shape {
    let per = (bytes / BUFFERS).max(8192);
    let per = per.min(delta::MAX_EXTENT_BYTES as usize);
    let unit = usize::try_from(block_bytes)
        .ok()
        .filter(|&b| b <= per && b.is_multiple_of(4096))
        .unwrap_or(4096);
    Shape {
        threads: THREADS,
        nr_buffers: BUFFERS,
        capacity: per / unit * unit,
    }
}

/// The byte length copies end at: the source's, which must make the metadata's number
/// of blocks, or `--length`'s.
fn origin_length(src: &Side, block_size: u32, nr_blocks: u32, length: Option<u64>) -> Result<u64> {
    let block_bytes = u64::from(block_size) * 512;
    if let Some(sectors) = length {
        // Validates that the length makes nr_blocks blocks.
        Scale::new(Unit::Sectors, block_size, nr_blocks, Some(sectors))?;
        let needed = sectors.saturating_mul(512);
        if src.len < needed {
            return Err(CopyError::SourceShort {
                path: src.path.clone(),
                bytes: src.len,
                needed,
            }
            .into());
        }
        return Ok(needed);
    }
    if !src.len.is_multiple_of(512) {
        return Err(CopyError::SourceSectors {
            path: src.path.clone(),
            bytes: src.len,
        }
        .into());
    }
    let blocks = if block_bytes == 0 {
        0
    } else {
        src.len.div_ceil(block_bytes)
    };
    if blocks != u64::from(nr_blocks) || block_bytes == 0 {
        return Err(CopyError::SourceLength {
            path: src.path.clone(),
            bytes: src.len,
            blocks,
            block_size,
            nr_blocks,
        }
        .into());
    }
    Ok(src.len)
}

/// The runs of `set` as byte ranges.
fn byte_ranges<'a>(
    set: &'a DataBlockSet,
    scale: &'a Scale,
) -> impl Iterator<Item = (u64, u64)> + 'a {
    set.runs().map(|r| scale.run(r)).filter(|(b, e)| e > b)
}

/// The state check before a run covering `next`, unless `--force`.
fn check_state(path: Option<&Path>, next: &State, force: bool) -> Result<Option<State>> {
    let Some(path) = path else { return Ok(None) };
    let prev = state::load(path)?;
    if let (Some(p), false) = (&prev, force) {
        state::check(path, p, next)?;
    }
    Ok(prev)
}

/// Where the pieces go: the destination image (which the reading threads write
/// themselves) or the delta stream (written in order by the calling thread).
enum Sink<'a> {
    Image(&'a Side),
    Delta(&'a mut DeltaWriter<Output>),
}

impl Sink<'_> {
    fn data(&mut self, offset: u64, data: &[u8], crc: Option<u32>) -> Result<()> {
        match self {
            Sink::Image(d) => d
                .write_at(data, offset)
                .map_err(|source| write_error(d, offset, data.len(), source)),
            Sink::Delta(w) => {
                let crc = crc.unwrap_or_else(|| crc32c::crc32c(data));
                w.extent_with_crc(offset, data, crc)
                    .map_err(|e| Error::output("delta", e))
            }
        }
    }

    fn failed(&mut self, offset: u64, len: u64) -> Result<()> {
        match self {
            Sink::Image(_) => Ok(()),
            Sink::Delta(w) => w.failed(offset, len).map_err(|e| Error::output("delta", e)),
        }
    }
}

fn write_error(dest: &Side, offset: u64, len: usize, source: std::io::Error) -> Error {
    CopyError::Write {
        path: dest.path.clone(),
        offset,
        end: offset + len as u64,
        source,
    }
    .into()
}

/// What a reading thread did with a batch.
enum Done {
    /// Every piece read (and, to an image, written); to a delta, each piece's crc32c.
    All(Vec<u32>),
    /// The pieces before `at` as in `All`; piece `at` did not read, so it and the rest
    /// of the batch are read again a block at a time (`salvage`) by the consumer.
    ReadFailed { at: usize, crcs: Vec<u32> },
    /// Writing piece `at` to the image failed.
    WriteFailed { at: usize, source: std::io::Error },
}

/// What the reading threads do with a batch besides reading it.
#[derive(Clone, Copy)]
enum Then<'a> {
    /// Write it to this image at once: a block device (`O_DIRECT`), where requests in
    /// flight together are what makes it fast, and the pieces never overlap, so the
    /// writes need no order.
    Write(&'a Side),
    /// Nothing: an image file, written by the calling thread in order. A file system
    /// takes one lock a file for a buffered write, so writers on several threads only
    /// wait for each other (on 16 GiB with 10 % of the blocks changed, scattered, four
    /// writing threads took 4.5 and 14.4 s where one took 3.7 and 3.9 s).
    Nothing,
    /// Checksum each piece for the delta stream, so that the calling thread only writes
    /// the stream.
    Checksum,
}

/// A reading thread's work on a batch: each piece read into its place in `buf`, then
/// as `then` says.
fn work(src: &Side, then: Then<'_>, batch: &[Piece], buf: &mut [u8]) -> Done {
    let mut crcs = Vec::with_capacity(if matches!(then, Then::Checksum) {
        batch.len()
    } else {
        0
    });
    let mut pos = 0;
    for (at, p) in batch.iter().enumerate() {
        let window = &mut buf[pos..pos + p.len];
        if src.read_at(window, p.offset).is_err() {
            return Done::ReadFailed { at, crcs };
        }
        match then {
            Then::Write(dest) => {
                if let Err(source) = dest.write_at(window, p.offset) {
                    return Done::WriteFailed { at, source };
                }
            }
            Then::Nothing => {}
            Then::Checksum => crcs.push(crc32c::crc32c(window)),
        }
        pos += p.len;
    }
    Done::All(crcs)
}

/// Runs a copy (to an image or a delta stream).
pub fn run(opts: &CopyOptions, progress: &Progress) -> Result<CopyReport> {
    let start = Instant::now();
    progress.stage("reading metadata");
    let (io, view) = open_view_at(&opts.metadata, opts.metadata_snapshot)?;
    let findings = check(
        &io,
        &CheckOptions {
            super_block_only: false,
            metadata_snapshot: opts.metadata_snapshot,
        },
    );
    if findings.has_errors() {
        let first = findings
            .findings
            .iter()
            .find(|f| f.is_error())
            .map(|f| f.report_line())
            .unwrap_or_default();
        return Err(CopyError::Damaged {
            path: opts.metadata.clone(),
            nr_errors: findings.nr_errors(),
            first,
        }
        .into());
    }
    let set = written_since_set(&io, &view, opts.written_since)
        .map_err(|e| Error::era_input(&opts.metadata, e))?;
    drop(io);
    let (block_size, nr_blocks) = (view.sb.data_block_size, view.sb.nr_blocks);
    let until = view.sb.current_era.get();
    let block_bytes = u64::from(block_size) * 512;

    let src = Side::source(&opts.source)?;
    let length = origin_length(&src, block_size, nr_blocks, opts.length)?;
    let scale = Scale::new(Unit::Bytes, block_size, nr_blocks, Some(length / 512))?;
    let next = State {
        block_size,
        source_length: length,
        since: opts.written_since,
        until,
    };
    let prev = check_state(opts.state.as_deref(), &next, opts.force)?;

    let (mut blocks, mut bytes, mut runs) = (0u64, 0u64, 0u64);
    for (b, e) in set.runs() {
        blocks += u64::from(e.get() - b.get());
        runs += 1;
    }
    for (b, e) in byte_ranges(&set, &scale) {
        bytes += e - b;
    }

    // What is read must not be written over: the source, and the metadata (read whole
    // already, but the next run reads it again).
    let mut read = vec![Guarded {
        role: "source",
        path: &src.path,
        id: src.id,
    }];
    read.extend(Guarded::at("metadata", &opts.metadata));
    let (image, mut delta) = match &opts.dest {
        Dest::Image(p) => (Some(Side::dest(p, length, &read)?), None),
        Dest::Delta(p) => {
            if let Some(id) = output_id(Some(p.as_path())) {
                refuse_guarded(
                    Some(p.as_path()).filter(|p| p.as_os_str() != "-"),
                    &id,
                    &read,
                )?;
            }
            let out = Output::open(Some(p))?;
            if p.as_os_str() == "-" {
                pipe::widen(&std::io::stdout());
            }
            let header = DeltaHeader {
                block_size,
                source_length: length,
                since: opts.written_since,
                until,
            };
            let w = DeltaWriter::new(out, &header).map_err(|e| Error::output("delta", e))?;
            (None, Some(w))
        }
    };
    let shape = shape(opts.buffer_size, block_bytes);
    let then = match &image {
        Some(dest) if dest.is_direct() => Then::Write(dest),
        Some(_) => Then::Nothing,
        None => Then::Checksum,
    };
    progress.stage_of("copying", bytes, ProgressUnit::Bytes);
    let mut failed = Vec::new();
    let at = std::cell::Cell::new(0u64);
    pipeline::run::<Vec<Piece>, Done, Error>(
        batches(
            split(byte_ranges(&set, &scale), shape.capacity),
            shape.capacity,
        ),
        shape,
        &opts.interrupt,
        |batch, buf| work(&src, then, batch, buf.all_mut()),
        |batch, buf, done| {
            let mut sink = match (&image, &mut delta) {
                (Some(dest), _) => Sink::Image(dest),
                (None, Some(w)) => Sink::Delta(w),
                (None, None) => return Ok(()),
            };
            let (good, crcs) = match done {
                Done::All(crcs) => (batch.len(), crcs),
                Done::ReadFailed { at, crcs } => (at, crcs),
                Done::WriteFailed { at, source } => {
                    let p = batch
                        .get(at)
                        .copied()
                        .unwrap_or(Piece { offset: 0, len: 0 });
                    let Sink::Image(dest) = sink else {
                        return Ok(());
                    };
                    return Err(write_error(dest, p.offset, p.len, source));
                }
            };
            let mut pos = 0;
            for (i, &p) in batch.iter().enumerate() {
                at.set(p.offset);
                let window = &mut buf.all_mut()[pos..pos + p.len];
                if i >= good {
                    salvage(
                        &src,
                        p,
                        window,
                        block_bytes,
                        opts.keep_going,
                        &mut sink,
                        &mut failed,
                    )?;
                } else if !matches!(then, Then::Write(_)) {
                    sink.data(p.offset, window, crcs.get(i).copied())?;
                }
                pos += p.len;
                progress.inc(p.len as u64);
            }
            if let (Sink::Image(dest), Some(first), Some(last)) =
                (&sink, batch.first(), batch.last())
            {
                let bytes = batch.iter().map(|p| p.len as u64).sum();
                dest.write_back(
                    first.offset,
                    last.offset + last.len as u64,
                    batch.len(),
                    bytes,
                );
            }
            Ok(())
        },
        || {
            CopyError::Interrupted {
                offset: at.get(),
                what: "copy",
            }
            .into()
        },
    )?;
    let extents = match (image, delta) {
        (Some(dest), _) => {
            dest.sync().map_err(|source| CopyError::Write {
                path: dest.path.clone(),
                offset: 0,
                end: length,
                source,
            })?;
            if opts.verify {
                progress.stage_of("verifying", bytes, ProgressUnit::Bytes);
                verify(&src, &dest, &set, &scale, opts, &failed, progress)?;
            }
            runs
        }
        (None, Some(w)) => {
            let extents = w.totals().extents;
            let out = w.finish().map_err(|e| Error::output("delta", e))?;
            out.commit()?;
            extents
        }
        (None, None) => 0,
    };
    if failed.is_empty() {
        if let Some(path) = &opts.state {
            state::save(path, &state::after(prev.as_ref(), &next))?;
        }
    }
    Ok(CopyReport {
        mode: match opts.dest {
            Dest::Image(_) => "copy",
            Dest::Delta(_) => "delta",
        },
        since: opts.written_since,
        until,
        next_written_since: until,
        block_size,
        source_length: length,
        blocks,
        bytes,
        extents,
        seconds: start.elapsed().as_secs_f64(),
        verified: opts.verify && matches!(opts.dest, Dest::Image(_)),
        failed,
    })
}

/// A piece (in `buf`) of a batch whose read failed, read again a block at a time: the blocks that read are
/// written, the first that does not stops the copy naming it, or with `keep_going` is
/// listed in `failed`.
fn salvage(
    src: &Side,
    p: Piece,
    buf: &mut [u8],
    block_bytes: u64,
    keep_going: bool,
    sink: &mut Sink,
    failed: &mut Vec<FailedRange>,
) -> Result<()> {
    let end = p.offset + p.len as u64;
    let mut pos = p.offset;
    while pos < end {
        let block = pos / block_bytes.max(1);
        let next = ((block + 1) * block_bytes).min(end);
        // Both within the piece, whose length is a usize.
        let (rel, n) = ((pos - p.offset) as usize, (next - pos) as usize);
        let window = &mut buf[rel..rel + n];
        match src.read_at(window, pos) {
            Ok(()) => sink.data(pos, window, None)?,
            Err(source) if !keep_going => {
                return Err(CopyError::Read {
                    path: src.path.clone(),
                    block,
                    offset: pos,
                    end: next,
                    source,
                }
                .into())
            }
            Err(_) => {
                push_failed(failed, block, pos, next);
                sink.failed(pos, next - pos)?;
            }
        }
        pos = next;
    }
    Ok(())
}

/// `--verify`: reads every range copied back from the destination and from the source
/// and compares them (ranges that failed to read are skipped).
fn verify(
    src: &Side,
    dest: &Side,
    set: &DataBlockSet,
    scale: &Scale,
    opts: &CopyOptions,
    failed: &[FailedRange],
    progress: &Progress,
) -> Result<()> {
    let mut shape = shape(opts.buffer_size, scale_block(scale));
    let half = (shape.capacity / 2) / 4096 * 4096;
    let half = half.max(4096);
    shape.capacity = half * 2;
    let block_bytes = scale_block(scale);
    pipeline::run::<Piece, std::io::Result<()>, Error>(
        split(byte_ranges(set, scale), half),
        shape,
        &opts.interrupt,
        |p, buf| {
            let all = buf.all_mut();
            let (a, b) = all.split_at_mut(half);
            src.read_at(&mut a[..p.len], p.offset)?;
            dest.read_at(&mut b[..p.len], p.offset)
        },
        |p, buf, res| {
            let end = p.offset + p.len as u64;
            let skipped = failed.iter().any(|f| f.begin < end && p.offset < f.end);
            if skipped {
                return Ok(());
            }
            let all = buf.all_mut();
            let (a, b) = all.split_at(half);
            let differs = match res {
                Err(source) => {
                    return Err(CopyError::Read {
                        path: dest.path.clone(),
                        block: p.offset / block_bytes,
                        offset: p.offset,
                        end,
                        source,
                    }
                    .into())
                }
                Ok(()) => a[..p.len].iter().zip(&b[..p.len]).position(|(x, y)| x != y),
            };
            if let Some(i) = differs {
                let at = p.offset + i as u64;
                let block = at / block_bytes;
                return Err(CopyError::Verify {
                    path: dest.path.clone(),
                    block,
                    offset: block * block_bytes,
                    end: ((block + 1) * block_bytes).min(scale.length()),
                }
                .into());
            }
            progress.inc(p.len as u64);
            Ok(())
        },
        || {
            CopyError::Interrupted {
                offset: 0,
                what: "verification (the copy itself is complete)",
            }
            .into()
        },
    )
}

/// The block size in bytes of a byte scale.
fn scale_block(scale: &Scale) -> u64 {
    scale.per_block().max(1)
}

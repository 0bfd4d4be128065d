//! `era_copy --apply`: writes a delta stream into a backup. Every extent is read whole
//! and its checksum verified before any of it is written, so a truncated or damaged
//! stream stops at the extent it names with the destination as it was before that
//! extent; the state is advanced only after the trailer's totals matched.
//!
//! A thread reads and checks the stream, gathering extents into a few buffers, while the
//! calling thread writes them: reading the pipe and writing the destination overlap,
//! and small extents cost one hand-over per buffer, not one each.

use super::delta::{DeltaError, DeltaReader, DeltaTotals, Head};
use super::error::CopyError;
use super::pipeline::Buffer;
use super::report::{push_failed, CopyReport};
use super::state::{self, State};
use super::target::{Guarded, Side};
use crate::commands::error::{Error, Result};
use crate::commands::output::open_id;
use crate::commands::progress::Progress;
use crate::io::alias::ImageId;
use std::io::{BufReader, Read};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// What `era_copy --apply` was asked to do.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The delta stream (`-`: standard input).
    pub delta: PathBuf,
    pub dest: PathBuf,
    pub state: Option<PathBuf>,
    pub force: bool,
    /// Memory for data in flight: the stream is gathered in three buffers of an
    /// eighth of it (each also takes one whole extent, at most 16 MiB).
    pub buffer_size: usize,
    pub interrupt: Arc<AtomicBool>,
}

/// Buffers between the reading thread and the writing one.
const BUFFERS: usize = 3;
/// Most records in one batch (failed ranges carry no data).
const MAX_HEADS: usize = 1 << 16;
/// Data that closes a batch, at most: small enough that writing starts soon after the
/// stream does (a batch is written only once it is whole).
const BATCH_BYTES: usize = 1 << 20;

/// Extents (and failed ranges) in stream order, the extents' data one after another
/// in `data`; `end` is set on the last batch: the trailer's totals or why the stream
/// was refused after the records the batch holds.
struct Batch {
    data: Vec<u8>,
    heads: Vec<Head>,
    end: Option<std::result::Result<DeltaTotals, DeltaError>>,
}

/// The reading thread: fills the buffers of `pool` with records of at least
/// `batch_bytes` in all and sends them to `tx`, until the trailer or an error.
fn read_batches<R: Read>(
    mut reader: DeltaReader<R>,
    pool: mpsc::Receiver<Vec<u8>>,
    tx: mpsc::Sender<Batch>,
    batch_bytes: usize,
) {
    while let Ok(mut data) = pool.recv() {
        data.clear();
        let mut heads = Vec::new();
        let end = loop {
            match reader.next_into(&mut data) {
                Ok(Some(h)) => {
                    heads.push(h);
                    if data.len() >= batch_bytes || heads.len() >= MAX_HEADS {
                        break None;
                    }
                }
                Ok(None) => break Some(Ok(reader.totals())),
                Err(e) => break Some(Err(e)),
            }
        };
        let last = end.is_some();
        if tx.send(Batch { data, heads, end }).is_err() || last {
            return;
        }
    }
}

/// Applies the delta.
pub fn apply(opts: &ApplyOptions, progress: &Progress) -> Result<CopyReport> {
    let start = Instant::now();
    let name = opts.delta.display().to_string();
    // What the stream is read from, which the destination must not be.
    let (input, delta_id): (Box<dyn Read + Send>, _) = if opts.delta.as_os_str() == "-" {
        super::pipe::widen(&std::io::stdin());
        let id = open_id(std::io::stdin().as_fd());
        (Box::new(std::io::stdin()), id)
    } else {
        let io_err = |source| Error::InputIo {
            path: opts.delta.clone(),
            source,
        };
        let f = std::fs::File::open(&opts.delta).map_err(io_err)?;
        let id = ImageId::of(&f.metadata().map_err(io_err)?);
        (Box::new(f), Some(id))
    };
    let delta_err = |source: DeltaError| CopyError::Delta {
        path: name.clone(),
        source,
    };
    let reader = DeltaReader::new(BufReader::with_capacity(1 << 20, input)).map_err(delta_err)?;
    let h = *reader.header();
    let next = State {
        block_size: h.block_size,
        source_length: h.source_length,
        since: h.since,
        until: h.until,
    };
    let prev = match &opts.state {
        Some(path) => {
            let prev = state::load(path)?;
            if let (Some(p), false) = (&prev, opts.force) {
                state::check(path, p, &next)?;
            }
            prev
        }
        None => None,
    };
    let stdin = Path::new("on standard input");
    let read: Vec<_> = delta_id
        .map(|id| Guarded {
            role: "delta",
            path: if opts.delta.as_os_str() == "-" {
                stdin
            } else {
                &opts.delta
            },
            id,
        })
        .into_iter()
        .collect();
    let dest = Side::dest(&opts.dest, h.source_length, &read)?;
    let block_bytes = u64::from(h.block_size) * 512;
    let mut bounce = Buffer::new(1 << 20);
    let mut failed = Vec::new();
    let (mut blocks, mut last_end) = (0u64, None::<u64>);
    // The total is in the trailer, at the end: a spinner.
    progress.stage("applying the delta");
    let batch_bytes = (opts.buffer_size / 8).clamp(1 << 16, BATCH_BYTES);
    let (pool_tx, pool_rx) = mpsc::channel();
    for _ in 0..BUFFERS {
        // The receiver is alive: cannot fail.
        let _ = pool_tx.send(Vec::new());
    }
    let (tx, rx) = mpsc::channel();
    // Not joined on an error: the thread may be blocked reading a stalled pipe; it ends
    // when it next finds the channel closed, or with the process.
    let reading = std::thread::spawn(move || read_batches(reader, pool_rx, tx, batch_bytes));
    let totals = loop {
        if opts.interrupt.load(Ordering::Relaxed) {
            return Err(CopyError::Interrupted {
                offset: last_end.unwrap_or(0),
                what: "apply",
            }
            .into());
        }
        let Ok(batch) = rx.recv() else {
            return Err(delta_err(DeltaError::Io(std::io::Error::other(
                "the thread reading the stream stopped",
            )))
            .into());
        };
        let mut at = 0usize;
        let (mut span, mut extents, mut bytes) = ((u64::MAX, 0u64), 0usize, 0u64);
        for &head in &batch.heads {
            match head {
                Head::Extent { offset, length } => {
                    let data = &batch.data[at..at + length];
                    at += length;
                    let end = offset + length as u64;
                    dest.write_unaligned(data, offset, &mut bounce)
                        .map_err(|source| CopyError::Write {
                            path: dest.path.clone(),
                            offset,
                            end,
                            source,
                        })?;
                    // Blocks touched, not counting one shared with the previous extent.
                    let first = offset / block_bytes;
                    let last = (end - 1) / block_bytes;
                    let shared = last_end.is_some_and(|e| e > 0 && (e - 1) / block_bytes == first);
                    blocks += last - first + 1 - u64::from(shared);
                    last_end = Some(end);
                    span = (span.0.min(offset), span.1.max(end));
                    extents += 1;
                    bytes += length as u64;
                }
                Head::Failed { offset, length } => {
                    push_failed(&mut failed, offset / block_bytes, offset, offset + length);
                }
            }
        }
        dest.write_back(span.0, span.1, extents, bytes);
        match batch.end {
            None => {
                let _ = pool_tx.send(batch.data);
            }
            Some(Ok(totals)) => break totals,
            Some(Err(e)) => return Err(delta_err(e).into()),
        }
    };
    let _ = reading.join();
    dest.sync().map_err(|source| CopyError::Write {
        path: dest.path.clone(),
        offset: 0,
        end: h.source_length,
        source,
    })?;
    if failed.is_empty() {
        if let Some(path) = &opts.state {
            state::save(path, &state::after(prev.as_ref(), &next))?;
        }
    }
    Ok(CopyReport {
        mode: "apply",
        since: h.since,
        until: h.until,
        next_written_since: h.until,
        block_size: h.block_size,
        source_length: h.source_length,
        blocks,
        bytes: totals.bytes,
        extents: totals.extents,
        seconds: start.elapsed().as_secs_f64(),
        // The checksums were; --verify is a copy's re-read.
        verified: false,
        failed,
    })
}

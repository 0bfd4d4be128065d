//! `era_copy --apply`: writes a delta stream into a backup. Every extent is read whole
//! and its checksum verified before any of it is written, so a truncated or damaged
//! stream stops at the extent it names with the destination as it was before that
//! extent; the state is advanced only after the trailer's totals matched.

use super::delta::{DeltaError, DeltaReader, Record};
use super::error::CopyError;
use super::pipeline::Buffer;
use super::report::{push_failed, CopyReport};
use super::state::{self, State};
use super::target::Side;
use crate::commands::error::{Error, Result};
use crate::commands::progress::Progress;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What `era_copy --apply` was asked to do.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The delta stream (`-`: standard input).
    pub delta: PathBuf,
    pub dest: PathBuf,
    pub state: Option<PathBuf>,
    pub force: bool,
    pub interrupt: Arc<AtomicBool>,
}

/// Applies the delta.
pub fn apply(opts: &ApplyOptions, progress: &Progress) -> Result<CopyReport> {
    let start = Instant::now();
    let name = opts.delta.display().to_string();
    let input: Box<dyn Read> = if opts.delta.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(&opts.delta).map_err(|source| Error::InputIo {
            path: opts.delta.clone(),
            source,
        })?;
        Box::new(f)
    };
    let delta_err = |source: DeltaError| CopyError::Delta {
        path: name.clone(),
        source,
    };
    let mut reader =
        DeltaReader::new(BufReader::with_capacity(1 << 20, input)).map_err(delta_err)?;
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
    let dest = Side::dest(&opts.dest, h.source_length, None)?;
    let block_bytes = u64::from(h.block_size) * 512;
    let mut bounce = Buffer::new(1 << 20);
    let mut failed = Vec::new();
    let (mut blocks, mut last_end) = (0u64, None::<u64>);
    // The total is in the trailer, at the end: a spinner.
    progress.stage("applying the delta");
    loop {
        if opts.interrupt.load(Ordering::Relaxed) {
            return Err(CopyError::Interrupted {
                offset: last_end.unwrap_or(0),
                what: "apply",
            }
            .into());
        }
        let Some(rec) = reader.next_record().map_err(delta_err)? else {
            break;
        };
        match rec {
            Record::Extent { offset, data } => {
                let end = offset + data.len() as u64;
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
            }
            Record::Failed { offset, length } => {
                push_failed(&mut failed, offset / block_bytes, offset, offset + length);
            }
        }
    }
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
    let totals = reader.totals();
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

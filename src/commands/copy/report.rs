//! What a run did: the machine-readable summary (`--report json`) and the one line every
//! run prints, naming the era the next run starts from.

use serde::Serialize;

/// A byte range the source could not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FailedRange {
    /// The first origin block of the range.
    pub block: u64,
    /// Bytes `begin..end` of the origin.
    pub begin: u64,
    pub end: u64,
}

/// The summary of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopyReport {
    /// `copy`, `delta` or `apply`.
    pub mode: &'static str,
    /// Blocks written in era `since` or later were copied…
    pub since: u32,
    /// …up to the view taken in era `until` (the current era of the metadata read).
    pub until: u32,
    /// The `--written-since` of the next run: `until`, since writes made in that era
    /// after the view was taken are not in this copy.
    pub next_written_since: u32,
    /// Origin block size in sectors.
    pub block_size: u32,
    /// The source's length in bytes.
    pub source_length: u64,
    /// Origin blocks copied (a partial last block counts as one).
    pub blocks: u64,
    /// Bytes copied.
    pub bytes: u64,
    /// Runs of adjacent blocks copied (extents of the delta in delta and apply modes).
    pub extents: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Whether `--verify` compared what was written with the source.
    pub verified: bool,
    /// Ranges the source could not read (`--keep-going`); the run exits 1 if any.
    pub failed: Vec<FailedRange>,
}

impl CopyReport {
    /// The one-line summary.
    pub fn line(&self) -> String {
        let verb = match self.mode {
            "apply" => "applied",
            "delta" => "wrote a delta of",
            _ => "copied",
        };
        let mut s = format!(
            "{verb} {} blocks ({} bytes) in {} extents, blocks written in eras {}..={}, in {:.2} s",
            self.blocks, self.bytes, self.extents, self.since, self.until, self.seconds
        );
        if self.verified {
            s.push_str(", verified");
        }
        if !self.failed.is_empty() {
            let failed: u64 = self.failed.iter().map(|f| f.end - f.begin).sum();
            s.push_str(&format!(
                "; {} ranges ({failed} bytes) could not be read",
                self.failed.len()
            ));
        }
        s.push_str(&format!(
            "; the next run's --written-since is {}",
            self.next_written_since
        ));
        s
    }

    /// `--report json`.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Adds `[begin, end)` to `ranges`, merged with the last one when adjacent.
pub fn push_failed(ranges: &mut Vec<FailedRange>, block: u64, begin: u64, end: u64) {
    if let Some(last) = ranges.last_mut() {
        if last.end == begin {
            last.end = end;
            return;
        }
    }
    ranges.push(FailedRange { block, begin, end });
}

//! What a run did: the machine-readable summary (`--report json`) and the one line every
//! run prints, naming the era the next run starts from.

use crate::commands::error::{Error, Result};
use serde::Serialize;
use std::io::Write;

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

/// The forms of a run's report (`--report`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The summary line, and a line for each range the source could not read.
    Text,
    /// Those, and the summary as JSON on standard output (standard error when the delta
    /// goes to standard output).
    Json,
}

/// Writes `outcome` to `report` (the summary line, then one line for each range the
/// source could not read) and, as JSON, to standard output or, when `json_on_stderr`,
/// to standard error.
pub(super) fn write_outcome(
    outcome: &CopyReport,
    format: ReportFormat,
    json_on_stderr: bool,
    report: &mut dyn Write,
) -> Result<()> {
    let report_err = |e| Error::output("-", e);
    writeln!(report, "{}", outcome.line()).map_err(report_err)?;
    for f in &outcome.failed {
        writeln!(
            report,
            "could not read block {} (bytes {}..{} of the source)",
            f.block, f.begin, f.end
        )
        .map_err(report_err)?;
    }
    if format == ReportFormat::Json {
        let json = outcome.json();
        if json_on_stderr {
            writeln!(std::io::stderr(), "{json}").map_err(report_err)?;
        } else {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}")
                .and_then(|()| out.flush())
                .map_err(report_err)?;
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_is_the_summary_line_then_one_line_per_unreadable_range() {
        let outcome = CopyReport {
            mode: "copy",
            since: 3,
            until: 5,
            next_written_since: 5,
            block_size: 8,
            source_length: 1 << 20,
            blocks: 10,
            bytes: 40_960,
            extents: 2,
            seconds: 0.5,
            verified: false,
            failed: vec![FailedRange {
                block: 7,
                begin: 28_672,
                end: 32_768,
            }],
        };
        let mut report = Vec::new();
        write_outcome(&outcome, ReportFormat::Text, false, &mut report).unwrap();
        assert_eq!(
            String::from_utf8(report).unwrap(),
            "copied 10 blocks (40960 bytes) in 2 extents, blocks written in eras 3..=5, in 0.50 s; \
             1 ranges (4096 bytes) could not be read; the next run's --written-since is 5\n\
             could not read block 7 (bytes 28672..32768 of the source)\n"
        );
    }
}

//! Progress on standard error for long work when enabled (the caller enables it only
//! when stderr is a terminal), nothing otherwise: a spinner naming the current stage, or,
//! where the amount of work is known, a bar with percentage, rate (bytes/s or
//! entries/s) and time left.

use indicatif::{HumanCount, ProgressBar, ProgressBarIter, ProgressState, ProgressStyle};
use std::io::Read;
use std::time::Duration;

/// What a bar counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bytes (shown as KiB, MiB…).
    Bytes,
    /// Entries (era-array entries and writeset bits).
    Entries,
}

/// A progress indicator, possibly silent.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A silent indicator.
    pub fn quiet() -> Progress {
        Progress { bar: None }
    }

    /// A spinner on stderr.
    pub fn spinner() -> Progress {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    /// Names the stage now under way (a spinner: the amount of work is not known).
    pub fn stage(&self, msg: &str) {
        if let Some(b) = &self.bar {
            if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
                b.set_style(style);
            }
            b.set_message(msg.to_string());
        }
    }

    /// Starts the stage `msg` of `total` units of work: a bar from now on.
    pub fn stage_of(&self, msg: &str, total: u64, unit: Unit) {
        if let Some(b) = &self.bar {
            let template = match unit {
                Unit::Bytes => {
                    "{msg} [{wide_bar}] {percent}% {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
                }
                Unit::Entries => {
                    "{msg} [{wide_bar}] {percent}% {human_pos}/{human_len} entries {rate} eta {eta}"
                }
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                // indicatif's own {per_sec} has no unit ("1234.5678/s").
                let rate = |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{} entries/s", HumanCount(state.per_sec() as u64));
                };
                b.set_style(style.progress_chars("=> ").with_key("rate", rate));
            }
            b.set_message(msg.to_string());
            b.set_length(total);
            b.set_position(0);
            b.tick();
        }
    }

    /// Counts `n` more units of the current stage's work.
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Wraps `inner` so that every byte read counts as work done (on a hidden bar when
    /// the indicator is silent).
    pub fn reader<R: Read>(&self, inner: R) -> ProgressBarIter<R> {
        self.bar
            .clone()
            .unwrap_or_else(ProgressBar::hidden)
            .wrap_read(inner)
    }

    /// Takes the indicator off the terminal for good, before a command writes its
    /// outcome there.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

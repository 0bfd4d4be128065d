//! Progress on standard error for long work: a spinner naming the current stage when
//! enabled (the caller enables it only when stderr is a terminal), nothing otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

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

    /// Names the stage now under way.
    pub fn stage(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
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

//! `--state FILE`: the era range a backup holds, so that the next copy or apply can
//! refuse a gap or a step backwards. One JSON object, replaced atomically, written only
//! after a run that completed.

use super::error::CopyError;
use crate::commands::error::Result;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// What the state file records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Origin block size in sectors.
    pub block_size: u32,
    /// The origin's length in bytes.
    pub source_length: u64,
    /// The first era of the first run the backup holds (0 for a full copy).
    pub since: u32,
    /// The last era applied: the backup holds every write up to the view taken in it,
    /// so the next run starts at `--written-since until`.
    pub until: u32,
}

impl State {
    fn geometry(&self) -> String {
        format!(
            "blocks of {} sectors and a source of {} bytes",
            self.block_size, self.source_length
        )
    }
}

/// Reads the state at `path`; `None` when there is none yet.
pub fn load(path: &Path) -> Result<Option<State>> {
    let bad = |reason: String| CopyError::BadState {
        path: path.to_path_buf(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string()).into()),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| bad(e.to_string()).into())
}

/// Refuses a run of `next` after `prev` that would leave a gap (it starts after the
/// last era held), go backwards (it ends before it) or change the geometry.
pub fn check(path: &Path, prev: &State, next: &State) -> Result<()> {
    if (prev.block_size, prev.source_length) != (next.block_size, next.source_length) {
        return Err(CopyError::StateGeometry {
            path: path.to_path_buf(),
            recorded: prev.geometry(),
            now: next.geometry(),
        }
        .into());
    }
    if next.since > prev.until {
        return Err(CopyError::Gap {
            path: path.to_path_buf(),
            since: next.since,
            until: prev.until,
        }
        .into());
    }
    if next.until < prev.until {
        return Err(CopyError::Backwards {
            path: path.to_path_buf(),
            until: next.until,
            recorded: prev.until,
        }
        .into());
    }
    Ok(())
}

/// The state after `next` was applied on top of `prev`.
pub fn after(prev: Option<&State>, next: &State) -> State {
    State {
        since: prev.map_or(next.since, |p| p.since.min(next.since)),
        ..*next
    }
}

/// Replaces the state at `path` atomically (a temporary file beside it, renamed).
pub fn save(path: &Path, state: &State) -> Result<()> {
    let bad = |e: std::io::Error| CopyError::BadState {
        path: path.to_path_buf(),
        reason: format!("cannot be written: {e}"),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".era-copy-state-")
        .tempfile_in(dir)
        .map_err(bad)?;
    let text = serde_json::to_string(state).map_err(|e| bad(e.into()))?;
    writeln!(tmp, "{text}").map_err(bad)?;
    tmp.as_file().sync_all().map_err(bad)?;
    tmp.persist(path).map_err(|e| bad(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(since: u32, until: u32) -> State {
        State {
            block_size: 8,
            source_length: 1 << 20,
            since,
            until,
        }
    }

    #[test]
    fn gaps_and_steps_back_are_refused_a_repeat_is_not() {
        let p = Path::new("state.json");
        let prev = st(0, 5);
        assert!(check(p, &prev, &st(5, 7)).is_ok());
        assert!(check(p, &prev, &st(3, 5)).is_ok(), "the same run again");
        assert!(check(p, &prev, &st(0, 9)).is_ok());
        assert!(check(p, &prev, &st(6, 7)).is_err(), "a gap");
        assert!(check(p, &prev, &st(2, 4)).is_err(), "backwards");
        let other = State {
            block_size: 16,
            ..st(5, 7)
        };
        assert!(check(p, &prev, &other).is_err(), "another geometry");
    }
}
